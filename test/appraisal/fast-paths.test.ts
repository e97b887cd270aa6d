import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appraise, parseParameterSet } from '../../src/appraisal/engine.ts';
import type { AppraisalInput, CostLine, ParameterSet, VfmBand } from '../../src/appraisal/types.ts';
import { deflators, fiscalLine, fy, grade, params, rawParameterSets } from './helpers.ts';
import { cmp, minus, q, referenceAppraisal, referenceYearRows, roundHalfEven, sum } from './reference.ts';

/*
 * The engine's shortcuts against the plain statement of the method (reference.ts), figure by figure, on cases built
 * to take each shortcut and each fallback:
 * - a drop-off line's yields summed as JavaScript numbers (small whole volumes), and as bigints when they could
 *   pass 2^53 (volumes near 10^9 with a drop-off whose fraction has denominator 10^4, or fractional volumes);
 * - one more year of lag as PV × 1/(1 + r) when one rate runs to the horizon (every year within the first 30),
 *   and year by year when the case reaches the next rate;
 * - the value-for-money band read from the BCR's 4-dp floor (edges with at most 4 decimals), and by exact
 *   cross-multiplication (a parameter set whose edge has 5 decimals).
 */

type Q = ReturnType<typeof q>;
const dec = (s: string): Q => {
  const [w, f = ''] = s.split('.');
  return q(BigInt(`${w}${f}`), 10n ** BigInt(f.length));
};
const ratio4dp = (a: Q, c: Q) => (c.n === 0n ? null : Number(roundHalfEven(q(a.n * c.d * 10_000n, a.d * c.n))) / 10_000);

/** The band whose edges contain the exact BCR all / costs, each edge inclusive or not as the parameter set says. */
function bandOf(ps: ParameterSet, all: Q, costs: Q): VfmBand | null {
  if (costs.n === 0n) return null;
  const bcr = q(all.n * costs.d, all.d * costs.n);
  for (const b of ps.vfmBands) {
    const lo = b.minBcr === null ? 1 : cmp(bcr, dec(b.minBcr));
    const hi = b.maxBcr === null ? -1 : cmp(bcr, dec(b.maxBcr));
    if ((lo > 0 || (lo === 0 && b.minInclusive)) && (hi < 0 || (hi === 0 && b.maxInclusive))) return b.band;
  }
  return null;
}

// The fixture's bands with the low/medium edge moved to 1.50005 (five decimals).
const fineParams = (() => {
  const raw = structuredClone((rawParameterSets() as Record<string, unknown>[])[0]!) as {
    vfmBands: { maxBcr: string | null; minBcr: string | null }[];
  };
  raw.vfmBands[1]!.maxBcr = '1.50005';
  raw.vfmBands[2]!.minBcr = '1.50005';
  return parseParameterSet(raw);
})();

// Small whole volumes with a short drop-off: yields as numbers.
const smallDropLine = fc
  .record({
    volumes: fc.dictionary(
      fc.integer({ min: 0, max: 9 }).map((t) => fy(t)),
      fc.integer({ min: 0, max: 1_000 }),
      { minKeys: 1, maxKeys: 6 },
    ),
    persistenceYears: fc.integer({ min: 2, max: 4 }),
    dropOffBasisPoints: fc.constantFrom(1_000, 2_000, 2_500, 5_000, 10_000),
    lagYears: fc.integer({ min: 0, max: 2 }),
    unitValuePence: fc.bigInt({ min: 1n, max: 10_000_000n }),
    priceYear: fc.constantFrom('2026-27', '2013-14', '2020-21'),
    impactBasisPoints: fc.integer({ min: 0, max: 10_000 }),
    confidenceGrade: grade,
  })
  .map((r) => fiscalLine({ ...r, outcome: 'small' }));

