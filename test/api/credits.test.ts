import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CreditsWorld, creditsWorld } from '../support/credits.ts';
import { engines } from '../support/db.ts';
import { expectInvalid, expectProblem, get } from '../support/releases.ts';

/*
 * Year close, the market, compliance and the department position through the API, in the order
 * a year runs: close (credits, obligations, provenance), prices, orders on the book, bilateral
 * trades, the trades list with VWAP, compliance with surrender and buy-out, verification.
 * Figures come from test/support/credits.ts.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON replies
type Json = any;

describe.each(engines())('savings credits on %s', (engine) => {
  let w: CreditsWorld;
  const fy = '2026-27';
  beforeAll(async () => {
    w = await creditsWorld(engine);
  }, 120_000);
  afterAll(() => w.t.destroy());

  const req = (method: string, path: string, token?: string, body?: unknown) => w.t.request(method, `/api/v1${path}`, { token, body });
  const order = (token: string, body: Record<string, unknown>) => req('POST', '/credits/orders', token, { financialYear: fy, ...body });
  const propose = (token: string, body: Record<string, unknown>) =>
    req('POST', '/credits/bilateral-trades', token, { financialYear: fy, vintage: fy, ...body });
  const position = (code: string, token?: string) => get(w, `/departments/${code}/position?fy=${fy}`, token);
  const auditCount = async () => (await get(w, '/audit-log?limit=500')).entries.length;
  const holding = (p: Json, vintage = fy) => p.credits.find((c: Json) => c.vintage === vintage) ?? { held: 0, reserved: 0, available: 0 };

  it('refuses trading and compliance before the year is closed', async () => {
    expectProblem(await order(w.tokens.dwp, { side: 'buy', quantity: 1, limitPricePence: 100 }), 409, 'trading-year-not-closed');
    expectProblem(await req('POST', `/financial-years/${fy}/compliance`), 409, 'financial-year-not-closed');
  });

  it('shows a live position before close', async () => {
    const p = await position('DHSC', w.tokens.dhsc);
    expect(p).toMatchObject({
      yearClosed: false,
      verifiedSavings: { cashablePence: 5_000_123_45 },
      creditsIssued: 123,
      savingsTargetPence: 5_000_000_00,
    });
  });

  it('refuses to close a year before its first day, changing nothing', async () => {
    const before = await auditCount();
    w.t.setNow(new Date('2026-03-31T23:30:00Z'));
    try {
      const early = await req('POST', `/financial-years/${fy}/close`);
      expectProblem(early, 409, 'financial-year-not-started');
      expect(early.body.detail).toBe('2026-27 starts on 2026-04-01; it cannot be closed before then.');
    } finally {
      w.t.setNow(new Date('2026-06-01T09:00:00Z'));
    }
    expect((await get(w, `/financial-years/${fy}`)).status).toBe('open');
    expect(await auditCount()).toBe(before);
  });

  it('closes the year: credits rounded down, obligations rounded up, with provenance; closing again changes nothing', async () => {
    const r = await req('POST', `/financial-years/${fy}/close`);
    expect(r.status, r.text).toBe(201);
    const by = Object.fromEntries(r.body.departments.map((d: Json) => [d.departmentCode, d]));
    expect(by.DHSC).toMatchObject({ verifiedCashablePence: 5_000_123_45, creditsIssued: 123, obligationCredits: 0, provenanceReports: 1 });
    expect(by.DWP).toMatchObject({
      verifiedCashablePence: 2_999_000_00,
      verifiedOtherPence: 500_000_00,
      creditsIssued: 0,
      obligationCredits: 1000,
    });
    expect(by.MOJ).toMatchObject({ verifiedCashablePence: 999_999_99, creditsIssued: 0, obligationCredits: 1 });
    expect(by.HO).toMatchObject({ verifiedCashablePence: 0, obligationCredits: 1000 });
    expect(by.DHSC.issuanceTransferId).toBe(`credit-issue/${fy}/DHSC`);

    const before = await auditCount();
    const again = await req('POST', `/financial-years/${fy}/close`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(r.body);
    expect(await auditCount()).toBe(before);
    const issues = await get(w, '/ledger/transfers?code=credit-issue');
    expect(issues.transfers.map((t: Json) => [t.id, t.amount])).toEqual([[`credit-issue/${fy}/DHSC`, 123]]);

    const prov = await get(w, `/financial-years/${fy}/departments/DHSC/credit-issuance`, w.tokens.dhsc);
    expect(prov).toMatchObject({ creditsIssued: 123, transferId: `credit-issue/${fy}/DHSC` });
    expect(prov.provenance).toEqual([
      {
        reportId: w.reports.dhsc,
        caseId: w.caseId,
        caseReference: expect.any(String),
        placeCode: 'BRADFORD',
        benefitLineIndex: 0,
        verifiedPence: 5_000_123_45,
      },
    ]);
    expectProblem(await req('GET', `/financial-years/${fy}/departments/DHSC/credit-issuance`, w.tokens.dwp), 403, 'forbidden');
    expect((await get(w, `/financial-years/${fy}/close`, w.tokens.dwp)).departments.map((d: Json) => d.departmentCode)).toEqual(['DWP']);
    expect((await get(w, `/financial-years/${fy}`)).status).toBe('closed');
  });

  it('refuses verifying a report for a closed year; the pending report did not count', async () => {
    expectProblem(
      await req('POST', `/benefit-reports/${w.reports.pending}/verify`, w.tokens.dhsc, {}),
      409,
      'financial-year-closed-for-verification',
    );
    expect((await position('DHSC')).verifiedSavings.cashablePence).toBe(5_000_123_45);
  });

  it('refuses filing a report for a closed year, which could never be verified; a pending one can still be rejected', async () => {
    const rejected = await req('POST', `/benefit-reports/${w.reports.pending}/reject`, undefined, { reason: 'Not evidenced.' });
    expect(rejected.status, rejected.text).toBe(200);
    const refiled = await req('POST', `/cases/${w.caseId}/benefit-reports`, w.tokens.bradford, {
      benefitLineIndex: 4,
      year: fy,
      claimedPence: 1_000_00,
      evidence: 'A later extract.',
    });
    expectProblem(refiled, 409, 'financial-year-closed-for-verification');
    expect(refiled.body.detail).toContain('can no longer be filed or verified');
  });

  it('needs a floor and ceiling; treasury sets them; orders outside are refused', async () => {
    expectProblem(await order(w.tokens.dwp, { side: 'buy', quantity: 1, limitPricePence: 100 }), 422, 'market-prices-not-set');
    expectInvalid(await req('PUT', `/financial-years/${fy}/credit-market`, undefined, { floorPence: 300, ceilingPence: 200 }), [
      '/floorPence',
    ]);
    expectInvalid(await req('PUT', `/financial-years/${fy}/credit-market`, undefined, { floorPence: 1.5, ceilingPence: '200' }), [
      '/ceilingPence',
      '/floorPence',
    ]);
    expectProblem(
      await req('PUT', `/financial-years/${fy}/credit-market`, w.tokens.dwp, { floorPence: 50, ceilingPence: 200 }),
      403,
      'forbidden',
    );
    const set = await req('PUT', `/financial-years/${fy}/credit-market`, undefined, { floorPence: 50, ceilingPence: 200 });
    expect(set.status, set.text).toBe(201);
    expect(set.body).toMatchObject({ status: 'open', prices: { floorPence: 50, ceilingPence: 200 } });
    expectProblem(await order(w.tokens.dwp, { side: 'buy', quantity: 1, limitPricePence: 201 }), 422, 'price-outside-band');
    expectProblem(await order(w.tokens.dwp, { side: 'buy', quantity: 1, limitPricePence: 49 }), 422, 'price-outside-band');
    expectInvalid(await order(w.tokens.dwp, { side: 'hold', quantity: 0, limitPricePence: 10.5, extra: 1 }), [
      '/extra',
      '/limitPricePence',
      '/quantity',
      '/side',
    ]);
  });

  it('matches on arrival at the resting price, part-fills, reserves what rests, prevents self-trade', async () => {
    const buy = await order(w.tokens.dwp, { side: 'buy', quantity: 100, limitPricePence: 150 });
    expect(buy.status, buy.text).toBe(201);
    expect(buy.body).toMatchObject({
      fills: [],
      order: { status: 'open', remaining: 100, reservationId: `reserve/${buy.body.order.id}/1` },
    });
    let dwp = await position('DWP', w.tokens.dwp);
    expect(dwp.cash.reservedPence).toBe(15_000);

    const sell = await order(w.tokens.dhsc, { side: 'sell', quantity: 30, limitPricePence: 140 });
    expect(sell.status, sell.text).toBe(201);
    expect(sell.body.order).toMatchObject({ status: 'filled', vintage: fy, filled: 30 });
    expect(sell.body.fills).toEqual([
      {
        tradeId: expect.any(String),
        restingOrderId: buy.body.order.id,
        counterpartyCode: 'DWP',
        vintage: fy,
        quantity: 30,
        pricePence: 150,
      },
    ]);
    dwp = await position('DWP', w.tokens.dwp);
    expect(holding(dwp).held).toBe(30);
    expect(dwp.cash.reservedPence).toBe(70 * 150);
    expect(dwp.openOrders).toMatchObject([{ id: buy.body.order.id, remaining: 70, reservationId: `reserve/${buy.body.order.id}/2` }]);

    // Self-trade prevention: the incoming order is refused whole, nothing changes.
    const before = await auditCount();
    const self = await order(w.tokens.dwp, { side: 'sell', quantity: 10, limitPricePence: 100 });
    expectProblem(self, 422, 'self-trade-prevented');
    expect(self.body.restingOrderId).toBe(buy.body.order.id);
    expect(await auditCount()).toBe(before);
    expect(holding(await position('DWP')).held).toBe(30);

    const rest = await order(w.tokens.dhsc, { side: 'sell', quantity: 20, limitPricePence: 160 });
    expect(rest.body.order).toMatchObject({ status: 'open', remaining: 20 });
    const dhsc = await position('DHSC', w.tokens.dhsc);
    expect(holding(dhsc)).toEqual({ vintage: fy, held: 93, reserved: 20, available: 73 });
    expectProblem(await order(w.tokens.dhsc, { side: 'buy', quantity: 5, limitPricePence: 170 }), 422, 'self-trade-prevented');

    const book = await get(w, `/financial-years/${fy}/credit-market`, w.tokens.moj);
    expect(book.book).toEqual([
      { side: 'sell', pricePence: 160, quantity: 20, orders: 1 },
      { side: 'buy', pricePence: 150, quantity: 70, orders: 1 },
    ]);
  });

  it('refuses selling credits you do not hold, buying without the cash, a future vintage, a department not in the year', async () => {
    expectProblem(await order(w.tokens.dhsc, { side: 'sell', quantity: 74, limitPricePence: 170 }), 422, 'insufficient-credits');
    expectProblem(await order(w.tokens.moj, { side: 'sell', quantity: 1, limitPricePence: 170 }), 422, 'insufficient-credits');
    expectProblem(await order(w.tokens.ho, { side: 'buy', quantity: 100, limitPricePence: 101 }), 422, 'insufficient-cash');
    expectProblem(
      await order(w.tokens.moj, { side: 'buy', quantity: 1, limitPricePence: 100, vintage: '2027-28' }),
      422,
      'vintage-in-the-future',
    );
    expectProblem(
      await order(w.tokens.moj, { side: 'buy', quantity: 1, limitPricePence: 100, vintage: '2025-26' }),
      422,
      'vintage-not-issued',
    );
    const dfe = await w.t.userToken({ name: 'DfE analyst', role: 'department', organisationCode: 'DFE' });
    expectProblem(await order(dfe, { side: 'buy', quantity: 1, limitPricePence: 100 }), 422, 'department-not-in-year');
    expectProblem(
      await req('POST', '/credits/orders', undefined, { financialYear: fy, side: 'buy', quantity: 1, limitPricePence: 100 }),
      403,
      'forbidden',
    );
  });

  it('cancels only your own resting order and releases its reservation', async () => {
    const open = (await get(w, `/credits/orders?fy=${fy}&status=open`, w.tokens.dwp)).orders;
    expect(open).toHaveLength(1);
    expectProblem(await req('POST', `/credits/orders/${open[0].id}/cancel`, w.tokens.dhsc, {}), 404, 'credit-order-not-found');
    const c = await req('POST', `/credits/orders/${open[0].id}/cancel`, w.tokens.dwp, {});
    expect(c.status, c.text).toBe(200);
    expect(c.body).toMatchObject({ status: 'cancelled', reservationId: null });
    expect((await position('DWP')).cash.reservedPence).toBe(0);
    expectProblem(await req('POST', `/credits/orders/${open[0].id}/cancel`, w.tokens.dwp, {}), 409, 'order-not-open');
    expect((await get(w, `/credits/orders?fy=${fy}`)).orders).toHaveLength(3);
  });

  it('runs bilateral trades: propose, accept (DvP), decline, withdraw, expiry', async () => {
    expectProblem(
      await propose(w.tokens.dhsc, { counterpartyCode: 'DHSC', side: 'sell', quantity: 1, pricePence: 100 }),
      422,
      'counterparty-is-yourself',
    );
    expectProblem(
      await propose(w.tokens.dhsc, { counterpartyCode: 'MOJ', side: 'sell', quantity: 1, pricePence: 201 }),
      422,
      'price-outside-band',
    );
    expectProblem(
      await propose(w.tokens.dhsc, { counterpartyCode: 'MOJ', side: 'sell', quantity: 74, pricePence: 120 }),
      422,
      'insufficient-credits',
    );
    expectProblem(
      await propose(w.tokens.moj, { counterpartyCode: 'DHSC', side: 'sell', quantity: 1, pricePence: 120, vintage: '2027-28' }),
      422,
      'vintage-in-the-future',
    );

    const p = await propose(w.tokens.dhsc, { counterpartyCode: 'MOJ', side: 'sell', quantity: 10, pricePence: 120 });
    expect(p.status, p.text).toBe(201);
    expect(p.body).toMatchObject({ status: 'proposed', sellerCode: 'DHSC', buyerCode: 'MOJ' });
    expect((await position('MOJ', w.tokens.moj)).bilateralOffers.map((b: Json) => b.id)).toEqual([p.body.id]);
    expectProblem(await req('POST', `/credits/bilateral-trades/${p.body.id}/accept`, w.tokens.dhsc, {}), 409, 'not-your-part');
    expectProblem(await req('POST', `/credits/bilateral-trades/${p.body.id}/accept`, w.tokens.dwp, {}), 404, 'bilateral-trade-not-found');
    const a = await req('POST', `/credits/bilateral-trades/${p.body.id}/accept`, w.tokens.moj, {});
    expect(a.status, a.text).toBe(200);
    expect(a.body).toMatchObject({ status: 'accepted', tradeId: expect.any(String) });
    expect(holding(await position('MOJ')).held).toBe(10);
    expectProblem(await req('POST', `/credits/bilateral-trades/${p.body.id}/decline`, w.tokens.moj, {}), 409, 'bilateral-trade-not-open');
    const legs = await get(w, `/ledger/transfers?code=trade-cash`);
    expect(legs.transfers.some((t: Json) => t.id === `trade/${a.body.tradeId}/cash` && t.amount === 1200)).toBe(true);

    const d = await propose(w.tokens.dhsc, { counterpartyCode: 'DWP', side: 'sell', quantity: 5, pricePence: 110 });
    expect((await req('POST', `/credits/bilateral-trades/${d.body.id}/decline`, w.tokens.dwp, {})).body.status).toBe('declined');
    const x = await propose(w.tokens.moj, { counterpartyCode: 'DWP', side: 'buy', quantity: 5, pricePence: 110 });
    expectProblem(await req('POST', `/credits/bilateral-trades/${x.body.id}/withdraw`, w.tokens.dwp, {}), 409, 'not-your-part');
    expect((await req('POST', `/credits/bilateral-trades/${x.body.id}/withdraw`, w.tokens.moj, {})).body.status).toBe('withdrawn');

    const e = await propose(w.tokens.dhsc, { counterpartyCode: 'MOJ', side: 'sell', quantity: 1, pricePence: 100, expiresInDays: 1 });
    w.t.setNow(new Date('2026-06-03T09:00:00Z'));
    try {
      expectProblem(await req('POST', `/credits/bilateral-trades/${e.body.id}/accept`, w.tokens.moj, {}), 409, 'bilateral-trade-expired');
      expect((await get(w, `/credits/bilateral-trades/${e.body.id}`, w.tokens.moj)).status).toBe('expired');
    } finally {
      w.t.setNow(new Date('2026-06-01T09:00:00Z'));
    }

    // A leg that cannot settle refuses the acceptance, and neither leg moves.
    const big = await propose(w.tokens.dhsc, { counterpartyCode: 'HO', side: 'sell', quantity: 60, pricePence: 200 });
    expectProblem(await req('POST', `/credits/bilateral-trades/${big.body.id}/accept`, w.tokens.ho, {}), 422, 'insufficient-cash');
    expect(holding(await position('DHSC')).held).toBe(83);
    expect((await get(w, `/credits/bilateral-trades/${big.body.id}`)).status).toBe('proposed');
    expect((await get(w, `/credits/bilateral-trades?fy=${fy}`, w.tokens.dwp)).bilateralTrades).toHaveLength(2);
  });

  it('lists trades with both parties and the year’s VWAP; a department sees its own', async () => {
    const all = await get(w, `/credits/trades?fy=${fy}`, w.tokens.auditor);
    expect(all.trades.map((t: Json) => [t.sellerCode, t.buyerCode, t.quantity, t.pricePence, t.vintage])).toEqual([
      ['DHSC', 'DWP', 30, 150, fy],
      ['DHSC', 'MOJ', 10, 120, fy],
    ]);
    // (30 × 150 + 10 × 120) / 40 = 142.5 → 143, half-up.
    expect(all.market).toEqual({ trades: 2, volume: 40, valuePence: 5700, vwapPence: 143 });
    const dwp = await get(w, `/credits/trades?fy=${fy}`, w.tokens.dwp);
    expect(dwp.trades).toHaveLength(1);
    expect(dwp.market.vwapPence).toBe(143);
  });

  it('runs compliance: oldest vintage first, buy-out at the ceiling into the fund, a debt when the department cannot pay; twice changes nothing', async () => {
    const fundBefore = await get(w, `/fund?fy=${fy}`);
    const r = await req('POST', `/financial-years/${fy}/compliance`);
    expect(r.status, r.text).toBe(201);
    const by = Object.fromEntries(r.body.results.map((x: Json) => [x.departmentCode, x]));
    expect(by.DHSC).toMatchObject({ status: 'no-obligation', obligationCredits: 0 });
    expect(by.DWP).toMatchObject({
      status: 'compliant-by-buy-out',
      obligationCredits: 1000,
      surrenderedCredits: 30,
      shortfallCredits: 970,
      buyOutDuePence: 194_000,
      buyOutPaidPence: 194_000,
      buyOutOutstandingPence: 0,
      buyOutTransferId: `buy-out/${fy}/DWP`,
      surrendered: [{ vintage: fy, credits: 30, transferId: `credit-surrender/${fy}/DWP/${fy}` }],
    });
    expect(by.MOJ).toMatchObject({ status: 'compliant', surrenderedCredits: 1, shortfallCredits: 0, buyOutDuePence: 0 });
    expect(by.HO).toMatchObject({
      status: 'outstanding',
      buyOutDuePence: 200_000,
      buyOutPaidPence: 100_00,
      buyOutOutstandingPence: 190_000,
    });
    const fundAfter = await get(w, `/fund?fy=${fy}`);
    expect(fundAfter.balancePence - fundBefore.balancePence).toBe(194_000 + 100_00);
    expect(fundAfter.availablePence - fundBefore.availablePence).toBe(194_000 + 100_00);

    const ho = await position('HO', w.tokens.ho);
    expect(ho.cash.balancePence).toBe(0);
    expect(ho.buyOuts).toEqual({ paidPence: 100_00, outstandingPence: 190_000 });
    expect(ho.obligations).toMatchObject([{ financialYear: fy, status: 'outstanding' }]);
    // The next year's position owns none of this year's buy-outs, but still shows the debt owed from it.
    expect((await req('POST', '/financial-years', undefined, { name: '2027-28' })).status).toBe(201);
    const settings = { baselinePence: 100_00, topSliceBasisPoints: 0, savingsTargetPence: 0 };
    expect((await req('PUT', '/financial-years/2027-28/departments/HO', undefined, settings)).status).toBe(201);
    const next = await get(w, '/departments/HO/position?fy=2027-28', w.tokens.ho);
    expect(next.buyOuts).toEqual({ paidPence: 0, outstandingPence: 0 });
    expect(next.obligations).toMatchObject([{ financialYear: fy, status: 'outstanding', buyOutOutstandingPence: 190_000 }]);
    const moj = await position('MOJ', w.tokens.moj);
    expect(holding(moj)).toMatchObject({ held: 9, available: 9 });
    const dhsc = await position('DHSC');
    expect(holding(dhsc)).toMatchObject({ held: 83, reserved: 0 });
    expect(dhsc.openOrders).toEqual([]);

    const before = await auditCount();
    const again = await req('POST', `/financial-years/${fy}/compliance`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(r.body);
    expect(await auditCount()).toBe(before);
    expect((await get(w, `/financial-years/${fy}/compliance`, w.tokens.moj)).results.map((x: Json) => x.departmentCode)).toEqual(['MOJ']);
    expectProblem(await order(w.tokens.moj, { side: 'sell', quantity: 1, limitPricePence: 100 }), 409, 'trading-closed');
    expectProblem(
      await req('PUT', `/financial-years/${fy}/credit-market`, undefined, { floorPence: 50, ceilingPence: 300 }),
      409,
      'compliance-already-run',
    );
  });

  it('verifies: credits conserved, reservations equal to the book, no negative balance', async () => {
    const v = await get(w, '/ledger/verify', w.tokens.auditor);
    expect(v.ok).toBe(true);
    expect(v.credits).toMatchObject({ ok: true, credits: { issued: 123, available: 92, reserved: 0, surrendered: 31, conserved: true } });
    expect(v.credits.negativeBalances).toEqual([]);
  });

  it('shows positions only to their department, and to treasury, auditors and panel', async () => {
    expectProblem(await req('GET', `/departments/DHSC/position?fy=${fy}`, w.tokens.dwp), 403, 'forbidden');
    expectProblem(await req('GET', `/departments/DHSC/position?fy=${fy}`, w.tokens.bradford), 403, 'forbidden');
    for (const token of [undefined, w.tokens.auditor, w.tokens.chair])
      expect((await req('GET', `/departments/DHSC/position?fy=${fy}`, token)).status).toBe(200);
    expectInvalid(await req('GET', '/departments/DHSC/position?fy=2026'), ['fy']);
    expectProblem(await req('GET', `/departments/DFE/position?fy=${fy}`), 404, 'department-year-not-found');
  });
});
