import { appendAudit } from '../audit/audit.ts';
import { COMPLIANCE_REFUSALS } from '../compliance/refusals.ts';
import { lockYearState, marketBand, tradingStatus } from '../credits/registry.ts';
import type { Db, Tx } from '../db/database.ts';
import { getFinancialYear } from '../fund/fund.ts';
import { CREDIT_READERS } from '../fund/visibility.ts';
import { invalid } from '../lib/errors.ts';
import { formatPence, type Pence } from '../lib/money.ts';
import { type Act, type Look, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { actorOf } from '../users/users.ts';
import { MARKET_REFUSALS } from './refusals.ts';

/*
 * Each year's market has a floor and a ceiling price per credit, set by treasury. Every order
 * and bilateral price must lie within them (inclusive), and the ceiling is the buy-out price at
 * compliance. They can change until compliance has run, but never so that a resting order
 * falls outside them.
 */

export interface MarketPrices {
  financialYear: string;
  floorPence: Pence;
  ceilingPence: Pence;
  updatedBy: string;
  updatedAt: string;
}

/**
 * Treasury sets a year's floor and ceiling (pence per credit). Refusals: validation-error (400,
 * floor above ceiling); financial-year-not-found (404); compliance-already-run (409);
 * resting-orders-outside-band (422).
 */
export const setMarketPrices = operation(
  { roles: ['treasury'], refuses: ['financial-year-not-found', 'compliance-already-run', 'resting-orders-outside-band'] },
  async (
    { trx, principal: p, requestId, now }: Act,
    fy: string,
    input: { floorPence: Pence; ceilingPence: Pence },
  ): Promise<{ prices: MarketPrices; created: boolean }> => {
    if (input.floorPence > input.ceilingPence) throw invalid([{ pointer: '/floorPence', detail: 'must not be above the ceiling' }]);
    const state = await lockYearState(trx, fy);
    if (state.complied) {
      throw refuse(COMPLIANCE_REFUSALS, 'compliance-already-run', `Compliance for ${fy} has run at its ceiling price, which is now fixed.`);
    }
    const outside = await trx
      .selectFrom('credit_orders')
      .select('id')
      .where('financial_year', '=', fy)
      .where('status', '=', 'open')
      .where((eb) => eb.or([eb('limit_price_pence', '<', input.floorPence), eb('limit_price_pence', '>', input.ceilingPence)]))
      .executeTakeFirst();
    if (outside) {
      throw refuse(
        MARKET_REFUSALS,
        'resting-orders-outside-band',
        `Order ${outside.id} rests at a price outside ${formatPence(input.floorPence)}–${formatPence(input.ceilingPence)}; it must be cancelled first.`,
      );
    }
    const before = await marketBand(trx, fy);
    const at = now.toISOString();
    const row = {
      financial_year: fy,
      floor_pence: input.floorPence,
      ceiling_pence: input.ceilingPence,
      updated_by: p.userId,
      updated_at: at,
    };
    if (before) await trx.updateTable('credit_markets').set(row).where('financial_year', '=', fy).execute();
    else await trx.insertInto('credit_markets').values(row).execute();
    await appendAudit(
      trx,
      {
        actor: actorOf(p),
        action: 'credit-market.prices-set',
        subject: `financial-year/${fy}/credit-market`,
        detail: { before, after: input },
        requestId,
      },
      now,
    );
    return { prices: { financialYear: fy, ...input, updatedBy: p.userId, updatedAt: at }, created: !before };
  },
);

export interface MarketState {
  financialYear: string;
  status: 'not-open' | 'open' | 'closed';
  prices: MarketPrices | null;
  book: { side: 'buy' | 'sell'; pricePence: Pence; quantity: bigint; orders: number }[];
}

/** A year's market: whether it trades, its prices and its book aggregated by price level (best first). */
export async function marketState(db: Db | Tx, fy: string): Promise<MarketState> {
  const [row, close, run, levels] = await Promise.all([
    db.selectFrom('credit_markets').selectAll().where('financial_year', '=', fy).executeTakeFirst(),
    db.selectFrom('year_closes').select('financial_year').where('financial_year', '=', fy).executeTakeFirst(),
    db.selectFrom('compliance_runs').select('financial_year').where('financial_year', '=', fy).executeTakeFirst(),
    db
      .selectFrom('credit_orders')
      .select(['side', 'limit_price_pence', 'quantity', 'filled'])
      .where('financial_year', '=', fy)
      .where('status', '=', 'open')
      .execute(),
  ]);
  const book = new Map<string, { side: 'buy' | 'sell'; pricePence: Pence; quantity: bigint; orders: number }>();
  for (const o of levels) {
    const key = `${o.side}|${o.limit_price_pence}`;
    const level = book.get(key) ?? { side: o.side as 'buy' | 'sell', pricePence: BigInt(o.limit_price_pence), quantity: 0n, orders: 0 };
    level.quantity += BigInt(o.quantity) - BigInt(o.filled);
    level.orders++;
    book.set(key, level);
  }
  const sorted = [...book.values()].sort((a, b) =>
    a.side !== b.side
      ? a.side === 'sell'
        ? -1
        : 1
      : a.side === 'sell'
        ? Number(a.pricePence - b.pricePence)
        : Number(b.pricePence - a.pricePence),
  );
  return {
    financialYear: fy,
    status: tradingStatus({ closed: !!close, complied: !!run }),
    prices: row
      ? {
          financialYear: fy,
          floorPence: BigInt(row.floor_pence),
          ceilingPence: BigInt(row.ceiling_pence),
          updatedBy: row.updated_by,
          updatedAt: row.updated_at,
        }
      : null,
    book: sorted,
  };
}

/** Year `fy`'s market: open or not, floor and ceiling, the book by price level. Refusals: financial-year-not-found (404). */
export const readMarket = operation(
  { ...CREDIT_READERS, refuses: ['financial-year-not-found'] },
  async ({ db }: Look, fy: string): Promise<MarketState> => {
    await getFinancialYear(db, fy);
    return marketState(db, fy);
  },
);
