import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/audit/audit.ts';
import { closeYear } from '../../src/credits/close.ts';
import { CREDIT_CODES, creditAccounts } from '../../src/credits/registry.ts';
import { verifyCredits } from '../../src/credits/verify.ts';
import { type Database, inTransaction, openDatabase } from '../../src/db/database.ts';
import { prepareDatabase } from '../../src/db/prepare.ts';
import { createFinancialYear, setDepartmentYear } from '../../src/fund/fund.ts';
import { createTransfers } from '../../src/ledger/ledger.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { setMarketPrices } from '../../src/market/prices.ts';
import { envInt, startTsx } from '../support/child.ts';
import { type EngineName, engines, freshConfig } from '../support/db.ts';
import type { MarketWorkerReport } from '../support/market-worker.ts';

/*
 * Several processes, one department each, place and cancel limit orders in one market at once
 * (SQLite: one connection per process on one file; PostgreSQL: several transactions in flight
 * per process). Afterwards: no unexpected error; credits and cash conserved; every trade settled
 * both legs; reservations equal what rests; the book is not crossed; nobody traded with itself;
 * the ledger verifies. Scale with CREDITS_CONCURRENCY_OPS, _WORKERS (≤ 4), _LANES, _SEED.
 */

const FY = '2026-27';
const DEPTS = ['DHSC', 'DWP', 'MOJ', 'HO'].slice(0, envInt('CREDITS_CONCURRENCY_WORKERS', 4));
const OPS = envInt('CREDITS_CONCURRENCY_OPS', 80);
const PG_LANES = envInt('CREDITS_CONCURRENCY_LANES', 3);
const SEED = envInt('CREDITS_CONCURRENCY_SEED', Math.floor(Math.random() * 2 ** 31));
const CREDITS = 1_000n;
const CASH = 1_000_000n;
const NOW = new Date('2026-06-01T09:00:00Z');

describe.each(engines())('the credits market under concurrent departments on %s', (engine: EngineName) => {
  let drop: () => Promise<void>;
  let database: Database;
  let reports: MarketWorkerReport[] = [];
  let goDir: string | undefined;

  beforeAll(async () => {
    const fresh = await freshConfig(engine);
    drop = fresh.drop;
    const setup = await prepareDatabase(fresh.config);
    try {
      await inTransaction(setup.db, async (trx) => {
        await createFinancialYear(trx, FY, SYSTEM, null, NOW);
        for (const d of DEPTS)
          await setDepartmentYear(trx, FY, d, { baselinePence: CASH, topSliceBasisPoints: 0, savingsTargetPence: 0n }, SYSTEM, null, NOW);
        await closeYear(trx, FY, SYSTEM, null, NOW);
        await setMarketPrices(
          {
            trx: trx,
            principal: { userId: 'setup', name: 'setup', role: 'treasury', organisationCode: null, isChair: false },
            requestId: null,
            now: NOW,
          },
          FY,
          { floorPence: 1n, ceilingPence: 100n },
        );
        const results = await createTransfers(
          trx,
          DEPTS.map((d) => ({
            id: `seed/${d}`,
            debitAccountId: creditAccounts.issuance(FY),
            creditAccountId: creditAccounts.holding(FY, d),
            amount: CREDITS,
            ledger: 'CREDIT' as const,
            code: CREDIT_CODES.issue,
          })),
          NOW,
        );
        expect(results.every((r) => 'status' in r)).toBe(true);
      });
    } finally {
      await setup.close();
    }
    goDir = mkdtempSync(join(tmpdir(), 'topslice-market-race-'));
    const go = join(goDir, 'go');
    const children = DEPTS.map((d, i) =>
      startTsx('test/support/market-worker.ts', {
        MARKET_WORKER_DB: JSON.stringify(fresh.config),
        MARKET_WORKER_DEPT: d,
        MARKET_WORKER_FY: FY,
        MARKET_WORKER_OPS: String(OPS),
        MARKET_WORKER_LANES: String(engine === 'postgres' ? PG_LANES : 1),
        MARKET_WORKER_SEED: String(SEED + i),
        MARKET_WORKER_GO: go,
        MARKET_WORKER_PAUSE: engine === 'sqlite' ? '4' : '0',
      }),
    );
    try {
      await Promise.race([
        Promise.all(children.map((c) => new Promise<void>((resolve) => c.onLine((l) => l === 'ready' && resolve())))),
        ...children.map((c) => c.exited),
      ]);
    } finally {
      writeFileSync(go, '');
    }
    const exits = await Promise.all(children.map((c) => c.exited));
    reports = children.map((c, i) => {
      if (exits[i]?.code !== 0) throw new Error(`worker ${DEPTS[i]} (seed ${SEED + i}) exited ${exits[i]?.code}:\n${c.stderr()}`);
      return JSON.parse(c.lines.at(-1) ?? '{}') as MarketWorkerReport;
    });
    database = await openDatabase(fresh.config);
  }, 240_000);

  afterAll(async () => {
    await database?.close();
    await drop?.();
    if (goDir) rmSync(goDir, { recursive: true, force: true });
  });

  it('meets only the refusals a market can give, and trades', () => {
    for (const r of reports) expect(r.unexpected, `${r.dept} (seed ${SEED})`).toEqual([]);
    expect(reports.reduce((s, r) => s + r.placed, 0)).toBeGreaterThan(0);
    expect(reports.reduce((s, r) => s + r.fills, 0)).toBeGreaterThan(0);
  });

  it('conserves credits and cash, settles both legs of every trade, and keeps reservations equal to the book', async () => {
    const db = database.db;
    const credits = await verifyCredits(db);
    expect(credits, `seed ${SEED}`).toMatchObject({ ok: true, credits: { issued: CREDITS * BigInt(DEPTS.length) } });
    expect((await verifyLedger(db)).ok).toBe(true);
    const cash = await db
      .selectFrom('accounts')
      .select(['credits_posted', 'debits_posted'])
      .where('kind', '=', 'department')
      .where('financial_year', '=', FY)
      .execute();
    expect(cash.reduce((s, a) => s + BigInt(a.credits_posted) - BigInt(a.debits_posted), 0n)).toBe(CASH * BigInt(DEPTS.length));
    const trades = await db.selectFrom('credit_trades').selectAll().execute();
    const legs = new Set(
      (
        await db.selectFrom('transfers').select('id').where('code', 'in', [CREDIT_CODES.tradeCredits, CREDIT_CODES.tradeCash]).execute()
      ).map((t) => t.id),
    );
    expect(legs.size).toBe(trades.length * 2);
    for (const t of trades) {
      expect(legs.has(t.credits_transfer_id) && legs.has(t.cash_transfer_id), t.id).toBe(true);
      expect(t.buyer_code).not.toBe(t.seller_code);
    }
  });

  it('leaves a book that is not crossed', async () => {
    const open = await database.db.selectFrom('credit_orders').select(['side', 'limit_price_pence']).where('status', '=', 'open').execute();
    const bids = open.filter((o) => o.side === 'buy').map((o) => Number(o.limit_price_pence));
    const asks = open.filter((o) => o.side === 'sell').map((o) => Number(o.limit_price_pence));
    if (bids.length > 0 && asks.length > 0) expect(Math.max(...bids)).toBeLessThan(Math.min(...asks));
  });
});
