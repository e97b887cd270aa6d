import { describe, expect, it } from 'vitest';
import { financialYearOf, parseFinancialYear } from '../../src/fund/fund.ts';

describe('financial years', () => {
  it('runs April to March and is named YYYY-YY', () => {
    expect(parseFinancialYear('2026-27')).toEqual({ startsOn: '2026-04-01', endsOn: '2027-03-31' });
    expect(parseFinancialYear('1999-00')).toEqual({ startsOn: '1999-04-01', endsOn: '2000-03-31' });
    for (const bad of ['2026-28', '2026/27', '2026-2027', '26-27', '']) expect(parseFinancialYear(bad)).toBeNull();
  });

  it('finds the year a date falls in (UTC)', () => {
    expect(financialYearOf(new Date('2026-04-01T00:00:00Z'))).toBe('2026-27');
    expect(financialYearOf(new Date('2026-03-31T23:59:59Z'))).toBe('2025-26');
    expect(financialYearOf(new Date('2099-12-31T00:00:00Z'))).toBe('2099-00');
  });
});
