import { describe, expect, it } from 'vitest';
import { complianceStatus } from '../../src/compliance/compliance.ts';
import { creditsForSurplus, obligationForDeficit } from '../../src/credits/close.ts';

/*
 * The year close's two roundings, each in the department's disfavour, at the edges: a
 * department exactly on target, a zero target with nothing verified, pence either side of a
 * whole pound. Verified − target is the surplus; target − verified the deficit.
 */

const close = (verified: bigint, target: bigint) => ({
  credits: creditsForSurplus(verified - target),
  obligation: obligationForDeficit(target - verified),
});

describe('credits and obligations at close', () => {
  it.each([
    ['exactly on target', 5_000_00n, 5_000_00n, 0n, 0n],
    ['zero target, nothing verified', 0n, 0n, 0n, 0n],
    ['zero target, 99p verified', 99n, 0n, 0n, 0n],
    ['zero target, £1 verified', 100n, 0n, 1n, 0n],
    ['1p over', 5_000_01n, 5_000_00n, 0n, 0n],
    ['£1.99 over', 5_001_99n, 5_000_00n, 1n, 0n],
    ['£2 over', 5_002_00n, 5_000_00n, 2n, 0n],
    ['1p short', 4_999_99n, 5_000_00n, 0n, 1n],
    ['£1 short', 4_999_00n, 5_000_00n, 0n, 1n],
    ['£1.01 short', 4_998_99n, 5_000_00n, 0n, 2n],
    ['nothing verified against £1,000', 0n, 1_000_00n, 0n, 1_000n],
  ])('%s', (_label, verified, target, credits, obligation) => {
    expect(close(verified, target)).toEqual({ credits, obligation });
  });

  it('never gives both credits and an obligation, nor a negative of either', () => {
    for (let v = 0n; v <= 400n; v += 7n) {
      for (const target of [0n, 100n, 199n, 200n, 201n]) {
        const { credits, obligation } = close(v, target);
        expect(credits >= 0n && obligation >= 0n).toBe(true);
        expect(credits === 0n || obligation === 0n).toBe(true);
        // Disfavour both ways: credits never exceed the surplus in pounds, an obligation always covers the deficit.
        expect(credits * 100n <= (v > target ? v - target : 0n)).toBe(true);
        expect(obligation * 100n >= (target > v ? target - v : 0n)).toBe(true);
      }
    }
  });

  it('names the statuses', () => {
    expect(complianceStatus(0n, 0n, 0n)).toBe('no-obligation');
    expect(complianceStatus(5n, 0n, 0n)).toBe('compliant');
    expect(complianceStatus(5n, 2n, 0n)).toBe('compliant-by-buy-out');
    expect(complianceStatus(5n, 2n, 1n)).toBe('outstanding');
  });
});
