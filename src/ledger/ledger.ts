import { type Selectable, type SelectQueryBuilder, sql } from 'kysely';
import { noteCausedTransfers } from '../audit/caused.ts';
import { type Db, isPostgres, type Tx } from '../db/database.ts';
import { prepared } from '../db/prepared.ts';
import type { AccountTable, DB, TransferTable } from '../db/schema.ts';
import {
  accountResult,
  type CloseAccountError,
  type CreateAccountResult,
  type Created,
  type CreateTransferResult,
  closeRefusal,
  type Failure,
  flagsOfInput,
  isLedgerId,
  type Known,
  type PendingState,
  runBatch,
} from './batch.ts';
import type { TransferError } from './errors.ts';
import {
  ACCOUNT_FLAGS,
  type Account,
  type LedgerName,
  type NewAccount,
  type PendingStatus,
  TRANSFER_FLAGS,
  type Transfer,
  type TransferInput,
} from './types.ts';

/*
 * The ledger: accounts with four counters and immutable transfers between them, in the manner
 * of TigerBeetle. This file is its storage: it reads the accounts and pending transfers a batch
 * touches (taking their locks), runs the batch through the state machine in ./batch.ts, which
 * decides every result and names every refusal, and writes back what changed. Every operation
 * takes an open transaction, so a business operation and its ledger movements commit or roll
 * back together. The contract of each operation, and each named refusal, is in ./README.md.
 */

export type { CloseAccountError, CreateAccountResult, CreateTransferResult } from './batch.ts';

// ---------------------------------------------------------------------------------------------
// Accounts

export async function createAccounts(trx: Tx, inputs: NewAccount[], now = new Date()): Promise<CreateAccountResult[]> {
  const ids = unique(inputs.map((a) => a.id).filter(isLedgerId));
  const existing = new Map((await loadAccounts(trx, ids, false)).map((a) => [a.id, a]));
  const results: CreateAccountResult[] = [];
  for (const input of inputs) {
    const result = accountResult(input, existing.get(input.id), now);
    if ('status' in result && result.status === 'created') {
      await trx.insertInto('accounts').values(accountRow(result.account)).execute();
      existing.set(result.account.id, result.account);
    }
    results.push(result);
  }
  return results;
}

/** Closes an account: no new transfer may debit or credit it. Voids of its pending transfers still resolve. */
export async function closeAccount(trx: Tx, id: string, now = new Date()): Promise<CloseAccountError | null> {
  await expirePendingTransfers(trx, now);
  const [account] = await loadAccounts(trx, [id], true);
  const refused = closeRefusal(account);
  if (refused || !account) return refused;
  await trx
    .updateTable('accounts')
    .set({ flags: flagsOf(account) | ACCOUNT_FLAGS.closed })
    .where('id', '=', id)
    .execute();
  return null;
}

export async function getAccount(db: Db | Tx, id: string): Promise<Account | undefined> {
  const [account] = await loadAccounts(db, [id], false);
  return account;
}

export async function listAccounts(
  db: Db | Tx,
  filter: { organisationCode?: string; ledger?: LedgerName; financialYear?: string; kind?: string } = {},
): Promise<Account[]> {
  let q = db.selectFrom('accounts').selectAll();
  if (filter.organisationCode) q = q.where('organisation_code', '=', filter.organisationCode);
  if (filter.ledger) q = q.where('ledger', '=', filter.ledger);
  if (filter.financialYear) q = q.where('financial_year', '=', filter.financialYear);
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  const rows = await q.orderBy('id').execute();
  return rows.map(accountFromRow);
}

/** Loads accounts; with `lock`, takes their row locks in id order (PostgreSQL) so writers never deadlock. */
async function loadAccounts(db: Db | Tx, ids: string[], lock: boolean): Promise<Account[]> {
  if (ids.length === 0) return [];
  const { rows } = await (lock ? selectAccountsForUpdate : selectAccounts)(db, ids);
  return rows.map(accountFromRow);
}

const selectAccounts = prepared((db, ids: string[]) => db.selectFrom('accounts').selectAll().where('id', 'in', ids).orderBy('id'));

const selectAccountsForUpdate = prepared((db, ids: string[]) => {
  const q = db.selectFrom('accounts').selectAll().where('id', 'in', ids).orderBy('id');
  return isPostgres(db) ? q.forUpdate() : q;
});

// ---------------------------------------------------------------------------------------------
// Transfers

