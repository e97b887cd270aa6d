import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { inTransaction } from '../src/db/database.ts';
import { prepareDatabase } from '../src/db/prepare.ts';
import { createApp } from '../src/http/app.ts';
import { createAccounts, createTransfers } from '../src/ledger/ledger.ts';
import { createLogger } from '../src/lib/log.ts';
import { bootstrapTreasury } from '../src/users/users.ts';
import { benchAppraisal } from './appraisal.ts';
import { benchCredits } from './credits.ts';
import { benchDocuments } from './documents.ts';
import { fmt, median, rate, rawCommits } from './measure.ts';
import { benchPages } from './pages.ts';
import { benchReappraisal } from './reappraisal.ts';

/*
 * npm run bench: each figure beside a baseline measured in the same run on the same machine.
 * Sizes scale with BENCH_SCALE (default 1).
 */

const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const dir = mkdtempSync(join(tmpdir(), 'topslice-bench-'));

async function ledgerCommits(): Promise<void> {
  const n = Math.round(2000 * SCALE);

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

  // Warm up both, then interleave rounds (so disk and WAL drift hit both alike) and take medians.
  raw.round();
  await ledgerRun();
  const rawTimes: number[] = [];
  const ledgerTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    rawTimes.push(raw.round());
    ledgerTimes.push(await ledgerRun());
  }
  const rawRate = rate(n, median(rawTimes));
  const ledgerRate = rate(n, median(ledgerTimes));
  console.log(
    `ledger: single-transfer durable commits (SQLite, WAL, synchronous=FULL), ${fmt(n)} per round, median of 5 interleaved rounds`,
  );
  console.log(`  raw better-sqlite3, same schema (BEGIN IMMEDIATE, insert + 2 counter updates): ${fmt(rawRate)}/s`);
  console.log(`  ledger service (createTransfers in inTransaction, all checks):                 ${fmt(ledgerRate)}/s`);
  console.log(`  ratio ledger/raw: ${(ledgerRate / rawRate).toFixed(2)}   (aim ≥ 0.6)`);
  raw.close();
  await database.close();
}

async function startServer(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'http-server.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return { child, port: Number(line) };
}

async function load(url: string, token: string | null, seconds: number, concurrency: number): Promise<number> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const until = performance.now() + seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (performance.now() < until) {
      const res = await fetch(url, { headers });
      if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
      await res.arrayBuffer();
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return rate(done, performance.now() - started);
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

  const seconds = 4 * SCALE;
  const concurrency = 16;
  const bare = await startServer(['bare']);
  const real = await startServer(['topslice', path]);
  try {
    const bareUrl = `http://127.0.0.1:${bare.port}/api/v1/fund`;
    const realUrl = `http://127.0.0.1:${real.port}/api/v1/fund?fy=2026-27`;
    await load(bareUrl, null, 1, concurrency);
    await load(realUrl, token, 1, concurrency);
    const bareRate = await load(bareUrl, null, seconds, concurrency);
    const realRate = await load(realUrl, token, seconds, concurrency);
    console.log(`http: GET /api/v1/fund over loopback, ${concurrency} concurrent keep-alive clients, ${seconds} s each`);
    console.log(`  bare Hono JSON route:                     ${fmt(bareRate)} req/s`);
    console.log(`  topslice (bearer auth, SQLite, ledger):   ${fmt(realRate)} req/s`);
    console.log(`  ratio topslice/bare: ${(realRate / bareRate).toFixed(2)}   (aim ≥ 0.5)`);
  } finally {
    bare.child.kill('SIGTERM');
    real.child.kill('SIGTERM');
  }
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
  timings.sort((a, b) => a - b);
  const median = timings[Math.floor(timings.length / 2)] as number;
  console.log('contributions: POST /financial-years/{fy}/contributions for 50 departments in one call (SQLite, in-process)');
  console.log(`  median ${median.toFixed(1)} ms, best ${timings[0]?.toFixed(1)} ms over ${timings.length} years`);
  await database.close();
}

// BENCH_ONLY=ledger,credits runs just those parts, in this order.
const PARTS: [string, () => Promise<void>][] = [
  ['ledger', ledgerCommits],
  ['http', httpFund],
  ['contributions', contributions50],
  ['appraisal', benchAppraisal],
  ['reappraisal', () => benchReappraisal(dir, SCALE)],
  ['documents', () => benchDocuments(SCALE)],
  ['credits', () => benchCredits(SCALE)],
  ['pages', () => benchPages(SCALE)],
];
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const unknown = only?.filter((name) => !PARTS.some(([part]) => part === name)) ?? [];
if (unknown.length > 0) {
  console.error(`BENCH_ONLY names unknown parts: ${unknown.join(', ')} (parts: ${PARTS.map(([p]) => p).join(', ')})`);
  process.exit(2);
}

try {
  console.log(`topslice bench — node ${process.version}, scale ${SCALE}\n`);
  for (const [name, run] of PARTS) {
    if (only && !only.includes(name)) continue;
    await run();
    console.log();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
