import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Tx } from '../db/database.ts';

/*
 * How tokens are stored: a token is shown once and kept only as its SHA-256, with when it was
 * issued and when it expires. The lifecycle (rotation, revocation, deactivation) is in ./tokens.ts.
 */

/** A token lasts this many days from issue unless revoked sooner (see ./tokens.ts). */
export const TOKEN_LIFETIME_DAYS = 90;

const DAY_MS = 86_400_000;

export type TokenStatus = 'active' | 'expired' | 'revoked';

export interface TokenRecord {
  id: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  revokedReason: string | null;
  status: TokenStatus;
}

export interface IssuedToken {
  /** The bearer token itself: shown once, never stored. */
  token: string;
  record: TokenRecord;
}

/** Tokens are shown once and stored only as their SHA-256. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newToken(): string {
  return `tsl_${randomBytes(32).toString('base64url')}`;
}

function statusOf(r: { expires_at: string; revoked_at: string | null }, now: Date): TokenStatus {
  if (r.revoked_at !== null) return 'revoked';
  return r.expires_at <= now.toISOString() ? 'expired' : 'active';
}

export function recordFromRow(
  r: {
    id: string;
    user_id: string;
    created_at: string;
    expires_at: string;
    last_used_at: string | null;
    revoked_at: string | null;
    revoked_by: string | null;
    revoked_reason: string | null;
  },
  now: Date,
): TokenRecord {
  return {
    id: r.id,
    userId: r.user_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by,
    revokedReason: r.revoked_reason,
    status: statusOf(r, now),
  };
}

/**
 * Stores a new token for a user, expiring `lifetimeDays` after `now`, with who was handed it
 * (`issuedBy`: the issuer, the user themselves for a rotation, null for an operator). Writes no
 * audit entry: callers audit the operation it is part of (user created, token rotated or re-issued).
 */
export async function insertToken(
  trx: Tx,
  userId: string,
  issuedBy: string | null,
  now: Date,
  lifetimeDays = TOKEN_LIFETIME_DAYS,
  token = newToken(),
): Promise<IssuedToken> {
  const row = {
    id: randomUUID(),
    user_id: userId,
    token_hash: hashToken(token),
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + lifetimeDays * DAY_MS).toISOString(),
    last_used_at: null,
    revoked_at: null,
    revoked_by: null,
    revoked_reason: null,
    issued_by: issuedBy,
  };
  await trx.insertInto('user_tokens').values(row).execute();
  return { token, record: recordFromRow(row, now) };
}
