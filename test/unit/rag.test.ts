import { describe, expect, it } from 'vitest';
import { rag } from '../../src/benefits/benefits.ts';

/** The register's RAG status at its exact boundaries: green from 90% of forecast, amber from 70%. */
describe('RAG status boundaries', () => {
  it.each([
    [100_000n, 90_000n, 'green'],
    [100_000n, 89_999n, 'amber'],
    [100_000n, 70_000n, 'amber'],
    [100_000n, 69_999n, 'red'],
    [3n, 3n, 'green'],
    // 90% of 1,000,001p is 900,000.9p: 900,000p is under it, 900,001p over.
    [1_000_001n, 900_001n, 'green'],
    [1_000_001n, 900_000n, 'amber'],
    [1_000_001n, 700_001n, 'amber'],
    [1_000_001n, 700_000n, 'red'],
  ] as const)('forecast %sp, verified %sp is %s', (forecast, verified, expected) => {
    expect(rag(forecast, verified, 'verified', true)).toBe(expected);
  });

  it('is amber while a claim awaits verification, red once rejected or when the year ended with nothing, not-due before', () => {
    expect(rag(100n, 0n, 'pending', false)).toBe('amber');
    expect(rag(100n, 0n, 'rejected', false)).toBe('red');
    expect(rag(100n, 0n, null, true)).toBe('red');
    expect(rag(100n, 0n, null, false)).toBe('not-due');
  });
});
