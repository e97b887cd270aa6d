import type { Kysely } from 'kysely';
import { columnTypes, strict } from '../src/db/migrate.ts';

/**
 * Verifications of the books run in the background (src/verify/verifications.ts): who asked,
 * when, how far it has got, and the report once done. `seq` orders them for paging. A running
 * verification holds a lease its runner renews; one whose lease has lapsed was interrupted (the
 * service stopped) and counts as `error`. At most one runs at a time: the partial unique index
 * makes a second start lose the race and find the first.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await strict(db, db.schema.createTable('ledger_verifications'))
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('seq', t.int64, (c) => c.notNull().unique())
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('requested_by', t.text, (c) => c.notNull().references('users.id'))
    .addColumn('requested_role', t.text, (c) => c.notNull())
    // JSON array of the signed checkpoints the caller kept, checked as POST /ledger/verify checks them.
    .addColumn('checkpoints', t.text, (c) => c.notNull())
    .addColumn('started_at', t.text, (c) => c.notNull())
    .addColumn('lease_expires_at', t.text)
    .addColumn('finished_at', t.text)
    .addColumn('progress', t.text)
    .addColumn('report', t.text)
    .addColumn('error', t.text)
    .execute();
  await db.schema
    .createIndex('ledger_verifications_one_running')
    .on('ledger_verifications')
    .column('status')
    .unique()
    .where('status', '=', 'running')
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('Verifications are a record of who checked the books and what they found; they are not dropped.');
}