/**
 * Applies a batch of transfers in order (the state machine is ./batch.ts `runBatch`). Each
 * transfer gets its own result; a linked chain succeeds or fails as a whole. Successful transfers
 * and recorded failures are written in the caller's transaction. Due pending transfers expire first.
 */
export async function createTransfers(trx: Tx, inputs: TransferInput[], now = new Date()): Promise<CreateTransferResult[]> {
  const at = now.toISOString();
  const ids = unique(inputs.map((t) => t.id).filter(isLedgerId));
  const pendingIds = unique(inputs.flatMap((t) => (isLedgerId(t.pendingId) ? [t.pendingId] : [])));

  // Pending transfers named by post/void: their accounts must be locked too. Transfers are
  // immutable, so reading them before taking locks is safe.
  const pendingOriginals =
    pendingIds.length > 0 ? await trx.selectFrom('transfers').selectAll().where('id', 'in', pendingIds).execute() : [];
  const accountIds = unique([
    ...inputs.flatMap((t) => [t.debitAccountId, t.creditAccountId].filter((x): x is string => !!x)),
    ...pendingOriginals.flatMap((t) => [t.debit_account_id, t.credit_account_id]),
  ]);
  // On PostgreSQL, two batches with the same transfer id but no account in common would not
  // wait for each other; lock each id first (in order), so one id has one outcome.
  if (isPostgres(trx) && ids.length > 0) await lockTransferIds(trx, ids);
  let accounts = new Map((await loadAccounts(trx, accountIds, true)).map((a) => [a.id, a]));

  // Read after the locks, so what we see is what committed before us. Due pending transfers
  // lapse first (rarely any: then the accounts are read again).
  let seen = await lookUp(trx, ids, pendingIds, at);
  if (seen.due) {
    await expirePendingTransfers(trx, now);
    accounts = new Map((await loadAccounts(trx, accountIds, true)).map((a) => [a.id, a]));
    seen = await lookUp(trx, ids, pendingIds, at);
  }
  const known = new Map<string, Known>();
  const replayed = [...seen.transfers.keys()];
  const stored = replayed.length > 0 ? await trx.selectFrom('transfers').selectAll().where('id', 'in', replayed).execute() : [];
  for (const r of stored) known.set(r.id, { fingerprint: r.fingerprint, transfer: transferFromRow(r), error: null });
  for (const [id, f] of seen.failures) known.set(id, { fingerprint: f.fingerprint, transfer: null, error: f.error });
  const notPending = new Set(pendingOriginals.map((t) => t.id));
  const pendings = new Map<string, PendingState>();
  for (const o of pendingOriginals) {
    const state = seen.pendings.get(o.id);
    if (!state) continue;
    notPending.delete(o.id);
    pendings.set(o.id, {
      id: o.id,
      debitAccountId: o.debit_account_id,
      creditAccountId: o.credit_account_id,
      amount: BigInt(o.amount),
      ledger: o.ledger as LedgerName,
      code: o.code,
      expiresAt: state.expiresAt,
      status: state.status,
      isNew: false,
      changed: false,
      resolvedBy: state.resolvedBy,
    });
  }

  const { results, created, failures, touched } = runBatch(inputs, { accounts, known, pendings, notPending }, now);

  await writeBatch(trx, { created, failures, touched, accounts, pendings, at });
  noteCausedTransfers(
    trx,
    results.flatMap((r) => ('status' in r && r.status === 'created' ? [{ ...r.transfer, flags: flagsOfInput(r.transfer) }] : [])),
  );
  return results;
}

interface LookUp {
  transfers: Map<string, string>;
  failures: Map<string, { fingerprint: string; error: TransferError }>;
  pendings: Map<string, { status: PendingStatus; expiresAt: string | null; resolvedBy: string | null }>;
  due: boolean;
}

/**
 * One round trip for what a batch must know before it runs: which of its ids exist or failed,
 * the state of the pending transfers it resolves, and whether any pending transfer is due to lapse.
 */
async function lookUp(trx: Tx, ids: string[], pendingIds: string[], at: string): Promise<LookUp> {
  const { rows } = await lookUpQuery(trx, ids, pendingIds, at);
  const out: LookUp = { transfers: new Map(), failures: new Map(), pendings: new Map(), due: false };
  for (const r of rows) {
    if (r.source === 'due') out.due = true;
    else if (r.source === 'transfer') out.transfers.set(r.id, r.a ?? '');
    else if (r.source === 'failure') out.failures.set(r.id, { fingerprint: r.a ?? '', error: r.b as TransferError });
    else out.pendings.set(r.id, { status: r.a as PendingStatus, expiresAt: r.b, resolvedBy: r.c });
  }
  return out;
}

