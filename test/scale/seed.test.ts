import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/audit.ts';
import { verifyCredits } from '../../src/credits/verify.ts';
import { prepareDatabase } from '../../src/db/prepare.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { SCALE_PLACES } from '../../src/scale/reference.ts';
import { perYear, type ScaleSummary, scaleClockStart, seedScale } from '../../src/scale/seed.ts';
import { type TestApp, testApp } from '../support/app.ts';
import { expectKeptAsComputed } from '../support/benefit-register.ts';
import { engines, freshConfig } from '../support/db.ts';

/*
 * The national-scale generator at a tiny factor (8 cases a year, two years): what it builds
 * verifies as the demo's world does, its benefits register is kept as the engine computes it, and
 * the list endpoints (benefits unfiltered and by department among them) page through every row
 * exactly once while the generator, running on, adds rows under them.
 */

const FACTOR = 0.08;

describe.each(engines())('the scale data set on %s', (engine) => {
  let t: TestApp;
  let summary: ScaleSummary;
  let auditor: string;
  /** The audit positions the generator's first run wrote: after `from`, up to `to`. */
  const written = { from: 0n, to: 0n };

  beforeAll(async () => {
    t = await testApp(engine);
    const head = () => t.database.db.selectFrom('audit_head').select('position').executeTakeFirstOrThrow();
    written.from = BigInt((await head()).position);
    summary = await seedScale(t.database.db, { factor: FACTOR, years: 2, lastYear: '2024-25' });
    written.to = BigInt((await head()).position);
    auditor = await t.userToken({ name: 'NAO auditor', role: 'auditor' });
  }, 180_000);
  afterAll(() => t?.destroy());

  it('builds the years, cases, releases, reports, closes, trades and compliance runs asked for', async () => {
    const { cases } = perYear(FACTOR);
    expect(summary.financialYears).toEqual(['2023-24', '2024-25']);
    expect(summary.departments).toBe(20);
    expect(summary.places).toBe(SCALE_PLACES);
    expect(summary.cases).toBe(2 * cases);
    // The demo's eight cases, six of which its panel approves, each in three tranches.
    expect(summary.approved).toBe(12);
    expect(summary.tranchesReleased).toBe(36);
    expect(summary.benefitReports).toBeGreaterThan(0);
    expect(summary.benefitReportsVerified).toBe(summary.benefitReports);
    expect(summary.trades).toBeGreaterThan(0);
    expect(summary.complianceRuns).toBe(2);

    const db = t.database.db;
    const count = async (table: 'cases' | 'benefit_reports' | 'credit_trades' | 'compliance_runs') =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count('cases')).toBe(summary.cases);
    expect(await count('benefit_reports')).toBe(summary.benefitReports);
    expect(await count('credit_trades')).toBe(summary.trades);
    const verified = await db.selectFrom('benefit_reports').select('id').where('status', '!=', 'verified').execute();
    expect(verified).toEqual([]);
    const closed = await db.selectFrom('financial_years').select(['name', 'status']).orderBy('name').execute();
    expect(closed).toEqual([
      { name: '2023-24', status: 'closed' },
      { name: '2024-25', status: 'closed' },
    ]);
    const synthetic = await db.selectFrom('organisations').select(['code', 'name', 'details']).where('code', 'like', 'SYN-%').execute();
    expect(synthetic.length).toBe(SCALE_PLACES - 13);
    for (const o of synthetic) {
      expect(o.name).toMatch(/^Synthetic council \d{3}$/);
      expect(JSON.parse(o.details)).toMatchObject({ synthetic: true });
    }
  });

  it('leaves a ledger and an audit chain that verify, and conserves credits', async () => {
    const db = t.database.db;
    const ledger = await verifyLedger(db);
    expect(
      ledger.ok,
      JSON.stringify(ledger, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
    ).toBe(true);
    const audit = await verifyAuditChain(db);
    expect(audit.problems).toEqual([]);
    expect(audit.ok).toBe(true);
    const credits = await verifyCredits(db);
    const c = credits.credits;
    expect(c.issued).toBeGreaterThan(0n);
    expect(c.surrendered).toBeGreaterThan(0n);
    expect(c.issued).toBe(c.available + c.reserved + c.surrendered);
    expect(c.conserved).toBe(true);
    expect(credits.ok).toBe(true);
    // And as the auditor sees it, ledger and audit log bound to each other.
    const books = await t.request('GET', '/api/v1/ledger/verify', { token: auditor });
    expect(books.status).toBe(200);
    expect(books.body.ok).toBe(true);
  });

  it('keeps the benefits register as rows equal to the register the appraisal engine computes', async () => {
    await expectKeptAsComputed(t.database.db);
  });

  it('keeps the audit trail in time order, from the start of its simulated clock, the reference data loaded then', async () => {
    const start = scaleClockStart({ years: 2, lastYear: '2024-25' });
    expect(start.toISOString()).toBe('2023-03-30T09:00:00.000Z');
    const rows = await t.database.db
      .selectFrom('audit_log')
      .select(['position', 'at'])
      .where('position', '>', written.from)
      .where('position', '<=', written.to)
      .orderBy('position')
      .execute();
    expect(rows.length).toBe(Number(written.to - written.from));
    expect((rows[0] as { at: string }).at >= start.toISOString()).toBe(true);
    const backwards = rows.filter((r, i) => i > 0 && r.at < (rows[i - 1] as { at: string }).at);
    expect(backwards).toEqual([]);

    // The command line prepares its database with the reference data loaded at that start, not today.
    const fresh = await freshConfig(engine);
    const prepared = await prepareDatabase(fresh.config, start);
    try {
      const loaded = await prepared.db.selectFrom('audit_log').select(['action', 'at']).orderBy('position').execute();
      expect(loaded.length).toBeGreaterThan(0);
      expect(new Set(loaded.map((e) => e.at))).toEqual(new Set([start.toISOString()]));
    } finally {
      await prepared.close();
      await fresh.drop();
    }
  });

  it('pages benefits, ledger transfers and the audit log through every row exactly once while rows are inserted', async () => {
    // A department the demo's cases benefit, paged on its own as well.
    const department = 'DHSC';
    type Lister = { name: string; page(after: string | null): Promise<{ keys: string[]; next: string | null }> };
    const listers: Lister[] = [
      {
        name: 'GET /api/v1/benefits',
        page: async (after) => {
          const r = await t.request('GET', `/api/v1/benefits?limit=25${after ? `&after=${after}` : ''}`, { token: auditor });
          expect(r.status).toBe(200);
          return {
            keys: r.body.rows.map(
              (x: { caseId: string; benefitLineIndex: number; year: string }) => `${x.caseId}|${x.benefitLineIndex}|${x.year}`,
            ),
            next: r.body.nextCursor,
          };
        },
      },
      {
        name: `GET /api/v1/benefits?department=${department}`,
        page: async (after) => {
          const r = await t.request('GET', `/api/v1/benefits?department=${department}&limit=10${after ? `&after=${after}` : ''}`, {
            token: auditor,
          });
          expect(r.status).toBe(200);
          return {
            keys: r.body.rows.map(
              (x: { caseId: string; benefitLineIndex: number; year: string }) => `${x.caseId}|${x.benefitLineIndex}|${x.year}`,
            ),
            next: r.body.nextCursor,
          };
        },
      },
      {
        name: 'GET /api/v1/ledger/transfers',
        page: async (after) => {
          const r = await t.request('GET', `/api/v1/ledger/transfers?limit=20${after ? `&after=${after}` : ''}`, { token: auditor });
          expect(r.status).toBe(200);
          return { keys: r.body.transfers.map((x: { id: string }) => x.id), next: r.body.nextAfter };
        },
      },
      {
        name: 'GET /api/v1/audit-log',
        page: async (after) => {
          const r = await t.request('GET', `/api/v1/audit-log?limit=50${after ? `&after=${after}` : ''}`, { token: auditor });
          expect(r.status).toBe(200);
          return { keys: r.body.entries.map((x: { position: string }) => x.position), next: r.body.nextAfter };
        },
      },
    ];
    /** Every page of a list, counting the pages asked for while `during()` holds. */
    const pageThrough = async (l: Lister, during?: () => boolean, firstPage?: () => void) => {
      const keys: string[] = [];
      let pagesDuring = 0;
      for (let after: string | null = null, first = true; first || after !== null; first = false) {
        if (during?.()) pagesDuring++;
        const p = await l.page(after);
        keys.push(...p.keys);
        after = p.next;
        if (first) firstPage?.();
      }
      return { keys, pagesDuring };
    };

    const before = new Map<string, string[]>();
    for (const l of listers) {
      const { keys } = await pageThrough(l);
      expect(new Set(keys).size, `${l.name} repeats rows with nothing inserted`).toBe(keys.length);
      expect(keys.length).toBeGreaterThan(0);
      before.set(l.name, keys);
    }

    // Another year played on: cases approved (new benefit rows), transfers posted, entries audited.
    // It starts once every reader has its first page, so the rest are read while it writes.
    let writing = true;
    const firstPages = listers.map(() => {
      let resolve = () => {};
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      return { promise, resolve };
    });
    const writer = Promise.all(firstPages.map((f) => f.promise))
      .then(() => seedScale(t.database.db, { factor: 0.04, years: 1, lastYear: '2025-26' }))
      .finally(() => {
        writing = false;
      });
    const seen = await Promise.all(
      listers.map((l, i) =>
        pageThrough(
          l,
          () => writing,
          () => firstPages[i]?.resolve(),
        ),
      ),
    );
    const more = await writer;
    expect(more.cases).toBe(4);
    // What the writer approved, reported and verified was kept as it went.
    await expectKeptAsComputed(t.database.db);

    for (const [i, l] of listers.entries()) {
      const { keys, pagesDuring } = seen[i] as { keys: string[]; pagesDuring: number };
      const old = before.get(l.name) as string[];
      expect(pagesDuring, `${l.name} was paged while rows were inserted`).toBeGreaterThan(1);
      expect(keys.length - new Set(keys).size, `${l.name} returned a row twice`).toBe(0);
      const got = new Set(keys);
      expect(
        old.filter((k) => !got.has(k)),
        `${l.name} skipped rows`,
      ).toEqual([]);
      const after = await pageThrough(l);
      expect(after.keys.length, `${l.name} has more rows once the inserts are done`).toBeGreaterThan(old.length);
      expect(new Set(after.keys).size).toBe(after.keys.length);
    }
  }, 180_000);
});
