import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { benefitSchedule } from '../appraisal/engine.ts';
import { getDeflatorTable, getParameterSet } from '../appraisal/library.ts';
import type { DeflatorTable, ParameterSet } from '../appraisal/types.ts';
import { appendAudit, SUBJECT } from '../audit/audit.ts';
import { appraisalInputOf } from '../cases/appraisal.ts';
import { CASE_REFERENCE, type Case, lockCase } from '../cases/records.ts';
import { getReadableCase, lockOwnCase } from '../cases/visibility.ts';
import { type Db, isPostgres, type Tx } from '../db/database.ts';
import { prepared } from '../db/prepared.ts';
import { readTogether } from '../db/snapshot.ts';
import { financialYearOf, parseFinancialYear } from '../fund/fund.ts';
import { forbidden, invalid } from '../lib/errors.ts';
import type { Pence } from '../lib/money.ts';
import { type Act, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { departmentOfEach, departmentOfOne, departmentOfSome } from '../reference/reference.ts';
import { RELEASES_REFUSALS } from '../releases/refusals.ts';
import { getRound } from '../rounds/rounds.ts';
import { actorOf, type Principal } from '../users/users.ts';
import { BENEFITS_REFUSALS } from './refusals.ts';
import {
  keptRegisterRow,
  type LineYear,
  lockRegisterForWrite,
  type StoredRegisterRow,
  storeCaseRegister,
  storeLineYearRegister,
} from './register.ts';

/*
 * The benefits register (DESIGN step 7). For each benefit line and year of an approved case
 * it holds four values:
 *   appraised — what the appraisal expects that year (undiscounted, at the case's base-year
 *               prices, after impact, deadweight and optimism bias);
 *   forecast  — the appraised value until the council revises it, with a reason;
 *   claimed   — what the council reports was achieved (one open report per line and year);
 *   verified  — what the beneficiary department (or treasury) has verified.
 * Variance is verified − forecast. RAG status:
 *   green     — verified is at least 90% of forecast;
 *   amber     — verified is at least 70% of forecast, or a claim awaits verification;
 *   red       — verified is under 70% of forecast, the latest report was rejected, or the year
 *               has ended with nothing reported;
 *   not-due   — the year has not ended and nothing is reported yet.
 * (A forecast of zero is green once anything, or nothing, is verified.)
 */

export type Rag = 'green' | 'amber' | 'red' | 'not-due';
export type ReportStatus = 'pending' | 'verified' | 'rejected';

export interface BenefitReport {
  id: string;
  caseId: string;
  benefitLineIndex: number;
  year: string;
  beneficiaryCode: string | null;
  claimedPence: Pence;
  evidence: string;
  status: ReportStatus;
  reportedBy: string;
  reportedAt: string;
  verifiedPence: Pence | null;
  reviewedBy: string | null;
  reviewedAt: string | null;
  rejectionReason: string | null;
  /** Why less than the claim was verified; null for a full verification. */
  verificationReason: string | null;
}

export interface RegisterRow {
  caseId: string;
  reference: string;
  placeCode: string;
  theme: string;
  benefitLineIndex: number;
  outcome: string;
  type: string;
  cashable: boolean;
  beneficiaryCode: string | null;
  /** The department whose budget the saving lands in: the beneficiary, or the department it answers to. */
  departmentCode: string | null;
  year: string;
  appraisedPence: Pence;
  forecastPence: Pence;
  forecastReason: string | null;
  claimedPence: Pence;
  verifiedPence: Pence;
  /** Why less than the claim was verified, when it was. */
  verificationReason: string | null;
  variancePence: Pence;
  rag: Rag;
  reportId: string | null;
  reportStatus: ReportStatus | null;
}

const REPORTABLE = ['approved', 'terminated'];

export function rag(forecast: Pence, verified: Pence, status: ReportStatus | null, yearEnded: boolean): Rag {
  if (status === 'verified') {
    if (verified * 10n >= forecast * 9n) return 'green';
    if (verified * 10n >= forecast * 7n) return 'amber';
    return 'red';
  }
  if (status === 'pending') return 'amber';
  if (status === 'rejected') return 'red';
  return yearEnded ? 'red' : 'not-due';
}

function reportFromRow(r: {
  id: string;
  case_id: string;
  line_index: bigint | number;
  year: string;
  beneficiary_code: string | null;
  claimed_pence: bigint | number;
  evidence: string;
  status: string;
  reported_by: string;
  reported_at: string;
  verified_pence: bigint | number | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
  rejection_reason: string | null;
  verification_reason: string | null;
}): BenefitReport {
  return {
    id: r.id,
    caseId: r.case_id,
    benefitLineIndex: Number(r.line_index),
    year: r.year,
    beneficiaryCode: r.beneficiary_code,
    claimedPence: BigInt(r.claimed_pence),
    evidence: r.evidence,
    status: r.status as ReportStatus,
    reportedBy: r.reported_by,
    reportedAt: r.reported_at,
    verifiedPence: r.verified_pence === null ? null : BigInt(r.verified_pence),
    reviewedBy: r.reviewed_by,
    reviewedAt: r.reviewed_at,
    rejectionReason: r.rejection_reason,
    verificationReason: r.verification_reason,
  };
}

/** The register for one case: every line × year that has an appraised value, a forecast or a report. */
export async function caseRegister(db: Db | Tx, c: Case, today: string): Promise<RegisterRow[]> {
  return (await caseRegisters(db, [c], today))[0] as RegisterRow[];
}

/*
 * The register is also kept as rows (./register.ts), rewritten from `caseRegister` in the same
 * transaction as every change it depends on: the case's approval, a forecast revised, a report
 * filed, verified or rejected. Realised benefits are read from those rows.
 */

/** Rewrites case `c`'s kept register rows from its register as it now stands; returns that register. */
export async function keepCaseRegister(trx: Tx, c: Case, today: string): Promise<RegisterRow[]> {
  await lockRegisterForWrite(trx);
  const rows = await caseRegister(trx, c, today);
  await storeCaseRegister(trx, c, rows);
  return rows;
}

// Read by every benefit report and review: compiled once (src/db/prepared.ts).
const selectLineYearForecasts = prepared((db, caseId: string, line: number, year: string) =>
  db.selectFrom('benefit_forecasts').selectAll().where('case_id', '=', caseId).where('line_index', '=', line).where('year', '=', year),
);
const selectLineYearReports = prepared((db, caseId: string, line: number, year: string) =>
  db
    .selectFrom('benefit_reports')
    .selectAll()
    .where('case_id', '=', caseId)
    .where('line_index', '=', line)
    .where('year', '=', year)
    .orderBy('reported_at')
    .orderBy('id'),
);

/**
 * Rewrites the kept row of one line and year of case `c` after a report on it is filed, verified
 * or rejected, which changes nothing else in the case's register. The row is worked out by
 * `registerRows`, the one formula, over that line and year alone: its appraised value is the kept
 * row's (the engine's, fixed when the case was approved) and its department the kept row's (a
 * reload moves it). A line and year with no kept row (a year the appraisal gives nothing for)
 * rewrites the whole case instead.
 */
async function keepLineYearRegister(trx: Tx, c: Case, at: LineYear, today: string): Promise<void> {
  await lockRegisterForWrite(trx);
  const kept = await keptRegisterRow(trx, c.id, at);
  if (!kept) {
    await storeCaseRegister(trx, c, await caseRegister(trx, c, today));
    return;
  }
  const [forecasts, reports] = await Promise.all([
    selectLineYearForecasts(trx, c.id, at.line, at.year),
    selectLineYearReports(trx, c.id, at.line, at.year),
  ]);
  const [row] = registerRows(
    c,
    [{ line: at.line, year: at.year, valuePence: BigInt(kept.appraised_pence) }],
    forecasts.rows,
    reports.rows,
    new Map(kept.beneficiary_code ? [[kept.beneficiary_code, kept.department_code]] : []),
    today,
  );
  await storeLineYearRegister(trx, kept, row as RegisterRow);
}

/** A kept row as the register shows it: its variance, and its RAG as of `today`. */
function registerRowOf(s: StoredRegisterRow, today: string): RegisterRow {
  const forecastPence = BigInt(s.forecast_pence);
  const verifiedPence = BigInt(s.verified_pence);
  const reportStatus = s.report_status as ReportStatus | null;
  return {
    caseId: s.case_id,
    reference: s.reference,
    placeCode: s.place_code,
    theme: s.theme,
    benefitLineIndex: Number(s.line_index),
    outcome: s.outcome,
    type: s.type,
    cashable: Number(s.cashable) === 1,
    beneficiaryCode: s.beneficiary_code,
    departmentCode: s.department_code,
    year: s.year,
    appraisedPence: BigInt(s.appraised_pence),
    forecastPence,
    forecastReason: s.forecast_reason,
    claimedPence: BigInt(s.claimed_pence),
    verifiedPence,
    verificationReason: s.verification_reason,
    variancePence: verifiedPence - forecastPence,
    rag: rag(forecastPence, verifiedPence, reportStatus, (parseFinancialYear(s.year)?.endsOn ?? '9999') < today),
    reportId: s.report_id,
    reportStatus,
  };
}

/** Case ids (or organisation codes) per query when loading many cases' forecasts, reports and departments (well under either engine's bound-parameter limit). */
const CASES_PER_QUERY = 500;

/**
 * The registers of `cases`, in the same order: each round's parameters and deflators, the
 * forecasts, the reports and the departments are read once for all of them (a handful of
 * queries however many cases), not once per case.
 */
export async function caseRegisters(db: Db | Tx, cases: Case[], today: string): Promise<RegisterRow[][]> {
  if (cases.length === 0) return [];
  const libraries = new Map<string, Promise<[ParameterSet, DeflatorTable | null]>>();
  const libraryOf = (roundId: string) => {
    let found = libraries.get(roundId);
    if (!found) {
      found = getRound(db, roundId).then((round) =>
        Promise.all([
          getParameterSet(db, round.parameterSet.name, round.parameterSet.version),
          getDeflatorTable(db, round.deflatorEdition),
        ]),
      );
      libraries.set(roundId, found);
    }
    return found;
  };
  const ids = cases.map((c) => c.id);
  const forecasts: Awaited<ReturnType<typeof loadForecasts>> = [];
  const reports: Awaited<ReturnType<typeof loadReports>> = [];
  const loadForecasts = (chunk: string[]) => db.selectFrom('benefit_forecasts').selectAll().where('case_id', 'in', chunk).execute();
  const loadReports = (chunk: string[]) =>
    db.selectFrom('benefit_reports').selectAll().where('case_id', 'in', chunk).orderBy('reported_at').orderBy('id').execute();
  for (let i = 0; i < ids.length; i += CASES_PER_QUERY) {
    const chunk = ids.slice(i, i + CASES_PER_QUERY);
    const [f, r] = await Promise.all([loadForecasts(chunk), loadReports(chunk)]);
    forecasts.push(...f);
    reports.push(...r);
  }
  const beneficiaries = [...new Set(cases.flatMap((c) => c.benefits.flatMap((b) => (b.beneficiaryCode ? [b.beneficiaryCode] : []))))];
  const departmentOf = beneficiaries.length <= CASES_PER_QUERY ? await departmentOfSome(db, beneficiaries) : await departmentOfEach(db);
  const forecastsOf = groupBy(forecasts, (f) => f.case_id);
  const reportsOf = groupBy(reports, (r) => r.case_id);
  const out: RegisterRow[][] = [];
  for (const c of cases) {
    const [params, deflators] = await libraryOf(c.roundId);
    out.push(
      registerRows(
        c,
        benefitSchedule(appraisalInputOf(c), params, deflators),
        forecastsOf.get(c.id) ?? [],
        reportsOf.get(c.id) ?? [],
        departmentOf,
        today,
      ),
    );
  }
  return out;
}

function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}

