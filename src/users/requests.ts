import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/audit.ts';
import type { Db, Tx } from '../db/database.ts';
import type { UserRequestTable } from '../db/schema.ts';
import { forbidden, invalid } from '../lib/errors.ts';
import { type Act, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { USERS_REFUSALS } from './refusals.ts';
import { actorOf, createUser, type NewUser, type Principal, type Role, type User } from './users.ts';

/*
 * Privileged accounts need two treasury users. Creating a treasury or panel user (the roles that
 * approve releases) through the API only records a request; the account exists, and its token is
 * issued (to the approver, once), when a second treasury user approves it. So one treasury user
 * cannot give themselves a second identity to approve with. Accounts are never elevated: there
 * is no route that changes a user's role or makes a member chair; that takes a new account, which
 * goes through this same approval. Operators with database access (the CLI) create users directly,
 * audited as the system: they could rewrite the database anyway.
 *
 * Who answers for an account — the user who requested it and the one who approved it — is what
 * the four-eyes rule (src/releases/four-eyes.ts) reads to tell independent approvers apart.
 */

/** Roles whose accounts need a second treasury user's approval. */
export const PRIVILEGED_ROLES: readonly Role[] = ['treasury', 'panel'];

export const needsSecondTreasuryApproval = (role: Role) => PRIVILEGED_ROLES.includes(role);

export interface UserRequest {
  id: string;
  name: string;
  role: Role;
  isChair: boolean;
  requestedBy: string;
  requestedAt: string;
  status: 'awaiting-approval' | 'approved';
  approvedBy: string | null;
  approvedAt: string | null;
  userId: string | null;
}

/**
 * Treasury asks for a treasury or panel account. Nothing is created until a second treasury user
 * approves (`approveUserRequest`). Refusals: `invalid` (a panel-only flag on another role, an
 * organisation on a role bound to none).
 */
export async function requestPrivilegedUser(
  trx: Tx,
  input: NewUser,
  p: Principal,
  requestId: string | null,
  now: Date,
): Promise<UserRequest> {
  if (p.role !== 'treasury') throw forbidden('Only treasury users ask for new accounts.');
  if (!needsSecondTreasuryApproval(input.role)) throw new Error(`${input.role} accounts are created directly`);
  if (input.organisationCode) {
    throw invalid([{ pointer: '/organisationCode', detail: `a ${input.role} user is not bound to an organisation; leave it out` }]);
  }
  if (input.isChair && input.role !== 'panel') throw invalid([{ pointer: '/isChair', detail: 'only a panel member can chair the panel' }]);
  const r: UserRequest = {
    id: randomUUID(),
    name: input.name,
    role: input.role,
    isChair: input.isChair ?? false,
    requestedBy: p.userId,
    requestedAt: now.toISOString(),
    status: 'awaiting-approval',
    approvedBy: null,
    approvedAt: null,
    userId: null,
  };
  await trx
    .insertInto('user_requests')
    .values({
      id: r.id,
      name: r.name,
      role: r.role,
      is_chair: r.isChair ? 1 : 0,
      requested_by: r.requestedBy,
      requested_at: r.requestedAt,
      status: r.status,
      decided_by: null,
      decided_at: null,
      user_id: null,
    })
    .execute();
  await appendAudit(
    trx,
    {
      actor: actorOf(p),
      action: 'user.requested',
      subject: `user-request/${r.id}`,
      detail: { name: r.name, role: r.role, isChair: r.isChair },
      requestId,
    },
    now,
  );
  return r;
}

/**
 * A second treasury user approves a request: the account is created and its token returned,
 * once, to the approver. The approver must be independent of the requester in the four-eyes
 * sense: not the requester, and neither answering for the other's account. Refusals: `forbidden`
 * (not treasury), `second-treasury-user-needed` (the requester, or not independent of them),
 * `user-request-not-found`, `user-request-decided` (409).
 */
export const approveUserRequest = operation(
  { roles: ['treasury'], refuses: ['user-request-not-found', 'user-request-decided', 'second-treasury-user-needed'] },
  async ({ trx, principal: p, requestId, now }: Act, id: string): Promise<{ request: UserRequest; user: User; token: string }> => {
    const row = await trx.selectFrom('user_requests').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw refuse(USERS_REFUSALS, 'user-request-not-found', `There is no account request ${id}.`);
    if (row.status !== 'awaiting-approval') {
      throw refuse(USERS_REFUSALS, 'user-request-decided', `The request for ${row.name} was ${row.status} on ${row.decided_at}.`);
    }
    if (row.requested_by === p.userId) {
      throw refuse(
        USERS_REFUSALS,
        'second-treasury-user-needed',
        `You asked for ${row.name}'s ${row.role} account; another treasury user must approve it.`,
      );
    }
    // The second treasury user must be independent of the first, as four eyes asks of approvers
    // (src/releases/four-eyes.ts): else one person holding two treasury accounts mints others.
    if (answersFor(await accountSponsors(trx, [row.requested_by, p.userId]), row.requested_by, p.userId)) {
      throw refuse(
        USERS_REFUSALS,
        'second-treasury-user-needed',
        `You answer for the account that asked for ${row.name}'s ${row.role} account (you created, asked for, approved or were handed its token), or it for yours; a treasury user independent of it must approve.`,
      );
    }
    const at = now.toISOString();
    const claimed = await trx
      .updateTable('user_requests')
      .set({ status: 'approved', decided_by: p.userId, decided_at: at })
      .where('id', '=', id)
      .where('status', '=', 'awaiting-approval')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) throw refuse(USERS_REFUSALS, 'user-request-decided', 'It was decided meanwhile.');
    // The account is the requester's creation, approved by this user: both answer for it.
    const { user, token } = await createUser(
      trx,
      { name: row.name, role: row.role as Role, isChair: Number(row.is_chair) === 1 },
      { userId: row.requested_by, role: 'treasury' },
      requestId,
      now,
    );
    await trx.updateTable('user_requests').set({ user_id: user.userId }).where('id', '=', id).execute();
    await appendAudit(
      trx,
      {
        actor: actorOf(p),
        action: 'user.request-approved',
        subject: `user-request/${id}`,
        detail: { userId: user.userId, role: user.role },
        requestId,
      },
      now,
    );
    return {
      request: requestFromRow({ ...row, status: 'approved', decided_by: p.userId, decided_at: at, user_id: user.userId }),
      user,
      token,
    };
  },
);

