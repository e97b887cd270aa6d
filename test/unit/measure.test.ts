import { expect, describe as group, it } from 'vitest';
import { describe, interleave, measure, measures, median, p95, ratios, roundsFrom, spread } from '../../bench/measure.ts';

/* The benchmarks' measure: interleaved rounds, per-round ratios, their median and spread. */

group('median, p95 and spread', () => {
  it('takes the middle value of an odd count and the mean of the two middle values of an even count', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow();
  });

  it('does not reorder what it is given', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('gives the 95th percentile by nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(p95(xs)).toBe(95);
    expect(p95([1, 2, 3])).toBe(3);
    expect(p95([42])).toBe(42);
  });

  it('gives the spread as the lowest and highest value beside the median', () => {
    expect(spread([0.5, 0.41, 0.62, 0.55, 0.3])).toEqual({ median: 0.5, min: 0.3, max: 0.62 });
  });

  it('takes ratios round by round', () => {
    expect(ratios([10, 20, 30], [5, 40, 10])).toEqual([2, 0.5, 3]);
    expect(() => ratios([1, 2], [1])).toThrow();
  });
});

group('interleave', () => {
  it('runs the subjects in turn, A, B, A, B, after an untimed warm-up round, and gives each its figures by round', async () => {
    const calls: string[] = [];
    let a = 0;
    let b = 100;
    const figures = await interleave(
      [
        () => {
          calls.push('A');
          return a++;
        },
        async () => {
          calls.push('B');
          return b++;
        },
      ],
      3,
    );
    expect(calls).toEqual(['A', 'B', 'A', 'B', 'A', 'B', 'A', 'B']);
    // The warm-up round's figures (0 and 100) are dropped.
    expect(figures).toEqual([
      [1, 2, 3],
      [101, 102, 103],
    ]);
  });

  it('keeps a ratio steady when load moves between rounds but hits both runs of a round alike', async () => {
    // Each round the machine is slower by a different factor; B always does twice A's work.
    const load = [1, 3, 1.5, 5, 2, 1, 4, 2];
    let ra = 0;
    let rb = 0;
    const [as, bs] = await interleave([() => 10 * (load[ra++] as number), () => 20 * (load[rb++] as number)], 7);
    const m = measure('test: steady', 'ratio', ratios(as as number[], bs as number[]));
    expect(m).toMatchObject({ median: 0.5, min: 0.5, max: 0.5, rounds: 7 });
  });
});

group('measure', () => {
  it('records each measure with its unit, spread, rounds and whether the median met its target', () => {
    const before = measures.length;
    const low = measure('test: ratio', 'ratio', [0.7, 0.4, 0.65], { op: '>=', value: 0.6 });
    const slow = measure('test: latency', 'ratio', [1.4, 1.2, 1.25], { op: '<=', value: 1.3 });
    const none = measure('test: time', 's', [2]);
    expect(low).toEqual({
      name: 'test: ratio',
      unit: 'ratio',
      median: 0.65,
      min: 0.4,
      max: 0.7,
      rounds: 3,
      target: { op: '>=', value: 0.6 },
      met: true,
    });
    expect(slow.met).toBe(true);
    expect(measure('test: slower', 'ratio', [1.4, 1.35, 1.2], { op: '<=', value: 1.3 }).met).toBe(false);
    expect(none.met).toBeNull();
    expect(measures.slice(before).map((m) => m.name)).toEqual(['test: ratio', 'test: latency', 'test: time', 'test: slower']);
  });

  it('prints the median, the spread over the rounds and the target', () => {
    const m = measure('test: print', 'ratio', [0.55, 0.62, 0.48], { op: '>=', value: 0.6 });
    expect(describe(m)).toBe('0.55 (0.48–0.62 over 3 rounds; aim ≥ 0.6, NOT MET)');
    expect(describe(measure('test: one', 's', [1.234]))).toBe('1.23');
  });
});

group('roundsFrom', () => {
  it('is 7 unless BENCH_ROUNDS says otherwise, and refuses what is not a whole number of rounds', () => {
    expect(roundsFrom({})).toBe(7);
    expect(roundsFrom({ BENCH_ROUNDS: '15' })).toBe(15);
    expect(() => roundsFrom({ BENCH_ROUNDS: '0' })).toThrow(/BENCH_ROUNDS/);
    expect(() => roundsFrom({ BENCH_ROUNDS: '2.5' })).toThrow(/BENCH_ROUNDS/);
    expect(() => roundsFrom({ BENCH_ROUNDS: 'many' })).toThrow(/BENCH_ROUNDS/);
  });
});