/** One case's register rows from its appraised schedule, its forecasts and its reports (oldest first). */
function registerRows(
  c: Case,
  schedule: ReturnType<typeof benefitSchedule>,
  forecasts: { line_index: bigint | number; year: string; forecast_pence: bigint | number; reason: string }[],
  reports: Parameters<typeof reportFromRow>[0][],
  departmentOf: Map<string, string | null>,
  today: string,
): RegisterRow[] {
  const appraised = new Map<string, Pence>();
  for (const v of schedule) appraised.set(`${v.line}|${v.year}`, v.valuePence);
  const forecastOf = new Map(forecasts.map((f) => [`${Number(f.line_index)}|${f.year}`, f]));
  // A line and year has at most one open (pending or verified) report, and it decides the
  // state; failing that, the latest rejected one does.
  const latest = new Map<string, BenefitReport>();
  for (const r of reports.map(reportFromRow)) {
    const key = `${r.benefitLineIndex}|${r.year}`;
    const current = latest.get(key);
    if (current && current.status !== 'rejected') continue;
    latest.set(key, r);
  }
  const keys = new Set([...appraised.keys(), ...forecastOf.keys(), ...latest.keys()]);
  const rows: RegisterRow[] = [];
  for (const key of keys) {
    const [lineText, year] = key.split('|') as [string, string];
    const line = Number(lineText);
    const b = c.benefits[line];
    if (!b) continue;
    const appraisedPence = appraised.get(key) ?? 0n;
    const f = forecastOf.get(key);
    const forecastPence = f ? BigInt(f.forecast_pence) : appraisedPence;
    const report = latest.get(key) ?? null;
    const claimedPence = report && report.status !== 'rejected' ? report.claimedPence : 0n;
    const verifiedPence = report?.status === 'verified' ? (report.verifiedPence ?? 0n) : 0n;
    const yearEnded = (parseFinancialYear(year)?.endsOn ?? '9999') < today;
    rows.push({
      caseId: c.id,
      reference: c.reference,
      placeCode: c.placeCode,
      theme: c.theme,
      benefitLineIndex: line,
      outcome: b.outcome,
      type: b.type,
      cashable: b.cashable,
      beneficiaryCode: b.beneficiaryCode,
      departmentCode: b.beneficiaryCode ? (departmentOf.get(b.beneficiaryCode) ?? null) : null,
      year,
      appraisedPence,
      forecastPence,
      forecastReason: f?.reason ?? null,
      claimedPence,
      verifiedPence,
      verificationReason: report?.status === 'verified' ? report.verificationReason : null,
      variancePence: verifiedPence - forecastPence,
      rag: rag(forecastPence, verifiedPence, report?.status ?? null, yearEnded),
      reportId: report?.id ?? null,
      reportStatus: report?.status ?? null,
    });
  }
  return rows.sort((a, b) => a.benefitLineIndex - b.benefitLineIndex || a.year.localeCompare(b.year));
}

