import { forbidden } from '../lib/errors.ts';
import { type Look, operation } from '../lib/operation.ts';
import type { Principal } from '../users/users.ts';
import { listAccounts, listTransfers } from './ledger.ts';
import type { Account, LedgerName, Transfer } from './types.ts';

/*
 * Who reads the ledger: treasury and auditors read all of it; a department or a council reads its
 * own organisation's accounts and the transfers touching them, with only its own side's balances
 * (for departments, the "own records" half of the visibility rule in src/fund/visibility.ts).
 */

/** The organisation whose accounts `p` is limited to, or undefined for the whole ledger. */
export function ownOrganisation(p: Principal): string | undefined {
  if (p.role === 'treasury' || p.role === 'auditor') return undefined;
  if (!p.organisationCode) throw forbidden('Only treasury and auditors may read the whole ledger.');
  return p.organisationCode;
}

const LEDGER_READERS = {
  roles: ['treasury', 'auditor', 'department', 'council'],
  organisation: 'departments and councils read their own organisation’s accounts',
} as const;

/**
 * The accounts `principal` may read, filtered. Refusal: `forbidden` (403) for another
 * organisation's accounts. Amounts are the accounts' counters in the ledger's unit.
 */
export const readableAccounts = operation(
  { ...LEDGER_READERS, refuses: [] },
  async (
    { db, principal }: Look,
    filter: { organisationCode?: string; financialYear?: string; ledger?: LedgerName; kind?: string },
  ): Promise<Account[]> => {
    const own = ownOrganisation(principal);
    if (own && filter.organisationCode && filter.organisationCode !== own) throw forbidden(`You can see only ${own}'s accounts.`);
    return listAccounts(db, { ...filter, organisationCode: own ?? filter.organisationCode });
  },
);

/**
 * A page of the transfers `principal` may read, and (for a department or council) the ids of its
 * own accounts, the only ones whose balances it sees. Refusal: `forbidden` (403) for another
 * organisation's account.
 */
export const readableTransfers = operation(
  { ...LEDGER_READERS, refuses: [] },
  async (
    { db, principal }: Look,
    filter: { accountId?: string; code?: string; afterSeq?: bigint; limit: number },
  ): Promise<{ transfers: Transfer[]; ownAccountIds: string[] | null }> => {
    const own = ownOrganisation(principal);
    let accountIds = filter.accountId ? [filter.accountId] : undefined;
    const mine = own ? (await listAccounts(db, { organisationCode: own })).map((a) => a.id) : null;
    if (mine) {
      if (filter.accountId && !mine.includes(filter.accountId)) throw forbidden(`You can see only ${own}'s accounts.`);
      accountIds = accountIds ?? mine;
    }
    const transfers = await listTransfers(db, { accountIds, code: filter.code, afterSeq: filter.afterSeq, limit: filter.limit });
    return { transfers, ownAccountIds: mine };
  },
);
