import { z } from '@hono/zod-openapi';
import { getReadableCase } from '../cases/visibility.ts';
import type { Deps } from '../http/context.ts';
import { acting, apiRoute, createRouter, errorResponses, jsonBody, jsonContent } from '../http/router.ts';
import { toJson } from '../lib/money.ts';
import { caseScoreboard, decide, declareConflict, grantVfmOverride, listDecisions, moderate, recordScores } from '../panel/panel.ts';
import { IdParam, IsoDate, Pence, PenceInput, Reason, says } from './schemas.ts';

const ScoreboardSchema = z
  .object({
    caseId: z.string(),
    criteria: z.array(
      z.object({
        key: z.string(),
        name: z.string(),
        weight: z.int(),
        suggestedScore: z.int().nullable().openapi({ description: 'Value for money only: the score the VfM band suggests.' }),
        meanScore: z.number().nullable(),
      }),
    ),
    members: z.array(z.unknown()),
    conflicts: z.array(z.unknown()),
    quorum: z.int(),
    completeMembers: z.int(),
    quorumMet: z.boolean(),
    meanScore: z.number().nullable(),
    moderation: z.unknown().nullable(),
    moderatedScore: z.number().nullable(),
    vfmBand: z.string().nullable(),
  })
  .openapi('Scoreboard');

const DecisionSchema = z
  .object({
    caseId: z.string(),
    sequence: z.int(),
    outcome: z.enum(['approve', 'reject', 'defer']),
    reasons: z.string(),
    amountPence: Pence.nullable(),
    conditions: z.array(z.string()),
    tranches: z.array(z.object({ number: z.int(), amountPence: Pence, earliestOn: z.string(), condition: z.string() })),
    decidedBy: z.string(),
    decidedAt: z.string(),
  })
  .openapi('Decision');

/** The bodies the panel's routes take; the panel's pages check their forms against the same. */
export const ReasonBody = z.strictObject({ reason: Reason });

export const ScoresBody = z.strictObject({
  scores: z
    .array(
      z.strictObject({
        criterion: z.string().max(50),
        score: z
          .int({ error: says('must be a whole number from 0 to 5') })
          .min(0, { error: says('must be from 0 to 5') })
          .max(5, { error: says('must be from 0 to 5') }),
        justification: z
          .string()
          .trim()
          .min(10, { error: says('must explain the score in at least 10 characters') })
          .max(5000),
      }),
    )
    .min(1, { error: says('must score at least one criterion') }),
});

export const ModerationBody = z.strictObject({
  score: z
    .number({ error: says('must be a number from 0 to 5') })
    .min(0)
    .max(5)
    .refine((n) => Number.isInteger(Math.round(n * 100)) && Math.abs(n * 100 - Math.round(n * 100)) < 1e-9, {
      error: 'at most 2 decimal places',
    }),
  reason: Reason,
});

export const DecisionBody = z.strictObject({
  outcome: z.enum(['approve', 'reject', 'defer'], { error: says('must be approve, reject or defer') }),
  reasons: Reason,
  amountPence: PenceInput.optional(),
  conditions: z.array(z.string().trim().min(1).max(2000)).max(50).optional(),
  tranches: z
    .array(
      z.strictObject({
        basisPoints: z.int().min(0).max(10_000).optional(),
        amountPence: PenceInput.optional(),
        earliestOn: IsoDate,
        condition: z
          .string()
          .trim()
          .min(1, { error: says('must say what unlocks the tranche') })
          .max(2000),
      }),
    )
    .min(1)
    .max(24)
    .optional(),
});

