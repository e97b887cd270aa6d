/**
 * A child process for test/credits/concurrency.test.ts: one department placing and cancelling
 * limit orders in a year's market as fast as it can, each in its own transaction.
 *
 * It prints `ready` once connected, waits for the go file, and ends with one JSON line
 * (MarketWorkerReport).
 *
 * Environment:
 *   MARKET_WORKER_DB     the DatabaseConfig as JSON
 *   MARKET_WORKER_DEPT   the department it acts for
 *   MARKET_WORKER_FY     the market's financial year
 *   MARKET_WORKER_OPS    how many operations, over all lanes
 *   MARKET_WORKER_LANES  concurrent async loops (each its own transaction)
 *   MARKET_WORKER_SEED   the random seed
 *   MARKET_WORKER_GO     start when this file exists
 *   MARKET_WORKER_PAUSE  at most this many milliseconds (random) to wait after each operation
 */
import { existsSync } from 'node:fs';
import type { DatabaseConfig } from '../../src/config.ts';
import { inTransaction, openDatabase } from '../../src/db/database.ts';
import { DomainError } from '../../src/lib/errors.ts';
import { cancelOrder, placeOrder } from '../../src/market/orders.ts';
import type { Principal } from '../../src/users/users.ts';
import { random } from './child.ts';

export interface MarketWorkerReport {
  dept: string;
  placed: number;
  fills: number;
  cancelled: number;
  refused: Record<string, number>;
  unexpected: string[];
}

/** Refusals a racing department can meet; anything else is a failure. */
const EXPECTED = new Set(['insufficient-credits', 'insufficient-cash', 'self-trade-prevented', 'order-not-open']);

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const config = JSON.parse(env('MARKET_WORKER_DB')) as DatabaseConfig;
  const dept = env('MARKET_WORKER_DEPT');
  const fy = env('MARKET_WORKER_FY');
  const ops = Number(env('MARKET_WORKER_OPS'));
  const lanes = Number(env('MARKET_WORKER_LANES'));
  const pause = Number(process.env.MARKET_WORKER_PAUSE ?? '0');
  const rand = random(Number(env('MARKET_WORKER_SEED')));
  const database = await openDatabase(config);
  const db = database.db;
  const p: Principal = { userId: `worker-${dept}`, name: dept, role: 'department', organisationCode: dept, isChair: false };
  const report: MarketWorkerReport = { dept, placed: 0, fills: 0, cancelled: 0, refused: {}, unexpected: [] };
  await db.selectFrom('credit_orders').select('id').limit(1).execute();
  console.log('ready');
  while (!existsSync(env('MARKET_WORKER_GO'))) await sleep(5);

  let left = ops;
  const lane = async () => {
    while (left > 0) {
      left--;
      try {
        if (rand() < 0.25) {
          const open = await db
            .selectFrom('credit_orders')
            .select('id')
            .where('department_code', '=', dept)
            .where('status', '=', 'open')
            .execute();
          const pick = open[Math.floor(rand() * open.length)];
          if (pick) {
            await inTransaction(db, (trx) => cancelOrder({ trx: trx, principal: p, requestId: null, now: new Date() }, pick.id));
            report.cancelled++;
          }
        } else {
          const side = rand() < 0.5 ? 'buy' : 'sell';
          const r = await inTransaction(db, (trx) =>
            placeOrder(
              { trx: trx, principal: p, requestId: null, now: new Date() },
              {
                financialYear: fy,
                side,
                quantity: BigInt(1 + Math.floor(rand() * 5)),
                limitPricePence: BigInt(20 + Math.floor(rand() * 20)),
                vintage: side === 'sell' ? fy : null,
              },
            ),
          );
          report.placed++;
          report.fills += r.fills.length;
        }
      } catch (e) {
        if (e instanceof DomainError && EXPECTED.has(e.type)) report.refused[e.type] = (report.refused[e.type] ?? 0) + 1;
        else report.unexpected.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      }
      if (pause > 0) await sleep(rand() * pause);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  await database.close();
  console.log(JSON.stringify(report));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
