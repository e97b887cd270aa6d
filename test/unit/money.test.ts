import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocatePence, applyBasisPoints, formatPence, penceToJson } from '../../src/lib/money.ts';

describe('money', () => {
  it('applies basis points and rounds half-even to the penny, once', () => {
    expect(applyBasisPoints(100_000_000_000n, 250)).toBe(2_500_000_000n);
    expect(applyBasisPoints(10n, 2500)).toBe(2n); // 2.5 → 2
    expect(applyBasisPoints(30n, 2500)).toBe(8n); // 7.5 → 8
    expect(applyBasisPoints(50n, 2500)).toBe(12n); // 12.5 → 12
    expect(applyBasisPoints(9_500_000_001n, 333)).toBe(316_350_000n); // 316,350,000.0333
    expect(applyBasisPoints(0n, 10_000)).toBe(0n);
    expect(applyBasisPoints(123n, 10_000)).toBe(123n);
    expect(() => applyBasisPoints(1n, 2.5)).toThrow(RangeError);
  });

  it('never drifts from exact rational arithmetic by more than half a penny', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.integer({ min: 0, max: 10_000 }), (amount, bp) => {
        const exactTimes2 = (amount * BigInt(bp) * 2n) / 10_000n; // 2 × exact, floored
        const got = applyBasisPoints(amount, bp);
        const diff = got * 2n - exactTimes2;
        expect(diff >= -1n && diff <= 2n).toBe(true);
      }),
    );
  });

  it('allocates so the parts add up to the whole, to the penny', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 13n }),
        fc.array(fc.bigInt({ min: 1n, max: 10_000n }), { minLength: 1, maxLength: 8 }),
        (amount, ratios) => {
          const parts = allocatePence(amount, ratios);
          expect(parts.reduce((a, b) => a + b, 0n)).toBe(amount);
        },
      ),
    );
    expect(allocatePence(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n]);
  });

  it('allocates by largest remainder, ties to the earlier part', () => {
    // Exact shares 5, 2.6, 2.4: the one leftover penny goes to the largest remainder (0.6).
    expect(allocatePence(10n, [5000n, 2600n, 2400n])).toEqual([5n, 3n, 2n]);
    // Exact 25,000,005 / 13,000,002.6 / 12,000,002.4.
    expect(allocatePence(50_000_010n, [5000n, 2600n, 2400n])).toEqual([25_000_005n, 13_000_003n, 12_000_002n]);
    // Equal remainders: the earlier parts get the pence.
    expect(allocatePence(2n, [1n, 1n, 1n])).toEqual([1n, 1n, 0n]);
    // Exact 0.83, 1.67, 0.83, 1.67: the two 0.83s round up first, then the earlier 1.67.
    expect(allocatePence(5n, [1n, 2n, 1n, 2n])).toEqual([1n, 2n, 1n, 1n]);
    expect(allocatePence(0n, [1n, 3n])).toEqual([0n, 0n]);
    expect(allocatePence(7n, [0n, 1n])).toEqual([0n, 7n]);
    expect(() => allocatePence(-1n, [1n])).toThrow(RangeError);
    expect(() => allocatePence(1n, [0n, 0n])).toThrow(RangeError);
    expect(() => allocatePence(1n, [1n, -1n])).toThrow(RangeError);
  });

  it('gives each part its exact share rounded the least, and the pence to the largest remainders first', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.array(fc.bigInt({ min: 0n, max: 10_000n }), { minLength: 1, maxLength: 10 }).filter((rs) => rs.some((r) => r > 0n)),
        (amount, ratios) => {
          const parts = allocatePence(amount, ratios);
          const total = ratios.reduce((a, b) => a + b, 0n);
          expect(parts.reduce((a, b) => a + b, 0n)).toBe(amount);
          const lost = ratios.map((r) => (amount * r) % total);
          const rounded = parts.map((p, i) => {
            const floor = (amount * (ratios[i] as bigint)) / total;
            // Each part is its exact share rounded down, or up by one penny.
            expect(p === floor || p === floor + 1n).toBe(true);
            return p === floor + 1n;
          });
          // A part rounded up never lost less than one rounded down, and on a tie comes first.
          for (let i = 0; i < parts.length; i++) {
            for (let j = 0; j < parts.length; j++) {
              if (rounded[i] && !rounded[j]) {
                const li = lost[i] as bigint;
                const lj = lost[j] as bigint;
                expect(li > lj || (li === lj && i < j)).toBe(true);
              }
            }
          }
        },
      ),
    );
  });

  it('formats pounds in en-GB, exactly, however large', () => {
    expect(formatPence(123_456n)).toBe('£1,234.56');
    expect(formatPence(-5n)).toBe('-£0.05');
    expect(formatPence(9_007_199_254_740_993n)).toBe('£90,071,992,547,409.93');
  });

  it('refuses to put an unsafe integer into JSON', () => {
    expect(penceToJson(9_007_199_254_740_991n)).toBe(9_007_199_254_740_991);
    expect(() => penceToJson(9_007_199_254_740_993n)).toThrow(RangeError);
  });
});
