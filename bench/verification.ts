import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { appendAudit, SYSTEM } from '../src/audit/audit.ts';
import { type Database, inTransaction } from '../src/db/database.ts';
import { prepareDatabase } from '../src/db/prepare.ts';
import { createAccounts, createTransfers } from '../src/ledger/ledger.ts';
import { createLogger } from '../src/lib/log.ts';
import { seedScale } from '../src/scale/seed.ts';
import type { Principal } from '../src/users/users.ts';
import { verifyBooks } from '../src/verify/report.ts';
import { createVerificationRunner } from '../src/verify/runner.ts';
import { startVerification } from '../src/verify/verifications.ts';
import { describe, fmt, interleave, measure, median, p95, ratios } from './measure.ts';

/*
 * Verifying the books while the service writes, on SQLite: a copy of a seeded database
 * (BENCH_VERIFY_DB, e.g. /work/scale-db/scale-10.db; by default one built here by the scale
 * generator at BENCH_VERIFY_FACTOR, default 0.05, over 2 years). In interleaved rounds, one
 * writer (a ledger transfer and its audit entry, one transaction, on the service's connection
 * and event loop) runs back to back:
 *   - idle: with nothing else running (the baseline), BENCH_VERIFY_WRITES writes (default 200);
 *   - beside a verification in the background (POST /ledger/verifications' runner: a worker
 *     thread on its own snapshot), until it ends;
 *   - beside a verification in the request (GET /ledger/verify: the same snapshot read on the
 *     service's own thread), until it ends.
 * Each gives the writer's p50 and p95 latency; ratios to idle are per round. The background
 * verification's wall time and CPU time (the process's, all threads) are taken in the same rounds.
 * BENCH_VERIFY_WARMUP (default 1) untimed rounds go first.
 */

const PRINCIPAL: Omit<Principal, 'userId'> = { name: 'Bench', role: 'treasury', organisationCode: null, isChair: false };

