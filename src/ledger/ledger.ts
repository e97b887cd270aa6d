import { createHash } from 'node:crypto';
import { type Selectable, sql } from 'kysely';
import { noteCausedTransfers } from '../audit/caused.ts';
import { type Db, isPostgres, type Tx } from '../db/database.ts';
import { prepared } from '../db/prepared.ts';
import type { AccountTable, TransferTable } from '../db/schema.ts';
import { type CreateAccountError, STATE_ERRORS, type TransferError } from './errors.ts';
import {
  ACCOUNT_FLAGS,
  type Account,
  type Counters,
  LEDGERS,
  type LedgerName,
  MAX_AMOUNT,
  type NewAccount,
  type PendingStatus,
  TRANSFER_FLAGS,
  type Transfer,
  type TransferInput,
} from './types.ts';

/*
 * The ledger: accounts with four counters and immutable transfers between them, in the manner
 * of TigerBeetle. Every operation takes an open transaction, so a business operation and its
 * ledger movements commit or roll back together. The contract of each operation, and each
 * named refusal, is in ./README.md.
 */

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:/._-]{0,127}$/;
const MAX_REFERENCE = 500;

export type CreateAccountResult =
  | { id: string; status: 'created' | 'exists'; account: Account }
  | { id: string; error: CreateAccountError };

export type CreateTransferResult =
  | { id: string; status: 'created' | 'exists'; transfer: Transfer }
  | { id: string; error: TransferError; originalError?: TransferError };

// ---------------------------------------------------------------------------------------------
// Accounts

export async function createAccounts(trx: Tx, inputs: NewAccount[], now = new Date()): Promise<CreateAccountResult[]> {
  const ids = unique(inputs.map((a) => a.id).filter((id) => ID_PATTERN.test(id)));
  const existing = new Map((await loadAccounts(trx, ids, false)).map((a) => [a.id, a]));
  const results: CreateAccountResult[] = [];
  for (const input of inputs) {
    const error = validateNewAccount(input);
    if (error) {
      results.push({ id: input.id, error });
      continue;
    }
    const found = existing.get(input.id);
    if (found) {
      results.push(
        sameAccount(found, input)
          ? { id: input.id, status: 'exists', account: found }
          : { id: input.id, error: 'exists_with_different_fields' },
      );
      continue;
    }
    const account: Account = {
      id: input.id,
      ledger: input.ledger,
      kind: input.kind,
      organisationCode: input.organisationCode ?? null,
      financialYear: input.financialYear ?? null,
      debitsMustNotExceedCredits: input.debitsMustNotExceedCredits ?? false,
      creditsMustNotExceedDebits: input.creditsMustNotExceedDebits ?? false,
      closed: false,
      debitsPending: 0n,
      debitsPosted: 0n,
      creditsPending: 0n,
      creditsPosted: 0n,
      createdAt: now.toISOString(),
    };
    await trx.insertInto('accounts').values(accountRow(account)).execute();
    existing.set(account.id, account);
    results.push({ id: input.id, status: 'created', account });
  }
  return results;
}

function validateNewAccount(a: NewAccount): CreateAccountError | null {
  if (!ID_PATTERN.test(a.id)) return 'id_invalid';
  if (!LEDGERS.includes(a.ledger)) return 'ledger_invalid';
  if (!a.kind) return 'kind_must_not_be_empty';
  if (a.debitsMustNotExceedCredits && a.creditsMustNotExceedDebits) return 'flags_are_mutually_exclusive';
  return null;
}

function sameAccount(a: Account, n: NewAccount): boolean {
  return (
    a.ledger === n.ledger &&
    a.kind === n.kind &&
    a.organisationCode === (n.organisationCode ?? null) &&
    a.financialYear === (n.financialYear ?? null) &&
    a.debitsMustNotExceedCredits === (n.debitsMustNotExceedCredits ?? false) &&
    a.creditsMustNotExceedDebits === (n.creditsMustNotExceedDebits ?? false)
  );
}

export type CloseAccountError = 'account_not_found' | 'account_already_closed' | 'account_has_pending_transfers';