async function ownApprovedCase(trx: Tx, caseId: string, p: Principal): Promise<Case> {
  const c = await lockOwnCase(trx, caseId, p);
  if (!REPORTABLE.includes(c.status)) {
    throw refuse(RELEASES_REFUSALS, 'case-not-approved', `${c.reference} is ${c.status}; benefits are reported on approved cases.`);
  }
  return c;
}

function checkLineYear(c: Case, line: number, year: string, today: string): void {
  const errors = [];
  if (!c.benefits[line])
    errors.push({ pointer: '/benefitLineIndex', detail: `${c.reference} has benefit lines 0 to ${c.benefits.length - 1}` });
  if (!parseFinancialYear(year)) errors.push({ pointer: '/year', detail: 'must be a financial year as YYYY-YY' });
  else if (year < c.baseYear) errors.push({ pointer: '/year', detail: `is before the case's base year ${c.baseYear}` });
  else if (year > financialYearOf(new Date(`${today}T00:00:00Z`))) errors.push({ pointer: '/year', detail: 'has not started yet' });
  if (errors.length > 0) throw invalid(errors);
}

/**
 * A council revises the forecast (pence) of one benefit line of its own approved case for one year,
 * with a reason. Changes: the forecast, the case's kept register rows, an audit entry.
 * Refusals: `forbidden`; case-not-found (404), case-not-approved (409), register-total-too-large
 * (422: the register's total forecast would pass 2^53 − 1 pence).
 */
