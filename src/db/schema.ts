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
  appraisal_parameter_sets: ParameterSetTable;
  deflator_tables: DeflatorTableRow;
  unit_costs: UnitCostTable;
  funding_rounds: FundingRoundTable;
  cases: CaseTable;
  case_beneficiaries: CaseBeneficiaryTable;
  appraisals: AppraisalTable;
  panel_conflicts: PanelConflictTable;
  panel_scores: PanelScoreTable;
  panel_moderations: PanelModerationTable;
  vfm_overrides: VfmOverrideTable;
  case_decisions: CaseDecisionTable;
  tranches: TrancheTable;
  tranche_approvals: TrancheApprovalTable;
  clawbacks: ClawbackTable;
  benefit_forecasts: BenefitForecastTable;
  benefit_reports: BenefitReportTable;
  year_closes: YearCloseTable;
  department_outcomes: DepartmentOutcomeTable;
  credit_provenance: CreditProvenanceTable;
  credit_markets: CreditMarketTable;
  market_head: MarketHeadTable;
  credit_orders: CreditOrderTable;
  credit_trades: CreditTradeTable;
  bilateral_trades: BilateralTradeTable;
  compliance_runs: ComplianceRunTable;
  compliance_results: ComplianceResultTable;
  disposal_targets: DisposalTargetTable;
  disposals: DisposalTable;
  user_tokens: UserTokenTable;
  user_requests: UserRequestTable;
  organisation_versions: OrganisationVersionTable;
  web_sessions: WebSessionTable;
  case_reference_counters: CaseReferenceCounterTable;
  ledger_verifications: LedgerVerificationTable;
  benefit_register: BenefitRegisterTable;
  benefit_register_totals: BenefitRegisterTotalsTable;
  benefit_register_grand_total: BenefitRegisterGrandTotalTable;
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
  /** The first token's hash, kept for history; authentication reads user_tokens. */
  token_hash: string;
  created_at: string;
  created_by: string | null;
  deactivated_at: string | null;
  deactivated_by: string | null;
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
  transfers: Generated<string>; // JSON [{id, debitAccountId, creditAccountId, amountPence}]
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

export interface ParameterSetTable {
  name: string;
  version: string;
  provisional: bigint | number;
  definition: string; // JSON, exactly as loaded
  loaded_at: string;
}

export interface DeflatorTableRow {
  edition: string;
  definition: string;
  loaded_at: string;
}

export interface UnitCostTable {
  code: string;
  sheet: string | null;
  category: string | null;
  detail: string | null;
  description: string;
  unit: string | null;
  value_pence: bigint | null;
  agency: string | null;
  agency_detail: string | null;
  price_year: string | null;
  department_code: string | null;
  search_text: string;
}

export interface FundingRoundTable {
  id: string;
  financial_year: string;
  name: string;
  envelope_pence: bigint;
  opens_on: string;
  closes_on: string;
  min_match_funding_basis_points: bigint | number;
  themes: string; // JSON array
  quorum: bigint | number;
  criteria: string; // JSON [{key, name, weight}]
  parameter_set_name: string;
  parameter_set_version: string;
  deflator_edition: string | null;
  two_approver_threshold_pence: Generated<bigint>;
  created_at: string;
  created_by: string;
}

export interface CaseTable {
  id: string;
  reference: string;
  round_id: string;
  lead_council_code: string;
  status: string;
  revision: bigint | number;
  document: string; // JSON: the case as the council wrote it
  created_at: string;
  created_by: string;
  updated_at: string;
  submitted_at: string | null;
  submitted_by: string | null;
}

export interface CaseBeneficiaryTable {
  case_id: string;
  organisation_code: string;
}

export interface AppraisalTable {
  case_id: string;
  revision: bigint | number;
  parameter_set_name: string;
  parameter_set_version: string;
  deflator_edition: string | null;
  result: string; // JSON
  computed_at: string;
}

export interface PanelConflictTable {
  case_id: string;
  user_id: string;
  reason: string;
  declared_at: string;
}

