import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/audit.ts';
import { type Db, isPostgres, type Tx } from '../db/database.ts';
import { financialYearOf, getFinancialYear } from '../fund/fund.ts';
import { MAX_AMOUNT } from '../ledger/types.ts';
import { forbidden, notFound, unprocessable } from '../lib/errors.ts';
import { formatPence, type Pence } from '../lib/money.ts';
import { type Act, type Look, operation } from '../lib/operation.ts';
import { actorOf } from '../users/users.ts';

/*
 * Pooled asset disposals (DESIGN step 11). Treasury sets each department's capital-receipts
 * target for a place and year; departments record the disposals they make there (asset,
 * receipt, date). A place's pooled target is the sum of its departments' targets; it is met
 * when the receipts recorded there in that year, by all departments together, reach it — a
 * department that sells more carries one that sells less. Each department's part is shown.
 * The year of a disposal is the financial year containing its date.
 * A place's pooled target and its receipts for a year each stay within 2^53 − 1 pence
 * (MAX_AMOUNT), so every total it shows is an exact JSON number: a target or disposal that would
 * pass it is refused (`place-total-beyond-limit`). Writers hold the place's row while they check.
 */

export interface DisposalTarget {
  placeCode: string;
  financialYear: string;
  departmentCode: string;
  targetPence: Pence;
  setBy: string;
  setAt: string;
}

export interface Disposal {
  id: string;
  placeCode: string;
  financialYear: string;
  departmentCode: string;
  asset: string;
  receiptPence: Pence;
  disposedOn: string;
  recordedBy: string;
  recordedAt: string;
}

export interface PlaceDisposals {
  placeCode: string;
  financialYear: string;
  pooledTargetPence: Pence;
  receiptsPence: Pence;
  met: boolean;
  departments: { departmentCode: string; targetPence: Pence; receiptsPence: Pence }[];
  disposals: Disposal[];
}

async function mustBePlace(db: Db | Tx, code: string): Promise<void> {
  const place = await db.selectFrom('places').select('code').where('code', '=', code).executeTakeFirst();
  if (!place) throw notFound('place', `There is no place with the code ${code}.`);
}

/** Writers lock the place's row (PostgreSQL; SQLite writers already run one at a time) so that totals are checked as they will stand. */
async function lockPlace(trx: Tx, code: string): Promise<void> {
  if (isPostgres(trx)) await trx.selectFrom('places').select('code').where('code', '=', code).forUpdate().execute();
  await mustBePlace(trx, code);
}

function assertWithinLimit(total: Pence, what: string, pointer: string): void {
  if (total > MAX_AMOUNT) {
    throw unprocessable(
      'place-total-beyond-limit',
      'Beyond the largest total a place can show',
      `This would take the place's ${what} to ${formatPence(total)}, past ${formatPence(MAX_AMOUNT)}.`,
      { pointer },
    );
  }
}

/**
 * Treasury sets a department's capital-receipts target for a place and year (replacing any
 * earlier one). Refusals: place-not-found, financial-year-not-found, department-not-found (404);
 * place-total-beyond-limit (422).
 */
export const setDisposalTarget = operation(
  { roles: ['treasury'], refuses: ['place-not-found', 'financial-year-not-found', 'department-not-found', 'place-total-beyond-limit'] },
  async (
    { trx, principal: p, requestId, now }: Act,
    placeCode: string,
    input: { financialYear: string; departmentCode: string; targetPence: Pence },
  ): Promise<DisposalTarget> => {
    await lockPlace(trx, placeCode);
    await getFinancialYear(trx, input.financialYear);
    const dept = await trx.selectFrom('organisations').select('kind').where('code', '=', input.departmentCode).executeTakeFirst();
    if (dept?.kind !== 'department') throw notFound('department', `There is no department with the code ${input.departmentCode}.`);
    const others = await trx
      .selectFrom('disposal_targets')
      .select('target_pence')
      .where('place_code', '=', placeCode)
      .where('financial_year', '=', input.financialYear)
      .where('department_code', '!=', input.departmentCode)
      .execute();
    assertWithinLimit(
      others.reduce((s, t) => s + BigInt(t.target_pence), input.targetPence),
      `pooled target for ${input.financialYear}`,
      '/targetPence',
    );
    const at = now.toISOString();
    await trx
      .deleteFrom('disposal_targets')
      .where('place_code', '=', placeCode)
      .where('financial_year', '=', input.financialYear)
      .where('department_code', '=', input.departmentCode)
      .execute();
    await trx
      .insertInto('disposal_targets')
      .values({
        place_code: placeCode,
        financial_year: input.financialYear,
        department_code: input.departmentCode,
        target_pence: input.targetPence,
        set_by: p.userId,
        set_at: at,
      })
      .execute();
    const target = { placeCode, ...input, setBy: p.userId, setAt: at };
    await appendAudit(
      trx,
      { actor: actorOf(p), action: 'disposal-target.set', subject: `place/${placeCode}/disposal-targets`, detail: target, requestId },
      now,
    );
    return target;
  },
);

/**
 * A department records a disposal it made at a place. Who: a department user, for their own
 * department. Refusals: place-not-found, financial-year-not-found (404); disposal-in-the-future,
 * place-total-beyond-limit (422).
 */
