import { sql } from 'kysely';
import { type Db, isPostgres, type Tx } from '../db/database.ts';
import { prepared } from '../db/prepared.ts';
import type { BenefitRegisterTable, BenefitRegisterTotalsTable } from '../db/schema.ts';
import { refuse } from '../lib/refusals.ts';
import type { RegisterRow } from './benefits.ts';
import { BENEFITS_REFUSALS } from './refusals.ts';

/*
 * The benefits register kept as rows, so that a page of realised benefits and its totals cost
 * the same however many cases the fund holds.
 *
 *   benefit_register        — one row per case, benefit line and year: the appraised, forecast,
 *                             claimed and verified figures (pence) and the report deciding the
 *                             row, with the keys the filters use (year, case, reference, place,
 *                             theme, beneficiary's department, lead council). Written in the same
 *                             transaction as whatever it depends on: the case's approval (its
 *                             lines are fixed from then on), a forecast revision, a report filed,
 *                             verified or rejected, a reference reload moving a body to another
 *                             department. The rows are what `caseRegisters` computes
 *                             (the appraisal engine over the case, its forecasts and reports), the
 *                             one formula; nothing here computes a figure of its own. Approval, a
 *                             forecast revision and a reload rewrite a case's rows; a report filed or
 *                             reviewed changes only its line and year's figures, so it rewrites that
 *                             row's figures alone, in place (no filter's index is touched).
 *   benefit_register_totals — the same figures summed per year, department, place, theme, lead
 *                             council and cashable or not, kept with each write. Every filter of
 *                             `GET /benefits` but the case is one of these keys, so the totals of a
 *                             filter are a sum over at most (years × departments × places × themes
 *                             × 2) kept rows, a number the reference data bounds, not the cases.
 *
 * Variance and RAG are not stored: RAG depends on today, so both are worked out when read.
 * A register row has no department ('' in the totals' key) when its line names no beneficiary.
 */

export type StoredRegisterRow = BenefitRegisterTable;

/** Rows per insert (20 columns each: well under either engine's bound-parameter limit). */
const ROWS_PER_INSERT = 500;

function storedRow(leadCouncilCode: string, r: RegisterRow): StoredRegisterRow {
  return {
    case_id: r.caseId,
    line_index: r.benefitLineIndex,
    year: r.year,
    reference: r.reference,
    lead_council_code: leadCouncilCode,
    place_code: r.placeCode,
    theme: r.theme,
    outcome: r.outcome,
    type: r.type,
    cashable: r.cashable ? 1 : 0,
    beneficiary_code: r.beneficiaryCode,
    department_code: r.departmentCode,
    appraised_pence: r.appraisedPence,
    forecast_pence: r.forecastPence,
    forecast_reason: r.forecastReason,
    claimed_pence: r.claimedPence,
    verified_pence: r.verifiedPence,
    verification_reason: r.verificationReason,
    report_id: r.reportId,
    report_status: r.reportStatus,
  };
}

type TotalsKey = [year: string, department: string, place: string, theme: string, council: string, cashable: number];
type Figures = { appraised: bigint; forecast: bigint; claimed: bigint; verified: bigint };

function totalsKeyOf(s: StoredRegisterRow): TotalsKey {
  return [s.year, s.department_code ?? '', s.place_code, s.theme, s.lead_council_code, Number(s.cashable)];
}

// Compiled once per number of rows (src/db/prepared.ts): a report's write inserts one row.
const insertBatch = prepared((db, rows: StoredRegisterRow[]) => db.insertInto('benefit_register').values(rows));

/** Inserts stored rows in batches. */
async function insertRows(db: Db | Tx, rows: StoredRegisterRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) await insertBatch(db, rows.slice(i, i + ROWS_PER_INSERT));
}

/*
 * A case's kept rows are worked out from the organisations table (which department each body
 * answers to), and a reference reload changes that table and moves the kept rows with it. So a
 * reload and a register write must not overlap: on PostgreSQL a reload holds REGISTER_LOCK alone
 * for its whole transaction, and each register write holds it shared from before it reads the
 * organisations until it commits (a write waits for a reload to commit and then reads the
 * departments it left; a reload waits for the writes under way). A write takes it before it
 * appends its audit entry (the chain's head, which a reload appends to as well), so neither waits
 * for a lock the other holds. SQLite runs one writer at a time already.
 */
const REGISTER_LOCK = 7_402_113_013;

/** A reload takes the register for itself (see REGISTER_LOCK), before it changes any organisation. */
export async function lockRegisterForReload(trx: Tx): Promise<void> {
  if (isPostgres(trx)) await sql`select pg_advisory_xact_lock(${REGISTER_LOCK})`.execute(trx);
}

/** A register write waits for any reload under way (see REGISTER_LOCK), before it reads a department. */
export async function lockRegisterForWrite(trx: Tx): Promise<void> {
  if (isPostgres(trx)) await sql`select pg_advisory_xact_lock_shared(${REGISTER_LOCK})`.execute(trx);
}

