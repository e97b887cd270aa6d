import { type Checkpoint, issueCheckpoint } from '../audit/anchor.ts';
import { type KeptCheckpoint, listAudit } from '../audit/audit.ts';
import { verifyIntegrity } from '../audit/integrity.ts';
import { verifyCredits } from '../credits/verify.ts';
import type { Db } from '../db/database.ts';
import { UNIT_OF } from '../ledger/report.ts';
import { toJson } from '../lib/money.ts';
import { type Look, operation } from '../lib/operation.ts';

/**
 * The whole verification as one report: the ledger's invariants, the credits registry
 * (conserved, reservations equal to the book), the audit chain (against the checkpoint file and
 * any checkpoints the caller kept) and the binding of ledger and audit, both ways. It is what
 * `GET`/`POST /api/v1/ledger/verify` answer and what `npm run cli -- verify` prints, so an operator
 * and an auditor read the same figures. Read-only; treasury and auditors (and operators) call it.
 * Sums over a whole ledger can pass 2^53 even when every counter is below it, so totals and
 * mismatch figures are decimal strings; `ok` is true only if every part is.
 */
export async function verificationReport(
  db: Db,
  now: Date,
  options: { checkpointPath?: string | null; checkpoints?: KeptCheckpoint[] } = {},
) {
  const [v, credits] = await Promise.all([verifyIntegrity(db, options), verifyCredits(db)]);
  return {
    ok: v.ok && credits.ok,
    checkedAt: now.toISOString(),
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

/**
 * Treasury or an auditor checks the ledger, the credits and the audit chain from scratch, and
 * against the checkpoints named in `options` (a checkpoint file, checkpoints an auditor kept).
 * Changes nothing. Refusals: `forbidden` only; what is wrong is reported, not refused.
 */
export const checkBooks = operation(CHECKERS, ({ db }: Look, now: Date, options: Parameters<typeof verificationReport>[2] = {}) =>
  // A check reads outside any transaction: it must see committed data only.
  verificationReport(db as Db, now, options),
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

/** Treasury or an auditor reads a page of the audit log, oldest first. Refusals: `forbidden` only. */
export const readAuditLog = operation(CHECKERS, ({ db }: Look, filter: Parameters<typeof listAudit>[1]) => listAudit(db, filter));
