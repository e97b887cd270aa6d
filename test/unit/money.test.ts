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
