import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { MAX_LAG_YEARS, MAX_PERSISTENCE_YEARS, MAX_YEAR_INDEX, parseDeflatorTable, parseParameterSet } from '../../src/appraisal/engine.ts';
import type { AppraisalInput, BenefitLine, ConfidenceGrade, CostLine } from '../../src/appraisal/types.ts';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'appraisal');

export const params = parseParameterSet(JSON.parse(readFileSync(join(fixtures, 'parameter-sets.json'), 'utf8'))[0]);
export const deflators = parseDeflatorTable(JSON.parse(readFileSync(join(fixtures, 'gdp-deflators.json'), 'utf8')));
export const rawParameterSets = (): unknown => JSON.parse(readFileSync(join(fixtures, 'parameter-sets.json'), 'utf8'));
export const rawDeflators = (): unknown => JSON.parse(readFileSync(join(fixtures, 'gdp-deflators.json'), 'utf8'));

/** "2026-27" + offset years. */
export function fy(offset: number, base = 2026): string {
  const start = base + offset;
  return `${start}-${String((start + 1) % 100).padStart(2, '0')}`;
}

export function cost(amountPence: bigint, over: Partial<CostLine> = {}): CostLine {
  return { year: '2026-27', kind: 'revenue', payerCode: 'MHCLG', amountPence, confidenceGrade: 1, ...over };
}

export function benefit(unitValuePence: bigint, over: Partial<BenefitLine> = {}): BenefitLine {
  return {
    outcome: 'Outcome',
    beneficiaryCode: 'DHSC',
    type: 'fiscal',
    cashable: true,
    unitValuePence,
    priceYear: '2026-27',
    volumes: { '2026-27': 1 },
    impactBasisPoints: 10_000,
    deadweightBasisPoints: 0,
    persistenceYears: 1,
    confidenceGrade: 1,
    ...over,
  };
}

/** A fiscal, cashable line of 1p a unit, with no volumes or need: the caller gives how many. */
export function fiscalLine(over: Partial<BenefitLine>): BenefitLine {
  return {
    outcome: 'line',
    beneficiaryCode: 'DHSC',
    type: 'fiscal',
    cashable: true,
    unitValuePence: 1n,
    priceYear: '2026-27',
    impactBasisPoints: 10_000,
    deadweightBasisPoints: 0,
    persistenceYears: 1,
    confidenceGrade: 1,
    ...over,
  };
}

/** Any confidence grade, 1 to 6. */
export const grade = fc.integer({ min: 1, max: 6 }) as fc.Arbitrary<ConfidenceGrade>;

// The full ranges the API accepts (src/api/cases.routes.ts and the engine's limits): years up to
// MAX_YEAR_INDEX after the base year, amounts and unit values up to £10bn, volumes up to 10^9, persistence,
// lag and every basis-point field over their whole range, price years with and without a deflator.
export const year = fc.integer({ min: 0, max: MAX_YEAR_INDEX }).map((t) => fy(t));
const money = fc.oneof(fc.bigInt({ min: 0n, max: 1_000_000_000n }), fc.bigInt({ min: 0n, max: 1_000_000_000_000n }));
export const basisPoints = fc.integer({ min: 0, max: 10_000 });

const costLine: fc.Arbitrary<CostLine> = fc.record({
  year,
  kind: fc.constantFrom('revenue' as const, 'capital' as const),
  payerCode: fc.constantFrom('MHCLG', 'DHSC'),
  amountPence: money,
  confidenceGrade: grade,
});

const volume = fc.oneof(
  fc.integer({ min: 0, max: 5_000 }),
  fc.integer({ min: 0, max: 1_000_000_000 }),
  fc.integer({ min: 0, max: 40_000 }).map((n) => n / 8),
);
const cohorts = fc.dictionary(year, volume, { minKeys: 1, maxKeys: 4 });
export const priceYear = fc.oneof(
  fc.constantFrom('2026-27', '2013-14', '2013/14', '2020-21', '1999-00', '2029-30'),
  fc.integer({ min: 1990, max: 2045 }).map((y) => fy(0, y)),
);
const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const benefitLine: fc.Arbitrary<Omit<BenefitLine, 'outcome'>> = fc
  .record({
    type: fc.constantFrom('fiscal' as const, 'fiscal' as const, 'economic' as const, 'social' as const),
    org: fc.constantFrom('DHSC', 'DWP', 'MOJ', 'HO', null),
    cashable: fc.oneof(fc.boolean(), basisPoints),
    unitValuePence: money,
    priceYear,
    cohort: fc.oneof(
      cohorts.map((volumes) => ({ volumes })),
      fc.record({ need: cohorts, engagementBasisPoints: basisPoints }),
    ),
    impactBasisPoints: basisPoints,
    deadweightBasisPoints: basisPoints,
    displacementBasisPoints: optional(basisPoints),
    lagYears: optional(fc.integer({ min: 0, max: MAX_LAG_YEARS })),
    dropOffBasisPoints: optional(fc.oneof(fc.constant(0), basisPoints)),
    persistenceYears: fc.integer({ min: 1, max: MAX_PERSISTENCE_YEARS }),
    confidenceGrade: grade,
  })
  .map(({ org, type, cohort, cashable, ...rest }) => ({
    ...rest,
    ...cohort,
    type,
    // Only a fiscal line has a cashable share; others say true or false.
    ...(typeof cashable === 'number' && type === 'fiscal'
      ? { cashableBasisPoints: cashable }
      : { cashable: cashable === true || cashable === 10_000 }),
    beneficiaryCode: type === 'fiscal' ? (org ?? 'DHSC') : org,
  }));

/** Cases with unique outcome names per line, so a line is identifiable after shuffling. */
export const caseOf = (maxCosts: number, maxBenefits: number): fc.Arbitrary<AppraisalInput> =>
  fc
    .record({
      schedule: fc.constantFrom('standard' as const, 'health' as const),
      costs: fc.array(costLine, { minLength: 0, maxLength: maxCosts }),
      benefits: fc.array(benefitLine, { minLength: 1, maxLength: maxBenefits }),
    })
    .map(({ schedule, costs, benefits }) => ({
      baseYear: '2026-27',
      discountSchedule: schedule,
      costs,
      benefits: benefits.map((b, i) => ({ ...b, outcome: `outcome-${i}` })),
    }));
/** Any case the API accepts, up to 6 cost lines and 8 benefit lines. */
export const appraisalInput = caseOf(6, 8);
