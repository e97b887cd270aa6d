import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../src/config.ts';
import { type Database, inTransaction, openDatabase } from '../../src/db/database.ts';
import { prepareDatabase } from '../../src/db/prepare.ts';
import { createAccounts, createTransfers, getAccount, transferFromRow } from '../../src/ledger/ledger.ts';
import type { Counters } from '../../src/ledger/types.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { envInt, startTsx } from '../support/child.ts';
import { type EngineName, engines, freshConfig } from '../support/db.ts';
import type { AckedTransfer, WorkerReport } from '../support/ledger-worker.ts';

/*
 * Several writers race on one funded account that may never owe (`debitsMustNotExceedCredits`).
 * SQLite: separate OS processes on one file (each a single connection; BEGIN IMMEDIATE serialises
 * them). PostgreSQL: separate processes, each with several transactions in flight on its pool,
 * so the accounts' row locks decide who goes first. Every worker connects and warms up first, then
 * waits at a start gate (a go file) so that all of them really run at the same time; the test
 * checks afterwards that their transfers interleave in the ledger.
 *
 * Scale up with LEDGER_CONCURRENCY_TRANSFERS (batches per worker), LEDGER_CONCURRENCY_WORKERS
 * (processes) and LEDGER_CONCURRENCY_LANES (transactions in flight per PostgreSQL process);
 * LEDGER_CONCURRENCY_SQLITE_PAUSE_MS sets the pause between a SQLite worker's batches (see below).
 */

const FUNDING = 10_000n;
const WORKERS = envInt('LEDGER_CONCURRENCY_WORKERS', 4);
const OPS = envInt('LEDGER_CONCURRENCY_TRANSFERS', 200);
const PG_LANES = envInt('LEDGER_CONCURRENCY_LANES', 3);
const SINKS = ['sink-a', 'sink-b', 'sink-c', 'sink-d'];
/*
 * The gate alone is not enough on SQLite: a worker that has just committed begins its next
 * BEGIN IMMEDIATE at once, while the others sleep in SQLite's busy handler (backing off 1 ms, 2,
 * 5, ... up to 100 ms), so one process keeps the lock for most of its run. Measured with the gate
 * and no pause: 3 to 10 writer switches in about 600 transfers (0.5% to 1.6%), i.e. the workers
 * still ran one after the other. So on SQLite each worker waits a random 0..SQLITE_PAUSE_MS ms
 * after each batch, which lets the waiting processes in.
 *
 * The share of writer switches (see the interleaving test), measured on 2 cores under a load
 * average of about 4 to 7 (4 workers x 200 batches, about 600 stored transfers):
 *   SQLite, pause 1 ms: 37% to 57% (3 runs); pause 2 ms: 38% to 58% (11 runs), 24% to 35% with a
 *   busy loop on one core (3 runs); pause 4 ms (the default): 42% to 67% (11 runs), 31% to 53%
 *   with the busy loop (5 runs), about 1 to 4 s after the gate;
 *   PostgreSQL (3 lanes per process, no pause): 57% to 62% (13 runs), about 3 to 9 s.
 * Without the gate each worker finished before the next began: about WORKERS - 1 switches.
 */
const MIN_SWITCH_SHARE = 0.15;
const SQLITE_PAUSE_MS = envInt('LEDGER_CONCURRENCY_SQLITE_PAUSE_MS', 4);
const SEED = envInt('LEDGER_CONCURRENCY_SEED', Math.floor(Math.random() * 2 ** 31));

