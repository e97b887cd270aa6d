/**
 * Every way a ledger operation can refuse, by name. The names are stable: clients and tests
 * match on them. See src/ledger/README.md for when each is returned.
 */
export const CREATE_ACCOUNT_ERRORS = [
  'id_invalid',
  'ledger_invalid',
  'kind_must_not_be_empty',
  'flags_are_mutually_exclusive',
  'exists_with_different_fields',
] as const;
export type CreateAccountError = (typeof CREATE_ACCOUNT_ERRORS)[number];

export const TRANSFER_ERRORS = [
  // The request itself, before any state is read.
  'linked_event_chain_open',
  'linked_event_failed',
  'id_invalid',
  'flags_are_mutually_exclusive',
  'debit_account_id_must_not_be_empty',
  'credit_account_id_must_not_be_empty',
  'accounts_must_be_different',
  'pending_id_must_be_empty',
  'pending_id_must_not_be_empty',
  'pending_id_must_be_different',
  'timeout_reserved_for_pending_transfer',
  'timeout_invalid',
  'ledger_invalid',
  'code_must_not_be_empty',
  'amount_must_not_be_zero',
  'amount_must_not_be_negative',
  'amount_too_large',
  'reference_too_long',
  // Idempotency.
  'exists_with_different_fields',
  'id_already_failed',
  // Resolving a pending transfer.
  'pending_transfer_not_found',
  'pending_transfer_not_pending',
  'pending_transfer_has_different_debit_account_id',
  'pending_transfer_has_different_credit_account_id',
  'pending_transfer_has_different_ledger',
  'pending_transfer_has_different_code',
  'pending_transfer_has_different_amount',
  'exceeds_pending_transfer_amount',
  'pending_transfer_already_posted',
  'pending_transfer_already_voided',
  'pending_transfer_expired',
  // The accounts.
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
] as const;
export type TransferError = (typeof TRANSFER_ERRORS)[number];

/**
 * Errors that depend on the ledger's state when the transfer was tried. A transfer refused with
 * one of these is recorded as failed: retrying its id later returns `id_already_failed`, so a
 * retry never succeeds just because balances moved in between. Errors in the request itself are
 * not recorded (the same request fails the same way again).
 */
export const STATE_ERRORS: ReadonlySet<TransferError> = new Set<TransferError>(
  TRANSFER_ERRORS.slice(TRANSFER_ERRORS.indexOf('pending_transfer_not_found')),
);
