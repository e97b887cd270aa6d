import { writeFileSync } from 'node:fs';
import { openSqliteFile } from '../src/db/database.ts';
import { prepareDatabase } from '../src/db/prepare.ts';

/*
 * What every benchmark shares. A figure is only worth printing if it holds when the machine is
 * busy, so each comparison is made the same way:
 *   - interleaved rounds: every round runs each subject once, in the same order (A, B, A, B, …),
 *     after one untimed warm-up round, so load from elsewhere and drift (disk, WAL, caches) land
 *     on both alike;
 *   - the ratio is taken per round, from the two runs made side by side, and the figure given is
 *     the median of those ratios with their spread (the lowest and highest round);
 *   - a target is met when the median meets it.
 * The number of rounds is BENCH_ROUNDS (default 7). Each figure printed with a target, and each
 * ratio, is also recorded as a measure for bench/results.json.
 */

export const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
export const fmt = (n: number) => n.toLocaleString('en-GB');
/** "4,543 (4,101–4,690)": a median and its spread, as whole numbers. */
export const fmtRange = (s: Spread) => `${fmt(Math.round(s.median))} (${fmt(Math.round(s.min))}–${fmt(Math.round(s.max))})`;

/** The middle value (the mean of the two middle values for an even count). */
export function median(xs: number[]): number {
  if (xs.length === 0) throw new Error('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The 95th percentile (nearest rank). */
export function p95(xs: number[]): number {
  if (xs.length === 0) throw new Error('p95 of no values');
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)] as number;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(xs: number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/** Per-round ratios a[r] / b[r] of two subjects' figures from the same rounds. */
export function ratios(a: number[], b: number[]): number[] {
  if (a.length !== b.length) throw new Error(`ratios of ${a.length} and ${b.length} rounds`);
  return a.map((x, r) => x / (b[r] as number));
}

export const DEFAULT_ROUNDS = 7;

/** BENCH_ROUNDS, or 7: the number of interleaved rounds behind every ratio. */
export function roundsFrom(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.BENCH_ROUNDS;
  if (text === undefined || text === '') return DEFAULT_ROUNDS;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error(`BENCH_ROUNDS must be a whole number from 1 to 1000, not ${text}`);
  return n;
}

/**
 * Runs `warmup` untimed rounds, then `rounds` rounds; in each round every subject runs once, in
 * order (A, B, A, B, …). A subject's run gives its figure for the round (a rate, a time, or a
 * record of several).
 * Gives each subject's figures, one per round: `figures[subject][round]`.
 */
export async function interleave<T = number>(subjects: (() => T | Promise<T>)[], rounds: number, warmup = 1): Promise<T[][]> {
  const figures = subjects.map(() => [] as T[]);
  for (let r = 0; r < warmup + rounds; r++) {
    for (const [i, run] of subjects.entries()) {
      const figure = await run();
      if (r >= warmup) (figures[i] as T[]).push(figure);
    }
  }
  return figures;
}

export interface Target {
  /** `>=`: higher is better; `<=`: lower is better. */
  op: '>=' | '<=';
  value: number;
}

export interface Measure extends Spread {
  name: string;
  unit: string;
  rounds: number;
  target: Target | null;
  /** Whether the median meets the target; null without one. */
  met: boolean | null;
}

/** Every measure taken in this run, in order, for bench/results.json. */
export const measures: Measure[] = [];

/** Summarises `values` (one per round) as a measure, records it and gives it. */
export function measure(name: string, unit: string, values: number[], target: Target | null = null): Measure {
  const s = spread(values);
  const met = target === null ? null : target.op === '>=' ? s.median >= target.value : s.median <= target.value;
  const m: Measure = { name, unit, ...s, rounds: values.length, target, met };
  measures.push(m);
  return m;
}

/** "0.62 (0.55–0.70 over 7 rounds; aim ≥ 0.6, met)": the median, its spread, the target. */
export function describe(m: Measure, digits = 2): string {
  const n = (x: number) => x.toFixed(digits);
  const aim = m.target ? `; aim ${m.target.op === '>=' ? '≥' : '≤'} ${m.target.value}, ${m.met ? 'met' : 'NOT MET'}` : '';
  const range = m.rounds > 1 ? ` (${n(m.min)}–${n(m.max)} over ${m.rounds} rounds${aim})` : aim ? ` (${aim.slice(2)})` : '';
  return `${n(m.median)}${range}`;
}

/** Writes the run's measures as JSON to `path`. */
export function writeResults(path: string, run: Record<string, unknown>): void {
  writeFileSync(path, `${JSON.stringify({ ...run, measures }, null, 2)}\n`);
}

/**
 * Raw better-sqlite3 on the same schema (a migrated database at `path`), the same pragmas:
 * BEGIN IMMEDIATE, one transfer row, two counter updates, COMMIT, with nothing read or checked.
 * `round()` runs `n` commits and gives the milliseconds they took.
 */
export async function rawCommits(path: string, n: number): Promise<{ round: () => number; close: () => void }> {
  await (await prepareDatabase({ engine: 'sqlite', path })).close();
  const raw = openSqliteFile(path);
  raw.exec(`insert into accounts (id, ledger, kind, flags, debits_pending, debits_posted, credits_pending, credits_posted, created_at)
            values ('a', 'GBP', 'bench', 0, 0, 0, 0, 0, '2026-06-01T09:00:00.000Z'), ('b', 'GBP', 'bench', 0, 0, 0, 0, 0, '2026-06-01T09:00:00.000Z')`);
  const insert = raw.prepare(`insert into transfers (id, debit_account_id, credit_account_id, amount, ledger, code, flags, pending_id,
      timeout_seconds, reference, fingerprint, created_at,
      debit_account_debits_pending, debit_account_debits_posted, debit_account_credits_pending, debit_account_credits_posted,
      credit_account_debits_pending, credit_account_debits_posted, credit_account_credits_pending, credit_account_credits_posted)
    values (?, 'a', 'b', 100, 'GBP', 'bench', 0, null, 0, null, ?, ?, 0, ?, 0, 0, 0, 0, 0, ?)`);
  const debit = raw.prepare('update accounts set debits_posted = debits_posted + 100 where id = ?');
  const credit = raw.prepare('update accounts set credits_posted = credits_posted + 100 where id = ?');
  const begin = raw.prepare('begin immediate');
  const commit = raw.prepare('commit');
  let rounds = 0;
  const round = () => {
    rounds++;
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const total = BigInt((rounds - 1) * n + i + 1) * 100n;
      begin.run();
      insert.run(`raw-${rounds}-${i}`, 'x'.repeat(43), new Date().toISOString(), total, total);
      debit.run('a');
      credit.run('b');
      commit.run();
    }
    return performance.now() - started;
  };
  return { round, close: () => raw.close() };
}