/** One line and year of a case: the narrowest part of a case's register a write replaces. */
export interface LineYear {
  line: number;
  year: string;
}

// Read and written by every benefit report and review: compiled once (src/db/prepared.ts).
const selectKeptRows = prepared((db, caseId: string) => db.selectFrom('benefit_register').selectAll().where('case_id', '=', caseId));
const selectKeptRow = prepared((db, caseId: string, line: number, year: string) =>
  db.selectFrom('benefit_register').selectAll().where('case_id', '=', caseId).where('line_index', '=', line).where('year', '=', year),
);
const deleteKeptRows = prepared((db, caseId: string) => db.deleteFrom('benefit_register').where('case_id', '=', caseId));
// Only the figures and the deciding report: none of the filters' indexed keys, so no index is rewritten.
const updateKeptFigures = prepared((db, s: StoredRegisterRow) =>
  db
    .updateTable('benefit_register')
    .set({
      appraised_pence: s.appraised_pence,
      forecast_pence: s.forecast_pence,
      forecast_reason: s.forecast_reason,
      claimed_pence: s.claimed_pence,
      verified_pence: s.verified_pence,
      verification_reason: s.verification_reason,
      report_id: s.report_id,
      report_status: s.report_status,
    })
    .where('case_id', '=', s.case_id)
    .where('line_index', '=', s.line_index)
    .where('year', '=', s.year),
);

/** Case `caseId`'s kept row for one line and year, if it has one. */
export async function keptRegisterRow(trx: Tx, caseId: string, at: LineYear): Promise<StoredRegisterRow | undefined> {
  return (await selectKeptRow(trx, caseId, at.line, at.year)).rows[0];
}

/**
 * Replaces one case's stored register with `rows` (its register as `caseRegisters` computes it)
 * and moves the kept totals by the difference, in the caller's transaction. Called by every
 * operation that changes what a case's register holds, after the change.
 */
export async function storeCaseRegister(trx: Tx, c: { id: string; leadCouncilCode: string }, rows: RegisterRow[]): Promise<void> {
  const old = (await selectKeptRows(trx, c.id)).rows;
  const now = rows.map((r) => storedRow(c.leadCouncilCode, r));
  await deleteKeptRows(trx, c.id);
  await insertRows(trx, now);
  await moveTotals(trx, old, now);
}

/**
 * Replaces the kept row `kept` of one line and year with `row` (the same line and year as
 * `caseRegisters` computes it), when only its figures can have changed (a benefit report filed
 * or reviewed), and moves the kept totals by the difference.
 */
export async function storeLineYearRegister(trx: Tx, kept: StoredRegisterRow, row: RegisterRow): Promise<void> {
  const now = storedRow(kept.lead_council_code, row);
  await updateKeptFigures(trx, now);
  await moveTotals(trx, [kept], [now]);
}

/** Moves the kept totals from what `old` rows add up to, to what `now` rows do. */
async function moveTotals(trx: Tx, old: StoredRegisterRow[], now: StoredRegisterRow[]): Promise<void> {
  const change = new Map<string, { key: TotalsKey; by: Figures }>();
  const add = (s: StoredRegisterRow, sign: bigint) => {
    const key = totalsKeyOf(s);
    const id = JSON.stringify(key);
    let entry = change.get(id);
    if (!entry) {
      entry = { key, by: { appraised: 0n, forecast: 0n, claimed: 0n, verified: 0n } };
      change.set(id, entry);
    }
    entry.by.appraised += sign * BigInt(s.appraised_pence);
    entry.by.forecast += sign * BigInt(s.forecast_pence);
    entry.by.claimed += sign * BigInt(s.claimed_pence);
    entry.by.verified += sign * BigInt(s.verified_pence);
  };
  for (const s of old) add(s, -1n);
  for (const s of now) add(s, 1n);
  // In one order whatever the case, so two writers moving the same totals cannot deadlock.
  const moves = [...change.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, { key, by }]) => {
      const [year, department_code, place_code, theme, lead_council_code, cashable] = key;
      return {
        year,
        department_code,
        place_code,
        theme,
        lead_council_code,
        cashable,
        appraised_pence: by.appraised,
        forecast_pence: by.forecast,
        claimed_pence: by.claimed,
        verified_pence: by.verified,
      };
    })
    .filter((m) => m.appraised_pence !== 0n || m.forecast_pence !== 0n || m.claimed_pence !== 0n || m.verified_pence !== 0n);
  for (let i = 0; i < moves.length; i += TOTALS_PER_UPSERT) await addToTotals(trx, moves.slice(i, i + TOTALS_PER_UPSERT));
  const by = { appraised: 0n, forecast: 0n, claimed: 0n, verified: 0n };
  for (const m of moves) {
    by.appraised += m.appraised_pence;
    by.forecast += m.forecast_pence;
    by.claimed += m.claimed_pence;
    by.verified += m.verified_pence;
  }
  if (by.appraised !== 0n || by.forecast !== 0n || by.claimed !== 0n || by.verified !== 0n) await moveGrandTotal(trx, by);
}

