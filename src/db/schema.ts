import type { Generated } from 'kysely';

/**
 * Table shapes as Kysely sees them. Integers that can hold money or counters are `bigint`
 * on both engines (SQLite returns safe integers, PostgreSQL int8 is parsed to BigInt);
 * small integers are read through `Number()` in the repositories. Booleans are 0/1 integers
 * and instants are ISO-8601 UTC text, so both engines bind them the same way.
 */
export interface DB {
  organisations: OrganisationTable;
  places: PlaceTable;
  themes: ThemeTable;
  users: UserTable;
  financial_years: FinancialYearTable;
  department_years: DepartmentYearTable;
  accounts: AccountTable;
  transfers: TransferTable;
  ledger_head: LedgerHeadTable;
  pending_transfers: PendingTransferTable;
  transfer_failures: TransferFailureTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  idempotency_keys: IdempotencyKeyTable;
}

export interface OrganisationTable {
  code: string;
  name: string;
  kind: string;
  place_code: string | null;
  department_code: string | null;
  gss_code: string | null;
  details: string; // JSON object: the fixture's other attributes
}

export interface PlaceTable {
  code: string;
  name: string;
  region: string | null;
  theme_codes: string; // JSON array
}

export interface ThemeTable {
  code: string;
  name: string;
  description: string | null;
}

export interface UserTable {
  id: string;
  name: string;
  role: string;
  organisation_code: string | null;
  is_chair: bigint | number;
  token_hash: string;
  created_at: string;
  created_by: string | null;
}

export interface FinancialYearTable {
  name: string;
  starts_on: string;
  ends_on: string;
  status: string;
  created_at: string;
}

export interface DepartmentYearTable {
  financial_year: string;
  department_code: string;
  baseline_pence: bigint;
  top_slice_basis_points: bigint | number;
  savings_target_pence: bigint;
  revision: bigint | number;
  updated_at: string;
}

export interface AccountTable {
  id: string;
  ledger: string;
  kind: string;
  organisation_code: string | null;
  financial_year: string | null;
  flags: bigint | number;
  debits_pending: bigint;
  debits_posted: bigint;
  credits_pending: bigint;
  credits_posted: bigint;
  created_at: string;
}

export interface LedgerHeadTable {
  id: bigint | number;
  seq: bigint;
}

export interface TransferTable {
  /** SQLite assigns it (rowid); PostgreSQL writers take it from `ledger_head`. */
  seq: Generated<bigint>;
  id: string;
  debit_account_id: string;
  credit_account_id: string;
  amount: bigint;
  ledger: string;
  code: string;
  flags: bigint | number;
  pending_id: string | null;
  timeout_seconds: bigint | number;
  reference: string | null;
  fingerprint: string;
  created_at: string;
  debit_account_debits_pending: bigint;
  debit_account_debits_posted: bigint;
  debit_account_credits_pending: bigint;
  debit_account_credits_posted: bigint;
  credit_account_debits_pending: bigint;
  credit_account_debits_posted: bigint;
  credit_account_credits_pending: bigint;
  credit_account_credits_posted: bigint;
}

export interface PendingTransferTable {
  id: string;
  debit_account_id: string;
  credit_account_id: string;
  amount: bigint;
  expires_at: string | null;
  status: string;
  resolved_by: string | null;
  resolved_at: string | null;
}

export interface TransferFailureTable {
  id: string;
  error: string;
  fingerprint: string;
  created_at: string;
}

export interface AuditLogTable {
  position: bigint;
  at: string;
  actor_user_id: string | null;
  actor_role: string;
  action: string;
  subject: string;
  detail: string;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  id: bigint | number;
  position: bigint;
  hash: string;
}

export interface IdempotencyKeyTable {
  user_id: string;
  key: string;
  fingerprint: string;
  state: string;
  status_code: bigint | number | null;
  response_body: string | null;
  content_type: string | null;
  created_at: string;
}
