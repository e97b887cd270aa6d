import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { money, wholeNumber } from '../../src/lib/templates.ts';
import { type BrowserHarness, type BrowserTab, describeViolations, openBrowser } from '../support/browser.ts';
import { type DemoWorld, demoWorld } from '../support/demo.ts';

/*
 * The year end in a real browser, from the demo's database (its year set up, its cases decided,
 * released and their benefits verified): Treasury revises a target and closes the year through
 * the confirmation page and sees the credits issued; Treasury sets the market's prices; one
 * department offers credits on the order book and another's crossing bid trades with it, and
 * both see the trade and their positions change; Treasury runs compliance and the fund page shows
 * the buy-out. Every figure checked is the API's JSON for the same thing; every page passes
 * axe-core's WCAG A and AA rules, loads every asset, and has a data table beside each chart.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON replies
type Json = any;

describe('the year end in a real browser, from the demo’s database (sqlite)', { timeout: 600_000 }, () => {
  let w: DemoWorld;
  let h: BrowserHarness;
  let fy: string;
  const tokens = { auditor: '', seller: '', buyer: '' };
  let seller = '';
  let buyer = '';

  beforeAll(async () => {
    w = await demoWorld('sqlite');
    fy = w.fy;
    h = await openBrowser(w.t.app);
    tokens.auditor = await w.t.userToken({ name: 'Ada Auditor', role: 'auditor' });
  }, 300_000);
  afterAll(async () => {
    await h?.close();
    await w?.t.destroy();
  });

  const api = (token: string, path: string): Promise<Json> => w.api(token, 'GET', `/api/v1${path}`, undefined, 200);

  async function signedIn(token: string): Promise<BrowserTab> {
    const tab = await h.newTab();
    expect(await tab.go('/sign-in')).toBe(200);
    await tab.fill('Sign in with your token', token);
    expect(await tab.press('Sign in')).toBe(200);
    return tab;
  }

  /**
   * axe on the page as it stands (every WCAG A and AA rule ran, none broken), and a data table
   * with figures beside every chart (the chart's id + "-table"). Gives how many charts the page has.
   */
  async function checked(tab: BrowserTab): Promise<number> {
    const report = await tab.axe();
    expect(report.rulesRun, `axe ran on ${report.url}`).toBeGreaterThan(20);
    expect(report.violations, describeViolations(report)).toEqual([]);
    const charts = await tab.page.$$eval('svg.app-chart', (svgs) =>
      svgs.map((svg) => ({
        id: svg.id,
        rows: svg.ownerDocument.getElementById(`${svg.id}-table`)?.querySelectorAll('tbody tr').length ?? 0,
      })),
    );
    for (const chart of charts) expect(chart.rows, `a data table beside the chart #${chart.id} on ${tab.path()}`).toBeGreaterThan(0);
    return charts.length;
  }

  it('Treasury revises the leading department’s target and closes the year through the confirmation page; the credits issued are the API’s', async () => {
    // The department with the most verified cashable savings, as the demo picks it.
    const realised: Json = await api(w.t.treasury, `/benefits?fy=${fy}`);
    const cashable = new Map<string, bigint>();
    for (const r of realised.rows as Json[]) {
      if (r.type !== 'fiscal' || !r.cashable || !r.departmentCode) continue;
      cashable.set(r.departmentCode, (cashable.get(r.departmentCode) ?? 0n) + BigInt(r.verifiedPence));
    }
    const ranked = [...cashable.entries()].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0));
    const [top] = ranked;
    expect(top && top[1] > 0n).toBe(true);
    seller = (top as [string, bigint])[0];
    const revised = (((top as [string, bigint])[1] * 8n) / 10n / 100n) * 100n;

    const treasury = await signedIn(w.t.treasury);
    expect(await treasury.go(`/fund/${fy}`)).toBe(200);
    // Contributions by department, and commitments and releases over time.
    expect(await checked(treasury)).toBe(2);
    const fund: Json = await api(w.t.treasury, `/fund?fy=${fy}`);
    expect(await treasury.text('#contributed')).toBe(money(fund.contributedPence));
    expect(await treasury.text('#released')).toBe(money(fund.releasedPence));
    expect(await treasury.text('#available')).toBe(money(fund.availablePence));

    // The target, revised on the department's terms page, in pounds.
    expect(await treasury.go(`/fund/${fy}/departments/${seller}`)).toBe(200);
    await checked(treasury);
    await treasury.fill('Savings target', `${revised / 100n}`);
    expect(await treasury.press('Save the terms')).toBe(200);
    const terms: Json = await api(w.t.treasury, `/financial-years/${fy}/departments/${seller}`);
    expect(BigInt(terms.savingsTargetPence)).toBe(revised);

    expect(await treasury.go(`/fund/${fy}`)).toBe(200);
    expect(await treasury.follow(`Close the ${fy} year`)).toBe(200);
    await checked(treasury);
    const preview = await treasury.text('#preview-credits');
    expect(Number(preview.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(await treasury.press(`Close the ${fy} year`)).toBe(200);
    expect(treasury.path()).toBe(`/fund/${fy}/outcome?done=closed`);
    await checked(treasury);

    const close: Json = await api(w.t.treasury, `/financial-years/${fy}/close`);
    expect(wholeNumber(close.totals.creditsIssued)).toBe(preview);
    // Each department's row: the credits issued and owed the API gives.
    for (const d of close.departments as Json[]) {
      const row = `#credits-issued tr[data-department="${d.departmentCode}"]`;
      expect(await treasury.text(`${row} .app-credits-issued`), d.departmentCode).toBe(wholeNumber(d.creditsIssued));
      expect(await treasury.text(`${row} .app-obligation`), d.departmentCode).toBe(wholeNumber(d.obligationCredits));
    }
    expect(await treasury.text('#credits-issued .app-total-credits')).toBe(preview);
    expect(close.departments.find((d: Json) => d.departmentCode === seller).creditsIssued).toBeGreaterThan(0);
    const owing = (close.departments as Json[])
      .filter((d) => d.obligationCredits > 0)
      .sort((a, b) => b.obligationCredits - a.obligationCredits);
    buyer = owing[0].departmentCode;

    expect(await treasury.go(`/fund/${fy}`)).toBe(200);
    expect(await treasury.text('#credits-issued')).toBe(wholeNumber(close.totals.creditsIssued));
  });

  it('Treasury sets the market’s prices; one department’s offer and another’s crossing bid trade, and both see the trade and their positions change', async () => {
    const treasury = await signedIn(w.t.treasury);
    expect(await treasury.go(`/fund/${fy}`)).toBe(200);
    expect(await treasury.follow('Set the market’s prices')).toBe(200);
    await checked(treasury);
    await treasury.fill('Floor price per credit', '0.50');
    await treasury.fill('Ceiling (buy-out) price per credit', '1.20');
    expect(await treasury.press('Set the prices')).toBe(200);
    const market: Json = await api(w.t.treasury, `/financial-years/${fy}/credit-market`);
    expect(market.prices).toMatchObject({ floorPence: 50, ceilingPence: 120 });
    expect(market.status).toBe('open');

    tokens.seller = await w.t.userToken({ name: `${seller} credits desk`, role: 'department', organisationCode: seller });
    tokens.buyer = await w.t.userToken({ name: `${buyer} credits desk`, role: 'department', organisationCode: buyer });
    const before = {
      seller: await api(tokens.seller, `/departments/${seller}/position?fy=${fy}`),
      buyer: await api(tokens.buyer, `/departments/${buyer}/position?fy=${fy}`),
    };
    const lot = Math.max(1, Math.floor(before.seller.creditsIssued / 4));

    const sell = await signedIn(tokens.seller);
    expect(await sell.go(`/market?fy=${fy}`)).toBe(200);
    await checked(sell);
    expect(await sell.follow('Place an order')).toBe(200);
    await checked(sell);
    await sell.choose('Sell credits');
    await sell.fill('Number of credits', String(lot));
    await sell.fill('Limit price per credit', '1.00');
    await sell.select('Vintage', fy);
    expect(await sell.press('Place the order')).toBe(200);
    await checked(sell);
    expect(await sell.go(`/market?fy=${fy}`)).toBe(200);
    expect(await sell.texts('#book-sell tbody tr')).toEqual([`£1.00 ${wholeNumber(lot)} 1`]);

    const buy = await signedIn(tokens.buyer);
    expect(await buy.go(`/market/orders/new?fy=${fy}`)).toBe(200);
    await buy.choose('Buy credits');
    await buy.fill('Number of credits', String(lot));
    await buy.fill('Limit price per credit', '1.10');
    expect(await buy.press('Place the order')).toBe(200);
    await checked(buy);

    // The trade, at the resting offer's price, as both departments see it and as the API gives it.
    const trades: Json = await api(tokens.buyer, `/credits/trades?fy=${fy}`);
    expect(trades.trades.length).toBe(1);
    const [trade] = trades.trades;
    expect([trade.sellerCode, trade.buyerCode, trade.quantity, trade.pricePence]).toEqual([seller, buyer, lot, 100]);
    // Each party learns its own order's id, never the other's.
    expect([typeof trade.buyOrderId, trade.sellOrderId]).toEqual(['string', null]);
    const sellerView: Json = await api(tokens.seller, `/credits/trades?fy=${fy}`);
    expect([typeof sellerView.trades[0].sellOrderId, sellerView.trades[0].buyOrderId]).toEqual(['string', null]);
    for (const tab of [sell, buy]) {
      expect(await tab.go(`/market/trades?fy=${fy}`)).toBe(200);
      await checked(tab);
      const rows = await tab.texts('#trades tbody tr');
      expect(rows.length).toBe(1);
      expect(rows[0]).toContain(wholeNumber(lot));
      expect(rows[0]).toContain('£1.00');
    }
    expect(await sell.go(`/market?fy=${fy}`)).toBe(200);
    expect(await sell.text('#market-figures')).toBe(`1 trade of ${wholeNumber(lot)} credits, worth ${money(lot * 100)}`);
    // The year's price history, now that there is a trade.
    expect(await checked(sell)).toBe(1);

    // Each position page: the API's figures, changed by the trade.
    for (const [tab, code, token] of [
      [sell, seller, tokens.seller],
      [buy, buyer, tokens.buyer],
    ] as const) {
      expect(await tab.go(`/departments/${code}?fy=${fy}`)).toBe(200);
      await checked(tab);
      const p: Json = await api(token, `/departments/${code}/position?fy=${fy}`);
      expect(await tab.text('#cash-balance')).toBe(money(p.cash.balancePence));
      expect(await tab.text('#credits-issued')).toBe(wholeNumber(p.creditsIssued));
      const held = await tab.texts('#credits-table tbody tr[data-vintage]');
      expect(held).toEqual(
        p.credits.map((c: Json) => [c.vintage, wholeNumber(c.held), wholeNumber(c.reserved), wholeNumber(c.available)].join(' ')),
      );
    }
    const after = {
      seller: await api(tokens.seller, `/departments/${seller}/position?fy=${fy}`),
      buyer: await api(tokens.buyer, `/departments/${buyer}/position?fy=${fy}`),
    };
    expect(BigInt(after.seller.cash.balancePence) - BigInt(before.seller.cash.balancePence)).toBe(BigInt(lot) * 100n);
    expect(BigInt(before.buyer.cash.balancePence) - BigInt(after.buyer.cash.balancePence)).toBe(BigInt(lot) * 100n);
    const heldOf = (p: Json) => (p.credits as Json[]).reduce((s, c) => s + BigInt(c.held), 0n);
    expect(heldOf(before.seller) - heldOf(after.seller)).toBe(BigInt(lot));
    expect(heldOf(after.buyer) - heldOf(before.buyer)).toBe(BigInt(lot));
  });

  it('Treasury runs compliance through the confirmation page, and the fund page shows the buy-out the API reports', async () => {
    const treasury = await signedIn(w.t.treasury);
    expect(await treasury.go(`/fund/${fy}`)).toBe(200);
    expect(await treasury.follow(`Run compliance for ${fy}`)).toBe(200);
    await checked(treasury);
    const previewPaid = await treasury.text('#preview-bought-out');
    expect(await treasury.press(`Run compliance for ${fy}`)).toBe(200);
    expect(treasury.path()).toBe(`/fund/${fy}/outcome?done=compliance`);
    await checked(treasury);

    const run: Json = await api(w.t.treasury, `/financial-years/${fy}/compliance`);
    expect(run.totals.buyOutPaidPence).toBeGreaterThan(0);
    expect(previewPaid).toBe(money(run.totals.buyOutPaidPence));
    expect(await treasury.go(`/fund/${fy}`)).toBe(200);
    await checked(treasury);
    expect(await treasury.text('#bought-out')).toBe(money(run.totals.buyOutPaidPence));
    const fund: Json = await api(w.t.treasury, `/fund?fy=${fy}`);
    expect(await treasury.text('#balance')).toBe(money(fund.balancePence));

    // The buyer's position shows what it paid.
    const buy = await signedIn(tokens.buyer);
    expect(await buy.go(`/departments/${buyer}?fy=${fy}`)).toBe(200);
    await checked(buy);
    const p: Json = await api(tokens.buyer, `/departments/${buyer}/position?fy=${fy}`);
    expect(await buy.text('#buy-out-paid')).toBe(money(p.buyOuts.paidPence));
  });

  it('a department cannot open another’s position, orders or reports; an auditor reads the year end and cannot change it', async () => {
    const sell = await signedIn(tokens.seller);
    expect(await sell.go(`/departments/${buyer}?fy=${fy}`)).toBe(403);
    await checked(sell);
    const buyerOrders: Json = await api(tokens.buyer, `/credits/orders?fy=${fy}`);
    expect(await sell.go(`/market/orders/${buyerOrders.orders[0].id}`)).toBe(404);

    const auditor = await signedIn(tokens.auditor);
    for (const path of [`/fund/${fy}`, `/fund/${fy}/outcome`, `/market?fy=${fy}`, `/market/trades?fy=${fy}`]) {
      expect(await auditor.go(path), path).toBe(200);
      await checked(auditor);
      expect(await auditor.page.$$eval('main form[method="post"]', (f) => f.length), `no form that changes anything on ${path}`).toBe(0);
    }
    expect(await auditor.go(`/fund/${fy}/market`)).toBe(403);
  });

  it('every page loaded every asset it asked for and ran its scripts without error', () => {
    expect(h.badResponses).toEqual([]);
    expect(h.scriptErrors).toEqual([]);
    expect(h.axeReports.length).toBeGreaterThan(15);
  });
});