export async function benchVerification(dir: string, rounds: number): Promise<void> {
  const path = join(dir, 'verification.db');
  const source = process.env.BENCH_VERIFY_DB;
  if (source) {
    if (!existsSync(source)) throw new Error(`BENCH_VERIFY_DB: no such file ${source}`);
    copyFileSync(source, path);
    if (existsSync(`${source}-wal`)) copyFileSync(`${source}-wal`, `${path}-wal`);
  } else {
    const factor = Number(process.env.BENCH_VERIFY_FACTOR ?? '0.05');
    const built = await prepareDatabase({ engine: 'sqlite', path });
    await seedScale(built.db, { factor, years: 2 });
    await built.close();
  }
  const writes = Number(process.env.BENCH_VERIFY_WRITES ?? '200');
  const database = await prepareDatabase({ engine: 'sqlite', path });
  try {
    const treasury = await database.db.selectFrom('users').select('id').where('role', '=', 'treasury').executeTakeFirstOrThrow();
    const principal: Principal = { ...PRINCIPAL, userId: treasury.id };
    const size = await sizeOf(database);
    await inTransaction(database.db, (trx) =>
      createAccounts(trx, [
        { id: 'GBP/bench/payer', ledger: 'GBP', kind: 'bench' },
        { id: 'GBP/bench/payee', ledger: 'GBP', kind: 'bench' },
      ]),
    );
    const runner = createVerificationRunner({ database, clock: () => new Date(), log: createLogger('silent'), checkpointPath: null });
    let n = 0;
    const write = async () => {
      const started = performance.now();
      await inTransaction(database.db, async (trx) => {
        const id = `bench-verification-${++n}`;
        const [r] = await createTransfers(trx, [
          { id, debitAccountId: 'GBP/bench/payer', creditAccountId: 'GBP/bench/payee', amount: 1n, ledger: 'GBP', code: 'bench' },
        ]);
        if (!r || 'error' in r) throw new Error(`bench write refused: ${JSON.stringify(r)}`);
        await appendAudit(trx, { actor: SYSTEM, action: 'bench.transfer', subject: `transfer/${id}` });
      });
      return performance.now() - started;
    };
    /**
     * One write as a request makes it: it arrives from the network (a turn of the event loop)
     * and is timed from its arrival, so time spent waiting for a busy event loop counts.
     */
    const request = async () => {
      const arrived = performance.now();
      await new Promise((next) => setImmediate(next));
      await write();
      return performance.now() - arrived;
    };
    /** Writes back to back until `until` settles (at least one), giving their latencies. */
    const writeBeside = async (until: Promise<unknown>) => {
      let done = false;
      until.then(() => {
        done = true;
      });
      const latencies: number[] = [];
      do latencies.push(await request());
      while (!done);
      await until;
      return latencies;
    };
    interface Round {
      latencies: number[];
      wallMs?: number;
      cpuMs?: number;
      ok?: boolean;
    }
    const idle = async (): Promise<Round> => {
      const latencies: number[] = [];
      for (let i = 0; i < writes; i++) latencies.push(await request());
      return { latencies };
    };
    const background = async (): Promise<Round> => {
      const cpu = process.cpuUsage();
      const started = performance.now();
      const { verification } = await inTransaction(database.db, (trx) =>
        startVerification({ trx, principal, requestId: null, now: new Date() }, []),
      );
      runner.start(verification.id, []);
      const latencies = await writeBeside(runner.idle());
      const wallMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const row = await database.db
        .selectFrom('ledger_verifications')
        .select('status')
        .where('id', '=', verification.id)
        .executeTakeFirstOrThrow();
      return { latencies, wallMs, cpuMs: (used.user + used.system) / 1000, ok: row.status === 'passed' };
    };
    const inRequest = async (): Promise<Round> => {
      const started = performance.now();
      const report = verifyBooks(database, new Date());
      const latencies = await writeBeside(report);
      return { latencies, wallMs: performance.now() - started, ok: (await report).ok };
    };
    const warmup = Number(process.env.BENCH_VERIFY_WARMUP ?? '1');
    const [idles, jobs, inline] = (await interleave<Round>([idle, background, inRequest], rounds, warmup)) as [Round[], Round[], Round[]];
    if (![...jobs, ...inline].every((r) => r.ok)) throw new Error('a verification in the benchmark did not pass');

    const p50s = (rs: Round[]) => rs.map((r) => median(r.latencies));
    const p95s = (rs: Round[]) => rs.map((r) => p95(r.latencies));
    console.log(
      `verification: SQLite, ${fmt(size.transfers)} transfers, ${fmt(size.entries)} audit entries${source ? ` (a copy of ${source})` : ''}; one writer back to back, ${rounds} interleaved rounds`,
    );
    const wall = measure(
      'verification: background job wall time',
      'ms',
      jobs.map((r) => r.wallMs as number),
    );
    const cpu = measure(
      'verification: background job CPU time (process, all threads)',
      'ms',
      jobs.map((r) => r.cpuMs as number),
    );
    const inlineWall = measure(
      'verification: in-request verification wall time',
      'ms',
      inline.map((r) => r.wallMs as number),
    );
    console.log(`  background verification: wall ${describe(wall, 0)} ms, CPU ${describe(cpu, 0)} ms`);
    console.log(`  in-request verification (GET /ledger/verify): wall ${describe(inlineWall, 0)} ms`);
    const rows: [string, Round[]][] = [
      ['idle', idles],
      ['beside the background job', jobs],
      ['beside GET /ledger/verify', inline],
    ];
    for (const [label, rs] of rows) {
      const a = measure(`verification: writer p50, ${label}`, 'ms', p50s(rs));
      const b = measure(`verification: writer p95, ${label}`, 'ms', p95s(rs));
      const count = median(rs.map((r) => r.latencies.length));
      console.log(`  writer ${label.padEnd(26)} p50 ${describe(a)} ms, p95 ${describe(b)} ms (${fmt(count)} writes a round)`);
    }
    for (const [label, rs] of rows.slice(1)) {
      const r50 = measure(`verification: writer p50 ${label} / idle`, 'ratio', ratios(p50s(rs), p50s(idles)));
      const r95 = measure(`verification: writer p95 ${label} / idle`, 'ratio', ratios(p95s(rs), p95s(idles)));
      console.log(`  ratio ${label} / idle: p50 ${describe(r50)}, p95 ${describe(r95)}`);
    }
  } finally {
    await database.close();
  }
}

async function sizeOf(database: Database): Promise<{ transfers: number; entries: number }> {
  const t = await database.db
    .selectFrom('transfers')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  const a = await database.db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return { transfers: Number(t.n), entries: Number(a.n) };
}
