import { penceToJson } from '../lib/money.ts';
import type { Counters, LedgerName } from './types.ts';

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
