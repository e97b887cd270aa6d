import { describe, expect, it } from 'vitest';
import { appraise, benefitSchedule } from '../../src/appraisal/engine.ts';
import type { AppraisalInput, DeflatorTable } from '../../src/appraisal/types.ts';
import { benefit, cost, deflators, fy, params } from './helpers.ts';

// Each `G…` block is worked by hand, step by step, in test/appraisal/golden.md.

const run = (input: Partial<AppraisalInput>, table: DeflatorTable | null = deflators) =>
  appraise({ baseYear: '2026-27', costs: [], benefits: [], ...input }, params, table);

const PROVISIONAL =
  'Parameter set local-partnerships-cba 2014.1 is provisional: some of its values could not be verified against their published source, so this appraisal is indicative.';

describe('G1 discounting across the year-30/31 change of rate', () => {
  it('discounts year 30 at 3.5% throughout and year 31 with one step at 3.0%', () => {
    const y30 = run({ costs: [cost(100_000_000n, { year: fy(30) })] });
    const y31 = run({ costs: [cost(100_000_000n, { year: fy(31) })] });
    expect(fy(30)).toBe('2056-57');
    expect(y30.pvCostsPence).toBe(35_627_841n);
    expect(y31.pvCostsPence).toBe(34_590_137n);
    expect(y31.years[30]?.discountFactor).toBe('0.3562784106');
    expect(y31.years[31]?.discountFactor).toBe('0.3459013695');
    expect(y31.years[31]).toMatchObject({ year: '2057-58', index: 31, pvCostsPence: 34_590_137n });
    const both = run({ costs: [cost(100_000_000n, { year: fy(31) }), cost(100_000_000n, { year: fy(30) })] });
    expect(both.pvCostsPence).toBe(70_217_978n);
    expect(both.years).toHaveLength(32);
    expect(both.years[0]?.discountFactor).toBe('1.0000000000');
  });
});

describe('G2 optimism bias by grade', () => {
  const result = run({
    costs: [cost(100_000n), cost(100_000n, { confidenceGrade: 3 }), cost(100_000n, { confidenceGrade: 6 })],
    benefits: [
      benefit(100_000n, { outcome: 'g1' }),
      benefit(100_000n, { outcome: 'g3', confidenceGrade: 3 }),
      benefit(100_000n, { outcome: 'g6', confidenceGrade: 6 }),
    ],
  });

  it('uplifts costs and cuts benefits by the grade percentage', () => {
    expect(result.pvCostsPence).toBe(350_000n);
    expect(result.pvBenefitsPence).toEqual({ fiscal: 250_000n, economic: 0n, social: 0n });
    expect(result.fiscalNpvPence).toBe(-100_000n);
    expect(result.publicValueNpvPence).toBe(-100_000n);
    expect(result.fiscalRoi).toBe(0.7143);
    expect(result.bcr).toBe(0.7143);
    expect(result.vfmBand).toBe('poor');
    expect(result.paybackYear).toBeNull();
    expect(result.whoBenefits).toEqual([{ organisationCode: 'DHSC', pvPence: 250_000n, cashablePvPence: 250_000n }]);
  });

  it('reports the costs switching value on the costs as entered', () => {
    expect(result.switchingValues[0]).toEqual({
      input: 'costs',
      label: expect.any(String),
      baseValue: 300_000,
      switchingValue: '214285.7143',
      changeBasisPoints: -2857,
    });
  });

  it('rounds half-even, once, at the output', () => {
    expect(run({ costs: [cost(5n, { confidenceGrade: 3 })] }).pvCostsPence).toBe(6n);
    expect(run({ costs: [cost(15n, { confidenceGrade: 3 })] }).pvCostsPence).toBe(16n);
    expect(run({ costs: [cost(25n, { confidenceGrade: 2 })] }).pvCostsPence).toBe(26n);
  });
});

describe('G3 deadweight', () => {
  const line = { volumes: { '2026-27': 200 }, impactBasisPoints: 5_000, confidenceGrade: 2 as const };
  it('removes the share that would have happened anyway', () => {
    expect(run({ benefits: [benefit(30_000n, { ...line, deadweightBasisPoints: 2_500 })] }).pvBenefitsPence.fiscal).toBe(2_137_500n);
    expect(run({ benefits: [benefit(30_000n, { ...line, deadweightBasisPoints: 0 })] }).pvBenefitsPence.fiscal).toBe(2_850_000n);
    expect(run({ benefits: [benefit(30_000n, { ...line, deadweightBasisPoints: 10_000 })] }).pvBenefitsPence.fiscal).toBe(0n);
  });
});