export const reviseForecast = operation(
  {
    roles: ['council'],
    organisation: "the case's lead council",
    refuses: ['case-not-found', 'case-not-approved', 'register-total-too-large'],
  },
  async (
    { trx, principal: p, requestId, now }: Act,
    caseId: string,
    input: { benefitLineIndex: number; year: string; forecastPence: Pence; reason: string },
  ) => {
    const c = await ownApprovedCase(trx, caseId, p);
    const errors = [];
    if (!c.benefits[input.benefitLineIndex])
      errors.push({ pointer: '/benefitLineIndex', detail: `${c.reference} has benefit lines 0 to ${c.benefits.length - 1}` });
    if (!parseFinancialYear(input.year) || input.year < c.baseYear)
      errors.push({ pointer: '/year', detail: `must be a financial year from ${c.baseYear}` });
    if (errors.length > 0) throw invalid(errors);
    const at = now.toISOString();
    await trx
      .deleteFrom('benefit_forecasts')
      .where('case_id', '=', caseId)
      .where('line_index', '=', input.benefitLineIndex)
      .where('year', '=', input.year)
      .execute();
    await trx
      .insertInto('benefit_forecasts')
      .values({
        case_id: caseId,
        line_index: input.benefitLineIndex,
        year: input.year,
        forecast_pence: input.forecastPence,
        reason: input.reason,
        revised_by: p.userId,
        revised_at: at,
      })
      .execute();
    // The register before the audit entry, as every register write does: it waits for a reload
    // (REGISTER_LOCK) before it holds the audit chain's head, which a reload appends to.
    const rows = await keepCaseRegister(trx, c, at.slice(0, 10));
    await appendAudit(
      trx,
      { actor: actorOf(p), action: 'benefit.forecast-revised', subject: SUBJECT.case(caseId), detail: input, requestId },
      now,
    );
    return rows.find((r) => r.benefitLineIndex === input.benefitLineIndex && r.year === input.year);
  },
);

/**
 * The council reports what a benefit line achieved in a year: one open report per line and year.
 * Changes: the report (pending), the case's kept register rows, an audit entry.
 * Refusals: `benefit-already-reported`, `register-total-too-large` (the register's total claims
 * would pass 2^53 − 1 pence), `financial-year-closed-for-verification` (the year is
 * closed, so the report could never be verified), and those of owning an approved case.
 * It can also refuse: case-not-found (404), case-not-approved (409).
 */
