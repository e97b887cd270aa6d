import { type Compilable, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditPageQuery } from '../../src/audit/audit.ts';
import { casePlace } from '../../src/cases/records.ts';
import { type Db, isPostgres } from '../../src/db/database.ts';
import { type TestApp, testApp } from '../support/app.ts';
import { draftCase, openRound, simpleCase } from '../support/cases.ts';
import { engines } from '../support/db.ts';

/*
 * What keeps reads flat as the fund grows (`npm run bench:scale` measures it at full size): a
 * case's reference comes from the year's kept counter, at the 999/1000 boundary too, and the
 * reads that pick cases by place or department, and a year's verified reports, use their indexes
 * rather than reading every row (each engine's query plan, with sequential scans discouraged on
 * PostgreSQL, where tables this small would otherwise always be scanned).
 */

describe.each(engines())('reads that stay flat as the fund grows, on %s', (engine) => {
  let t: TestApp;
  let roundId: string;
  let bradford: string;
  let lewisham: string;

  beforeAll(async () => {
    t = await testApp(engine);
    roundId = (await openRound(t)).id;
    bradford = await t.userToken({ name: 'Bradford case lead', role: 'council', organisationCode: 'BRADFORD' });
    lewisham = await t.userToken({ name: 'Lewisham case lead', role: 'council', organisationCode: 'LEWISHAM' });
  });
  afterAll(() => t?.destroy());

  /** A simple case drafted by Bradford's or Lewisham's case lead, in its own place. */
  const draft = (token: string, title: string) =>
    draftCase(t, token, { ...simpleCase(roundId, { title }), placeCode: token === lewisham ? 'LEWISHAM' : 'BRADFORD' });

  it("numbers a year's cases from its kept counter: 001 first, then past 999 to 1000 and on, each number once", async () => {
    const first = await draft(bradford, 'First');
    expect(first.reference).toBe('TP-2026-27-001');
    // As though 998 cases had been drafted this year.
    await t.database.db.updateTable('case_reference_counters').set({ last_number: 998 }).where('financial_year', '=', '2026-27').execute();
    const a = await draft(bradford, 'Nine hundred and ninety-ninth');
    const b = await draft(lewisham, 'Thousandth');
    expect([a.reference, b.reference]).toEqual(['TP-2026-27-999', 'TP-2026-27-1000']);
    const together = await Promise.all([bradford, lewisham, bradford, lewisham].map((token, i) => draft(token, `Together ${i}`)));
    expect(together.map((c) => c.reference).sort()).toEqual(['TP-2026-27-1001', 'TP-2026-27-1002', 'TP-2026-27-1003', 'TP-2026-27-1004']);
    const kept = await t.database.db
      .selectFrom('case_reference_counters')
      .select('last_number')
      .where('financial_year', '=', '2026-27')
      .executeTakeFirstOrThrow();
    expect(Number(kept.last_number)).toBe(1004);
  });

  /** The engine's plan for `query`, as text. */
  async function plan(db: Db, query: Compilable<unknown>): Promise<string> {
    const compiled = query.compile();
    if (!isPostgres(db)) {
      const r = await db.executeQuery<{ detail: string }>({ ...compiled, sql: `explain query plan ${compiled.sql}` });
      return r.rows.map((row) => row.detail).join('\n');
    }
    return db.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      const r = await trx.executeQuery<{ 'QUERY PLAN': string }>({ ...compiled, sql: `explain ${compiled.sql}` });
      return r.rows.map((row) => row['QUERY PLAN']).join('\n');
    });
  }

  it('finds the cases of a place through cases_by_place, the expression the reads filter on', async () => {
    const db = t.database.db;
    const p = await plan(
      db,
      db.selectFrom('cases').select('id').where('status', 'in', ['approved', 'terminated']).where(casePlace(db), '=', 'BRADFORD'),
    );
    expect(p).toContain('cases_by_place');
  });

  it('finds the cases a department benefits from through case_beneficiaries_by_organisation', async () => {
    const db = t.database.db;
    const p = await plan(
      db,
      db
        .selectFrom('cases')
        .select('id')
        .where('id', 'in', db.selectFrom('case_beneficiaries').select('case_id').where('organisation_code', '=', 'DHSC')),
    );
    expect(p).toContain('case_beneficiaries_by_organisation');
  });

  it("finds a year's verified reports, which the close sums, through benefit_reports_by_year", async () => {
    const db = t.database.db;
    const p = await plan(
      db,
      db
        .selectFrom('benefit_reports')
        .select(['id', 'case_id'])
        .where('year', '=', '2026-27')
        .where('status', '=', 'verified')
        .orderBy('id'),
    );
    expect(p).toContain('benefit_reports_by_year');
  });

  it("reads a page of one subject's or one action's audit entries through audit_log_by_subject and audit_log_by_action", async () => {
    const db = t.database.db;
    const bySubject = await plan(db, auditPageQuery(db, { subject: `round/${roundId}`, afterPosition: 10n, limit: 50 }));
    expect(bySubject).toContain('audit_log_by_subject');
    const byAction = await plan(db, auditPageQuery(db, { action: 'financial-year.closed', limit: 50 }));
    expect(byAction).toContain('audit_log_by_action');
  });
});
