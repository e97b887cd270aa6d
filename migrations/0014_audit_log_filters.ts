import type { Kysely } from 'kysely';

/**
 * The audit log filtered by subject (one case's or account's history) or by action (every year
 * close), a page at a time in position order: without these, a filter that matches few entries
 * reads the whole chain in position order to fill a page. With them, a page is a range of one
 * index from the `after` position on.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('audit_log_by_subject').on('audit_log').columns(['subject', 'position']).execute();
  await db.schema.createIndex('audit_log_by_action').on('audit_log').columns(['action', 'position']).execute();
}
