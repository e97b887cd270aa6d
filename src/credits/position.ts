import { type ComplianceResult, complianceResults } from '../compliance/compliance.ts';
import type { Db, Tx } from '../db/database.ts';
import { findDepartmentYear, getFinancialYear, transferIds } from '../fund/fund.ts';
import { FUND_REFUSALS } from '../fund/refusals.ts';
import { CREDIT_READERS } from '../fund/visibility.ts';
import { getAccount, getTransfer } from '../ledger/ledger.ts';
import type { Pence } from '../lib/money.ts';
import { type Look, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { type Bilateral, listBilaterals } from '../market/bilateral.ts';
import { listOrders, type Order } from '../market/orders.ts';
import { creditsForSurplus, obligationForDeficit, verifiedSavings } from './close.ts';
import { assertMayRead, creditAccounts } from './registry.ts';

/*
 * A department's whole position for a year, in one place: its budget and top-slice, its target
 * against verified savings (as the close counts them; live until the year is closed), the
 * credits it holds by vintage (and how many resting sell orders reserve), its cash and what
 * resting buy orders reserve, its obligations and their compliance status, buy-outs paid and
 * owed, its open orders and the bilateral proposals open to or from it.
 *
 * Credits: `held` is what a holding has, `reserved` what resting sell orders hold back of it,
 * `available` what can still be sold or surrendered (held less reserved). Credits and
 * obligations are the department's across every year (vintages carry forward; an obligation is
 * owed until compliance settles it), each naming its year; `buyOuts` is this year's compliance.
 */

export interface Position {
  departmentCode: string;
  financialYear: string;
  baselinePence: Pence;
  topSliceBasisPoints: number;
  topSlicePaidPence: Pence;
  savingsTargetPence: Pence;
  verifiedSavings: { cashablePence: Pence; otherPence: Pence };
  yearClosed: boolean;
  creditsIssued: bigint;
  obligationCredits: bigint;
  credits: { vintage: string; held: bigint; reserved: bigint; available: bigint }[];
  cash: { balancePence: Pence; reservedPence: Pence; availablePence: Pence };
  obligations: (
    | ComplianceResult
    | { financialYear: string; departmentCode: string; obligationCredits: bigint; status: 'awaiting-compliance' }
  )[];
  buyOuts: { paidPence: Pence; outstandingPence: Pence };
  openOrders: Order[];
  bilateralOffers: Bilateral[];
}

/** Domain read for the API and reports. Refusals: department-year-not-found (404). */
export async function departmentPosition(db: Db | Tx, code: string, fy: string, now: Date): Promise<Position> {
  const settings = await findDepartmentYear(db, fy, code);
  if (!settings) throw refuse(FUND_REFUSALS, 'department-year-not-found', `${code} has no settings for ${fy}.`);
  const [outcome, holdings, cash, contribution, results, openOrders, bilaterals, outcomes] = await Promise.all([
    db
      .selectFrom('department_outcomes')
      .selectAll()
      .where('financial_year', '=', fy)
      .where('department_code', '=', code)
      .executeTakeFirst(),
    db
      .selectFrom('accounts')
      .selectAll()
      .where('kind', '=', 'credit-holding')
      .where('organisation_code', '=', code)
      .orderBy('financial_year')
      .execute(),
    getAccount(db, creditAccounts.cash(fy, code)),
    getTransfer(db, transferIds.contribution(fy, code)),
    complianceResults(db, { department: code }),
    listOrders(db, fy, { department: code, status: 'open' }),
    listBilaterals(db, fy, now, code),
    db
      .selectFrom('department_outcomes')
      .selectAll()
      .where('department_code', '=', code)
      .where('obligation_credits', '>', 0n)
      .orderBy('financial_year')
      .execute(),
  ]);
  let verified = { cashablePence: 0n, otherPence: 0n };
  if (outcome) {
    verified = { cashablePence: BigInt(outcome.verified_cashable_pence), otherPence: BigInt(outcome.verified_other_pence) };
  } else {
    const live = (await verifiedSavings(db, fy, code)).get(code);
    if (live) verified = { cashablePence: live.cashablePence, otherPence: live.otherPence };
  }
  const complied = new Set(results.map((r) => r.financialYear));
  const thisYear = results.find((r) => r.financialYear === fy);
  const balance = cash ? cash.creditsPosted - cash.debitsPosted : 0n;
  const reserved = cash ? cash.debitsPending : 0n;
  return {
    departmentCode: code,
    financialYear: fy,
    baselinePence: settings.baselinePence,
    topSliceBasisPoints: settings.topSliceBasisPoints,
    topSlicePaidPence: contribution?.amount ?? 0n,
    savingsTargetPence: settings.savingsTargetPence,
    verifiedSavings: verified,
    yearClosed: !!outcome,
    creditsIssued: outcome ? BigInt(outcome.credits_issued) : creditsForSurplus(verified.cashablePence - settings.savingsTargetPence),
    obligationCredits: outcome
      ? BigInt(outcome.obligation_credits)
      : obligationForDeficit(settings.savingsTargetPence - verified.cashablePence),
    credits: holdings.map((h) => {
      const held = BigInt(h.credits_posted) - BigInt(h.debits_posted);
      return { vintage: h.financial_year as string, held, reserved: BigInt(h.debits_pending), available: held - BigInt(h.debits_pending) };
    }),
    cash: { balancePence: balance, reservedPence: reserved, availablePence: balance - reserved },
    obligations: [
      ...results.filter((r) => r.obligationCredits > 0n),
      ...outcomes
        .filter((o) => !complied.has(o.financial_year))
        .map((o) => ({
          financialYear: o.financial_year,
          departmentCode: code,
          obligationCredits: BigInt(o.obligation_credits),
          status: 'awaiting-compliance' as const,
        })),
    ],
    buyOuts: {
      paidPence: thisYear?.buyOutPaidPence ?? 0n,
      outstandingPence: thisYear?.buyOutOutstandingPence ?? 0n,
    },
    openOrders,
    bilateralOffers: bilaterals.filter((b) => b.status === 'proposed'),
  };
}

/**
 * Department `code`'s whole position for year `fy`, as of `now`. Refusals: `forbidden` (another
 * department's); financial-year-not-found, department-year-not-found (404).
 */
export const readPosition = operation(
  { ...CREDIT_READERS, refuses: ['financial-year-not-found', 'department-year-not-found'] },
  async ({ db, principal }: Look, code: string, fy: string, now: Date): Promise<Position> => {
    assertMayRead(principal, code);
    await getFinancialYear(db, fy);
    return departmentPosition(db, code, fy, now);
  },
);