export const reportBenefit = operation(
  {
    roles: ['council'],
    organisation: "the case's lead council",
    refuses: [
      'case-not-found',
      'case-not-approved',
      'benefit-already-reported',
      'financial-year-closed-for-verification',
      'register-total-too-large',
    ],
  },
  async (
    { trx, principal: p, requestId, now }: Act,
    caseId: string,
    input: { benefitLineIndex: number; year: string; claimedPence: Pence; evidence: string },
  ): Promise<BenefitReport> => {
    const c = await ownApprovedCase(trx, caseId, p);
    const today = now.toISOString().slice(0, 10);
    checkLineYear(c, input.benefitLineIndex, input.year, today);
    await assertYearOpenForVerification(trx, input.year);
    const open = await trx
      .selectFrom('benefit_reports')
      .select(['id', 'status'])
      .where('case_id', '=', caseId)
      .where('line_index', '=', input.benefitLineIndex)
      .where('year', '=', input.year)
      .where('status', '!=', 'rejected')
      .executeTakeFirst();
    if (open) {
      throw refuse(
        BENEFITS_REFUSALS,
        'benefit-already-reported',
        `Benefit line ${input.benefitLineIndex} of ${c.reference} already has a ${open.status} report for ${input.year} (${open.id}).`,
      );
    }
    const row = {
      id: randomUUID(),
      case_id: caseId,
      line_index: input.benefitLineIndex,
      year: input.year,
      beneficiary_code: c.benefits[input.benefitLineIndex]?.beneficiaryCode ?? null,
      claimed_pence: input.claimedPence,
      evidence: input.evidence,
      status: 'pending',
      reported_by: p.userId,
      reported_at: now.toISOString(),
      verified_pence: null,
      reviewed_by: null,
      reviewed_at: null,
      rejection_reason: null,
      verification_reason: null,
    };
    await trx.insertInto('benefit_reports').values(row).execute();
    await keepLineYearRegister(trx, c, { line: input.benefitLineIndex, year: input.year }, today);
    await appendAudit(
      trx,
      { actor: actorOf(p), action: 'benefit.reported', subject: SUBJECT.benefitReport(row.id), detail: { caseId, ...input }, requestId },
      now,
    );
    return reportFromRow(row);
  },
);

// Read twice by every review: compiled once (src/db/prepared.ts).
const selectReport = prepared((db, id: string) => db.selectFrom('benefit_reports').selectAll().where('id', '=', id));

export async function getBenefitReport(db: Db | Tx, id: string): Promise<BenefitReport> {
  const [row] = (await selectReport(db, id)).rows;
  if (!row) throw refuse(BENEFITS_REFUSALS, 'benefit-report-not-found', `There is no benefit report ${id}.`);
  return reportFromRow(row);
}

/** Whether a benefit attributed to `beneficiaryCode` lands in department `code`'s budget (directly, or through a body answering to it). */
async function attributedTo(db: Db | Tx, beneficiaryCode: string | null, code: string | null): Promise<boolean> {
  if (!beneficiaryCode || !code) return false;
  return (await departmentOfOne(db, beneficiaryCode)) === code;
}

/** The beneficiary's department (the beneficiary itself, or the department a partner body answers to) or treasury. */
async function assertCanReview(db: Db | Tx, report: BenefitReport, p: Principal): Promise<void> {
  if (p.role === 'treasury') return;
  if (p.role === 'department' && (await attributedTo(db, report.beneficiaryCode, p.organisationCode))) return;
  throw forbidden('Only the department the benefit is attributed to, or treasury, can verify or reject this report.');
}

/** A report as its reader may see it: a department only the reports attributed to it. */
export async function getReadableBenefitReport(db: Db | Tx, p: Principal, id: string): Promise<BenefitReport> {
  const report = await getBenefitReport(db, id);
  await getReadableCase(db, p, report.caseId);
  if (p.role === 'department' && !(await attributedTo(db, report.beneficiaryCode, p.organisationCode))) {
    throw refuse(BENEFITS_REFUSALS, 'benefit-report-not-found', `There is no benefit report ${id}.`);
  }
  return report;
}

/** A case's register as its reader may see it: a department only the rows attributed to it. */
export async function readableRegister(db: Db | Tx, p: Principal, caseId: string, today: string): Promise<RegisterRow[]> {
  const c = await getReadableCase(db, p, caseId);
  const rows = await caseRegister(db, c, today);
  return p.role === 'department' ? rows.filter((r) => r.departmentCode === p.organisationCode) : rows;
}

// Read by every report and verification: compiled once (src/db/prepared.ts).
const selectYearClose = prepared((db, year: string) => db.selectFrom('year_closes').select('closed_at').where('financial_year', '=', year));

/** Once a year is closed its credits are fixed: a report for that year can no longer be filed or verified (a pending one can still be rejected). */
async function assertYearOpenForVerification(trx: Tx, year: string): Promise<void> {
  // The close holds the year's row lock while it counts; wait for it, so no verification slips in uncounted.
  if (isPostgres(trx)) await trx.selectFrom('financial_years').select('name').where('name', '=', year).forShare().execute();
  const [closed] = (await selectYearClose(trx, year)).rows;
  if (closed) {
    throw refuse(
      BENEFITS_REFUSALS,
      'financial-year-closed-for-verification',
      `Financial year ${year} was closed on ${closed.closed_at.slice(0, 10)}; its savings and credits are fixed, so reports for it can no longer be filed or verified.`,
    );
  }
}