describe('G4 persistence', () => {
  it('a cohort engaged in one year yields for persistenceYears years', () => {
    const result = run({ benefits: [benefit(10_000n, { volumes: { '2027-28': 10 }, persistenceYears: 3 })] });
    expect(result.pvBenefitsPence.fiscal).toBe(280_164n);
    expect(result.years.map((y) => y.pvFiscalBenefitsPence)).toEqual([0n, 96_618n, 93_351n, 90_194n]);
    expect(result.years.map((y) => y.cumulativePvFiscalBenefitsPence)).toEqual([0n, 96_618n, 189_969n, 280_164n]);
    expect(result.years.map((y) => y.discountFactor)).toEqual(['1.0000000000', '0.9661835749', '0.9335107004', '0.9019427057']);
  });
});

describe('G5 payback year', () => {
  const fiscal = benefit(1_000n, { volumes: { '2026-27': 400 }, persistenceYears: 5 });
  it('is the first year cumulative discounted fiscal benefits reach cumulative discounted costs', () => {
    const result = run({ costs: [cost(1_000_000n)], benefits: [fiscal] });
    expect(result.paybackYear).toBe('2028-29');
    expect(result.years.map((y) => y.cumulativePvFiscalBenefitsPence)).toEqual([400_000n, 786_473n, 1_159_878n, 1_520_655n, 1_869_232n]);
  });
  it('counts equality as paid back', () => {
    expect(run({ costs: [cost(400_000n)], benefits: [fiscal] }).paybackYear).toBe('2026-27');
  });
  it('is null when never reached, or when there are no costs', () => {
    expect(run({ costs: [cost(10_000_000n)], benefits: [fiscal] }).paybackYear).toBeNull();
    const noCosts = run({ benefits: [fiscal] });
    expect(noCosts.paybackYear).toBeNull();
    expect(noCosts.fiscalRoi).toBeNull();
    expect(noCosts.bcr).toBeNull();
    expect(noCosts.vfmBand).toBeNull();
    expect(noCosts.warnings).toContain(
      'The present value of costs is zero, so fiscal ROI, BCR and the value-for-money band are not defined.',
    );
  });
});

describe('G6 who benefits', () => {
  it('sums PV by beneficiary organisation with the cashable part, sorted, null last', () => {
    const result = run({
      benefits: [
        benefit(20_700n, { outcome: 'reoffending', beneficiaryCode: 'MOJ', cashable: false, volumes: { '2027-28': 1 } }),
        benefit(10_000n, { outcome: 'wellbeing', beneficiaryCode: null, type: 'social', cashable: false }),
        benefit(30_000n, { outcome: 'benefit claims', beneficiaryCode: 'DWP' }),
        benefit(50_000n, { outcome: 'bed days', beneficiaryCode: 'DHSC', cashable: false }),
        benefit(5_000n, { outcome: 'earnings', beneficiaryCode: 'DWP', type: 'economic', cashable: false }),
        benefit(100_000n, { outcome: 'A&E', beneficiaryCode: 'DHSC' }),
      ],
    });
    expect(result.whoBenefits).toEqual([
      { organisationCode: 'DHSC', pvPence: 150_000n, cashablePvPence: 100_000n },
      { organisationCode: 'DWP', pvPence: 35_000n, cashablePvPence: 30_000n },
      { organisationCode: 'MOJ', pvPence: 20_000n, cashablePvPence: 0n },
      { organisationCode: null, pvPence: 10_000n, cashablePvPence: 0n },
    ]);
    expect(result.pvBenefitsPence).toEqual({ fiscal: 200_000n, economic: 5_000n, social: 10_000n });
  });
});

describe('G7 VfM band edges', () => {
  const cases: [bigint, number, string][] = [
    [0n, 0, 'poor'],
    [999_999n, 1, 'poor'],
    [1_000_000n, 1, 'low'],
    [1_000_001n, 1, 'low'],
    [1_499_999n, 1.5, 'low'],
    [1_500_000n, 1.5, 'medium'],
    [1_500_001n, 1.5, 'medium'],
    [1_999_999n, 2, 'medium'],
    [2_000_000n, 2, 'high'],
    [2_000_001n, 2, 'high'],
    [3_999_999n, 4, 'high'],
    [4_000_000n, 4, 'very-high'],
    [4_000_001n, 4, 'very-high'],
  ];
  it.each(cases)('benefits %s p against costs 1,000,000 p: bcr %s, band %s', (x, bcr, band) => {
    const result = run({ costs: [cost(1_000_000n)], benefits: [benefit(x, { type: 'social', beneficiaryCode: null })] });
    expect(result.bcr).toBe(bcr);
    expect(result.vfmBand).toBe(band);
    expect(result.fiscalRoi).toBe(0);
  });
});

