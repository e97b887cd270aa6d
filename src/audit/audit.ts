import { createHash } from 'node:crypto';
import type { Db, Tx } from '../db/database.ts';

/**
 * The audit log: every state change, who made it, in what role, when. Rows are only ever
 * appended; each carries the hash of the one before it, and `audit_head` holds the last
 * position and hash, so an edited, deleted, inserted or reordered row breaks the chain.
 */

export const GENESIS_HASH = '0'.repeat(64);

export interface Actor {
  /** null for the system itself (the CLI bootstrap, migrations). */
  userId: string | null;
  role: string;
}

export const SYSTEM: Actor = { userId: null, role: 'system' };

export interface AuditEntryInput {
  actor: Actor;
  /** A verb phrase in the users' words: `financial-year.created`, `contributions.posted`. */
  action: string;
  /** What it was done to: `financial-year/2026-27`, `user/…`. */
  subject: string;
  detail?: unknown;
  requestId?: string | null;
}

export interface AuditEntry {
  position: bigint;
  at: string;
  actorUserId: string | null;
  actorRole: string;
  action: string;
  subject: string;
  detail: unknown;
  requestId: string | null;
  prevHash: string;
  hash: string;
}

/** Appends one entry in the caller's transaction. Appends are serialised by the head row's lock. */
export async function appendAudit(trx: Tx, entry: AuditEntryInput, now = new Date()): Promise<AuditEntry> {
  const head = await trx
    .updateTable('audit_head')
    .set((eb) => ({ position: eb('position', '+', 1n) }))
    .where('id', '=', 1)
    .returning(['position', 'hash'])
    .executeTakeFirstOrThrow();
  const row = {
    position: BigInt(head.position),
    at: now.toISOString(),
    actor_user_id: entry.actor.userId,
    actor_role: entry.actor.role,
    action: entry.action,
    subject: entry.subject,
    detail: canonicalJson(entry.detail ?? null),
    request_id: entry.requestId ?? null,
    prev_hash: head.hash,
    hash: '',
  };
  row.hash = hashOf(row);
  await trx.insertInto('audit_log').values(row).execute();
  await trx.updateTable('audit_head').set({ hash: row.hash }).where('id', '=', 1).execute();
  return entryFromRow(row);
}

type HashedFields = {
  position: bigint;
  at: string;
  actor_user_id: string | null;
  actor_role: string;
  action: string;
  subject: string;
  detail: string;
  request_id: string | null;
  prev_hash: string;
};

function hashOf(r: HashedFields): string {
  const material = JSON.stringify([
    r.prev_hash,
    r.position.toString(),
    r.at,
    r.actor_user_id,
    r.actor_role,
    r.action,
    r.subject,
    r.detail,
    r.request_id,
  ]);
  return createHash('sha256').update(material).digest('hex');
}

/** JSON with sorted keys and bigints as decimal strings: the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export interface AuditProblem {
  position: string;
  problem: 'hash-mismatch' | 'broken-link' | 'missing-entry' | 'head-mismatch';
  detail: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  headPosition: string;
  problems: AuditProblem[];
}

/** Recomputes the whole chain. Reports at most 20 problems, first first. */
export async function verifyAuditChain(db: Db | Tx): Promise<AuditVerification> {
  const head = await db.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
  const problems: AuditProblem[] = [];
  const note = (p: AuditProblem) => {
    if (problems.length < 20) problems.push(p);
  };
  let expected = 1n;
  let prev = GENESIS_HASH;
  let entries = 0;
  let after = 0n;
  for (;;) {
    const rows = await db.selectFrom('audit_log').selectAll().where('position', '>', after).orderBy('position').limit(2000).execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      const position = BigInt(r.position);
      entries++;
      if (position !== expected) {
        note({ position: expected.toString(), problem: 'missing-entry', detail: `entries ${expected}–${position - 1n} are missing` });
      }
      if (r.prev_hash !== prev) {
        note({ position: position.toString(), problem: 'broken-link', detail: 'does not follow from the entry before it' });
      }
      if (hashOf({ ...r, position }) !== r.hash) {
        note({ position: position.toString(), problem: 'hash-mismatch', detail: 'its content was changed after it was written' });
      }
      prev = r.hash;
      expected = position + 1n;
      after = position;
    }
  }
  const headPosition = BigInt(head.position);
  if (headPosition !== expected - 1n || head.hash !== prev) {
    note({
      position: headPosition.toString(),
      problem: 'head-mismatch',
      detail: `the log ends at ${expected - 1n} but ${headPosition} entries were written`,
    });
  }
  return { ok: problems.length === 0, entries, headPosition: headPosition.toString(), problems };
}

export async function listAudit(
  db: Db | Tx,
  filter: { afterPosition?: bigint; limit: number; subject?: string; action?: string },
): Promise<AuditEntry[]> {
  let q = db.selectFrom('audit_log').selectAll();
  if (filter.afterPosition !== undefined) q = q.where('position', '>', filter.afterPosition);
  if (filter.subject) q = q.where('subject', '=', filter.subject);
  if (filter.action) q = q.where('action', '=', filter.action);
  const rows = await q.orderBy('position').limit(filter.limit).execute();
  return rows.map(entryFromRow);
}

function entryFromRow(r: HashedFields & { hash: string }): AuditEntry {
  return {
    position: BigInt(r.position),
    at: r.at,
    actorUserId: r.actor_user_id,
    actorRole: r.actor_role,
    action: r.action,
    subject: r.subject,
    detail: JSON.parse(r.detail),
    requestId: r.request_id,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