const lockTransferIds = prepared<[string[]], unknown>(
  (_db, ids) =>
    sql`select pg_advisory_xact_lock(hashtextextended(id, 0)) from (select id from unnest(cast(array[${sql.join(ids)}] as text[])) as id order by id) as ordered`,
);

type LookUpRow = { source: string; id: string; a: string | null; b: string | null; c: string | null };

const lookUpQuery = prepared<[string[], string[], string], LookUpRow>((_db, ids, pendingIds, at) => {
  const parts = [
    sql`select 'due' as source, id, null as a, null as b, null as c from pending_transfers where status = 'pending' and expires_at <= ${at}`,
  ];
  if (ids.length > 0) {
    parts.push(sql`select 'transfer', id, fingerprint, null, null from transfers where id in (${sql.join(ids)})`);
    parts.push(sql`select 'failure', id, fingerprint, error, null from transfer_failures where id in (${sql.join(ids)})`);
  }
  if (pendingIds.length > 0) {
    parts.push(sql`select 'pending', id, status, expires_at, resolved_by from pending_transfers where id in (${sql.join(pendingIds)})`);
  }
  return sql<LookUpRow>`${sql.join(parts, sql` union all `)}`;
});

const insertTransfers = prepared((db, rows: ReturnType<typeof transferRow>[]) =>
  db.insertInto('transfers').values(rows).returning(['id', 'seq']),
);

type CounterRow = { id: string; debitsPending: bigint; debitsPosted: bigint; creditsPending: bigint; creditsPosted: bigint };

/** Every touched account's counters in one statement (one CASE per counter), in id order. */
const updateCounters = prepared<[CounterRow[]], unknown>((_db, rows) => {
  const column = (name: string, pick: (r: CounterRow) => bigint) =>
    sql`${sql.ref(name)} = case id ${sql.join(
      rows.map((r) => sql`when ${r.id} then ${pick(r)}`),
      sql` `,
    )} else ${sql.ref(name)} end`;
  return sql`update accounts set ${sql.join([
    column('debits_pending', (r) => r.debitsPending),
    column('debits_posted', (r) => r.debitsPosted),
    column('credits_pending', (r) => r.creditsPending),
    column('credits_posted', (r) => r.creditsPosted),
  ])} where id in (${sql.join(rows.map((r) => r.id))})`;
});

async function writeBatch(
  trx: Tx,
  b: {
    created: Created[];
    failures: Failure[];
    touched: Set<string>;
    accounts: Map<string, Account>;
    pendings: Map<string, PendingState>;
    at: string;
  },
): Promise<void> {
  if (b.created.length > 0 && isPostgres(trx)) {
    // Concurrent PostgreSQL writers would otherwise commit out of `seq` order, and a reader
    // paging by `seq` could pass a transfer before it committed.
    const head = await trx
      .updateTable('ledger_head')
      .set((eb) => ({ seq: eb('seq', '+', BigInt(b.created.length)) }))
      .where('id', '=', 1)
      .returning('seq')
      .executeTakeFirstOrThrow();
    let next = BigInt(head.seq) - BigInt(b.created.length);
    for (const { transfer } of b.created) transfer.seq = ++next;
  }
  for (const chunk of chunks(b.created, 200)) {
    const { rows: seqs } = await insertTransfers(
      trx,
      chunk.map((c) => transferRow(c.transfer, c.fingerprint)),
    );
    const byId = new Map(seqs.map((r) => [r.id, BigInt(r.seq)]));
    for (const { transfer } of chunk) transfer.seq = byId.get(transfer.id) ?? 0n;
  }
  const touched = [...b.touched].sort().map((id) => {
    const a = b.accounts.get(id) as Account;
    return {
      id,
      debitsPending: a.debitsPending,
      debitsPosted: a.debitsPosted,
      creditsPending: a.creditsPending,
      creditsPosted: a.creditsPosted,
    };
  });
  for (const chunk of chunks(touched, 100)) await updateCounters(trx, chunk);
  const fresh = [...b.pendings.values()].filter((p) => p.isNew);
  for (const chunk of chunks(fresh, 200)) {
    await trx
      .insertInto('pending_transfers')
      .values(
        chunk.map((p) => ({
          id: p.id,
          debit_account_id: p.debitAccountId,
          credit_account_id: p.creditAccountId,
          amount: p.amount,
          expires_at: p.expiresAt,
          status: p.status,
          resolved_by: p.resolvedBy,
          resolved_at: p.status === 'pending' ? null : b.at,
        })),
      )
      .execute();
  }
  for (const p of b.pendings.values()) {
    if (p.isNew || !p.changed) continue;
    await trx
      .updateTable('pending_transfers')
      .set({ status: p.status, resolved_by: p.resolvedBy, resolved_at: b.at })
      .where('id', '=', p.id)
      .where('status', '=', 'pending')
      .execute();
  }
  if (b.failures.length > 0) {
    await trx
      .insertInto('transfer_failures')
      .values(b.failures.map((f) => ({ id: f.id, error: f.error, fingerprint: f.fingerprint, created_at: b.at })))
      .execute();
  }
}