describe('G8 rebasing with the GDP deflator', () => {
  const line = benefit(100_000n, { outcome: 'A&E attendance', priceYear: '2013/14' });
  it('rebases to the base year (a forecast deflator, with a warning)', () => {
    const result = run({ costs: [cost(1n)], benefits: [line] });
    expect(result.pvBenefitsPence.fiscal).toBe(144_193n);
    expect(result.warnings).toEqual([
      PROVISIONAL,
      'The GDP deflator for 2026-27 is a forecast, not outturn (March 2026 (Spring Statement & Quarterly National Accounts)); rebasing to 2026-27 prices used it.',
    ]);
  });
  it('rebases to an outturn base year without a deflator warning', () => {
    const result = run({
      baseYear: '2024-25',
      costs: [cost(1n, { year: '2024-25' })],
      benefits: [{ ...line, volumes: { '2024-25': 1 }, priceYear: '2013-14' }],
    });
    expect(result.pvBenefitsPence.fiscal).toBe(136_923n);
    expect(result.warnings).toEqual([PROVISIONAL]);
  });
  it('uses the value as stated, with a warning naming the line and year, when a year is missing', () => {
    const result = run({ costs: [cost(1n)], benefits: [{ ...line, priceYear: '1999-00' }] });
    expect(result.pvBenefitsPence.fiscal).toBe(100_000n);
    expect(result.warnings).toEqual([
      PROVISIONAL,
      'benefit line "A&E attendance" (DHSC, fiscal): its unit value is used as stated at 1999-00 prices, not rebased to 2026-27 prices, because the GDP deflator table (March 2026 (Spring Statement & Quarterly National Accounts)) has no figure for 1999-00.',
    ]);
  });
  it('uses the value as stated, with a warning, when there is no deflator table', () => {
    const result = run({ costs: [cost(1n)], benefits: [line] }, null);
    expect(result.pvBenefitsPence.fiscal).toBe(100_000n);
    expect(result.warnings).toEqual([
      PROVISIONAL,
      'benefit line "A&E attendance" (DHSC, fiscal): its unit value is used as stated at 2013-14 prices, not rebased to 2026-27 prices, because no GDP deflator table was supplied.',
    ]);
  });
  it('needs no deflator when the price year is the base year', () => {
    expect(run({ costs: [cost(1n)], benefits: [benefit(100_000n)] }, null).warnings).toEqual([PROVISIONAL]);
  });
});

describe('G9 health schedule', () => {
  it('discounts at 1.5% to year 30, then 1.29%', () => {
    expect(run({ discountSchedule: 'health', costs: [cost(1_030_225n, { year: '2028-29' })] }).pvCostsPence).toBe(1_000_000n);
    expect(run({ costs: [cost(1_071_225n, { year: '2028-29' })] }).pvCostsPence).toBe(1_000_000n);
    const long = run({ discountSchedule: 'health', costs: [cost(100_000_000n, { year: fy(31) })] });
    expect(long.pvCostsPence).toBe(63_161_460n);
    expect(long.years[1]?.discountFactor).toBe('0.9852216749');
    expect(run({ discountSchedule: 'health', costs: [cost(100_000_000n, { year: fy(30) })] }).pvCostsPence).toBe(63_976_243n);
  });
});

describe('G10 switching values', () => {
  it('for costs and for the unit value of the largest fiscal lines', () => {
    const a = benefit(1_500_000n, { outcome: 'A' });
    const one = run({ costs: [cost(1_000_000n)], benefits: [a] });
    expect(one.fiscalNpvPence).toBe(500_000n);
    expect(one.switchingValues).toEqual([
      { input: 'costs', label: expect.any(String), baseValue: 1_000_000, switchingValue: '1500000.0000', changeBasisPoints: 5000 },
      {
        input: 'benefits/0/unitValuePence',
        label: 'Unit value of "A" (DHSC)',
        baseValue: 1_500_000,
        switchingValue: '1000000.0000',
        changeBasisPoints: -3333,
      },
    ]);
    const two = run({ costs: [cost(1_000_000n)], benefits: [benefit(10_000n, { outcome: 'B', beneficiaryCode: 'DWP' }), a] });
    expect(two.switchingValues.map((s) => [s.input, s.switchingValue, s.changeBasisPoints])).toEqual([
      ['costs', '1510000.0000', 5100],
      ['benefits/1/unitValuePence', '990000.0000', -3400],
      ['benefits/0/unitValuePence', null, null],
    ]);
  });
});

