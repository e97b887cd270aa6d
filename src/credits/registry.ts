import { type Db, isPostgres, type Tx } from '../db/database.ts';
import { accountIds as fundAccounts } from '../fund/fund.ts';
import { FUND_REFUSALS } from '../fund/refusals.ts';
import { type CreateTransferResult, createAccounts, createTransfers } from '../ledger/ledger.ts';
import { LEDGER_REFUSALS } from '../ledger/refusals.ts';
import type { NewAccount, TransferInput } from '../ledger/types.ts';
import { forbidden } from '../lib/errors.ts';
import { formatPence } from '../lib/money.ts';
import { refuse } from '../lib/refusals.ts';
import type { Principal } from '../users/users.ts';
import { CREDITS_REFUSALS } from './refusals.ts';

/*
 * The savings-credits registry: where credits live on the ledger, what each movement is called,
 * and the state of a year's market. One credit is one whole pound of verified cashable saving
 * above a department's target, of the vintage (financial year) whose close issued it.
 *
 * Accounts (CREDIT ledger, whole credits):
 *   CREDIT/{fy}/issuance              the source of credits issued at fy's close (runs a debit balance)
 *   CREDIT/{vintage}/department/{c}   what department c holds of a vintage (never negative)
 *   CREDIT/{vintage}/market           where resting sell orders' credits are reserved (pending only)
 *   CREDIT/{vintage}/surrendered      credits surrendered against obligations
 * and on the GBP ledger GBP/{fy}/market, where resting buy orders' cash is reserved.
 * Transfer codes: `credit-issue`, `credit-surrender`, `trade-credits`, `trade-cash`, `buy-out`,
 * `credit-reservation`, `cash-reservation`.
 *
 * A year's market: trading opens when the year is closed (credits issued, obligations known)
 * and ends when treasury runs compliance for it. Lock order for every credit operation: the
 * financial year's row, then ledger accounts, then the audit head.
 */

export const creditAccounts = {
  issuance: (fy: string) => `CREDIT/${fy}/issuance`,
  holding: (vintage: string, code: string) => `CREDIT/${vintage}/department/${code}`,
  market: (vintage: string) => `CREDIT/${vintage}/market`,
  surrendered: (vintage: string) => `CREDIT/${vintage}/surrendered`,
  cashMarket: (fy: string) => `GBP/${fy}/market`,
  cash: (fy: string, code: string) => fundAccounts.department(fy, code),
  fund: (fy: string) => fundAccounts.fund(fy),
};

export const CREDIT_CODES = {
  issue: 'credit-issue',
  surrender: 'credit-surrender',
  tradeCredits: 'trade-credits',
  tradeCash: 'trade-cash',
  buyOut: 'buy-out',
  creditReservation: 'credit-reservation',
  cashReservation: 'cash-reservation',
} as const;

export function holdingAccount(vintage: string, code: string): NewAccount {
  return {
    id: creditAccounts.holding(vintage, code),
    ledger: 'CREDIT',
    kind: 'credit-holding',
    organisationCode: code,
    financialYear: vintage,
    debitsMustNotExceedCredits: true,
  };
}

export function vintageAccounts(vintage: string): NewAccount[] {
  return [
    { id: creditAccounts.issuance(vintage), ledger: 'CREDIT', kind: 'credit-issuance', financialYear: vintage },
    { id: creditAccounts.market(vintage), ledger: 'CREDIT', kind: 'credit-reservation', financialYear: vintage },
    { id: creditAccounts.surrendered(vintage), ledger: 'CREDIT', kind: 'credit-surrendered', financialYear: vintage },
  ];
}

export function cashMarketAccount(fy: string): NewAccount {
  return { id: creditAccounts.cashMarket(fy), ledger: 'GBP', kind: 'cash-reservation', financialYear: fy };
}

export async function ensureAccounts(trx: Tx, accounts: NewAccount[], now: Date): Promise<void> {
  if (accounts.length === 0) return;
  const results = await createAccounts(trx, accounts, now);
  const failed = results.find((r) => 'error' in r);
  if (failed && 'error' in failed) throw new Error(`ledger refused account ${failed.id}: ${failed.error}`);
}

/** Applies transfers that the operation has already checked; any refusal is a broken assumption, so nothing commits. */
export async function mustTransfer(trx: Tx, transfers: TransferInput[], now: Date): Promise<CreateTransferResult[]> {
  if (transfers.length === 0) return [];
  const results = await createTransfers(trx, transfers, now);
  const failed = results.find((r) => 'error' in r && r.error !== 'linked_event_failed');
  if (failed && 'error' in failed) {
    throw refuse(LEDGER_REFUSALS, 'ledger-refused', `Nothing was changed: the ledger refused ${failed.id} (${failed.error}).`, {
      ledgerError: failed.error,
      transferId: failed.id,
    });
  }
  return results;
}

export interface YearState {
  name: string;
  closed: boolean;
  complied: boolean;
}

/** A year's state for the market, read under the year's lock on PostgreSQL (SQLite writers already run one at a time). */
export async function lockYearState(trx: Tx, fy: string): Promise<YearState> {
  if (isPostgres(trx)) await trx.selectFrom('financial_years').select('name').where('name', '=', fy).forUpdate().execute();
  return yearState(trx, fy);
}

export async function yearState(db: Db | Tx, fy: string): Promise<YearState> {
  const year = await db.selectFrom('financial_years').select('name').where('name', '=', fy).executeTakeFirst();
  if (!year) throw refuse(FUND_REFUSALS, 'financial-year-not-found', `There is no financial year ${fy}.`);
  const [closed, complied] = await Promise.all([
    db.selectFrom('year_closes').select('financial_year').where('financial_year', '=', fy).executeTakeFirst(),
    db.selectFrom('compliance_runs').select('financial_year').where('financial_year', '=', fy).executeTakeFirst(),
  ]);
  return { name: fy, closed: !!closed, complied: !!complied };
}

