import { type Kysely, sql } from 'kysely';
import { columnTypes, strict } from '../src/db/migrate.ts';

/**
 * The benefits register's grand total (src/benefits/register.ts): the four figures summed over
 * every kept row, one row kept with each register write, so that a write which would take any of
 * them past 2^53 − 1 pence (what JSON carries exactly) is refused by name instead of leaving
 * `GET /benefits` unable to answer. Filled from the kept totals.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await strict(db, db.schema.createTable('benefit_register_grand_total'))
    .addColumn('id', t.int32, (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('appraised_pence', t.int64, (c) => c.notNull())
    .addColumn('forecast_pence', t.int64, (c) => c.notNull())
    .addColumn('claimed_pence', t.int64, (c) => c.notNull())
    .addColumn('verified_pence', t.int64, (c) => c.notNull())
    .execute();
  await sql`
    insert into benefit_register_grand_total (id, appraised_pence, forecast_pence, claimed_pence, verified_pence)
    select 1, coalesce(sum(appraised_pence), 0), coalesce(sum(forecast_pence), 0),
           coalesce(sum(claimed_pence), 0), coalesce(sum(verified_pence), 0)
    from benefit_register_totals`.execute(db);
}
