/** The units the ledger keeps. Each transfer moves one unit between two accounts of that unit. */
export const LEDGERS = ['GBP', 'CREDIT'] as const;
export type LedgerName = (typeof LEDGERS)[number];

export interface Counters {
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
}

export interface Account extends Counters {
  id: string;
  ledger: LedgerName;
  /** What the account is for, in the product's words: `fund`, `department`, `exchequer`, ... */
  kind: string;
  organisationCode: string | null;
  financialYear: string | null;
  /** The account may never owe: debits (posted + pending) never exceed posted credits. */
  debitsMustNotExceedCredits: boolean;
  /** The account may never be owed: credits (posted + pending) never exceed posted debits. */
  creditsMustNotExceedDebits: boolean;
  closed: boolean;
  createdAt: string;
}

export interface NewAccount {
  id: string;
  ledger: LedgerName;
  kind: string;
  organisationCode?: string | null;
  financialYear?: string | null;
  debitsMustNotExceedCredits?: boolean;
  creditsMustNotExceedDebits?: boolean;
}

export interface TransferInput {
  /** The client's idempotency key: the same id with the same fields always gives the same result. */
  id: string;
  /** Optional on post/void (taken from the pending transfer); required otherwise. */
  debitAccountId?: string;
  creditAccountId?: string;
  /** Required and positive for single and pending transfers; on post, omitted means in full. */
  amount?: bigint;
  ledger?: LedgerName;
  /** What the movement is, in the product's words: `contribution`, `budget`, `commitment`, ... */
  code?: string;
  /** This transfer succeeds only if the next one in the batch does (a chain ends at the first unlinked). */
  linked?: boolean;
  /** Reserve the amount (pending counters) instead of moving it. */
  pending?: boolean;
  postPendingTransfer?: boolean;
  voidPendingTransfer?: boolean;
  pendingId?: string;
  /** Pending only: seconds after which the reservation lapses by itself. 0 means never. */
  timeoutSeconds?: number;
  /** Free text that ties the movement to its business record (case id, year, reason). */
  reference?: string;
}

export interface Transfer {
  seq: bigint;
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: bigint;
  ledger: LedgerName;
  code: string;
  linked: boolean;
  pending: boolean;
  postPendingTransfer: boolean;
  voidPendingTransfer: boolean;
  pendingId: string | null;
  timeoutSeconds: number;
  reference: string | null;
  createdAt: string;
  /** Both accounts' counters just after this transfer applied. */
  debitAccountAfter: Counters;
  creditAccountAfter: Counters;
}

export type PendingStatus = 'pending' | 'posted' | 'voided' | 'expired';

export const ACCOUNT_FLAGS = {
  debitsMustNotExceedCredits: 1,
  creditsMustNotExceedDebits: 2,
  closed: 4,
} as const;

export const TRANSFER_FLAGS = {
  linked: 1,
  pending: 2,
  postPendingTransfer: 4,
  voidPendingTransfer: 8,
} as const;

/**
 * The largest amount a transfer may carry and the largest any counter (or pending + posted) may
 * reach: 2^53 − 1, the largest integer JSON carries exactly (£90,071,992,547,409.91). The API
 * promises money as safe integers, so the ledger refuses a transfer that would pass it
 * (`amount_too_large`, `overflows_*`), and every stored amount and counter can always be read out.
 */
export const MAX_AMOUNT = BigInt(Number.MAX_SAFE_INTEGER);

/** An account's posted balance from its holder's side: credits less debits. */
export function postedBalance(c: Counters): bigint {
  return c.creditsPosted - c.debitsPosted;
}

/** What an account could still pay out: posted credits less posted and pending debits. */
export function availableBalance(c: Counters): bigint {
  return c.creditsPosted - c.debitsPosted - c.debitsPending;
}
