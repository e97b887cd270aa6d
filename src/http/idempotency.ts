import { createHash } from 'node:crypto';
import { type Db, inTransaction } from '../db/database.ts';
import { canonicalJson } from './request-contract.ts';

/*
 * A request sent twice changes things once. This is the one rule behind the API's
 * `Idempotency-Key` and the pages' form ids:
 * - the first send claims its key, per user, before anything runs;
 * - a second send while the first still runs is told so, and changes nothing;
 * - once the first has succeeded, a second send gets the first's answer again and changes nothing;
 * - a refused first send releases the key, so the corrected request can be sent.
 * A claim left in flight by a process that stopped lapses after a minute, and a kept answer
 * after a day (as Stripe's keys do): after that the same key is a new request.
 */

const IN_FLIGHT_EXPIRY_MS = 60_000;
export const KEPT_FOR_MS = 24 * 60 * 60 * 1000;

/**
 * What makes two sends the same request: the method, the path and the body, whatever the order
 * of the body's keys or its whitespace.
 */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body)}`)
    .digest('hex');
}

/** What claiming a key found. */
export type Claim =
  | { state: 'claimed' }
  | { state: 'in-flight' }
  /** The key was first used with another request (another method, path or body). */
  | { state: 'reused' }
  | { state: 'done'; statusCode: number; body: string; contentType: string | null };

/**
 * Claims `key` for `userId`'s request with this `fingerprint` (a hash of what makes two sends the
 * same request), or says what holds it. Changes: the claim row, in its own transaction.
 */
export async function claimKey(db: Db, userId: string, key: string, fingerprint: string, now: Date): Promise<Claim> {
  return inTransaction(db, async (trx) => {
    // The user's lapsed keys go first, so nothing is kept past its time.
    await trx
      .deleteFrom('idempotency_keys')
      .where('user_id', '=', userId)
      .where((eb) =>
        eb.or([
          eb('created_at', '<', new Date(now.getTime() - KEPT_FOR_MS).toISOString()),
          eb.and([eb('state', '=', 'in-flight'), eb('created_at', '<', new Date(now.getTime() - IN_FLIGHT_EXPIRY_MS).toISOString())]),
        ]),
      )
      .execute();
    const row = await trx
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('user_id', '=', userId)
      .where('key', '=', key)
      .executeTakeFirst();
    if (row) {
      if (row.fingerprint !== fingerprint) return { state: 'reused' } as const;
      if (row.state === 'in-flight') return { state: 'in-flight' } as const;
      return {
        state: 'done',
        statusCode: Number(row.status_code),
        body: row.response_body ?? '',
        contentType: row.content_type,
      } as const;
    }
    await trx
      .insertInto('idempotency_keys')
      .values({
        user_id: userId,
        key,
        fingerprint,
        state: 'in-flight',
        status_code: null,
        response_body: null,
        content_type: null,
        created_at: now.toISOString(),
      })
      .execute();
    return { state: 'claimed' } as const;
  });
}

/** Keeps the first send's successful answer, to give again to any later send with the key. */
export async function keepAnswer(
  db: Db,
  userId: string,
  key: string,
  answer: { statusCode: number; body: string; contentType: string | null },
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ state: 'done', status_code: answer.statusCode, response_body: answer.body, content_type: answer.contentType })
    .where('user_id', '=', userId)
    .where('key', '=', key)
    .execute();
}

/** Releases a key whose first send was refused or failed, so the request can be sent again. */
export async function releaseKey(db: Db, userId: string, key: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('user_id', '=', userId).where('key', '=', key).execute();
}
