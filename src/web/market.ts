import type { Db } from '../db/database.ts';
import { tradesCsv } from '../exports/trades.ts';
import { listDepartmentYears } from '../fund/fund.ts';
import type { Deps } from '../http/context.ts';
import { type FieldError, invalid } from '../lib/errors.ts';
import { formatPence, type Pence, parsePounds } from '../lib/money.ts';
import {
  acceptBilateral,
  type Bilateral,
  declineBilateral,
  proposeBilateral,
  readBilateral,
  readBilaterals,
  withdrawBilateral,
} from '../market/bilateral.ts';
import { cancelOrder, placeOrder, readOrder, readOrders } from '../market/orders.ts';
import { readMarket } from '../market/prices.ts';
import { type PriceDay, readPriceHistory, readTrades } from '../market/trades.ts';
import type { Principal } from '../users/users.ts';
import type { PageSection } from './app.ts';
import { organisationNames, parseCredits, yearChoices, yearOf } from './department-kit.ts';
import {
  actingAsUser,
  type FormErrors,
  formFields,
  lookAs,
  NO_ERRORS,
  noticeOf,
  render,
  requireRole,
  requireUser,
  tryForm,
  type WebApp,
  type WebContext,
} from './pages.ts';

/*
 * The credits market's pages: a year's order book aggregated by price level, its price history
 * (a chart with its data table), a department's orders (place, cancel), bilateral proposals
 * (propose, accept, decline, withdraw), its trades and their CSV. Orders and proposals go
 * through the market's operations as the signed-in user, so matching, self-trade prevention,
 * the floor and ceiling and every organisation rule are the domain's: another department's order
 * or proposal is not found (404). Prices are typed in pounds per credit, quantities in whole
 * credits.
 */

type Fields = Record<string, string>;

const NOTICES: Record<string, string> = {
  resting: 'Your order has been placed and is on the book',
  filled: 'Your order has been placed and filled',
  'part-filled': 'Your order has been placed: part of it traded and the rest is on the book',
  cancelled: 'Your order has been cancelled and what it reserved released',
  proposed: 'Your proposal has been sent',
  accepted: 'You accepted the proposal: the trade has settled',
  declined: 'You declined the proposal',
  withdrawn: 'You withdrew the proposal',
};

const ORDER_TAGS: Record<string, { text: string; colour: string }> = {
  open: { text: 'On the book', colour: 'blue' },
  filled: { text: 'Filled', colour: 'green' },
  cancelled: { text: 'Cancelled', colour: 'grey' },
  expired: { text: 'Expired', colour: 'grey' },
};

const PROPOSAL_TAGS: Record<string, { text: string; colour: string }> = {
  proposed: { text: 'Awaiting an answer', colour: 'yellow' },
  accepted: { text: 'Accepted', colour: 'green' },
  declined: { text: 'Declined', colour: 'red' },
  withdrawn: { text: 'Withdrawn', colour: 'grey' },
  expired: { text: 'Expired', colour: 'grey' },
};

const MARKET_TAGS: Record<string, { text: string; colour: string }> = {
  'not-open': { text: 'Not open yet', colour: 'grey' },
  open: { text: 'Open for trading', colour: 'green' },
  closed: { text: 'Closed', colour: 'grey' },
};

const q = (fy: string) => `?fy=${encodeURIComponent(fy)}`;

const statusOf = (e: FormErrors) => (Object.keys(e.errors).length > 0 ? 400 : 422);

/** A price per credit typed in pounds: at least 1p and at most £1,000,000, as the API takes. */
function priceField(text: string | undefined, pointer: string, what: string, errors: FieldError[]): Pence {
  const t = (text ?? '').trim();
  const pence = t === '' ? null : parsePounds(t);
  if (t === '') errors.push({ pointer, detail: `Enter the ${what} in pounds` });
  else if (pence === null) errors.push({ pointer, detail: `Enter the ${what} in pounds, like 1.25` });
  else if (pence < 1n) errors.push({ pointer, detail: `The ${what} must be at least £0.01` });
  else if (pence > 100_000_000n) errors.push({ pointer, detail: `The ${what} must be £1,000,000 or less` });
  return pence ?? 0n;
}

