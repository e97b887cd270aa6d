import { CREDIT_CODES, creditAccounts } from '../credits/registry.ts';
import type { Db, Tx } from '../db/database.ts';
import type { CreditTradeTable } from '../db/schema.ts';
import { MARKET_READERS, ownDepartmentScope } from '../fund/visibility.ts';
import type { TransferInput } from '../ledger/types.ts';
import type { Pence } from '../lib/money.ts';
import { type Look, operation } from '../lib/operation.ts';

/*
 * Delivery versus payment: every trade, from the book or bilateral, settles as one linked chain
 * of two transfers — credits seller → buyer on the CREDIT ledger (`trade-credits`) and cash
 * buyer → seller on the GBP ledger (`trade-cash`, quantity × price) — so both legs post or
 * neither does. Cash moves between the departments' accounts for the market's year.
 *
 * The year's volume-weighted average price is Σ(price × quantity) ÷ Σ quantity over all its
 * trades, rounded half-up to the penny.
 */

export interface Trade {
  id: string;
  seq: bigint;
  financialYear: string;
  vintage: string;
  quantity: bigint;
  pricePence: Pence;
  valuePence: Pence;
  buyerCode: string;
  sellerCode: string;
  buyOrderId: string | null;
  sellOrderId: string | null;
  bilateralId: string | null;
  creditsTransferId: string;
  cashTransferId: string;
  executedAt: string;
}

export interface TradeInput {
  id: string;
  financialYear: string;
  vintage: string;
  quantity: bigint;
  pricePence: Pence;
  buyerCode: string;
  sellerCode: string;
}

export const tradeTransferIds = (tradeId: string) => ({ credits: `trade/${tradeId}/credits`, cash: `trade/${tradeId}/cash` });

/** The two legs of a trade; the credits leg is linked to the cash leg, and the cash leg to whatever follows if `linkedAfter`. */
export function deliveryVersusPayment(t: TradeInput, linkedAfter = false): TransferInput[] {
  const ids = tradeTransferIds(t.id);
  return [
    {
      id: ids.credits,
      debitAccountId: creditAccounts.holding(t.vintage, t.sellerCode),
      creditAccountId: creditAccounts.holding(t.vintage, t.buyerCode),
      amount: t.quantity,
      ledger: 'CREDIT',
      code: CREDIT_CODES.tradeCredits,
      linked: true,
      reference: `trade ${t.id}`,
    },
    {
      id: ids.cash,
      debitAccountId: creditAccounts.cash(t.financialYear, t.buyerCode),
      creditAccountId: creditAccounts.cash(t.financialYear, t.sellerCode),
      amount: t.quantity * t.pricePence,
      ledger: 'GBP',
      code: CREDIT_CODES.tradeCash,
      linked: linkedAfter,
      reference: `trade ${t.id}`,
    },
  ];
}

export async function insertTrade(
  trx: Tx,
  t: TradeInput & { seq: bigint; buyOrderId?: string | null; sellOrderId?: string | null; bilateralId?: string | null },
  at: string,
): Promise<void> {
  const ids = tradeTransferIds(t.id);
  await trx
    .insertInto('credit_trades')
    .values({
      id: t.id,
      seq: t.seq,
      financial_year: t.financialYear,
      vintage: t.vintage,
      quantity: t.quantity,
      price_pence: t.pricePence,
      buyer_code: t.buyerCode,
      seller_code: t.sellerCode,
      buy_order_id: t.buyOrderId ?? null,
      sell_order_id: t.sellOrderId ?? null,
      bilateral_id: t.bilateralId ?? null,
      credits_transfer_id: ids.credits,
      cash_transfer_id: ids.cash,
      executed_at: at,
    })
    .execute();
}

export interface TradeList {
  financialYear: string;
  trades: Trade[];
  /** Over all the year's trades, whoever reads the list. */
  market: { trades: number; volume: bigint; valuePence: Pence; vwapPence: Pence | null };
}

/** Half-up to the penny: the one rounding for an average price. */
export function vwap(valuePence: Pence, volume: bigint): Pence | null {
  return volume === 0n ? null : (valuePence * 2n + volume) / (volume * 2n);
}

