import { z } from '@hono/zod-openapi';
import type { Deps } from '../http/context.ts';
import { acting, apiRoute, createRouter, errorResponses, jsonBody, jsonContent } from '../http/router.ts';
import type { IssuedToken, TokenRecord } from '../users/token-store.ts';
import { deactivateAccount, deactivationOf, issueTokenFor, listTokens, revokeTokensOf, rotateOwnToken } from '../users/tokens.ts';
import { IdParam, Reason } from './schemas.ts';

/* Tokens that can end: rotation, re-issue, revocation and deactivation (rules in src/users/tokens.ts). */

const TokenSchema = z
  .object({
    id: z.string(),
    status: z.enum(['active', 'expired', 'revoked']),
    createdAt: z.string(),
    expiresAt: z.string(),
    lastUsedAt: z.string().nullable().openapi({ description: 'When the token was last used, to the minute; null if never.' }),
    revokedAt: z.string().nullable(),
    revokedBy: z.string().nullable(),
    revokedReason: z.string().nullable(),
  })
  .openapi('Token');

const IssuedTokenSchema = z
  .object({
    token: z.string().nullable().openapi({
      description: 'The bearer token. It is not stored and cannot be shown again: an Idempotency-Key replay returns null.',
    }),
    tokenId: z.string(),
    expiresAt: z.string(),
  })
  .openapi('IssuedToken');

const ReasonBody = z.strictObject({ reason: Reason.openapi({ description: 'Why, for the audit trail.', example: 'Left the department' }) });

const tokenJson = (t: TokenRecord) => ({
  id: t.id,
  status: t.status,
  createdAt: t.createdAt,
  expiresAt: t.expiresAt,
  lastUsedAt: t.lastUsedAt,
  revokedAt: t.revokedAt,
  revokedBy: t.revokedBy,
  revokedReason: t.revokedReason,
});

const issuedJson = (i: IssuedToken, token: string | null) => ({ token, tokenId: i.record.id, expiresAt: i.record.expiresAt });

export function tokenRoutes(deps: Deps) {
  const db = deps.database.db;
  return createRouter()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/me/token',
        tags: ['Users'],
        summary: 'Rotate your own token: the one you used stops working, a new one is issued (shown once)',
        description: 'The new token lasts the full lifetime (90 days unless the operator set TOKEN_LIFETIME_DAYS).',
        roles: rotateOwnToken.roles,
        problems: rotateOwnToken.refuses,
        idempotent: true,
        responses: { 201: jsonContent(IssuedTokenSchema, 'Your new token') },
      }),
      async (c) => {
        const issued = await acting(deps, c, (act) => rotateOwnToken(act, deps.tokenLifetimeDays));
        c.set('replayBody', JSON.stringify(issuedJson(issued, null)));
        return c.json(issuedJson(issued, issued.token), 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/users/{id}/tokens',
        tags: ['Users'],
        summary: "A user's tokens (never the tokens themselves): status, expiry, last use, revocation",
        roles: ['treasury', 'auditor'],
        problems: ['user-not-found'],
        request: { params: IdParam },
        responses: {
          200: jsonContent(
            z.object({ userId: z.string(), deactivatedAt: z.string().nullable(), tokens: z.array(TokenSchema) }),
            'The user and their tokens, newest first',
          ),
          404: errorResponses[404],
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const tokens = await listTokens(db, id, deps.clock());
        const deactivation = await deactivationOf(db, id);
        return c.json({ userId: id, deactivatedAt: deactivation?.at ?? null, tokens: tokens.map(tokenJson) }, 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/users/{id}/tokens',
        tags: ['Users'],
        summary: 'Issue a user a new token (shown once), revoking any they had: for an expired or lost token',
        description: 'Not for a treasury or panel account (an operator re-issues those, with `cli issue-token`).',
        roles: issueTokenFor.roles,
        problems: issueTokenFor.refuses,
        idempotent: true,
        request: { params: IdParam },
        responses: { 201: jsonContent(IssuedTokenSchema, 'The new token'), 404: errorResponses[404], 409: errorResponses[409] },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const issued = await acting(deps, c, (act) => issueTokenFor(act, id, deps.tokenLifetimeDays));
        c.set('replayBody', JSON.stringify(issuedJson(issued, null)));
        return c.json(issuedJson(issued, issued.token), 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/users/{id}/tokens/revoke',
        tags: ['Users'],
        summary: 'Revoke every live token of a user, with a reason; they can be issued a new one later',
        roles: revokeTokensOf.roles,
        problems: revokeTokensOf.refuses,
        idempotent: true,
        request: { params: IdParam, body: jsonBody(ReasonBody) },
        responses: {
          200: jsonContent(z.object({ userId: z.string(), revokedTokenIds: z.array(z.string()) }), 'What was revoked'),
          404: errorResponses[404],
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const revoked = await acting(deps, c, (act) => revokeTokensOf(act, id, c.req.valid('json').reason));
        return c.json({ userId: id, revokedTokenIds: revoked }, 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/users/{id}/deactivate',
        tags: ['Users'],
        summary: 'Deactivate a user who has left: their tokens stop working and no new one can be issued',
        description: 'Not yourself, and not the last active treasury user.',
        roles: deactivateAccount.roles,
        problems: deactivateAccount.refuses,
        idempotent: true,
        request: { params: IdParam, body: jsonBody(ReasonBody) },
        responses: {
          200: jsonContent(
            z.object({ userId: z.string(), deactivatedAt: z.string(), revokedTokenIds: z.array(z.string()) }),
            'The user is deactivated',
          ),
          404: errorResponses[404],
          409: errorResponses[409],
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const done = await acting(deps, c, (act) => deactivateAccount(act, id, c.req.valid('json').reason));
        return c.json({ userId: id, ...done }, 200);
      },
    );
}
