import { z } from '@hono/zod-openapi';
import { MAX_LAG_YEARS, MAX_PERSISTENCE_YEARS } from '../appraisal/engine.ts';
import { reappraiseCase } from '../appraisal/reappraisal.ts';
import type { AppraisalResult } from '../appraisal/types.ts';
import { caseAppraisal } from '../cases/appraisal.ts';
import { createCase, submitCase, updateCase } from '../cases/cases.ts';
import { describeGates } from '../cases/eligibility.ts';
import { type Case, type CaseInput, NARRATIVE_SECTIONS } from '../cases/records.ts';
import { getReadableCase, listCases } from '../cases/visibility.ts';
import type { Deps } from '../http/context.ts';
import { acting, apiRoute, createRouter, errorResponses, jsonBody, jsonContent } from '../http/router.ts';
import { toJson } from '../lib/money.ts';
import { listDecisions } from '../panel/panel.ts';
import { ROLES } from '../users/users.ts';
import { BasisPoints, FinancialYearName, IdParam, OrganisationCode, Pence, penceUpTo, says } from './schemas.ts';

const Grade = z
  .int({ error: says('must be a confidence grade from 1 (best evidence) to 6') })
  .min(1, { error: says('must be a confidence grade from 1 (best evidence) to 6') })
  .max(6, { error: says('must be a confidence grade from 1 (best evidence) to 6') });

/** A case's line amounts and unit values: up to £10bn each, so any case's totals stay exact in JSON. */
const LinePence = penceUpTo(1_000_000_000_000, '£10,000,000,000');

const Text = (max: number) => z.string().max(max, { error: says(`must be at most ${max} characters`) });

/** Whole people or units per financial year (the year itself is checked against the base year with the case). */
const CohortVolumes = z.record(
  z.string(),
  z
    .int({ error: says('must be a whole number of people or units') })
    .min(0, { error: says('must not be negative') })
    .max(1_000_000_000, { error: says('must be at most 1,000,000,000') }),
);

const CostLineSchema = z.strictObject({
  year: FinancialYearName,
  kind: z.enum(['revenue', 'capital'], { error: says('must be revenue or capital') }),
  payerCode: OrganisationCode,
  amountPence: LinePence,
  confidenceGrade: Grade,
});

const BenefitLineSchema = z.strictObject({
  outcome: Text(300).min(1, { error: says('must not be empty') }),
  beneficiaryCode: OrganisationCode.nullable()
    .optional()
    .openapi({ description: 'Who saves. Required for fiscal lines (a Unit Cost Database pick defaults to its paying department).' }),
  type: z.enum(['fiscal', 'economic', 'social'], { error: says('must be fiscal, economic or social') }),
  cashable: z
    .boolean({ error: says('must be true or false') })
    .optional()
    .openapi({ description: 'Wholly cashable (true = 10,000 basis points) or not (false = 0). Give this or cashableBasisPoints.' }),
  cashableBasisPoints: BasisPoints.optional().openapi({
    description: 'The cashable share of a fiscal benefit, in basis points (the local CBA model’s partial cashability).',
    example: 6_000,
  }),
  unitCostCode: z
    .string()
    .max(20)
    .optional()
    .openapi({ description: 'A Unit Cost Database code; or state unitValuePence, priceYear and source.', example: 'HE5.0' }),
  unitValuePence: LinePence.optional(),
  priceYear: z
    .string()
    .regex(/^\d{4}[-/]\d{2}$/, { error: says('must be a financial year such as 2019-20') })
    .optional(),
  source: Text(500).min(1).optional(),
  volumes: CohortVolumes.optional().openapi({
    description: 'Cohort engaged in each financial year. Give this, or need with engagementBasisPoints.',
    example: { '2026-27': 120, '2027-28': 150 },
  }),
  need: CohortVolumes.optional().openapi({
    description: 'The eligible cohort in each financial year; the engaged cohort is need × engagement.',
    example: { '2026-27': 400 },
  }),
  engagementBasisPoints: BasisPoints.optional().openapi({ description: 'The share of the need that takes part (only with need).' }),
  impactBasisPoints: BasisPoints,
  deadweightBasisPoints: BasisPoints,
  displacementBasisPoints: BasisPoints.optional().openapi({
    description: 'Green Book additionality: the share displaced from elsewhere. Not part of the 2014 local CBA model. Default 0.',
  }),
  lagYears: z
    .int({ error: says('must be a whole number of years') })
    .min(0, { error: says('must not be negative') })
    .max(MAX_LAG_YEARS, { error: says(`must be at most ${MAX_LAG_YEARS}`) })
    .optional()
    .openapi({ description: 'Years from engagement to the first year of benefit. Default 0.' }),
  dropOffBasisPoints: BasisPoints.optional().openapi({
    description: 'Each year after the first year of benefit, the benefit falls by this share of the year before (compounding). Default 0.',
  }),
  persistenceYears: z
    .int({ error: says('must be a whole number of years') })
    .min(1, { error: says('must be at least 1') })
    .max(MAX_PERSISTENCE_YEARS, { error: says(`must be at most ${MAX_PERSISTENCE_YEARS}`) }),
  confidenceGrade: Grade,
});

