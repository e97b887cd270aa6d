import { z } from '@hono/zod-openapi';
import { listParameterSets } from '../appraisal/library.ts';
import type { Deps } from '../http/context.ts';
import { acting, apiRoute, createRouter, errorResponses, jsonBody, jsonContent } from '../http/router.ts';
import { toJson } from '../lib/money.ts';
import { roundRanking } from '../panel/panel.ts';
import { createRound, getRound, listRounds, type Round, roundStatus } from '../rounds/rounds.ts';
import { searchUnitCosts, unitCostLibrary } from '../unit-costs/unit-costs.ts';
import { ROLES } from '../users/users.ts';
import { BasisPoints, FinancialYearName, IsoDate, Limit, Pence, PenceInput, says } from './schemas.ts';

/** The four-eyes threshold in the users' words (the rule: src/releases/four-eyes.ts). */
const THRESHOLD_RULE =
  "A tranche needs two independent approvers when the award's releases so far plus the tranche would be more than this.";

const CriterionSchema = z.object({ key: z.string(), name: z.string(), weight: z.int() });

const RoundSchema = z
  .object({
    id: z.string().openapi({ example: '2026-27-r1' }),
    financialYear: z.string(),
    name: z.string(),
    envelopePence: Pence,
    opensOn: z.string(),
    closesOn: z.string(),
    status: z.enum(['upcoming', 'open', 'closed']),
    minMatchFundingBasisPoints: z.int(),
    themes: z.array(z.string()),
    quorum: z.int(),
    criteria: z.array(CriterionSchema),
    parameterSet: z.object({ name: z.string(), version: z.string() }),
    deflatorEdition: z.string().nullable(),
    twoApproverThresholdPence: Pence.openapi({ description: THRESHOLD_RULE }),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .openapi('Round');

export const NewRoundSchema = z
  .strictObject({
    financialYear: FinancialYearName,
    name: z
      .string()
      .trim()
      .min(1, { error: says('must not be empty') })
      .max(200),
    envelopePence: PenceInput,
    opensOn: IsoDate,
    closesOn: IsoDate,
    minMatchFundingBasisPoints: BasisPoints,
    themes: z.array(z.string()).default([]).openapi({ description: 'Priority themes; empty means any theme.' }),
    quorum: z
      .int({ error: says('must be a whole number') })
      .min(1, { error: says('must be at least 1') })
      .max(50),
    criteria: z
      .array(
        z.strictObject({
          key: z.string().regex(/^[a-z0-9-]{1,50}$/, { error: says('must be a lower-case key such as value-for-money') }),
          name: z.string().min(1).max(100).optional(),
          weight: z
            .int({ error: says('must be a whole number') })
            .min(0)
            .max(100),
        }),
      )
      .min(1)
      .optional()
      .openapi({ description: 'Defaults: strategic-fit 20, value-for-money 30, evidence 15, deliverability 15, partnership 20.' }),
    parameterSet: z.strictObject({ name: z.string(), version: z.string() }).optional(),
    deflatorEdition: z.string().nullable().optional().openapi({ description: 'GDP deflator edition; null for none; default the newest.' }),
    twoApproverThresholdPence: PenceInput.optional().openapi({
      description: `${THRESHOLD_RULE} Default £1,000,000.`,
    }),
  })
  .openapi('NewRound');

const UnitCostSchema = z
  .object({
    code: z.string(),
    description: z.string(),
    unit: z.string().nullable(),
    category: z.string().nullable(),
    detail: z.string().nullable(),
    valuePence: Pence.nullable(),
    priceYear: z.string().nullable(),
    agency: z.string().nullable(),
    agencyDetail: z.string().nullable(),
    departmentCode: z.string().nullable(),
  })
  .openapi('UnitCost');

export function roundRoutes(deps: Deps) {
  const db = deps.database.db;
  const roundJson = (r: Round) => toJson({ ...r, status: roundStatus(r, deps.clock().toISOString().slice(0, 10)) });
  return createRouter()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/rounds',
        tags: ['Funding rounds'],
        summary: 'Open a funding round: envelope, dates, themes, match funding, criteria, quorum, appraisal parameters',
        roles: createRound.roles,
        problems: createRound.refuses,
        idempotent: true,
        request: { body: jsonBody(NewRoundSchema) },
        responses: { 201: jsonContent(RoundSchema, 'The round'), 404: errorResponses[404] },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const round = await acting(deps, c, (act) => createRound(act, body));
        return c.json(roundJson(round), 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/rounds',
        tags: ['Funding rounds'],
        summary: 'List funding rounds',
        roles: ROLES,
        problems: [],
        request: { query: z.object({ fy: FinancialYearName.optional() }) },
        responses: { 200: jsonContent(z.array(RoundSchema), 'The rounds') },
      }),
      async (c) => c.json((await listRounds(db, c.req.valid('query').fy)).map(roundJson), 200),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/rounds/{id}',
        tags: ['Funding rounds'],
        summary: 'One funding round',
        roles: ROLES,
        problems: ['round-not-found'],
        request: { params: z.object({ id: z.string().max(50) }) },
        responses: { 200: jsonContent(RoundSchema, 'The round'), 404: errorResponses[404] },
      }),
      async (c) => c.json(roundJson(await getRound(db, c.req.valid('param').id)), 200),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/rounds/{id}/ranking',
        tags: ['Panel'],
        summary: "The round's submitted cases ranked by moderated score, against the envelope",
        roles: roundRanking.roles,
        problems: ['round-not-found'],
        request: { params: z.object({ id: z.string().max(50) }) },
        responses: {
          200: jsonContent(
            z.object({
              round: RoundSchema,
              cases: z.array(
                z.object({
                  rank: z.int(),
                  caseId: z.string(),
                  reference: z.string(),
                  title: z.string(),
                  leadCouncilCode: z.string(),
                  status: z.string(),
                  requestedPence: Pence,
                  cumulativeRequestedPence: Pence,
                  withinEnvelope: z.boolean(),
                  moderatedScore: z.number().nullable(),
                  quorumMet: z.boolean(),
                  bcr: z.number().nullable(),
                  vfmBand: z.string().nullable(),
                }),
              ),
            }),
            'The ranking',
          ),
          404: errorResponses[404],
        },
      }),
      async (c) => {
        const r = await roundRanking({ db, principal: c.get('principal') }, c.req.valid('param').id);
        return c.json({ round: roundJson(r.round), cases: toJson(r.cases) }, 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/unit-costs',
        tags: ['Appraisal'],
        summary: 'Search the Unit Cost Database (GMCA Research / New Economy, v1.4) that benefit lines are priced from',
        roles: ROLES,
        problems: [],
        request: {
          query: z.object({
            q: z.string().max(200).optional().openapi({
              description: 'Words that must all appear (code, description, unit, agency), as plain text: % and _ match only themselves',
              example: 'hospital bed day',
            }),
            agency: z.string().max(100).optional().openapi({ example: 'NHS' }),
            limit: Limit,
          }),
        },
        responses: {
          200: jsonContent(
            z.object({
              attribution: z.string(),
              licence: z.string(),
              results: z.array(UnitCostSchema),
            }),
            'Matching unit costs, by code, with the attribution the licence asks for',
          ),
        },
      }),
      async (c) => {
        const q = c.req.valid('query');
        const library = unitCostLibrary();
        return c.json({ attribution: library.attribution, licence: library.licence, results: toJson(await searchUnitCosts(db, q)) }, 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/appraisal-parameter-sets',
        tags: ['Appraisal'],
        summary: 'The versioned appraisal parameter sets: discount schedules, optimism bias by confidence grade, VfM bands',
        roles: ROLES,
        problems: [],
        responses: {
          200: jsonContent(
            z.array(
              z
                .object({
                  name: z.string(),
                  version: z.string(),
                  provisional: z.boolean(),
                  discountSchedule: z.array(
                    z.object({ fromYear: z.int(), toYear: z.int().nullable(), rateBasisPoints: z.int(), rate: z.string() }),
                  ),
                  discountSchedules: z.record(z.string(), z.unknown()),
                  costUpliftBasisPointsByGrade: z.record(z.string(), z.int()),
                  benefitHaircutBasisPointsByGrade: z.record(z.string(), z.int()),
                  vfmBands: z.array(z.unknown()),
                })
                .passthrough(),
            ),
            'The sets; `provisional` is true where a value could not be verified against its source (see `notes`)',
          ),
        },
      }),
      async (c) => {
        const sets = await listParameterSets(db);
        return c.json(
          sets.map((s) => ({
            ...s,
            discountSchedule: s.discountSchedules.standard,
            costUpliftBasisPointsByGrade: Object.fromEntries(s.confidenceGrades.map((g) => [String(g.grade), g.costUpliftBasisPoints])),
            benefitHaircutBasisPointsByGrade: Object.fromEntries(
              s.confidenceGrades.map((g) => [String(g.grade), g.benefitHaircutBasisPoints]),
            ),
          })),
          200,
        );
      },
    );
}