export interface PanelScoreTable {
  case_id: string;
  user_id: string;
  criterion: string;
  score: bigint | number;
  justification: string;
  scored_at: string;
}

export interface PanelModerationTable {
  case_id: string;
  score_hundredths: bigint | number;
  reason: string;
  moderated_by: string;
  moderated_at: string;
  voided_at?: string | null;
}

export interface VfmOverrideTable {
  case_id: string;
  reason: string;
  granted_by: string;
  granted_at: string;
}

export interface CaseDecisionTable {
  case_id: string;
  sequence: bigint | number;
  outcome: string;
  reasons: string;
  amount_pence: bigint | null;
  conditions: string; // JSON array
  tranches: string; // JSON array
  decided_by: string;
  decided_at: string;
}

export interface TrancheTable {
  case_id: string;
  number: bigint | number;
  amount_pence: bigint;
  earliest_on: string;
  condition: string;
  status: string;
  pending_transfer_id: string;
  offset_pence: Generated<bigint>;
  claimed_by: string | null;
  claimed_at: string | null;
  evidence: string | null;
  released_pence: bigint | null;
  released_at: string | null;
  voided_at: string | null;
}

export interface TrancheApprovalTable {
  case_id: string;
  number: bigint | number;
  user_id: string;
  approved_at: string;
  voided_at?: string | null;
}

export interface ClawbackTable {
  id: string;
  case_id: string;
  kind: string;
  amount_pence: bigint;
  reason: string;
  tranche_number: bigint | number | null;
  transfer_id: string | null;
  recorded_by: string;
  recorded_at: string;
}

export interface BenefitForecastTable {
  case_id: string;
  line_index: bigint | number;
  year: string;
  forecast_pence: bigint;
  reason: string;
  revised_by: string;
  revised_at: string;
}

export interface BenefitReportTable {
  id: string;
  case_id: string;
  line_index: bigint | number;
  year: string;
  beneficiary_code: string | null;
  claimed_pence: bigint;
  evidence: string;
  status: string;
  reported_by: string;
  reported_at: string;
  verified_pence: bigint | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
  rejection_reason: string | null;
  /** Why less than the claim was verified (migration 0004). */
  verification_reason: string | null;
}

export interface YearCloseTable {
  financial_year: string;
  closed_by: string;
  closed_at: string;
}

export interface DepartmentOutcomeTable {
  financial_year: string;
  department_code: string;
  savings_target_pence: bigint;
  verified_cashable_pence: bigint;
  verified_other_pence: bigint;
  credits_issued: bigint;
  obligation_credits: bigint;
  issuance_transfer_id: string | null;
}

export interface CreditProvenanceTable {
  financial_year: string;
  department_code: string;
  report_id: string;
  case_id: string;
  case_reference: string;
  place_code: string;
  line_index: bigint | number;
  verified_pence: bigint;
}

export interface CreditMarketTable {
  financial_year: string;
  floor_pence: bigint;
  ceiling_pence: bigint;
  updated_by: string;
  updated_at: string;
}

export interface MarketHeadTable {
  id: bigint | number;
  seq: bigint;
}

export interface CreditOrderTable {
  id: string;
  seq: bigint;
  financial_year: string;
  department_code: string;
  side: string;
  vintage: string | null;
  quantity: bigint;
  filled: bigint;
  limit_price_pence: bigint;
  status: string;
  reservation_id: string | null;
  reservations: bigint | number;
  placed_by: string;
  placed_at: string;
  updated_at: string;
}

export interface CreditTradeTable {
  id: string;
  seq: bigint;
  financial_year: string;
  vintage: string;
  quantity: bigint;
  price_pence: bigint;
  buyer_code: string;
  seller_code: string;
  buy_order_id: string | null;
  sell_order_id: string | null;
  bilateral_id: string | null;
  credits_transfer_id: string;
  cash_transfer_id: string;
  executed_at: string;
}

export interface BilateralTradeTable {
  id: string;
  financial_year: string;
  proposer_code: string;
  counterparty_code: string;
  proposer_side: string;
  vintage: string;
  quantity: bigint;
  price_pence: bigint;
  status: string;
  expires_at: string;
  proposed_by: string;
  proposed_at: string;
  resolved_by: string | null;
  resolved_at: string | null;
  trade_id: string | null;
}

