import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, SYSTEM } from '../../src/audit/audit.ts';
import { inTransaction } from '../../src/db/database.ts';
import { createApp } from '../../src/http/app.ts';
import { createAccounts, createTransfers } from '../../src/ledger/ledger.ts';
import { createLogger } from '../../src/lib/log.ts';
import { createVerificationRunner, type VerificationRunner } from '../../src/verify/runner.ts';
import { LEASE_SECONDS } from '../../src/verify/verifications.ts';
import { TEST_TOKEN_DAYS } from '../support/app.ts';
import { startTsx } from '../support/child.ts';
import { engines } from '../support/db.ts';
import { expectProblem, START, type World, world } from '../support/releases.ts';

/*
 * Verifications of the books in the background (POST /ledger/verifications): the same report
 * as GET /ledger/verify, read from one snapshot in a thread of its own, so writers go on while
 * it runs and never show as false mismatches. A hold after the snapshot (the runner's
 * `afterSnapshot` hook) lets a test write while a verification is known to be running.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON replies
type Json = any;

interface Hold {
  /** Settles with the verification's id once it has taken its snapshot. */
  taken: Promise<string>;
  release(): void;
}

describe.each(engines())('verifications of the books on %s', (engine) => {
  let w: World;
  let hold: Hold | null = null;
  let clock = START;
  const runners: VerificationRunner[] = [];

  /** The app on the world's database with a runner of its own (a service restarted is another one). */
  function service() {
    const runner = createVerificationRunner({
      database: w.t.database,
      clock: () => clock,
      log: createLogger('silent'),
      checkpointPath: w.t.auditCheckpointPath,
      hooks: {
        afterSnapshot: async (id) => {
          const h = hold;
          if (!h) return;
          (h as Hold & { take(id: string): void }).take(id);
          await new Promise<void>((go) => {
            h.release = go;
          });
        },
      },
    });
    runners.push(runner);
    const app = createApp({
      database: w.t.database,
      log: createLogger('silent'),
      clock: () => clock,
      tokenLifetimeDays: TEST_TOKEN_DAYS,
      auditCheckpointPath: w.t.auditCheckpointPath,
      verifications: runner,
    });
    const send = async (method: string, path: string, token = w.t.treasury, body?: unknown) => {
      const res = await app.request(`/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Json) : null, text };
    };
    return { runner, send };
  }

  /** The next verification to start stops after its snapshot until released. */
  function holdNext(): Hold {
    let take: (id: string) => void = () => {};
    const taken = new Promise<string>((resolve) => {
      take = resolve;
    });
    const h = { taken, release: () => {}, take } as Hold & { take(id: string): void };
    hold = h;
    return h;
  }

  let main: ReturnType<typeof service>;
  beforeAll(async () => {
    w = await world(engine);
    main = service();
  });
  afterAll(async () => {
    hold?.release();
    for (const r of runners) await r.idle();
    await w.t.destroy();
  });

  const verifyNow = async () => (await w.t.request('GET', '/api/v1/ledger/verify')).body;

  /** Starts a verification through `s` and waits until it has ended. */
  async function verifyInBackground(s = main, token?: string, body?: unknown): Promise<Json> {
    const started = await s.send('POST', '/ledger/verifications', token, body);
    expect(started.status, started.text).toBe(202);
    await s.runner.idle();
    return (await s.send('GET', `/ledger/verifications/${started.body.id}`, token)).body;
  }

  /** A ledger transfer between two accounts of its own, with its audit entry, as a service writer makes one. */
  let transfers = 0;
  async function transfer(): Promise<void> {
    const n = ++transfers;
    await inTransaction(w.t.database.db, async (trx) => {
      await createAccounts(trx, [
        { id: 'GBP/test/payer', ledger: 'GBP', kind: 'test' },
        { id: 'GBP/test/payee', ledger: 'GBP', kind: 'test' },
      ]);
      const [r] = await createTransfers(trx, [
        {
          id: `test-transfer-${n}`,
          debitAccountId: 'GBP/test/payer',
          creditAccountId: 'GBP/test/payee',
          amount: 100n,
          ledger: 'GBP',
          code: 'test',
        },
      ]);
      if (!r || 'error' in r) throw new Error(`transfer refused: ${JSON.stringify(r)}`);
      await appendAudit(trx, { actor: SYSTEM, action: 'test.transfer', subject: `transfer/${n}` });
    });
  }

  it('passes on a clean fund with the report GET /ledger/verify gives, read after its own record', async () => {
    const started = await main.send('POST', '/ledger/verifications');
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe(`/api/v1/ledger/verifications/${started.body.id}`);
    expect(started.body).toMatchObject({
      status: 'running',
      requestedBy: { role: 'treasury' },
      startedAt: START.toISOString(),
      finishedAt: null,
      report: null,
    });
    await main.runner.idle();
    const done = (await main.send('GET', `/ledger/verifications/${started.body.id}`)).body;
    expect(done).toMatchObject({ status: 'passed', finishedAt: START.toISOString(), error: null });
    expect(done.report.ok).toBe(true);
    const now = await verifyNow();
    expect(done.report).toEqual(now);
    expect(done.progress.asOf).toEqual(now.asOf);
    expect(done.progress.transfersChecked).toBe(now.binding.transfersChecked);
    expect(done.progress.auditEntriesChecked).toBe(now.audit.entries);
    // Who asked, recorded in the audit chain.
    const log = (await w.t.request('GET', '/api/v1/audit-log?action=ledger.verification-started&limit=500')).body.entries;
    expect(log.at(-1)).toMatchObject({ subject: `ledger-verification/${done.id}`, actorRole: 'treasury' });
  });

  it('fails, with the mismatch figures GET /ledger/verify gives, when a counter is tampered with', async () => {
    const fund = 'GBP/2026-27/fund';
    const bump = (by: bigint) =>
      w.t.database.db
        .updateTable('accounts')
        .set((eb) => ({ credits_posted: eb('credits_posted', '+', by) }))
        .where('id', '=', fund)
        .execute();
    await bump(1n);
    try {
      const done = await verifyInBackground(main, w.tokens.auditor);
      const now = await verifyNow();
      expect(done.status).toBe('failed');
      expect(done.requestedBy).toMatchObject({ userId: w.ids.auditor, name: 'Auditor', role: 'auditor' });
      expect(done.report.ok).toBe(false);
      expect(done.report.accounts.mismatches).toEqual(now.accounts.mismatches);
      expect(done.report.accounts.mismatches).toEqual([
        expect.objectContaining({
          accountId: fund,
          counter: 'creditsPosted',
          fromTransfers: expect.any(String),
          stored: (BigInt(now.accounts.mismatches[0].fromTransfers) + 1n).toString(),
        }),
      ]);
      expect(done.report.ledgers).toEqual(now.ledgers);
    } finally {
      await bump(-1n);
    }
    expect((await verifyInBackground()).status).toBe('passed');
  });

  it('lets writers finish while it runs, and reports the books as they were at its snapshot', async () => {
    const h = holdNext();
    const started = await main.send('POST', '/ledger/verifications');
    const id = await h.taken;
    expect(id).toBe(started.body.id);
    // It holds its snapshot open; meanwhile money moves, through the API and the ledger.
    const year = await w.t.request('POST', '/api/v1/financial-years', { body: { name: '2027-28' } });
    expect(year.status).toBe(201);
    const terms = await w.t.request('PUT', '/api/v1/financial-years/2027-28/departments/DWP', {
      body: { baselinePence: 800_000_000_00, topSliceBasisPoints: 150, savingsTargetPence: 3_000_000_00 },
    });
    expect(terms.status).toBe(201);
    const contributions = await w.t.request('POST', '/api/v1/financial-years/2027-28/contributions');
    expect(contributions.status).toBe(201);
    for (let i = 0; i < 5; i++) await transfer();
    // ...and each of those writes finished while the verification was still running.
    const during = (await main.send('GET', `/ledger/verifications/${id}`)).body;
    expect(during.status).toBe('running');
    // Held after its snapshot, it has checked nothing yet (a heartbeat may have recorded the snapshot).
    expect(during.progress?.auditEntriesChecked ?? 0).toBe(0);
    hold = null;
    h.release();
    await main.runner.idle();
    const done = (await main.send('GET', `/ledger/verifications/${id}`)).body;
    expect(done.status).toBe('passed');
    const now = await verifyNow();
    expect(now.ok).toBe(true);
    // It checked what there was at its snapshot, not the writes made after it.
    expect(BigInt(done.report.asOf.lastTransferSeq)).toBeLessThan(BigInt(now.asOf.lastTransferSeq));
    expect(done.report.binding.transfersChecked).toBeLessThan(now.binding.transfersChecked);
    expect((await verifyInBackground()).report.binding.transfersChecked).toBe(now.binding.transfersChecked);
  });

  it('reports no false mismatch while writers commit between its reads', async () => {
    let writing = true;
    const writer = (async () => {
      let n = 0;
      while (writing || n < 20) {
        await transfer();
        n++;
        // As requests arriving over the network do, let the others in between.
        await new Promise((next) => setImmediate(next));
      }
      return n;
    })();
    const reports: Json[] = [];
    try {
      for (let i = 0; i < 3; i++) reports.push(await verifyNow());
      reports.push((await verifyInBackground()).report);
    } finally {
      writing = false;
    }
    expect(await writer).toBeGreaterThanOrEqual(20);
    for (const r of reports) {
      expect(r.accounts.mismatches).toEqual([]);
      expect(r.binding.problems).toEqual([]);
      expect(r.ok).toBe(true);
    }
    // The writes did land between the checks: each saw a later ledger than the one before.
    const seqs = reports.map((r) => BigInt(r.asOf.lastTransferSeq));
    expect(new Set(seqs).size).toBeGreaterThan(1);
  });

  it('gives the running verification to a second start, and starts nothing', async () => {
    const h = holdNext();
    const first = await main.send('POST', '/ledger/verifications');
    await h.taken;
    const second = await main.send('POST', '/ledger/verifications', w.tokens.auditor, { checkpoints: [] });
    expect(second.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(second.body.requestedBy.role).toBe('treasury');
    const list = (await main.send('GET', '/ledger/verifications?limit=100')).body.verifications;
    expect(list.filter((v: Json) => v.status === 'running').map((v: Json) => v.id)).toEqual([first.body.id]);
    hold = null;
    h.release();
    await main.runner.idle();
  });

  it('refuses other roles, and answers an unknown id with 404', async () => {
    for (const token of [w.tokens.bradford, w.tokens.dhsc, w.tokens.alice]) {
      expectProblem(await w.t.request('POST', '/api/v1/ledger/verifications', { token }), 403, 'forbidden');
      expectProblem(await w.t.request('GET', '/api/v1/ledger/verifications', { token }), 403, 'forbidden');
      expectProblem(
        await w.t.request('GET', '/api/v1/ledger/verifications/00000000-0000-4000-8000-000000000000', { token }),
        403,
        'forbidden',
      );
    }
    const unknown = await w.t.request('GET', '/api/v1/ledger/verifications/00000000-0000-4000-8000-000000000000', {
      token: w.tokens.auditor,
    });
    expectProblem(unknown, 404, 'verification-not-found');
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
  });

  it('lists them the latest first, a page at a time, each once', async () => {
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const page: Json = (await w.t.request('GET', `/api/v1/ledger/verifications?limit=2${before ? `&before=${before}` : ''}`)).body;
      seen.push(...page.verifications.map((v: Json) => v.seq));
      before = page.nextBefore;
      pages++;
    } while (before && pages < 50);
    expect(seen.length).toBeGreaterThanOrEqual(6);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.map(BigInt)).toEqual(seen.map(BigInt).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
  });

  it('counts one left running by a service that stopped as an error once its lease lapses, and starts another', async () => {
    const h = holdNext();
    const orphan = await main.send('POST', '/ledger/verifications');
    await h.taken;
    // The service "restarts": another one, on the same database, after the lease has lapsed.
    clock = new Date(START.getTime() + (LEASE_SECONDS + 1) * 1000);
    const restarted = service();
    try {
      const seen = (await restarted.send('GET', `/ledger/verifications/${orphan.body.id}`)).body;
      expect(seen).toMatchObject({ status: 'error', error: expect.stringContaining('Interrupted') });
      hold = null;
      const next = await verifyInBackground(restarted);
      expect(next.id).not.toBe(orphan.body.id);
      expect(next.status).toBe('passed');
      // The first one's runner finishing late does not bring it back.
      h.release();
      await main.runner.idle();
      clock = START;
      expect((await main.send('GET', `/ledger/verifications/${orphan.body.id}`)).body).toMatchObject({
        status: 'error',
        report: null,
      });
    } finally {
      clock = START;
    }
  });

  it('keeps `npm run cli -- verify` checking the books from one snapshot', async () => {
    const config = w.t.databaseConfig;
    const env: Record<string, string> =
      config.engine === 'sqlite'
        ? { DATABASE_PATH: config.path }
        : { DATABASE_URL: config.url, ...(config.schema ? { DATABASE_SCHEMA: config.schema } : {}) };
    const cli = startTsx('src/cli.ts', { ...env, AUDIT_CHECKPOINT_PATH: w.t.auditCheckpointPath, LOG_LEVEL: 'silent' }, ['verify']);
    const { code } = await cli.exited;
    expect(code, cli.stderr()).toBe(0);
    const report = JSON.parse(cli.lines.join('\n'));
    expect(report).toMatchObject({ ok: true, asOf: (await verifyNow()).asOf });
  });
});