/** Closes an account: no new transfer may debit or credit it. Voids of its pending transfers still resolve. */
export async function closeAccount(trx: Tx, id: string, now = new Date()): Promise<CloseAccountError | null> {
  await expirePendingTransfers(trx, now);
  const [account] = await loadAccounts(trx, [id], true);
  if (!account) return 'account_not_found';
  if (account.closed) return 'account_already_closed';
  if (account.debitsPending !== 0n || account.creditsPending !== 0n) return 'account_has_pending_transfers';
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

interface PendingState {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: bigint;
  ledger: LedgerName;
  code: string;
  expiresAt: string | null;
  status: PendingStatus;
  /** Whether this batch created or changed it, and so must write it. */
  isNew: boolean;
  changed: boolean;
  resolvedBy: string | null;
}

interface Known {
  fingerprint: string;
  transfer: Transfer | null;
  error: TransferError | null;
}

/**
 * Applies a batch of transfers in order. Each transfer gets its own result; a linked chain
 * succeeds or fails as a whole. Successful transfers and recorded failures are written in the
 * caller's transaction. Due pending transfers expire first.
 */
export async function createTransfers(trx: Tx, inputs: TransferInput[], now = new Date()): Promise<CreateTransferResult[]> {
  const at = now.toISOString();
  const ids = unique(inputs.map((t) => t.id).filter((id) => typeof id === 'string' && ID_PATTERN.test(id)));
  const pendingIds = unique(inputs.flatMap((t) => (t.pendingId && ID_PATTERN.test(t.pendingId) ? [t.pendingId] : [])));

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

  const touched = new Set<string>();
  const created: Created[] = [];
  const failures: { id: string; error: TransferError; fingerprint: string }[] = [];
  const results: CreateTransferResult[] = new Array(inputs.length);

  let chainStart = 0;
  while (chainStart < inputs.length) {
    let chainEnd = chainStart;
    while (chainEnd < inputs.length - 1 && inputs[chainEnd]?.linked) chainEnd++;
    const chain = inputs.slice(chainStart, chainEnd + 1);
    const chainOpen = chain[chain.length - 1]?.linked === true;

    // Undo log: a failed chain leaves no trace in the batch state.
    const undo: (() => void)[] = [];
    const chainResults: CreateTransferResult[] = [];
    let failedAt = -1;
    for (let i = 0; i < chain.length; i++) {
      const input = chain[i] as TransferInput;
      if (chainOpen && i === chain.length - 1) {
        chainResults.push({ id: input.id, error: 'linked_event_chain_open' });
        failedAt = i;
        break;
      }
      const result = applyTransfer(input, { accounts, known, pendings, notPending, touched, created, undo, at, now });
      chainResults.push(result);
      if ('error' in result) {
        failedAt = i;
        break;
      }
    }
    if (failedAt >= 0) {
      for (let k = undo.length - 1; k >= 0; k--) undo[k]?.();
      const failing = chainResults[failedAt] as { id: string; error: TransferError };
      for (let i = 0; i < chain.length; i++) {
        const input = chain[i] as TransferInput;
        if (i === failedAt) {
          results[chainStart + i] = failing;
          if (STATE_ERRORS.has(failing.error)) {
            const fingerprint = fingerprintOf(input);
            failures.push({ id: input.id, error: failing.error, fingerprint });
            known.set(input.id, { fingerprint, transfer: null, error: failing.error });
          }
        } else if (chainOpen && i === chain.length - 1) {
          results[chainStart + i] = { id: input.id, error: 'linked_event_chain_open' };
        } else {
          results[chainStart + i] = { id: input.id, error: 'linked_event_failed' };
        }
      }
    } else {
      chainResults.forEach((r, i) => {
        results[chainStart + i] = r;
      });
    }
    chainStart = chainEnd + 1;
  }

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

interface Created {
  transfer: Transfer;
  /** Of the request as given: post and void may leave out fields they take from the pending transfer. */
  fingerprint: string;
}

interface BatchState {
  accounts: Map<string, Account>;
  known: Map<string, Known>;
  pendings: Map<string, PendingState>;
  /** Ids of stored transfers that are not pending transfers. */
  notPending: Set<string>;
  touched: Set<string>;
  created: Created[];
  undo: (() => void)[];
  at: string;
  now: Date;
}

function applyTransfer(t: TransferInput, s: BatchState): CreateTransferResult {
  const invalid = validateTransfer(t);
  if (invalid) return { id: t.id, error: invalid };

  const fingerprint = fingerprintOf(t);
  const prior = s.known.get(t.id);
  if (prior) {
    if (prior.error) return { id: t.id, error: 'id_already_failed', originalError: prior.error };
    if (prior.fingerprint !== fingerprint || !prior.transfer) return { id: t.id, error: 'exists_with_different_fields' };
    return { id: t.id, status: 'exists', transfer: prior.transfer };
  }

  const resolving = t.postPendingTransfer || t.voidPendingTransfer;
  let debitId: string;
  let creditId: string;
  let ledger: LedgerName;
  let code: string;
  let amount: bigint;
  let pending: PendingState | undefined;

  if (resolving) {
    pending = s.pendings.get(t.pendingId as string);
    if (!pending) {
      return {
        id: t.id,
        error:
          s.notPending.has(t.pendingId as string) || s.known.get(t.pendingId as string)?.transfer
            ? 'pending_transfer_not_pending'
            : 'pending_transfer_not_found',
      };
    }
    if (t.debitAccountId && t.debitAccountId !== pending.debitAccountId)
      return { id: t.id, error: 'pending_transfer_has_different_debit_account_id' };
    if (t.creditAccountId && t.creditAccountId !== pending.creditAccountId)
      return { id: t.id, error: 'pending_transfer_has_different_credit_account_id' };
    if (t.ledger && t.ledger !== pending.ledger) return { id: t.id, error: 'pending_transfer_has_different_ledger' };
    if (t.code && t.code !== pending.code) return { id: t.id, error: 'pending_transfer_has_different_code' };
    if (pending.status === 'posted') return { id: t.id, error: 'pending_transfer_already_posted' };
    if (pending.status === 'voided') return { id: t.id, error: 'pending_transfer_already_voided' };
    if (pending.status === 'expired' || (pending.expiresAt !== null && pending.expiresAt <= s.at)) {
      return { id: t.id, error: 'pending_transfer_expired' };
    }
    if (t.voidPendingTransfer && t.amount !== undefined && t.amount !== pending.amount)
      return { id: t.id, error: 'pending_transfer_has_different_amount' };
    if (t.postPendingTransfer && t.amount !== undefined && t.amount > pending.amount)
      return { id: t.id, error: 'exceeds_pending_transfer_amount' };
    debitId = pending.debitAccountId;
    creditId = pending.creditAccountId;
    ledger = pending.ledger;
    code = pending.code;
    amount = t.voidPendingTransfer ? pending.amount : (t.amount ?? pending.amount);
  } else {
    debitId = t.debitAccountId as string;
    creditId = t.creditAccountId as string;
    ledger = t.ledger as LedgerName;
    code = t.code as string;
    amount = t.amount as bigint;
  }

  const debit = s.accounts.get(debitId);
  const credit = s.accounts.get(creditId);
  if (!debit) return { id: t.id, error: 'debit_account_not_found' };
  if (!credit) return { id: t.id, error: 'credit_account_not_found' };
  if (!resolving) {
    if (debit.ledger !== credit.ledger) return { id: t.id, error: 'accounts_must_have_the_same_ledger' };
    if (ledger !== debit.ledger) return { id: t.id, error: 'transfer_must_have_the_same_ledger_as_accounts' };
  }
  if (!t.voidPendingTransfer) {
    if (debit.closed) return { id: t.id, error: 'debit_account_closed' };
    if (credit.closed) return { id: t.id, error: 'credit_account_closed' };
  }

  // The counter changes, then the checks against them.
  const before = { debit: countersOf(debit), credit: countersOf(credit) };
  const d = { ...before.debit };
  const c = { ...before.credit };
  if (t.pending) {
    d.debitsPending += amount;
    c.creditsPending += amount;
  } else if (resolving && pending) {
    d.debitsPending -= pending.amount;
    c.creditsPending -= pending.amount;
    if (t.postPendingTransfer) {
      d.debitsPosted += amount;
      c.creditsPosted += amount;
    }
  } else {
    d.debitsPosted += amount;
    c.creditsPosted += amount;
  }
  const overflow = overflowOf(d, c);
  if (overflow) return { id: t.id, error: overflow };
  if (!resolving) {
    if (debit.debitsMustNotExceedCredits && d.debitsPending + d.debitsPosted > d.creditsPosted)
      return { id: t.id, error: 'exceeds_credits' };
    if (credit.creditsMustNotExceedDebits && c.creditsPending + c.creditsPosted > c.debitsPosted)
      return { id: t.id, error: 'exceeds_debits' };
  }

  // Apply, remembering how to undo it if the chain fails later.
  Object.assign(debit, d);
  Object.assign(credit, c);
  const touchedBefore = [s.touched.has(debit.id), s.touched.has(credit.id)];
  s.touched.add(debit.id);
  s.touched.add(credit.id);
  s.undo.push(() => {
    Object.assign(debit, before.debit);
    Object.assign(credit, before.credit);
    if (!touchedBefore[0]) s.touched.delete(debit.id);
    if (!touchedBefore[1]) s.touched.delete(credit.id);
  });

  if (resolving && pending) {
    const prev = { status: pending.status, changed: pending.changed, resolvedBy: pending.resolvedBy };
    const p = pending;
    p.status = t.postPendingTransfer ? 'posted' : 'voided';
    p.changed = true;
    p.resolvedBy = t.id;
    s.undo.push(() => Object.assign(p, prev));
  }

  const transfer: Transfer = {
    seq: 0n,
    id: t.id,
    debitAccountId: debitId,
    creditAccountId: creditId,
    amount,
    ledger,
    code,
    linked: t.linked ?? false,
    pending: t.pending ?? false,
    postPendingTransfer: t.postPendingTransfer ?? false,
    voidPendingTransfer: t.voidPendingTransfer ?? false,
    pendingId: t.pendingId ?? null,
    timeoutSeconds: t.timeoutSeconds ?? 0,
    reference: t.reference ?? null,
    createdAt: s.at,
    debitAccountAfter: countersOf(debit),
    creditAccountAfter: countersOf(credit),
  };
  s.created.push({ transfer, fingerprint });
  s.known.set(t.id, { fingerprint, transfer, error: null });
  s.undo.push(() => {
    s.created.pop();
    s.known.delete(t.id);
  });

  if (t.pending) {
    const expiresAt = transfer.timeoutSeconds > 0 ? new Date(s.now.getTime() + transfer.timeoutSeconds * 1000).toISOString() : null;
    s.pendings.set(t.id, {
      id: t.id,
      debitAccountId: debitId,
      creditAccountId: creditId,
      amount,
      ledger,
      code,
      expiresAt,
      status: 'pending',
      isNew: true,
      changed: true,
      resolvedBy: null,
    });
    s.undo.push(() => s.pendings.delete(t.id));
  }
  return { id: t.id, status: 'created', transfer };
}

/**
 * No counter may pass MAX_AMOUNT (2^53 − 1), nor may an account's pending + posted debits or
 * credits: each in TigerBeetle's order, the first that would is named.
 */
function overflowOf(d: Counters, c: Counters): TransferError | null {
  if (d.debitsPending > MAX_AMOUNT) return 'overflows_debits_pending';
  if (c.creditsPending > MAX_AMOUNT) return 'overflows_credits_pending';
  if (d.debitsPosted > MAX_AMOUNT) return 'overflows_debits_posted';
  if (c.creditsPosted > MAX_AMOUNT) return 'overflows_credits_posted';
  if (d.debitsPending + d.debitsPosted > MAX_AMOUNT) return 'overflows_debits';
  if (c.creditsPending + c.creditsPosted > MAX_AMOUNT) return 'overflows_credits';
  return null;
}

/** Checks of the request alone, in a fixed order (the first that fails is reported). */
function validateTransfer(t: TransferInput): TransferError | null {
  if (typeof t.id !== 'string' || !ID_PATTERN.test(t.id)) return 'id_invalid';
  const kinds = [t.pending, t.postPendingTransfer, t.voidPendingTransfer].filter(Boolean).length;
  if (kinds > 1) return 'flags_are_mutually_exclusive';
  const resolving = t.postPendingTransfer || t.voidPendingTransfer;
  if (resolving) {
    if (!t.pendingId) return 'pending_id_must_not_be_empty';
    if (!ID_PATTERN.test(t.pendingId)) return 'pending_id_must_not_be_empty';
    if (t.pendingId === t.id) return 'pending_id_must_be_different';
    if (t.timeoutSeconds) return 'timeout_reserved_for_pending_transfer';
    if (t.ledger !== undefined && !LEDGERS.includes(t.ledger)) return 'ledger_invalid';
    if (t.amount !== undefined) {
      if (t.amount < 0n) return 'amount_must_not_be_negative';
      if (t.amount > MAX_AMOUNT) return 'amount_too_large';
    }
  } else {
    if (!t.debitAccountId) return 'debit_account_id_must_not_be_empty';
    if (!t.creditAccountId) return 'credit_account_id_must_not_be_empty';
    if (t.debitAccountId === t.creditAccountId) return 'accounts_must_be_different';
    if (t.pendingId) return 'pending_id_must_be_empty';
    if (t.timeoutSeconds && !t.pending) return 'timeout_reserved_for_pending_transfer';
    if (t.ledger === undefined || !LEDGERS.includes(t.ledger)) return 'ledger_invalid';
    if (!t.code) return 'code_must_not_be_empty';
    if (t.amount === undefined || t.amount === 0n) return 'amount_must_not_be_zero';
    if (t.amount < 0n) return 'amount_must_not_be_negative';
    if (t.amount > MAX_AMOUNT) return 'amount_too_large';
  }
  if (t.timeoutSeconds !== undefined && (!Number.isSafeInteger(t.timeoutSeconds) || t.timeoutSeconds < 0 || t.timeoutSeconds > 2 ** 31 - 1))
    return 'timeout_invalid';
  if (t.reference !== undefined && t.reference.length > MAX_REFERENCE) return 'reference_too_long';
  return null;
}

/** The request as given, so a replay can be told apart from a different request with the same id. */
function fingerprintOf(t: TransferInput): string {
  const canonical = JSON.stringify([
    t.debitAccountId ?? null,
    t.creditAccountId ?? null,
    t.amount === undefined ? null : t.amount.toString(),
    t.ledger ?? null,
    t.code ?? null,
    flagsOfInput(t),
    t.pendingId ?? null,
    t.timeoutSeconds ?? 0,
    t.reference ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('base64url');
}

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
    failures: { id: string; error: TransferError; fingerprint: string }[];
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
  let q = db.selectFrom('transfers').selectAll();
  const ids = filter.accountIds;
  if (ids) {
    if (ids.length === 0) return [];
    q = q.where((eb) => eb.or([eb('debit_account_id', 'in', ids), eb('credit_account_id', 'in', ids)]));
  }
  if (filter.code) q = q.where('code', '=', filter.code);
  if (filter.afterSeq !== undefined) q = q.where('seq', '>', filter.afterSeq);
  const rows = await q.orderBy('seq').limit(filter.limit).execute();
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

/** The flags column stored for a transfer (the audit entry that records it keeps the same number). */
export function flagsOfInput(t: {
  linked?: boolean;
  pending?: boolean;
  postPendingTransfer?: boolean;
  voidPendingTransfer?: boolean;
}): number {
  return (
    (t.linked ? TRANSFER_FLAGS.linked : 0) |
    (t.pending ? TRANSFER_FLAGS.pending : 0) |
    (t.postPendingTransfer ? TRANSFER_FLAGS.postPendingTransfer : 0) |
    (t.voidPendingTransfer ? TRANSFER_FLAGS.voidPendingTransfer : 0)
  );
}

export function countersOf(a: Counters): Counters {
  return {
    debitsPending: a.debitsPending,
    debitsPosted: a.debitsPosted,
    creditsPending: a.creditsPending,
    creditsPosted: a.creditsPosted,
  };
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