const CaseInputSchema = z
  .strictObject({
    roundId: z.string().min(1).max(50),
    title: Text(200)
      .trim()
      .min(1, { error: says('must not be empty') }),
    placeCode: OrganisationCode,
    theme: z.string().max(50),
    partnerCodes: z.array(OrganisationCode).max(30),
    matchFundingPence: LinePence,
    baseYear: FinancialYearName,
    discountSchedule: z
      .enum(['standard', 'health'])
      .optional()
      .openapi({ description: 'Green Book schedule; health for health outcomes.' }),
    narrative: z.strictObject(
      Object.fromEntries(NARRATIVE_SECTIONS.map((s) => [s, Text(20_000).default('')])) as Record<
        (typeof NARRATIVE_SECTIONS)[number],
        z.ZodDefault<z.ZodString>
      >,
    ),
    costs: z.array(CostLineSchema).max(200),
    benefits: z.array(BenefitLineSchema).max(200),
  })
  .openapi('CaseInput');

const CaseSchema = z
  .object({
    id: z.string(),
    reference: z.string().openapi({ example: 'TP-2026-27-001' }),
    roundId: z.string(),
    leadCouncilCode: z.string(),
    status: z.enum(['draft', 'submitted', 'approved', 'rejected', 'deferred', 'terminated']),
    revision: z.int(),
    title: z.string(),
    placeCode: z.string(),
    theme: z.string(),
    partnerCodes: z.array(z.string()),
    matchFundingPence: Pence,
    totalCostsPence: Pence,
    requestedPence: Pence.openapi({ description: 'Total costs less match funding: what the case asks of the fund.' }),
    baseYear: z.string(),
    discountSchedule: z.string(),
    narrative: z.record(z.string(), z.string()),
    costs: z.array(z.object({ year: z.string(), kind: z.string(), payerCode: z.string(), amountPence: Pence, confidenceGrade: z.int() })),
    benefits: z.array(
      z
        .object({
          outcome: z.string(),
          beneficiaryCode: z.string().nullable(),
          type: z.string(),
          cashable: z.boolean(),
          unitCostCode: z.string().optional(),
          unitValuePence: Pence,
          priceYear: z.string(),
          source: z.string(),
        })
        .passthrough(),
    ),
    createdAt: z.string(),
    updatedAt: z.string(),
    submittedAt: z.string().nullable(),
    decisions: z.array(z.unknown()),
  })
  .openapi('Case');

