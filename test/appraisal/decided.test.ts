import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appraise } from '../../src/appraisal/engine.ts';
import { decidedFloor, decidedRound, roundHalfEven } from '../../src/appraisal/rational.ts';
import type { AppraisalInput } from '../../src/appraisal/types.ts';
import { cost, deflators, fiscalLine, fy, grade, params } from './helpers.ts';
import { minus, referenceAppraisal, referenceYearRows, roundHalfEven as refRound } from './reference.ts';

/*
 * The roundings a float decides (src/appraisal/rational.ts decidedRound, decidedFloor, roundHalfEven) and the
 * engine's shortcuts built on them — the fiscal year rows summed as floats with an error bound (fiscalRowsDecided)
 * and a line's discounted yield summed in runs of years as whole numbers (runYield) — against plain bigint
 * arithmetic and the plain statement of the method (reference.ts), on values placed on and around the points
 * where a float could decide wrongly: exact half-pennies, whole pennies, and a payback year on an exact tie.
 */

function plainFloor(n: bigint, d: bigint): bigint {
  const q0 = n / d;
  return q0 * d > n ? q0 - 1n : q0;
}

function plainHalfEven(n: bigint, d: bigint): bigint {
  const f = plainFloor(n, d);
  const twice = 2n * (n - f * d);
  return twice > d || (twice === d && f % 2n !== 0n) ? f + 1n : f;
}

const bits = (b: number) => fc.bigInt({ min: 1n, max: (1n << BigInt(b)) - 1n });
// Divisors small and far beyond 2^53 (so their conversion to a float rounds).
const divisor = fc.oneof(bits(10), bits(60), bits(200));
// Quotients up to and past 2^40, where the float stops deciding.
const whole = fc.oneof(fc.bigInt({ min: -1_000_000n, max: 1_000_000n }), fc.bigInt({ min: (1n << 40n) - 3n, max: (1n << 40n) + 3n }));
// The exact value's distance from a deciding point, as a fraction of d: none, a hair either side, or anything.
const near = fc.constantFrom('on', 'just-below', 'just-above', 'any');

/** n with n / d = w + point + a hair (point 0 or ½), for the kinds in `near`. */
function numerator(d: bigint, w: bigint, half: boolean, kind: string, any: bigint): bigint {
  const at = w * 2n * d + (half ? d : 0n); // over 2d
  const hair = kind === 'just-below' ? -1n : kind === 'just-above' ? 1n : 0n;
  if (kind === 'any') return w * d + (any % d);
  // n / d = at / 2d + hair / 2d when d is odd; keep it exact by doubling d when needed (caller passes 2d).
  return at + hair;
}

