import { type Checkpoint, issueCheckpoint } from '../audit/anchor.ts';
import { type AuditFilter, type KeptCheckpoint, listAudit, SUBJECT } from '../audit/audit.ts';
import { type IntegrityProgress, verifyIntegrity } from '../audit/integrity.ts';
import { CASE_REFERENCE } from '../cases/records.ts';
import { CASES_REFUSALS } from '../cases/refusals.ts';
import { verifyCredits } from '../credits/verify.ts';
import type { Database, Db, Tx } from '../db/database.ts';
import { inReadSnapshot } from '../db/snapshot.ts';
import { UNIT_OF } from '../ledger/report.ts';
import { toJson } from '../lib/money.ts';
import { type Look, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import type { Principal } from '../users/users.ts';

/** What a verification is asked to check the audit chain against, beside its own invariants. */
export interface VerificationOptions {
  /** The checkpoint file (AUDIT_CHECKPOINT_PATH); null: none. */
  checkpointPath?: string | null;
  /** Checkpoints an auditor took and kept. */
  checkpoints?: KeptCheckpoint[];
  /** Told how far the check has got, after each batch of rows. */
  onProgress?: (progress: IntegrityProgress) => void;
}

/** What a verification covered: the audit chain up to `auditPosition`, the ledger up to transfer `lastTransferSeq`. */
export async function snapshotExtent(db: Db | Tx): Promise<{ auditPosition: string; lastTransferSeq: string }> {
  const head = await db.selectFrom('audit_head').select('position').where('id', '=', 1).executeTakeFirstOrThrow();
  const last = await db
    .selectFrom('transfers')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return { auditPosition: BigInt(head.position).toString(), lastTransferSeq: BigInt(last?.seq ?? 0).toString() };
}

/**
 * The whole verification as one report: the ledger's invariants, the credits registry
 * (conserved, reservations equal to the book), the audit chain (against the checkpoint file and
 * any checkpoints the caller kept) and the binding of ledger and audit, both ways. It is what
 * `GET`/`POST /api/v1/ledger/verify` answer and what `npm run cli -- verify` prints, so an operator
 * and an auditor read the same figures. Read-only; treasury and auditors (and operators) call it.
 * Sums over a whole ledger can pass 2^53 even when every counter is below it, so totals and
 * mismatch figures are decimal strings; `ok` is true only if every part is.
 */
export async function verificationReport(db: Db | Tx, now: Date, options: VerificationOptions = {}) {
  // Read first: in a snapshot, the first read fixes what every later one sees.
  const asOf = await snapshotExtent(db);
  const v = await verifyIntegrity(db, options);
  const credits = await verifyCredits(db);
  return {
    ok: v.ok && credits.ok,
    checkedAt: now.toISOString(),
    asOf,
    ledgers: v.ledger.ledgers.map((l) => ({
      ledger: l.ledger,
      unit: UNIT_OF[l.ledger],
      balanced: l.balanced,
      debitsPending: l.debitsPending.toString(),
      debitsPosted: l.debitsPosted.toString(),
      creditsPending: l.creditsPending.toString(),
      creditsPosted: l.creditsPosted.toString(),
    })),
    accounts: {
      checked: v.ledger.accounts.checked,
      mismatches: v.ledger.accounts.mismatches.map((m) => ({
        ...m,
        stored: m.stored.toString(),
        fromTransfers: m.fromTransfers.toString(),
      })),
    },
    limits: v.ledger.limits,
    pendingTransfers: v.ledger.pendingTransfers,
    credits: toJson(credits),
    audit: v.audit,
    binding: v.binding,
  };
}

/** Who checks the service's books and its audit trail. */
const CHECKERS = { roles: ['treasury', 'auditor'], refuses: [] } as const;

export type VerificationReport = Awaited<ReturnType<typeof verificationReport>>;

/**
 * The whole verification read from one consistent snapshot of `database` (src/db/snapshot.ts):
 * counters, transfers and audit entries as they all stood at one moment, so a write committed
 * while it reads can never show as a mismatch, and no writer waits for it. In the calling
 * thread: for a large fund, a verification in the background (./verifications.ts) is the way.
 */
export function verifyBooks(database: Database, now: Date, options: VerificationOptions = {}): Promise<VerificationReport> {
  return inReadSnapshot(database, (trx) => verificationReport(trx, now, options));
}

/**
 * Treasury or an auditor checks the ledger, the credits and the audit chain from scratch, and
 * against the checkpoints named in `options` (a checkpoint file, checkpoints an auditor kept),
 * on one snapshot of the database, in the calling request. Changes nothing.
 * Refusals: `forbidden` only; what is wrong is reported, not refused.
 */
export const checkBooks = operation(
  CHECKERS,
  ({ database }: { database: Database; principal: Principal }, now: Date, options: VerificationOptions = {}) =>
    verifyBooks(database, now, options),
);

/**
 * Treasury or an auditor signs a checkpoint of the audit chain's head and appends it to the
 * checkpoint file at `path` (none: not written). Changes nothing in the database.
 * Refusals: `forbidden` only.
 */
export const signCheckpoint = operation(
  CHECKERS,
  ({ db }: Look, path: string | null, now: Date): Promise<Checkpoint> => issueCheckpoint(db, path, now),
);

/**
 * Treasury or an auditor reads a page of the audit log, oldest first: at most `limit` entries
 * after position `afterPosition`, of one subject, one action, or one case's whole history (`case`:
 * its id or reference; the case, its tranches and its benefit reports, as `SUBJECT` names them).
 * Changes nothing. Refusals: `forbidden`; `case-not-found` (no case has that id or reference).
 */
export const readAuditLog = operation(
  { roles: CHECKERS.roles, refuses: ['case-not-found'] },
  async ({ db }: Look, filter: Omit<AuditFilter, 'subjects'> & { case?: string }) => {
    const { case: key, ...rest } = filter;
    return listAudit(db, key === undefined ? rest : { ...rest, subjects: await caseHistorySubjects(db, key) });
  },
);

/** A case's id from its id or reference. Refusals: `case-not-found`. */
export async function caseIdOf(db: Db | Tx, key: string): Promise<string> {
  const c = await db
    .selectFrom('cases')
    .select('id')
    .where(CASE_REFERENCE.test(key) ? 'reference' : 'id', '=', key)
    .executeTakeFirst();
  if (!c) throw refuse(CASES_REFUSALS, 'case-not-found', `There is no case ${key}.`);
  return c.id;
}

/** The subjects of a case's history (the case, each tranche, each benefit report), by its id or reference. */
async function caseHistorySubjects(db: Db | Tx, key: string): Promise<string[]> {
  const c = { id: await caseIdOf(db, key) };
  const [tranches, reports] = await Promise.all([
    db.selectFrom('tranches').select('number').where('case_id', '=', c.id).execute(),
    db.selectFrom('benefit_reports').select('id').where('case_id', '=', c.id).execute(),
  ]);
  return [
    SUBJECT.case(c.id),
    ...tranches.map((t) => SUBJECT.tranche(c.id, Number(t.number))),
    ...reports.map((r) => SUBJECT.benefitReport(r.id)),
  ];
}