describe.each(engines())('the ledger under concurrent writers on %s', (engine: EngineName) => {
  let config: DatabaseConfig;
  let drop: () => Promise<void>;
  let reports: WorkerReport[] = [];
  let database: Database;
  let goDir: string | undefined;
  let raceMs = 0;

  beforeAll(async () => {
    const fresh = await freshConfig(engine);
    config = fresh.config;
    drop = fresh.drop;
    const setup = await prepareDatabase(config);
    try {
      await inTransaction(setup.db, async (trx) => {
        const accounts = await createAccounts(trx, [
          { id: 'exchequer', ledger: 'GBP', kind: 'exchequer' },
          { id: 'fund', ledger: 'GBP', kind: 'fund', debitsMustNotExceedCredits: true },
          ...SINKS.map((id) => ({ id, ledger: 'GBP' as const, kind: 'department' })),
        ]);
        expect(accounts).toHaveLength(2 + SINKS.length);
        expect(accounts.every((a) => 'status' in a && a.status === 'created')).toBe(true);
        const [funded] = await createTransfers(trx, [
          { id: 'funding', debitAccountId: 'exchequer', creditAccountId: 'fund', amount: FUNDING, ledger: 'GBP', code: 'contribution' },
        ]);
        expect(funded && 'status' in funded && funded.status).toBe('created');
      });
    } finally {
      await setup.close();
    }

    const lanes = engine === 'postgres' ? PG_LANES : 1;
    goDir = mkdtempSync(join(tmpdir(), 'topslice-ledger-race-'));
    const go = join(goDir, 'go');
    const children = Array.from({ length: WORKERS }, (_, w) =>
      startTsx('test/support/ledger-worker.ts', {
        LEDGER_WORKER_DB: JSON.stringify(config),
        LEDGER_WORKER_NAME: `w${w}`,
        LEDGER_WORKER_FUND: 'fund',
        LEDGER_WORKER_SINKS: SINKS.join(','),
        LEDGER_WORKER_OPS: String(OPS),
        LEDGER_WORKER_LANES: String(lanes),
        LEDGER_WORKER_SEED: String(SEED + w),
        LEDGER_WORKER_GO: go,
        LEDGER_WORKER_PAUSE: String(engine === 'sqlite' ? SQLITE_PAUSE_MS : 0),
      }),
    );
    // Start together: wait until every worker is connected and warm (or one has died), then open
    // the gate. It opens either way, so that a dead worker cannot leave the others waiting forever;
    // its exit code is reported below.
    let started = 0;
    try {
      await Promise.race([
        Promise.all(children.map((c) => new Promise<void>((resolve) => c.onLine((l) => l === 'ready' && resolve())))),
        ...children.map((c) => c.exited),
      ]);
    } finally {
      started = Date.now();
      writeFileSync(go, '');
    }
    const exits = await Promise.all(children.map((c) => c.exited));
    raceMs = Date.now() - started;
    reports = children.map((c, w) => {
      const exit = exits[w];
      if (exit?.code !== 0) throw new Error(`worker ${w} (seed ${SEED + w}) exited ${exit?.code ?? exit?.signal}:\n${c.stderr()}`);
      const last = c.lines.at(-1);
      if (!last || last === 'ready') throw new Error(`worker ${w} printed no report:\n${c.stderr()}`);
      return JSON.parse(last) as WorkerReport;
    });
    database = await openDatabase(config);
  }, 120_000);

  afterAll(async () => {
    await database?.close();
    await drop?.();
    if (goDir) rmSync(goDir, { recursive: true, force: true });
  });

  /** Every acknowledged transfer once, by id; a replay must agree with the original. */
  function acknowledged(): Map<string, AckedTransfer> {
    const byId = new Map<string, AckedTransfer>();
    for (const r of reports) {
      for (const a of r.acked) {
        const seen = byId.get(a.id);
        if (seen) {
          expect({ ...a, status: 'exists' }, `replay of ${a.id}`).toEqual({ ...seen, status: 'exists' });
        } else {
          byId.set(a.id, a);
        }
      }
    }
    return byId;
  }

  it(`ran ${WORKERS} workers without a result that breaks the contract (seed ${SEED})`, () => {
    const refused: Record<string, number> = {};
    for (const r of reports) for (const [e, n] of Object.entries(r.refused)) refused[e] = (refused[e] ?? 0) + n;
    console.info(
      `${engine}: ${reports.reduce((n, r) => n + r.batches, 0)} batches, ${reports.reduce((n, r) => n + r.acked.length, 0)} acknowledged, ` +
        `retries ${reports.reduce((n, r) => n + r.retriesSeen, 0)}, refused ${JSON.stringify(refused)}, ${raceMs} ms after the gate`,
    );
    expect(reports.flatMap((r) => r.unexpected)).toEqual([]);
    expect(reports).toHaveLength(WORKERS);
    expect(reports.every((r) => r.batches >= OPS)).toBe(true);
    const created = reports.flatMap((r) => r.acked).filter((a) => a.status === 'created');
    expect(created.length).toBeGreaterThan(0);
    // With the default counts the demand is several times the funding: the limit was exercised.
    if (WORKERS * OPS >= 400) {
      expect(reports.reduce((n, r) => n + (r.refused.exceeds_credits ?? 0), 0)).toBeGreaterThan(0);
      expect(reports.some((r) => r.acked.some((a) => a.status === 'exists'))).toBe(true);
    }
  });

  it.skipIf(WORKERS < 2)('really ran the workers at the same time: their transfers interleave in the ledger', async () => {
    const rows = await database.db.selectFrom('transfers').select('id').where('id', '!=', 'funding').orderBy('seq').execute();
    const owners = rows.map((r) => r.id.slice(0, r.id.indexOf('-')));
    expect(new Set(owners)).toEqual(new Set(reports.map((r) => r.name)));
    // How often the writer changes from one transfer to the next, in ledger order (measurements
    // and the reason for MIN_SWITCH_SHARE at the top). Without the start gate this was about
    // WORKERS - 1: each worker was done before the next had started.
    let switches = 0;
    for (let i = 1; i < owners.length; i++) if (owners[i] !== owners[i - 1]) switches++;
    const share = switches / Math.max(1, owners.length - 1);
    console.info(`${engine}: ${owners.length} transfers, ${switches} writer switches (${(share * 100).toFixed(1)}%)`);
    expect(share).toBeGreaterThanOrEqual(MIN_SWITCH_SHARE);
  });

  it('keeps every invariant: balanced ledgers, counters equal to the log, no account over its limit', async () => {
    const v = await verifyLedger(database.db);
    expect(v.accounts.mismatches).toEqual([]);
    expect(v.limits.overdrawn).toEqual([]);
    expect(v.pendingTransfers.inconsistent).toEqual([]);
    expect(v.ledgers.length).toBeGreaterThan(0);
    expect(v.ledgers.every((l) => l.balanced)).toBe(true);
    expect(v.ok).toBe(true);
  });

  it('never let the funded account pay out more than it received', async () => {
    const fund = await getAccount(database.db, 'fund');
    expect(fund).toBeDefined();
    if (!fund) return;
    expect(fund.creditsPosted).toBeGreaterThanOrEqual(FUNDING);
    expect(fund.debitsPending + fund.debitsPosted).toBeLessThanOrEqual(fund.creditsPosted);

    // At every step of its history, not only at the end: replay the fund's transfers in ledger
    // order and compare with the counters each transfer recorded.
    const rows = await database.db
      .selectFrom('transfers')
      .selectAll()
      .where((eb) => eb.or([eb('debit_account_id', '=', 'fund'), eb('credit_account_id', '=', 'fund')]))
      .orderBy('seq')
      .execute();
    const transfers = rows.map(transferFromRow);
    const amounts = new Map(transfers.map((t) => [t.id, t.amount]));
    const c: Counters = { debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n };
    const history: string[] = [];
    for (const t of transfers) {
      const side = t.debitAccountId === 'fund' ? 'debits' : 'credits';
      if (t.pending) {
        c[`${side}Pending`] += t.amount;
      } else if (t.postPendingTransfer || t.voidPendingTransfer) {
        c[`${side}Pending`] -= amounts.get(t.pendingId as string) ?? 0n;
        if (t.postPendingTransfer) c[`${side}Posted`] += t.amount;
      } else {
        c[`${side}Posted`] += t.amount;
      }
      const recorded = t.debitAccountId === 'fund' ? t.debitAccountAfter : t.creditAccountAfter;
      if (JSON.stringify(recorded, big) !== JSON.stringify(c, big)) {
        history.push(`${t.id} (seq ${t.seq}) recorded ${JSON.stringify(recorded, big)}, the log gives ${JSON.stringify(c, big)}`);
      }
      if (c.debitsPending + c.debitsPosted > c.creditsPosted) history.push(`${t.id} (seq ${t.seq}) overdrew the fund`);
    }
    expect(history.slice(0, 10)).toEqual([]);
    expect(c).toEqual({
      debitsPending: fund.debitsPending,
      debitsPosted: fund.debitsPosted,
      creditsPending: fund.creditsPending,
      creditsPosted: fund.creditsPosted,
    });
  });

  it('holds exactly the acknowledged transfers, and the fund moved exactly their sum', async () => {
    const acked = acknowledged();
    const rows = await database.db.selectFrom('transfers').selectAll().where('id', '!=', 'funding').execute();
    const stored = new Map(rows.map((r) => [r.id, transferFromRow(r)]));

    const missing = [...acked.keys()].filter((id) => !stored.has(id));
    expect(missing, 'acknowledged but not in the database').toEqual([]);
    // Nothing crashed, so whatever committed was acknowledged to its worker.
    const unacknowledged = [...stored.keys()].filter((id) => !acked.has(id));
    expect(unacknowledged, 'in the database but never acknowledged').toEqual([]);
    for (const [id, a] of acked) {
      const t = stored.get(id);
      expect(t && { amount: t.amount.toString(), debit: t.debitAccountId, credit: t.creditAccountId, pendingId: t.pendingId }, id).toEqual({
        amount: a.amount,
        debit: a.debitAccountId,
        credit: a.creditAccountId,
        pendingId: a.pendingId,
      });
    }

    // The fund's counters from the acknowledged transfers alone.
    const all = [...acked.values()];
    const resolved = new Set(all.filter((a) => a.kind === 'post' || a.kind === 'void').map((a) => a.pendingId));
    const sum = (xs: AckedTransfer[]) => xs.reduce((s, a) => s + BigInt(a.amount), 0n);
    const out = all.filter((a) => a.kind === 'single' || a.kind === 'post');
    const refunds = all.filter((a) => a.kind === 'refund');
    const expected: Counters = {
      debitsPending: sum(all.filter((a) => a.kind === 'pending' && !resolved.has(a.id))),
      debitsPosted: sum(out),
      creditsPending: 0n,
      creditsPosted: FUNDING + sum(refunds),
    };
    const fund = await getAccount(database.db, 'fund');
    expect(fund && { ...fund, ...expected }).toEqual(fund);
    // Every pending transfer was resolved by the workers before they finished.
    expect(expected.debitsPending).toBe(0n);

    // What left the fund arrived in the departments' accounts, and what came back left them.
    for (const id of SINKS) {
      const sink = await getAccount(database.db, id);
      expect(sink && { ...sink, creditsPending: 0n, debitsPending: 0n }).toEqual(sink);
      expect(sink?.creditsPosted, id).toBe(sum(out.filter((a) => a.creditAccountId === id)));
      expect(sink?.debitsPosted, id).toBe(sum(refunds.filter((a) => a.debitAccountId === id)));
    }
    const exchequer = await getAccount(database.db, 'exchequer');
    expect(exchequer && { ...exchequer, debitsPosted: FUNDING, creditsPosted: 0n }).toEqual(exchequer);
  });

  it('refuses an acknowledged id sent again with other fields, changing nothing', async () => {
    const acked = [...acknowledged().values()].filter((a) => a.kind === 'single').slice(0, 50);
    const results = await inTransaction(database.db, (trx) =>
      createTransfers(
        trx,
        acked.map((a) => ({ id: a.id, debitAccountId: 'x', creditAccountId: 'y', amount: 1n, ledger: 'GBP' as const, code: 'grant' })),
      ),
    );
    // Same id, other fields: refused, and nothing changes.
    expect(acked.length).toBeGreaterThan(0);
    expect(results).toHaveLength(acked.length);
    expect(results.every((r) => 'error' in r && r.error === 'exists_with_different_fields')).toBe(true);
    expect((await verifyLedger(database.db)).ok).toBe(true);
  });
});

function big(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