/**
 * Lets every pending transfer whose timeout has passed lapse: its amount leaves the pending
 * counters and it can no longer be posted. Runs at the start of every batch of transfers.
 */
export async function expirePendingTransfers(trx: Tx, now = new Date()): Promise<number> {
  let expired = 0;
  for (;;) {
    const n = await expireSome(trx, now);
    expired += n.expired;
    if (n.seen < EXPIRY_BATCH) return expired;
  }
}

const EXPIRY_BATCH = 1000;

async function expireSome(trx: Tx, now: Date): Promise<{ seen: number; expired: number }> {
  const at = now.toISOString();
  const due = await trx
    .selectFrom('pending_transfers')
    .selectAll()
    .where('status', '=', 'pending')
    .where('expires_at', 'is not', null)
    .where('expires_at', '<=', at)
    .orderBy('id')
    .limit(EXPIRY_BATCH)
    .execute();
  let expired = 0;
  for (const p of due) {
    const claimed = await trx
      .updateTable('pending_transfers')
      .set({ status: 'expired', resolved_at: at })
      .where('id', '=', p.id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) continue;
    const amount = BigInt(p.amount);
    await trx
      .updateTable('accounts')
      .set((eb) => ({ debits_pending: eb('debits_pending', '-', amount) }))
      .where('id', '=', p.debit_account_id)
      .execute();
    await trx
      .updateTable('accounts')
      .set((eb) => ({ credits_pending: eb('credits_pending', '-', amount) }))
      .where('id', '=', p.credit_account_id)
      .execute();
    expired++;
  }
  return { seen: due.length, expired };
}

export async function getTransfer(db: Db | Tx, id: string): Promise<Transfer | undefined> {
  const row = await db.selectFrom('transfers').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? transferFromRow(row) : undefined;
}

export async function getPendingStatus(db: Db | Tx, id: string): Promise<PendingStatus | undefined> {
  const row = await db.selectFrom('pending_transfers').select('status').where('id', '=', id).executeTakeFirst();
  return row?.status as PendingStatus | undefined;
}

/** Transfers in ledger order, optionally touching one of `accountIds`, after the cursor `afterSeq`. */
export async function listTransfers(
  db: Db | Tx,
  filter: { accountIds?: string[]; afterSeq?: bigint; limit: number; code?: string },
): Promise<Transfer[]> {
  const ids = filter.accountIds;
  if (ids?.length === 0) return [];
  const page = <Q extends SelectQueryBuilder<DB, 'transfers', object>>(q: Q): Q => {
    let out = q;
    if (filter.code) out = out.where('code', '=', filter.code) as Q;
    if (filter.afterSeq !== undefined) out = out.where('seq', '>', filter.afterSeq) as Q;
    return out.orderBy('seq').limit(filter.limit) as Q;
  };
  let q = db.selectFrom('transfers').selectAll();
  if (ids) {
    // An account's transfers are those it is debited by and those it is credited by: a page of
    // each side from its own index (account, seq), merged, so a page reads at most twice its
    // size however many transfers the account has. (One `debit in … or credit in …` lets
    // PostgreSQL gather and sort all of the account's transfers for every page.)
    const side = (column: 'debit_account_id' | 'credit_account_id') =>
      page(db.selectFrom('transfers').select('seq').where(column, 'in', ids)).as(column === 'debit_account_id' ? 'debits' : 'credits');
    q = q.where(
      'seq',
      'in',
      db
        .selectFrom(side('debit_account_id'))
        .select('seq')
        .union(db.selectFrom(side('credit_account_id')).select('seq')),
    );
  }
  const rows = await page(q).execute();
  return rows.map(transferFromRow);
}

// ---------------------------------------------------------------------------------------------
// Rows

