/*
 * A plain in-memory model of the ledger, written from src/ledger/README.md alone. It shares
 * nothing with src/ledger/ledger.ts but the shapes of its inputs and outputs (types only), so
 * the model test compares two independent readings of the same contract.
 *
 * Where README.md leaves a point open, the choice made here is marked "README:".
 */
import type { Counters, NewAccount, TransferInput } from '../../src/ledger/types.ts';

/** README: amounts and counters stop at 2^53 − 1, the largest integer JSON carries exactly. */
const MAX = 2n ** 53n - 1n;
const MAX_TIMEOUT = 2 ** 31 - 1;
const KNOWN_LEDGERS: readonly string[] = ['GBP', 'CREDIT'];

/** 1–128 characters: letters, digits, `: / . _ -`, starting with a letter or digit. */
function validId(id: unknown): id is string {
  if (typeof id !== 'string' || id.length < 1 || id.length > 128) return false;
  if (!/^[A-Za-z0-9]/.test(id)) return false;
  for (const ch of id) if (!/[A-Za-z0-9:/._-]/.test(ch)) return false;
  return true;
}

export interface ModelAccount extends Counters {
  id: string;
  ledger: string;
  kind: string;
  organisationCode: string | null;
  financialYear: string | null;
  debitsMustNotExceedCredits: boolean;
  creditsMustNotExceedDebits: boolean;
  closed: boolean;
}

/** A stored transfer as the model expects it (everything but `seq`). */
export interface ModelTransfer {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: bigint;
  ledger: string;
  code: string;
  linked: boolean;
  pending: boolean;
  postPendingTransfer: boolean;
  voidPendingTransfer: boolean;
  pendingId: string | null;
  timeoutSeconds: number;
  reference: string | null;
  createdAt: string;
  debitAccountAfter: Counters;
  creditAccountAfter: Counters;
}

export type ModelPendingStatus = 'pending' | 'posted' | 'voided' | 'expired';

export interface ModelPending {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: bigint;
  ledger: string;
  code: string;
  expiresAtMs: number | null;
  status: ModelPendingStatus;
}

export type ModelAccountResult = { id: string; status: 'created' | 'exists'; account: ModelAccount } | { id: string; error: string };

export type ModelTransferResult =
  | { id: string; status: 'created' | 'exists'; transfer: ModelTransfer }
  | { id: string; error: string; originalError?: string };

interface State {
  accounts: Map<string, ModelAccount>;
  /** Stored transfers with the request that created them, as given. */
  transfers: Map<string, { request: string; transfer: ModelTransfer }>;
  /** Ids refused because of the ledger's state, with the error. */
  failed: Map<string, string>;
  pendings: Map<string, ModelPending>;
}

/** README: the errors "from `pending_transfer_not_found` down" are recorded as failed. */
const RECORDED_ERRORS = new Set([
  'pending_transfer_not_found',
  'pending_transfer_not_pending',
  'pending_transfer_has_different_debit_account_id',
  'pending_transfer_has_different_credit_account_id',
  'pending_transfer_has_different_ledger',
  'pending_transfer_has_different_code',
  'pending_transfer_already_posted',
  'pending_transfer_already_voided',
  'pending_transfer_expired',
  'pending_transfer_has_different_amount',
  'exceeds_pending_transfer_amount',
  'debit_account_not_found',
  'credit_account_not_found',
  'accounts_must_have_the_same_ledger',
  'transfer_must_have_the_same_ledger_as_accounts',
  'debit_account_closed',
  'credit_account_closed',
  'overflows_debits_pending',
  'overflows_credits_pending',
  'overflows_debits_posted',
  'overflows_credits_posted',
  'overflows_debits',
  'overflows_credits',
  'exceeds_credits',
  'exceeds_debits',
]);

function counters(a: Counters): Counters {
  return {
    debitsPending: a.debitsPending,
    debitsPosted: a.debitsPosted,
    creditsPending: a.creditsPending,
    creditsPosted: a.creditsPosted,
  };
}

/** README: a timeout of 0 means none (types.ts: "0 means never"). */
function hasTimeout(t: TransferInput): boolean {
  return t.timeoutSeconds !== undefined && t.timeoutSeconds !== 0;
}

/**
 * The request "as given", for idempotency. README: an omitted boolean flag is the same as
 * `false`, and an omitted timeout the same as 0; everything else is compared as given
 * (an omitted amount or account id on a post differs from one given explicitly).
 */
