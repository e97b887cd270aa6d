import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { appendAudit, listAudit, SYSTEM, verifyAuditChain } from '../../src/audit/audit.ts';
import type { DatabaseConfig } from '../../src/config.ts';
import { inTransaction, openDatabase } from '../../src/db/database.ts';
import { prepareDatabase } from '../../src/db/prepare.ts';
import { createAccounts, createTransfers, transferFromRow } from '../../src/ledger/ledger.ts';
import type { TransferInput } from '../../src/ledger/types.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { envInt, random, startTsx } from '../support/child.ts';
import { CRASH_ACTION, CRASH_FUND, CRASH_SINKS, parseInput } from '../support/crash-worker.ts';
import { type EngineName, engines, freshConfig } from '../support/db.ts';

/*
 * A writer is killed with SIGKILL at random moments, many times over, on the same database. Each
 * of its operations is one transaction with ledger transfers and an audit entry; it acknowledges
 * a transfer only after the commit. After every kill the database is reopened and must hold every
 * acknowledged transfer, with the ledger equal to its log and the audit chain whole; then the
 * writer starts again where it left off.
 *
 * LEDGER_CRASH_RUNS sets how many kills (default 12); LEDGER_CRASH_KILL_MS the longest wait
 * before a kill (default 700); LEDGER_CRASH_SEED fixes the randomness.
 */

const RUNS = envInt('LEDGER_CRASH_RUNS', 12);
const KILL_MS = envInt('LEDGER_CRASH_KILL_MS', 700);
const SEED = envInt('LEDGER_CRASH_SEED', Math.floor(Math.random() * 2 ** 31));
const FUNDING = 1_000_000n;

describe.each(engines())('the ledger across crashes on %s', (engine: EngineName) => {
  it(`keeps every acknowledged transfer, its counters and a whole audit chain through ${RUNS} kills (seed ${SEED})`, async () => {
    const rnd = random(SEED);
    const fresh = await freshConfig(engine);
    const config = fresh.config;
    try {
      await setUp(config);
      /** Every acknowledged transfer, as sent. */
      const acked = new Map<string, TransferInput>();
      const perRun: number[] = [];

      for (let run = 1; run <= RUNS; run++) {
        const child = startTsx('test/support/crash-worker.ts', {
          CRASH_WORKER_DB: JSON.stringify(config),
          CRASH_WORKER_RUN: String(run),
          CRASH_WORKER_SEED: String(SEED + run),
        });
        // Half the runs die a random time after start-up; half just after their n-th
        // acknowledgement, when the next transaction has barely begun.
        const afterAcks = rnd() < 0.5 ? 1 + Math.floor(rnd() * 40) : 0;
        const delay = Math.floor(rnd() * (afterAcks ? 15 : KILL_MS));
        let acks = 0;
        let armed = false;
        const kill = () => {
          if (armed) return;
          armed = true;
          setTimeout(() => child.process.kill('SIGKILL'), delay);
        };
        child.onLine((line) => {
          if (line.startsWith('ack ')) acks++;
          if (afterAcks ? acks >= afterAcks : line === 'ready') kill();
        });
        // Should the n-th acknowledgement never come (the fund ran dry, or a loaded machine is slow), die anyway.
        const fallback = setTimeout(() => child.process.kill('SIGKILL'), 20_000 + KILL_MS);
        const exit = await child.exited;
        clearTimeout(fallback);
        expect(exit.signal, `run ${run} ended by itself (code ${exit.code}):\n${child.stderr()}`).toBe('SIGKILL');

        let count = 0;
        for (const line of child.lines) {
          if (!line.startsWith('ack ')) continue;
          const input = parseInput(line.slice(4));
          expect(input.id.startsWith(`r${run}-`), `run ${run} reused an id: ${input.id}`).toBe(true);
          expect(acked.has(input.id), `${input.id} acknowledged twice`).toBe(false);
          acked.set(input.id, input);
          count++;
        }
        perRun.push(count);
        await checkAfterCrash(engine, config, acked, rnd, `run ${run} (seed ${SEED})`);
      }
      console.info(`${engine}: ${RUNS} kills, acknowledged per run ${JSON.stringify(perRun)}`);
      expect(acked.size).toBeGreaterThan(0);
    } finally {
      await fresh.drop();
    }
  }, 300_000);
});

