import { z } from '@hono/zod-openapi';
import { getReadableCase } from '../cases/visibility.ts';
import type { Deps } from '../http/context.ts';
import { acting, apiRoute, createRouter, errorResponses, jsonBody, jsonContent } from '../http/router.ts';
import { toJson } from '../lib/money.ts';
import { approveTranche, awardPosition, claimTranche, clawBack, listClawbacks, listTranches, terminateCase } from '../releases/releases.ts';
import { ROLES } from '../users/users.ts';
import { IdParam, Pence, PenceInput, Reason, says, TrancheNumber } from './schemas.ts';

const TrancheParam = IdParam.extend({
  n: TrancheNumber,
});

const TrancheSchema = z
  .object({
    caseId: z.string(),
    number: z.int(),
    amountPence: Pence,
    earliestOn: z.string(),
    condition: z.string(),
    status: z.enum(['scheduled', 'claimed', 'released', 'voided']),
    pendingTransferId: z.string().openapi({ description: 'The pending ledger transfer that reserves this tranche in the fund.' }),
    offsetPence: Pence,
    claimedBy: z.string().nullable(),
    claimedAt: z.string().nullable(),
    evidence: z.string().nullable(),
    approvals: z.array(z.object({ userId: z.string(), approvedAt: z.string() })),
    approvalsNeeded: z.int(),
    releasedPence: Pence.nullable(),
    releasedAt: z.string().nullable(),
    voidedAt: z.string().nullable(),
  })
  .openapi('Tranche');

const ClawbackSchema = z
  .object({
    id: z.string(),
    caseId: z.string(),
    kind: z.enum(['refund', 'offset']),
    amountPence: Pence,
    reason: z.string(),
    trancheNumber: z.int().nullable(),
    transferId: z.string().nullable(),
    recordedBy: z.string(),
    recordedAt: z.string(),
  })
  .openapi('Clawback');

const AwardSchema = z
  .object({
    awardPence: Pence,
    releasedPence: Pence,
    committedPence: Pence,
    voidedPence: Pence,
    clawedBackPence: Pence,
    refundedPence: Pence,
  })
  .openapi('AwardPosition');

export function releaseRoutes(deps: Deps) {
  const db = deps.database.db;
  return createRouter()
    .openapi(
      apiRoute({
        method: 'get',
        path: '/cases/{id}/tranches',
        tags: ['Releases'],
        summary: "An approved case's tranches: amount, earliest date, condition, status, approvals",
        roles: ROLES,
        problems: ['case-not-found'],
        request: { params: IdParam },
        responses: { 200: jsonContent(z.array(TrancheSchema), 'The tranches, in order'), 404: errorResponses[404] },
      }),
      async (c) => {
        const found = await getReadableCase(db, c.get('principal'), c.req.valid('param').id);
        return c.json(toJson(await listTranches(db, found.id)), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/cases/{id}/tranches/{n}/claim',
        tags: ['Releases'],
        summary: 'The council claims a tranche with evidence (in order, from its earliest date, once)',
        roles: claimTranche.roles,
        problems: claimTranche.refuses,
        idempotent: true,
        request: {
          params: TrancheParam,
          body: jsonBody(
            z.strictObject({
              evidence: z
                .string()
                .trim()
                .min(10, { error: says('must describe the evidence in at least 10 characters') })
                .max(10_000),
            }),
          ),
        },
        responses: { 200: jsonContent(TrancheSchema, 'The claimed tranche'), 404: errorResponses[404], 409: errorResponses[409] },
      }),
      async (c) => {
        const { id, n } = c.req.valid('param');
        const t = await acting(deps, c, (act) => claimTranche(act, id, n, c.req.valid('json').evidence));
        return c.json(toJson(t), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/cases/{id}/tranches/{n}/approve',
        tags: ['Releases'],
        summary: 'Approve a claimed tranche (not your own claim); with all approvals it needs, the money moves',
        description:
          'Tranches above the round’s threshold need two distinct approvers. The release posts the tranche’s pending transfer, less any offset.',
        roles: approveTranche.roles,
        problems: approveTranche.refuses,
        idempotent: true,
        request: { params: TrancheParam },
        responses: {
          200: jsonContent(TrancheSchema, 'The tranche'),
          404: errorResponses[404],
          409: errorResponses[409],
          422: errorResponses[422],
        },
      }),
      async (c) => {
        const { id, n } = c.req.valid('param');
        const t = await acting(deps, c, (act) => approveTranche(act, id, n));
        return c.json(toJson(t), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/cases/{id}/terminate',
        tags: ['Releases'],
        summary: 'Terminate an award: every tranche not yet released is voided and returns to the fund',
        roles: terminateCase.roles,
        problems: terminateCase.refuses,
        idempotent: true,
        request: { params: IdParam, body: jsonBody(z.strictObject({ reason: Reason })) },
        responses: {
          200: jsonContent(z.object({ caseId: z.string(), voidedPence: Pence, tranches: z.array(TrancheSchema) }), 'Terminated'),
          404: errorResponses[404],
          409: errorResponses[409],
        },
      }),
      async (c) => {
        const out = await acting(deps, c, (act) => terminateCase(act, c.req.valid('param').id, c.req.valid('json').reason));
        return c.json(toJson(out), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/cases/{id}/clawbacks',
        tags: ['Releases'],
        summary: 'Claw money back to the fund: a refund now, or an offset against a later tranche',
        roles: clawBack.roles,
        problems: clawBack.refuses,
        idempotent: true,
        request: {
          params: IdParam,
          body: jsonBody(
            z.strictObject({
              kind: z.enum(['refund', 'offset'], { error: says('must be refund or offset') }),
              amountPence: PenceInput,
              reason: Reason,
              trancheNumber: z.int().min(1).optional().openapi({ description: 'Offset only: the later tranche to withhold it from.' }),
            }),
          ),
        },
        responses: {
          201: jsonContent(ClawbackSchema, 'Recorded'),
          404: errorResponses[404],
          409: errorResponses[409],
          422: errorResponses[422],
        },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const k = await acting(deps, c, (act) => clawBack(act, c.req.valid('param').id, body));
        return c.json(toJson(k), 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/cases/{id}/clawbacks',
        tags: ['Releases'],
        summary: "A case's clawbacks",
        roles: ROLES,
        problems: ['case-not-found'],
        request: { params: IdParam },
        responses: { 200: jsonContent(z.array(ClawbackSchema), 'The clawbacks'), 404: errorResponses[404] },
      }),
      async (c) => {
        const found = await getReadableCase(db, c.get('principal'), c.req.valid('param').id);
        return c.json(toJson(await listClawbacks(db, found.id)), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/cases/{id}/award',
        tags: ['Releases'],
        summary: "An award's money: released + committed + voided = award; clawed back ≤ released",
        roles: ROLES,
        problems: ['case-not-found'],
        request: { params: IdParam },
        responses: { 200: jsonContent(AwardSchema, 'The position'), 404: errorResponses[404] },
      }),
      async (c) => {
        const found = await getReadableCase(db, c.get('principal'), c.req.valid('param').id);
        return c.json(toJson(await awardPosition(db, found.id)), 200);
      },
    );
}
