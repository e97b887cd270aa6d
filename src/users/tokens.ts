import { type Actor, appendAudit } from '../audit/audit.ts';
import type { Db, Tx } from '../db/database.ts';
import { type Act, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { USERS_REFUSALS } from './refusals.ts';
import { needsSecondTreasuryApproval } from './requests.ts';
import { hashToken, type IssuedToken, insertToken, recordFromRow, TOKEN_LIFETIME_DAYS, type TokenRecord } from './token-store.ts';
import { type Principal, ROLES, type Role, userFromRow } from './users.ts';

/*
 * Tokens that can end. A user signs in with one bearer token at a time; it is shown once and
 * stored only as its SHA-256.
 *
 * The rule: **a token lasts TOKEN_LIFETIME_DAYS (90) days from issue, unless revoked sooner**
 * (the operator may set another lifetime with TOKEN_LIFETIME_DAYS). Issuing a user a new token
 * (their own rotation, or Treasury's re-issue) revokes the one they had. Treasury can revoke a
 * user's tokens, and deactivate a user, which revokes them too and stops any new one being
 * issued. A revoked or expired token, or any token of a deactivated user, is refused with 401
 * and a plain reason. Each token's last use is kept to the minute (a request writes it only
 * when the stored time is a minute old or more, so reading does not become writing).
 */

const LAST_USED_RESOLUTION_MS = 60_000;

/** Why a presented token does not sign anyone in; `unknown` when no token has that hash. */
export type TokenRefusal =
  | { reason: 'unknown' }
  | { reason: 'expired'; at: string }
  | { reason: 'revoked'; at: string; why: string | null }
  | { reason: 'deactivated'; at: string };

/** The reasons recorded when a token gives way to a new one, so a refusal can say where the new one is. */
export const REVOKED_BY_ROTATION = 'rotated by its user';
export const REVOKED_BY_REISSUE = 'replaced by a new token';

/**
 * Bearer token → the user it signs in, or why it does not. Marks the token used (to the minute).
 * Called on every API request, outside any transaction.
 */
export async function authenticateToken(
  db: Db,
  token: string,
  now: Date,
): Promise<{ principal: Principal; tokenId: string } | TokenRefusal> {
  return signInBy(db, 't.token_hash', hashToken(token), now);
}

/**
 * A token already known by its id (a web session holds it) → the user it signs in, or why it
 * no longer does: the same rule as a bearer token, so a session ends when its token does.
 */
export async function authenticateTokenId(
  db: Db,
  tokenId: string,
  now: Date,
): Promise<{ principal: Principal; tokenId: string } | TokenRefusal> {
  return signInBy(db, 't.id', tokenId, now);
}

async function signInBy(
  db: Db,
  column: 't.token_hash' | 't.id',
  value: string,
  now: Date,
): Promise<{ principal: Principal; tokenId: string } | TokenRefusal> {
  const row = await db
    .selectFrom('user_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select([
      't.id as tokenId',
      't.expires_at',
      't.last_used_at',
      't.revoked_at',
      't.revoked_reason',
      'u.id',
      'u.name',
      'u.role',
      'u.organisation_code',
      'u.is_chair',
      'u.created_at',
      'u.created_by',
      'u.deactivated_at',
    ])
    .where(column, '=', value)
    .executeTakeFirst();
  if (!row) return { reason: 'unknown' };
  if (row.deactivated_at !== null) return { reason: 'deactivated', at: row.deactivated_at };
  if (row.revoked_at !== null) return { reason: 'revoked', at: row.revoked_at, why: row.revoked_reason };
  const at = now.toISOString();
  if (row.expires_at <= at) return { reason: 'expired', at: row.expires_at };
  if (row.last_used_at === null || Date.parse(row.last_used_at) <= now.getTime() - LAST_USED_RESOLUTION_MS) {
    await db
      .updateTable('user_tokens')
      .set({ last_used_at: at })
      .where('id', '=', row.tokenId)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
      .execute();
  }
  return { principal: userFromRow(row), tokenId: row.tokenId };
}

/** Every token a user has had, newest first, with its status at `now`. Treasury and auditors. */
export async function listTokens(db: Db | Tx, userId: string, now: Date): Promise<TokenRecord[]> {
  await loadUser(db, userId);
  const rows = await db
    .selectFrom('user_tokens')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map((r) => recordFromRow(r, now));
}

/** Whether a user may sign in: null while active, or when and by whom they were deactivated. */
export async function deactivationOf(db: Db | Tx, userId: string): Promise<{ at: string; by: string | null } | null> {
  const user = await loadUser(db, userId);
  return user.deactivated_at === null ? null : { at: user.deactivated_at, by: user.deactivated_by };
}

