import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appraise } from '../../src/appraisal/engine.ts';
import type { AppraisalInput, AppraisalResult, BenefitLine, ConfidenceGrade, CostLine } from '../../src/appraisal/types.ts';
import { deflators, fy, params } from './helpers.ts';

const grade = fc.integer({ min: 1, max: 6 }) as fc.Arbitrary<ConfidenceGrade>;

const costLine: fc.Arbitrary<CostLine> = fc.record({
  year: fc.integer({ min: 0, max: 12 }).map((t) => fy(t)),
  kind: fc.constantFrom('revenue' as const, 'capital' as const),
  payerCode: fc.constantFrom('MHCLG', 'DHSC'),
  amountPence: fc.bigInt({ min: 0n, max: 1_000_000_000n }),
  confidenceGrade: grade,
});

const volume = fc.oneof(
  fc.integer({ min: 0, max: 5_000 }),
  fc.integer({ min: 0, max: 40_000 }).map((n) => n / 8),
);

const benefitLine: fc.Arbitrary<Omit<BenefitLine, 'outcome'>> = fc
  .record({
    type: fc.constantFrom('fiscal' as const, 'fiscal' as const, 'economic' as const, 'social' as const),
    org: fc.constantFrom('DHSC', 'DWP', 'MOJ', 'HO', null),
    cashable: fc.boolean(),
    unitValuePence: fc.bigInt({ min: 0n, max: 5_000_000n }),
    priceYear: fc.constantFrom('2026-27', '2013-14', '2013/14', '2020-21', '1999-00', '2029-30'),
    volumes: fc.dictionary(
      fc.integer({ min: 0, max: 10 }).map((t) => fy(t)),
      volume,
      { minKeys: 1, maxKeys: 4 },
    ),
    impactBasisPoints: fc.integer({ min: 0, max: 10_000 }),
    deadweightBasisPoints: fc.integer({ min: 0, max: 10_000 }),
    persistenceYears: fc.integer({ min: 1, max: 5 }),
    confidenceGrade: grade,
  })
  .map(({ org, type, ...rest }) => ({ ...rest, type, beneficiaryCode: type === 'fiscal' ? (org ?? 'DHSC') : org }));

/** Cases with unique outcome names per line, so a line is identifiable after shuffling. */
const appraisalInput: fc.Arbitrary<AppraisalInput> = fc
  .record({
    schedule: fc.constantFrom('standard' as const, 'health' as const),
    costs: fc.array(costLine, { minLength: 0, maxLength: 6 }),
    benefits: fc.array(benefitLine, { minLength: 1, maxLength: 8 }),
  })
  .map(({ schedule, costs, benefits }) => ({
    baseYear: '2026-27',
    discountSchedule: schedule,
    costs,
    benefits: benefits.map((b, i) => ({ ...b, outcome: `outcome-${i}` })),
  }));

const run = (input: AppraisalInput) => appraise(input, params, deflators);
const abs = (x: bigint) => (x < 0n ? -x : x);

const RUNS = { numRuns: 150 };

