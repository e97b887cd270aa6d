import { type Actor, appendAudit } from '../audit/audit.ts';
import { type Db, dryRun, type Tx } from '../db/database.ts';
import { listDepartmentYears, parseFinancialYear } from '../fund/fund.ts';
import { FUND_REFUSALS } from '../fund/refusals.ts';
import { CREDIT_READERS, ownDepartmentScope } from '../fund/visibility.ts';
import type { TransferInput } from '../ledger/types.ts';
import type { Pence } from '../lib/money.ts';
import { type Act, type Look, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { departmentOfEach } from '../reference/reference.ts';
import { actorOf, type Principal } from '../users/users.ts';
import { CREDITS_REFUSALS } from './refusals.ts';
import {
  assertMayRead,
  CREDIT_CODES,
  cashMarketAccount,
  creditAccounts,
  ensureAccounts,
  holdingAccount,
  lockYearState,
  mustTransfer,
  vintageAccounts,
} from './registry.ts';

/*
 * Year close (DESIGN step 8). For each department set up in the year, its verified savings are
 * the verified benefit reports for benefit year `fy` whose line is a cashable fiscal saving and
 * whose beneficiary's savings land in that department's budget (reference.departmentOfEach).
 * Set against its savings target:
 *   surplus  = verified − target > 0 → credits of vintage fy, one per whole pound of surplus,
 *              rounded DOWN (89p over target earns nothing);
 *   deficit  = target − verified > 0 → an obligation in credits, one per pound or part of a pound
 *              short, rounded UP (1p short owes one credit).
 * Both roundings fall in the department's disfavour. Reports still pending at close do not count
 * and can no longer be verified for that year (they can still be rejected).
 * Each issuance records its provenance: the reports that make up the verified cashable savings.
 */

export const PENCE_PER_CREDIT = 100n;

/** Credits earned by a surplus: whole pounds, rounded down. */
export function creditsForSurplus(surplusPence: Pence): bigint {
  return surplusPence > 0n ? surplusPence / PENCE_PER_CREDIT : 0n;
}

/** Credits owed for a deficit: pounds or part of a pound, rounded up. */
export function obligationForDeficit(deficitPence: Pence): bigint {
  return deficitPence > 0n ? (deficitPence + PENCE_PER_CREDIT - 1n) / PENCE_PER_CREDIT : 0n;
}

export interface ProvenanceLine {
  reportId: string;
  caseId: string;
  caseReference: string;
  placeCode: string;
  benefitLineIndex: number;
  verifiedPence: Pence;
}

export interface VerifiedSavings {
  cashablePence: Pence;
  otherPence: Pence;
  provenance: ProvenanceLine[];
}

/**
 * Verified savings for benefit year fy by department, as the close counts them: cashable fiscal
 * (with the reports behind them) and the rest. `only` restricts it to one department.
 */
export async function verifiedSavings(db: Db | Tx, fy: string, only?: string): Promise<Map<string, VerifiedSavings>> {
  const reports = await db
    .selectFrom('benefit_reports')
    .select(['id', 'case_id', 'line_index', 'beneficiary_code', 'verified_pence'])
    .where('year', '=', fy)
    .where('status', '=', 'verified')
    .orderBy('id')
    .execute();
  const departmentOf = await departmentOfEach(db);
  const caseIds = [...new Set(reports.map((r) => r.case_id))];
  const cases = new Map<string, { reference: string; placeCode: string; lines: { type: string; cashable: boolean }[] }>();
  for (let i = 0; i < caseIds.length; i += 500) {
    const rows = await db
      .selectFrom('cases')
      .select(['id', 'reference', 'document'])
      .where('id', 'in', caseIds.slice(i, i + 500))
      .execute();
    for (const r of rows) {
      const d = JSON.parse(r.document) as { placeCode: string; benefits: { type: string; cashable: boolean }[] };
      cases.set(r.id, { reference: r.reference, placeCode: d.placeCode, lines: d.benefits });
    }
  }
  const out = new Map<string, VerifiedSavings>();
  for (const r of reports) {
    const dept = r.beneficiary_code ? departmentOf.get(r.beneficiary_code) : null;
    if (!dept || (only && dept !== only)) continue;
    const c = cases.get(r.case_id);
    const line = c?.lines[Number(r.line_index)];
    if (!c || !line) continue;
    let s = out.get(dept);
    if (!s) {
      s = { cashablePence: 0n, otherPence: 0n, provenance: [] };
      out.set(dept, s);
    }
    const amount = BigInt(r.verified_pence ?? 0n);
    if (line.type === 'fiscal' && line.cashable) {
      s.cashablePence += amount;
      s.provenance.push({
        reportId: r.id,
        caseId: r.case_id,
        caseReference: c.reference,
        placeCode: c.placeCode,
        benefitLineIndex: Number(r.line_index),
        verifiedPence: amount,
      });
    } else {
      s.otherPence += amount;
    }
  }
  return out;
}

export interface DepartmentOutcome {
  departmentCode: string;
  savingsTargetPence: Pence;
  verifiedCashablePence: Pence;
  verifiedOtherPence: Pence;
  creditsIssued: bigint;
  obligationCredits: bigint;
  issuanceTransferId: string | null;
  provenanceReports: number;
}

export interface YearClose {
  financialYear: string;
  closedAt: string;
  closedBy: string;
  departments: DepartmentOutcome[];
  totals: { creditsIssued: bigint; obligationCredits: bigint };
}

export const issuanceTransferId = (fy: string, code: string) => `${CREDIT_CODES.issue}/${fy}/${code}`;

/**
 * Treasury closes a year: credits and obligations for every department set up in it (rules
 * above), the year marked closed (no more budget changes, contributions or verifications for it),
 * its market opened. Closing again changes nothing and returns the same result (`created` false).
 * Refusals: financial-year-not-found (404), financial-year-not-started (409: before the year's first day), no-departments-set (422).
 */
export async function closeYear(
  trx: Tx,
  fy: string,
  actor: Actor & { userId: string | null },
  requestId: string | null,
  now: Date,
): Promise<{ close: YearClose; created: boolean }> {
  const state = await lockYearState(trx, fy);
  if (state.closed) return { close: await getYearClose(trx, fy), created: false };
  const startsOn = parseFinancialYear(fy)?.startsOn;
  if (startsOn && now.toISOString().slice(0, 10) < startsOn) {
    throw refuse(CREDITS_REFUSALS, 'financial-year-not-started', `${fy} starts on ${startsOn}; it cannot be closed before then.`);
  }
  const departments = await listDepartmentYears(trx, fy);
  if (departments.length === 0) {
    throw refuse(FUND_REFUSALS, 'no-departments-set', `No department has a savings target for ${fy}.`);
  }
  const savings = await verifiedSavings(trx, fy);
  await ensureAccounts(trx, [...vintageAccounts(fy), cashMarketAccount(fy)], now);
  const transfers: TransferInput[] = [];
  const rows = departments.map((d) => {
    const s = savings.get(d.departmentCode) ?? { cashablePence: 0n, otherPence: 0n, provenance: [] };
    const credits = creditsForSurplus(s.cashablePence - d.savingsTargetPence);
    const obligation = obligationForDeficit(d.savingsTargetPence - s.cashablePence);
    const transferId = credits > 0n ? issuanceTransferId(fy, d.departmentCode) : null;
    if (transferId) {
      transfers.push({
        id: transferId,
        debitAccountId: creditAccounts.issuance(fy),
        creditAccountId: creditAccounts.holding(fy, d.departmentCode),
        amount: credits,
        ledger: 'CREDIT',
        code: CREDIT_CODES.issue,
        reference: `${d.departmentCode} surplus over its ${fy} savings target`,
      });
    }
    return {
      financial_year: fy,
      department_code: d.departmentCode,
      savings_target_pence: d.savingsTargetPence,
      verified_cashable_pence: s.cashablePence,
      verified_other_pence: s.otherPence,
      credits_issued: credits,
      obligation_credits: obligation,
      issuance_transfer_id: transferId,
      provenance: s.provenance,
    };
  });
  await ensureAccounts(
    trx,
    departments.map((d) => holdingAccount(fy, d.departmentCode)),
    now,
  );
  await mustTransfer(trx, transfers, now);
  for (const { provenance, ...row } of rows) {
    await trx.insertInto('department_outcomes').values(row).execute();
    // 8 values a row; stay well under SQLite's bound-parameter limit.
    for (let i = 0; i < provenance.length; i += 2000) {
      await trx
        .insertInto('credit_provenance')
        .values(
          provenance.slice(i, i + 2000).map((p) => ({
            financial_year: fy,
            department_code: row.department_code,
            report_id: p.reportId,
            case_id: p.caseId,
            case_reference: p.caseReference,
            place_code: p.placeCode,
            line_index: p.benefitLineIndex,
            verified_pence: p.verifiedPence,
          })),
        )
        .execute();
    }
  }
  await trx
    .insertInto('year_closes')
    .values({ financial_year: fy, closed_by: actor.userId ?? 'system', closed_at: now.toISOString() })
    .execute();
  await trx.updateTable('financial_years').set({ status: 'closed' }).where('name', '=', fy).execute();
  const close = await getYearClose(trx, fy);
  await appendAudit(
    trx,
    {
      actor,
      action: 'financial-year.closed',
      subject: `financial-year/${fy}`,
      detail: {
        departments: close.departments.map((d) => ({
          departmentCode: d.departmentCode,
          savingsTargetPence: d.savingsTargetPence,
          verifiedCashablePence: d.verifiedCashablePence,
          creditsIssued: d.creditsIssued,
          obligationCredits: d.obligationCredits,
          issuanceTransferId: d.issuanceTransferId,
        })),
      },
      requestId,
    },
    now,
  );
  return { close, created: true };
}

/** A closed year's outcome per department (`only`: one department). Refusal: year-close-not-found (404). */
export async function getYearClose(db: Db | Tx, fy: string, only?: string): Promise<YearClose> {
  const close = await db.selectFrom('year_closes').selectAll().where('financial_year', '=', fy).executeTakeFirst();
  if (!close) throw refuse(CREDITS_REFUSALS, 'year-close-not-found', `Financial year ${fy} has not been closed.`);
  let q = db.selectFrom('department_outcomes').selectAll().where('financial_year', '=', fy);
  if (only) q = q.where('department_code', '=', only);
  const rows = await q.orderBy('department_code').execute();
  const counts = new Map(
    (
      await db
        .selectFrom('credit_provenance')
        .select(['department_code', (eb) => eb.fn.countAll<number | bigint | string>().as('n')])
        .where('financial_year', '=', fy)
        .groupBy('department_code')
        .execute()
    ).map((r) => [r.department_code, Number(r.n)]),
  );
  const departments = rows.map((r) => ({
    departmentCode: r.department_code,
    savingsTargetPence: BigInt(r.savings_target_pence),
    verifiedCashablePence: BigInt(r.verified_cashable_pence),
    verifiedOtherPence: BigInt(r.verified_other_pence),
    creditsIssued: BigInt(r.credits_issued),
    obligationCredits: BigInt(r.obligation_credits),
    issuanceTransferId: r.issuance_transfer_id,
    provenanceReports: counts.get(r.department_code) ?? 0,
  }));
  return {
    financialYear: fy,
    closedAt: close.closed_at,
    closedBy: close.closed_by,
    departments,
    totals: {
      creditsIssued: departments.reduce((s, d) => s + d.creditsIssued, 0n),
      obligationCredits: departments.reduce((s, d) => s + d.obligationCredits, 0n),
    },
  };
}

export interface Issuance {
  financialYear: string;
  departmentCode: string;
  creditsIssued: bigint;
  obligationCredits: bigint;
  verifiedCashablePence: Pence;
  savingsTargetPence: Pence;
  transferId: string | null;
  provenance: ProvenanceLine[];
}

/** A department's issuance for a closed year with the reports behind it. Refusal: year-close-not-found (404). */
export async function issuanceWithProvenance(db: Db | Tx, fy: string, code: string): Promise<Issuance> {
  const close = await getYearClose(db, fy, code);
  const d = close.departments[0];
  if (!d) throw refuse(CREDITS_REFUSALS, 'department-outcome-not-found', `${code} was not set up in ${fy}, so its close gave nothing.`);
  const rows = await db
    .selectFrom('credit_provenance')
    .selectAll()
    .where('financial_year', '=', fy)
    .where('department_code', '=', code)
    .orderBy('case_reference')
    .orderBy('line_index')
    .orderBy('report_id')
    .execute();
  return {
    financialYear: fy,
    departmentCode: code,
    creditsIssued: d.creditsIssued,
    obligationCredits: d.obligationCredits,
    verifiedCashablePence: d.verifiedCashablePence,
    savingsTargetPence: d.savingsTargetPence,
    transferId: d.issuanceTransferId,
    provenance: rows.map((r) => ({
      reportId: r.report_id,
      caseId: r.case_id,
      caseReference: r.case_reference,
      placeCode: r.place_code,
      benefitLineIndex: Number(r.line_index),
      verifiedPence: BigInt(r.verified_pence),
    })),
  };
}

/** Every issuance of a closed year with provenance, for reports. */
export async function issuancesOfYear(db: Db | Tx, fy: string): Promise<Issuance[]> {
  const close = await getYearClose(db, fy);
  const out: Issuance[] = [];
  for (const d of close.departments) out.push(await issuanceWithProvenance(db, fy, d.departmentCode));
  return out;
}

/**
 * Treasury closes year `fy` as a signed-in user (the CLI runs `closeYear` as the system): see
 * `closeYear` for what changes. Refusals: `forbidden`; financial-year-not-found (404); financial-year-not-started (409);
 * no-departments-set, ledger-refused (422).
 */
export const closeFinancialYear = operation(
  { roles: ['treasury'], refuses: ['financial-year-not-found', 'financial-year-not-started', 'no-departments-set', 'ledger-refused'] },
  ({ trx, principal, requestId, now }: Act, fy: string): Promise<{ close: YearClose; created: boolean }> =>
    closeYear(trx, fy, actorOf(principal), requestId, now),
);

/** A closed year's outcome per department, a department's own only. Refusals: year-close-not-found (404). */
export const readYearClose = operation(
  { ...CREDIT_READERS, refuses: ['year-close-not-found'] },
  ({ db, principal }: Look, fy: string): Promise<YearClose> => getYearClose(db, fy, ownDepartmentScope(principal)),
);

/**
 * Department `code`'s credits or obligation for closed year `fy`, with the verified reports behind
 * it. Refusals: `forbidden` (another department's); year-close-not-found,
 * department-outcome-not-found (404).
 */
export const readIssuance = operation(
  { ...CREDIT_READERS, refuses: ['year-close-not-found', 'department-outcome-not-found'] },
  async ({ db, principal }: Look, fy: string, code: string): Promise<Issuance> => {
    assertMayRead(principal, code);
    return issuanceWithProvenance(db, fy, code);
  },
);

/**
 * What closing year `fy` would do, worked out by `closeYear` itself in a transaction that is
 * rolled back: each department's credits to be issued or obligation owed. Nothing changes.
 * `created` false: the year is already closed and this is its stored outcome.
 * Who: treasury (who may close it). Refusals: as `closeFinancialYear`.
 */
export const previewYearClose = operation(
  { roles: ['treasury'], refuses: ['financial-year-not-found', 'financial-year-not-started', 'no-departments-set', 'ledger-refused'] },
  ({ db, principal }: { db: Db; principal: Principal }, fy: string, now: Date): Promise<{ close: YearClose; created: boolean }> =>
    dryRun(db, (trx) => closeYear(trx, fy, actorOf(principal), null, now)),
);