export async function listUserRequests(db: Db | Tx): Promise<UserRequest[]> {
  const rows = await db.selectFrom('user_requests').selectAll().orderBy('requested_at').orderBy('id').execute();
  return rows.map(requestFromRow);
}

function requestFromRow(r: UserRequestTable): UserRequest {
  return {
    id: r.id,
    name: r.name,
    role: r.role as Role,
    isChair: Number(r.is_chair) === 1,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    status: r.status as UserRequest['status'],
    approvedBy: r.decided_by,
    approvedAt: r.decided_at,
    userId: r.user_id,
  };
}

/**
 * Who answers for each of these users' accounts: the user who created (or asked for) it, the
 * treasury user who approved it, and anyone who was handed one of its tokens (re-issued it). The
 * system (CLI, bootstrap) is nobody.
 */
export async function accountSponsors(db: Db | Tx, userIds: string[]): Promise<Map<string, Set<string>>> {
  const ids = [...new Set(userIds)];
  const out = new Map<string, Set<string>>(ids.map((id) => [id, new Set<string>()]));
  if (ids.length === 0) return out;
  const [users, requests, tokens] = await Promise.all([
    db.selectFrom('users').select(['id', 'created_by']).where('id', 'in', ids).execute(),
    db.selectFrom('user_requests').select(['user_id', 'requested_by', 'decided_by']).where('user_id', 'in', ids).execute(),
    db.selectFrom('user_tokens').select(['user_id', 'issued_by']).where('user_id', 'in', ids).where('issued_by', 'is not', null).execute(),
  ]);
  for (const u of users) if (u.created_by) out.get(u.id)?.add(u.created_by);
  for (const t of tokens) if (t.issued_by && t.issued_by !== t.user_id) out.get(t.user_id)?.add(t.issued_by);
  for (const r of requests) {
    if (!r.user_id) continue;
    out.get(r.user_id)?.add(r.requested_by);
    if (r.decided_by) out.get(r.user_id)?.add(r.decided_by);
  }
  return out;
}

/** Whether either of two users answers for the other's account (or they are the same user). */
export function answersFor(sponsors: Map<string, Set<string>>, a: string, b: string): boolean {
  return a === b || (sponsors.get(a)?.has(b) ?? false) || (sponsors.get(b)?.has(a) ?? false);
}

/**
 * Treasury adds a user. A department, council or auditor account is created at once, with its
 * token (shown once; it lasts `tokenLifetimeDays`); a treasury or panel account is only asked for,
 * and exists once a second treasury user approves it (`approveUserRequest`). Audited as
 * `user.created` or `user.requested`. Refusals: `forbidden`; validation-error (400: an
 * organisation the role does not take or lacks, a chair who is not on the panel).
 */
export const addUser = operation(
  { roles: ['treasury'], refuses: [] },
  async (
    { trx, principal, requestId, now }: Act,
    input: NewUser,
    tokenLifetimeDays?: number,
  ): Promise<{ requested: UserRequest } | { user: User; token: string }> => {
    if (needsSecondTreasuryApproval(input.role)) return { requested: await requestPrivilegedUser(trx, input, principal, requestId, now) };
    return createUser(trx, input, actorOf(principal), requestId, now, tokenLifetimeDays);
  },
);
