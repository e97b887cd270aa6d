import { verifyAuditChain } from '../audit/audit.ts';
import type { Db } from '../db/database.ts';
import { penceToJson } from '../lib/money.ts';
import type { Counters, LedgerName } from './types.ts';
import { verifyLedger } from './verify.ts';

/**
 * The unit of a ledger's amounts, stated beside every amount that has no unit in its name:
 * `GBP` counts pence, `CREDIT` whole savings credits.
 */
export const UNIT_OF: Record<LedgerName, 'pence' | 'credits'> = { GBP: 'pence', CREDIT: 'credits' };

const n = (b: bigint) => penceToJson(b);

export const countersJson = (c: Counters) => ({
  debitsPending: n(c.debitsPending),
  debitsPosted: n(c.debitsPosted),
  creditsPending: n(c.creditsPending),
  creditsPosted: n(c.creditsPosted),
});

/**
 * The ledger and audit-chain verification as one report, in exact JSON numbers: what
 * `GET /api/v1/ledger/verify` answers and what `npm run cli -- verify` prints, so an operator and
 * an auditor read the same figures. Read-only; treasury and auditors (and operators) call it.
 */
export async function verificationReport(db: Db, now: Date) {
  const [ledger, audit] = await Promise.all([verifyLedger(db), verifyAuditChain(db)]);
  return {
    ok: ledger.ok && audit.ok,
    checkedAt: now.toISOString(),
    ledgers: ledger.ledgers.map((l) => ({ ledger: l.ledger, unit: UNIT_OF[l.ledger], balanced: l.balanced, ...countersJson(l) })),
    accounts: {
      checked: ledger.accounts.checked,
      mismatches: ledger.accounts.mismatches.map((m) => ({ ...m, stored: n(m.stored), fromTransfers: n(m.fromTransfers) })),
    },
    limits: ledger.limits,
    pendingTransfers: ledger.pendingTransfers,
    audit,
  };
}
