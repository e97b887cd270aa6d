import { SYSTEM } from '../audit/audit.ts';
import { type Db, inTransaction } from '../db/database.ts';
import { createUser } from '../users/users.ts';

/*
 * The demo under the integrity rules: a second treasury user (created by the operator, as
 * `cli create-user treasury` does) approves the panel accounts the first one asks for.
 */

// biome-ignore lint/suspicious/noExplicitAny: the demo reads response fields by name
type Api = (token: string, method: string, path: string, body: unknown, expected: number, headers?: Record<string, string>) => Promise<any>;

/** The operator's second treasury user, who approves the privileged accounts the first asks for. */
export async function secondTreasuryToken(db: Db): Promise<string> {
  const { token } = await inTransaction(db, (trx) =>
    createUser(trx, { name: 'Deputy fund administrator (HM Treasury)', role: 'treasury' }, SYSTEM),
  );
  return token;
}

let approver: string | null = null;

/** Remembers the second treasury user's token for `privilegedUser`. */
export function useApprover(token: string): void {
  approver = token;
}

/** Treasury asks for a treasury or panel account; the second treasury user approves it; returns its token. */
export async function privilegedUser(api: Api, treasury: string, body: Record<string, unknown>): Promise<string> {
  if (!approver) throw new Error('no second treasury user to approve the account');
  const asked = await api(treasury, 'POST', '/api/v1/users', body, 202);
  return (await api(approver, 'POST', `/api/v1/user-requests/${asked.id}/approve`, undefined, 201)).token as string;
}
