import { describe, expect, it } from 'vitest';
import {
  AppraisalDataError,
  AppraisalInputError,
  appraise,
  parseDeflatorTable,
  parseParameterSet,
  parseParameterSets,
} from '../../src/appraisal/engine.ts';
import type { AppraisalInput } from '../../src/appraisal/types.ts';
import { DomainError } from '../../src/lib/errors.ts';
import { benefit, cost, deflators, params, rawDeflators, rawParameterSets } from './helpers.ts';

function errorOf(input: Partial<AppraisalInput>): AppraisalInputError {
  try {
    appraise({ baseYear: '2026-27', costs: [], benefits: [], ...input } as AppraisalInput, params, deflators);
  } catch (e) {
    if (e instanceof AppraisalInputError) return e;
    throw e;
  }
  throw new Error('expected an AppraisalInputError');
}

describe('appraisal input errors', () => {
  it('refuses a line before the base year, with a JSON pointer to it', () => {
    const e = errorOf({ costs: [cost(1n), cost(1n), cost(1n, { year: '2025-26' })] });
    expect(e).toBeInstanceOf(DomainError);
    expect(e.kind).toBe('invalid');
    expect(e.path).toBe('/costs/2/year');
    expect(e.errors).toEqual([{ pointer: '/costs/2/year', detail: '2025-26 is before the base year 2026-27' }]);
    expect(e.message).toBe('/costs/2/year: 2025-26 is before the base year 2026-27');
  });

  it('refuses a confidence grade given as a string, which the grade tables would otherwise answer', () => {
    const grade = '2' as unknown as 1;
    const e = errorOf({ costs: [cost(1_234n, { confidenceGrade: grade })], benefits: [benefit(5_679n, { confidenceGrade: grade })] });
    expect(e.errors.map((x) => x.pointer)).toEqual(['/costs/0/confidenceGrade', '/benefits/0/confidenceGrade']);
  });

  it('names and rebases years before 1000 in four digits, as it reads them', () => {
    const old = parseDeflatorTable({ edition: 'old', baseYear: '0999-00', index: { '0999-00': '100', '0998-99': '50' } });
    const result = appraise(
      {
        baseYear: '0999-00',
        costs: [cost(100n, { year: '0999-00' })],
        benefits: [benefit(100n, { priceYear: '0998-99', volumes: { '0999-00': 1 } })],
      },
      params,
      old,
    );
    expect(result.years[0]?.year).toBe('0999-00');
    expect(result.pvBenefitsPence.fiscal).toBe(200n);
    expect(result.warnings.some((w) => w.includes('no figure'))).toBe(false);
  });

  it('lists every problem at once', () => {
    const e = errorOf({
      discountSchedule: 'nope' as 'standard',
      costs: [cost(-1n, { year: '2026-28', confidenceGrade: 7 as 1 })],
      benefits: [
        benefit(-5n, {
          beneficiaryCode: null,
          priceYear: '13-14',
          volumes: { '2025-26': 1, '2027-28': -1, '2028-29': Number.NaN },
          impactBasisPoints: 10_001,
          deadweightBasisPoints: 1.5,
          persistenceYears: 0,
        }),
      ],
    });
    expect(e.errors.map((x) => x.pointer)).toEqual([
      '/discountSchedule',
      '/costs/0/year',
      '/costs/0/confidenceGrade',
      '/costs/0/amountPence',
      '/benefits/0/beneficiaryCode',
      '/benefits/0/unitValuePence',
      '/benefits/0/priceYear',
      '/benefits/0/impactBasisPoints',
      '/benefits/0/deadweightBasisPoints',
      '/benefits/0/persistenceYears',
      '/benefits/0/volumes/2025-26',
      '/benefits/0/volumes/2027-28',
      '/benefits/0/volumes/2028-29',
    ]);
    expect(e.message).toMatch(/\(and 12 more\)$/);
  });

  it('refuses a base year that is not a financial year, and lines too far ahead', () => {
    expect(errorOf({ baseYear: '2026/27' }).path).toBe('/baseYear');
    expect(errorOf({ costs: [cost(1n, { year: '2087-88' })] }).errors[0]?.detail).toMatch(/more than 60 years/);
    expect(appraise({ baseYear: '2026-27', costs: [cost(1n, { year: '2086-87' })], benefits: [] }, params, deflators).years).toHaveLength(
      61,
    );
  });

  it('points at every new benefit-line field that is out of range or contradicts another', () => {
    const e = errorOf({
      benefits: [
        benefit(1n, { need: { '2026-27': 5 } }),
        benefit(1n, { volumes: undefined, need: { '2026-27': 5 } }),
        benefit(1n, { engagementBasisPoints: 5_000 }),
        benefit(1n, { lagYears: 11 }),
        benefit(1n, { lagYears: 1.5 }),
        benefit(1n, { dropOffBasisPoints: 10_001 }),
        benefit(1n, { displacementBasisPoints: -1 }),
        benefit(1n, { cashableBasisPoints: 10_001, cashable: undefined }),
        benefit(1n, { cashable: true, cashableBasisPoints: 5_000 }),
        benefit(1n, { type: 'social', beneficiaryCode: null, cashable: undefined, cashableBasisPoints: 5_000 }),
        benefit(1n, { persistenceYears: 31 }),
        benefit(1n, { volumes: undefined, need: { '2087-88': 1 }, engagementBasisPoints: 10_000 }),
        benefit(1n, { volumes: undefined }),
        benefit(1n, { volumes: undefined, need: { '2026-27': 1 }, engagementBasisPoints: 10_001 }),
      ],
    });
    expect(e.errors.map((x) => x.pointer)).toEqual([
      '/benefits/0/need',
      '/benefits/1/engagementBasisPoints',
      '/benefits/2/engagementBasisPoints',
      '/benefits/3/lagYears',
      '/benefits/4/lagYears',
      '/benefits/5/dropOffBasisPoints',
      '/benefits/6/displacementBasisPoints',
      '/benefits/7/cashableBasisPoints',
      '/benefits/8/cashable',
      '/benefits/9/cashableBasisPoints',
      '/benefits/10/persistenceYears',
      '/benefits/11/need/2087-88',
      '/benefits/12/volumes',
      '/benefits/13/engagementBasisPoints',
    ]);
    expect(e.errors[3]?.detail).toBe('must be a whole number of years from 0 to 10');
    expect(e.errors[10]?.detail).toBe('must be a whole number of years from 1 to 30');
  });

  it('escapes "/" in pointers to volume keys (RFC 6901)', () => {
    expect(errorOf({ benefits: [benefit(1n, { volumes: { '2026/27': 1 } })] }).path).toBe('/benefits/0/volumes/2026~127');
  });

  it('appraises an empty case', () => {
    const r = appraise({ baseYear: '2026-27', costs: [], benefits: [] }, params, null);
    expect(r.pvCostsPence).toBe(0n);
    expect(r.years).toHaveLength(1);
    expect(r.whoBenefits).toEqual([]);
    expect(r.switchingValues).toEqual([
      { input: 'costs', label: expect.any(String), baseValue: 0, switchingValue: null, changeBasisPoints: null },
    ]);
    expect(r.parameterSet).toEqual({ name: 'local-partnerships-cba', version: '2014.1', provisional: true });
  });

  it('accepts fractional volumes exactly', () => {
    const r = appraise(
      {
        baseYear: '2026-27',
        costs: [],
        benefits: [benefit(3n, { volumes: { '2026-27': 0.1 } }), benefit(3n, { volumes: { '2026-27': 0.2 } })],
      },
      params,
      deflators,
    );
    // 0.1 × 3 + 0.2 × 3 = 0.9 exactly (in floats it would be 0.9000000000000001) → 1 p.
    expect(r.pvBenefitsPence.fiscal).toBe(1n);
  });
});

