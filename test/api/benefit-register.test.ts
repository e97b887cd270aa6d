import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { up as backfill } from '../../migrations/0013_benefit_register.ts';
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
import { simpleCase } from '../support/cases.ts';
import { engines } from '../support/db.ts';
import { type DemoWorld, demoWorld } from '../support/demo.ts';
import { approvedCase, submitted, type World, world } from '../support/releases.ts';

/*
 * The benefits register kept as rows (src/benefits/register.ts): after the demo's year, after the
 * migration's backfill, and after each kind of change (a case approved, a forecast revised, a
 * benefit reported, verified, rejected), the kept rows are exactly the register the appraisal
 * engine computes from the cases, forecasts and reports, and the kept totals of every filter and
 * reader are the sums of those rows; a filtered page through them gives every row once.
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
async function expectKeptAsComputed(db: Db): Promise<RegisterRow[]> {
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
  return rows;
}

/** The kept tables as they stand, in a fixed order. */
async function kept(db: Db) {
  return {
    rows: await db.selectFrom('benefit_register').selectAll().orderBy('case_id').orderBy('line_index').orderBy('year').execute(),
    totals: await db
      .selectFrom('benefit_register_totals')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('appraised_pence', '!=', 0n),
          eb('forecast_pence', '!=', 0n),
          eb('claimed_pence', '!=', 0n),
          eb('verified_pence', '!=', 0n),
        ]),
      )
      .orderBy('year')
      .orderBy('department_code')
      .orderBy('place_code')
      .orderBy('theme')
      .orderBy('lead_council_code')
      .orderBy('cashable')
      .execute(),
  };
}

describe.each(engines())('the benefits register kept as rows on %s', (engine) => {
  describe("after the demo's year", () => {
    let d: DemoWorld;
    beforeAll(async () => {
      d = await demoWorld(engine);
    }, 180_000);
    afterAll(() => d?.t.destroy());

    it('holds exactly the register the appraisal engine computes, and every filter its sums', async () => {
      await expectKeptAsComputed(d.t.database.db);
    });

    it("is rebuilt by the migration's backfill to exactly what the writes kept", async () => {
      const db = d.t.database.db;
      const written = await kept(db);
      expect(written.rows.length).toBeGreaterThan(0);
      await sql`drop table benefit_register_totals`.execute(db);
      await sql`drop table benefit_register`.execute(db);
      await backfill(db as never);
      expect(await kept(db)).toEqual(written);
      await expectKeptAsComputed(db);
    });
  });

  describe('after each kind of change', () => {
    let w: World;
    beforeAll(async () => {
      w = await world(engine);
    });
    afterAll(() => w?.t.destroy());

    const ok = async (reply: Promise<{ status: number; text: string; body: { id?: string } }>, status: number) => {
      const r = await reply;
      expect(r.status, r.text).toBe(status);
      return r.body;
    };

    it('follows approval, forecast revisions, reports, verification and rejection', async () => {
      const db = w.t.database.db;
      const bradford = await approvedCase(w);
      await approvedCase(w, {
        body: { ...simpleCase(w.roundId, { title: 'Lewisham pilot' }), placeCode: 'LEWISHAM' },
        token: w.tokens.lewisham,
      });
      // A submitted case has no register until it is approved.
      await submitted(w, simpleCase(w.roundId, { title: 'Not decided' }));
      const before = await expectKeptAsComputed(db);
      const row = before.find((r) => r.caseId === bradford) as RegisterRow;

      await ok(
        w.t.request('POST', `/api/v1/cases/${bradford}/benefit-forecasts`, {
          token: w.tokens.bradford,
          body: { benefitLineIndex: row.benefitLineIndex, year: row.year, forecastPence: 123_456, reason: 'Slower start.' },
        }),
        200,
      );
      let now = await expectKeptAsComputed(db);
      expect(now.find((r) => r.caseId === bradford && r.year === row.year && r.benefitLineIndex === row.benefitLineIndex)).toMatchObject({
        forecastPence: 123_456n,
        forecastReason: 'Slower start.',
      });

      const report = (claimedPence: number) =>
        ok(
          w.t.request('POST', `/api/v1/cases/${bradford}/benefit-reports`, {
            token: w.tokens.bradford,
            body: { benefitLineIndex: row.benefitLineIndex, year: '2026-27', claimedPence, evidence: 'Cohort records, matched.' },
          }),
          201,
        );
      const first = await report(100_000);
      now = await expectKeptAsComputed(db);
      expect(now.find((r) => r.reportId === first.id)).toMatchObject({ claimedPence: 100_000n, reportStatus: 'pending' });

      await ok(w.t.request('POST', `/api/v1/benefit-reports/${first.id}/reject`, { body: { reason: 'Wrong cohort.' } }), 200);
      now = await expectKeptAsComputed(db);
      expect(now.find((r) => r.reportId === first.id)).toMatchObject({ claimedPence: 0n, reportStatus: 'rejected' });

      const second = await report(90_000);
      await expectKeptAsComputed(db);
      await ok(
        w.t.request('POST', `/api/v1/benefit-reports/${second.id}/verify`, { body: { verifiedPence: 80_000, reason: 'Part evidenced.' } }),
        200,
      );
      now = await expectKeptAsComputed(db);
      expect(now.find((r) => r.reportId === second.id)).toMatchObject({
        claimedPence: 90_000n,
        verifiedPence: 80_000n,
        verificationReason: 'Part evidenced.',
        reportStatus: 'verified',
      });
    });
  });
});