function flagsOf(a: Pick<Account, 'debitsMustNotExceedCredits' | 'creditsMustNotExceedDebits' | 'closed'>): number {
  return (
    (a.debitsMustNotExceedCredits ? ACCOUNT_FLAGS.debitsMustNotExceedCredits : 0) |
    (a.creditsMustNotExceedDebits ? ACCOUNT_FLAGS.creditsMustNotExceedDebits : 0) |
    (a.closed ? ACCOUNT_FLAGS.closed : 0)
  );
}

function accountRow(a: Account) {
  return {
    id: a.id,
    ledger: a.ledger,
    kind: a.kind,
    organisation_code: a.organisationCode,
    financial_year: a.financialYear,
    flags: flagsOf(a),
    debits_pending: a.debitsPending,
    debits_posted: a.debitsPosted,
    credits_pending: a.creditsPending,
    credits_posted: a.creditsPosted,
    created_at: a.createdAt,
  };
}

export function accountFromRow(r: Selectable<AccountTable>): Account {
  const flags = Number(r.flags);
  return {
    id: r.id,
    ledger: r.ledger as LedgerName,
    kind: r.kind,
    organisationCode: r.organisation_code,
    financialYear: r.financial_year,
    debitsMustNotExceedCredits: (flags & ACCOUNT_FLAGS.debitsMustNotExceedCredits) !== 0,
    creditsMustNotExceedDebits: (flags & ACCOUNT_FLAGS.creditsMustNotExceedDebits) !== 0,
    closed: (flags & ACCOUNT_FLAGS.closed) !== 0,
    debitsPending: BigInt(r.debits_pending),
    debitsPosted: BigInt(r.debits_posted),
    creditsPending: BigInt(r.credits_pending),
    creditsPosted: BigInt(r.credits_posted),
    createdAt: r.created_at,
  };
}

function transferRow(t: Transfer, fingerprint: string) {
  return {
    // 0n: not yet assigned (SQLite assigns it on insert).
    ...(t.seq > 0n ? { seq: t.seq } : {}),
    id: t.id,
    debit_account_id: t.debitAccountId,
    credit_account_id: t.creditAccountId,
    amount: t.amount,
    ledger: t.ledger,
    code: t.code,
    flags: flagsOfInput(t),
    pending_id: t.pendingId,
    timeout_seconds: t.timeoutSeconds,
    reference: t.reference,
    fingerprint,
    created_at: t.createdAt,
    debit_account_debits_pending: t.debitAccountAfter.debitsPending,
    debit_account_debits_posted: t.debitAccountAfter.debitsPosted,
    debit_account_credits_pending: t.debitAccountAfter.creditsPending,
    debit_account_credits_posted: t.debitAccountAfter.creditsPosted,
    credit_account_debits_pending: t.creditAccountAfter.debitsPending,
    credit_account_debits_posted: t.creditAccountAfter.debitsPosted,
    credit_account_credits_pending: t.creditAccountAfter.creditsPending,
    credit_account_credits_posted: t.creditAccountAfter.creditsPosted,
  };
}

export function transferFromRow(r: Selectable<TransferTable>): Transfer {
  const flags = Number(r.flags);
  return {
    seq: BigInt(r.seq),
    id: r.id,
    debitAccountId: r.debit_account_id,
    creditAccountId: r.credit_account_id,
    amount: BigInt(r.amount),
    ledger: r.ledger as LedgerName,
    code: r.code,
    linked: (flags & TRANSFER_FLAGS.linked) !== 0,
    pending: (flags & TRANSFER_FLAGS.pending) !== 0,
    postPendingTransfer: (flags & TRANSFER_FLAGS.postPendingTransfer) !== 0,
    voidPendingTransfer: (flags & TRANSFER_FLAGS.voidPendingTransfer) !== 0,
    pendingId: r.pending_id,
    timeoutSeconds: Number(r.timeout_seconds),
    reference: r.reference,
    createdAt: r.created_at,
    debitAccountAfter: {
      debitsPending: BigInt(r.debit_account_debits_pending),
      debitsPosted: BigInt(r.debit_account_debits_posted),
      creditsPending: BigInt(r.debit_account_credits_pending),
      creditsPosted: BigInt(r.debit_account_credits_posted),
    },
    creditAccountAfter: {
      debitsPending: BigInt(r.credit_account_debits_pending),
      debitsPosted: BigInt(r.credit_account_debits_posted),
      creditsPending: BigInt(r.credit_account_credits_pending),
      creditsPosted: BigInt(r.credit_account_credits_posted),
    },
  };
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function* chunks<T>(xs: T[], size: number): Generator<T[]> {
  for (let i = 0; i < xs.length; i += size) yield xs.slice(i, i + size);
}
