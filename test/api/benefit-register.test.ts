import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { up as backfill } from '../../migrations/0013_benefit_register.ts';
import type { RegisterRow } from '../../src/benefits/benefits.ts';
import { followDepartments, lockRegisterForReload } from '../../src/benefits/register.ts';
import type { Db } from '../../src/db/database.ts';
import { FIXTURES_DIR, loadReferenceData } from '../../src/reference/reference.ts';
import type { Reply } from '../support/app.ts';
import { expectKeptAsComputed } from '../support/benefit-register.ts';
import { simpleCase } from '../support/cases.ts';
import { engines } from '../support/db.ts';
import { type DemoWorld, demoWorld } from '../support/demo.ts';
import { approvedCase, expectProblem, submitted, type World, world } from '../support/releases.ts';

/*
 * The benefits register kept as rows (src/benefits/register.ts): after the demo's year, after the
 * migration's backfill, and after each kind of change (a case approved, a forecast revised, a
 * benefit reported, verified, rejected, a body moved to another department), the kept rows are exactly the register the appraisal
 * engine computes from the cases, forecasts and reports, and the kept totals of every filter and
 * reader are the sums of those rows; a filtered page through them gives every row once.
 */

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

    it('adds a row when a report is filed for a year the appraisal gives nothing', async () => {
      const db = w.t.database.db;
      const base = simpleCase(w.roundId, { title: 'Two-line pilot' });
      const [line] = base.benefits;
      // Line 1 starts a year later, so the appraisal gives it nothing in 2026-27.
      const id = await approvedCase(w, { body: { ...base, benefits: [line, { ...line, volumes: { '2027-28': 5_000 } }] } });
      const before = await expectKeptAsComputed(db);
      expect(before.some((r) => r.caseId === id && r.benefitLineIndex === 1 && r.year === '2026-27')).toBe(false);
      const filed = await ok(
        w.t.request('POST', `/api/v1/cases/${id}/benefit-reports`, {
          token: w.tokens.bradford,
          body: { benefitLineIndex: 1, year: '2026-27', claimedPence: 7_000, evidence: 'Early starters, matched.' },
        }),
        201,
      );
      const now = await expectKeptAsComputed(db);
      expect(now.find((r) => r.reportId === filed.id)).toMatchObject({ appraisedPence: 0n, claimedPence: 7_000n, reportStatus: 'pending' });
      await ok(w.t.request('POST', `/api/v1/benefit-reports/${filed.id}/verify`, { body: {} }), 200);
      expect((await expectKeptAsComputed(db)).find((r) => r.reportId === filed.id)).toMatchObject({ verifiedPence: 7_000n });
    });

    it('refuses by name a forecast that would take the register past 2^53 − 1 pence, and still answers every read', async () => {
      const db = w.t.database.db;
      const id = await approvedCase(w, { title: 'Largest forecasts' });
      const forecast = (year: string) =>
        w.t.request('POST', `/api/v1/cases/${id}/benefit-forecasts`, {
          token: w.tokens.bradford,
          body: { benefitLineIndex: 0, year, forecastPence: 100_000_000_000_000, reason: 'As large as a forecast may be.' },
        });
      // £1tn a year, the most one forecast may be: the 91st year passes £90,071,992,547,409.91.
      let refused = null;
      for (let y = 2026; y < 2026 + 92 && !refused; y++) {
        const r = await forecast(`${y}-${String((y + 1) % 100).padStart(2, '0')}`);
        if (r.status !== 200) refused = { year: y, r };
      }
      expect(refused?.year).toBe(2026 + 90);
      expectProblem(refused?.r as Reply, 422, 'register-total-too-large');
      for (const path of [
        '/api/v1/benefits',
        '/api/v1/benefits?fy=2026-27',
        `/api/v1/benefits?case=${id}`,
        `/api/v1/cases/${id}/benefits`,
      ]) {
        const r = await w.t.request('GET', path);
        expect(r.status, `${path} ${r.text}`).toBe(200);
      }
      await expectKeptAsComputed(db);
    });

    it('follows a body the reference data moves to another department', async () => {
      const db = w.t.database.db;
      const dir = mkdtempSync(join(tmpdir(), 'topslice-fixtures-'));
      try {
        cpSync(FIXTURES_DIR, dir, { recursive: true });
        const file = join(dir, 'organisations.json');
        const orgs = JSON.parse(readFileSync(file, 'utf8')) as { code: string; departmentCode?: string }[];
        const icb = orgs.find((o) => o.code === 'WEST-YORKSHIRE-ICB');
        if (!icb) throw new Error('fixture changed');
        icb.departmentCode = 'DWP';
        writeFileSync(file, JSON.stringify(orgs));
        await loadReferenceData(db, dir, new Date('2026-07-01T00:00:00Z'));
        const rows = await expectKeptAsComputed(db);
        const icbRows = rows.filter((r) => r.beneficiaryCode === 'WEST-YORKSHIRE-ICB');
        expect(icbRows.length).toBeGreaterThan(0);
        expect(new Set(icbRows.map((r) => r.departmentCode))).toEqual(new Set(['DWP']));
      } finally {
        await loadReferenceData(db);
        rmSync(dir, { recursive: true, force: true });
      }
      await expectKeptAsComputed(db);
    });

    it("gives a page's rows and its totals from one snapshot while forecasts are revised", async () => {
      const caseId = await approvedCase(w, { body: { ...simpleCase(w.roundId, { title: 'Busy case' }), placeCode: 'BRADFORD' } });
      const rows = (await expectKeptAsComputed(w.t.database.db)).filter((r) => r.caseId === caseId);
      const revise = (i: number) => {
        const r = rows[i % rows.length] as RegisterRow;
        return w.t.request('POST', `/api/v1/cases/${caseId}/benefit-forecasts`, {
          token: w.tokens.bradford,
          body: { benefitLineIndex: r.benefitLineIndex, year: r.year, forecastPence: 1_000 + i, reason: 'Revised.' },
        });
      };
      const read = async () => {
        const page = await w.t.request('GET', `/api/v1/benefits?case=${caseId}&limit=5000`);
        expect(page.status, page.text).toBe(200);
        const sum = page.body.rows.reduce((s: bigint, r: { forecastPence: number }) => s + BigInt(r.forecastPence), 0n);
        expect(BigInt(page.body.totals.forecastPence)).toBe(sum);
      };
      await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? revise(i) : read())));
    });

    /**
     * Sends `request` while a reload that moves WEST-YORKSHIRE-ICB from DHSC to DWP is held open
     * (as loadReferenceData does it: the register's lock, the body moved, its kept rows followed),
     * lets the reload commit, runs `check` on the reply, and loads the fixtures again.
     */
    async function duringReload(request: () => Promise<Reply>, check: (reply: Reply) => Promise<void>): Promise<void> {
      const db = w.t.database.db;
      let moved!: () => void;
      const hold = new Promise<void>((resolve) => {
        moved = resolve;
      });
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const reload = db.transaction().execute(async (trx) => {
        await lockRegisterForReload(trx);
        await trx.updateTable('organisations').set({ department_code: 'DWP' }).where('code', '=', 'WEST-YORKSHIRE-ICB').execute();
        await followDepartments(trx, [{ code: 'WEST-YORKSHIRE-ICB', departmentCode: 'DWP' }]);
        moved();
        await released;
      });
      await hold;
      const reply = request();
      await new Promise((r) => setTimeout(r, 300));
      release();
      await reload;
      try {
        await check(await reply);
      } finally {
        // Back as the fixtures have it: the reload moves the body and its kept rows back.
        await loadReferenceData(db);
      }
      await expectKeptAsComputed(db);
    }

    async function icbRow(title: string): Promise<RegisterRow> {
      const caseId = await approvedCase(w, { body: { ...simpleCase(w.roundId, { title }), placeCode: 'BRADFORD' } });
      const row = (await expectKeptAsComputed(w.t.database.db)).find(
        (r) => r.caseId === caseId && r.beneficiaryCode === 'WEST-YORKSHIRE-ICB',
      );
      if (!row) throw new Error('the simple case no longer benefits the ICB');
      return row;
    }

    const fileReport = (row: RegisterRow) =>
      w.t.request('POST', `/api/v1/cases/${row.caseId}/benefit-reports`, {
        token: w.tokens.bradford,
        body: { benefitLineIndex: row.benefitLineIndex, year: row.year, claimedPence: 5_000, evidence: 'Cohort records.' },
      });

    it.runIf(engine === 'postgres')('keeps a report filed during a reference reload under the department the reload left', async () => {
      const row = await icbRow('Reload race');
      await duringReload(
        () => fileReport(row),
        async (reply) => {
          expect(reply.status).toBe(201);
          const kept = await expectKeptAsComputed(w.t.database.db);
          expect(
            kept.find((r) => r.caseId === row.caseId && r.benefitLineIndex === row.benefitLineIndex && r.year === row.year),
          ).toMatchObject({
            claimedPence: 5_000n,
            departmentCode: 'DWP',
          });
        },
      );
    });

    it.runIf(engine === 'postgres')(
      'refuses a verification sent during a reload by the department the reload moved the body away from',
      async () => {
        const row = await icbRow('Reload review race');
        const filed = await fileReport(row);
        expect(filed.status, filed.text).toBe(201);
        await duringReload(
          () => w.t.request('POST', `/api/v1/benefit-reports/${filed.body.id}/verify`, { token: w.tokens.dhsc, body: {} }),
          async (reply) => {
            expect(reply.status, reply.text).toBe(403);
            const byDwp = await w.t.request('POST', `/api/v1/benefit-reports/${filed.body.id}/verify`, { token: w.tokens.dwp, body: {} });
            expect(byDwp.status, byDwp.text).toBe(200);
          },
        );
      },
    );
  });
});