describe("benefitSchedule (the register's appraised values)", () => {
  it("gives each line's undiscounted value per year at base-year prices", () => {
    const input: AppraisalInput = {
      baseYear: '2026-27',
      costs: [],
      benefits: [
        benefit(10_000n, { volumes: { '2027-28': 10 }, persistenceYears: 3 }),
        benefit(100_000n, { outcome: 'rebased', priceYear: '2013/14', confidenceGrade: 3 }),
      ],
    };
    expect(benefitSchedule(input, params, deflators)).toEqual([
      { line: 0, year: '2027-28', valuePence: 100_000n },
      { line: 0, year: '2028-29', valuePence: 100_000n },
      { line: 0, year: '2029-30', valuePence: 100_000n },
      // 100,000 × 105.3095 / 73.0337 × 0.9 = 129,773.72… (G8, with grade 3's 10% haircut)
      { line: 1, year: '2026-27', valuePence: 129_774n },
    ]);
  });
});

describe('G11 need × engagement', () => {
  it('takes the engaged cohort as need × engagement, exactly', () => {
    const line = benefit(1_000n, { volumes: undefined, need: { '2026-27': 400 }, engagementBasisPoints: 2_500, impactBasisPoints: 5_000 });
    expect(run({ benefits: [line] }).pvBenefitsPence.fiscal).toBe(50_000n);
    // The same as stating the engaged volume of 100.
    expect(run({ benefits: [benefit(1_000n, { volumes: { '2026-27': 100 }, impactBasisPoints: 5_000 })] }).pvBenefitsPence.fiscal).toBe(
      50_000n,
    );
    // 7 × 33.33% = 2.3331 people, kept exact: × 10,000 p = 23,331 p.
    const odd = benefit(10_000n, { volumes: undefined, need: { '2026-27': 7 }, engagementBasisPoints: 3_333 });
    expect(run({ benefits: [odd] }).pvBenefitsPence.fiscal).toBe(23_331n);
  });
});

describe('G12 lag', () => {
  it('starts the benefit lagYears after engagement', () => {
    const result = run({ benefits: [benefit(10_000n, { volumes: { '2026-27': 10 }, lagYears: 2 })] });
    expect(result.years.map((y) => y.pvFiscalBenefitsPence)).toEqual([0n, 0n, 93_351n]);
    expect(result.pvBenefitsPence.fiscal).toBe(93_351n);
    expect(result.sensitivity.find((s) => s.scenario === 'lag-one-year-longer')?.fiscalNpvPence).toBe(90_194n);
  });
});

describe('G13 compounding drop-off', () => {
  it('keeps (1 − drop-off)^k of the first year’s benefit in the k-th year after it, within persistence', () => {
    const result = run({ benefits: [benefit(10_000n, { volumes: { '2026-27': 10 }, persistenceYears: 3, dropOffBasisPoints: 2_000 })] });
    expect(result.years.map((y) => y.pvFiscalBenefitsPence)).toEqual([100_000n, 77_295n, 59_745n]);
    expect(result.years.map((y) => y.cumulativePvFiscalBenefitsPence)).toEqual([100_000n, 177_295n, 237_039n]);
    expect(result.pvBenefitsPence.fiscal).toBe(237_039n);
    expect(result.sensitivity.find((s) => s.scenario === 'lag-one-year-longer')?.fiscalNpvPence).toBe(229_024n);
    const input: AppraisalInput = {
      baseYear: '2026-27',
      costs: [],
      benefits: [benefit(10_000n, { volumes: { '2026-27': 10 }, persistenceYears: 3, dropOffBasisPoints: 2_000 })],
    };
    expect(benefitSchedule(input, params, deflators).map((v) => v.valuePence)).toEqual([100_000n, 80_000n, 64_000n]);
  });
  it('a drop-off of 100% leaves the first year only', () => {
    const r = run({ benefits: [benefit(10_000n, { volumes: { '2026-27': 10 }, persistenceYears: 5, dropOffBasisPoints: 10_000 })] });
    expect(r.pvBenefitsPence.fiscal).toBe(100_000n);
  });
});