function requestKey(t: TransferInput): string {
  return JSON.stringify([
    t.debitAccountId ?? null,
    t.creditAccountId ?? null,
    t.amount === undefined ? null : t.amount.toString(),
    t.ledger ?? null,
    t.code ?? null,
    !!t.linked,
    !!t.pending,
    !!t.postPendingTransfer,
    !!t.voidPendingTransfer,
    t.pendingId ?? null,
    t.timeoutSeconds ?? 0,
    t.reference ?? null,
  ]);
}

export class LedgerModel {
  private s: State = { accounts: new Map(), transfers: new Map(), failed: new Map(), pendings: new Map() };

  account(id: string): ModelAccount | undefined {
    return this.s.accounts.get(id);
  }
  transfer(id: string): ModelTransfer | undefined {
    return this.s.transfers.get(id)?.transfer;
  }
  get pendings(): ReadonlyMap<string, ModelPending> {
    return this.s.pendings;
  }
  get failures(): ReadonlyMap<string, string> {
    return this.s.failed;
  }
  get transferIds(): string[] {
    return [...this.s.transfers.keys()];
  }

  // -------------------------------------------------------------------------------------------
  // Accounts

  createAccounts(inputs: NewAccount[]): ModelAccountResult[] {
    return inputs.map((n) => {
      if (!validId(n.id)) return { id: n.id, error: 'id_invalid' };
      if (!KNOWN_LEDGERS.includes(n.ledger)) return { id: n.id, error: 'ledger_invalid' };
      if (!n.kind) return { id: n.id, error: 'kind_must_not_be_empty' };
      if (n.debitsMustNotExceedCredits && n.creditsMustNotExceedDebits) return { id: n.id, error: 'flags_are_mutually_exclusive' };
      const wanted = {
        ledger: n.ledger,
        kind: n.kind,
        organisationCode: n.organisationCode ?? null,
        financialYear: n.financialYear ?? null,
        debitsMustNotExceedCredits: !!n.debitsMustNotExceedCredits,
        creditsMustNotExceedDebits: !!n.creditsMustNotExceedDebits,
      };
      const found = this.s.accounts.get(n.id);
      if (found) {
        const same = (Object.keys(wanted) as (keyof typeof wanted)[]).every((k) => found[k] === wanted[k]);
        return same ? { id: n.id, status: 'exists', account: { ...found } } : { id: n.id, error: 'exists_with_different_fields' };
      }
      const account: ModelAccount = {
        id: n.id,
        ...wanted,
        closed: false,
        debitsPending: 0n,
        debitsPosted: 0n,
        creditsPending: 0n,
        creditsPosted: 0n,
      };
      this.s.accounts.set(n.id, account);
      return { id: n.id, status: 'created', account: { ...account } };
    });
  }

  /** Lapsed reservations are released first: closing is a write, and a lapse takes effect at the next write. */
  closeAccount(id: string, nowMs: number): string | null {
    this.expire(nowMs);
    const a = this.s.accounts.get(id);
    if (!a) return 'account_not_found';
    if (a.closed) return 'account_already_closed';
    if (a.debitsPending !== 0n || a.creditsPending !== 0n) return 'account_has_pending_transfers';
    a.closed = true;
    return null;
  }

  // -------------------------------------------------------------------------------------------
  // Transfers

  /** Releases every pending transfer due by `nowMs`; returns their ids. */
  expire(nowMs: number): string[] {
    const expired: string[] = [];
    for (const p of this.s.pendings.values()) {
      if (p.status !== 'pending' || p.expiresAtMs === null || p.expiresAtMs > nowMs) continue;
      p.status = 'expired';
      const d = this.s.accounts.get(p.debitAccountId) as ModelAccount;
      const c = this.s.accounts.get(p.creditAccountId) as ModelAccount;
      d.debitsPending -= p.amount;
      c.creditsPending -= p.amount;
      expired.push(p.id);
    }
    return expired;
  }

