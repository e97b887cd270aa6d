import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPence } from '../../src/lib/money.ts';
import { wholeNumber } from '../../src/lib/templates.ts';
import { type CreditsWorld, creditsWorld } from '../support/credits.ts';
import { engines } from '../support/db.ts';
import { get } from '../support/releases.ts';
import { type Page, webClient } from '../support/web.ts';

/*
 * The department's pages and the credits market's, through HTTP as a browser would post them:
 * the position against the API's JSON, verifying a benefit report in part and rejecting one with
 * a reason, placing, cancelling and crossing orders, bilateral proposals, the trades and their
 * CSV, and what one department may not see or do of another's. Figures: test/support/credits.ts.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON replies
type Json = any;

const text = (page: Page, selector: string) => page.$(selector).text().replace(/\s+/g, ' ').trim();
const pounds = (pence: number) => formatPence(BigInt(pence));

describe.each(engines())('the department’s pages (%s)', (engine) => {
  let w: CreditsWorld;
  const fy = '2026-27';
  beforeAll(async () => {
    w = await creditsWorld(engine);
  }, 120_000);
  afterAll(() => w.t.destroy());

  const as = async (token: string) => {
    const web = webClient(w.t);
    await web.signIn(token);
    await web.get('/');
    return web;
  };
  const api = (path: string, token?: string) => get(w, path, token);

  /** The position page's figures, checked against GET /departments/{code}/position. */
  async function expectPositionMatches(page: Page, code: string, token: string) {
    const p: Json = await api(`/departments/${code}/position?fy=${fy}`, token);
    expect(page.status).toBe(200);
    expect(text(page, '#savings-target')).toBe(pounds(p.savingsTargetPence));
    expect(text(page, '#verified-cashable')).toBe(pounds(p.verifiedSavings.cashablePence));
    expect(text(page, '#verified-other')).toBe(pounds(p.verifiedSavings.otherPence));
    expect(text(page, '#baseline')).toBe(pounds(p.baselinePence));
    expect(text(page, '#top-slice-paid')).toBe(pounds(p.topSlicePaidPence));
    expect(text(page, '#credits-issued')).toBe(wholeNumber(p.creditsIssued));
    expect(text(page, '#obligation-credits')).toMatch(new RegExp(`^${wholeNumber(p.obligationCredits)} credits?$`));
    expect(text(page, '#cash-balance')).toBe(pounds(p.cash.balancePence));
    expect(text(page, '#cash-reserved')).toBe(pounds(p.cash.reservedPence));
    expect(text(page, '#cash-available')).toBe(pounds(p.cash.availablePence));
    expect(text(page, '#buy-out-paid')).toBe(pounds(p.buyOuts.paidPence));
    const rows = page
      .$('#credits-table tbody tr[data-vintage]')
      .map((_, tr) =>
        page
          .$(tr)
          .find('th, td')
          .map((__, cell) => page.$(cell).text().trim())
          .get()
          .join('|'),
      )
      .get();
    expect(rows).toEqual(
      p.credits.map((h: Json) => [h.vintage, wholeNumber(h.held), wholeNumber(h.reserved), wholeNumber(h.available)].join('|')),
    );
    return p;
  }

  it('shows a department its own position with the API’s figures, and refuses it another department’s', async () => {
    const dhsc = await as(w.tokens.dhsc);
    const mine = await dhsc.get('/department');
    expect(mine.status).toBe(303);
    expect(mine.location).toBe('/departments/DHSC');
    const page = await dhsc.get(`/departments/DHSC?fy=${fy}`);
    expect(page.$('h1').length).toBe(1);
    expect(page.title).toContain('position for 2026-27');
    const p = await expectPositionMatches(page, 'DHSC', w.tokens.dhsc);
    expect(p.yearClosed).toBe(false);
    expect(text(page, '#against-target')).toBe('£123.45 above target');
    // Money right-aligned in tables.
    expect(page.$('#credits-table, #obligations-table').find('td').not('.govuk-table__cell--numeric').length).toBe(0);

    expect((await dhsc.get(`/departments/DWP?fy=${fy}`)).status).toBe(403);
    const dwp = await as(w.tokens.dwp);
    const theirs = await dwp.get(`/departments/DWP?fy=${fy}`);
    await expectPositionMatches(theirs, 'DWP', w.tokens.dwp);
    expect(text(theirs, '#against-target')).toBe('£1,000.00 short of target');
    // Treasury reads any department's position.
    const treasury = await as(w.t.treasury);
    await expectPositionMatches(await treasury.get(`/departments/MOJ?fy=${fy}`), 'MOJ', w.t.treasury);
    expect((await treasury.get('/department')).status).toBe(404);
    expect((await dhsc.get('/departments/DHSC?fy=2026-2027')).status).toBe(404);
  });

  it('rejects a report with a reason, and verifies a report again filed in part with a reason, as the API then reads them', async () => {
    const dhsc = await as(w.tokens.dhsc);
    const list = await dhsc.get('/benefit-reports');
    expect(list.status).toBe(200);
    expect(list.$(`#awaiting tr[data-report-id="${w.reports.pending}"]`).length).toBe(1);
    // Another department neither lists nor opens it, nor reviews it.
    const dwp = await as(w.tokens.dwp);
    expect((await dwp.get('/benefit-reports')).$(`#awaiting tr[data-report-id="${w.reports.pending}"]`).length).toBe(0);
    expect((await dwp.get(`/benefit-reports/${w.reports.pending}`)).status).toBe(404);
    expect([403, 404]).toContain((await dwp.post(`/benefit-reports/${w.reports.pending}/reject`, { rejectionReason: 'Not ours' })).status);
    expect((await api(`/benefit-reports/${w.reports.pending}`, w.tokens.dhsc)).status).toBe('pending');

    const report = await dhsc.get(`/benefit-reports/${w.reports.pending}`);
    expect(report.status).toBe(200);
    expect(text(report, '#claimed')).toBe('£1,000.00');
    const blank = await dhsc.post(`/benefit-reports/${w.reports.pending}/reject`, { rejectionReason: '  ' });
    expect(blank.status).toBe(400);
    expect(blank.title).toMatch(/^Error: /);
    expect(blank.errorSummary).toEqual(['Enter why you reject the report']);
    expect(blank.$('#rejectionReason-error').text()).toContain('Enter why you reject the report');
    const rejected = await dhsc.post(`/benefit-reports/${w.reports.pending}/reject`, {
      rejectionReason: 'No call-out logs were attached.',
    });
    expect(rejected.status).toBe(303);
    const shown = await dhsc.follow(rejected);
    expect(text(shown, '.govuk-notification-banner__heading')).toBe('The report has been rejected');
    expect(text(shown, '#rejection-reason')).toBe('No call-out logs were attached.');
    expect(shown.$('#verify-form').length).toBe(0);
    expect(await api(`/benefit-reports/${w.reports.pending}`, w.tokens.dhsc)).toMatchObject({
      status: 'rejected',
      rejectionReason: 'No call-out logs were attached.',
    });

    // The council files again (with markup in its evidence); DHSC verifies part of it.
    const again = await w.t.request('POST', `/api/v1/cases/${w.caseId}/benefit-reports`, {
      token: w.tokens.bradford,
      body: { benefitLineIndex: 4, year: fy, claimedPence: 1_000_00, evidence: '<script>alert("x")</script> call-out logs attached' },
    });
    expect(again.status).toBe(201);
    const id = again.body.id as string;
    const page = await dhsc.get(`/benefit-reports/${id}`);
    expect(page.html).not.toContain('<script>alert("x")</script>');
    expect(text(page, '#evidence')).toBe('<script>alert("x")</script> call-out logs attached');

    const nothing = await dhsc.post(`/benefit-reports/${id}/verify`, {});
    expect(nothing.status).toBe(400);
    expect(nothing.errorSummary).toEqual(['Select whether you verify the whole claim or part of it']);
    const missing = await dhsc.post(`/benefit-reports/${id}/verify`, { extent: 'part', verifiedAmount: '', verificationReason: '' });
    expect(missing.status).toBe(400);
    expect(missing.errorSummary).toEqual(['Enter the amount you verify', 'Enter why you verify less than the claim']);
    const words = await dhsc.post(`/benefit-reports/${id}/verify`, {
      extent: 'part',
      verifiedAmount: '600.505',
      verificationReason: 'Half',
    });
    expect(words.errorSummary).toEqual(['Enter the amount you verify in pounds, like 1250.50']);
    expect(words.$('#verifiedAmount').attr('value')).toBe('600.505');
    const tooMuch = await dhsc.post(`/benefit-reports/${id}/verify`, {
      extent: 'part',
      verifiedAmount: '£1,000.01',
      verificationReason: 'More',
    });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.errorSummary).toEqual(['The amount you verify must be no more than the claim, £1000.00']);
    expect(tooMuch.$('.govuk-error-summary a').attr('href')).toBe('#verifiedAmount');
    expect((await api(`/benefit-reports/${id}`, w.tokens.dhsc)).status).toBe('pending');

    const part = await dhsc.post(`/benefit-reports/${id}/verify`, {
      extent: 'part',
      verifiedAmount: '£600.50',
      verificationReason: 'Only the logged call-outs are counted.',
    });
    expect(part.status).toBe(303);
    const verified = await dhsc.follow(part);
    expect(text(verified, '.govuk-notification-banner__heading')).toBe('Part of the claim has been verified');
    expect(text(verified, '#verified')).toBe('£600.50 of the £1,000.00 claimed');
    expect(text(verified, '#verification-reason')).toBe('Only the logged call-outs are counted.');
    expect(await api(`/benefit-reports/${id}`, w.tokens.dhsc)).toMatchObject({
      status: 'verified',
      verifiedPence: 600_50,
      claimedPence: 1_000_00,
      verificationReason: 'Only the logged call-outs are counted.',
    });
    const listed = await dhsc.get('/benefit-reports');
    expect(listed.$(`#reviewed tr[data-report-id="${id}"]`).text()).toContain('£600.50');
    // The position counts it.
    await expectPositionMatches(await dhsc.get(`/departments/DHSC?fy=${fy}`), 'DHSC', w.tokens.dhsc);
  });

  it('places, refuses, cancels and crosses orders through the pages; the book, trades and positions agree with the API', async () => {
    expect((await w.t.request('POST', `/api/v1/financial-years/${fy}/close`)).status).toBe(201);
    expect(
      (await w.t.request('PUT', `/api/v1/financial-years/${fy}/credit-market`, { body: { floorPence: 50, ceilingPence: 200 } })).status,
    ).toBe(201);
    const dhsc = await as(w.tokens.dhsc);
    const dwp = await as(w.tokens.dwp);

    const form = await dhsc.get(`/market/orders/new?fy=${fy}`);
    expect(form.status).toBe(200);
    expect(form.$('label[for="quantity"]').text()).toBe('Number of credits');
    const bad = await dhsc.post('/market/orders', {
      financialYear: fy,
      side: 'sell',
      quantity: '1.5',
      limitPrice: 'one pound',
      vintage: '',
    });
    expect(bad.status).toBe(400);
    expect(bad.errorSummary).toEqual([
      'The number of credits must be a whole number from 1 to 1,000,000,000',
      'Enter the limit price per credit in pounds, like 1.25',
    ]);
    expect(bad.$('#quantity').attr('value')).toBe('1.5');
    const outside = await dhsc.post('/market/orders', { financialYear: fy, side: 'sell', quantity: '30', limitPrice: '5', vintage: '' });
    expect(outside.status).toBe(400);
    expect(outside.errorSummary).toEqual(["£5.00 a credit is outside this year's band of £0.50 to £2.00."]);
    expect(outside.$('.govuk-error-summary a').attr('href')).toBe('#limitPrice');
    const tooMany = await dhsc.post('/market/orders', { financialYear: fy, side: 'sell', quantity: '100,000', limitPrice: '1.40' });
    expect(tooMany.status).toBe(422);
    expect(tooMany.errorSummary[0]).toMatch(/^DHSC cannot sell 100,000 credits/);
    expect((await api(`/credits/orders?fy=${fy}`, w.tokens.dhsc)).orders).toEqual([]);

    // A resting sell order: on the book, another department cannot open or cancel it; its owner cancels it.
    const placed = await dhsc.post('/market/orders', { financialYear: fy, side: 'sell', quantity: '30', limitPrice: '£1.40', vintage: fy });
    expect(placed.status).toBe(303);
    const orderId = placed.location?.match(/^\/market\/orders\/([^?]+)\?done=resting$/)?.[1] as string;
    expect(orderId).toBeTruthy();
    const book = await dwp.get(`/market?fy=${fy}`);
    const market: Json = await api(`/financial-years/${fy}/credit-market`, w.tokens.dwp);
    expect(market.book).toEqual([{ side: 'sell', pricePence: 140, quantity: 30, orders: 1 }]);
    expect(text(book, '#book-sell tbody')).toBe('£1.40 30 1');
    expect(text(book, '#book-buy tbody')).toBe('No bids to buy');
    expect((await dwp.get(`/market/orders/${orderId}`)).status).toBe(404);
    expect((await dwp.post(`/market/orders/${orderId}/cancel`, {})).status).toBe(404);
    expect((await dwp.get(`/market/orders?fy=${fy}`)).$(`tr[data-order-id="${orderId}"]`).length).toBe(0);
    const mine = await dhsc.get(`/market/orders?fy=${fy}`);
    expect(mine.$(`tr[data-order-id="${orderId}"]`).text()).toContain('On the book');
    const cancelled = await dhsc.post(`/market/orders/${orderId}/cancel`, {});
    expect(cancelled.status).toBe(303);
    // The same form sent again (a double click) gets the first answer and changes nothing.
    const resent = await dhsc.post(`/market/orders/${orderId}/cancel`, {});
    expect([resent.status, resent.location]).toEqual([303, cancelled.location]);
    expect(text(await dhsc.follow(cancelled), '#order-status')).toBe('Cancelled');
    expect((await api(`/credits/orders/${orderId}`, w.tokens.dhsc)).status).toBe('cancelled');
    // A new request to cancel it is refused: it is cancelled already.
    expect((await dhsc.post(`/market/orders/${orderId}/cancel`, {})).status).toBe(409);

    // A crossing pair trades at the resting price; both see the trade and their positions move.
    const before: Json = await api(`/departments/DWP/position?fy=${fy}`, w.tokens.dwp);
    expect(
      (await dhsc.post('/market/orders', { financialYear: fy, side: 'sell', quantity: '30', limitPrice: '1.40', vintage: '' })).status,
    ).toBe(303);
    const buy = await dwp.post('/market/orders', { financialYear: fy, side: 'buy', quantity: '10', limitPrice: '1.50' });
    expect(buy.status).toBe(303);
    expect(buy.location).toMatch(/\?done=filled$/);
    expect(text(await dwp.follow(buy), '.govuk-notification-banner__heading')).toBe('Your order has been placed and filled');
    const after = await expectPositionMatches(await dwp.get(`/departments/DWP?fy=${fy}`), 'DWP', w.tokens.dwp);
    expect(after.cash.balancePence).toBe(before.cash.balancePence - 14_00);
    expect(after.credits.find((h: Json) => h.vintage === fy)?.held).toBe(10);
    await expectPositionMatches(await dhsc.get(`/departments/DHSC?fy=${fy}`), 'DHSC', w.tokens.dhsc);
    for (const [web, token] of [
      [dhsc, w.tokens.dhsc],
      [dwp, w.tokens.dwp],
    ] as const) {
      const trades: Json = await api(`/credits/trades?fy=${fy}`, token);
      const page = await web.get(`/market/trades?fy=${fy}`);
      expect(page.$('#trades tbody tr').length).toBe(trades.trades.length);
      expect(page.$(`#trades tr[data-trade-id="${trades.trades[0].id}"]`).text()).toContain('£14.00');
    }
    const withTrade = await dwp.get(`/market?fy=${fy}`);
    expect(text(withTrade, '#book-sell tbody')).toBe('£1.40 20 1');
    expect(text(withTrade, '#vwap')).toBe('£1.40');
    expect(withTrade.$('#price-chart').length).toBe(1);
    expect(withTrade.$('#price-chart-table tbody tr').length).toBe(1);
    expect(text(withTrade, '#price-chart-table tbody')).toContain('10 £1.40 £1.40 £1.40');
  });

  it('proposes, withdraws, declines and accepts bilateral trades; a third department cannot see them', async () => {
    const dhsc = await as(w.tokens.dhsc);
    const moj = await as(w.tokens.moj);
    const dwp = await as(w.tokens.dwp);
    const form = await dhsc.get(`/market/proposals/new?fy=${fy}`);
    expect(
      form
        .$('#counterpartyCode option')
        .map((_, o) => form.$(o).attr('value'))
        .get(),
    ).not.toContain('DHSC');
    const bad = await dhsc.post('/market/proposals', {
      financialYear: fy,
      counterpartyCode: '',
      side: 'sell',
      vintage: fy,
      quantity: '0',
      price: '1',
    });
    expect(bad.status).toBe(400);
    expect(bad.errorSummary).toEqual([
      'Select the department you propose the trade to',
      'The number of credits must be a whole number from 1 to 1,000,000,000',
    ]);
    const propose = (quantity: string) =>
      dhsc.post('/market/proposals', {
        financialYear: fy,
        counterpartyCode: 'MOJ',
        side: 'sell',
        vintage: fy,
        quantity,
        price: '1.00',
        expiresInDays: '7',
      });
    const idOf = (page: Page) => page.location?.match(/^\/market\/proposals\/([^?]+)\?done=proposed$/)?.[1] as string;

    const first = idOf(await propose('3'));
    expect((await dwp.get(`/market/proposals/${first}`)).status).toBe(404);
    const withdrawn = await dhsc.post(`/market/proposals/${first}/withdraw`, {});
    expect(withdrawn.status).toBe(303);
    expect(text(await dhsc.follow(withdrawn), '#proposal-status')).toBe('Withdrawn');

    const second = idOf(await propose('4'));
    expect((await dhsc.post(`/market/proposals/${second}/accept`, {})).status).toBe(422); // only MoJ answers
    const declined = await moj.post(`/market/proposals/${second}/decline`, {});
    expect(declined.status).toBe(303);
    expect((await api(`/credits/bilateral-trades/${second}`, w.tokens.moj)).status).toBe('declined');

    const third = idOf(await propose('5'));
    const list = await moj.get(`/market/proposals?fy=${fy}`);
    expect(list.$('#to-answer a').attr('href')).toBe(`/market/proposals/${third}`);
    expect(text(list, '#to-answer')).toContain('offers to sell you 5 credits of 2026-27 at £1.00 each');
    const before: Json = await api(`/departments/MOJ/position?fy=${fy}`, w.tokens.moj);
    const accepted = await moj.post(`/market/proposals/${third}/accept`, {});
    expect(accepted.status).toBe(303);
    expect(text(await moj.follow(accepted), '.govuk-notification-banner__heading')).toBe(
      'You accepted the proposal: the trade has settled',
    );
    const b: Json = await api(`/credits/bilateral-trades/${third}`, w.tokens.moj);
    expect(b.status).toBe('accepted');
    const after = await expectPositionMatches(await moj.get(`/departments/MOJ?fy=${fy}`), 'MOJ', w.tokens.moj);
    expect(after.cash.balancePence).toBe(before.cash.balancePence - 5_00);
    expect(after.credits.find((h: Json) => h.vintage === fy)?.held).toBe(5);
    expect((await dwp.get(`/market/proposals?fy=${fy}`)).html).not.toContain(third);
  });

  it('downloads the trades as CSV from the page and the API: the same rows the trades list gives the reader, pounds exact', async () => {
    for (const [token, code] of [
      [w.tokens.dwp, 'DWP'],
      [w.t.treasury, null],
    ] as const) {
      const web = await as(token);
      const page = await web.get(`/market/trades.csv?fy=${fy}`);
      expect(page.status).toBe(200);
      const fromApi = await w.t.request('GET', `/api/v1/open-data/trades.csv?fy=${fy}`, { token });
      expect(fromApi.status).toBe(200);
      expect(fromApi.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(page.html).toBe(fromApi.text);
      const rows: string[][] = parse(fromApi.text);
      const list: Json = await api(`/credits/trades?fy=${fy}`, token);
      expect(rows[0]?.[7]).toBe('Price per credit (£)');
      expect(rows.slice(1).map((r) => r[0])).toEqual(list.trades.map((t: Json) => t.id));
      for (const [i, t] of list.trades.entries()) {
        const r = rows[i + 1] as string[];
        expect([r[4], r[5], r[6], r[7], r[8]]).toEqual([
          t.sellerCode,
          t.buyerCode,
          String(t.quantity),
          (t.pricePence / 100).toFixed(2),
          (t.valuePence / 100).toFixed(2),
        ]);
        if (code) expect([t.sellerCode, t.buyerCode]).toContain(code);
      }
    }
    expect(parse((await w.t.request('GET', `/api/v1/open-data/trades.csv?fy=${fy}`)).text).length).toBe(3);
    expect(parse((await w.t.request('GET', `/api/v1/open-data/trades.csv?fy=${fy}`, { token: w.tokens.moj })).text).length).toBe(2);
  });

  it('shows disposals a department recorded beside the places’ pooled progress', async () => {
    expect(
      (
        await w.t.request('PUT', '/api/v1/places/BRADFORD/disposal-targets', {
          body: { financialYear: fy, departmentCode: 'DHSC', targetPence: 500_000_00 },
        })
      ).status,
    ).toBe(200);
    const d = await w.t.request('POST', '/api/v1/places/BRADFORD/disposals', {
      token: w.tokens.dhsc,
      body: { asset: 'Former clinic, <Manor Road>', receiptPence: 200_000_00, disposedOn: '2026-05-20' },
    });
    expect(d.status).toBe(201);
    const dhsc = await as(w.tokens.dhsc);
    const page = await dhsc.get(`/disposals?fy=${fy}`);
    expect(page.status).toBe(200);
    expect(text(page, '#recorded tbody')).toContain('Former clinic, <Manor Road> £200,000.00');
    const place: Json = await api(`/places/BRADFORD/disposals?fy=${fy}`, w.tokens.dhsc);
    expect(text(page, '#places tr[data-place="BRADFORD"]')).toContain(
      `${pounds(place.pooledTargetPence)} ${pounds(place.receiptsPence)} £300,000.00`,
    );
    expect(text(page, '#places tr[data-place="BRADFORD"]')).toContain('Not met');
    const dwp = await as(w.tokens.dwp);
    expect(text(await dwp.get(`/disposals?fy=${fy}`), '#recorded-none')).toContain('has recorded no disposals');
  });

  it('places one order when its form is sent twice, at once or one after the other, and a new form places another', async () => {
    const dwp = await as(w.tokens.dwp);
    const count = async () => (await api(`/credits/orders?fy=${fy}`, w.tokens.dwp)).orders.length;
    const before = await count();
    await dwp.get(`/market/orders/new?fy=${fy}`);
    const order = { financialYear: fy, side: 'buy', quantity: '2', limitPrice: '1.05' };
    // Sent twice at once: the second waits for the first and gets its answer.
    const both = await Promise.all([dwp.post('/market/orders', order), dwp.post('/market/orders', order)]);
    expect(both.map((p) => p.status)).toEqual([303, 303]);
    expect(both[1]?.location).toBe(both[0]?.location);
    const placed = both;
    expect(await count()).toBe(before + 1);
    const resent = await dwp.post('/market/orders', order);
    expect([resent.status, resent.location]).toEqual([303, placed[0]?.location]);
    expect(await count()).toBe(before + 1);
    // The same form with other values is another order; so is the same order from a new form.
    expect((await dwp.post('/market/orders', { ...order, quantity: '3' })).status).toBe(303);
    await dwp.get(`/market/orders/new?fy=${fy}`);
    expect((await dwp.post('/market/orders', order)).status).toBe(303);
    expect(await count()).toBe(before + 3);
  });

  it('refuses a form without its CSRF token, and an auditor any change', async () => {
    const dwp = await as(w.tokens.dwp);
    const before = (await api(`/credits/orders?fy=${fy}`, w.tokens.dwp)).orders.length;
    const forged = await dwp.post('/market/orders', { _csrf: null, financialYear: fy, side: 'buy', quantity: '1', limitPrice: '1.50' });
    expect(forged.status).toBe(403);
    expect(forged.$('h1').text()).toBe('This form has expired');
    expect((await api(`/credits/orders?fy=${fy}`, w.tokens.dwp)).orders.length).toBe(before);

    const auditor = await as(w.tokens.auditor);
    expect((await auditor.get(`/market?fy=${fy}`)).status).toBe(200);
    expect((await auditor.get(`/market/orders/new?fy=${fy}`)).status).toBe(403);
    expect((await auditor.post('/market/orders', { financialYear: fy, side: 'buy', quantity: '1', limitPrice: '1.50' })).status).toBe(403);
    expect((await auditor.post(`/benefit-reports/${w.reports.dhsc}/verify`, { extent: 'full' })).status).toBe(403);
    expect((await api(`/credits/orders?fy=${fy}`, w.tokens.dwp)).orders.length).toBe(before);
  });
});
