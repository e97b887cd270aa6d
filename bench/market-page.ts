import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM } from '../src/audit/audit.ts';
import { inTransaction } from '../src/db/database.ts';
import { placeOrder } from '../src/market/orders.ts';
import { createUser } from '../src/users/users.ts';
import { bookOfDepth, dept, FY } from './credits.ts';
import { bearer, compareViews, fetchOk, type Server, signInCookie, startServer, type View } from './loopback.ts';

/*
 * The order-book page against the JSON routes with the same data, over loopback to the app in its
 * own process, on SQLite: a year's market with 100 resting sell orders at 100 price levels from
 * one department, 50 resting buy orders at 50 levels and 20 trades from another;
 *   - page GET /market?fy={fy}, signed in as the buying department (the book by price level, the
 *     year's trade figures, the price history chart and its table);
 *   - GET /api/v1/financial-years/{fy}/credit-market, the book by price level;
 *   - that and GET /api/v1/credits/trades?fy={fy}, the trades and figures the history is drawn from.
 * One client back to back and four concurrent, in interleaved rounds (bench/loopback.ts).
 */

const SELLS = 100;
const BUYS = 50;
const TRADES = 20;

export async function benchMarketPage(scale: number, rounds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'topslice-bench-market-'));
  let server: Server | null = null;
  try {
    const path = join(dir, 'market.db');
    const database = await bookOfDepth(path, SELLS);
    const now = new Date();
    const { token } = await inTransaction(database.db, async (trx) => {
      for (let i = 0; i < TRADES; i++) {
        const r = await placeOrder(
          { trx, principal: dept('DWP'), requestId: null, now },
          { financialYear: FY, side: 'buy', quantity: 3n, limitPricePence: 1_000_000n, vintage: null },
        );
        if (r.fills.length !== 1) throw new Error(`expected one fill, got ${r.fills.length}`);
      }
      for (let i = 0; i < BUYS; i++) {
        await placeOrder(
          { trx, principal: dept('DWP'), requestId: null, now },
          { financialYear: FY, side: 'buy', quantity: 10n, limitPricePence: BigInt(900 - i), vintage: null },
        );
      }
      return createUser(trx, { name: 'DWP credits desk', role: 'department', organisationCode: 'DWP' }, SYSTEM);
    });
    await database.close();

    server = await startServer(['topslice', path]);
    const { base } = server;
    const desk = await signInCookie(base, token);
    const auth = bearer(token);
    const market = (await (await fetch(`${base}/api/v1/financial-years/${FY}/credit-market`, { headers: auth })).json()) as {
      book: unknown[];
    };
    const targets: View[] = [
      { label: `page GET /market?fy=${FY}`, view: () => fetchOk(`${base}/market?fy=${FY}`, desk) },
      {
        label: `API GET /api/v1/financial-years/${FY}/credit-market`,
        view: () => fetchOk(`${base}/api/v1/financial-years/${FY}/credit-market`, auth),
      },
      {
        label: 'API GET .../credit-market + /credits/trades',
        view: async () => {
          await fetchOk(`${base}/api/v1/financial-years/${FY}/credit-market`, auth);
          await fetchOk(`${base}/api/v1/credits/trades?fy=${FY}`, auth);
        },
      },
    ];
    const sliceMs = Math.round(500 * scale);
    console.log(
      `market page: a department's order book for ${FY} (${market.book.length} price levels, ${TRADES} trades), SQLite, loopback, ${rounds} interleaved rounds of ${sliceMs} ms slices`,
    );
    for (const clients of [1, 4]) await compareViews('market page', targets, { server, clients, rounds, sliceMs, aim: 0.5 });
  } finally {
    server?.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