/*
 * Verification, in full or in part. The beneficiary department (or treasury) verifies what the
 * evidence supports: the whole claim by default, or a part of it, `verifiedPence` from 1p up to
 * the claim, with a reason whenever it is less than the claim. The register then shows the claim
 * against what was verified. A review is final: a verified or rejected report is never edited or
 * reviewed again (`benefit-report-reviewed`), because a verified figure is what a department's
 * savings for the year are counted from, and the audit trail records it once. A rejected report
 * can be reported again by the council; a verified one stands.
 */
export type ReviewDecision = { verify: true; verifiedPence?: Pence; reason?: string } | { verify: false; reason: string };

/**
 * The beneficiary department (or treasury) verifies, in full or in part, or rejects a pending
 * benefit report. Changes the report's status, verified amount and reasons, and the case's kept
 * register rows; audited.
 * Refusals: `benefit-report-not-found`, `case-not-found`, `register-total-too-large` (the
 * register's total verified would pass 2^53 − 1 pence), `forbidden` (not the beneficiary's
 * department or treasury), `benefit-report-reviewed` (already verified or rejected),
 * `validation-error` (`/verifiedPence` above the claim or below 1p; `/reason` missing for a part),
 * `financial-year-closed-for-verification` (verifying a report for a closed year).
 */
export const reviewBenefitReport = operation(
  {
    roles: ['department', 'treasury'],
    organisation: 'the department whose budget the benefit lands in, or treasury',
    refuses: ['benefit-report-not-found', 'case-not-found', 'benefit-report-reviewed', 'register-total-too-large'],
  },
  async ({ trx, principal: p, requestId, now }: Act, id: string, decision: ReviewDecision): Promise<BenefitReport> => {
    // A report's case never changes: lock the case (its register is rewritten below), then read the
    // report as it now stands (a SQLite transaction has held the write lock since it began, so its
    // first read already is).
    const first = await getBenefitReport(trx, id);
    const c = await lockCase(trx, first.caseId);
    // Who may review depends on the department the beneficiary answers to: wait for any reload
    // under way (REGISTER_LOCK) before reading it, so a department a reload just moved the body
    // away from cannot verify it.
    await lockRegisterForWrite(trx);
    const report = isPostgres(trx) ? await getBenefitReport(trx, id) : first;
    await assertCanReview(trx, report, p);
    if (report.status !== 'pending') {
      throw refuse(BENEFITS_REFUSALS, 'benefit-report-reviewed', `Benefit report ${id} was ${report.status} on ${report.reviewedAt}.`);
    }
    if (decision.verify) await assertYearOpenForVerification(trx, report.year);
    const verified = decision.verify ? verifiedAmount(report, decision) : null;
    const at = now.toISOString();
    const changed = await trx
      .updateTable('benefit_reports')
      .set(
        verified
          ? {
              status: 'verified',
              verified_pence: verified.pence,
              verification_reason: verified.reason,
              reviewed_by: p.userId,
              reviewed_at: at,
            }
          : { status: 'rejected', rejection_reason: decision.reason ?? null, reviewed_by: p.userId, reviewed_at: at },
      )
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) !== 1)
      throw refuse(BENEFITS_REFUSALS, 'benefit-report-reviewed', `Benefit report ${id} was reviewed meanwhile.`);
    await keepLineYearRegister(trx, c, { line: report.benefitLineIndex, year: report.year }, at.slice(0, 10));
    await appendAudit(
      trx,
      {
        actor: actorOf(p),
        action: verified ? 'benefit.verified' : 'benefit.rejected',
        subject: SUBJECT.benefitReport(id),
        detail: verified
          ? { claimedPence: report.claimedPence, verifiedPence: verified.pence, reason: verified.reason }
          : { reason: decision.reason },
        requestId,
      },
      now,
    );
    // The report as the update above left it.
    return verified
      ? {
          ...report,
          status: 'verified',
          verifiedPence: verified.pence,
          verificationReason: verified.reason,
          reviewedBy: p.userId,
          reviewedAt: at,
        }
      : { ...report, status: 'rejected', rejectionReason: decision.reason ?? null, reviewedBy: p.userId, reviewedAt: at };
  },
);

