import { simpleCase } from './cases.ts';
import type { EngineName } from './db.ts';
import { approvedCase, type World, world } from './releases.ts';

/*
 * A year with verified savings to close: one approved Bradford case whose benefit lines land in
 * DHSC (through the West Yorkshire ICB), DWP and MoJ, reported and verified for 2026-27 at chosen
 * amounts, plus HO set up with a small budget and no savings. Targets (test/support/app.ts):
 * DHSC £5,000,000, DWP £3,000,000, MoJ £1,000,000; HO £1,000 on a £100 budget.
 *
 *   DHSC  verified cashable £5,000,123.45 → 123 credits (89p... 45p over is not a credit)
 *   DWP   verified cashable £2,999,000.00 → owes 1,000 credits; plus £500,000 not cashable
 *   MOJ   verified cashable £999,999.99   → owes 1 credit (1p short rounds up)
 *   HO    nothing verified                → owes 1,000 credits, can pay only £100 of a buy-out
 * One more DHSC report is left pending at close.
 */

const line = (over: Record<string, unknown>) => ({
  type: 'fiscal',
  cashable: true,
  unitValuePence: 100_00,
  priceYear: '2026-27',
  source: 'Local tariff, stated at 2026-27 prices',
  impactBasisPoints: 10_000,
  deadweightBasisPoints: 0,
  persistenceYears: 1,
  confidenceGrade: 1,
  volumes: { '2026-27': 20_000 },
  ...over,
});

export interface CreditsWorld extends World {
  caseId: string;
  reports: { dhsc: string; dwp: string; dwpOther: string; moj: string; pending: string };
}

export async function creditsWorld(engine: EngineName): Promise<CreditsWorld> {
  const w = await world(engine);
  const ho = await w.t.request('PUT', '/api/v1/financial-years/2026-27/departments/HO', {
    body: { baselinePence: 100_00, topSliceBasisPoints: 0, savingsTargetPence: 1_000_00 },
  });
  if (ho.status !== 201) throw new Error(`HO: ${ho.status} ${ho.text}`);
  const body = {
    ...simpleCase(w.roundId, { title: 'Bradford savings for credits' }),
    benefits: [
      line({ outcome: 'A&E attendances avoided', beneficiaryCode: 'WEST-YORKSHIRE-ICB' }),
      line({ outcome: 'Benefit claims avoided', beneficiaryCode: 'DWP' }),
      line({ outcome: 'Claimant support time', beneficiaryCode: 'DWP', cashable: false }),
      line({ outcome: 'Custody nights avoided', beneficiaryCode: 'MOJ' }),
      line({ outcome: 'Ambulance call-outs avoided', beneficiaryCode: 'WEST-YORKSHIRE-ICB' }),
    ],
  };
  const caseId = await approvedCase(w, { body });
  const report = async (benefitLineIndex: number, claimedPence: number, verifier?: string) => {
    const r = await w.t.request('POST', `/api/v1/cases/${caseId}/benefit-reports`, {
      token: w.tokens.bradford,
      body: { benefitLineIndex, year: '2026-27', claimedPence, evidence: 'Finance system extract, signed by the s151 officer.' },
    });
    if (r.status !== 201) throw new Error(`report: ${r.status} ${r.text}`);
    if (verifier) {
      const v = await w.t.request('POST', `/api/v1/benefit-reports/${r.body.id}/verify`, { token: verifier, body: {} });
      if (v.status !== 200) throw new Error(`verify: ${v.status} ${v.text}`);
    }
    return r.body.id as string;
  };
  const reports = {
    dhsc: await report(0, 5_000_123_45, w.tokens.dhsc),
    dwp: await report(1, 2_999_000_00, w.tokens.dwp),
    dwpOther: await report(2, 500_000_00, w.tokens.dwp),
    moj: await report(3, 999_999_99, w.tokens.moj),
    pending: await report(4, 1_000_00),
  };
  return { ...w, caseId, reports };
}
