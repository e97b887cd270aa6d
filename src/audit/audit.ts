import { createHmac } from 'node:crypto';
import { loadConfig } from '../config.ts';
import type { Db, Tx } from '../db/database.ts';
import { prepared } from '../db/prepared.ts';
import { type CausedTransfer, takeCausedTransfers } from './caused.ts';

/**
 * The audit log: every state change, who made it, in what role, when, and the ledger transfers
 * it caused (ids, accounts and amounts). Rows are only ever appended; each carries the hash of
 * the one before it, and `audit_head` holds the last position and hash, so an edited, deleted,
 * inserted or reordered row breaks the chain.
 *
 * The hash is keyed (HMAC-SHA256) with AUDIT_KEY from the configuration, which is never stored
 * beside the data: someone who can write to the database but does not hold the key cannot
 * recompute the chain after an edit. Truncating the end of the chain (and moving the head back)
 * is caught by the signed checkpoints of the head kept outside the database (./anchor.ts).
 */

let configuredKey: string | null = null;

/** Sets the key the chain is hashed with (start-up does this from the configuration). */
export function configureAuditKey(key: string): void {
  configuredKey = key;
}

/** The audit key in force: the configured one, or the configuration's (development default if unset). */
export function auditKey(): string {
  configuredKey ??= loadConfig().auditKey;
  return configuredKey;
}

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
  /**
   * Leave the transfers this transaction has caused so far to the next entry (an approval that
   * is followed by the release it triggers records the release's transfer on the release).
   */
  leaveTransfersToNext?: boolean;
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
  transfers: CausedTransfer[];
}

/**
 * How the operations name the subjects of a case's history in the audit log: the case itself
 * (drafting, scores, decisions, forecasts, clawbacks), each of its tranches (claims, approvals,
 * releases) and each of its benefit reports (filed, verified, rejected).
 */
export const SUBJECT = {
  case: (caseId: string) => `case/${caseId}`,
  tranche: (caseId: string, n: number) => `case/${caseId}/tranche/${n}`,
  benefitReport: (reportId: string) => `benefit-report/${reportId}`,
};

/** Appends one entry in the caller's transaction. Appends are serialised by the head row's lock. */
export async function appendAudit(trx: Tx, entry: AuditEntryInput, now = new Date()): Promise<AuditEntry> {
  const [head] = (await advanceHead(trx)).rows;
  if (!head) throw new Error('The audit head row is missing.');
  const row: AuditRow = {
    position: BigInt(head.position),
    at: now.toISOString(),
    actor_user_id: entry.actor.userId,
    actor_role: entry.actor.role,
    action: entry.action,
    subject: entry.subject,
    detail: canonicalJson(entry.detail ?? null),
    request_id: entry.requestId ?? null,
    prev_hash: head.hash,
    transfers: canonicalJson(entry.leaveTransfersToNext ? [] : takeCausedTransfers(trx)),
    hash: '',
  };
  row.hash = hashOf(row);
  await insertEntry(trx, row);
  await setHeadHash(trx, row.hash);
  return entryFromRow(row);
}

type AuditRow = HashedFields & { hash: string };

// Every state change appends an entry: its three statements are compiled once (src/db/prepared.ts).
const advanceHead = prepared((db) =>
  db
    .updateTable('audit_head')
    .set((eb) => ({ position: eb('position', '+', 1n) }))
    .where('id', '=', 1)
    .returning(['position', 'hash']),
);
const insertEntry = prepared((db, row: AuditRow) => db.insertInto('audit_log').values(row));
const setHeadHash = prepared((db, hash: string) => db.updateTable('audit_head').set({ hash }).where('id', '=', 1));

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
  transfers: string;
};

/** Every field of an entry but its own hash, keyed with the audit key. */
export function hashOf(r: HashedFields, key = auditKey()): string {
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
    r.transfers,
  ]);
  return createHmac('sha256', key).update(material).digest('hex');
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
  problem: 'hash-mismatch' | 'broken-link' | 'missing-entry' | 'head-mismatch' | 'checkpoint-not-in-chain' | 'checkpoint-signature';
  detail: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  headPosition: string;
  /** How many checkpoints kept outside the database were checked against the chain. */
  checkpointsChecked: number;
  problems: AuditProblem[];
}

