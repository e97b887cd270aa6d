import type { Kysely } from 'kysely';
import { columnTypes } from '../src/db/migrate.ts';

/** A benefit report can be verified in part: the reason when less than the claim is verified. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('benefit_reports').addColumn('verification_reason', t.text).execute();
}

export async function down(): Promise<void> {
  throw new Error('Benefit reports are part of the audit trail and cannot be changed back.');
}