/*
 * Every figure the register shows is a sum of kept rows no larger than the grand total, so while
 * the grand total stays within 2^53 − 1 pence every total `GET /benefits` gives is a safe integer
 * in JSON. A write that would take it past refuses (its transaction rolls back).
 */
const MAX_REGISTER_PENCE = BigInt(Number.MAX_SAFE_INTEGER);

const addToGrandTotal = prepared((db, by: Figures) =>
  db
    .updateTable('benefit_register_grand_total')
    .set({
      appraised_pence: sql`appraised_pence + ${by.appraised}`,
      forecast_pence: sql`forecast_pence + ${by.forecast}`,
      claimed_pence: sql`claimed_pence + ${by.claimed}`,
      verified_pence: sql`verified_pence + ${by.verified}`,
    })
    .where('id', '=', 1)
    .returning(['appraised_pence', 'forecast_pence', 'claimed_pence', 'verified_pence']),
);

async function moveGrandTotal(trx: Tx, by: Figures): Promise<void> {
  const [total] = (await addToGrandTotal(trx, by)).rows;
  if (!total) throw new Error('The benefits register’s grand total row is missing.');
  const over = Object.entries(total).find(([, v]) => BigInt(v) > MAX_REGISTER_PENCE);
  if (over) {
    throw refuse(
      BENEFITS_REFUSALS,
      'register-total-too-large',
      `This change would take the register’s total ${over[0].replace('_pence', '')} benefits past £90,071,992,547,409.91, the most its figures carry exactly.`,
    );
  }
}

/** Totals keys per upsert (10 columns each: well under either engine's bound-parameter limit). */
const TOTALS_PER_UPSERT = 200;

// One statement for all the keys a register write moves (each key once), compiled once per
// number of keys (src/db/prepared.ts).
const addToTotals = prepared((db, moves: BenefitRegisterTotalsTable[]) =>
  db
    .insertInto('benefit_register_totals')
    .values(moves)
    .onConflict((oc) =>
      oc.columns(['year', 'department_code', 'place_code', 'theme', 'lead_council_code', 'cashable']).doUpdateSet({
        appraised_pence: sql`benefit_register_totals.appraised_pence + excluded.appraised_pence`,
        forecast_pence: sql`benefit_register_totals.forecast_pence + excluded.forecast_pence`,
        claimed_pence: sql`benefit_register_totals.claimed_pence + excluded.claimed_pence`,
        verified_pence: sql`benefit_register_totals.verified_pence + excluded.verified_pence`,
      }),
    ),
);

/** Adds cases' registers to a register that holds none of their rows yet (the backfill), leaving the totals to `rebuildRegisterTotals`. */
export async function insertCaseRegisters(db: Db | Tx, cases: { leadCouncilCode: string; rows: RegisterRow[] }[]): Promise<void> {
  await insertRows(
    db,
    cases.flatMap((c) => c.rows.map((r) => storedRow(c.leadCouncilCode, r))),
  );
}

/** Sets the kept totals afresh from the stored rows (after the backfill, or after a reference reload moves a body between departments). */
export async function rebuildRegisterTotals(db: Db | Tx): Promise<void> {
  await db.deleteFrom('benefit_register_totals').execute();
  await sql`
    insert into benefit_register_totals
      (year, department_code, place_code, theme, lead_council_code, cashable,
       appraised_pence, forecast_pence, claimed_pence, verified_pence)
    select year, coalesce(department_code, ''), place_code, theme, lead_council_code, cashable,
           sum(appraised_pence), sum(forecast_pence), sum(claimed_pence), sum(verified_pence)
    from benefit_register
    group by year, coalesce(department_code, ''), place_code, theme, lead_council_code, cashable`.execute(db);
}

/**
 * After a reference reload, the stored rows of a body's lines follow the department it now
 * answers to (as `caseRegisters` would compute them), and the totals with them. Changes nothing
 * when no body moved.
 */
export async function followDepartments(trx: Tx, moved: { code: string; departmentCode: string | null }[]): Promise<void> {
  let changed = 0;
  for (const m of moved) {
    const r = await trx
      .updateTable('benefit_register')
      .set({ department_code: m.departmentCode })
      .where('beneficiary_code', '=', m.code)
      .where((eb) =>
        m.departmentCode === null
          ? eb('department_code', 'is not', null)
          : eb.or([eb('department_code', 'is', null), eb('department_code', '!=', m.departmentCode)]),
      )
      .executeTakeFirst();
    changed += Number(r.numUpdatedRows);
  }
  if (changed > 0) await rebuildRegisterTotals(trx);
}