/** A checkpoint of the head kept outside the database (see ./anchor.ts). */
export interface KeptCheckpoint {
  position: string;
  hash: string;
  at: string;
  publicKey: string;
  signature: string;
}

/**
 * Recomputes the whole chain with the audit key, and checks it against the checkpoints given
 * (each must be signed with the key's checkpoint key, and the chain must still hold its entry
 * with the same hash). Reports at most 20 problems, first first.
 */
export async function verifyAuditChain(
  db: Db | Tx,
  options: {
    checkpoints?: KeptCheckpoint[];
    signatureValid?: (c: KeptCheckpoint) => boolean;
    /** Told how many entries have been checked so far, after each batch. */
    onProgress?: (entriesChecked: number) => void;
  } = {},
): Promise<AuditVerification> {
  const head = await db.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
  const key = auditKey();
  const problems: AuditProblem[] = [];
  const note = (p: AuditProblem) => {
    if (problems.length < 20) problems.push(p);
  };
  const checkpoints = new Map<string, KeptCheckpoint[]>();
  for (const c of options.checkpoints ?? []) {
    if (options.signatureValid && !options.signatureValid(c)) {
      note({
        position: c.position,
        problem: 'checkpoint-signature',
        detail: `the checkpoint taken ${c.at} is not signed with this service's key`,
      });
      continue;
    }
    checkpoints.set(c.position, [...(checkpoints.get(c.position) ?? []), c]);
  }
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
      if (hashOf({ ...r, position }, key) !== r.hash) {
        note({ position: position.toString(), problem: 'hash-mismatch', detail: 'its content was changed after it was written' });
      }
      for (const c of checkpoints.get(position.toString()) ?? []) {
        if (c.hash !== r.hash) {
          note({
            position: position.toString(),
            problem: 'checkpoint-not-in-chain',
            detail: `the checkpoint taken ${c.at} recorded another hash for this entry: the chain was rewritten from here or earlier`,
          });
        }
      }
      checkpoints.delete(position.toString());
      prev = r.hash;
      expected = position + 1n;
      after = position;
    }
    options.onProgress?.(entries);
  }
  for (const [position, kept] of checkpoints) {
    if (position === '0') continue;
    for (const c of kept) {
      note({
        position,
        problem: 'checkpoint-not-in-chain',
        detail: `the checkpoint taken ${c.at} saw entry ${position}, which is no longer in the chain: entries were removed`,
      });
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
  return {
    ok: problems.length === 0,
    entries,
    headPosition: headPosition.toString(),
    checkpointsChecked: options.checkpoints?.length ?? 0,
    problems,
  };
}

export interface AuditFilter {
  afterPosition?: bigint;
  limit: number;
  subject?: string;
  /** Any of these subjects (a case's history: see `SUBJECT`). */
  subjects?: string[];
  action?: string;
}

/**
 * The query for a page of the audit log: entries after `afterPosition` in position order,
 * filtered by subject or action through audit_log_by_subject / audit_log_by_action (0014).
 */
export function auditPageQuery(db: Db | Tx, filter: AuditFilter) {
  let q = db.selectFrom('audit_log').selectAll();
  if (filter.afterPosition !== undefined) q = q.where('position', '>', filter.afterPosition);
  if (filter.subject) q = q.where('subject', '=', filter.subject);
  if (filter.subjects) q = q.where('subject', 'in', filter.subjects.length > 0 ? filter.subjects : ['']);
  if (filter.action) q = q.where('action', '=', filter.action);
  return q.orderBy('position').limit(filter.limit);
}

export async function listAudit(db: Db | Tx, filter: AuditFilter): Promise<AuditEntry[]> {
  const rows = await auditPageQuery(db, filter).execute();
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
    transfers: JSON.parse(r.transfers) as CausedTransfer[],
  };
}