describe('appraisal properties', () => {
  it('scaling every benefit volume by k scales each PV benefit total by k (up to the output rounding)', () => {
    fc.assert(
      fc.property(appraisalInput, fc.integer({ min: 2, max: 20 }), (input, k) => {
        const scaled = {
          ...input,
          benefits: input.benefits.map((b) => ({
            ...b,
            volumes: Object.fromEntries(Object.entries(b.volumes!).map(([y, v]) => [y, v * k])),
          })),
        };
        const base = run(input).pvBenefitsPence;
        const times = run(scaled).pvBenefitsPence;
        // round(k·x) and k·round(x) differ by at most (k + 1)/2 pence; the exact values scale exactly.
        for (const type of ['fiscal', 'economic', 'social'] as const) {
          expect(abs(2n * (times[type] - BigInt(k) * base[type]))).toBeLessThanOrEqual(BigInt(k) + 1n);
        }
      }),
      RUNS,
    );
  });

  it('NPV never falls when one benefit line’s volume or unit value grows', () => {
    fc.assert(
      fc.property(
        appraisalInput,
        fc.nat(),
        fc.boolean(),
        fc.bigInt({ min: 0n, max: 1_000_000n }),
        fc.integer({ min: 0, max: 500 }),
        (input, pick, growUnit, du, dv) => {
          const i = pick % input.benefits.length;
          const line = input.benefits[i] as BenefitLine;
          const [year, v] = Object.entries(line.volumes!)[0] as [string, number];
          const grown: BenefitLine = growUnit
            ? { ...line, unitValuePence: line.unitValuePence + du }
            : { ...line, volumes: { ...line.volumes, [year]: v + dv } };
          const before = run(input);
          const after = run({ ...input, benefits: input.benefits.map((b, j) => (j === i ? grown : b)) });
          expect(after.fiscalNpvPence).toBeGreaterThanOrEqual(before.fiscalNpvPence);
          expect(after.publicValueNpvPence).toBeGreaterThanOrEqual(before.publicValueNpvPence);
        },
      ),
      RUNS,
    );
  });

  it('results are identical for any permutation of cost and benefit lines', () => {
    fc.assert(
      fc.property(
        appraisalInput.chain((input) =>
          fc.tuple(
            fc.constant(input),
            fc.shuffledSubarray([...input.costs.keys()], { minLength: input.costs.length, maxLength: input.costs.length }),
            fc.shuffledSubarray([...input.benefits.keys()], { minLength: input.benefits.length, maxLength: input.benefits.length }),
          ),
        ),
        ([input, costOrder, benefitOrder]) => {
          const shuffled = {
            ...input,
            costs: costOrder.map((i) => input.costs[i] as CostLine),
            benefits: benefitOrder.map((i) => input.benefits[i] as BenefitLine),
          };
          const a = run(input);
          const b = run(shuffled);
          // Switching values name lines by position: map the shuffled positions back to the originals.
          const mapped = b.switchingValues.map((s) => ({
            ...s,
            input: s.input.replace(/^benefits\/(\d+)\//, (_, j: string) => `benefits/${benefitOrder[Number(j)]}/`),
          }));
          expect({ ...b, switchingValues: mapped }).toEqual(a);
        },
      ),
      RUNS,
    );
  });

  it('applying a switching value makes fiscal NPV zero within a penny', () => {
    // Inputs are whole pence, so a fractional switching value is applied by changing the money unit:
    // NPV is homogeneous of degree 1 in all money inputs, so multiplying every amount and unit value by M
    // multiplies every exact PV by M, and a switching value with d decimals becomes a whole number of units.
    const scaleMoney = (input: AppraisalInput, costFactor: bigint, benefitFactor: bigint): AppraisalInput => ({
      ...input,
      costs: input.costs.map((c) => ({ ...c, amountPence: c.amountPence * costFactor })),
      benefits: input.benefits.map((b) => ({ ...b, unitValuePence: b.unitValuePence * benefitFactor })),
    });
    const units = (s: string) => {
      const [whole, frac = ''] = s.split('.');
      return { value: BigInt(`${whole}${frac}`), scale: 10n ** BigInt(frac.length) };
    };
    let applied = 0;
    fc.assert(
      fc.property(appraisalInput, (input) => {
        const result = run(input);
        for (const sv of result.switchingValues) {
          if (sv.switchingValue === null) continue;
          const { value, scale } = units(sv.switchingValue);
          let check: AppraisalResult;
          let M: bigint;
          if (sv.input === 'costs') {
            // Every cost line × C*/C0: in units of 1/(C0·scale) pence, costs × (C*·scale) and benefits × (C0·scale).
            const c0 = BigInt(sv.baseValue);
            M = c0 * scale;
            check = run(scaleMoney(input, value, M));
          } else {
            const i = Number(/^benefits\/(\d+)\/unitValuePence$/.exec(sv.input)?.[1]);
            M = scale;
            const scaled = scaleMoney(input, M, M);
            scaled.benefits[i] = { ...(scaled.benefits[i] as BenefitLine), unitValuePence: value };
            check = run(scaled);
          }
          applied++;
          expect(abs(check.fiscalNpvPence)).toBeLessThanOrEqual(M); // |NPV| ≤ 1 penny
        }
      }),
      RUNS,
    );
    expect(applied).toBeGreaterThan(50);
  });

  it('recomputing the same input gives identical results (determinism)', () => {
    fc.assert(
      fc.property(appraisalInput, (input) => {
        const first = run(input);
        expect(run(structuredClone(input))).toEqual(first);
        expect(run(input)).toEqual(first);
      }),
      { numRuns: 50 },
    );
  });

  it('the per-year rows add up exactly to the totals they are rounded from', () => {
    fc.assert(
      fc.property(appraisalInput, (input) => {
        const r = run(input);
        const last = r.years[r.years.length - 1]!;
        expect(last.cumulativePvCostsPence).toBe(r.pvCostsPence);
        expect(last.cumulativePvFiscalBenefitsPence).toBe(r.pvBenefitsPence.fiscal);
        const whoTotal = r.whoBenefits.reduce((s, w) => s + w.pvPence, 0n);
        const total = r.pvBenefitsPence.fiscal + r.pvBenefitsPence.economic + r.pvBenefitsPence.social;
        expect(abs(2n * (whoTotal - total))).toBeLessThanOrEqual(BigInt(r.whoBenefits.length + 3));
      }),
      { numRuns: 50 },
    );
  });
});