const AppraisalSchema = z
  .object({
    caseId: z.string(),
    stored: z.boolean().openapi({ description: 'True for the appraisal stored at submission; false for a draft computed now.' }),
    computedAt: z.string().nullable(),
    pvCostsPence: Pence,
    pvBenefitsPence: z.object({ fiscal: Pence, economic: Pence, social: Pence }),
    fiscalNpvPence: Pence,
    publicValueNpvPence: Pence,
    fiscalRoi: z.number().nullable(),
    bcr: z.number().nullable(),
    paybackYear: z.string().nullable(),
    vfmBand: z.enum(['poor', 'low', 'medium', 'high', 'very-high']).nullable(),
    whoBenefits: z.array(z.object({ organisationCode: z.string().nullable(), pvPence: Pence, cashablePvPence: Pence })),
    switchingValues: z.array(z.unknown()),
    years: z.array(z.unknown()),
    parameterSet: z.object({ name: z.string(), version: z.string(), provisional: z.boolean() }),
    warnings: z.array(z.string()),
    sensitivity: z
      .array(
        z.object({
          scenario: z.enum(['optimism-bias-removed', 'one-grade-worse', 'impact-20-percent-lower', 'lag-one-year-longer']),
          label: z.string(),
          fiscalNpvPence: Pence,
          bcr: z.number().nullable(),
          vfmBand: z.enum(['poor', 'low', 'medium', 'high', 'very-high']).nullable(),
        }),
      )
      .optional()
      .openapi({
        description:
          'Fiscal NPV, BCR and VfM band with optimism bias removed, every line one confidence grade worse, impact 20% lower (× 0.8), and every lag one year longer. Absent only from appraisals stored before it was added.',
      }),
  })
  .passthrough()
  .openapi('Appraisal');

type CaseBody = z.infer<typeof CaseInputSchema>;

function caseInput(body: CaseBody): CaseInput {
  return {
    ...body,
    costs: body.costs.map((l) => ({ ...l, confidenceGrade: l.confidenceGrade as 1 })),
    benefits: body.benefits.map((b) => ({ ...b, confidenceGrade: b.confidenceGrade as 1 })),
  };
}

export function appraisalJson(caseId: string, a: { result: AppraisalResult; stored: boolean; computedAt: string | null }) {
  return { caseId, stored: a.stored, computedAt: a.computedAt, ...toJson(a.result) };
}