/**
 * A year's trades, oldest first (`department`: only those it bought or sold), and the year's
 * volume-weighted average price over every trade. Domain read, for the API and for reports.
 */
export async function listTrades(db: Db | Tx, fy: string, department?: string): Promise<TradeList> {
  const all = await db.selectFrom('credit_trades').selectAll().where('financial_year', '=', fy).orderBy('seq').execute();
  const trades = all.map(tradeFromRow);
  const volume = trades.reduce((s, t) => s + t.quantity, 0n);
  const value = trades.reduce((s, t) => s + t.valuePence, 0n);
  return {
    financialYear: fy,
    trades: department
      ? trades.filter((t) => t.buyerCode === department || t.sellerCode === department).map((t) => ownSide(t, department))
      : trades,
    market: { trades: trades.length, volume, valuePence: value, vwapPence: vwap(value, volume) },
  };
}

/**
 * A trade as one of its parties reads it: its own order's id, never the counterparty's (another
 * department's order is not found, so its id is not theirs to learn either).
 */
function ownSide(t: Trade, department: string): Trade {
  return {
    ...t,
    buyOrderId: t.buyerCode === department ? t.buyOrderId : null,
    sellOrderId: t.sellerCode === department ? t.sellOrderId : null,
  };
}

function tradeFromRow(r: CreditTradeTable): Trade {
  const quantity = BigInt(r.quantity);
  const price = BigInt(r.price_pence);
  return {
    id: r.id,
    seq: BigInt(r.seq),
    financialYear: r.financial_year,
    vintage: r.vintage,
    quantity,
    pricePence: price,
    valuePence: quantity * price,
    buyerCode: r.buyer_code,
    sellerCode: r.seller_code,
    buyOrderId: r.buy_order_id,
    sellOrderId: r.sell_order_id,
    bilateralId: r.bilateral_id,
    creditsTransferId: r.credits_transfer_id,
    cashTransferId: r.cash_transfer_id,
    executedAt: r.executed_at,
  };
}

/** Year `fy`'s trades (a department those it is party to) and the market figures over every trade. */
export const readTrades = operation(
  { ...MARKET_READERS, refuses: [] },
  ({ db, principal }: Look, fy: string): Promise<TradeList> => listTrades(db, fy, ownDepartmentScope(principal)),
);

/*
 * The year's price history: for each day with trades, the number of trades, the credits traded,
 * the lowest and highest price and the volume-weighted average price (half-up to the penny, as
 * `vwap`). Market-wide, as the book's price levels and the year's average already are: prices
 * and volumes only, never who bought or sold, which stays each department's own (its trades).
 */
export interface PriceDay {
  day: string;
  trades: number;
  volume: bigint;
  lowPence: Pence;
  highPence: Pence;
  vwapPence: Pence;
}

/** Year `fy`'s trades by day, oldest first (rule above). Domain read. */
export async function priceHistory(db: Db | Tx, fy: string): Promise<PriceDay[]> {
  const rows = await db
    .selectFrom('credit_trades')
    .select(['executed_at', 'quantity', 'price_pence'])
    .where('financial_year', '=', fy)
    .orderBy('seq')
    .execute();
  const days = new Map<string, { trades: number; volume: bigint; value: bigint; low: bigint; high: bigint }>();
  for (const r of rows) {
    const day = r.executed_at.slice(0, 10);
    const q = BigInt(r.quantity);
    const p = BigInt(r.price_pence);
    const d = days.get(day) ?? { trades: 0, volume: 0n, value: 0n, low: p, high: p };
    d.trades++;
    d.volume += q;
    d.value += q * p;
    if (p < d.low) d.low = p;
    if (p > d.high) d.high = p;
    days.set(day, d);
  }
  return [...days.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([day, d]) => ({
      day,
      trades: d.trades,
      volume: d.volume,
      lowPence: d.low,
      highPence: d.high,
      vwapPence: vwap(d.value, d.volume) as Pence,
    }));
}

/** Year `fy`'s prices by day, market-wide without the parties (rule above). */
export const readPriceHistory = operation(
  { ...MARKET_READERS, refuses: [] },
  ({ db }: Look, fy: string): Promise<PriceDay[]> => priceHistory(db, fy),
);
