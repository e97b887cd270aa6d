import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appraise } from '../../src/appraisal/engine.ts';
import { floorDiv, roundHalfEven } from '../../src/appraisal/rational.ts';
import type { AppraisalInput, ConfidenceGrade } from '../../src/appraisal/types.ts';
import { benefit, cost, deflators, fy, params } from './helpers.ts';
import { minus, referenceAppraisal, roundHalfEven as refRound } from './reference.ts';

/*
 * The guessed-quotient division (floorDiv in src/appraisal/rational.ts, behind every rounding the engine does)
 * against plain bigint division: quotients of every size up to and across the 2^50 bound where the guess gives way
 * to bigint division, exact ties, negative numerators, divisors from 1 to far beyond a float's range; then whole
 * appraisals whose figures run from pence to beyond 2^50 pence, against the plain statement of the method.
 */

const TWO50 = 1n << 50n;

function plainFloor(n: bigint, d: bigint): { q: bigint; r: bigint } {
  let q = n / d;
  let r = n - q * d;
  if (r < 0n) {
    r += d;
    q -= 1n;
  }
  return { q, r };
}

function plainHalfEven(n: bigint, d: bigint): bigint {
  const { q, r } = plainFloor(n, d);
  return r * 2n > d || (r * 2n === d && q % 2n !== 0n) ? q + 1n : q;
}

const bits = (b: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(b)) - 1n });
const divisor = fc.oneof(bits(8), bits(64), bits(230), bits(1100)).map((d) => d + 1n);
// Quotients: small, near 2^50 from either side, and far above it.
const quotient = fc.oneof(
  bits(40),
  fc.bigInt({ min: TWO50 - 5n, max: TWO50 + 5n }),
  fc.bigInt({ min: (1n << 53n) - 5n, max: (1n << 53n) + 5n }),
  bits(200),
);

describe('the guessed-quotient division', () => {
  it('equals plain bigint division and rounding, for every size of quotient, ties and signs', () => {
    fc.assert(
      fc.property(divisor, quotient, fc.constantFrom('any', 'tie', 'exact', 'below'), fc.boolean(), (d, q, kind, negative) => {
        const rest = kind === 'exact' ? 0n : kind === 'tie' && d % 2n === 0n ? d / 2n : kind === 'below' ? d - 1n : (q * 7919n + 13n) % d;
        const n = (negative ? -1n : 1n) * (q * d + rest);
        expect(floorDiv(n, d)).toEqual(plainFloor(n, d));
        expect(roundHalfEven(n, d)).toBe(plainHalfEven(n, d));
      }),
      { numRuns: 2_000 },
    );
  });

  it('divides values beyond a float’s range (both Infinity as floats) by bigint division', () => {
    const d = (1n << 1100n) + 12345n;
    for (const q of [0n, 1n, 7n, TWO50 - 1n, TWO50, TWO50 + 1n]) {
      const n = q * d + d / 2n;
      expect(floorDiv(n, d)).toEqual(plainFloor(n, d));
      expect(roundHalfEven(n, d)).toBe(plainHalfEven(n, d));
      expect(roundHalfEven(-n, d)).toBe(plainHalfEven(-n, d));
    }
  });
});

// Cases from pence to beyond 2^50 pence (about £11 trillion), so rows, totals and NPV round on both paths.
const grade = fc.integer({ min: 1, max: 6 }) as fc.Arbitrary<ConfidenceGrade>;
const hugeCase: fc.Arbitrary<AppraisalInput> = fc
  .record({
    costs: fc.array(
      fc.record({
        t: fc.integer({ min: 0, max: 5 }),
        amountPence: fc.oneof(fc.bigInt({ min: 0n, max: 1_000n }), fc.bigInt({ min: TWO50 / 2n, max: TWO50 * 4n })),
        confidenceGrade: grade,
      }),
      { minLength: 1, maxLength: 3 },
    ),
    benefits: fc.array(
      fc.record({
        t: fc.integer({ min: 0, max: 5 }),
        volume: fc.integer({ min: 1, max: 1_000 }),
        unitValuePence: fc.oneof(fc.bigInt({ min: 1n, max: 1_000n }), fc.bigInt({ min: TWO50 / 1_000n, max: TWO50 * 4n })),
        persistenceYears: fc.integer({ min: 1, max: 4 }),
        dropOffBasisPoints: fc.integer({ min: 0, max: 10_000 }),
        lagYears: fc.integer({ min: 0, max: 2 }),
        confidenceGrade: grade,
        priceYear: fc.constantFrom('2026-27', '2013-14'),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ costs, benefits }) => ({
    baseYear: '2026-27',
    costs: costs.map((c) => cost(c.amountPence, { year: fy(c.t), confidenceGrade: c.confidenceGrade })),
    benefits: benefits.map(({ t, volume, unitValuePence, ...b }, i) =>
      benefit(unitValuePence, { ...b, outcome: `huge-${i}`, volumes: { [fy(t)]: volume } }),
    ),
  }));

describe('appraisals from pence to beyond 2^50 pence', () => {
  it('round every total, row and NPV as the plain method does', () => {
    fc.assert(
      fc.property(hugeCase, (input) => {
        const r = appraise(input, params, deflators);
        const base = referenceAppraisal(input, params, deflators);
        expect(r.pvCostsPence).toBe(refRound(base.pvCosts));
        expect(r.pvBenefitsPence.fiscal).toBe(refRound(base.fiscal));
        expect(r.fiscalNpvPence).toBe(refRound(minus(base.fiscal, base.pvCosts)));
        for (const y of r.years) {
          expect(y.pvFiscalBenefitsPence).toBe(refRound(base.fiscalByYear.get(y.index) ?? { n: 0n, d: 1n }));
          expect(y.pvCostsPence).toBe(refRound(base.costsByYear.get(y.index) ?? { n: 0n, d: 1n }));
        }
        for (const w of r.whoBenefits) {
          const org = base.byOrg.get(w.organisationCode)!;
          expect([w.pvPence, w.cashablePvPence]).toEqual([refRound(org.pv), refRound(org.cashable)]);
        }
      }),
      { numRuns: 150 },
    );
  });
});