export const recordDisposal = operation(
  {
    roles: ['department'],
    organisation: 'its own department',
    refuses: ['place-not-found', 'disposal-in-the-future', 'financial-year-not-found', 'place-total-beyond-limit'],
  },
  async (
    { trx, principal: p, requestId, now }: Act,
    placeCode: string,
    input: { asset: string; receiptPence: Pence; disposedOn: string },
  ): Promise<Disposal> => {
    if (p.role !== 'department' || !p.organisationCode)
      throw forbidden('Only a department user records disposals, for their own department.');
    await lockPlace(trx, placeCode);
    if (input.disposedOn > now.toISOString().slice(0, 10)) {
      throw unprocessable(
        'disposal-in-the-future',
        'Disposal date in the future',
        `A disposal is recorded once made; ${input.disposedOn} is after today.`,
        {
          pointer: '/disposedOn',
        },
      );
    }
    const fy = financialYearOf(new Date(`${input.disposedOn}T00:00:00Z`));
    await getFinancialYear(trx, fy);
    const soFar = await trx
      .selectFrom('disposals')
      .select('receipt_pence')
      .where('place_code', '=', placeCode)
      .where('financial_year', '=', fy)
      .execute();
    assertWithinLimit(
      soFar.reduce((s, r) => s + BigInt(r.receipt_pence), input.receiptPence),
      `receipts for ${fy}`,
      '/receiptPence',
    );
    const d: Disposal = {
      id: randomUUID(),
      placeCode,
      financialYear: fy,
      departmentCode: p.organisationCode,
      ...input,
      recordedBy: p.userId,
      recordedAt: now.toISOString(),
    };
    await trx
      .insertInto('disposals')
      .values({
        id: d.id,
        place_code: placeCode,
        financial_year: fy,
        department_code: d.departmentCode,
        asset: d.asset,
        receipt_pence: d.receiptPence,
        disposed_on: d.disposedOn,
        recorded_by: d.recordedBy,
        recorded_at: d.recordedAt,
      })
      .execute();
    await appendAudit(trx, { actor: actorOf(p), action: 'disposal.recorded', subject: `disposal/${d.id}`, detail: d, requestId }, now);
    return d;
  },
);

/** A place's pooled target, receipts and each department's part for a year. Refusal: place-not-found (404). */
export async function placeDisposals(db: Db | Tx, placeCode: string, fy: string): Promise<PlaceDisposals> {
  await mustBePlace(db, placeCode);
  const [targets, rows] = await Promise.all([
    db.selectFrom('disposal_targets').selectAll().where('place_code', '=', placeCode).where('financial_year', '=', fy).execute(),
    db
      .selectFrom('disposals')
      .selectAll()
      .where('place_code', '=', placeCode)
      .where('financial_year', '=', fy)
      .orderBy('disposed_on')
      .orderBy('id')
      .execute(),
  ]);
  const disposals: Disposal[] = rows.map((r) => ({
    id: r.id,
    placeCode: r.place_code,
    financialYear: r.financial_year,
    departmentCode: r.department_code,
    asset: r.asset,
    receiptPence: BigInt(r.receipt_pence),
    disposedOn: r.disposed_on,
    recordedBy: r.recorded_by,
    recordedAt: r.recorded_at,
  }));
  const parts = new Map<string, { departmentCode: string; targetPence: Pence; receiptsPence: Pence }>();
  const part = (code: string) => {
    let x = parts.get(code);
    if (!x) {
      x = { departmentCode: code, targetPence: 0n, receiptsPence: 0n };
      parts.set(code, x);
    }
    return x;
  };
  for (const t of targets) part(t.department_code).targetPence = BigInt(t.target_pence);
  for (const d of disposals) part(d.departmentCode).receiptsPence += d.receiptPence;
  const pooled = targets.reduce((s, t) => s + BigInt(t.target_pence), 0n);
  const receipts = disposals.reduce((s, d) => s + d.receiptPence, 0n);
  return {
    placeCode,
    financialYear: fy,
    pooledTargetPence: pooled,
    receiptsPence: receipts,
    met: pooled > 0n && receipts >= pooled,
    departments: [...parts.values()].sort((a, b) => a.departmentCode.localeCompare(b.departmentCode)),
    disposals,
  };
}

/** Every place with a target or a disposal in a year: a domain read for reports. */
export async function disposalsByPlace(db: Db | Tx, fy: string): Promise<PlaceDisposals[]> {
  const [a, b] = await Promise.all([
    db.selectFrom('disposal_targets').select('place_code').where('financial_year', '=', fy).distinct().execute(),
    db.selectFrom('disposals').select('place_code').where('financial_year', '=', fy).distinct().execute(),
  ]);
  const places = [...new Set([...a, ...b].map((r) => r.place_code))].sort();
  const out: PlaceDisposals[] = [];
  for (const place of places) out.push(await placeDisposals(db, place, fy));
  return out;
}

/** Who reads places' pooled disposals: everyone but councils, as `GET /places/{code}/disposals`. */
export const DISPOSAL_READERS = ['treasury', 'auditor', 'panel', 'department'] as const;

/** Every place's pooled progress for year `fy` (see `disposalsByPlace`), for the disposal readers. */
export const readDisposalsByPlace = operation({ roles: DISPOSAL_READERS }, ({ db }: Look, fy: string) => disposalsByPlace(db, fy));