describe('parameter set and deflator parsing', () => {
  it('parses the shipped fixtures', () => {
    const sets = parseParameterSets(rawParameterSets());
    expect(sets.map((s) => `${s.name}@${s.version}`)).toEqual(['local-partnerships-cba@2014.1']);
    expect(sets[0]?.discountSchedules.standard[1]).toEqual({ fromYear: 31, toYear: 75, rateBasisPoints: 300, rate: '0.030' });
    const table = parseDeflatorTable(rawDeflators());
    expect(table.index['2013-14']).toBe('73.0337');
    expect(table.forecastIndex?.['2026-27']).toBe('105.3095');
  });

  it('refuses a rate that disagrees with its basis points, with the path', () => {
    const raw = (rawParameterSets() as Record<string, unknown>[])[0] as { discountSchedules: { standard: { rate: string }[] } };
    raw.discountSchedules.standard[1]!.rate = '0.031';
    expect(() => parseParameterSet(raw)).toThrow(AppraisalDataError);
    expect(() => parseParameterSet(raw)).toThrow('/discountSchedules/standard/1/rate: rate 0.031 does not equal 300 basis points');
  });

  it('refuses gaps in the discount schedule, missing grades and overlapping VfM bands', () => {
    const raw = (rawParameterSets() as Record<string, unknown>[])[0] as {
      discountSchedules: { health: { fromYear: number }[] };
      confidenceGrades: unknown[];
      vfmBands: { minInclusive: boolean }[];
    };
    raw.discountSchedules.health[1]!.fromYear = 32;
    raw.confidenceGrades.pop();
    raw.vfmBands[2]!.minInclusive = false;
    let error: AppraisalDataError | undefined;
    try {
      parseParameterSet(raw);
    } catch (e) {
      error = e as AppraisalDataError;
    }
    expect(error?.issues.map((i) => i.path)).toEqual([
      '/discountSchedules/health/1/fromYear',
      '/confidenceGrades',
      '/vfmBands/2/minInclusive',
    ]);
  });

  it('refuses a malformed deflator table', () => {
    expect(() => parseDeflatorTable({ edition: 'x', baseYear: '2024-25', index: { '2024/25': '100' } })).toThrow(
      /\/index\/2024\/25: key must be a financial year/,
    );
    expect(() => parseDeflatorTable({ edition: 'x', baseYear: '2024-25', index: { '2024-25': '0' } })).toThrow(/greater than zero/);
    expect(() => parseDeflatorTable({ edition: 'x', baseYear: '2024-25', index: { '2024-25': 100 } })).toThrow(AppraisalDataError);
  });

  it('checks an unparsed parameter set passed straight to appraise', () => {
    const bad = { ...params, confidenceGrades: [] };
    expect(() => appraise({ baseYear: '2026-27', costs: [], benefits: [] }, bad, null)).toThrow(AppraisalDataError);
  });
});
