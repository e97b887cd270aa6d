import { type Kysely, sql } from 'kysely';
import { columnTypes } from '../src/db/migrate.ts';

/**
 * Who was handed each token: the user who issued it (created the account, re-issued its token)
 * or, for a token its own user rotated, that user; null when an operator (the CLI) issued it.
 * The four-eyes rule reads it: whoever was handed an account's token answers for that account.
 * Tokens re-issued before this migration take their issuer from the audit entry that recorded it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('user_tokens').addColumn('issued_by', t.text).execute();
  await sql`update user_tokens set issued_by = (
              select a.actor_user_id from audit_log a
               where a.action in ('user.token-issued', 'user.token-rotated')
                 and a.subject = 'user/' || user_tokens.user_id
                 and a.detail like '%"tokenId":"' || user_tokens.id || '"%'
               order by a.position limit 1)`.execute(db);
}