export function panelRoutes(deps: Deps) {
  const db = deps.database.db;
  return createRouter()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/cases/{id}/conflicts',
        tags: ['Panel'],
        summary: 'Declare a conflict of interest: you will neither score nor decide this case',
        roles: declareConflict.roles,
        problems: declareConflict.refuses,
        idempotent: true,
        request: { params: IdParam, body: jsonBody(ReasonBody) },
        responses: {
          201: jsonContent(z.object({ caseId: z.string(), userId: z.string(), reason: z.string(), declaredAt: z.string() }), 'Declared'),
          404: errorResponses[404],
          409: errorResponses[409],
        },
      }),
      async (c) => {
        const { reason } = c.req.valid('json');
        const out = await acting(deps, c, (act) => declareConflict(act, c.req.valid('param').id, reason));
        return c.json(out, 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/cases/{id}/scores',
        tags: ['Panel'],
        summary: "The panel's scores, quorum, mean and moderated score for a case",
        roles: caseScoreboard.roles,
        problems: ['case-not-found'],
        request: { params: IdParam },
        responses: { 200: jsonContent(ScoreboardSchema, 'The scoreboard'), 404: errorResponses[404] },
      }),
      async (c) => c.json(toJson(await caseScoreboard({ db, principal: c.get('principal') }, c.req.valid('param').id)), 200),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/cases/{id}/scores',
        tags: ['Panel'],
        summary: 'Score a case 0–5 on the round’s criteria, each with a justification (re-scoring replaces your earlier score)',
        roles: recordScores.roles,
        problems: recordScores.refuses,
        idempotent: true,
        request: {
          params: IdParam,
          body: jsonBody(ScoresBody),
        },
        responses: {
          200: jsonContent(ScoreboardSchema, 'The scoreboard after your scores'),
          404: errorResponses[404],
          409: errorResponses[409],
        },
      }),
      async (c) => {
        const { scores } = c.req.valid('json');
        const board = await acting(deps, c, (act) => recordScores(act, c.req.valid('param').id, scores));
        return c.json(toJson(board), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/cases/{id}/moderation',
        tags: ['Panel'],
        summary: "The chair sets the case's moderated score (0–5, 2 dp) with a reason, in place of the members' mean",
        roles: moderate.roles,
        problems: moderate.refuses,
        idempotent: true,
        request: {
          params: IdParam,
          body: jsonBody(ModerationBody),
        },
        responses: { 200: jsonContent(ScoreboardSchema, 'The scoreboard'), 404: errorResponses[404], 409: errorResponses[409] },
      }),
      async (c) => {
        const { score, reason } = c.req.valid('json');
        const board = await acting(deps, c, (act) => moderate(act, c.req.valid('param').id, score, reason));
        return c.json(toJson(board), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/cases/{id}/vfm-override',
        tags: ['Panel'],
        summary: 'Treasury records why a poor value-for-money case may still be approved',
        roles: grantVfmOverride.roles,
        problems: grantVfmOverride.refuses,
        idempotent: true,
        request: { params: IdParam, body: jsonBody(ReasonBody) },
        responses: {
          201: jsonContent(z.object({ caseId: z.string(), reason: z.string(), grantedBy: z.string(), grantedAt: z.string() }), 'Recorded'),
          404: errorResponses[404],
          409: errorResponses[409],
        },
      }),
      async (c) => {
        const { reason } = c.req.valid('json');
        const out = await acting(deps, c, (act) => grantVfmOverride(act, c.req.valid('param').id, reason));
        return c.json(out, 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/cases/{id}/decision',
        tags: ['Panel'],
        summary: 'Approve (amount, conditions, tranche schedule), reject or defer a case, with reasons',
        description:
          'Approval needs a quorum of complete scores, an amount no more than the request, and for a poor VfM band a treasury override. Tranches are given all as `basisPoints` (adding to 10000, split to the penny) or all as `amountPence` (adding to the award); none means one tranche on the decision date.',
        roles: decide.roles,
        problems: decide.refuses,
        idempotent: true,
        request: {
          params: IdParam,
          body: jsonBody(DecisionBody),
        },
        responses: {
          201: jsonContent(DecisionSchema, 'The decision'),
          404: errorResponses[404],
          409: errorResponses[409],
          422: errorResponses[422],
        },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const decision = await acting(deps, c, (act) =>
          decide(act, c.req.valid('param').id, {
            ...body,
            amountPence: body.amountPence,
            tranches: body.tranches,
          }),
        );
        return c.json(toJson(decision), 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/cases/{id}/decisions',
        tags: ['Panel'],
        summary: "A case's decisions, oldest first (a deferral may be followed by a later decision)",
        roles: ['panel', 'treasury', 'auditor', 'department', 'council'],
        problems: ['case-not-found'],
        request: { params: IdParam },
        responses: { 200: jsonContent(z.array(DecisionSchema), 'The decisions'), 404: errorResponses[404] },
      }),
      async (c) => {
        const found = await getReadableCase(db, c.get('principal'), c.req.valid('param').id);
        return c.json(toJson(await listDecisions(db, found.id)), 200);
      },
    );
}
