import { sql } from 'kysely';
import type { Db, Tx } from '../db/database.ts';
import { listAccounts } from './ledger.ts';
import { type Counters, LEDGERS, type LedgerName, TRANSFER_FLAGS } from './types.ts';

export interface LedgerTotals extends Counters {
  ledger: LedgerName;
  /** Σ debits = Σ credits, posted and pending separately. */
  balanced: boolean;
}

export interface CounterMismatch {
  accountId: string;
  counter: keyof Counters;
  stored: bigint;
  fromTransfers: bigint;
}

export interface LedgerVerification {
  ok: boolean;
  ledgers: LedgerTotals[];
  accounts: { checked: number; mismatches: CounterMismatch[] };
  limits: { overdrawn: string[] };
  pendingTransfers: { checked: number; inconsistent: string[] };
}

const NOT_POSTED = TRANSFER_FLAGS.pending | TRANSFER_FLAGS.voidPendingTransfer;

/**
 * Checks the ledger's invariants from scratch: each ledger balances; each account's counters
 * equal the fold of its transfers (posted: single transfers and posts of pending ones; pending:
 * pending transfers still pending); no account breaks its limit; each pending transfer's state
 * agrees with the transfer that resolved it.
 */
export async function verifyLedger(db: Db | Tx): Promise<LedgerVerification> {
  const accounts = await listAccounts(db);
  const sums = async (column: 'debit_account_id' | 'credit_account_id') => {
    const rows = await db
      .selectFrom('transfers')
      .select([`${column} as id`, sql<bigint>`cast(sum(amount) as bigint)`.as('total')])
      .where(sql<boolean>`(flags & ${sql.lit(NOT_POSTED)}) = 0`)
      .groupBy(column)
      .execute();
    return new Map(rows.map((r) => [r.id, BigInt(r.total)]));
  };
  const pendingSums = async (column: 'debit_account_id' | 'credit_account_id') => {
    const rows = await db
      .selectFrom('pending_transfers')
      .select([`${column} as id`, sql<bigint>`cast(sum(amount) as bigint)`.as('total')])
      .where('status', '=', 'pending')
      .groupBy(column)
      .execute();
    return new Map(rows.map((r) => [r.id, BigInt(r.total)]));
  };
  const [debitsPosted, creditsPosted, debitsPending, creditsPending] = await Promise.all([
    sums('debit_account_id'),
    sums('credit_account_id'),
    pendingSums('debit_account_id'),
    pendingSums('credit_account_id'),
  ]);

  const mismatches: CounterMismatch[] = [];
  const overdrawn: string[] = [];
  const totals = new Map<LedgerName, Counters>(
    LEDGERS.map((l) => [l, { debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n }]),
  );
  for (const a of accounts) {
    const fold: Counters = {
      debitsPending: debitsPending.get(a.id) ?? 0n,
      debitsPosted: debitsPosted.get(a.id) ?? 0n,
      creditsPending: creditsPending.get(a.id) ?? 0n,
      creditsPosted: creditsPosted.get(a.id) ?? 0n,
    };
    for (const counter of ['debitsPending', 'debitsPosted', 'creditsPending', 'creditsPosted'] as const) {
      if (a[counter] !== fold[counter]) mismatches.push({ accountId: a.id, counter, stored: a[counter], fromTransfers: fold[counter] });
    }
    if (a.debitsMustNotExceedCredits && a.debitsPending + a.debitsPosted > a.creditsPosted) overdrawn.push(a.id);
    if (a.creditsMustNotExceedDebits && a.creditsPending + a.creditsPosted > a.debitsPosted) overdrawn.push(a.id);
    const t = totals.get(a.ledger);
    if (t) {
      t.debitsPending += a.debitsPending;
      t.debitsPosted += a.debitsPosted;
      t.creditsPending += a.creditsPending;
      t.creditsPosted += a.creditsPosted;
    }
  }
  const ledgers: LedgerTotals[] = [...totals].map(([ledger, t]) => ({
    ledger,
    ...t,
    balanced: t.debitsPosted === t.creditsPosted && t.debitsPending === t.creditsPending,
  }));

  // Each pending transfer: still pending or expired with no resolving transfer; posted or
  // voided with exactly the matching one.
  const pendings = await db
    .selectFrom('pending_transfers as p')
    .leftJoin('transfers as t', 't.pending_id', 'p.id')
    .select(['p.id as id', 'p.status as status', 't.id as resolvedBy', 't.flags as flags'])
    .execute();
  const inconsistent: string[] = pendings
    .filter((p) => {
      const flags = p.flags === null ? 0 : Number(p.flags);
      switch (p.status) {
        case 'pending':
        case 'expired':
          return p.resolvedBy !== null;
        case 'posted':
          return (flags & TRANSFER_FLAGS.postPendingTransfer) === 0;
        case 'voided':
          return (flags & TRANSFER_FLAGS.voidPendingTransfer) === 0;
        default:
          return true;
      }
    })
    .map((p) => p.id);

  // Each pending transfer, from the transfer that made it: its row exists with the same accounts,
  // amount and the expiry its timeout gives, and it expired only once that expiry came (never
  // one with no timeout). And no pending row stands without a pending transfer behind it. Else a
  // reservation could be made to vanish (row deleted or marked expired, counters lowered).
  const made = await db
    .selectFrom('transfers as t')
    .leftJoin('pending_transfers as p', 'p.id', 't.id')
    .select([
      't.id as id',
      't.debit_account_id as debit',
      't.credit_account_id as credit',
      't.amount as amount',
      't.timeout_seconds as timeout',
      't.created_at as createdAt',
      'p.id as rowId',
      'p.debit_account_id as rowDebit',
      'p.credit_account_id as rowCredit',
      'p.amount as rowAmount',
      'p.expires_at as expiresAt',
      'p.status as status',
      'p.resolved_at as resolvedAt',
    ])
    .where(sql<boolean>`(t.flags & ${sql.lit(TRANSFER_FLAGS.pending)}) <> 0`)
    .execute();
  for (const t of made) {
    const timeout = Number(t.timeout);
    const expiry = timeout > 0 ? new Date(Date.parse(t.createdAt) + timeout * 1000).toISOString() : null;
    const bad =
      t.rowId === null ||
      t.rowDebit !== t.debit ||
      t.rowCredit !== t.credit ||
      BigInt(t.rowAmount ?? -1n) !== BigInt(t.amount) ||
      t.expiresAt !== expiry ||
      (t.status === 'expired' && (expiry === null || t.resolvedAt === null || t.resolvedAt < expiry));
    if (bad && !inconsistent.includes(t.id)) inconsistent.push(t.id);
  }
  const orphans = await db
    .selectFrom('pending_transfers as p')
    .leftJoin('transfers as t', 't.id', 'p.id')
    .select('p.id as id')
    .where((eb) => eb.or([eb('t.id', 'is', null), sql<boolean>`(t.flags & ${sql.lit(TRANSFER_FLAGS.pending)}) = 0`]))
    .execute();
  for (const o of orphans) if (!inconsistent.includes(o.id)) inconsistent.push(o.id);

  return {
    ok: mismatches.length === 0 && overdrawn.length === 0 && inconsistent.length === 0 && ledgers.every((l) => l.balanced),
    ledgers,
    accounts: { checked: accounts.length, mismatches },
    limits: { overdrawn },
    pendingTransfers: { checked: pendings.length, inconsistent },
  };
}
