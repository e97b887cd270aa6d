import { type Kysely, sql } from 'kysely';
import { columnTypes, strict } from '../src/db/migrate.ts';

/**
 * Tokens that can end (issue: hardening). A user's bearer tokens move to a table of their own,
 * each with an expiry, a last-used time and, once revoked, when, by whom and why; a user can be
 * deactivated. Tokens issued before this migration are carried over, expiring
 * TOKEN_LIFETIME_DAYS (90) days after it runs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await strict(db, db.schema.createTable('user_tokens'))
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('user_id', t.text, (c) => c.notNull().references('users.id'))
    .addColumn('token_hash', t.text, (c) => c.notNull().unique())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addColumn('expires_at', t.text, (c) => c.notNull())
    .addColumn('last_used_at', t.text)
    .addColumn('revoked_at', t.text)
    .addColumn('revoked_by', t.text)
    .addColumn('revoked_reason', t.text)
    .execute();
  await db.schema.createIndex('user_tokens_user').on('user_tokens').column('user_id').execute();
  await db.schema.alterTable('users').addColumn('deactivated_at', t.text).execute();
  await db.schema.alterTable('users').addColumn('deactivated_by', t.text).execute();

  const now = new Date();
  const expires = new Date(now.getTime() + 90 * 86_400_000).toISOString();
  await sql`insert into user_tokens (id, user_id, token_hash, created_at, expires_at)
            select 'carried-over/' || id, id, token_hash, ${now.toISOString()}, ${expires} from users`.execute(db);
}
