import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appraise } from '../../src/appraisal/engine.ts';
import {
  addMul,
  addProduct,
  bigintOf,
  cmp,
  divRound,
  LimbOverflow,
  limbsOf,
  limbsOfNumber,
  MAX_FACTOR,
  MAX_LIMBS,
  scale,
  sub,
} from '../../src/appraisal/limbs.ts';
import type { AppraisalInput, BenefitLine, ConfidenceGrade } from '../../src/appraisal/types.ts';
import { benefit, cost, deflators, fy, params } from './helpers.ts';
import { minus, q, referenceAppraisal, roundHalfEven, sum } from './reference.ts';

/*
 * The limb fast path (src/appraisal/limbs.ts, used by the engine's year rows and per-line yields) against bigints and
 * against the plain statement of the method, on values at and around every bound it checks: factors just below
 * 2^28, quotients near 2^50, values filling the widest array, and cases whose yields sum to just below and just above
 * 2^28, whose unit values straddle 2^53 − 1, and whose horizon makes the common denominator too wide for limbs
 * (so the bigint fallback runs).
 */

const WIDTH = 20;
const big = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
const nearMax = (bits: number) =>
  fc.oneof(
    big(bits),
    fc.bigInt({ min: 0n, max: 1000n }).map((d) => (1n << BigInt(bits)) - 1n - d),
  );
const factor = fc.oneof(fc.integer({ min: 0, max: MAX_FACTOR - 1 }), fc.integer({ min: MAX_FACTOR - 1000, max: MAX_FACTOR - 1 }));

function halfEven(n: bigint, d: bigint): bigint {
  let f = n / d;
  const r = n - f * d;
  if (r * 2n > d || (r * 2n === d && f % 2n !== 0n)) f += 1n;
  return f;
}

describe('limb arithmetic equals bigint arithmetic', () => {
  it('converts, multiplies, adds, subtracts and compares exactly, up to the bounds', () => {
    fc.assert(
      fc.property(nearMax(24 * (WIDTH - 5)), nearMax(24 * 8), factor, fc.integer({ min: 0, max: 2 }), (a, b, f, off) => {
        const A = limbsOf(a, WIDTH);
        expect(bigintOf(A)).toBe(a);
        const acc = limbsOf(b, WIDTH);
        addMul(acc, A, f, off);
        expect(bigintOf(acc)).toBe(b + a * BigInt(f) * (1n << BigInt(24 * off)));
        const s = A.slice();
        scale(s, Math.min(f, 255));
        expect(bigintOf(s)).toBe(a * BigInt(Math.min(f, 255)));
        const p = limbsOf(0n, WIDTH + 9);
        addProduct(p, A, limbsOf(b, 9));
        expect(bigintOf(p)).toBe(a * b);
        expect(cmp(A, limbsOf(b, WIDTH))).toBe(a < b ? -1 : a > b ? 1 : 0);
        const [hi, lo] = a >= b ? [a, b] : [b, a];
        const d = limbsOf(hi, WIDTH);
        sub(d, limbsOf(lo, WIDTH));
        expect(bigintOf(d)).toBe(hi - lo);
      }),
      { numRuns: 400 },
    );
  });

  it('divRound rounds half-even exactly, ties included, with quotients up to 2^49', () => {
    const divisor = fc.oneof(big(30), big(24 * 12), nearMax(24 * 30)).filter((d) => d > 0n);
    fc.assert(
      fc.property(divisor, fc.oneof(big(49), nearMax(49), big(20)), fc.constantFrom('any', 'tie', 'zero'), (d, quotient, kind) => {
        const rest = kind === 'zero' ? 0n : kind === 'tie' && d % 2n === 0n ? d / 2n : (quotient * 7919n) % d;
        const n = quotient * d + rest;
        const width = Math.ceil((Math.max(n.toString(2).length, d.toString(2).length) + 1) / 24) + 1;
        expect(BigInt(divRound(limbsOf(n, width), limbsOf(d, width)))).toBe(halfEven(n, d));
      }),
      { numRuns: 400 },
    );
  });

  it('refuses what it cannot hold: a value wider than its array, a quotient of 2^50 or more', () => {
    expect(() => limbsOf(1n << 48n, 2)).toThrow(LimbOverflow);
    expect(() => limbsOfNumber(2 ** 48, 2)).toThrow(LimbOverflow);
    const acc = limbsOf((1n << 48n) - 1n, 2);
    expect(() => addMul(acc, limbsOf(1n, 2), 1)).toThrow(LimbOverflow);
    expect(() => divRound(limbsOf(1n << 50n, 4), limbsOf(1n, 4))).toThrow(LimbOverflow);
    expect(() => divRound(limbsOf(1n, MAX_LIMBS + 1), limbsOf(1n, 1))).toThrow(LimbOverflow);
  });
});