  createTransfers(inputs: TransferInput[], nowMs: number): { results: ModelTransferResult[]; expired: string[] } {
    const expired = this.expire(nowMs);
    const at = new Date(nowMs).toISOString();
    const results: ModelTransferResult[] = new Array(inputs.length);
    let start = 0;
    while (start < inputs.length) {
      // A chain runs from a linked transfer to the first unlinked one after it.
      let end = start;
      while (end < inputs.length - 1 && inputs[end]?.linked) end++;
      const open = !!inputs[end]?.linked;
      const snapshot = structuredClone(this.s);
      const own: ModelTransferResult[] = [];
      let failedAt = -1;
      for (let i = start; i <= end; i++) {
        const t = inputs[i] as TransferInput;
        if (open && i === end) {
          own.push({ id: t.id, error: 'linked_event_chain_open' });
          failedAt = i;
          break;
        }
        const r = this.applyOne(t, nowMs, at);
        own.push(r);
        if ('error' in r) {
          failedAt = i;
          break;
        }
      }
      if (failedAt < 0) {
        own.forEach((r, k) => {
          results[start + k] = r;
        });
      } else {
        // Nothing of a failed chain is applied.
        this.s = snapshot;
        const failing = own[failedAt - start] as { id: string; error: string };
        for (let i = start; i <= end; i++) {
          const t = inputs[i] as TransferInput;
          if (i === failedAt) {
            results[i] = failing;
            if (RECORDED_ERRORS.has(failing.error)) this.s.failed.set(t.id, failing.error);
          } else if (open && i === end) {
            // README: "that last transfer gets linked_event_chain_open", whatever else failed.
            results[i] = { id: t.id, error: 'linked_event_chain_open' };
          } else {
            results[i] = { id: t.id, error: 'linked_event_failed' };
          }
        }
      }
      start = end + 1;
    }
    return { results, expired };
  }

  private validate(t: TransferInput): string | null {
    if (!validId(t.id)) return 'id_invalid';
    const kinds = [t.pending, t.postPendingTransfer, t.voidPendingTransfer].filter((x) => x === true).length;
    if (kinds > 1) return 'flags_are_mutually_exclusive';
    if (t.postPendingTransfer || t.voidPendingTransfer) {
      if (!validId(t.pendingId)) return 'pending_id_must_not_be_empty';
      if (t.pendingId === t.id) return 'pending_id_must_be_different';
      if (hasTimeout(t)) return 'timeout_reserved_for_pending_transfer';
      if (t.ledger !== undefined && !KNOWN_LEDGERS.includes(t.ledger)) return 'ledger_invalid';
      if (t.amount !== undefined && t.amount < 0n) return 'amount_must_not_be_negative';
      if (t.amount !== undefined && t.amount > MAX) return 'amount_too_large';
    } else {
      if (!t.debitAccountId) return 'debit_account_id_must_not_be_empty';
      if (!t.creditAccountId) return 'credit_account_id_must_not_be_empty';
      if (t.debitAccountId === t.creditAccountId) return 'accounts_must_be_different';
      if (t.pendingId !== undefined && t.pendingId !== '') return 'pending_id_must_be_empty';
      if (!t.pending && hasTimeout(t)) return 'timeout_reserved_for_pending_transfer';
      if (t.ledger === undefined || !KNOWN_LEDGERS.includes(t.ledger)) return 'ledger_invalid';
      if (!t.code) return 'code_must_not_be_empty';
      if (t.amount === undefined || t.amount === 0n) return 'amount_must_not_be_zero';
      if (t.amount < 0n) return 'amount_must_not_be_negative';
      if (t.amount > MAX) return 'amount_too_large';
    }
    const to = t.timeoutSeconds;
    if (to !== undefined && (!Number.isInteger(to) || to < 0 || to > MAX_TIMEOUT)) return 'timeout_invalid';
    if (t.reference !== undefined && t.reference.length > 500) return 'reference_too_long';
    return null;
  }

