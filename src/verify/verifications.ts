import { randomUUID } from 'node:crypto';
import { appendAudit, type KeptCheckpoint } from '../audit/audit.ts';
import type { IntegrityProgress } from '../audit/integrity.ts';
import type { Db, Tx } from '../db/database.ts';
import type { LedgerVerificationTable } from '../db/schema.ts';
import { type Act, type Look, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { VERIFY_REFUSALS } from './refusals.ts';
import { checkBooks, type VerificationReport } from './report.ts';

/*
 * A verification of the books in the background: the same report as GET /ledger/verify, worked
 * out away from the requests (./runner.ts) and kept, so that checking millions of transfers
 * neither holds a request open nor makes a writer wait. Its rules:
 *   - One at a time. Starting one while another runs gives the one running (a second check of
 *     the same books at the same moment would only share the machine with it).
 *   - Interrupted is an error. Its runner renews a lease every HEARTBEAT_SECONDS; a verification
 *     still marked running after its lease (LEASE_SECONDS) has lapsed was cut off — the service
 *     stopped or crashed while it ran — and counts as `error` from then on, so a new one may start.
 *   - The outcome: `passed` when every check passed (`report.ok`), `failed` when one did not (the
 *     report says what), `error` when the check could not be completed (no report).
 * Starting one is audited (who asked the books to be checked, and when). What it finds is its
 * record's, not an audit entry: a check changes nothing in the books, and the chain it checks
 * would otherwise grow with every check of it.
 */

/** How often a running verification's runner renews its lease. */
export const HEARTBEAT_SECONDS = 20;
/** How long a lease lasts: several heartbeats, so one late heartbeat does not end a verification. */
export const LEASE_SECONDS = 120;

export type VerificationStatus = 'running' | 'passed' | 'failed' | 'error';

/** What a running verification has covered so far, and of what. */
export interface VerificationProgress extends IntegrityProgress {
  /** What it checks: the audit chain up to `auditPosition`, the ledger up to transfer `lastTransferSeq`. Null until its snapshot is taken. */
  asOf: { auditPosition: string; lastTransferSeq: string } | null;
}

export interface Verification {
  id: string;
  seq: bigint;
  status: VerificationStatus;
  requestedBy: { userId: string; name: string | null; role: string };
  startedAt: string;
  finishedAt: string | null;
  checkpointsGiven: number;
  progress: VerificationProgress | null;
  report: VerificationReport | null;
  error: string | null;
}

const INTERRUPTED = 'Interrupted: the service stopped while it ran, so it never finished. Start another.';

const leaseFrom = (now: Date) => new Date(now.getTime() + LEASE_SECONDS * 1000).toISOString();

/** A verification still marked running whose lease lapsed before `now` was interrupted. */
function interrupted(row: Pick<LedgerVerificationTable, 'status' | 'lease_expires_at'>, now: Date): boolean {
  return row.status === 'running' && row.lease_expires_at !== null && row.lease_expires_at < now.toISOString();
}

type Row = LedgerVerificationTable & { requester_name: string | null };

function fromRow(r: Row, now: Date): Verification {
  const lapsed = interrupted(r, now);
  return {
    id: r.id,
    seq: BigInt(r.seq),
    status: lapsed ? 'error' : (r.status as VerificationStatus),
    requestedBy: { userId: r.requested_by, name: r.requester_name, role: r.requested_role },
    startedAt: r.started_at,
    finishedAt: lapsed ? r.lease_expires_at : r.finished_at,
    checkpointsGiven: (JSON.parse(r.checkpoints) as unknown[]).length,
    progress: r.progress === null ? null : (JSON.parse(r.progress) as VerificationProgress),
    report: r.report === null ? null : (JSON.parse(r.report) as VerificationReport),
    error: lapsed ? INTERRUPTED : r.error,
  };
}

function selectRows(db: Db | Tx) {
  return db
    .selectFrom('ledger_verifications as v')
    .leftJoin('users as u', 'u.id', 'v.requested_by')
    .selectAll('v')
    .select('u.name as requester_name');
}

/** Records as `error` every running verification whose lease lapsed before `now`. */
export async function endInterrupted(trx: Tx, now: Date): Promise<number> {
  const ended = await trx
    .updateTable('ledger_verifications')
    .set((eb) => ({ status: 'error', finished_at: eb.ref('lease_expires_at'), lease_expires_at: null, error: INTERRUPTED }))
    .where('status', '=', 'running')
    .where('lease_expires_at', '<', now.toISOString())
    .executeTakeFirst();
  return Number(ended.numUpdatedRows);
}

/**
 * Starts a verification for `principal`, checking the chain also against `checkpoints`, unless
 * one is running: then that one, with `started` false. Ends any interrupted one first.
 */
async function startIn(act: Act, checkpoints: KeptCheckpoint[]): Promise<{ verification: Verification; started: boolean }> {
  const { trx, principal, now } = act;
  await endInterrupted(trx, now);
  const running = await selectRows(trx).where('v.status', '=', 'running').executeTakeFirst();
  if (running) return { verification: fromRow(running, now), started: false };
  const last = await trx
    .selectFrom('ledger_verifications')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  const id = randomUUID();
  await trx
    .insertInto('ledger_verifications')
    .values({
      id,
      seq: BigInt(last?.seq ?? 0) + 1n,
      status: 'running',
      requested_by: principal.userId,
      requested_role: principal.role,
      checkpoints: JSON.stringify(checkpoints),
      started_at: now.toISOString(),
      lease_expires_at: leaseFrom(now),
      finished_at: null,
      progress: null,
      report: null,
      error: null,
    })
    .execute();
  await appendAudit(
    trx,
    {
      actor: principal,
      action: 'ledger.verification-started',
      subject: `ledger-verification/${id}`,
      detail: { checkpointsGiven: checkpoints.length },
      requestId: act.requestId,
    },
    now,
  );
  const row = await selectRows(trx).where('v.id', '=', id).executeTakeFirstOrThrow();
  return { verification: fromRow(row, now), started: true };
}

/** The checkpoints a verification was asked to check the chain against. */
export async function checkpointsOf(db: Db | Tx, id: string): Promise<KeptCheckpoint[]> {
  const row = await db.selectFrom('ledger_verifications').select('checkpoints').where('id', '=', id).executeTakeFirstOrThrow();
  return JSON.parse(row.checkpoints) as KeptCheckpoint[];
}

/** Its runner is still at work on it: the lease runs on from `now`, with how far it has got. False if it is no longer running. */
export async function renewLease(trx: Tx, id: string, now: Date, progress: VerificationProgress | null): Promise<boolean> {
  const r = await trx
    .updateTable('ledger_verifications')
    .set({ lease_expires_at: leaseFrom(now), progress: progress === null ? null : JSON.stringify(progress) })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Records how a verification ended: its report (passed or failed by `report.ok`), or why it
 * could not finish. Only a verification still running is changed: one already ended as
 * interrupted keeps that outcome. Gives whether it was recorded.
 */
export async function finishVerification(
  trx: Tx,
  id: string,
  now: Date,
  outcome: { report: VerificationReport; progress: VerificationProgress | null } | { error: string; progress: VerificationProgress | null },
): Promise<boolean> {
  const r = await trx
    .updateTable('ledger_verifications')
    .set({
      status: 'report' in outcome ? (outcome.report.ok ? 'passed' : 'failed') : 'error',
      finished_at: now.toISOString(),
      lease_expires_at: null,
      progress: outcome.progress === null ? null : JSON.stringify(outcome.progress),
      report: 'report' in outcome ? JSON.stringify(outcome.report) : null,
      error: 'error' in outcome ? outcome.error : null,
    })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Who may start, follow and read verifications: whoever may check the books. */
const CHECKERS = { roles: checkBooks.roles, refuses: [] } as const;

/**
 * Treasury or an auditor starts a verification of the books in the background, checking the
 * audit chain also against `checkpoints` (signed checkpoints they kept; the checkpoint file is
 * always read). If one is running already, gives that one instead (`started` false) and changes
 * nothing. Changes: the verification's record, and an audit entry `ledger.verification-started`.
 * The caller starts its runner once the transaction has committed (./runner.ts).
 * Refusals: `forbidden` only.
 */
export const startVerification = operation(CHECKERS, (act: Act, checkpoints: KeptCheckpoint[]) => startIn(act, checkpoints));

/**
 * Treasury or an auditor reads a verification as it stands at `now`: running (with how far it
 * has got), or how it ended, with the report once done. Changes nothing.
 * Refusals: `verification-not-found`.
 */
export const readVerification = operation(
  { roles: CHECKERS.roles, refuses: ['verification-not-found'] },
  async ({ db }: Look, id: string, now: Date): Promise<Verification> => {
    const row = await selectRows(db).where('v.id', '=', id).executeTakeFirst();
    if (!row) throw refuse(VERIFY_REFUSALS, 'verification-not-found', `There is no verification ${id}.`);
    return fromRow(row, now);
  },
);

/**
 * Treasury or an auditor lists verifications, the latest first, `limit` at a time: pass the
 * `seq` of the last one received as `before` for the next page. Changes nothing.
 * Refusals: `forbidden` only.
 */
export const listVerifications = operation(
  CHECKERS,
  async ({ db }: Look, page: { before?: bigint; limit: number }, now: Date): Promise<Verification[]> => {
    let q = selectRows(db);
    if (page.before !== undefined) q = q.where('v.seq', '<', page.before);
    const rows = await q.orderBy('v.seq', 'desc').limit(page.limit).execute();
    return rows.map((r) => fromRow(r, now));
  },
);