/** The amount a verification records: the claim, or a part of it with its reason. */
function verifiedAmount(
  report: BenefitReport,
  decision: { verifiedPence?: Pence; reason?: string },
): { pence: Pence; reason: string | null } {
  const reason = decision.reason?.trim() || null;
  if (decision.verifiedPence === undefined) return { pence: report.claimedPence, reason };
  const errors = [];
  if (decision.verifiedPence < 1n)
    errors.push({ pointer: '/verifiedPence', detail: 'must be at least 1 pence; reject the report instead' });
  else if (decision.verifiedPence > report.claimedPence)
    errors.push({ pointer: '/verifiedPence', detail: `must be at most the claim, ${report.claimedPence} pence` });
  else if (decision.verifiedPence < report.claimedPence && !reason)
    errors.push({ pointer: '/reason', detail: 'must say why less than the claim is verified' });
  if (errors.length > 0) throw invalid(errors);
  return { pence: decision.verifiedPence, reason };
}

export interface BenefitsFilter {
  fy?: string;
  department?: string;
  place?: string;
  theme?: string;
  caseId?: string;
}

export interface RealisedBenefits {
  rows: RegisterRow[];
  totals: Totals;
  cashable: Totals;
  nonCashable: Totals;
}

interface Totals {
  appraisedPence: Pence;
  forecastPence: Pence;
  claimedPence: Pence;
  verifiedPence: Pence;
}

function total(rows: Totals[]): Totals {
  return rows.reduce(
    (t, r) => ({
      appraisedPence: t.appraisedPence + r.appraisedPence,
      forecastPence: t.forecastPence + r.forecastPence,
      claimedPence: t.claimedPence + r.claimedPence,
      verifiedPence: t.verifiedPence + r.verifiedPence,
    }),
    { appraisedPence: 0n, forecastPence: 0n, claimedPence: 0n, verifiedPence: 0n },
  );
}

/** What the reader and the filter select of the kept register; null when the reader may see none of it. */
interface Selection {
  fy?: string;
  department?: string;
  council?: string;
  place?: string;
  theme?: string;
  caseId?: string;
}

function selectionOf(p: Principal, filter: BenefitsFilter): Selection | null {
  // Departments see the benefits attributed to them; councils their own cases'.
  if (p.role === 'department' && filter.department && filter.department !== p.organisationCode) return null;
  return {
    fy: filter.fy || undefined,
    department: (p.role === 'department' ? (p.organisationCode ?? '') : filter.department) || undefined,
    council: p.role === 'council' ? (p.organisationCode ?? '') : undefined,
    place: filter.place || undefined,
    theme: filter.theme || undefined,
    caseId: filter.caseId || undefined,
  };
}

/**
 * The selection as conditions on the keys the kept rows and the kept totals share: one list for
 * the page's rows and its totals. (A council with no organisation code still filters, to nothing.)
 */
function keyConditions(s: Selection): [column: 'lead_council_code' | 'department_code' | 'place_code' | 'theme' | 'year', value: string][] {
  const out: ReturnType<typeof keyConditions> = [];
  if (s.council !== undefined) out.push(['lead_council_code', s.council]);
  if (s.department) out.push(['department_code', s.department]);
  if (s.place) out.push(['place_code', s.place]);
  if (s.theme) out.push(['theme', s.theme]);
  if (s.fy) out.push(['year', s.fy]);
  return out;
}

/** The kept register rows selected, in the register's order; each filter has an index in that order. */
function selectedRows(db: Db | Tx, s: Selection) {
  let q = db.selectFrom('benefit_register').selectAll();
  if (s.caseId) q = q.where('case_id', '=', s.caseId);
  for (const [column, value] of keyConditions(s)) q = q.where(column, '=', value);
  return q.orderBy('reference').orderBy('line_index').orderBy('year');
}

const NO_TOTALS: Totals = { appraisedPence: 0n, forecastPence: 0n, claimedPence: 0n, verifiedPence: 0n };

/**
 * The totals of the rows selected, cashable and not: summed from the kept totals (one row per
 * year, department, place, theme, lead council and cashable), or for one case from its own rows.
 */
function totalsQuery(db: Db | Tx, s: Selection) {
  const sums = [
    sql<unknown>`sum(appraised_pence)`.as('a'),
    sql<unknown>`sum(forecast_pence)`.as('f'),
    sql<unknown>`sum(claimed_pence)`.as('c'),
    sql<unknown>`sum(verified_pence)`.as('v'),
  ];
  if (s.caseId) {
    // One case: its own rows, however many cases there are.
    let q = db.selectFrom('benefit_register').where('case_id', '=', s.caseId);
    for (const [column, value] of keyConditions(s)) q = q.where(column, '=', value);
    return q.select(['cashable', ...sums]).groupBy('cashable');
  }
  let q = db.selectFrom('benefit_register_totals');
  for (const [column, value] of keyConditions(s)) q = q.where(column, '=', value);
  return q.select(['cashable', ...sums]).groupBy('cashable');
}

