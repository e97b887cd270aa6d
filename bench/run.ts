import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { inTransaction } from '../src/db/database.ts';
import { prepareDatabase } from '../src/db/prepare.ts';
import { createApp } from '../src/http/app.ts';
import { createAccounts, createTransfers } from '../src/ledger/ledger.ts';
import { createLogger } from '../src/lib/log.ts';
import { bootstrapTreasury } from '../src/users/users.ts';
import { benchAppraisal } from './appraisal.ts';
import { benchCredits } from './credits.ts';
import { benchDocuments } from './documents.ts';
import { benchFundPage } from './fund-page.ts';
import { drive, type Slice, startServer } from './loopback.ts';
import { benchMarketPage } from './market-page.ts';
import { describe, fmt, fmtRange, interleave, measure, rate, ratios, rawCommits, roundsFrom, spread, writeResults } from './measure.ts';
import { benchPages } from './pages.ts';
import { benchReappraisal } from './reappraisal.ts';
import { benchVerification } from './verification.ts';

/*
 * npm run bench: each figure beside a baseline measured in the same run on the same machine, in
 * interleaved rounds (bench/measure.ts). Sizes scale with BENCH_SCALE (default 1), the number of
 * rounds is BENCH_ROUNDS (default 7); `--only ledger,http` (or BENCH_ONLY) runs only the parts
 * named. The measures are also written to bench/results.json.
 */

const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const ROUNDS = roundsFrom();
const dir = mkdtempSync(join(tmpdir(), 'topslice-bench-'));

async function ledgerCommits(): Promise<void> {
  const n = Math.round(500 * SCALE);

  // Baseline: raw better-sqlite3 on the same schema (a migrated database), the same pragmas,
  // writing the same transfer row and counter updates, with nothing read or checked.
  const raw = await rawCommits(join(dir, 'raw.db'), n);

  // The ledger service: one createTransfers call, one transfer, one transaction each.
  const database = await prepareDatabase({ engine: 'sqlite', path: join(dir, 'ledger.db') });
  await inTransaction(database.db, (trx) =>
    createAccounts(trx, [
      { id: 'a', ledger: 'GBP', kind: 'bench' },
      { id: 'b', ledger: 'GBP', kind: 'bench' },
    ]),
  );
  let round = 0;
  const ledgerRun = async () => {
    round++;
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const [r] = await inTransaction(database.db, (trx) =>
        createTransfers(trx, [
          { id: `t-${round}-${i}`, debitAccountId: 'a', creditAccountId: 'b', amount: 100n, ledger: 'GBP', code: 'bench' },
        ]),
      );
      if (!r || 'error' in r) throw new Error(`ledger refused: ${JSON.stringify(r)}`);
    }
    return performance.now() - started;
  };

  const [rawTimes, ledgerTimes] = await interleave([raw.round, ledgerRun], ROUNDS);
  const ratio = measure('ledger: ledger/raw single-transfer commits', 'ratio', ratios(rawTimes as number[], ledgerTimes as number[]), {
    op: '>=',
    value: 0.6,
  });
  const rawRate = spread((rawTimes as number[]).map((ms) => rate(n, ms)));
  const ledgerRate = spread((ledgerTimes as number[]).map((ms) => rate(n, ms)));
  console.log(`ledger: single-transfer durable commits (SQLite, WAL, synchronous=FULL), ${fmt(n)} per round, ${ROUNDS} interleaved rounds`);
  console.log(`  raw better-sqlite3, same schema (BEGIN IMMEDIATE, insert + 2 counter updates): ${fmtRange(rawRate)}/s`);
  console.log(`  ledger service (createTransfers in inTransaction, all checks):                 ${fmtRange(ledgerRate)}/s`);
  console.log(`  ratio ledger/raw: ${describe(ratio)}`);
  raw.close();
  await database.close();
}