/**
 * Whether a year's market trades: not yet open until treasury closes the year (its credits are
 * issued then), open until compliance runs, closed after (the ceiling is then fixed as the
 * buy-out price, and banked credits trade in a later year's market).
 */
export function tradingStatus(state: Pick<YearState, 'closed' | 'complied'>): 'not-open' | 'open' | 'closed' {
  return state.complied ? 'closed' : state.closed ? 'open' : 'not-open';
}

/** Trading in a year's market, by `tradingStatus`: only between its close and its compliance run. */
export function assertTradingOpen(state: YearState): void {
  const status = tradingStatus(state);
  if (status === 'not-open') {
    throw refuse(
      CREDITS_REFUSALS,
      'trading-year-not-closed',
      `Credits for ${state.name} are traded once treasury has closed the year; it is still open.`,
    );
  }
  if (status === 'closed') {
    throw refuse(
      CREDITS_REFUSALS,
      'trading-closed',
      `Compliance for ${state.name} has run, so its market is closed. Banked credits trade in a later year's market.`,
    );
  }
}

export interface Band {
  floorPence: bigint;
  ceilingPence: bigint;
}

export async function marketBand(db: Db | Tx, fy: string): Promise<Band | null> {
  const row = await db.selectFrom('credit_markets').selectAll().where('financial_year', '=', fy).executeTakeFirst();
  return row ? { floorPence: BigInt(row.floor_pence), ceilingPence: BigInt(row.ceiling_pence) } : null;
}

export async function mustHaveBand(db: Db | Tx, fy: string): Promise<Band> {
  const band = await marketBand(db, fy);
  if (!band) {
    throw refuse(CREDITS_REFUSALS, 'market-prices-not-set', `Treasury has not set the floor and ceiling price for ${fy} yet.`);
  }
  return band;
}

/** A price per credit must lie within the year's floor and ceiling, inclusive (`pointer`: the body field that gave it, if any). */
export function assertInBand(band: Band, pricePence: bigint, pointer?: string): void {
  if (pricePence < band.floorPence || pricePence > band.ceilingPence) {
    throw refuse(
      CREDITS_REFUSALS,
      'price-outside-band',
      `${formatPence(pricePence)} a credit is outside this year's band of ${formatPence(band.floorPence)} to ${formatPence(band.ceilingPence)}.`,
      { ...(pointer ? { pointer } : {}), floorPence: Number(band.floorPence), ceilingPence: Number(band.ceilingPence) },
    );
  }
}

/** A vintage is tradable in year fy's market if it is fy or earlier and has been issued (its year closed). */
export async function assertVintage(db: Db | Tx, fy: string, vintage: string): Promise<void> {
  if (vintage > fy) {
    throw refuse(
      CREDITS_REFUSALS,
      'vintage-in-the-future',
      `Vintage ${vintage} is later than ${fy}; a year's market trades its own and earlier vintages.`,
    );
  }
  const closed = await db.selectFrom('year_closes').select('financial_year').where('financial_year', '=', vintage).executeTakeFirst();
  if (!closed) throw refuse(CREDITS_REFUSALS, 'vintage-not-issued', `No credits of vintage ${vintage} have been issued.`);
}

/** The department a department user acts for; everyone else is refused. */
export function actingDepartment(p: Principal): string {
  if (p.role !== 'department' || !p.organisationCode) throw forbidden('Only a department user can trade, for their own department.');
  return p.organisationCode;
}

/** Departments read only their own; treasury, auditors and panel read any. */
export function assertMayRead(p: Principal, code: string): void {
  if (p.role === 'department' && p.organisationCode !== code) {
    throw forbidden(`A ${p.organisationCode} user can see only ${p.organisationCode}'s credits and position.`);
  }
}

/** A department trades from its account for the market's year, so it must be set up in that year. */
export async function assertDepartmentInYear(db: Db | Tx, fy: string, code: string, pointer?: string): Promise<void> {
  const row = await db
    .selectFrom('department_years')
    .select('department_code')
    .where('financial_year', '=', fy)
    .where('department_code', '=', code)
    .executeTakeFirst();
  if (!row) {
    throw refuse(CREDITS_REFUSALS, 'department-not-in-year', `${code} has no budget for ${fy}, so it cannot trade in its market.`, {
      ...(pointer ? { pointer } : {}),
    });
  }
}

/** Next numbers in the market's time order (orders and trades), `count` of them. */
export async function nextSeqs(trx: Tx, count: number): Promise<bigint> {
  const head = await trx
    .updateTable('market_head')
    .set((eb) => ({ seq: eb('seq', '+', BigInt(count)) }))
    .where('id', '=', 1)
    .returning('seq')
    .executeTakeFirstOrThrow();
  return BigInt(head.seq) - BigInt(count) + 1n;
}

/** What a holding or cash account can still pay: posted balance less what is reserved. */
export async function availableOf(db: Db | Tx, accountId: string): Promise<bigint> {
  const a = await db
    .selectFrom('accounts')
    .select(['credits_posted', 'debits_posted', 'debits_pending'])
    .where('id', '=', accountId)
    .executeTakeFirst();
  if (!a) return 0n;
  return BigInt(a.credits_posted) - BigInt(a.debits_posted) - BigInt(a.debits_pending);
}

/** The smaller of two bigints (Math.min takes numbers only). */
export function smaller(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
