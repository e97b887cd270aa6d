import { type Actor, appendAudit } from '../audit/audit.ts';
import {
  CREDIT_CODES,
  creditAccounts,
  ensureAccounts,
  lockYearState,
  mustHaveBand,
  mustTransfer,
  smaller,
  vintageAccounts,
} from '../credits/registry.ts';
import { type Db, dryRun, type Tx } from '../db/database.ts';
import { CREDIT_READERS, ownDepartmentScope } from '../fund/visibility.ts';
import { LEDGER_REFUSALS } from '../ledger/refusals.ts';
import { MAX_AMOUNT, type TransferInput } from '../ledger/types.ts';
import { formatCredits, formatPence, type Pence } from '../lib/money.ts';
import { type Act, type Look, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { expireOpenProposals } from '../market/bilateral.ts';
import { expireOpenOrders } from '../market/orders.ts';
import { actorOf, type Principal } from '../users/users.ts';
import { COMPLIANCE_REFUSALS } from './refusals.ts';

/*
 * Compliance for a closed year (DESIGN step 10), run by treasury once the trading window is over.
 * It ends the year's market (resting orders lapse, their reservations are released, and open
 * bilateral proposals lapse), then for
 * each department that owes an obligation:
 *   1. surrenders credits it holds, oldest vintage first, never a vintage later than the
 *      obligation's year (a year's obligation can be met only with credits earned by then);
 *   2. buys out what is still short at the year's ceiling price, paid from the department's
 *      account for that year into the prevention fund for that year (`buy-out`), where it is
 *      money the fund can commit to its next round;
 *   3. if the department's account cannot pay the whole buy-out, it pays what it has (its
 *      balance never goes below zero) and the rest is an outstanding buy-out debt, shown in its
 *      position and in the fund statement.
 * Statuses, in the spirit of the UK ETS registry's compliance status codes:
 *   no-obligation         — the department met its target (or beat it): nothing was owed;
 *   compliant             — the obligation was met in full by surrendered credits;
 *   compliant-by-buy-out  — credits fell short and the buy-out was paid in full;
 *   outstanding           — a buy-out debt remains.
 * Unused credits stay in their holding accounts and bank into later years. Running compliance
 * again changes nothing (fixed transfer ids, and the stored result is returned).
 * The year's buy-outs due, all departments together, must stay within what the ledger holds
 * (2^53 − 1 pence, MAX_AMOUNT): a ceiling that would pass it is refused before anything changes,
 * so every amount the run records can be read out exactly.
 */

export type ComplianceStatus = 'no-obligation' | 'compliant' | 'compliant-by-buy-out' | 'outstanding';

export interface ComplianceResult {
  financialYear: string;
  departmentCode: string;
  obligationCredits: bigint;
  surrendered: { vintage: string; credits: bigint; transferId: string }[];
  surrenderedCredits: bigint;
  shortfallCredits: bigint;
  buyOutDuePence: Pence;
  buyOutPaidPence: Pence;
  buyOutOutstandingPence: Pence;
  buyOutTransferId: string | null;
  status: ComplianceStatus;
}

export interface ComplianceRun {
  financialYear: string;
  ranAt: string;
  ranBy: string;
  ceilingPence: Pence;
  results: ComplianceResult[];
  totals: { surrenderedCredits: bigint; buyOutPaidPence: Pence; buyOutOutstandingPence: Pence };
}

export function complianceStatus(obligation: bigint, shortfall: bigint, outstanding: Pence): ComplianceStatus {
  if (obligation === 0n) return 'no-obligation';
  if (shortfall === 0n) return 'compliant';
  return outstanding === 0n ? 'compliant-by-buy-out' : 'outstanding';
}

export const complianceTransferIds = {
  surrender: (fy: string, code: string, vintage: string) => `${CREDIT_CODES.surrender}/${fy}/${code}/${vintage}`,
  buyOut: (fy: string, code: string) => `${CREDIT_CODES.buyOut}/${fy}/${code}`,
};

/**
 * Treasury runs compliance for a closed year (rules above). Changes: lapses resting orders and open proposals,
 * surrenders credits, pays buy-outs into the fund, stores each department's result and status,
 * one audit entry. Running it again returns the stored run (`created` false).
 * Refusals: financial-year-not-found (404); financial-year-not-closed (409); market-prices-not-set,
 * ledger-limit-reached (422, the buy-outs due at this ceiling pass MAX_AMOUNT).
 */
export async function runCompliance(
  trx: Tx,
  fy: string,
  actor: Actor,
  requestId: string | null,
  now: Date,
): Promise<{ run: ComplianceRun; created: boolean }> {
  const state = await lockYearState(trx, fy);
  if (!state.closed) {
    throw refuse(COMPLIANCE_REFUSALS, 'financial-year-not-closed', `Compliance runs on a closed year; close ${fy} first.`);
  }
  if (state.complied) return { run: await getCompliance(trx, fy), created: false };
  const band = await mustHaveBand(trx, fy);
  await expireOpenOrders(trx, fy, actor, requestId, now);
  await expireOpenProposals(trx, fy, actor, requestId, now);

  const outcomes = await trx
    .selectFrom('department_outcomes')
    .selectAll()
    .where('financial_year', '=', fy)
    .orderBy('department_code')
    .execute();
  const results: ComplianceResult[] = [];
  let dueSoFar = 0n;
  for (const o of outcomes) {
    const code = o.department_code;
    const obligation = BigInt(o.obligation_credits);
    let short = obligation;
    const surrendered: ComplianceResult['surrendered'] = [];
    const transfers: TransferInput[] = [];
    if (short > 0n) {
      const holdings = await trx
        .selectFrom('accounts')
        .select(['financial_year', 'credits_posted', 'debits_posted', 'debits_pending'])
        .where('kind', '=', 'credit-holding')
        .where('organisation_code', '=', code)
        .where('financial_year', '<=', fy)
        .orderBy('financial_year')
        .execute();
      for (const h of holdings) {
        if (short === 0n) break;
        const vintage = h.financial_year as string;
        const available = BigInt(h.credits_posted) - BigInt(h.debits_posted) - BigInt(h.debits_pending);
        const take = smaller(available, short);
        if (take <= 0n) continue;
        const transferId = complianceTransferIds.surrender(fy, code, vintage);
        await ensureAccounts(trx, vintageAccounts(vintage), now);
        transfers.push({
          id: transferId,
          debitAccountId: creditAccounts.holding(vintage, code),
          creditAccountId: creditAccounts.surrendered(vintage),
          amount: take,
          ledger: 'CREDIT',
          code: CREDIT_CODES.surrender,
          reference: `${code} obligation for ${fy}`,
        });
        surrendered.push({ vintage, credits: take, transferId });
        short -= take;
      }
    }
    const due = short * band.ceilingPence;
    dueSoFar += due;
    if (dueSoFar > MAX_AMOUNT) {
      throw refuse(
        LEDGER_REFUSALS,
        'ledger-limit-reached',
        `At the ceiling of ${band.ceilingPence}p a credit, the buy-outs due for ${fy} pass ${formatPence(MAX_AMOUNT)} by ${code} (${short} credits short); lower the ceiling and run compliance again. Nothing was changed.`,
        { departmentCode: code, ceilingPence: Number(band.ceilingPence) },
      );
    }
    let paid = 0n;
    let buyOutTransferId: string | null = null;
    if (due > 0n) {
      const cash = await trx
        .selectFrom('accounts')
        .select(['credits_posted', 'debits_posted', 'debits_pending'])
        .where('id', '=', creditAccounts.cash(fy, code))
        .executeTakeFirst();
      const available = cash ? BigInt(cash.credits_posted) - BigInt(cash.debits_posted) - BigInt(cash.debits_pending) : 0n;
      paid = available < due ? (available > 0n ? available : 0n) : due;
      if (paid > 0n) {
        buyOutTransferId = complianceTransferIds.buyOut(fy, code);
        transfers.push({
          id: buyOutTransferId,
          debitAccountId: creditAccounts.cash(fy, code),
          creditAccountId: creditAccounts.fund(fy),
          amount: paid,
          ledger: 'GBP',
          code: CREDIT_CODES.buyOut,
          reference: `${code} buy-out of ${formatCredits(short)} at ${formatPence(band.ceilingPence)} a credit for ${fy}`,
        });
      }
    }
    await mustTransfer(trx, transfers, now);
    const surrenderedCredits = obligation - short;
    results.push({
      financialYear: fy,
      departmentCode: code,
      obligationCredits: obligation,
      surrendered,
      surrenderedCredits,
      shortfallCredits: short,
      buyOutDuePence: due,
      buyOutPaidPence: paid,
      buyOutOutstandingPence: due - paid,
      buyOutTransferId,
      status: complianceStatus(obligation, short, due - paid),
    });
  }
  for (const r of results) {
    await trx
      .insertInto('compliance_results')
      .values({
        financial_year: fy,
        department_code: r.departmentCode,
        obligation_credits: r.obligationCredits,
        surrendered: JSON.stringify(r.surrendered.map((s) => ({ ...s, credits: Number(s.credits) }))),
        surrendered_credits: r.surrenderedCredits,
        shortfall_credits: r.shortfallCredits,
        buy_out_due_pence: r.buyOutDuePence,
        buy_out_paid_pence: r.buyOutPaidPence,
        buy_out_outstanding_pence: r.buyOutOutstandingPence,
        buy_out_transfer_id: r.buyOutTransferId,
        status: r.status,
      })
      .execute();
  }
  await trx
    .insertInto('compliance_runs')
    .values({ financial_year: fy, ran_by: actor.userId ?? 'system', ran_at: now.toISOString(), ceiling_pence: band.ceilingPence })
    .execute();
  const run = await getCompliance(trx, fy);
  await appendAudit(
    trx,
    {
      actor,
      action: 'compliance.run',
      subject: `financial-year/${fy}/compliance`,
      detail: { ceilingPence: band.ceilingPence, results: run.results.map((r) => ({ ...r, surrendered: r.surrendered })) },
      requestId,
    },
    now,
  );
  return { run, created: true };
}

/** The stored compliance run for a year (`department`: only its row). Refusal: compliance-run-not-found (404). */
export async function getCompliance(db: Db | Tx, fy: string, department?: string): Promise<ComplianceRun> {
  const run = await db.selectFrom('compliance_runs').selectAll().where('financial_year', '=', fy).executeTakeFirst();
  if (!run) throw refuse(COMPLIANCE_REFUSALS, 'compliance-run-not-found', `Compliance has not run for ${fy}.`);
  const results = await complianceResults(db, { fy, department });
  return {
    financialYear: fy,
    ranAt: run.ran_at,
    ranBy: run.ran_by,
    ceilingPence: BigInt(run.ceiling_pence),
    results,
    totals: {
      surrenderedCredits: results.reduce((s, r) => s + r.surrenderedCredits, 0n),
      buyOutPaidPence: results.reduce((s, r) => s + r.buyOutPaidPence, 0n),
      buyOutOutstandingPence: results.reduce((s, r) => s + r.buyOutOutstandingPence, 0n),
    },
  };
}

/** Compliance results and statuses, by year and/or department: a domain read for the API and reports. */
export async function complianceResults(db: Db | Tx, filter: { fy?: string; department?: string }): Promise<ComplianceResult[]> {
  let q = db.selectFrom('compliance_results').selectAll();
  if (filter.fy) q = q.where('financial_year', '=', filter.fy);
  if (filter.department) q = q.where('department_code', '=', filter.department);
  const rows = await q.orderBy('financial_year').orderBy('department_code').execute();
  return rows.map((r) => ({
    financialYear: r.financial_year,
    departmentCode: r.department_code,
    obligationCredits: BigInt(r.obligation_credits),
    surrendered: (JSON.parse(r.surrendered) as { vintage: string; credits: number; transferId: string }[]).map((s) => ({
      ...s,
      credits: BigInt(s.credits),
    })),
    surrenderedCredits: BigInt(r.surrendered_credits),
    shortfallCredits: BigInt(r.shortfall_credits),
    buyOutDuePence: BigInt(r.buy_out_due_pence),
    buyOutPaidPence: BigInt(r.buy_out_paid_pence),
    buyOutOutstandingPence: BigInt(r.buy_out_outstanding_pence),
    buyOutTransferId: r.buy_out_transfer_id,
    status: r.status as ComplianceStatus,
  }));
}

/**
 * Treasury runs compliance for closed year `fy` as a signed-in user (the CLI runs `runCompliance`
 * as the system): see `runCompliance` for what changes. Refusals: `forbidden`;
 * financial-year-not-found (404); financial-year-not-closed (409); market-prices-not-set,
 * ledger-limit-reached, ledger-refused (422).
 */
export const runYearCompliance = operation(
  {
    roles: ['treasury'],
    refuses: ['financial-year-not-found', 'financial-year-not-closed', 'market-prices-not-set', 'ledger-limit-reached', 'ledger-refused'],
  },
  ({ trx, principal, requestId, now }: Act, fy: string): Promise<{ run: ComplianceRun; created: boolean }> =>
    runCompliance(trx, fy, actorOf(principal), requestId, now),
);

/** Year `fy`'s compliance result, a department's own only. Refusals: compliance-run-not-found (404). */
export const readCompliance = operation(
  { ...CREDIT_READERS, refuses: ['compliance-run-not-found'] },
  ({ db, principal }: Look, fy: string): Promise<ComplianceRun> => getCompliance(db, fy, ownDepartmentScope(principal)),
);

/**
 * What running compliance for closed year `fy` would do, worked out by `runCompliance` itself in
 * a transaction that is rolled back: each department's surrenders, buy-out due, paid and
 * outstanding, and status. Nothing changes. `created` false: compliance has already run.
 * Who: treasury. Refusals: as `runYearCompliance`.
 */
export const previewCompliance = operation(
  {
    roles: ['treasury'],
    refuses: ['financial-year-not-found', 'financial-year-not-closed', 'market-prices-not-set', 'ledger-limit-reached', 'ledger-refused'],
  },
  ({ db, principal }: { db: Db; principal: Principal }, fy: string, now: Date): Promise<{ run: ComplianceRun; created: boolean }> =>
    dryRun(db, (trx) => runCompliance(trx, fy, actorOf(principal), null, now)),
);