async function setUp(config: DatabaseConfig): Promise<void> {
  const database = await prepareDatabase(config);
  try {
    await inTransaction(database.db, async (trx) => {
      await createAccounts(trx, [
        { id: 'exchequer', ledger: 'GBP', kind: 'exchequer' },
        { id: CRASH_FUND, ledger: 'GBP', kind: 'fund', debitsMustNotExceedCredits: true },
        ...CRASH_SINKS.map((id) => ({ id, ledger: 'GBP' as const, kind: 'department', debitsMustNotExceedCredits: true })),
      ]);
      const [r] = await createTransfers(trx, [
        { id: 'funding', debitAccountId: 'exchequer', creditAccountId: CRASH_FUND, amount: FUNDING, ledger: 'GBP', code: 'contribution' },
      ]);
      expect(r && 'status' in r && r.status).toBe('created');
      await appendAudit(trx, { actor: SYSTEM, action: 'fund.funded', subject: 'transfer/funding', detail: { amount: FUNDING } });
    });
  } finally {
    await database.close();
  }
}

async function checkAfterCrash(
  engine: EngineName,
  config: DatabaseConfig,
  acked: Map<string, TransferInput>,
  rnd: () => number,
  label: string,
): Promise<void> {
  const database = await openDatabase(config);
  const db = database.db;
  try {
    if (engine === 'sqlite') {
      const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
      expect(
        check.rows.map((r) => r.integrity_check),
        label,
      ).toEqual(['ok']);
    }

    const ledger = await verifyLedger(db);
    expect({ mismatches: ledger.accounts.mismatches, overdrawn: ledger.limits.overdrawn }, label).toEqual({
      mismatches: [],
      overdrawn: [],
    });
    expect(ledger.pendingTransfers.inconsistent, label).toEqual([]);
    expect(ledger.ok, label).toBe(true);
    const audit = await verifyAuditChain(db);
    expect(audit.problems, label).toEqual([]);
    expect(audit.ok, label).toBe(true);

    // Every acknowledged transfer is there, as it was sent.
    const rows = await db.selectFrom('transfers').selectAll().where('id', '!=', 'funding').execute();
    const stored = new Map(rows.map((r) => [r.id, transferFromRow(r)]));
    const missing = [...acked.keys()].filter((id) => !stored.has(id));
    expect(missing, `${label}: acknowledged but lost`).toEqual([]);
    for (const [id, input] of acked) {
      const t = stored.get(id);
      if (!t) continue;
      if (input.pendingId) expect(t.pendingId, id).toBe(input.pendingId);
      else
        expect({ amount: t.amount, credit: t.creditAccountId, pending: t.pending }, id).toEqual({
          amount: input.amount,
          credit: input.creditAccountId,
          pending: input.pending ?? false,
        });
    }

    // Ledger and audit committed together: the audit entries name exactly the stored transfers.
    const entries = await listAudit(db, { action: CRASH_ACTION, limit: 1_000_000 });
    const audited = entries.flatMap((e) => (e.detail as { created: string[] }).created);
    expect(new Set(audited).size, `${label}: a transfer audited twice`).toBe(audited.length);
    expect([...audited].sort(), `${label}: audited transfers against stored ones`).toEqual([...stored.keys()].sort());

    // An acknowledged id sent again, exactly as before, is recognised and changes nothing.
    const replayable = [...acked.values()].filter((t) => !t.linked);
    const replay = Array.from({ length: Math.min(5, replayable.length) }, () => replayable[Math.floor(rnd() * replayable.length)]).filter(
      (t): t is TransferInput => t !== undefined,
    );
    if (replay.length > 0) {
      const results = await inTransaction(db, (trx) => createTransfers(trx, replay));
      expect(
        results.map((r) => ('status' in r ? r.status : r.error)),
        label,
      ).toEqual(replay.map(() => 'exists'));
      expect((await verifyLedger(db)).ok, label).toBe(true);
    }
  } finally {
    await database.close();
  }
}
