import { expect } from 'vitest';
import {
  type BenefitsFilter,
  caseRegisters,
  type RegisterRow,
  realisedBenefits,
  realisedBenefitsPage,
} from '../../src/benefits/benefits.ts';
import { caseFromRow } from '../../src/cases/records.ts';
import type { Db } from '../../src/db/database.ts';
import type { Principal } from '../../src/users/users.ts';

/*
 * The benefits register kept as rows (src/benefits/register.ts) against the register the
 * appraisal engine computes from the cases, forecasts and reports as they stand.
 */

const TODAY = '2026-09-30';

const principal = (role: Principal['role'], organisationCode: string | null = null): Principal => ({
  userId: `test-${role}-${organisationCode ?? 'all'}`,
  name: 'Reader',
  role,
  organisationCode,
  isChair: false,
});

const compare = (a: RegisterRow, b: RegisterRow) =>
  (a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0) ||
  a.benefitLineIndex - b.benefitLineIndex ||
  (a.year < b.year ? -1 : a.year > b.year ? 1 : 0);

/** Every approved or terminated case's register as the engine computes it now, with each case's lead council, in register order. */
async function computed(db: Db): Promise<{ rows: RegisterRow[]; councilOf: Map<string, string> }> {
  const cases = (await db.selectFrom('cases').selectAll().where('status', 'in', ['approved', 'terminated']).execute()).map(caseFromRow);
  const rows = (await caseRegisters(db, cases, TODAY)).flat().sort(compare);
  return { rows, councilOf: new Map(cases.map((c) => [c.id, c.leadCouncilCode])) };
}

function sums(rows: RegisterRow[]) {
  const of = (rs: RegisterRow[]) => ({
    appraisedPence: rs.reduce((t, r) => t + r.appraisedPence, 0n),
    forecastPence: rs.reduce((t, r) => t + r.forecastPence, 0n),
    claimedPence: rs.reduce((t, r) => t + r.claimedPence, 0n),
    verifiedPence: rs.reduce((t, r) => t + r.verifiedPence, 0n),
  });
  return {
    totals: of(rows),
    cashable: of(rows.filter((r) => r.cashable)),
    nonCashable: of(rows.filter((r) => !r.cashable)),
  };
}

/**
 * The kept register equals the computed one: every row, and for each filter and reader the rows
 * of a page-by-page read and the totals each page carries.
 */
export async function expectKeptAsComputed(db: Db): Promise<RegisterRow[]> {
  const { rows, councilOf } = await computed(db);
  expect(rows.length).toBeGreaterThan(0);
  expect((await realisedBenefits(db, principal('treasury'), {}, TODAY)).rows).toEqual(rows);

  const distinct = (f: (r: RegisterRow) => string | null) => [...new Set(rows.map(f))].filter((x): x is string => !!x).sort();
  const departments = distinct((r) => r.departmentCode);
  const places = distinct((r) => r.placeCode);
  const councils = distinct((r) => councilOf.get(r.caseId) ?? null);
  const readings: { p: Principal; filter: BenefitsFilter; keep: (r: RegisterRow) => boolean }[] = [
    { p: principal('treasury'), filter: {}, keep: () => true },
    ...departments.map((d) => ({ p: principal('auditor'), filter: { department: d }, keep: (r: RegisterRow) => r.departmentCode === d })),
    ...departments.map((d) => ({ p: principal('department', d), filter: {}, keep: (r: RegisterRow) => r.departmentCode === d })),
    ...places.map((pl) => ({ p: principal('panel'), filter: { place: pl }, keep: (r: RegisterRow) => r.placeCode === pl })),
    ...distinct((r) => r.theme).map((th) => ({
      p: principal('treasury'),
      filter: { theme: th },
      keep: (r: RegisterRow) => r.theme === th,
    })),
    ...distinct((r) => r.year).map((fy) => ({ p: principal('treasury'), filter: { fy }, keep: (r: RegisterRow) => r.year === fy })),
    ...councils.map((c) => ({ p: principal('council', c), filter: {}, keep: (r: RegisterRow) => councilOf.get(r.caseId) === c })),
    ...distinct((r) => r.caseId).map((id) => ({
      p: principal('treasury'),
      filter: { caseId: id },
      keep: (r: RegisterRow) => r.caseId === id,
    })),
  ];
  const [firstDepartment] = departments;
  const [firstYear] = distinct((r) => r.year);
  if (firstDepartment && firstYear) {
    readings.push({
      p: principal('department', firstDepartment),
      filter: { fy: firstYear, department: firstDepartment },
      keep: (r) => r.departmentCode === firstDepartment && r.year === firstYear,
    });
    readings.push({ p: principal('department', firstDepartment), filter: { department: 'NOT-ITS-OWN' }, keep: () => false });
  }
  for (const { p, filter, keep } of readings) {
    const expected = rows.filter(keep);
    const got: RegisterRow[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await realisedBenefitsPage(db, p, filter, TODAY, { after, limit: 3 });
      const { totals, cashable, nonCashable } = page;
      expect({ totals, cashable, nonCashable }, `totals for ${p.role} ${JSON.stringify(filter)}`).toEqual(sums(expected));
      got.push(...page.rows);
      if (page.nextCursor === null) break;
      after = page.nextCursor;
    }
    expect(got, `rows for ${p.role} ${JSON.stringify(filter)}`).toEqual(expected);
  }
  // The grand total a write is checked against is every row's sum.
  const grand = await db.selectFrom('benefit_register_grand_total').selectAll().executeTakeFirstOrThrow();
  const all = sums(rows).totals;
  expect({
    appraisedPence: BigInt(grand.appraised_pence),
    forecastPence: BigInt(grand.forecast_pence),
    claimedPence: BigInt(grand.claimed_pence),
    verifiedPence: BigInt(grand.verified_pence),
  }).toEqual(all);
  return rows;
}