describe('roundings decided from a float', () => {
  it('roundHalfEven equals plain rounding on and a hair either side of every tie and whole number', () => {
    fc.assert(
      fc.property(divisor, whole, fc.boolean(), near, fc.bigInt({ min: 0n, max: 1n << 220n }), (d0, w, half, kind, any) => {
        const d = 2n * d0; // n / d with n = 2·w·d0 + d0 (a half) ± 1
        const n = numerator(d0, w, half, kind, any);
        expect(roundHalfEven(n, d)).toBe(plainHalfEven(n, d));
        expect(roundHalfEven(-n, d)).toBe(plainHalfEven(-n, d));
      }),
      { numRuns: 3_000 },
    );
  });

  it('decidedRound and decidedFloor decide only what the float’s error bound settles, and then rightly', () => {
    fc.assert(
      fc.property(divisor, whole, fc.boolean(), near, fc.bigInt({ min: 0n, max: 1n << 220n }), (d0, w, half, kind, any) => {
        const d = 2n * d0;
        const n = numerator(d0, w, half, kind, any);
        // Number(n) / Number(d) is within a relative 3 × 2^−53 of n / d: within err = |x| × 2^−50.
        const x = Number(n) / Number(d);
        const r = decidedRound(x, Math.abs(x) * 2 ** -50);
        if (r !== null) expect(r).toBe(plainHalfEven(n, d));
        const f = decidedFloor(n, Number(d));
        if (f !== null) {
          expect(BigInt(f.floor)).toBe(plainFloor(n, d));
          expect(n - BigInt(f.floor) * d).not.toBe(0n);
          if (f.half !== 0) expect(BigInt(f.floor) + (f.half > 0 ? 1n : 0n)).toBe(plainHalfEven(n, d));
        }
        // On an exact tie nothing is decided from the float; a whole number rounds to itself, but its floor is left
        // to the exact division.
        if (kind === 'on') {
          if (half) expect(decidedRound(x, Math.abs(x) * 2 ** -50)).toBeNull();
          else if (Math.abs(x) < 2 ** 40) expect(decidedRound(x, Math.abs(x) * 2 ** -50)).toBe(w);
          if (half) expect(f?.half ?? 0).toBe(0);
          else expect(f).toBeNull();
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it('never decides from NaN, an infinity, or a quotient of 2^40 or more', () => {
    expect(decidedRound(Number.NaN, 0)).toBeNull();
    expect(decidedRound(Number.POSITIVE_INFINITY, 0)).toBeNull();
    expect(decidedRound(2 ** 40 + 0.25, 0)).toBeNull();
    expect(decidedFloor(1n << 2000n, 3)).toBeNull();
    const huge = 1n << 1100n;
    expect(roundHalfEven(huge * 7n + huge / 2n + 1n, huge)).toBe(8n);
    expect(roundHalfEven(huge * 7n + huge / 2n, huge)).toBe(8n);
    expect(roundHalfEven(huge * 6n + huge / 2n, huge)).toBe(6n);
  });
});

// Half a person engaged in year 0 (need 1 × 50 % engagement) at an odd unit value: a fiscal row of exactly n + ½
// pence, which the float sees as n + ½ give or take a rounding, so only the exact sum may round it.
const halfPennyLine = fc
  .record({ unit: fc.bigInt({ min: 0n, max: 2_000_000n }), t: fc.integer({ min: 0, max: 3 }), extra: fc.integer({ min: 0, max: 3 }) })
  .map(({ unit, t, extra }) =>
    fiscalLine({
      outcome: 'half',
      unitValuePence: 2n * unit + 1n,
      need: { [fy(t)]: 1 + 2 * extra },
      engagementBasisPoints: 5_000,
      volumes: undefined,
    }),
  );

// Whole volumes over up to ten years, small and large (so runs of years are long, short, or single years), any
// persistence, lag, drop-off and grade: the discounted yields in runs, and rows and running totals near any value.
const runLine = fc
  .record({
    volumes: fc.dictionary(
      fc.integer({ min: 0, max: 9 }).map((t) => fy(t)),
      fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1_000_000, max: 100_000_000_000 })),
      { minKeys: 1, maxKeys: 10 },
    ),
    persistenceYears: fc.integer({ min: 1, max: 6 }),
    lagYears: fc.integer({ min: 0, max: 3 }),
    dropOffBasisPoints: fc.constantFrom(0, 1_000, 2_500, 3_333, 9_999),
    unitValuePence: fc.bigInt({ min: 0n, max: 10_000_000n }),
    impactBasisPoints: fc.integer({ min: 0, max: 10_000 }),
    type: fc.constantFrom('fiscal' as const, 'economic' as const),
    confidenceGrade: grade,
    priceYear: fc.constantFrom('2026-27', '2013-14'),
  })
  .map(({ type, ...r }) => fiscalLine({ ...r, outcome: 'run', type, beneficiaryCode: type === 'fiscal' ? 'DWP' : null }));

const caseArb: fc.Arbitrary<AppraisalInput> = fc
  .record({
    halves: fc.array(halfPennyLine, { maxLength: 3 }),
    runs: fc.array(runLine, { maxLength: 4 }),
    costs: fc.array(fc.record({ t: fc.integer({ min: 0, max: 4 }), amount: fc.bigInt({ min: 0n, max: 50_000_000n }), g: grade }), {
      maxLength: 3,
    }),
    schedule: fc.constantFrom('standard' as const, 'health' as const),
  })
  .filter(({ halves, runs }) => halves.length + runs.length > 0)
  .map(({ halves, runs, costs, schedule }) => ({
    baseYear: '2026-27',
    discountSchedule: schedule,
    costs: costs.map((c) => cost(c.amount, { year: fy(c.t), confidenceGrade: c.g })),
    benefits: [...halves, ...runs].map((b, i) => ({ ...b, outcome: `${b.outcome}-${i}` })),
  }));

/** Every yearly figure, the payback year and the totals, against the plain method. */
function checkRows(input: AppraisalInput): void {
  const r = appraise(input, params, deflators);
  const base = referenceAppraisal(input, params, deflators);
  const expected = referenceYearRows(base, r.years);
  expect(
    r.years.map((y) => [y.pvCostsPence, y.pvFiscalBenefitsPence, y.cumulativePvCostsPence, y.cumulativePvFiscalBenefitsPence]),
  ).toEqual(expected.rows);
  expect(r.paybackYear).toBe(expected.payback);
  expect(r.pvBenefitsPence).toEqual({ fiscal: refRound(base.fiscal), economic: refRound(base.economic), social: refRound(base.social) });
  expect(r.fiscalNpvPence).toBe(refRound(minus(base.fiscal, base.pvCosts)));
  for (const w of r.whoBenefits) {
    const org = base.byOrg.get(w.organisationCode)!;
    expect([w.pvPence, w.cashablePvPence]).toEqual([refRound(org.pv), refRound(org.cashable)]);
  }
}

describe('fiscal rows from float sums, and yields summed in runs of years', () => {
  it('every row, running total, payback year and total equals the plain method, half-pennies included', () => {
    fc.assert(fc.property(caseArb, checkRows), { numRuns: 250 });
  });

  it('a row of exactly half a penny rounds to even, and a payback on an exact tie is that year', () => {
    const half = (unit: bigint) => fiscalLine({ unitValuePence: unit, need: { '2026-27': 1 }, engagementBasisPoints: 5_000 });
    const rows = (unit: bigint) => appraise({ baseYear: '2026-27', costs: [], benefits: [half(unit)] }, params, deflators).years[0]!;
    expect([1n, 3n, 5n, 7n].map((u) => rows(u).pvFiscalBenefitsPence)).toEqual([0n, 2n, 2n, 4n]);
    // Costs of 150p in year 0 against benefits of exactly 150p (300 half-units at 1p): payback in year 0.
    const tie: AppraisalInput = {
      baseYear: '2026-27',
      costs: [cost(150n)],
      benefits: [fiscalLine({ unitValuePence: 1n, need: { '2026-27': 300 }, engagementBasisPoints: 5_000 })],
    };
    expect(appraise(tie, params, deflators).paybackYear).toBe('2026-27');
    checkRows(tie);
    // One penny short of the tie: no payback.
    expect(appraise({ ...tie, costs: [cost(151n)] }, params, deflators).paybackYear).toBeNull();
  });

  it('a payback year decided by less than the floats can tell apart: benefits a hair under and over the costs', () => {
    // Costs of C pence in year 1 are worth C × 200/207 (1.035 = 207/200); benefits in year 0 of need / 10^4 pence
    // (1 bp engagement at 1p) just below and just above that, by less than 10^−4 of a penny in some 10^11 pence.
    for (const C of [100_000_000_003n, 123_456_789_011n, 777_777_777_777n, 1_000_000_000_001n]) {
      const scaled = (C * 200n * 10_000n) / 207n; // ⌊C × 200/207 × 10^4⌋: benefits just below the costs
      for (const need of [scaled, scaled + 1n]) {
        checkRows({
          baseYear: '2026-27',
          costs: [cost(C, { year: fy(1) })],
          benefits: [fiscalLine({ need: { '2026-27': Number(need) }, engagementBasisPoints: 1 })],
        });
      }
    }
  });

  it('yields over ten years in runs equal the plain method for volumes that make runs of every length', () => {
    // Σ volumes × 1.035-numerator^h ≤ 2^53 − 1 sets the run length: 1 for volumes near 10^11, 6 for small ones.
    for (const v of [1, 7, 130, 5_000, 1_000_000, 300_000_000, 100_000_000_000]) {
      const volumes: Record<string, number> = {};
      for (let t = 0; t < 10; t++) volumes[fy(t)] = v + t;
      for (const [p, drop, lag] of [
        [1, 0, 0],
        [3, 1_000, 2],
        [5, 0, 1],
      ] as const) {
        checkRows({
          baseYear: '2026-27',
          costs: [cost(1_000_000n)],
          benefits: [fiscalLine({ volumes, persistenceYears: p, dropOffBasisPoints: drop, lagYears: lag, unitValuePence: 12_345n })],
        });
      }
    }
  });
});
