import type { Kysely } from 'kysely';
import { columnTypes, strict } from '../src/db/migrate.ts';

/**
 * Sessions for the web pages. The cookie holds a random id; only its SHA-256 is stored, so a
 * copy of the database signs nobody in. A session is anonymous (signed out) until a token signs
 * it in; it then belongs to that token, so revoking or expiring the token ends it too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await strict(db, db.schema.createTable('web_sessions'))
    .addColumn('id_hash', t.text, (c) => c.primaryKey())
    .addColumn('token_id', t.text, (c) => c.references('user_tokens.id'))
    .addColumn('csrf_secret', t.text, (c) => c.notNull())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addColumn('last_seen_at', t.text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('web_sessions_token').on('web_sessions').column('token_id').execute();
}