// Volumes near 10^9, or fractional, with a kept share coprime to 10 (so 1 − drop-off is a / 10^4): yields as bigints.
const largeDropLine = (maxYear: number, maxPersistence: number) =>
  fc
    .record({
      volumes: fc.dictionary(
        fc.integer({ min: 0, max: maxYear }).map((t) => fy(t)),
        fc.oneof(
          fc.integer({ min: 100_000_000, max: 1_000_000_000 }),
          fc.integer({ min: 1, max: 40_000 }).map((n) => n / 8),
        ),
        { minKeys: 1, maxKeys: 4 },
      ),
      persistenceYears: fc.integer({ min: 3, max: maxPersistence }),
      keep: fc.tuple(fc.integer({ min: 0, max: 999 }), fc.constantFrom(1, 3, 7, 9)).map(([k, d]) => 10 * k + d),
      lagYears: fc.integer({ min: 0, max: 3 }),
      unitValuePence: fc.bigInt({ min: 1n, max: 1_000_000_000_000n }),
      cashableBasisPoints: fc.integer({ min: 0, max: 10_000 }),
      confidenceGrade: grade,
    })
    .map(({ keep, cashableBasisPoints, ...r }) =>
      fiscalLine({
        ...r,
        outcome: 'large',
        beneficiaryCode: 'DWP',
        cashable: undefined,
        cashableBasisPoints,
        dropOffBasisPoints: 10_000 - keep,
      }),
    );

const otherLine = fc
  .record({
    type: fc.constantFrom('fiscal' as const, 'economic' as const, 'social' as const),
    volumes: fc.dictionary(
      fc.integer({ min: 0, max: 9 }).map((t) => fy(t)),
      fc.integer({ min: 0, max: 5_000 }),
      { minKeys: 1, maxKeys: 4 },
    ),
    persistenceYears: fc.integer({ min: 1, max: 5 }),
    dropOffBasisPoints: fc.integer({ min: 0, max: 10_000 }),
    lagYears: fc.integer({ min: 0, max: 2 }),
    unitValuePence: fc.bigInt({ min: 0n, max: 1_000_000n }),
    impactBasisPoints: fc.integer({ min: 0, max: 10_000 }),
    deadweightBasisPoints: fc.integer({ min: 0, max: 10_000 }),
    confidenceGrade: grade,
  })
  .map(({ type, ...r }) =>
    fiscalLine({ ...r, outcome: 'other', type, beneficiaryCode: type === 'fiscal' ? 'MOJ' : null, cashable: false }),
  );

const costLine = (maxYear: number): fc.Arbitrary<CostLine> =>
  fc.record({
    year: fc.integer({ min: 0, max: maxYear }).map((t) => fy(t)),
    kind: fc.constant('revenue' as const),
    payerCode: fc.constant('MHCLG'),
    amountPence: fc.bigInt({ min: 0n, max: 100_000_000_000n }),
    confidenceGrade: grade,
  });

// Near: every cost and benefit within year 22, so one rate runs to the horizon. Far: a cost line in years 31–60.
const caseArb: fc.Arbitrary<AppraisalInput> = fc
  .record({
    far: fc.boolean(),
    schedule: fc.constantFrom('standard' as const, 'health' as const),
    small: fc.array(smallDropLine, { minLength: 1, maxLength: 3 }),
    largeNear: largeDropLine(5, 15),
    largeFar: largeDropLine(20, 30),
    others: fc.array(otherLine, { maxLength: 4 }),
    costs: fc.array(costLine(5), { minLength: 1, maxLength: 4 }),
    farCost: costLine(60).filter((c) => Number(c.year.slice(0, 4)) - 2026 > 30),
  })
  .map(({ far, schedule, small, largeNear, largeFar, others, costs, farCost }) => ({
    baseYear: '2026-27',
    discountSchedule: schedule,
    costs: far ? [...costs, farCost] : costs,
    benefits: [...small, far ? largeFar : largeNear, ...others].map((b, i) => ({ ...b, outcome: `${b.outcome}-${i}` })),
  }));

