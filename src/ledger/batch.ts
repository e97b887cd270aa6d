import { createHash } from 'node:crypto';
import { type CreateAccountError, STATE_ERRORS, type TransferError } from './errors.ts';
import {
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
 * The ledger's state machine, with no storage: given the accounts and pending transfers a batch
 * touches, what each request in the batch does to them and the one result it gets. ./ledger.ts
 * reads that state from the database, runs the batch here and writes back what changed.
 *
 * The rule, in the users' words (and TigerBeetle's, whose contract this keeps: ./README.md):
 * **every movement is one transfer between two accounts of the same unit, and a transfer the
 * ledger refuses is refused by name, moves nothing, and stays refused.** Transfers apply in the
 * order given; each sees the effect of the ones before it. A linked chain (each member but the
 * last `linked`) succeeds or fails whole. Checks run in a fixed order and the first that fails is
 * named: the request itself, then its id (a replay, or an id that already failed), then the
 * pending transfer it resolves, then the two accounts (found, same unit, open), then the counters
 * (none past 2^53 − 1) and the accounts' limits (`debitsMustNotExceedCredits`: an account may not
 * owe; `creditsMustNotExceedDebits`: it may not be owed). A refusal that depends on the ledger's
 * state (`STATE_ERRORS`) is recorded, so retrying its id later gets `id_already_failed`.
 */

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:/._-]{0,127}$/;
const MAX_REFERENCE = 500;

/** Whether `id` is one the ledger takes: 1–128 letters, digits, `: / . _ -`, starting with a letter or digit. */
export function isLedgerId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id);
}

export type CreateAccountResult =
  | { id: string; status: 'created' | 'exists'; account: Account }
  | { id: string; error: CreateAccountError };

export type CreateTransferResult =
  | { id: string; status: 'created' | 'exists'; transfer: Transfer }
  | { id: string; error: TransferError; originalError?: TransferError };

// ---------------------------------------------------------------------------------------------
// Accounts

/**
 * What creating `input` does, given the account already stored with its id (if any): a new
 * account with every counter at zero (`created`; the caller stores it), the stored one (`exists`),
 * or the named error.
 */
export function accountResult(input: NewAccount, found: Account | undefined, now: Date): CreateAccountResult {
  const error = validateNewAccount(input);
  if (error) return { id: input.id, error };
  if (found) {
    return sameAccount(found, input)
      ? { id: input.id, status: 'exists', account: found }
      : { id: input.id, error: 'exists_with_different_fields' };
  }
  return {
    id: input.id,
    status: 'created',
    account: {
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
    },
  };
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

/** Why `account` may not be closed, or null if it may: only an open account with nothing pending closes. */
export function closeRefusal(account: Account | undefined): CloseAccountError | null {
  if (!account) return 'account_not_found';
  if (account.closed) return 'account_already_closed';
  if (account.debitsPending !== 0n || account.creditsPending !== 0n) return 'account_has_pending_transfers';
  return null;
}

// ---------------------------------------------------------------------------------------------
// Transfers

/** A pending transfer as a batch sees it: its reservation and whether it is still pending. */
export interface PendingState {
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

/** What is already known of a transfer id: the request it was (its fingerprint), and its transfer or its recorded error. */
export interface Known {
  fingerprint: string;
  transfer: Transfer | null;
  error: TransferError | null;
}

export interface Created {
  transfer: Transfer;
  /** Of the request as given: post and void may leave out fields they take from the pending transfer. */
  fingerprint: string;
}

/** A refusal that depends on the ledger's state, to be recorded against its id. */
export interface Failure {
  id: string;
  error: TransferError;
  fingerprint: string;
}

/**
 * The state a batch runs against, read before it starts; the batch changes it in place (the
 * accounts' counters, the pending transfers, what is known of each id).
 */
export interface LedgerState {
  accounts: Map<string, Account>;
  known: Map<string, Known>;
  pendings: Map<string, PendingState>;
  /** Ids of stored transfers that are not pending transfers. */
  notPending: Set<string>;
}

/** What a batch did: one result per request, and what the caller must write. */
export interface BatchOutcome {
  results: CreateTransferResult[];
  created: Created[];
  failures: Failure[];
  /** Ids of the accounts whose counters changed. */
  touched: Set<string>;
}

interface BatchState extends LedgerState {
  touched: Set<string>;
  created: Created[];
  undo: (() => void)[];
  at: string;
  now: Date;
}

/**
 * Runs a batch of transfers against `state` at `now` (pending transfers due by then must already
 * have lapsed). Each request gets one result; a linked chain succeeds or fails whole, and a
 * failed chain leaves no trace in `state`.
 */
export function runBatch(inputs: TransferInput[], state: LedgerState, now: Date): BatchOutcome {
  const s: BatchState = { ...state, touched: new Set(), created: [], undo: [], at: now.toISOString(), now };
  const failures: Failure[] = [];
  const results: CreateTransferResult[] = new Array(inputs.length);

  let chainStart = 0;
  while (chainStart < inputs.length) {
    let chainEnd = chainStart;
    while (chainEnd < inputs.length - 1 && inputs[chainEnd]?.linked) chainEnd++;
    const chain = inputs.slice(chainStart, chainEnd + 1);
    const chainOpen = chain[chain.length - 1]?.linked === true;

    // Undo log: a failed chain leaves no trace in the batch state.
    s.undo = [];
    const chainResults: CreateTransferResult[] = [];
    let failedAt = -1;
    for (let i = 0; i < chain.length; i++) {
      const input = chain[i] as TransferInput;
      if (chainOpen && i === chain.length - 1) {
        chainResults.push({ id: input.id, error: 'linked_event_chain_open' });
        failedAt = i;
        break;
      }
      const result = applyTransfer(input, s);
      chainResults.push(result);
      if ('error' in result) {
        failedAt = i;
        break;
      }
    }
    if (failedAt >= 0) {
      for (let k = s.undo.length - 1; k >= 0; k--) s.undo[k]?.();
      const failing = chainResults[failedAt] as { id: string; error: TransferError };
      for (let i = 0; i < chain.length; i++) {
        const input = chain[i] as TransferInput;
        if (i === failedAt) {
          results[chainStart + i] = failing;
          if (STATE_ERRORS.has(failing.error)) {
            const fingerprint = fingerprintOf(input);
            failures.push({ id: input.id, error: failing.error, fingerprint });
            s.known.set(input.id, { fingerprint, transfer: null, error: failing.error });
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
  return { results, created: s.created, failures, touched: s.touched };
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
export function fingerprintOf(t: TransferInput): string {
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
