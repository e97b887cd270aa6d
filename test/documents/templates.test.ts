import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCUMENTS } from '../../src/documents/documents.ts';
import { compileTemplates, TEMPLATES_DIR } from '../../src/documents/templates.ts';
import { basisPointsAsPercent, financialYear, londonDate, money, ratio, wholeNumber } from '../../src/lib/templates.ts';

describe('document templates', () => {
  it('compiles every template at once, one per document', () => {
    expect(compileTemplates().names).toEqual([...DOCUMENTS].sort());
  });

  const broken = (file: string, source: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'topslice-templates-'));
    cpSync(TEMPLATES_DIR, dir, { recursive: true });
    writeFileSync(join(dir, file), source);
    try {
      return () => compileTemplates(dir);
    } finally {
      setTimeout(() => rmSync(dir, { recursive: true, force: true }), 1000);
    }
  };

  it('refuses to start with a syntax error, an unknown helper or a missing partial, naming the file', () => {
    expect(broken('fund-statement.hbs', '<p>{{#each rows}}{{money amountPence}}</p>')).toThrow(/fund-statement\.hbs is broken/);
    expect(broken('place-report.hbs', '<p>{{sterling totals.awardPence}}</p>')).toThrow(/place-report\.hbs is broken/);
    expect(broken('decision-letter.hbs', '{{> signature}}')).toThrow(/decision-letter\.hbs is broken: uses a partial "signature"/);
    expect(broken('partials/decision.hbs', '{{#if}}')).toThrow(/partials\/decision\.hbs is broken/);
  });

  it('escapes what it is given, and never evaluates it', () => {
    const html = compileTemplates().render(
      'realised-benefits',
      {
        financialYear: '2026-27',
        scope: '<script>alert(1)</script> </table> {{scope}}',
        totals: { appraisedPence: 0n, forecastPence: 0n, claimedPence: 0n, verifiedPence: 0n, variancePence: 0n },
        cashableVerifiedPence: 0n,
        nonCashableVerifiedPence: 0n,
        byDepartment: [],
        byPlace: [],
        byTheme: [],
        rows: [],
      },
      { title: 'A </title><script>', reference: 'R', subtitle: 'S', dateLabel: 'D' },
    );
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &lt;/table&gt; {{scope}}');
    expect(html).not.toContain('<script>');
    expect(html).toContain('<html lang="en-GB">');
  });

  it('writes money, dates, rates and years as a UK reader expects', () => {
    expect(money(123456n)).toBe('£1,234.56');
    expect(money(-5n)).toBe('−£0.05');
    expect(money(12_780_000_00)).toBe('£12,780,000.00');
    expect(() => money(1.5)).toThrow();
    // 23:30 UTC on 29 March 2026 is already 30 March in London (BST began that morning).
    expect(londonDate('2026-03-29T23:30:00Z')).toBe('30 March 2026');
    expect(londonDate('2026-01-15T23:30:00Z')).toBe('15 January 2026');
    expect(londonDate('2026-06-01')).toBe('1 June 2026');
    expect(basisPointsAsPercent(250)).toBe('2.5%');
    expect(basisPointsAsPercent(10_000)).toBe('100%');
    expect(basisPointsAsPercent(1234)).toBe('12.34%');
    expect(basisPointsAsPercent(5)).toBe('0.05%');
    expect(ratio(2.3456)).toBe('2.35');
    expect(ratio(null)).toBe('n/a');
    expect(financialYear('2026-27')).toBe('2026 to 2027');
    expect(() => financialYear('2026')).toThrow();
    expect(wholeNumber(143_902_091n)).toBe('143,902,091');
    expect(wholeNumber(-1200)).toBe('−1,200');
    expect(() => wholeNumber(1.5)).toThrow();
  });
});