// Cases built around the engine's bounds: yields just below or above 2^28, unit values around 2^53 − 1,
// costs from pence to 10^15 pounds, and horizons out to year 60 (whose common denominator is too wide for limbs).
const TWO28 = 2 ** 28;
const grade = fc.integer({ min: 1, max: 6 }) as fc.Arbitrary<ConfidenceGrade>;
const boundLine = (maxYear: number) =>
  fc
    .record({
      years: fc.uniqueArray(fc.integer({ min: 0, max: maxYear }), { minLength: 1, maxLength: 4 }),
      // Σ volumes × b^(p−1) near 2^28: drop-off 10% keeps 9/10, so b^(p−1) = 10^(p−1).
      target: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: TWO28 - 2_000, max: TWO28 + 2_000 })),
      // Long persistence and lag with year-60 cohorts reach year 99, too wide for limbs.
      persistenceYears: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 25, max: 30 })),
      dropOff: fc.constantFrom(0, 1_000),
      lagYears: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(10)),
      unitValuePence: fc.oneof(
        fc.bigInt({ min: 1n, max: 10_000_000n }),
        fc.bigInt({ min: BigInt(Number.MAX_SAFE_INTEGER) - 3n, max: BigInt(Number.MAX_SAFE_INTEGER) + 3n }),
      ),
      impactBasisPoints: fc.integer({ min: 0, max: 10_000 }),
      deadweightBasisPoints: fc.integer({ min: 0, max: 10_000 }),
      priceYear: fc.constantFrom('2026-27', '2013-14', '2020-21'),
      cashableBasisPoints: fc.integer({ min: 0, max: 10_000 }),
      confidenceGrade: grade,
    })
    .map(({ years, target, persistenceYears, dropOff, cashableBasisPoints, ...r }): BenefitLine => {
      const coef = dropOff === 0 || persistenceYears === 1 ? 1 : 10 ** (persistenceYears - 1);
      const each = Math.max(0, Math.floor(target / coef / years.length));
      const volumes = Object.fromEntries(years.map((t, i) => [fy(t), i === 0 ? each + (Math.floor(target / coef) % years.length) : each]));
      return benefit(r.unitValuePence, {
        ...r,
        volumes,
        persistenceYears,
        dropOffBasisPoints: dropOff,
        cashable: undefined,
        cashableBasisPoints,
        outcome: 'bound',
        beneficiaryCode: 'DWP',
      });
    });

const boundCase: fc.Arbitrary<AppraisalInput> = fc
  .record({
    maxYear: fc.constantFrom(5, 60),
    lines: fc.integer({ min: 1, max: 3 }),
    seed: fc.array(boundLine(60), { minLength: 3, maxLength: 3 }),
    amounts: fc.array(
      fc.record({
        t: fc.integer({ min: 0, max: 60 }),
        amountPence: fc.oneof(fc.bigInt({ min: 0n, max: 10_000_000n }), fc.bigInt({ min: 0n, max: 10n ** 17n })),
        confidenceGrade: grade,
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ maxYear, lines, seed, amounts }) => ({
    baseYear: '2026-27',
    costs: amounts.map((a) => cost(a.amountPence, { year: fy(Math.min(a.t, maxYear)), confidenceGrade: a.confidenceGrade })),
    benefits: seed.slice(0, lines).map((b, i) => ({
      ...b,
      outcome: `bound-${i}`,
      volumes: Object.fromEntries(
        Object.entries(b.volumes ?? {}).map(([y, v]) => [fy(Math.min(Number(y.slice(0, 4)) - 2026, maxYear)), v]),
      ),
    })),
  }));

describe('the engine with and without limbs', () => {
  it('gives the plain method’s figures on both sides of every bound', () => {
    fc.assert(
      fc.property(boundCase, (input) => {
        const r = appraise(input, params, deflators);
        const base = referenceAppraisal(input, params, deflators);
        expect(r.pvCostsPence).toBe(roundHalfEven(base.pvCosts));
        expect(r.pvBenefitsPence.fiscal).toBe(roundHalfEven(base.fiscal));
        expect(r.fiscalNpvPence).toBe(roundHalfEven(minus(base.fiscal, base.pvCosts)));
        let cumCosts = q(0n);
        let cumFiscal = q(0n);
        let payback: string | null = null;
        for (const y of r.years) {
          const c = base.costsByYear.get(y.index) ?? q(0n);
          const f = base.fiscalByYear.get(y.index) ?? q(0n);
          cumCosts = sum(cumCosts, c);
          cumFiscal = sum(cumFiscal, f);
          const gap = minus(cumFiscal, cumCosts);
          if (payback === null && cumCosts.n > 0n && gap.n >= 0n) payback = y.year;
          expect([y.pvCostsPence, y.pvFiscalBenefitsPence, y.cumulativePvCostsPence, y.cumulativePvFiscalBenefitsPence]).toEqual([
            roundHalfEven(c),
            roundHalfEven(f),
            roundHalfEven(cumCosts),
            roundHalfEven(cumFiscal),
          ]);
        }
        expect(r.paybackYear).toBe(payback);
        const lag = referenceAppraisal(input, params, deflators, { extraLag: 1 });
        expect(r.sensitivity[3]!.fiscalNpvPence).toBe(roundHalfEven(minus(lag.fiscal, lag.pvCosts)));
      }),
      { numRuns: 100 },
    );
  });
});