export interface ComplianceRunTable {
  financial_year: string;
  ran_by: string;
  ran_at: string;
  ceiling_pence: bigint;
}

export interface ComplianceResultTable {
  financial_year: string;
  department_code: string;
  obligation_credits: bigint;
  surrendered: string; // JSON [{vintage, credits, transferId}]
  surrendered_credits: bigint;
  shortfall_credits: bigint;
  buy_out_due_pence: bigint;
  buy_out_paid_pence: bigint;
  buy_out_outstanding_pence: bigint;
  buy_out_transfer_id: string | null;
  status: string;
}

export interface DisposalTargetTable {
  place_code: string;
  financial_year: string;
  department_code: string;
  target_pence: bigint;
  set_by: string;
  set_at: string;
}

export interface DisposalTable {
  id: string;
  place_code: string;
  financial_year: string;
  department_code: string;
  asset: string;
  receipt_pence: bigint;
  disposed_on: string;
  recorded_by: string;
  recorded_at: string;
}

export interface UserTokenTable {
  id: string;
  user_id: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
  revoked_reason: string | null;
  /** Who was handed the token: its issuer, or its user for a rotation; null for an operator. */
  issued_by: string | null;
}

export interface UserRequestTable {
  id: string;
  name: string;
  role: string;
  is_chair: bigint | number;
  requested_by: string;
  requested_at: string;
  status: string;
  decided_by: string | null;
  decided_at: string | null;
  user_id: string | null;
}

export interface OrganisationVersionTable {
  code: string;
  version: bigint | number;
  name: string;
  kind: string;
  place_code: string | null;
  department_code: string | null;
  loaded_at: string;
}

export interface WebSessionTable {
  /** SHA-256 (hex) of the cookie's random session id. */
  id_hash: string;
  /** The token that signed the session in; null while signed out. */
  token_id: string | null;
  /** The secret its forms' CSRF tokens are made from. */
  csrf_secret: string;
  created_at: string;
  last_seen_at: string;
}

/** Each financial year's last case reference number (TP-<year>-<number>). */
export interface CaseReferenceCounterTable {
  financial_year: string;
  last_number: bigint | number;
}

export interface LedgerVerificationTable {
  id: string;
  /** Order of starting, for paging. */
  seq: bigint;
  /** running, passed, failed or error. */
  status: string;
  requested_by: string;
  requested_role: string;
  checkpoints: string; // JSON array of kept checkpoints
  started_at: string;
  /** While running: the time by which its runner must renew it, or it counts as interrupted. */
  lease_expires_at: string | null;
  finished_at: string | null;
  progress: string | null; // JSON
  report: string | null; // JSON: the report GET /ledger/verify gives
  error: string | null;
}

/** The benefits register kept as rows: one per case, benefit line and year (src/benefits/register.ts). */
export interface BenefitRegisterTable {
  case_id: string;
  line_index: bigint | number;
  year: string;
  reference: string;
  lead_council_code: string;
  place_code: string;
  theme: string;
  outcome: string;
  type: string;
  cashable: bigint | number;
  beneficiary_code: string | null;
  department_code: string | null;
  appraised_pence: bigint;
  forecast_pence: bigint;
  forecast_reason: string | null;
  claimed_pence: bigint;
  verified_pence: bigint;
  verification_reason: string | null;
  report_id: string | null;
  report_status: string | null;
}

/** The register's figures summed per year, department ('' for none), place, theme, lead council and cashable. */
export interface BenefitRegisterTotalsTable {
  year: string;
  department_code: string;
  place_code: string;
  theme: string;
  lead_council_code: string;
  cashable: bigint | number;
  appraised_pence: bigint;
  forecast_pence: bigint;
  claimed_pence: bigint;
  verified_pence: bigint;
}

export interface BenefitRegisterGrandTotalTable {
  id: number;
  appraised_pence: bigint;
  forecast_pence: bigint;
  claimed_pence: bigint;
  verified_pence: bigint;
}
