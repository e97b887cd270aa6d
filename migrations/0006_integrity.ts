import type { Kysely } from 'kysely';
import { columnTypes, strict } from '../src/db/migrate.ts';

/**
 * Integrity: treasury and panel accounts wait for a second treasury user's approval; each audit
 * entry records the ledger transfers it caused; a conflict declared after acting voids the
 * member's moderation and pending approvals (kept, marked void); organisations are versioned.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  const table = (name: string) => strict(db, db.schema.createTable(name));

  await table('user_requests')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('role', t.text, (c) => c.notNull())
    .addColumn('is_chair', t.int32, (c) => c.notNull())
    .addColumn('requested_by', t.text, (c) => c.notNull().references('users.id'))
    .addColumn('requested_at', t.text, (c) => c.notNull())
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('decided_by', t.text)
    .addColumn('decided_at', t.text)
    .addColumn('user_id', t.text)
    .execute();

  // JSON array of {id, debitAccountId, creditAccountId, amountPence}: part of the entry's hash.
  await db.schema
    .alterTable('audit_log')
    .addColumn('transfers', t.text, (c) => c.notNull().defaultTo('[]'))
    .execute();

  await db.schema.alterTable('panel_moderations').addColumn('voided_at', t.text).execute();
  await db.schema.alterTable('tranche_approvals').addColumn('voided_at', t.text).execute();

  await table('organisation_versions')
    .addColumn('code', t.text, (c) => c.notNull())
    .addColumn('version', t.int32, (c) => c.notNull())
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('kind', t.text, (c) => c.notNull())
    .addColumn('place_code', t.text)
    .addColumn('department_code', t.text)
    .addColumn('loaded_at', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('organisation_versions_pk', ['code', 'version'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('The integrity records are part of the audit trail and cannot be dropped.');
}