async function loadUser(db: Db | Tx, userId: string) {
  const user = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
  if (!user) throw refuse(USERS_REFUSALS, 'user-not-found', `There is no user ${userId}.`);
  return user;
}

/** Revokes every live token of a user; returns the ids revoked. */
async function revokeLive(trx: Tx, userId: string, by: Actor, reason: string, now: Date): Promise<string[]> {
  const at = now.toISOString();
  const live = await trx
    .selectFrom('user_tokens')
    .select('id')
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', at)
    .orderBy('id')
    .execute();
  if (live.length === 0) return [];
  const ids = live.map((r) => r.id);
  await trx
    .updateTable('user_tokens')
    .set({ revoked_at: at, revoked_by: by.userId ?? `${by.role}`, revoked_reason: reason })
    .where('id', 'in', ids)
    .execute();
  return ids;
}

/**
 * A user replaces their own token: the token they signed in with (and any other live one) is
 * revoked and a new one issued, with the full lifetime. Any role, for themselves only.
 * Returns the new token (shown once) and its record. Audited as `user.token-rotated`.
 */
export const rotateOwnToken = operation(
  { roles: ROLES, organisation: 'for yourself only', refuses: [] },
  async ({ trx, principal, requestId, now }: Act, lifetimeDays: number = TOKEN_LIFETIME_DAYS): Promise<IssuedToken> => {
    const by: Actor = { userId: principal.userId, role: principal.role };
    return replaceToken(trx, principal.userId, by, REVOKED_BY_ROTATION, 'user.token-rotated', requestId, now, lifetimeDays);
  },
);

/**
 * Treasury (or an operator through the CLI) issues a user a new token, revoking any live one:
 * for a user whose token expired or was lost. Whoever is handed the token can act as that user,
 * so the issuer answers for the account in the four-eyes rule (src/releases/four-eyes.ts), and a
 * treasury user may not re-issue a treasury or panel account's token at all (403
 * `privileged-token-by-operator`): one person would then hold two approvers' identities. Those
 * tokens come from an operator (`cli issue-token`) or a new account approved by a second treasury
 * user. Refuses a deactivated user (409 `user-already-deactivated`) and an unknown one (404
 * `user-not-found`). Audited as `user.token-issued`.
 */
export async function reissueToken(
  trx: Tx,
  userId: string,
  by: Actor,
  requestId: string | null,
  now: Date,
  lifetimeDays = TOKEN_LIFETIME_DAYS,
): Promise<IssuedToken> {
  const user = await loadUser(trx, userId);
  if (user.deactivated_at !== null) {
    throw refuse(
      USERS_REFUSALS,
      'user-already-deactivated',
      `${user.name} was deactivated on ${user.deactivated_at} and cannot be given a token.`,
    );
  }
  if (by.userId !== null && needsSecondTreasuryApproval(user.role as Role)) {
    throw refuse(
      USERS_REFUSALS,
      'privileged-token-by-operator',
      `${user.name} is a ${user.role} user: whoever holds the new token could approve as them. An operator issues it (npm run cli -- issue-token ${userId}), or ask for a new account, which a second treasury user approves.`,
    );
  }
  return replaceToken(trx, userId, by, REVOKED_BY_REISSUE, 'user.token-issued', requestId, now, lifetimeDays);
}

/** Revokes the user's live tokens and issues one new token, audited under `action`. */
async function replaceToken(
  trx: Tx,
  userId: string,
  by: Actor,
  reason: string,
  action: 'user.token-rotated' | 'user.token-issued',
  requestId: string | null,
  now: Date,
  lifetimeDays: number,
): Promise<IssuedToken> {
  const revoked = await revokeLive(trx, userId, by, reason, now);
  const issued = await insertToken(trx, userId, by.userId, now, lifetimeDays);
  await appendAudit(
    trx,
    {
      actor: by,
      action,
      subject: `user/${userId}`,
      detail: { revokedTokenIds: revoked, tokenId: issued.record.id, expiresAt: issued.record.expiresAt },
      requestId,
    },
    now,
  );
  return issued;
}

/**
 * Treasury (or an operator) revokes every live token of a user, with a reason recorded in the
 * audit trail (`user.tokens-revoked`). The user can be issued a new token later. Returns the
 * ids revoked (none if the user had no live token). Refuses an unknown user (404).
 */
