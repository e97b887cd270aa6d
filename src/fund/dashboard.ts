import type { Db, Tx } from '../db/database.ts';
import { listTransfers } from '../ledger/ledger.ts';
import type { Pence } from '../lib/money.ts';
import { type Look, operation } from '../lib/operation.ts';
import { accountIds, type FundPosition, fundPosition } from './fund.ts';

/*
 * The fund at a glance for a year, as Treasury watches it: the position (`fundPosition`, the
 * figures GET /fund gives), what came back into the fund split by where from, and the
 * commitments and releases month by month. All of it is read from the fund's ledger account:
 *   clawed back  = refunds councils paid back into the fund (transfers coded `clawback`);
 *   bought out   = departments' buy-outs paid into the fund at compliance (`buy-out`);
 *   committed    = at the end of each month, awards reserved and not yet paid or voided
 *                  (pending debits), the same figure as the position's at the last month;
 *   released     = at the end of each month, everything paid out so far (posted debits).
 */

export interface FundMonth {
  /** `YYYY-MM`. */
  month: string;
  committedPence: Pence;
  releasedPence: Pence;
}

export interface FundDashboard {
  position: FundPosition;
  clawedBackPence: Pence;
  boughtOutPence: Pence;
  months: FundMonth[];
}

/** Every transfer on the fund's account, in ledger order (a year has thousands at most). */
const FUND_TRANSFERS_LIMIT = 1_000_000;

export async function fundDashboard(db: Db | Tx, fy: string): Promise<FundDashboard> {
  const position = await fundPosition(db, fy);
  const fund = accountIds.fund(fy);
  const transfers = await listTransfers(db, { accountIds: [fund], limit: FUND_TRANSFERS_LIMIT });
  let clawedBack = 0n;
  let boughtOut = 0n;
  let committed = 0n;
  let released = 0n;
  const pendingAmount = new Map<string, Pence>();
  const months: FundMonth[] = [];
  for (const t of transfers) {
    if (t.creditAccountId === fund) {
      if (t.code === 'clawback') clawedBack += t.amount;
      else if (t.code === 'buy-out') boughtOut += t.amount;
      continue;
    }
    if (t.debitAccountId !== fund) continue;
    if (t.pending) {
      pendingAmount.set(t.id, t.amount);
      committed += t.amount;
    } else if (t.postPendingTransfer || t.voidPendingTransfer) {
      committed -= pendingAmount.get(t.pendingId ?? '') ?? 0n;
      if (t.postPendingTransfer) released += t.amount;
    } else {
      released += t.amount;
    }
    const month = t.createdAt.slice(0, 7);
    const last = months.at(-1);
    if (last?.month === month) {
      last.committedPence = committed;
      last.releasedPence = released;
    } else months.push({ month, committedPence: committed, releasedPence: released });
  }
  return { position, clawedBackPence: clawedBack, boughtOutPence: boughtOut, months };
}

/**
 * The fund dashboard for year `fy` (above): pence throughout. Who: treasury, and auditors who
 * read it. Changes nothing. Refusals: `forbidden`; financial-year-not-found (404).
 */
export const readFundDashboard = operation(
  { roles: ['treasury', 'auditor'], refuses: ['financial-year-not-found'] },
  ({ db }: Look, fy: string): Promise<FundDashboard> => fundDashboard(db, fy),
);