  private applyOne(t: TransferInput, nowMs: number, at: string): ModelTransferResult {
    const invalid = this.validate(t);
    if (invalid) return { id: t.id, error: invalid };

    const request = requestKey(t);
    const stored = this.s.transfers.get(t.id);
    if (stored) {
      return stored.request === request
        ? { id: t.id, status: 'exists', transfer: stored.transfer }
        : { id: t.id, error: 'exists_with_different_fields' };
    }
    const failed = this.s.failed.get(t.id);
    if (failed) return { id: t.id, error: 'id_already_failed', originalError: failed };

    const resolving = !!(t.postPendingTransfer || t.voidPendingTransfer);
    let debitId: string;
    let creditId: string;
    let ledger: string;
    let code: string;
    let amount: bigint;
    let pending: ModelPending | undefined;
    if (resolving) {
      const pendingId = t.pendingId as string;
      if (!this.s.transfers.has(pendingId)) return { id: t.id, error: 'pending_transfer_not_found' };
      pending = this.s.pendings.get(pendingId);
      if (!pending) return { id: t.id, error: 'pending_transfer_not_pending' };
      if (t.debitAccountId !== undefined && t.debitAccountId !== pending.debitAccountId)
        return { id: t.id, error: 'pending_transfer_has_different_debit_account_id' };
      if (t.creditAccountId !== undefined && t.creditAccountId !== pending.creditAccountId)
        return { id: t.id, error: 'pending_transfer_has_different_credit_account_id' };
      if (t.ledger !== undefined && t.ledger !== pending.ledger) return { id: t.id, error: 'pending_transfer_has_different_ledger' };
      if (t.code !== undefined && t.code !== pending.code) return { id: t.id, error: 'pending_transfer_has_different_code' };
      if (pending.status === 'posted') return { id: t.id, error: 'pending_transfer_already_posted' };
      if (pending.status === 'voided') return { id: t.id, error: 'pending_transfer_already_voided' };
      if (pending.status === 'expired') return { id: t.id, error: 'pending_transfer_expired' };
      if (t.voidPendingTransfer && t.amount !== undefined && t.amount !== pending.amount)
        return { id: t.id, error: 'pending_transfer_has_different_amount' };
      if (t.postPendingTransfer && t.amount !== undefined && t.amount > pending.amount)
        return { id: t.id, error: 'exceeds_pending_transfer_amount' };
      debitId = pending.debitAccountId;
      creditId = pending.creditAccountId;
      ledger = pending.ledger;
      code = pending.code;
      amount = t.postPendingTransfer && t.amount !== undefined ? t.amount : pending.amount;
    } else {
      debitId = t.debitAccountId as string;
      creditId = t.creditAccountId as string;
      ledger = t.ledger as string;
      code = t.code as string;
      amount = t.amount as bigint;
    }

    const debit = this.s.accounts.get(debitId);
    const credit = this.s.accounts.get(creditId);
    if (!debit) return { id: t.id, error: 'debit_account_not_found' };
    if (!credit) return { id: t.id, error: 'credit_account_not_found' };
    if (debit.ledger !== credit.ledger) return { id: t.id, error: 'accounts_must_have_the_same_ledger' };
    if (ledger !== debit.ledger) return { id: t.id, error: 'transfer_must_have_the_same_ledger_as_accounts' };
    if (!t.voidPendingTransfer) {
      if (debit.closed) return { id: t.id, error: 'debit_account_closed' };
      if (credit.closed) return { id: t.id, error: 'credit_account_closed' };
    }

    const d = counters(debit);
    const c = counters(credit);
    if (t.pending) {
      d.debitsPending += amount;
      c.creditsPending += amount;
    } else if (pending) {
      // The reservation is released in full; a post then moves its (possibly smaller) amount.
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
    // Each counter that would pass the limit, pending before posted, debit before credit; then
    // pending + posted.
    const overflows: [boolean, string][] = [
      [d.debitsPending > MAX, 'overflows_debits_pending'],
      [c.creditsPending > MAX, 'overflows_credits_pending'],
      [d.debitsPosted > MAX, 'overflows_debits_posted'],
      [c.creditsPosted > MAX, 'overflows_credits_posted'],
      [d.debitsPending + d.debitsPosted > MAX, 'overflows_debits'],
      [c.creditsPending + c.creditsPosted > MAX, 'overflows_credits'],
    ];
    const overflow = overflows.find(([over]) => over);
    if (overflow) return { id: t.id, error: overflow[1] };
    if (!resolving && debit.debitsMustNotExceedCredits && d.debitsPending + d.debitsPosted > d.creditsPosted)
      return { id: t.id, error: 'exceeds_credits' };
    if (!t.voidPendingTransfer && credit.creditsMustNotExceedDebits && c.creditsPending + c.creditsPosted > c.debitsPosted)
      return { id: t.id, error: 'exceeds_debits' };

    Object.assign(debit, d);
    Object.assign(credit, c);
    if (pending) pending.status = t.postPendingTransfer ? 'posted' : 'voided';
    const transfer: ModelTransfer = {
      id: t.id,
      debitAccountId: debitId,
      creditAccountId: creditId,
      amount,
      ledger,
      code,
      linked: !!t.linked,
      pending: !!t.pending,
      postPendingTransfer: !!t.postPendingTransfer,
      voidPendingTransfer: !!t.voidPendingTransfer,
      pendingId: t.pendingId ?? null,
      timeoutSeconds: t.timeoutSeconds ?? 0,
      reference: t.reference ?? null,
      createdAt: at,
      debitAccountAfter: counters(debit),
      creditAccountAfter: counters(credit),
    };
    this.s.transfers.set(t.id, { request, transfer });
    if (t.pending) {
      const timeout = t.timeoutSeconds ?? 0;
      this.s.pendings.set(t.id, {
        id: t.id,
        debitAccountId: debitId,
        creditAccountId: creditId,
        amount,
        ledger,
        code,
        expiresAtMs: timeout > 0 ? nowMs + timeout * 1000 : null,
        status: 'pending',
      });
    }
    return { id: t.id, status: 'created', transfer };
  }
}
