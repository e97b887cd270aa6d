import { type Compilable, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditPageQuery } from '../../src/audit/audit.ts';
import { realisedBenefitsQueries } from '../../src/benefits/benefits.ts';
import { casePlace } from '../../src/cases/records.ts';
import { type Db, isPostgres } from '../../src/db/database.ts';
import type { Principal } from '../../src/users/users.ts';
import { type TestApp, testApp } from '../support/app.ts';
import { draftCase, openRound, simpleCase } from '../support/cases.ts';
import { engines } from '../support/db.ts';

/*
 * What keeps reads flat as the fund grows (`npm run bench:scale` measures it at full size): a
 * case's reference comes from the year's kept counter, at the 999/1000 boundary too, and the
 * reads that pick cases by place or department, and a year's verified reports, use their indexes
 * rather than reading every row (each engine's query plan, with sequential scans discouraged on
 * PostgreSQL, where tables this small would otherwise always be scanned). A page of realised
 * benefits is read from the kept register in its index's order and its totals from the kept totals.
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
  async function plan(db: Db, query: Compilable<unknown>, discourageSorts = false): Promise<string> {
    const compiled = query.compile();
    if (!isPostgres(db)) {
      const r = await db.executeQuery<{ detail: string }>({ ...compiled, sql: `explain query plan ${compiled.sql}` });
      return r.rows.map((row) => row.detail).join('\n');
    }
    return db.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      // Whether a plan exists that reads in the index's order (tables this small would otherwise be sorted).
      if (discourageSorts) await sql`set local enable_sort = off`.execute(trx);
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

  /** The plans of a page of `GET /benefits` as `p` reads it with `filter`: its rows (from a cursor) and its totals. */
  async function benefitsPlans(p: Principal, filter: Record<string, string>) {
    const db = t.database.db;
    const after = Buffer.from(JSON.stringify(['TP-2026-27-001', 0, '2026-27']), 'utf8').toString('base64url');
    const queries = realisedBenefitsQueries(db, p, filter, { after, limit: 50 });
    if (!queries) throw new Error('the reader may see nothing');
    return { rows: await plan(db, queries.rows, true), totals: await plan(db, queries.totals) };
  }
  const reader = (role: Principal['role'], organisationCode: string | null = null): Principal => ({
    userId: 'reader',
    name: 'Reader',
    role,
    organisationCode,
    isChair: false,
  });
  /** A plan that reads rows in the index's order, so a page stops after its rows: no sort. */
  const unsorted = (p: string) => expect(p).not.toMatch(/TEMP B-TREE|Sort/);

  it('pages realised benefits from the kept register, each filter through its index in the register order, totals from the kept totals', async () => {
    const byDepartment = await benefitsPlans(reader('auditor'), { department: 'DHSC' });
    expect(byDepartment.rows).toContain('benefit_register_by_department');
    unsorted(byDepartment.rows);
    expect(byDepartment.totals).toContain('benefit_register_totals_by_department');
    const asDepartment = await benefitsPlans(reader('department', 'DWP'), {});
    expect(asDepartment.rows).toContain('benefit_register_by_department');
    unsorted(asDepartment.rows);
    const byPlace = await benefitsPlans(reader('treasury'), { place: 'BRADFORD' });
    expect(byPlace.rows).toContain('benefit_register_by_place');
    unsorted(byPlace.rows);
    expect(byPlace.totals).toContain('benefit_register_totals_by_place');
    const asCouncil = await benefitsPlans(reader('council', 'BRADFORD'), {});
    expect(asCouncil.rows).toContain('benefit_register_by_council');
    unsorted(asCouncil.rows);
    expect(asCouncil.totals).toContain('benefit_register_totals_by_council');
    const everything = await benefitsPlans(reader('treasury'), {});
    expect(everything.rows).toContain('benefit_register_in_order');
    unsorted(everything.rows);
    const oneCase = await benefitsPlans(reader('treasury'), { caseId: 'a-case' });
    expect(oneCase.totals).toMatch(/benefit_register_pk|sqlite_autoindex_benefit_register_1/);
  });
});
