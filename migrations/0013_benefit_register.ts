import { type Kysely, sql } from 'kysely';
import { caseRegisters } from '../src/benefits/benefits.ts';
import { insertCaseRegisters, rebuildRegisterTotals } from '../src/benefits/register.ts';
import { caseFromRow } from '../src/cases/records.ts';
import { type Db, isPostgres } from '../src/db/database.ts';
import { columnTypes, strict } from '../src/db/migrate.ts';

/**
 * The benefits register kept as rows (src/benefits/register.ts), so a page of `GET /benefits`
 * is a keyset query and its totals a sum over kept totals, flat as the fund grows:
 *   - benefit_register: one row per approved case, benefit line and year, with an index per
 *     filter in the register's order (case reference, benefit line, year); references and years
 *     sort by code point on both engines ("C" collation on PostgreSQL, SQLite's default);
 *   - benefit_register_totals: the figures summed per year, department, place, theme, lead
 *     council and cashable;
 * filled from every approved and terminated case's register as `caseRegisters` computes it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  const pg = isPostgres(db as never);
  const ordered = pg ? sql`text collate "C"` : t.text;
  await strict(db, db.schema.createTable('benefit_register'))
    .addColumn('case_id', t.text, (c) => c.notNull().references('cases.id'))
    .addColumn('line_index', t.int32, (c) => c.notNull())
    .addColumn('year', ordered, (c) => c.notNull())
    .addColumn('reference', ordered, (c) => c.notNull())
    .addColumn('lead_council_code', t.text, (c) => c.notNull())
    .addColumn('place_code', t.text, (c) => c.notNull())
    .addColumn('theme', t.text, (c) => c.notNull())
    .addColumn('outcome', t.text, (c) => c.notNull())
    .addColumn('type', t.text, (c) => c.notNull())
    .addColumn('cashable', t.int32, (c) => c.notNull())
    .addColumn('beneficiary_code', t.text)
    .addColumn('department_code', t.text)
    .addColumn('appraised_pence', t.int64, (c) => c.notNull())
    .addColumn('forecast_pence', t.int64, (c) => c.notNull())
    .addColumn('forecast_reason', t.text)
    .addColumn('claimed_pence', t.int64, (c) => c.notNull())
    .addColumn('verified_pence', t.int64, (c) => c.notNull())
    .addColumn('verification_reason', t.text)
    .addColumn('report_id', t.text)
    .addColumn('report_status', t.text)
    .addPrimaryKeyConstraint('benefit_register_pk', ['case_id', 'line_index', 'year'])
    .execute();
  const inOrder = ['reference', 'line_index', 'year'];
  await db.schema.createIndex('benefit_register_in_order').on('benefit_register').columns(inOrder).unique().execute();
  for (const [name, key] of [
    ['benefit_register_by_department', 'department_code'],
    ['benefit_register_by_place', 'place_code'],
    ['benefit_register_by_council', 'lead_council_code'],
    ['benefit_register_by_theme', 'theme'],
    ['benefit_register_by_year', 'year'],
    ['benefit_register_by_beneficiary', 'beneficiary_code'],
  ] as const) {
    await db.schema
      .createIndex(name)
      .on('benefit_register')
      .columns([key, ...inOrder])
      .execute();
  }

  await strict(db, db.schema.createTable('benefit_register_totals'))
    .addColumn('year', t.text, (c) => c.notNull())
    .addColumn('department_code', t.text, (c) => c.notNull())
    .addColumn('place_code', t.text, (c) => c.notNull())
    .addColumn('theme', t.text, (c) => c.notNull())
    .addColumn('lead_council_code', t.text, (c) => c.notNull())
    .addColumn('cashable', t.int32, (c) => c.notNull())
    .addColumn('appraised_pence', t.int64, (c) => c.notNull())
    .addColumn('forecast_pence', t.int64, (c) => c.notNull())
    .addColumn('claimed_pence', t.int64, (c) => c.notNull())
    .addColumn('verified_pence', t.int64, (c) => c.notNull())
    .addPrimaryKeyConstraint('benefit_register_totals_pk', [
      'year',
      'department_code',
      'place_code',
      'theme',
      'lead_council_code',
      'cashable',
    ])
    .execute();
  for (const [name, key] of [
    ['benefit_register_totals_by_department', 'department_code'],
    ['benefit_register_totals_by_place', 'place_code'],
    ['benefit_register_totals_by_council', 'lead_council_code'],
    ['benefit_register_totals_by_theme', 'theme'],
  ] as const) {
    await db.schema.createIndex(name).on('benefit_register_totals').column(key).execute();
  }

  // The backfill: every approved or terminated case's register, a batch of cases at a time.
  const d = db as unknown as Db;
  const today = new Date().toISOString().slice(0, 10);
  for (let after = ''; ; ) {
    const batch = (
      await d
        .selectFrom('cases')
        .selectAll()
        .where('status', 'in', ['approved', 'terminated'])
        .where('id', '>', after)
        .orderBy('id')
        .limit(500)
        .execute()
    ).map(caseFromRow);
    if (batch.length === 0) break;
    const registers = await caseRegisters(d, batch, today);
    await insertCaseRegisters(
      d,
      batch.map((c, i) => ({ leadCouncilCode: c.leadCouncilCode, rows: registers[i] ?? [] })),
    );
    after = (batch.at(-1) as { id: string }).id;
  }
  await rebuildRegisterTotals(d);
}
