import { type Kysely, sql } from 'kysely';
import { isPostgres } from '../src/db/database.ts';
import { columnTypes, strict } from '../src/db/migrate.ts';

/**
 * What keeps reads flat as the fund grows (measured by `npm run bench:scale`):
 *   - each financial year's last case reference number, kept, so a new case's reference is one
 *     keyed read instead of a count of every case ever filed (seeded from the references already
 *     issued: TP-<year>-<number>);
 *   - verified benefit reports by year (what a year's close sums);
 *   - the cases a department benefits from, by department (realised benefits by department);
 *   - cases by place (realised benefits and the place report by place): an index on the
 *     document's placeCode, written as the queries write it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await strict(db, db.schema.createTable('case_reference_counters'))
    .addColumn('financial_year', t.text, (c) => c.primaryKey().references('financial_years.name'))
    .addColumn('last_number', t.int64, (c) => c.notNull())
    .execute();
  const issued = await sql<{ reference: string }>`select reference from cases`.execute(db);
  const last = new Map<string, number>();
  for (const { reference } of issued.rows) {
    const m = /^TP-(\d{4}-\d{2})-(\d+)$/.exec(reference);
    if (m) last.set(m[1] as string, Math.max(last.get(m[1] as string) ?? 0, Number(m[2])));
  }
  for (const [fy, n] of last) {
    await sql`insert into case_reference_counters (financial_year, last_number) values (${fy}, ${n})`.execute(db);
  }
  await db.schema.createIndex('benefit_reports_by_year').on('benefit_reports').columns(['year', 'status']).execute();
  await db.schema
    .createIndex('case_beneficiaries_by_organisation')
    .on('case_beneficiaries')
    .columns(['organisation_code', 'case_id'])
    .execute();
  await db.schema
    .createIndex('cases_by_place')
    .on('cases')
    .expression(isPostgres(db as never) ? sql`(document::jsonb ->> 'placeCode')` : sql`json_extract(document, '$.placeCode')`)
    .execute();
}