async function selectedTotals(db: Db | Tx, s: Selection): Promise<Pick<RealisedBenefits, 'totals' | 'cashable' | 'nonCashable'>> {
  const sums = await totalsQuery(db, s).execute();
  const pence = (x: unknown) => BigInt(String(x ?? 0));
  const of = (cashable: boolean): Totals => {
    const r = sums.find((x) => (Number(x.cashable) === 1) === cashable);
    return r ? { appraisedPence: pence(r.a), forecastPence: pence(r.f), claimedPence: pence(r.c), verifiedPence: pence(r.v) } : NO_TOTALS;
  };
  const cashable = of(true);
  const nonCashable = of(false);
  return { totals: total([cashable, nonCashable]), cashable, nonCashable };
}

/**
 * Forecast against verified across approved cases, by year, department, place, theme or case:
 * every row, in the order case reference, benefit line, year. Departments see the benefits
 * attributed to them; councils their own cases'. Totals are the sums of all the rows.
 * Readers: anyone. Changes nothing.
 */
export async function realisedBenefits(db: Db | Tx, p: Principal, filter: BenefitsFilter, today: string): Promise<RealisedBenefits> {
  const s = selectionOf(p, filter);
  const rows = s ? (await selectedRows(db, s).execute()).map((r) => registerRowOf(r, today)) : [];
  return {
    rows,
    totals: total(rows),
    cashable: total(rows.filter((r) => r.cashable)),
    nonCashable: total(rows.filter((r) => !r.cashable)),
  };
}

/*
 * Paging realised benefits. A page holds at most `limit` rows (default 500, at most 5,000) in
 * the order case reference, benefit line, year; `after` is the opaque cursor the previous page
 * returned as `nextCursor`, which is null on the last page. The totals are always those of the
 * whole filtered set, not of the page, so a reader need not fetch every page to see them.
 */
export const BENEFITS_PAGE_DEFAULT = 500;
export const BENEFITS_PAGE_MAX = 5000;

export interface RealisedBenefitsPage extends RealisedBenefits {
  nextCursor: string | null;
}

type RowKey = [reference: string, line: number, year: string];

function keyOf(r: RegisterRow): RowKey {
  return [r.reference, r.benefitLineIndex, r.year];
}

function encodeCursor(key: RowKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): RowKey {
  const refuse = () => invalid([{ parameter: 'after', detail: 'must be a `nextCursor` from an earlier page' }]);
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) throw refuse();
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
  if (
    !Array.isArray(key) ||
    key.length !== 3 ||
    typeof key[0] !== 'string' ||
    !CASE_REFERENCE.test(key[0]) ||
    // A benefit line's index (a case has at most a few hundred): within the column's 32 bits.
    !Number.isInteger(key[1]) ||
    key[1] < 0 ||
    key[1] > 1_000_000 ||
    typeof key[2] !== 'string' ||
    !parseFinancialYear(key[2])
  )
    throw refuse();
  return key as RowKey;
}

/**
 * One page of realised benefits (see the paging rule above) with the totals of every row the
 * filter and the reader allow. Readers: anyone. Changes nothing. `page.limit` is 1 to
 * BENEFITS_PAGE_MAX. Refusals: `validation-error` (parameter `after`) for a cursor this
 * service did not issue.
 */
export async function realisedBenefitsPage(
  db: Db | Tx,
  p: Principal,
  filter: BenefitsFilter,
  today: string,
  page: { after?: string; limit: number },
): Promise<RealisedBenefitsPage> {
  const after = page.after === undefined ? undefined : decodeCursor(page.after);
  const s = selectionOf(p, filter);
  if (!s) return { rows: [], totals: NO_TOTALS, cashable: NO_TOTALS, nonCashable: NO_TOTALS, nextCursor: null };
  // The page and the totals beside it from one snapshot, so they agree while reports are written.
  return readTogether(db, async (trx) => {
    const found = (await pageQuery(trx, s, after, page.limit).execute()).map((r) => registerRowOf(r, today));
    const rows = found.slice(0, page.limit);
    const last = rows.at(-1);
    return { rows, ...(await selectedTotals(trx, s)), nextCursor: found.length > page.limit && last ? encodeCursor(keyOf(last)) : null };
  });
}

/** Keyset paging: the rows after the cursor's key, one more than the page to know whether more follow. */
function pageQuery(db: Db | Tx, s: Selection, after: RowKey | undefined, limit: number) {
  let q = selectedRows(db, s);
  if (after) q = q.where(sql<boolean>`(reference, line_index, year) > (${after[0]}, ${after[1]}, ${after[2]})`);
  return q.limit(limit + 1);
}

/** The two queries a page of realised benefits runs (its rows, its totals), for reading their plans; null when the reader may see nothing. */
export function realisedBenefitsQueries(db: Db | Tx, p: Principal, filter: BenefitsFilter, page: { after?: string; limit: number }) {
  const s = selectionOf(p, filter);
  const after = page.after === undefined ? undefined : decodeCursor(page.after);
  return s ? { rows: pageQuery(db, s, after, page.limit), totals: totalsQuery(db, s) } : null;
}