describe('appraisal fast paths', () => {
  it('every figure equals the plain statement of the method, on cases that take each shortcut and each fallback', () => {
    fc.assert(
      fc.property(caseArb, fc.boolean(), (input, fine) => {
        const ps = fine ? fineParams : params;
        const r = appraise(input, ps, deflators);
        const ref = (o = {}) => referenceAppraisal(input, ps, deflators, o);
        const base = ref();
        const all = (x: typeof base) => sum(x.fiscal, x.economic, x.social);

        expect(r.pvCostsPence).toBe(roundHalfEven(base.pvCosts));
        expect(r.pvBenefitsPence).toEqual({
          fiscal: roundHalfEven(base.fiscal),
          economic: roundHalfEven(base.economic),
          social: roundHalfEven(base.social),
        });
        expect(r.fiscalNpvPence).toBe(roundHalfEven(minus(base.fiscal, base.pvCosts)));
        expect(r.publicValueNpvPence).toBe(roundHalfEven(minus(all(base), base.pvCosts)));
        expect(r.fiscalRoi).toBe(ratio4dp(base.fiscal, base.pvCosts));
        expect(r.bcr).toBe(ratio4dp(all(base), base.pvCosts));
        expect(r.vfmBand).toBe(bandOf(ps, all(base), base.pvCosts));

        // Year rows, cumulative rows and the payback year.
        const last = Math.max(...base.fiscalByYear.keys(), ...base.costsByYear.keys());
        expect(r.years.length).toBeGreaterThanOrEqual(last + 1);
        const expected = referenceYearRows(base, r.years);
        expect(
          r.years.map((y) => [y.pvCostsPence, y.pvFiscalBenefitsPence, y.cumulativePvCostsPence, y.cumulativePvFiscalBenefitsPence]),
        ).toEqual(expected.rows);
        expect(r.paybackYear).toBe(expected.payback);

        for (const w of r.whoBenefits) {
          const org = base.byOrg.get(w.organisationCode)!;
          expect([w.pvPence, w.cashablePvPence]).toEqual([roundHalfEven(org.pv), roundHalfEven(org.cashable)]);
        }

        const scenarios = [ref({ noOptimismBias: true }), ref({ gradeWorse: true }), ref({ impactScale: q(4n, 5n) }), ref({ extraLag: 1 })];
        expect(r.sensitivity.map((s) => [s.fiscalNpvPence, s.bcr, s.vfmBand])).toEqual(
          scenarios.map((x) => [roundHalfEven(minus(x.fiscal, x.pvCosts)), ratio4dp(all(x), x.pvCosts), bandOf(ps, all(x), x.pvCosts)]),
        );
      }),
      { numRuns: 80 },
    );
  });

  it('a BCR on a band edge falls in the band the edge is inclusive for, with 4 and with 5 decimals', () => {
    // One cost of 100,000p at year 0 (grade 1: no uplift) and one benefit in year 0 of exactly edge × 100,000p.
    const at = (ps: ParameterSet, valuePence: bigint) =>
      appraise(
        {
          baseYear: '2026-27',
          costs: [{ year: '2026-27', kind: 'revenue', payerCode: 'MHCLG', amountPence: 100_000n, confidenceGrade: 1 }],
          benefits: [fiscalLine({ unitValuePence: valuePence, volumes: { '2026-27': 1 } })],
        },
        ps,
        deflators,
      );
    const grade1 = params.confidenceGrades.find((g) => g.grade === 1)!;
    expect([grade1.costUpliftBasisPoints, grade1.benefitHaircutBasisPoints]).toEqual([0, 0]);
    expect([at(params, 149_999n).vfmBand, at(params, 150_000n).vfmBand, at(params, 150_001n).vfmBand]).toEqual(['low', 'medium', 'medium']);
    expect([at(params, 99_999n).vfmBand, at(params, 100_000n).vfmBand]).toEqual(['poor', 'low']);
    expect([at(fineParams, 150_004n).vfmBand, at(fineParams, 150_005n).vfmBand]).toEqual(['low', 'medium']);
    expect([at(fineParams, 150_004n).bcr, at(fineParams, 150_005n).bcr]).toEqual([1.5, 1.5]);
  });
});