export async function revokeUserTokens(
  trx: Tx,
  userId: string,
  reason: string,
  by: Actor,
  requestId: string | null,
  now: Date,
): Promise<string[]> {
  await loadUser(trx, userId);
  const revoked = await revokeLive(trx, userId, by, reason, now);
  await appendAudit(
    trx,
    { actor: by, action: 'user.tokens-revoked', subject: `user/${userId}`, detail: { reason, revokedTokenIds: revoked }, requestId },
    now,
  );
  return revoked;
}

/**
 * Treasury (or an operator) deactivates a user, for someone who has left: every live token is
 * revoked and none can be issued again. The user and their record stay (the audit trail names
 * them). Refuses: an unknown user (404 `user-not-found`); one already deactivated (409
 * `user-already-deactivated`); deactivating yourself (409 `cannot-deactivate-self`); the last
 * active treasury user (409 `last-treasury-user`), which would leave no one able to manage
 * users. Audited as `user.deactivated`.
 */
export async function deactivateUser(
  trx: Tx,
  userId: string,
  reason: string,
  by: Actor,
  requestId: string | null,
  now: Date,
): Promise<{ deactivatedAt: string; revokedTokenIds: string[] }> {
  const user = await loadUser(trx, userId);
  if (user.deactivated_at !== null) {
    throw refuse(USERS_REFUSALS, 'user-already-deactivated', `${user.name} was deactivated on ${user.deactivated_at}.`);
  }
  if (by.userId === userId) {
    throw refuse(USERS_REFUSALS, 'cannot-deactivate-self', 'Ask another treasury user to deactivate your account.');
  }
  if ((user.role as Role) === 'treasury') {
    const others = await trx
      .selectFrom('users')
      .select('id')
      .where('role', '=', 'treasury')
      .where('deactivated_at', 'is', null)
      .where('id', '!=', userId)
      .limit(1)
      .execute();
    if (others.length === 0) {
      throw refuse(USERS_REFUSALS, 'last-treasury-user', `${user.name} is the only active treasury user; create another first.`);
    }
  }
  const at = now.toISOString();
  await trx
    .updateTable('users')
    .set({ deactivated_at: at, deactivated_by: by.userId ?? by.role })
    .where('id', '=', userId)
    .execute();
  const revoked = await revokeLive(trx, userId, by, `user deactivated: ${reason}`, now);
  await appendAudit(
    trx,
    { actor: by, action: 'user.deactivated', subject: `user/${userId}`, detail: { reason, revokedTokenIds: revoked }, requestId },
    now,
  );
  return { deactivatedAt: at, revokedTokenIds: revoked };
}

/*
 * The token steps above take the `Actor` the audit log records, so the operators' CLI runs them
 * as the system; a signed-in treasury user goes through these operations.
 */

const byUser = (p: Principal): Actor => ({ userId: p.userId, role: p.role });

/**
 * Treasury issues user `userId` a new token (shown once, lasting `lifetimeDays`), revoking any live
 * one; see `reissueToken`. Refusals: `forbidden`; user-not-found (404); user-already-deactivated
 * (409); privileged-token-by-operator (403, a treasury or panel account).
 */
export const issueTokenFor = operation(
  { roles: ['treasury'], refuses: ['user-not-found', 'user-already-deactivated', 'privileged-token-by-operator'] },
  ({ trx, principal, requestId, now }: Act, userId: string, lifetimeDays?: number): Promise<IssuedToken> =>
    reissueToken(trx, userId, byUser(principal), requestId, now, lifetimeDays),
);

/**
 * Treasury revokes every live token of user `userId`, with a reason; see `revokeUserTokens`.
 * Returns the ids revoked. Refusals: `forbidden`; user-not-found (404).
 */
export const revokeTokensOf = operation(
  { roles: ['treasury'], refuses: ['user-not-found'] },
  ({ trx, principal, requestId, now }: Act, userId: string, reason: string): Promise<string[]> =>
    revokeUserTokens(trx, userId, reason, byUser(principal), requestId, now),
);

/**
 * Treasury deactivates user `userId`, who has left; see `deactivateUser`. Refusals: `forbidden`;
 * user-not-found (404); user-already-deactivated, cannot-deactivate-self, last-treasury-user (409).
 */
export const deactivateAccount = operation(
  { roles: ['treasury'], refuses: ['user-not-found', 'user-already-deactivated', 'cannot-deactivate-self', 'last-treasury-user'] },
  (
    { trx, principal, requestId, now }: Act,
    userId: string,
    reason: string,
  ): Promise<{ deactivatedAt: string; revokedTokenIds: string[] }> =>
    deactivateUser(trx, userId, reason, byUser(principal), requestId, now),
);