describe('G14 partial cashability', () => {
  it('counts the cashable share of a fiscal line in who benefits, rounded once', () => {
    const result = run({
      benefits: [
        benefit(100_000n, { outcome: 'bed days', cashable: undefined, cashableBasisPoints: 6_000 }),
        benefit(33_333n, { outcome: 'A&E', beneficiaryCode: 'DWP', cashable: undefined, cashableBasisPoints: 3_333 }),
        benefit(50_000n, { outcome: 'GP', cashable: true }),
      ],
    });
    expect(result.whoBenefits).toEqual([
      { organisationCode: 'DHSC', pvPence: 150_000n, cashablePvPence: 110_000n },
      // 33,333 × 33.33% = 11,109.8889 → 11,110
      { organisationCode: 'DWP', pvPence: 33_333n, cashablePvPence: 11_110n },
    ]);
    // cashable: true and false are 10,000 and 0 basis points.
    const same = (over: object) => run({ benefits: [benefit(100_000n, over)] }).whoBenefits;
    expect(same({ cashable: undefined, cashableBasisPoints: 10_000 })).toEqual(same({ cashable: true }));
    expect(same({ cashable: undefined, cashableBasisPoints: 0 })).toEqual(same({ cashable: false }));
  });
});

describe('G15 displacement (Green Book additionality, not in the 2014 local model)', () => {
  it('removes the displaced share after deadweight, and says so', () => {
    const line = { volumes: { '2026-27': 200 }, impactBasisPoints: 5_000, deadweightBasisPoints: 2_500, confidenceGrade: 2 as const };
    const result = run({ benefits: [benefit(30_000n, { ...line, displacementBasisPoints: 1_000 })] });
    expect(result.pvBenefitsPence.fiscal).toBe(1_923_750n);
    expect(result.warnings).toContain(
      'benefit line "Outcome" (DHSC, fiscal): 10% displacement applied (Green Book additionality; not part of the 2014 local CBA model).',
    );
    expect(run({ benefits: [benefit(30_000n, { ...line, displacementBasisPoints: 0 })] }).warnings.join(' ')).not.toMatch(/displacement/);
  });
});

describe('G16 sensitivity', () => {
  it('recomputes fiscal NPV, BCR and band under four changed assumptions', () => {
    const result = run({
      costs: [cost(1_000_000n, { confidenceGrade: 3 })],
      benefits: [
        benefit(1_500_000n, { outcome: 'fiscal', confidenceGrade: 2 }),
        benefit(500_000n, { outcome: 'social', type: 'social', beneficiaryCode: null, cashable: false }),
      ],
    });
    expect(result.fiscalNpvPence).toBe(325_000n);
    expect(result.bcr).toBe(1.75);
    expect(result.sensitivity.map(({ label: _l, ...s }) => s)).toEqual([
      { scenario: 'optimism-bias-removed', fiscalNpvPence: 500_000n, bcr: 2, vfmBand: 'high' },
      { scenario: 'one-grade-worse', fiscalNpvPence: 200_000n, bcr: 1.587, vfmBand: 'medium' },
      { scenario: 'impact-20-percent-lower', fiscalNpvPence: 40_000n, bcr: 1.4, vfmBand: 'low' },
      { scenario: 'lag-one-year-longer', fiscalNpvPence: 276_812n, bcr: 1.6908, vfmBand: 'medium' },
    ]);
  });
  it('has no BCR or band without costs', () => {
    const result = run({ benefits: [benefit(1_000n)] });
    expect(result.sensitivity.map((s) => [s.fiscalNpvPence, s.bcr, s.vfmBand])).toEqual([
      [1_000n, null, null],
      [950n, null, null],
      [800n, null, null],
      [966n, null, null],
    ]);
  });
});

describe('G17 far-future benefits on the health schedule', () => {
  const line = benefit(3_333n, { volumes: { '2086-87': 1 }, persistenceYears: 26 });
  it('values a cohort 60 years out for 26 years exactly, with no ratios for want of costs', () => {
    const result = run({ discountSchedule: 'health', benefits: [line] });
    expect(result.pvBenefitsPence.fiscal).toBe(32_436n); // 32,435.7519…
    expect(result.fiscalRoi).toBeNull();
    expect(result.bcr).toBeNull();
    expect(result.paybackYear).toBeNull();
    expect(result.years).toHaveLength(86);
    // The unit-value switching value is computed exactly however large the exact numbers grow: with no costs, 0.
    expect(result.switchingValues.map((s) => s.input)).toEqual(['costs', 'benefits/0/unitValuePence']);
    expect(result.switchingValues[1]?.switchingValue).toMatch(/^0\.0+$/);
    expect(run({ benefits: [line] }).pvBenefitsPence.fiscal).toBe(9_078n); // standard schedule: 9,077.8280…
  });
});