/** A whole number of credits, from 1 to 1,000,000,000. */
function quantityField(text: string | undefined, errors: FieldError[]): bigint {
  const t = (text ?? '').trim();
  const n = t === '' ? null : parseCredits(t);
  if (t === '') errors.push({ pointer: '/quantity', detail: 'Enter the number of credits' });
  else if (n === null)
    errors.push({ pointer: '/quantity', detail: 'The number of credits must be a whole number from 1 to 1,000,000,000' });
  return n ?? 0n;
}

/** Vintages a year's market can trade: that year and earlier ones whose credits were issued. */
async function vintagesFor(db: Db, fy: string): Promise<string[]> {
  const rows = await db.selectFrom('year_closes').select('financial_year').where('financial_year', '<=', fy).execute();
  return rows
    .map((r) => r.financial_year)
    .sort()
    .reverse();
}

// ---------------------------------------------------------------------------------------------
// The price history chart

const CHART = { width: 560, height: 260, left: 56, right: 540, top: 20, bottom: 220 };

function priceChart(days: PriceDay[], band: { floorPence: Pence; ceilingPence: Pence } | null) {
  if (days.length === 0) return null;
  const lows = days.map((d) => d.lowPence);
  const highs = days.map((d) => d.highPence);
  const order = (a: Pence, b: Pence) => (a < b ? -1 : a > b ? 1 : 0);
  let min = band ? band.floorPence : ([...lows].sort(order)[0] as Pence);
  let max = band ? band.ceilingPence : ([...highs].sort(order).at(-1) as Pence);
  if (max === min) {
    min = min > 10n ? min - 10n : 0n;
    max = max + 10n;
  }
  const span = Number(max - min);
  const y = (p: Pence) => CHART.bottom - (Number(p - min) / span) * (CHART.bottom - CHART.top);
  const step = days.length > 1 ? (CHART.right - CHART.left - 20) / (days.length - 1) : 0;
  const x = (i: number) => (days.length > 1 ? CHART.left + 10 + i * step : (CHART.left + CHART.right) / 2);
  const points = days.map((d, i) => ({
    ...d,
    x: x(i).toFixed(1),
    y: y(d.vwapPence).toFixed(1),
    lowY: y(d.lowPence).toFixed(1),
    highY: y(d.highPence).toFixed(1),
  }));
  const every = Math.max(1, Math.ceil(days.length / 6));
  return {
    ...CHART,
    minLabel: formatPence(min),
    maxLabel: formatPence(max),
    line: points.map((p) => `${p.x},${p.y}`).join(' '),
    points,
    ticks: points.filter((_, i) => i % every === 0).map((p) => ({ x: p.x, label: p.day.slice(5) })),
  };
}

// ---------------------------------------------------------------------------------------------
// The market, orders

