import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CreditsWorld, creditsWorld } from '../support/credits.ts';
import { engines } from '../support/db.ts';
import { expectProblem, get } from '../support/releases.ts';

/*
 * Attacks on year close, the market and compliance through the API, in one year's order: close
 * raced against itself and against a verification, a bilateral price the band no longer allows,
 * a buy-out too large for the ledger, compliance raced against itself, and what compliance leaves
 * of the year's open proposals. After each step the ledger verifies. Figures come from
 * test/support/credits.ts, plus DFE set up with a £1bn target and nothing verified.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON replies
type Json = any;

describe.each(engines())('credits under attack on %s', (engine) => {
  let w: CreditsWorld;
  const fy = '2026-27';
  beforeAll(async () => {
    w = await creditsWorld(engine);
    const dfe = await w.t.request('PUT', `/api/v1/financial-years/${fy}/departments/DFE`, {
      body: { baselinePence: 100_00, topSliceBasisPoints: 0, savingsTargetPence: 1_000_000_000_00 },
    });
    if (dfe.status !== 201) throw new Error(`DFE: ${dfe.status} ${dfe.text}`);
  }, 120_000);
  afterAll(() => w.t.destroy());

  const req = (method: string, path: string, token?: string, body?: unknown) => w.t.request(method, `/api/v1${path}`, { token, body });
  const audit = async (action: string) => (await get(w, '/audit-log?limit=500')).entries.filter((e: Json) => e.action === action);
  const verified = async () => {
    const v = await get(w, '/ledger/verify');
    expect(v.ok, JSON.stringify(v)).toBe(true);
  };

  it('closes once when two closes and a verification race; the verification counts only if it came first', async () => {
    const [a, b, v] = await Promise.all([
      req('POST', `/financial-years/${fy}/close`),
      req('POST', `/financial-years/${fy}/close`),
      req('POST', `/benefit-reports/${w.reports.pending}/verify`, w.tokens.dhsc, {}),
    ]);
    expect([a.status, b.status].sort(), `${a.text}\n${b.text}`).toEqual([200, 201]);
    expect(a.body).toEqual(b.body);
    expect(await audit('financial-year.closed')).toHaveLength(1);
    const dhsc = a.body.departments.find((d: Json) => d.departmentCode === 'DHSC');
    if (v.status === 200) expect(dhsc).toMatchObject({ provenanceReports: 2, creditsIssued: 1123 });
    else {
      expectProblem(v, 409, 'financial-year-closed-for-verification');
      expect(dhsc).toMatchObject({ provenanceReports: 1, creditsIssued: 123 });
    }
    const dfe = a.body.departments.find((d: Json) => d.departmentCode === 'DFE');
    expect(dfe).toMatchObject({ verifiedCashablePence: 0, obligationCredits: 1_000_000_000, creditsIssued: 0 });
    await verified();
  });

  it('refuses accepting a bilateral price the band no longer allows; nothing moves', async () => {
    expect((await req('PUT', `/financial-years/${fy}/credit-market`, undefined, { floorPence: 50, ceilingPence: 200 })).status).toBe(201);
    const p = await req('POST', '/credits/bilateral-trades', w.tokens.dhsc, {
      financialYear: fy,
      vintage: fy,
      counterpartyCode: 'DWP',
      side: 'sell',
      quantity: 10,
      pricePence: 200,
    });
    expect(p.status, p.text).toBe(201);
    expect((await req('PUT', `/financial-years/${fy}/credit-market`, undefined, { floorPence: 50, ceilingPence: 150 })).status).toBe(200);
    const accept = await req('POST', `/credits/bilateral-trades/${p.body.id}/accept`, w.tokens.dwp, {});
    expectProblem(accept, 422, 'price-outside-band');
    expect((await get(w, `/credits/trades?fy=${fy}`)).trades).toEqual([]);
    expect((await get(w, `/credits/bilateral-trades/${p.body.id}`)).status).toBe('proposed');
    await verified();
  });

  it('refuses compliance whose buy-out the ledger cannot carry, and changes nothing', async () => {
    // DFE owes 1,000,000,000 credits: at £1,000,000 a credit that is £10^15, past 2^53 − 1 pence.
    expect(
      (await req('PUT', `/financial-years/${fy}/credit-market`, undefined, { floorPence: 50, ceilingPence: 100_000_000 })).status,
    ).toBe(200);
    const r = await req('POST', `/financial-years/${fy}/compliance`);
    expectProblem(r, 422, 'ledger-limit-reached');
    expect(r.body.detail).toContain('DFE');
    expectProblem(await req('GET', `/financial-years/${fy}/compliance`), 404, 'compliance-run-not-found');
    expect(await audit('compliance.run')).toHaveLength(0);
    expect((await get(w, `/financial-years/${fy}/credit-market`)).status).toBe('open');
    await verified();
  });

  it('runs compliance once when raced, and lapses the open proposals with the market', async () => {
    expect((await req('PUT', `/financial-years/${fy}/credit-market`, undefined, { floorPence: 50, ceilingPence: 200 })).status).toBe(200);
    const [a, b] = await Promise.all([req('POST', `/financial-years/${fy}/compliance`), req('POST', `/financial-years/${fy}/compliance`)]);
    expect([a.status, b.status].sort(), `${a.text}\n${b.text}`).toEqual([200, 201]);
    expect(a.body).toEqual(b.body);
    expect(await audit('compliance.run')).toHaveLength(1);
    const dfe = a.body.results.find((r: Json) => r.departmentCode === 'DFE');
    expect(dfe).toMatchObject({ buyOutDuePence: 200_000_000_000, buyOutPaidPence: 100_00, status: 'outstanding' });
    const proposals = (await get(w, `/credits/bilateral-trades?fy=${fy}`)).bilateralTrades;
    expect(proposals.map((x: Json) => x.status)).toEqual(['expired']);
    expect((await get(w, `/departments/DWP/position?fy=${fy}`)).bilateralOffers).toEqual([]);
    await verified();
  });
});