async function httpFund(): Promise<void> {
  const path = join(dir, 'http.db');
  const database = await prepareDatabase({ engine: 'sqlite', path });
  const { token } = await bootstrapTreasury(database.db);
  const app = createApp({ database, log: createLogger('silent'), clock: () => new Date('2026-06-01T09:00:00Z') });
  const post = (p: string, body?: unknown) =>
    app.request(p, {
      method: body === undefined ? 'POST' : p.includes('/departments/') ? 'PUT' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  await post('/api/v1/financial-years', { name: '2026-27' });
  for (const code of ['DHSC', 'DWP', 'MOJ', 'HO', 'DFE', 'MHCLG']) {
    await post(`/api/v1/financial-years/2026-27/departments/${code}`, {
      baselinePence: 500_000_000_00,
      topSliceBasisPoints: 200,
      savingsTargetPence: 1_000_000_00,
    });
  }
  await post('/api/v1/financial-years/2026-27/contributions');
  await database.close();

  const sliceMs = Math.round(500 * SCALE);
  const concurrency = 16;
  const bare = await startServer(['bare']);
  const real = await startServer(['topslice', path]);
  try {
    const bareView = { label: 'bare', view: () => get(`${bare.base}/api/v1/fund`, {}) };
    const auth = { authorization: `Bearer ${token}` };
    const realView = { label: 'topslice', view: () => get(`${real.base}/api/v1/fund?fy=2026-27`, auth) };
    const [bareSlices, realSlices] = await interleave<Slice>(
      [() => drive(bareView, concurrency, sliceMs, bare), () => drive(realView, concurrency, sliceMs, real)],
      ROUNDS,
    );
    const rates = (s: Slice[] | undefined) => (s ?? []).map((x) => x.rate);
    const perCpu = (s: Slice[] | undefined) => (s ?? []).map((x) => x.perCpu as number);
    const b = measure('http: bare Hono GET /api/v1/fund', 'req/s', rates(bareSlices));
    const r = measure('http: topslice GET /api/v1/fund', 'req/s', rates(realSlices));
    const ratio = measure('http: GET /api/v1/fund topslice/bare Hono', 'ratio', ratios(rates(realSlices), rates(bareSlices)), {
      op: '>=',
      value: 0.5,
    });
    const cpuRatio = measure(
      'http: GET /api/v1/fund topslice/bare Hono, per CPU-second of server and client',
      'ratio',
      ratios(perCpu(realSlices), perCpu(bareSlices)),
    );
    console.log(
      `http: GET /api/v1/fund over loopback, ${concurrency} concurrent keep-alive clients, ${ROUNDS} interleaved rounds of ${sliceMs} ms slices`,
    );
    console.log(`  bare Hono JSON route:                     ${fmtRange(b)} req/s, ${fmtRange(spread(perCpu(bareSlices)))} per CPU-second`);
    console.log(`  topslice (bearer auth, SQLite, ledger):   ${fmtRange(r)} req/s, ${fmtRange(spread(perCpu(realSlices)))} per CPU-second`);
    console.log(`  ratio topslice/bare: ${describe(ratio)}`);
    console.log(`  ratio topslice/bare per CPU-second (server and load generator): ${describe(cpuRatio)}`);
  } finally {
    bare.child.kill('SIGTERM');
    real.child.kill('SIGTERM');
  }
}

/** GETs `url`, reads it all; throws unless 200. */
async function get(url: string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  await res.arrayBuffer();
}

async function contributions50(): Promise<void> {
  const database = await prepareDatabase({ engine: 'sqlite', path: join(dir, 'contrib.db') });
  const { token } = await bootstrapTreasury(database.db);
  const app = createApp({ database, log: createLogger('silent'), clock: () => new Date('2026-06-01T09:00:00Z') });
  const codes = Array.from({ length: 50 }, (_, i) => `BENCH-DEPT-${String(i).padStart(2, '0')}`);
  await database.db
    .insertInto('organisations')
    .values(
      codes.map((code) => ({
        code,
        name: `Bench department ${code}`,
        kind: 'department',
        place_code: null,
        department_code: null,
        gss_code: null,
        details: '{}',
      })),
    )
    .execute();
  const call = (method: string, p: string, body?: unknown) =>
    app.request(p, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const timings: number[] = [];
  for (let y = 0; y < 7; y++) {
    const fy = `${2030 + y}-${String((31 + y) % 100).padStart(2, '0')}`;
    await call('POST', '/api/v1/financial-years', { name: fy });
    for (const code of codes) {
      await call('PUT', `/api/v1/financial-years/${fy}/departments/${code}`, {
        baselinePence: 123_456_789_01,
        topSliceBasisPoints: 275,
        savingsTargetPence: 1_000_000_00,
      });
    }
    const started = performance.now();
    const res = await call('POST', `/api/v1/financial-years/${fy}/contributions`);
    timings.push(performance.now() - started);
    const body = (await res.json()) as { posted: unknown[] };
    if (res.status !== 201 || body.posted.length !== 50) throw new Error(`contributions: ${res.status}`);
  }
  const m = measure('contributions: POST contributions for 50 departments', 'ms', timings);
  console.log('contributions: POST /financial-years/{fy}/contributions for 50 departments in one call (SQLite, in-process)');
  console.log(`  median ${m.median.toFixed(1)} ms (${m.min.toFixed(1)}–${m.max.toFixed(1)} over ${m.rounds} years)`);
  await database.close();
}

// `--only ledger,credits` (or BENCH_ONLY=ledger,credits) runs just those parts, in this order.
const PARTS: [string, () => Promise<void>][] = [
  ['ledger', ledgerCommits],
  ['http', httpFund],
  ['contributions', contributions50],
  ['appraisal', () => benchAppraisal(ROUNDS)],
  ['reappraisal', () => benchReappraisal(dir, SCALE, ROUNDS)],
  ['documents', () => benchDocuments(ROUNDS)],
  ['credits', () => benchCredits(SCALE, ROUNDS)],
  ['pages', () => benchPages(SCALE, ROUNDS)],
  ['fund-page', () => benchFundPage(SCALE, ROUNDS)],
  ['market-page', () => benchMarketPage(SCALE, ROUNDS)],
  ['verification', () => benchVerification(dir, ROUNDS)],
];
const { values: args } = parseArgs({ options: { only: { type: 'string' } } });
const onlyText = args.only ?? process.env.BENCH_ONLY;
const only = onlyText?.split(',').map((s) => s.trim());
const unknown = only?.filter((name) => !PARTS.some(([part]) => part === name)) ?? [];
if (unknown.length > 0) {
  console.error(`--only names unknown parts: ${unknown.join(', ')} (parts: ${PARTS.map(([p]) => p).join(', ')})`);
  process.exit(2);
}

const RESULTS = join(import.meta.dirname, 'results.json');
const startedAt = new Date().toISOString();
try {
  console.log(`topslice bench — node ${process.version}, scale ${SCALE}, ${ROUNDS} rounds\n`);
  for (const [name, run] of PARTS) {
    if (only && !only.includes(name)) continue;
    await run();
    console.log();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  writeResults(RESULTS, { startedAt, node: process.version, scale: SCALE, rounds: ROUNDS, parts: only ?? PARTS.map(([p]) => p) });
  console.log(`measures written to ${RESULTS}`);
}
