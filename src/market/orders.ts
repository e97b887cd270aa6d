import { randomUUID } from 'node:crypto';
import { type Actor, appendAudit } from '../audit/audit.ts';
import { CREDITS_REFUSALS } from '../credits/refusals.ts';
import {
  actingDepartment,
  assertDepartmentInYear,
  assertInBand,
  assertTradingOpen,
  assertVintage,
  availableOf,
  CREDIT_CODES,
  creditAccounts,
  ensureAccounts,
  holdingAccount,
  lockYearState,
  mustHaveBand,
  mustTransfer,
  nextSeqs,
  smaller,
} from '../credits/registry.ts';
import type { Db, Tx } from '../db/database.ts';
import type { CreditOrderTable } from '../db/schema.ts';
import { MARKET_READERS, ownDepartmentScope } from '../fund/visibility.ts';
import type { TransferInput } from '../ledger/types.ts';
import { formatCredits, formatPence, type Pence } from '../lib/money.ts';
import { type Act, type Look, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { actorOf, type Principal } from '../users/users.ts';
import { MARKET_REFUSALS } from './refusals.ts';
import { deliveryVersusPayment, insertTrade, type TradeInput } from './trades.ts';

/*
 * The order book for a year's credits. Limit orders: buy or sell whole credits at a limit
 * price in pence per credit, within the year's floor and ceiling, optionally of one vintage.
 *
 * Matching, on arrival: an incoming order meets the best resting order on the other side —
 * the lowest-priced sell (for a buy) or the highest-priced buy (for a sell), earliest first at
 * the same price — as long as the prices cross and the vintages agree (an order without a
 * vintage takes any). Each match trades min(both remaining) at the RESTING order's price, and
 * repeats until the incoming order is filled or nothing crosses; what remains rests.
 *
 * Self-trade prevention, one mode ("cancel incoming"): if the next order an incoming order would
 * meet is its own department's, the incoming order is refused whole (`self-trade-prevented`)
 * and nothing it would have traded happens; the resting order is untouched.
 *
 * Reservations: while an order rests, what it could deliver is reserved as a pending ledger
 * transfer — a sell order's remaining credits to CREDIT/{vintage}/market, a buy order's
 * remaining quantity × limit price to GBP/{fy}/market. A fill or a cancel voids it; after a
 * partial fill the remainder is reserved afresh. Reservations stop a department from selling
 * or spending what it has promised. A sell order without a vintage sells the oldest vintage the
 * department can deliver in full.
 */

export type Side = 'buy' | 'sell';
export type OrderStatus = 'open' | 'filled' | 'cancelled' | 'expired';

export interface Order {
  id: string;
  seq: bigint;
  financialYear: string;
  departmentCode: string;
  side: Side;
  vintage: string | null;
  quantity: bigint;
  filled: bigint;
  remaining: bigint;
  limitPricePence: Pence;
  status: OrderStatus;
  reservationId: string | null;
  placedBy: string;
  placedAt: string;
  updatedAt: string;
}

export interface OrderInput {
  financialYear: string;
  side: Side;
  quantity: bigint;
  limitPricePence: Pence;
  vintage?: string | null;
}

export interface Fill {
  tradeId: string;
  restingOrderId: string;
  counterpartyCode: string;
  vintage: string;
  quantity: bigint;
  pricePence: Pence;
}

type OrderRow = CreditOrderTable;

export function orderFromRow(r: OrderRow): Order {
  const quantity = BigInt(r.quantity);
  const filled = BigInt(r.filled);
  return {
    id: r.id,
    seq: BigInt(r.seq),
    financialYear: r.financial_year,
    departmentCode: r.department_code,
    side: r.side as Side,
    vintage: r.vintage,
    quantity,
    filled,
    remaining: quantity - filled,
    limitPricePence: BigInt(r.limit_price_pence),
    status: r.status as OrderStatus,
    reservationId: r.reservation_id,
    placedBy: r.placed_by,
    placedAt: r.placed_at,
    updatedAt: r.updated_at,
  };
}

/** The reservation a resting order needs for `remaining`: its ledger transfer. */
export function reservationTransfer(
  o: { id: string; financialYear: string; departmentCode: string; side: Side; vintage: string | null; limitPricePence: Pence },
  remaining: bigint,
  n: number,
): TransferInput {
  if (o.side === 'sell') {
    const vintage = o.vintage as string;
    return {
      id: `reserve/${o.id}/${n}`,
      debitAccountId: creditAccounts.holding(vintage, o.departmentCode),
      creditAccountId: creditAccounts.market(vintage),
      amount: remaining,
      ledger: 'CREDIT',
      code: CREDIT_CODES.creditReservation,
      pending: true,
      reference: `sell order ${o.id}`,
    };
  }
  return {
    id: `reserve/${o.id}/${n}`,
    debitAccountId: creditAccounts.cash(o.financialYear, o.departmentCode),
    creditAccountId: creditAccounts.cashMarket(o.financialYear),
    amount: remaining * o.limitPricePence,
    ledger: 'GBP',
    code: CREDIT_CODES.cashReservation,
    pending: true,
    reference: `buy order ${o.id}`,
  };
}

const voidOf = (reservationId: string, linked: boolean): TransferInput => ({
  id: `release/${reservationId}`,
  pendingId: reservationId,
  voidPendingTransfer: true,
  linked,
});

/** The oldest vintage (≤ fy, issued) of which the department can deliver `quantity` now. */
async function oldestDeliverableVintage(db: Db | Tx, fy: string, code: string, quantity: bigint): Promise<string | null> {
  const rows = await db
    .selectFrom('accounts')
    .select(['financial_year', 'credits_posted', 'debits_posted', 'debits_pending'])
    .where('kind', '=', 'credit-holding')
    .where('organisation_code', '=', code)
    .where('financial_year', '<=', fy)
    .orderBy('financial_year')
    .execute();
  for (const r of rows) {
    if (BigInt(r.credits_posted) - BigInt(r.debits_posted) - BigInt(r.debits_pending) >= quantity) return r.financial_year;
  }
  return null;
}

/** The next resting orders an incoming order meets, best first (price, then time). */
async function bestOpposite(
  trx: Tx,
  incoming: { financialYear: string; side: Side; vintage: string | null; limitPricePence: Pence },
  limit: number,
  offset: number,
): Promise<OrderRow[]> {
  let q = trx.selectFrom('credit_orders').selectAll().where('financial_year', '=', incoming.financialYear).where('status', '=', 'open');
  if (incoming.side === 'buy') {
    q = q.where('side', '=', 'sell').where('limit_price_pence', '<=', incoming.limitPricePence);
    if (incoming.vintage) q = q.where('vintage', '=', incoming.vintage);
    q = q.orderBy('limit_price_pence', 'asc');
  } else {
    q = q.where('side', '=', 'buy').where('limit_price_pence', '>=', incoming.limitPricePence);
    const v = incoming.vintage as string;
    q = q.where((eb) => eb.or([eb('vintage', 'is', null), eb('vintage', '=', v)]));
    q = q.orderBy('limit_price_pence', 'desc');
  }
  return q.orderBy('seq', 'asc').limit(limit).offset(offset).execute();
}

/**
 * A department places a limit order in year fy's market; it matches on arrival (rules above).
 * Who: a department user, for their own department. Changes: trades (DvP chains), resting
 * orders' fills and reservations, the new order (resting with its reservation if not filled),
 * one audit entry. Quantity in whole credits, prices in pence per credit.
 * Refusals: financial-year-not-found (404); trading-year-not-closed, trading-closed (409);
 * market-prices-not-set, price-outside-band, vintage-in-the-future, vintage-not-issued,
 * department-not-in-year, insufficient-credits, insufficient-cash, self-trade-prevented (422).
 * It can also refuse: ledger-refused (422).
 */
export const placeOrder = operation(
  {
    roles: ['department'],
    organisation: 'a department user, for their own department',
    refuses: [
      'financial-year-not-found',
      'trading-year-not-closed',
      'trading-closed',
      'market-prices-not-set',
      'price-outside-band',
      'department-not-in-year',
      'vintage-in-the-future',
      'vintage-not-issued',
      'insufficient-credits',
      'insufficient-cash',
      'self-trade-prevented',
      'ledger-refused',
    ],
  },
  async ({ trx, principal: p, requestId, now }: Act, input: OrderInput): Promise<{ order: Order; fills: Fill[] }> => {
    const code = actingDepartment(p);
    const fy = input.financialYear;
    assertTradingOpen(await lockYearState(trx, fy));
    const band = await mustHaveBand(trx, fy);
    assertInBand(band, input.limitPricePence, '/limitPricePence');
    await assertDepartmentInYear(trx, fy, code);
    let vintage = input.vintage ?? null;
    if (vintage) await assertVintage(trx, fy, vintage);

    if (input.side === 'sell') {
      if (!vintage) vintage = await oldestDeliverableVintage(trx, fy, code, input.quantity);
      const available = vintage ? await availableOf(trx, creditAccounts.holding(vintage, code)) : 0n;
      if (!vintage || available < input.quantity) {
        throw refuse(
          CREDITS_REFUSALS,
          'insufficient-credits',
          `${code} cannot sell ${formatCredits(input.quantity)}${vintage ? ` of vintage ${vintage}: it has ${formatCredits(available)} not already reserved` : ': no single vintage it holds has that many not already reserved (an order without a vintage is filled from one vintage; name one, or sell each vintage separately)'}.`,
        );
      }
    } else {
      const need = input.quantity * input.limitPricePence;
      const available = await availableOf(trx, creditAccounts.cash(fy, code));
      if (available < need) {
        throw refuse(
          CREDITS_REFUSALS,
          'insufficient-cash',
          `${code} needs ${formatPence(need)} (quantity × limit price) available in its ${fy} account to buy; it has ${formatPence(available)} not already reserved.`,
        );
      }
    }

    const at = now.toISOString();
    const order = {
      id: randomUUID(),
      financialYear: fy,
      departmentCode: code,
      side: input.side,
      vintage,
      limitPricePence: input.limitPricePence,
    };
    let remaining = input.quantity;
    const fills: Fill[] = [];
    const transfers: TransferInput[] = [];
    const restingUpdates: { id: string; filled: bigint; status: OrderStatus; reservationId: string | null; reservations: number }[] = [];
    const trades: (TradeInput & { buyOrderId: string; sellOrderId: string })[] = [];
    const holdings = new Set<string>();
    while (remaining > 0n) {
      // Fills take the book's best orders in turn, so those already met are a prefix to skip.
      const fresh = await bestOpposite(trx, order, 16, restingUpdates.length);
      if (fresh.length === 0) break;
      for (const row of fresh) {
        const resting = orderFromRow(row);
        if (resting.departmentCode === code) {
          throw refuse(
            MARKET_REFUSALS,
            'self-trade-prevented',
            `This ${input.side} order would match ${code}'s own resting order ${resting.id}; it was refused and nothing traded (self-trade prevention cancels the incoming order).`,
            { restingOrderId: resting.id },
          );
        }
        const quantity = smaller(remaining, resting.remaining);
        const tradeVintage = (resting.side === 'sell' ? resting.vintage : vintage) as string;
        const trade = {
          id: randomUUID(),
          financialYear: fy,
          vintage: tradeVintage,
          quantity,
          pricePence: resting.limitPricePence,
          buyerCode: input.side === 'buy' ? code : resting.departmentCode,
          sellerCode: input.side === 'sell' ? code : resting.departmentCode,
        };
        holdings.add(`${tradeVintage}|${trade.buyerCode}`);
        const left = resting.remaining - quantity;
        const n = Number(row.reservations) + 1;
        // The resting order's chain: release its reservation, both legs, re-reserve what is left.
        transfers.push(voidOf(resting.reservationId as string, true), ...deliveryVersusPayment(trade, left > 0n));
        if (left > 0n) transfers.push(reservationTransfer(resting, left, n));
        restingUpdates.push({
          id: resting.id,
          filled: resting.filled + quantity,
          status: left > 0n ? 'open' : 'filled',
          reservationId: left > 0n ? `reserve/${resting.id}/${n}` : null,
          reservations: left > 0n ? n : Number(row.reservations),
        });
        trades.push({
          ...trade,
          buyOrderId: input.side === 'buy' ? order.id : resting.id,
          sellOrderId: input.side === 'sell' ? order.id : resting.id,
        });
        fills.push({
          tradeId: trade.id,
          restingOrderId: resting.id,
          counterpartyCode: resting.departmentCode,
          vintage: tradeVintage,
          quantity,
          pricePence: trade.pricePence,
        });
        remaining -= quantity;
        if (remaining === 0n) break;
      }
      if (fresh.length < 16) break;
    }
    // A buy order without a vintage that rests reserves cash only; one that fills takes each resting sell's vintage.
    if (remaining > 0n) transfers.push(reservationTransfer(order, remaining, 1));

    await ensureAccounts(
      trx,
      [...holdings].map((h) => {
        const [v, c] = h.split('|') as [string, string];
        return holdingAccount(v, c);
      }),
      now,
    );
    await mustTransfer(trx, transfers, now);

    const seq = await nextSeqs(trx, 1 + trades.length);
    for (const u of restingUpdates) {
      await trx
        .updateTable('credit_orders')
        .set({ filled: u.filled, status: u.status, reservation_id: u.reservationId, reservations: u.reservations, updated_at: at })
        .where('id', '=', u.id)
        .execute();
    }
    const row = {
      id: order.id,
      seq,
      financial_year: fy,
      department_code: code,
      side: input.side,
      vintage,
      quantity: input.quantity,
      filled: input.quantity - remaining,
      limit_price_pence: input.limitPricePence,
      status: remaining > 0n ? 'open' : 'filled',
      reservation_id: remaining > 0n ? `reserve/${order.id}/1` : null,
      reservations: remaining > 0n ? 1 : 0,
      placed_by: p.userId,
      placed_at: at,
      updated_at: at,
    };
    await trx.insertInto('credit_orders').values(row).execute();
    let i = 1n;
    for (const t of trades) await insertTrade(trx, { ...t, seq: seq + i++ }, at);
    const placed = orderFromRow(row);
    await appendAudit(
      trx,
      {
        actor: actorOf(p),
        action: 'credit-order.placed',
        subject: `credit-order/${order.id}`,
        detail: { order: { ...input, vintage }, fills, resting: placed.remaining },
        requestId,
      },
      now,
    );
    return { order: placed, fills };
  },
);

/**
 * A department cancels its own resting order: its reservation is released.
 * Refusals: credit-order-not-found (404, also for another department's order), order-not-open (409).
 * It can also refuse: ledger-refused (422).
 */
export const cancelOrder = operation(
  {
    roles: ['department'],
    organisation: 'a department user, for their own department',
    refuses: ['credit-order-not-found', 'order-not-open', 'ledger-refused'],
  },
  async ({ trx, principal: p, requestId, now }: Act, id: string): Promise<Order> => {
    const code = actingDepartment(p);
    const found = await trx.selectFrom('credit_orders').select('financial_year').where('id', '=', id).executeTakeFirst();
    if (!found) throw refuse(MARKET_REFUSALS, 'credit-order-not-found', `There is no order ${id}.`);
    await lockYearState(trx, found.financial_year);
    const row = await trx.selectFrom('credit_orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const order = orderFromRow(row);
    if (order.departmentCode !== code) throw refuse(MARKET_REFUSALS, 'credit-order-not-found', `There is no order ${id}.`);
    if (order.status !== 'open')
      throw refuse(MARKET_REFUSALS, 'order-not-open', `Order ${id} is ${order.status}; only a resting order can be cancelled.`);
    await mustTransfer(trx, [voidOf(order.reservationId as string, false)], now);
    const at = now.toISOString();
    await trx
      .updateTable('credit_orders')
      .set({ status: 'cancelled', reservation_id: null, updated_at: at })
      .where('id', '=', id)
      .execute();
    await appendAudit(
      trx,
      {
        actor: actorOf(p),
        action: 'credit-order.cancelled',
        subject: `credit-order/${id}`,
        detail: { remaining: order.remaining },
        requestId,
      },
      now,
    );
    return { ...order, status: 'cancelled', reservationId: null, updatedAt: at };
  },
);

/** Ends a year's book when compliance runs: every resting order lapses and its reservation is released. */
export async function expireOpenOrders(trx: Tx, fy: string, actor: Actor, requestId: string | null, now: Date): Promise<number> {
  const open = await trx.selectFrom('credit_orders').selectAll().where('financial_year', '=', fy).where('status', '=', 'open').execute();
  if (open.length === 0) return 0;
  await mustTransfer(
    trx,
    open.map((o) => voidOf(o.reservation_id as string, false)),
    now,
  );
  await trx
    .updateTable('credit_orders')
    .set({ status: 'expired', reservation_id: null, updated_at: now.toISOString() })
    .where('financial_year', '=', fy)
    .where('status', '=', 'open')
    .execute();
  await appendAudit(
    trx,
    {
      actor,
      action: 'credit-orders.expired',
      subject: `financial-year/${fy}/market`,
      detail: { orders: open.map((o) => o.id) },
      requestId,
    },
    now,
  );
  return open.length;
}

/** Orders in a year's market, newest first (`department`: only its own; `status`: only those). */
export async function listOrders(db: Db | Tx, fy: string, filter: { department?: string; status?: OrderStatus } = {}): Promise<Order[]> {
  let q = db.selectFrom('credit_orders').selectAll().where('financial_year', '=', fy);
  if (filter.department) q = q.where('department_code', '=', filter.department);
  if (filter.status) q = q.where('status', '=', filter.status);
  return (await q.orderBy('seq', 'desc').execute()).map(orderFromRow);
}

export async function getOrder(db: Db | Tx, p: Principal, id: string): Promise<Order> {
  const row = await db.selectFrom('credit_orders').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || (p.role === 'department' && row.department_code !== p.organisationCode))
    throw refuse(MARKET_REFUSALS, 'credit-order-not-found', `There is no order ${id}.`);
  return orderFromRow(row);
}

/** Year `fy`'s orders, newest first: a department's own only. */
export const readOrders = operation(
  { ...MARKET_READERS, refuses: [] },
  ({ db, principal }: Look, fy: string, status?: OrderStatus): Promise<Order[]> =>
    listOrders(db, fy, { department: ownDepartmentScope(principal), status }),
);

/** One order. Refusals: credit-order-not-found (404, also for another department's order). */
export const readOrder = operation(
  { ...MARKET_READERS, refuses: ['credit-order-not-found'] },
  ({ db, principal }: Look, id: string): Promise<Order> => getOrder(db, principal, id),
);