function mountMarket(web: WebApp, deps: Deps) {
  web.get('/market', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const fy = yearOf(c, deps);
    const look = lookAs(deps, p);
    const [market, history, trades, years] = await Promise.all([
      readMarket(look, fy),
      readPriceHistory(look, fy),
      readTrades(look, fy),
      yearChoices(deps.database.db, fy),
    ]);
    return render(c, 'market-book', {
      title: `Credits market, ${fy}`,
      year: fy,
      q: q(fy),
      years,
      market,
      marketTag: MARKET_TAGS[market.status],
      sells: market.book.filter((l) => l.side === 'sell'),
      buys: market.book.filter((l) => l.side === 'buy'),
      isDepartment: p.role === 'department',
      trading: market.status === 'open',
      figures: trades.market,
      history,
      chart: priceChart(history, market.prices),
    });
  });

  web.get('/market/orders', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const fy = yearOf(c, deps);
    const orders = await readOrders(lookAs(deps, p), fy);
    return render(c, 'market-orders', {
      title: p.role === 'department' ? `Your orders, ${fy}` : `Orders, ${fy}`,
      backLink: `/market${q(fy)}`,
      notice: noticeOf(c, NOTICES),
      year: fy,
      q: q(fy),
      isDepartment: p.role === 'department',
      orders: orders.map((o) => ({ ...o, tag: ORDER_TAGS[o.status], open: o.status === 'open' })),
    });
  });

  const orderForm = async (c: WebContext, fy: string, fields: Fields, errors: FormErrors, status: 200 | 400 | 409 | 422 = 200) => {
    const vintages = await vintagesFor(deps.database.db, fy);
    const market = await readMarket(lookAs(deps, c.get('principal') as Principal), fy);
    return render(
      c,
      'market-order-new',
      {
        title: `Place an order, ${fy}`,
        backLink: `/market${q(fy)}`,
        year: fy,
        market,
        fields,
        sideItems: [
          { value: 'buy', text: 'Buy credits', checked: fields.side === 'buy' },
          { value: 'sell', text: 'Sell credits', checked: fields.side === 'sell' },
        ],
        vintageItems: [
          { value: '', text: 'Any vintage (a sell order sells your oldest that has enough)', selected: !fields.vintage },
          ...vintages.map((v) => ({ value: v, text: v, selected: fields.vintage === v })),
        ],
        ...errors,
      },
      status,
    );
  };

  web.get('/market/orders/new', async (c) => {
    const p = requireRole(c, placeOrder.roles);
    if (p instanceof Response) return p;
    return orderForm(c, yearOf(c, deps), {}, NO_ERRORS);
  });

  web.post('/market/orders', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const fields = await formFields(c);
    const fy = fields.financialYear ?? '';
    const r = await tryForm(
      () =>
        actingAsUser(deps, c, async (act) => {
          const errors: FieldError[] = [];
          const side = fields.side;
          if (side !== 'buy' && side !== 'sell')
            errors.push({ pointer: '/side', detail: 'Select whether you want to buy or sell credits' });
          const quantity = quantityField(fields.quantity, errors);
          const limitPricePence = priceField(fields.limitPrice, '/limitPricePence', 'limit price per credit', errors);
          const vintage = fields.vintage || null;
          if (vintage && !(await vintagesFor(act.trx, fy)).includes(vintage))
            errors.push({ pointer: '/vintage', detail: 'Select a vintage from the list' });
          if (errors.length > 0) throw invalid(errors);
          return placeOrder(act, { financialYear: fy, side: side as 'buy' | 'sell', quantity, limitPricePence, vintage });
        }),
      {
        fieldOf: (ptr: string) =>
          ({ '/side': 'side', '/quantity': 'quantity', '/limitPricePence': 'limitPrice', '/vintage': 'vintage' })[ptr] ?? 'side',
      },
    );
    if ('failed' in r) return orderForm(c, fy, fields, r.failed, statusOf(r.failed));
    const { order } = r.ok;
    const done = order.status === 'filled' ? 'filled' : order.filled > 0n ? 'part-filled' : 'resting';
    return c.redirect(`/market/orders/${encodeURIComponent(order.id)}?done=${done}`, 303);
  });

  web.get('/market/orders/:id', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const order = await readOrder(lookAs(deps, p), c.req.param('id'));
    const { trades } = await readTrades(lookAs(deps, p), order.financialYear);
    return render(c, 'market-order', {
      title: `Order to ${order.side} ${order.quantity} ${order.quantity === 1n ? 'credit' : 'credits'}, placed ${order.placedAt.slice(0, 16).replace('T', ' ')}`,
      backLink: `/market/orders${q(order.financialYear)}`,
      notice: noticeOf(c, NOTICES),
      order,
      tag: ORDER_TAGS[order.status],
      mayCancel: order.status === 'open' && p.role === 'department',
      trades: trades.filter((t) => t.buyOrderId === order.id || t.sellOrderId === order.id),
    });
  });

  web.post('/market/orders/:id/cancel', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const id = c.req.param('id');
    const r = await tryForm(() => actingAsUser(deps, c, (act) => cancelOrder(act, id)), { fieldOf: () => 'main-content' });
    if ('failed' in r) {
      const order = await readOrder(lookAs(deps, p), id);
      return render(
        c,
        'market-order',
        {
          title: 'Order',
          backLink: `/market/orders${q(order.financialYear)}`,
          order,
          tag: ORDER_TAGS[order.status],
          trades: [],
          ...r.failed,
        },
        409,
      );
    }
    return c.redirect(`/market/orders/${encodeURIComponent(id)}?done=cancelled`, 303);
  });
}

// ---------------------------------------------------------------------------------------------
// Trades

