import { describe, expect, it } from 'vitest';
import { financialYearOf, parseFinancialYear } from '../../src/fund/fund.ts';

describe('financial years', () => {
  it('runs April to March and is named YYYY-YY', () => {
    expect(parseFinancialYear('2026-27')).toEqual({ startsOn: '2026-04-01', endsOn: '2027-03-31' });
    expect(parseFinancialYear('2099-00')).toEqual({ startsOn: '2099-04-01', endsOn: '2100-03-31' });
    expect(parseFinancialYear('2000-01')).toEqual({ startsOn: '2000-04-01', endsOn: '2001-03-31' });
    expect(parseFinancialYear('2199-00')).toEqual({ startsOn: '2199-04-01', endsOn: '2200-03-31' });
    // Outside the range the service takes (2000-01 to 2199-00), and malformed names.
    for (const bad of ['1999-00', '2200-01', '1899-00', '2026-28', '2026/27', '2026-2027', '26-27', '']) {
      expect(parseFinancialYear(bad)).toBeNull();
    }
  });

  it('finds the year a date falls in (UTC)', () => {
    expect(financialYearOf(new Date('2026-04-01T00:00:00Z'))).toBe('2026-27');
    expect(financialYearOf(new Date('2026-03-31T23:59:59Z'))).toBe('2025-26');
    expect(financialYearOf(new Date('2099-12-31T00:00:00Z'))).toBe('2099-00');
  });
});
