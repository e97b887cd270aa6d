import { randomUUID } from 'node:crypto';
import { type Actor, appendAudit, SYSTEM } from '../audit/audit.ts';
import { type Db, inTransaction, type Tx } from '../db/database.ts';
import { invalid } from '../lib/errors.ts';
import { refuse } from '../lib/refusals.ts';
import { USERS_REFUSALS } from './refusals.ts';
import { hashToken, insertToken, newToken, TOKEN_LIFETIME_DAYS } from './token-store.ts';

export const ROLES = ['treasury', 'panel', 'department', 'council', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Who is asking: a user, their role and, for departments and councils, their one organisation. */
export interface Principal {
  userId: string;
  name: string;
  role: Role;
  organisationCode: string | null;
  isChair: boolean;
}

export interface User extends Principal {
  createdAt: string;
  createdBy: string | null;
}

/** Which kind of organisation each role is bound to (null: none). */
const ROLE_ORGANISATION_KIND: Record<Role, string | null> = {
  treasury: null,
  panel: null,
  auditor: null,
  department: 'department',
  council: 'council',
};

export function actorOf(p: Principal): Actor {
  return { userId: p.userId, role: p.role };
}

export { hashToken } from './token-store.ts';

export interface NewUser {
  name: string;
  role: Role;
  organisationCode?: string | null;
  isChair?: boolean;
}

export async function createUser(
  trx: Tx,
  input: NewUser,
  by: Actor,
  requestId: string | null = null,
  now = new Date(),
  /** How long the user's first token lasts (see src/users/tokens.ts). */
  tokenLifetimeDays = TOKEN_LIFETIME_DAYS,
): Promise<{ user: User; token: string }> {
  const kind = ROLE_ORGANISATION_KIND[input.role];
  const orgCode = input.organisationCode ?? null;
  if (kind === null && orgCode !== null) {
    throw invalid([{ pointer: '/organisationCode', detail: `a ${input.role} user is not bound to an organisation; leave it out` }]);
  }
  if (kind !== null) {
    if (orgCode === null) {
      throw invalid([{ pointer: '/organisationCode', detail: `a ${input.role} user must name the ${kind} they act for` }]);
    }
    const org = await trx.selectFrom('organisations').select(['code', 'kind']).where('code', '=', orgCode).executeTakeFirst();
    if (!org) throw invalid([{ pointer: '/organisationCode', detail: `no organisation has the code ${orgCode}` }]);
    if (org.kind !== kind) {
      throw invalid([{ pointer: '/organisationCode', detail: `${orgCode} is a ${org.kind}, not a ${kind}` }]);
    }
  }
  if (input.isChair && input.role !== 'panel') {
    throw invalid([{ pointer: '/isChair', detail: 'only a panel member can chair the panel' }]);
  }
  const token = newToken();
  const user: User = {
    userId: randomUUID(),
    name: input.name,
    role: input.role,
    organisationCode: orgCode,
    isChair: input.isChair ?? false,
    createdAt: now.toISOString(),
    createdBy: by.userId,
  };
  await trx
    .insertInto('users')
    .values({
      id: user.userId,
      name: user.name,
      role: user.role,
      organisation_code: user.organisationCode,
      is_chair: user.isChair ? 1 : 0,
      token_hash: hashToken(token),
      created_at: user.createdAt,
      created_by: user.createdBy,
    })
    .execute();
  await insertToken(trx, user.userId, by.userId, now, tokenLifetimeDays, token);
  await appendAudit(
    trx,
    {
      actor: by,
      action: 'user.created',
      subject: `user/${user.userId}`,
      detail: { name: user.name, role: user.role, organisationCode: user.organisationCode, isChair: user.isChair },
      requestId,
    },
    now,
  );
  return { user, token };
}

/** The first treasury user, only while there is no user at all. */
export async function bootstrapTreasury(
  db: Db,
  name = 'Fund administrator',
  options: { now?: Date; tokenLifetimeDays?: number } = {},
): Promise<{ user: User; token: string }> {
  return inTransaction(db, async (trx) => {
    const any = await trx.selectFrom('users').select('id').limit(1).executeTakeFirst();
    if (any) {
      throw refuse(
        USERS_REFUSALS,
        'already-bootstrapped',
        'The first treasury user has already been created. Ask a treasury user to create new users through the API.',
      );
    }
    return createUser(trx, { name, role: 'treasury' }, SYSTEM, null, options.now ?? new Date(), options.tokenLifetimeDays);
  });
}

export async function listUsers(db: Db): Promise<User[]> {
  const rows = await db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(userFromRow);
}

/** The names of the users `ids` (those that exist), for showing who did what. Reads only. */
export async function userNames(db: Db | Tx, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('users')
    .select(['id', 'name'])
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

export function userFromRow(r: {
  id: string;
  name: string;
  role: string;
  organisation_code: string | null;
  is_chair: bigint | number;
  created_at: string;
  created_by: string | null;
}): User {
  return {
    userId: r.id,
    name: r.name,
    role: r.role as Role,
    organisationCode: r.organisation_code,
    isChair: Number(r.is_chair) === 1,
    createdAt: r.created_at,
    createdBy: r.created_by,
  };
}
