import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppraisalInputError, appraise, MAX_LAG_YEARS, MAX_PERSISTENCE_YEARS } from '../../src/appraisal/engine.ts';
import type { AppraisalInput, AppraisalResult, BenefitLine, CostLine } from '../../src/appraisal/types.ts';
import { appraisalInput, basisPoints, caseOf, deflators, grade, params, priceYear, year } from './helpers.ts';
import { minus, q, referenceAppraisal, roundHalfEven, sum } from './reference.ts';

/** A line's cohort map, whichever it uses. */
const cohortOf = (b: BenefitLine): Record<string, number> => (b.need ?? b.volumes)!;
const withCohort = (b: BenefitLine, m: Record<string, number>): BenefitLine => (b.need ? { ...b, need: m } : { ...b, volumes: m });

const run = (input: AppraisalInput) => appraise(input, params, deflators);
const abs = (x: bigint) => (x < 0n ? -x : x);

const RUNS = { numRuns: 150 };

describe('appraisal properties', () => {
  it('scaling every benefit volume by k scales each PV benefit total by k (up to the output rounding)', () => {
    fc.assert(
      fc.property(appraisalInput, fc.integer({ min: 2, max: 20 }), (input, k) => {
        const scaled = {
          ...input,
          benefits: input.benefits.map((b) => withCohort(b, Object.fromEntries(Object.entries(cohortOf(b)).map(([y, v]) => [y, v * k])))),
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
          const [year, v] = Object.entries(cohortOf(line))[0] as [string, number];
          const grown: BenefitLine = growUnit
            ? { ...line, unitValuePence: line.unitValuePence + du }
            : withCohort(line, { ...cohortOf(line), [year]: v + dv });
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

  it('agrees exactly with a plain year-by-year statement of the method, sensitivity included', () => {
    fc.assert(
      fc.property(caseOf(4, 5), (input) => {
        const r = run(input);
        const ref = (o = {}) => referenceAppraisal(input, params, deflators, o);
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
        for (const y of r.years) expect(y.pvFiscalBenefitsPence).toBe(roundHalfEven(base.fiscalByYear.get(y.index) ?? q(0n)));
        for (const w of r.whoBenefits) {
          const org = base.byOrg.get(w.organisationCode)!;
          expect([w.pvPence, w.cashablePvPence]).toEqual([roundHalfEven(org.pv), roundHalfEven(org.cashable)]);
        }
        const scenarios = [ref({ noOptimismBias: true }), ref({ gradeWorse: true }), ref({ impactScale: q(4n, 5n) }), ref({ extraLag: 1 })];
        expect(r.sensitivity.map((s) => s.fiscalNpvPence)).toEqual(scenarios.map((x) => roundHalfEven(minus(x.fiscal, x.pvCosts))));
        expect(r.sensitivity.map((s) => s.bcr)).toEqual(
          scenarios.map((x) =>
            x.pvCosts.n === 0n ? null : Number(roundHalfEven(q(all(x).n * x.pvCosts.d * 10_000n, all(x).d * x.pvCosts.n))) / 10_000,
          ),
        );
      }),
      { numRuns: 60 },
    );
  });

  it("lines without drop-off and lag (today's inputs) appraise to the penny as lines stating 0 for both, and as the method", () => {
    fc.assert(
      fc.property(appraisalInput, (input) => {
        const today = {
          ...input,
          benefits: input.benefits.map(({ lagYears: _l, dropOffBasisPoints: _d, ...b }) => b),
        };
        const zeros = { ...today, benefits: today.benefits.map((b) => ({ ...b, lagYears: 0, dropOffBasisPoints: 0 })) };
        const r = run(today);
        expect(run(zeros)).toEqual(r);
        const ref = referenceAppraisal(today, params, deflators);
        expect(r.pvBenefitsPence.fiscal).toBe(roundHalfEven(ref.fiscal));
        expect(r.fiscalNpvPence).toBe(roundHalfEven(minus(ref.fiscal, ref.pvCosts)));
      }),
      RUNS,
    );
  });

  it('the common denominator is free: a line worth nothing, with its own price year, engagement, drop-off and horizon, changes no figure', () => {
    const worthless = fc.record({
      priceYear: fc.constantFrom('2000-01', '2013-14', '2013/14', '2020-21', '2026-27'),
      cohort: fc.oneof(
        year.map((y) => ({ volumes: { [y]: 0 } })),
        fc.record({ need: year.map((y) => ({ [y]: 0 })), engagementBasisPoints: basisPoints }),
        year.map((y) => ({ need: { [y]: 5 }, engagementBasisPoints: 0 })),
      ),
      lagYears: fc.integer({ min: 0, max: MAX_LAG_YEARS }),
      dropOffBasisPoints: basisPoints,
      persistenceYears: fc.integer({ min: 1, max: MAX_PERSISTENCE_YEARS }),
      confidenceGrade: grade,
    });
    fc.assert(
      fc.property(appraisalInput, worthless, (input, { cohort, ...w }) => {
        const r = run(input);
        const extra: BenefitLine = {
          outcome: 'worth nothing',
          beneficiaryCode: null,
          type: 'economic',
          cashable: false,
          unitValuePence: 123_456n,
          impactBasisPoints: 5_000,
          deadweightBasisPoints: 1_234,
          ...cohort,
          ...w,
        };
        const x = run({ ...input, benefits: [...input.benefits, extra] });
        const { years, whoBenefits, warnings: _w, ...figures } = r;
        const { years: xYears, whoBenefits: xWho, warnings: _xw, ...xFigures } = x;
        expect(xFigures).toEqual(figures);
        expect(xYears.slice(0, years.length)).toEqual(years);
        const last = years[years.length - 1]!;
        for (const y of xYears.slice(years.length)) {
          expect([y.pvCostsPence, y.pvFiscalBenefitsPence]).toEqual([0n, 0n]);
          expect([y.cumulativePvCostsPence, y.cumulativePvFiscalBenefitsPence]).toEqual([
            last.cumulativePvCostsPence,
            last.cumulativePvFiscalBenefitsPence,
          ]);
        }
        expect(xWho.filter((o) => o.organisationCode !== null || whoBenefits.some((b) => b.organisationCode === null))).toEqual(
          whoBenefits,
        );
      }),
      { numRuns: 100 },
    );
  });

  it('PV of benefits rises with impact and falls with deadweight and with drop-off', () => {
    fc.assert(
      fc.property(appraisalInput, fc.nat(), basisPoints, basisPoints, (input, pick, a, b) => {
        const i = pick % input.benefits.length;
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const pv = (over: Partial<BenefitLine>) => {
          const r = run({ ...input, benefits: input.benefits.map((l, j) => (j === i ? { ...l, ...over } : l)) });
          return r.pvBenefitsPence.fiscal + r.pvBenefitsPence.economic + r.pvBenefitsPence.social;
        };
        expect(pv({ impactBasisPoints: hi })).toBeGreaterThanOrEqual(pv({ impactBasisPoints: lo }));
        expect(pv({ deadweightBasisPoints: hi })).toBeLessThanOrEqual(pv({ deadweightBasisPoints: lo }));
        expect(pv({ dropOffBasisPoints: hi })).toBeLessThanOrEqual(pv({ dropOffBasisPoints: lo }));
      }),
      { numRuns: 80 },
    );
  });

  it('never fails on anything the API accepts: up to 200 lines, many price years, the longest horizons', () => {
    const wide = fc
      .record({ input: caseOf(200, 120), extra: fc.array(priceYear, { minLength: 0, maxLength: 80 }) })
      .map(({ input, extra }) => ({
        ...input,
        // One line per extra price year, so a case can carry dozens of distinct price years.
        benefits: [
          ...input.benefits,
          ...extra.map((py, k) => ({ ...(input.benefits[0] as BenefitLine), outcome: `price-${k}`, priceYear: py })),
        ],
      }));
    fc.assert(
      fc.property(wide, (input) => {
        let r: AppraisalResult;
        try {
          r = run(input);
        } catch (e) {
          expect(e).not.toBeInstanceOf(AppraisalInputError);
          throw e;
        }
        const numbers: number[] = [];
        JSON.stringify(r, (_k, v) => {
          if (typeof v === 'number') numbers.push(v);
          return typeof v === 'bigint' ? v.toString() : v;
        });
        expect(numbers.every(Number.isFinite)).toBe(true);
        for (const s of r.switchingValues) if (s.switchingValue !== null) expect(s.switchingValue).toMatch(/^-?\d+\.\d{2,}$/);
      }),
      { numRuns: 15 },
    );
  });
});