export function caseRoutes(deps: Deps) {
  const db = deps.database.db;
  const caseJson = async (c: Case) => ({ ...toJson(c), decisions: toJson(await listDecisions(db, c.id)) });
  return createRouter()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/cases',
        tags: ['Cases'],
        summary: 'Draft a business case (five-case narrative, cost lines, benefit lines)',
        description:
          'The draft is private to the council until it is submitted. Benefit lines take a Unit Cost Database code or a stated unit value with its price year and source.',
        roles: createCase.roles,
        problems: createCase.refuses,
        idempotent: true,
        request: { body: jsonBody(CaseInputSchema) },
        responses: { 201: jsonContent(CaseSchema, 'The draft') },
      }),
      async (c) => {
        const input = caseInput(c.req.valid('json'));
        const created = await acting(deps, c, (act) => createCase(act, input));
        return c.json(await caseJson(created), 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/cases',
        tags: ['Cases'],
        summary: 'The cases you may see',
        description:
          'Councils: their own, drafts included. Panel, treasury, auditors: every submitted case. Departments: submitted cases that name them (or a body answering to them) as a beneficiary.',
        roles: ROLES,
        problems: [],
        request: {
          query: z.object({
            round: z.string().max(50).optional(),
            status: z.enum(['draft', 'submitted', 'approved', 'rejected', 'deferred', 'terminated']).optional(),
          }),
        },
        responses: { 200: jsonContent(z.array(CaseSchema), 'The cases, by reference') },
      }),
      async (c) => {
        const q = c.req.valid('query');
        const cases = await listCases(db, c.get('principal'), { roundId: q.round, status: q.status });
        return c.json(await Promise.all(cases.map(caseJson)), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/cases/{id}',
        tags: ['Cases'],
        summary: 'One case, with its decisions',
        roles: ROLES,
        problems: ['case-not-found'],
        request: { params: IdParam },
        responses: { 200: jsonContent(CaseSchema, 'The case'), 404: errorResponses[404] },
      }),
      async (c) => c.json(await caseJson(await getReadableCase(db, c.get('principal'), c.req.valid('param').id)), 200),
    )
    .openapi(
      apiRoute({
        method: 'put',
        path: '/cases/{id}',
        tags: ['Cases'],
        summary: 'Replace a draft with a new revision (drafts only)',
        roles: updateCase.roles,
        problems: updateCase.refuses,
        idempotent: true,
        request: { params: IdParam, body: jsonBody(CaseInputSchema) },
        responses: { 200: jsonContent(CaseSchema, 'The new revision'), 404: errorResponses[404], 409: errorResponses[409] },
      }),
      async (c) => {
        const input = caseInput(c.req.valid('json'));
        const updated = await acting(deps, c, (act) => updateCase(act, c.req.valid('param').id, input));
        return c.json(await caseJson(updated), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/cases/{id}/appraisal',
        tags: ['Cases'],
        summary: "The case's appraisal: PV costs and benefits, NPVs, ROI, BCR, payback, who benefits, VfM band, switching values",
        description:
          'A draft is appraised afresh on every request; a submitted case returns the appraisal stored at submission, with the parameter set it used. ' +
          'With `parameterSet=name@version` the case is recomputed under that parameter set (its round’s GDP deflator edition) and `reappraisal` gives the difference from the stored appraisal (a draft’s: from its appraisal under its round’s set); nothing is stored, and the stored appraisal never changes.',
        roles: ROLES,
        problems: ['case-not-found', 'appraisal-not-possible', 'appraisal-out-of-range'],
        request: {
          params: IdParam,
          query: z.object({
            parameterSet: z
              .string()
              .max(200)
              .optional()
              .openapi({ description: 'Recompute under this parameter set, as name@version.', example: 'local-partnerships-cba@2014.1' }),
          }),
        },
        responses: { 200: jsonContent(AppraisalSchema, 'The appraisal'), 404: errorResponses[404], 422: errorResponses[422] },
      }),
      async (c) => {
        const found = await getReadableCase(db, c.get('principal'), c.req.valid('param').id);
        const ref = c.req.valid('query').parameterSet;
        if (ref === undefined) return c.json(appraisalJson(found.id, await caseAppraisal(db, found)), 200);
        const re = await reappraiseCase(db, found, ref);
        return c.json(
          {
            ...appraisalJson(found.id, { result: re.result, stored: false, computedAt: null }),
            reappraisal: toJson({
              parameterSet: re.result.parameterSet,
              comparedWith: {
                parameterSet: re.comparedWith.result.parameterSet,
                stored: re.comparedWith.stored,
                computedAt: re.comparedWith.computedAt,
              },
              difference: re.difference,
            }),
          },
          200,
        );
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/cases/{id}/submit',
        tags: ['Cases'],
        summary: 'Submit a draft to its round, if it passes every eligibility gate',
        description: `${describeGates()} A refusal (422) lists every failed gate in \`failures\`.`,
        roles: submitCase.roles,
        problems: submitCase.refuses,
        idempotent: true,
        request: { params: IdParam },
        responses: {
          200: jsonContent(z.object({ case: CaseSchema, appraisal: AppraisalSchema }), 'Submitted, with its stored appraisal'),
          404: errorResponses[404],
          409: errorResponses[409],
          422: errorResponses[422],
        },
      }),
      async (c) => {
        const id = c.req.valid('param').id;
        const done = await acting(deps, c, (act) => submitCase(act, id));
        return c.json(
          {
            case: await caseJson(done.case),
            appraisal: appraisalJson(id, { result: done.appraisal, stored: true, computedAt: done.case.submittedAt }),
          },
          200,
        );
      },
    );
}
