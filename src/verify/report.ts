import type { KeptCheckpoint } from '../audit/audit.ts';
import { verifyIntegrity } from '../audit/integrity.ts';
import { verifyCredits } from '../credits/verify.ts';
import type { Db } from '../db/database.ts';
import { UNIT_OF } from '../ledger/report.ts';
import { toJson } from '../lib/money.ts';

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
