import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { authenticateToken, REVOKED_BY_REISSUE, REVOKED_BY_ROTATION, type TokenRefusal } from '../users/tokens.ts';
import type { AppEnv, Deps } from './context.ts';
import { claimKey, keepAnswer, releaseKey, requestFingerprint } from './idempotency.ts';
import { problemResponse } from './problem.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** A request id on every request and response, and one structured log line per request. */
export function requestContext(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    const started = performance.now();
    await next();
    c.res.headers.set('x-request-id', requestId);
    deps.log.info('request', {
      requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      userId: c.get('principal')?.userId,
    });
  };
}

/** Bearer token → principal. No token or an unknown one: 401. */
export function requireAuthentication(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const challenge = { 'www-authenticate': 'Bearer realm="topslice"' };
    if (!match?.[1]) {
      return problemResponse(
        c,
        { type: 'unauthenticated', title: 'Sign-in required', status: 401, detail: 'Send your token as `Authorization: Bearer <token>`.' },
        challenge,
      );
    }
    const signedIn = await authenticateToken(deps.database.db, match[1], deps.clock());
    if (!('principal' in signedIn)) return problemResponse(c, { ...tokenRefusalProblem(signedIn), status: 401 }, challenge);
    c.set('principal', signedIn.principal);
    await next();
  };
}

/** What to do with a revoked token: a replaced one has a newer token; any other needs a treasury user. */
function revokedAdvice(why: string | null | undefined): string {
  if (why === REVOKED_BY_ROTATION) return 'You rotated it: use the newer token you were given then.';
  if (why === REVOKED_BY_REISSUE) return 'A treasury user issued you a new token: use that one.';
  return 'Ask a treasury user for a new token.';
}

/** Why a token does not sign in, in plain words: each reason its own problem type. */
function tokenRefusalProblem(r: TokenRefusal): { type: string; title: string; detail: string } {
  switch (r.reason) {
    case 'expired':
      return {
        type: 'token-expired',
        title: 'Token expired',
        detail: `This token expired at ${r.at}. Ask a treasury user for a new one; next time, rotate yours before it expires with POST /api/v1/me/token.`,
      };
    case 'revoked':
      return {
        type: 'token-revoked',
        title: 'Token revoked',
        detail: `This token was revoked at ${r.at}${r.why ? ` (${r.why})` : ''}. ${revokedAdvice(r.why)}`,
      };
    case 'deactivated':
      return {
        type: 'user-deactivated',
        title: 'User deactivated',
        detail: `The user this token belongs to was deactivated at ${r.at}. Ask a treasury user if this is wrong.`,
      };
    default:
      return { type: 'unauthenticated', title: 'Sign-in required', detail: 'The bearer token is not recognised.' };
  }
}

/** An Idempotency-Key: 1 to 255 visible ASCII characters, no comma (a key sent twice arrives comma-joined). */
export const IDEMPOTENCY_KEY = /^[\x21-\x2B\x2D-\x7E]{1,255}$/;

/**
 * `Idempotency-Key` on state-changing requests, by the rule in ./idempotency.ts: the key is
 * claimed before the handler runs (a concurrent request with the same key gets 409), a success is
 * stored and replayed for the same key and body, and a refusal releases the key so it can be
 * retried. Keys are per user.
 */
export function idempotency(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (key === undefined || !['POST', 'PUT', 'PATCH', 'DELETE'].includes(c.req.method)) return next();
    if (!IDEMPOTENCY_KEY.test(key)) {
      const detail = key.includes(',')
        ? 'must be sent once, and has no comma (a header sent twice arrives joined by a comma)'
        : 'must be 1 to 255 visible ASCII characters';
      return problemResponse(c, {
        type: 'validation-error',
        title: 'Your request is not valid',
        status: 400,
        detail: `The Idempotency-Key header ${detail}.`,
        errors: [{ parameter: 'Idempotency-Key', detail }],
      });
    }
    const userId = c.get('principal').userId;
    const fingerprint = requestFingerprint(c.req.method, c.req.path, c.get('body') ?? {});
    const db = deps.database.db;

    const claim = await claimKey(db, userId, key, fingerprint, deps.clock());
    switch (claim.state) {
      case 'reused':
        return problemResponse(c, {
          type: 'idempotency-key-reused',
          title: 'Idempotency key already used for another request',
          status: 422,
          detail: 'This Idempotency-Key was first used with a different method, path or body. Use a new key for a new request.',
        });
      case 'in-flight':
        return problemResponse(c, {
          type: 'idempotency-key-in-use',
          title: 'The first request with this key is still running',
          status: 409,
          detail: 'Retry shortly: the first request with this Idempotency-Key has not finished.',
        });
      case 'done':
        return new Response(claim.body, {
          status: claim.statusCode,
          headers: { 'content-type': claim.contentType ?? 'application/json', 'idempotent-replayed': 'true' },
        });
    }

    let stored = false;
    try {
      await next();
      if (c.res.status >= 200 && c.res.status < 300) {
        const answer = c.get('replayBody') ?? (await c.res.clone().text());
        await keepAnswer(db, userId, key, { statusCode: c.res.status, body: answer, contentType: c.res.headers.get('content-type') });
        stored = true;
      }
    } finally {
      if (!stored) await releaseKey(db, userId, key);
    }
  };
}