function mountTrades(web: WebApp, deps: Deps) {
  web.get('/market/trades', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const fy = yearOf(c, deps);
    const list = await readTrades(lookAs(deps, p), fy);
    const own = p.role === 'department' ? p.organisationCode : null;
    return render(c, 'market-trades', {
      title: own ? `Your trades, ${fy}` : `Trades, ${fy}`,
      backLink: `/market${q(fy)}`,
      year: fy,
      q: q(fy),
      own,
      figures: list.market,
      trades: list.trades.map((t) => ({
        ...t,
        how: t.bilateralId ? 'Bilateral' : 'Order book',
        role: own ? (t.sellerCode === own ? 'Sold' : 'Bought') : null,
      })),
    });
  });

  // The same CSV as GET /api/v1/open-data/trades.csv, for the signed-in user.
  web.get('/market/trades.csv', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const fy = yearOf(c, deps);
    const csv = await tradesCsv(lookAs(deps, p), fy);
    return c.body(csv, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="credit-trades-${fy}.csv"`,
      'cache-control': 'no-store',
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Bilateral proposals

function proposalView(b: Bilateral, p: Principal, names: Map<string, string>) {
  const own = p.role === 'department' ? p.organisationCode : null;
  const incoming = own === b.counterpartyCode;
  const other = incoming ? b.proposerCode : b.counterpartyCode;
  const ourSide = own === b.sellerCode ? 'sell' : own === b.buyerCode ? 'buy' : null;
  return {
    ...b,
    incoming,
    otherCode: other,
    otherName: names.get(other) ?? other,
    sellerName: names.get(b.sellerCode) ?? b.sellerCode,
    buyerName: names.get(b.buyerCode) ?? b.buyerCode,
    ourSide,
    valuePence: b.quantity * b.pricePence,
    tag: PROPOSAL_TAGS[b.status],
    mayAnswer: b.status === 'proposed' && incoming,
    mayWithdraw: b.status === 'proposed' && own === b.proposerCode,
  };
}

function mountProposals(web: WebApp, deps: Deps) {
  web.get('/market/proposals', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const fy = yearOf(c, deps);
    const [list, names] = await Promise.all([readBilaterals(lookAs(deps, p), fy, deps.clock()), organisationNames(deps.database.db)]);
    const views = list.map((b) => proposalView(b, p, names));
    return render(c, 'market-proposals', {
      title: `Bilateral proposals, ${fy}`,
      backLink: `/market${q(fy)}`,
      year: fy,
      q: q(fy),
      isDepartment: p.role === 'department',
      toAnswer: views.filter((b) => b.mayAnswer),
      others: views.filter((b) => !b.mayAnswer),
    });
  });

  const proposalForm = async (c: WebContext, fy: string, fields: Fields, errors: FormErrors, status: 200 | 400 | 409 | 422 = 200) => {
    const p = c.get('principal') as Principal;
    const db = deps.database.db;
    const [vintages, departments, names, market] = await Promise.all([
      vintagesFor(deps.database.db, fy),
      listDepartmentYears(db, fy),
      organisationNames(db),
      readMarket(lookAs(deps, p), fy),
    ]);
    return render(
      c,
      'market-proposal-new',
      {
        title: `Propose a bilateral trade, ${fy}`,
        backLink: `/market/proposals${q(fy)}`,
        year: fy,
        market,
        fields,
        counterpartyItems: [
          { value: '', text: 'Choose a department', selected: !fields.counterpartyCode },
          ...departments
            .filter((d) => d.departmentCode !== p.organisationCode)
            .map((d) => ({
              value: d.departmentCode,
              text: names.get(d.departmentCode) ?? d.departmentCode,
              selected: fields.counterpartyCode === d.departmentCode,
            })),
        ],
        sideItems: [
          { value: 'sell', text: 'Sell credits to them', checked: fields.side === 'sell' },
          { value: 'buy', text: 'Buy credits from them', checked: fields.side === 'buy' },
        ],
        vintageItems: [
          { value: '', text: 'Choose a vintage', selected: !fields.vintage },
          ...vintages.map((v) => ({ value: v, text: v, selected: fields.vintage === v })),
        ],
        ...errors,
      },
      status,
    );
  };

  web.get('/market/proposals/new', async (c) => {
    const p = requireRole(c, proposeBilateral.roles);
    if (p instanceof Response) return p;
    return proposalForm(c, yearOf(c, deps), { expiresInDays: '7' }, NO_ERRORS);
  });

  web.post('/market/proposals', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const fields = await formFields(c);
    const fy = fields.financialYear ?? '';
    const r = await tryForm(
      () =>
        actingAsUser(deps, c, async (act) => {
          const errors: FieldError[] = [];
          const counterpartyCode = fields.counterpartyCode ?? '';
          if (!counterpartyCode) errors.push({ pointer: '/counterpartyCode', detail: 'Select the department you propose the trade to' });
          const side = fields.side;
          if (side !== 'buy' && side !== 'sell') errors.push({ pointer: '/side', detail: 'Select whether you sell or buy' });
          const vintage = fields.vintage ?? '';
          if (!vintage) errors.push({ pointer: '/vintage', detail: 'Select the vintage of the credits' });
          else if (!(await vintagesFor(act.trx, fy)).includes(vintage))
            errors.push({ pointer: '/vintage', detail: 'Select a vintage from the list' });
          const quantity = quantityField(fields.quantity, errors);
          const pricePence = priceField(fields.price, '/pricePence', 'price per credit', errors);
          const daysText = (fields.expiresInDays ?? '').trim();
          let expiresInDays = 7;
          if (daysText !== '') {
            if (!/^\d{1,2}$/.test(daysText) || Number(daysText) < 1 || Number(daysText) > 30)
              errors.push({ pointer: '/expiresInDays', detail: 'The number of days must be a whole number from 1 to 30' });
            else expiresInDays = Number(daysText);
          }
          if (errors.length > 0) throw invalid(errors);
          return proposeBilateral(act, {
            financialYear: fy,
            counterpartyCode,
            side: side as 'buy' | 'sell',
            vintage,
            quantity,
            pricePence,
            expiresInDays,
          });
        }),
      {
        fieldOf: (ptr: string) =>
          ({
            '/counterpartyCode': 'counterpartyCode',
            '/side': 'side',
            '/vintage': 'vintage',
            '/quantity': 'quantity',
            '/pricePence': 'price',
            '/expiresInDays': 'expiresInDays',
          })[ptr] ?? 'counterpartyCode',
      },
    );
    if ('failed' in r) return proposalForm(c, fy, fields, r.failed, statusOf(r.failed));
    return c.redirect(`/market/proposals/${encodeURIComponent(r.ok.id)}?done=proposed`, 303);
  });

  const proposalPage = async (c: WebContext, p: Principal, errors: FormErrors, status: 200 | 409 | 422 = 200) => {
    const b = await readBilateral(lookAs(deps, p), c.req.param('id') as string, deps.clock());
    const v = proposalView(b, p, await organisationNames(deps.database.db));
    return render(
      c,
      'market-proposal',
      {
        title: `Proposal: ${v.sellerName} sells ${b.quantity} ${b.quantity === 1n ? 'credit' : 'credits'} to ${v.buyerName}`,
        backLink: `/market/proposals${q(b.financialYear)}`,
        notice: noticeOf(c, NOTICES),
        b: v,
        ...errors,
      },
      status,
    );
  };

  web.get('/market/proposals/:id', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    return proposalPage(c, p, NO_ERRORS);
  });

  const actions = { accept: acceptBilateral, decline: declineBilateral, withdraw: withdrawBilateral } as const;
  const done = { accept: 'accepted', decline: 'declined', withdraw: 'withdrawn' } as const;
  for (const action of ['accept', 'decline', 'withdraw'] as const) {
    web.post(`/market/proposals/:id/${action}`, async (c) => {
      const p = requireUser(c);
      if (p instanceof Response) return p;
      const id = c.req.param('id');
      const r = await tryForm(() => actingAsUser(deps, c, (act) => actions[action](act, id)), { fieldOf: () => 'main-content' });
      if ('failed' in r) return proposalPage(c, p, r.failed, 422);
      return c.redirect(`/market/proposals/${encodeURIComponent(id)}?done=${done[action]}`, 303);
    });
  }
}

/** The credits market's pages. */
export const marketPages: PageSection = {
  navigation: [
    {
      href: '/market',
      text: 'Credits market',
      description: 'The order book, your orders, bilateral proposals, trades and prices.',
      descriptionFor: {
        treasury: 'The order book, every order, trades and prices.',
        auditor: 'The order book, every order, trades and prices.',
      },
      roles: ['department', 'treasury', 'auditor'],
    },
  ],
  mount(web, deps) {
    mountMarket(web, deps);
    mountTrades(web, deps);
    mountProposals(web, deps);
  },
};
