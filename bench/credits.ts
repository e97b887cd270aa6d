import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM } from '../src/audit/audit.ts';
import { closeYear } from '../src/credits/close.ts';
import { CREDIT_CODES, creditAccounts } from '../src/credits/registry.ts';
import { type Database, inTransaction } from '../src/db/database.ts';
import { prepareDatabase } from '../src/db/prepare.ts';
import { createFinancialYear, setDepartmentYear } from '../src/fund/fund.ts';
import { createTransfers } from '../src/ledger/ledger.ts';
import { placeOrder } from '../src/market/orders.ts';
import { setMarketPrices } from '../src/market/prices.ts';
import type { Principal } from '../src/users/users.ts';
import { describe, fmt, fmtRange, interleave, measure, rate, ratios, rawCommits, spread } from './measure.ts';

/*
 * Credits benchmarks (npm run bench):
 *  - order submission with matching, durable, through the service (placeOrder in its own
 *    transaction on SQLite, WAL, synchronous=FULL), at book depths of 100, 1,000 and 10,000
 *    resting orders, as a ratio to raw better-sqlite3 single-transaction commits measured in the
 *    same run. Each incoming buy meets the best resting sell and part-fills it (release its
 *    reservation, both DvP legs, reserve the rest), so the book keeps its depth;
 *  - year close for 50 departments over 100,000 verified benefit reports: time.
 */

export const FY = '2026-27';
const NOW = new Date('2026-06-01T09:00:00Z');
export const dept = (code: string): Principal => ({
  userId: `bench-${code}`,
  name: code,
  role: 'department',
  organisationCode: code,
  isChair: false,
});

/** A market (SQLite at `path`) with `depth` resting sell orders from DHSC, one price level each, and a buyer, DWP, with cash to spare. */
export async function bookOfDepth(path: string, depth: number): Promise<Database> {
  const database = await prepareDatabase({ engine: 'sqlite', path });
  const db = database.db;
  await inTransaction(db, async (trx) => {
    await createFinancialYear(trx, FY, SYSTEM, null, NOW);
    for (const code of ['DHSC', 'DWP']) {
      await setDepartmentYear(
        trx,
        FY,
        code,
        { baselinePence: 1_000_000_000_000_00n, topSliceBasisPoints: 0, savingsTargetPence: 0n },
        SYSTEM,
        null,
        NOW,
      );
    }
    await closeYear(trx, FY, SYSTEM, null, NOW);
    await setMarketPrices(
      { trx: trx, principal: { ...dept('T'), role: 'treasury', organisationCode: null }, requestId: null, now: NOW },
      FY,
      { floorPence: 1n, ceilingPence: 1_000_000n },
    );
    await createTransfers(
      trx,
      [
        {
          id: 'bench-issue',
          debitAccountId: creditAccounts.issuance(FY),
          creditAccountId: creditAccounts.holding(FY, 'DHSC'),
          amount: 1_000_000_000_000n,
          ledger: 'CREDIT',
          code: CREDIT_CODES.issue,
        },
      ],
      NOW,
    );
  });
  // Build the book in a few large transactions: it is set-up, not what is measured.
  for (let start = 0; start < depth; start += 1000) {
    await inTransaction(db, async (trx) => {
      for (let i = start; i < Math.min(depth, start + 1000); i++) {
        await placeOrder(
          { trx: trx, principal: dept('DHSC'), requestId: null, now: NOW },
          { financialYear: FY, side: 'sell', quantity: 1_000_000n, limitPricePence: BigInt(1000 + i), vintage: FY },
        );
      }
    });
  }
  return database;
}

export async function benchCredits(scale: number, rounds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'topslice-bench-credits-'));
  try {
    const n = Math.max(50, Math.round(200 * scale));
    const raw = await rawCommits(join(dir, 'credits-raw.db'), n);
    console.log(
      `credits: order submission with matching, durable (SQLite, WAL, synchronous=FULL), ${fmt(n)} orders per round, ${rounds} interleaved rounds`,
    );
    const medians: number[] = [];
    for (const depth of [100, 1_000, 10_000]) {
      const database = await bookOfDepth(join(dir, `book-${depth}.db`), depth);
      const orders = async () => {
        const started = performance.now();
        for (let i = 0; i < n; i++) {
          const r = await inTransaction(database.db, (trx) =>
            placeOrder(
              { trx: trx, principal: dept('DWP'), requestId: null, now: new Date() },
              { financialYear: FY, side: 'buy', quantity: 1n, limitPricePence: 1_000_000n, vintage: null },
            ),
          );
          if (r.fills.length !== 1) throw new Error(`expected one fill, got ${r.fills.length}`);
        }
        return performance.now() - started;
      };
      const [rawTimes, orderTimes] = await interleave([raw.round, orders], rounds);
      const open = await database.db.selectFrom('credit_orders').select('id').where('status', '=', 'open').execute();
      const ratio = measure(
        `credits: order submission / raw commits, depth ${depth}`,
        'ratio',
        ratios(rawTimes as number[], orderTimes as number[]),
        {
          op: '>=',
          value: 0.5,
        },
      );
      medians.push(ratio.median);
      const orderRate = spread((orderTimes as number[]).map((ms) => rate(n, ms)));
      const rawRate = spread((rawTimes as number[]).map((ms) => rate(n, ms)));
      console.log(
        `  depth ${fmt(open.length).padStart(6)}: ${fmtRange(orderRate)} orders/s, raw better-sqlite3 commits ${fmtRange(rawRate)}/s, ratio ${describe(ratio)}`,
      );
      await database.close();
    }
    raw.close();
    const flat = measure('credits: order submission, slowest depth / fastest depth', 'ratio', [
      Math.min(...medians) / Math.max(...medians),
    ]);
    console.log(`  flatness: slowest depth / fastest depth (median ratios) = ${flat.median.toFixed(2)}   (1.00 is flat)`);
    console.log();
    await benchClose(dir, scale);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Year close for 50 departments over 100,000 verified benefit reports (2,000 cases × 50 lines). */
async function benchClose(dir: string, scale: number): Promise<void> {
  const reportsWanted = Math.round(100_000 * scale);
  const database = await prepareDatabase({ engine: 'sqlite', path: join(dir, 'close.db') });
  const db = database.db;
  const codes = Array.from({ length: 50 }, (_, i) => `BENCH-DEPT-${String(i).padStart(2, '0')}`);
  await db
    .insertInto('organisations')
    .values(
      codes.map((code) => ({
        code,
        name: code,
        kind: 'department',
        place_code: null,
        department_code: null,
        gss_code: null,
        details: '{}',
      })),
    )
    .execute();
  await inTransaction(db, async (trx) => {
    await createFinancialYear(trx, FY, SYSTEM, null, NOW);
    for (const [i, code] of codes.entries()) {
      await setDepartmentYear(
        trx,
        FY,
        code,
        { baselinePence: 1_000_000_00n, topSliceBasisPoints: 0, savingsTargetPence: BigInt(i) * 50_000_00n },
        SYSTEM,
        null,
        NOW,
      );
    }
    await trx
      .insertInto('funding_rounds')
      .values({
        id: 'bench-round',
        financial_year: FY,
        name: 'Bench round',
        envelope_pence: 1n,
        opens_on: '2026-04-01',
        closes_on: '2026-05-01',
        min_match_funding_basis_points: 0,
        themes: '[]',
        quorum: 1,
        criteria: '[]',
        parameter_set_name: 'bench',
        parameter_set_version: '1',
        deflator_edition: null,
        created_at: NOW.toISOString(),
        created_by: 'bench',
      })
      .execute();
  });
  const lines = codes.map((code, i) => ({ outcome: `Saving ${i}`, beneficiaryCode: code, type: 'fiscal', cashable: i % 5 !== 0 }));
  const cases = Math.ceil(reportsWanted / codes.length);
  await inTransaction(db, async (trx) => {
    for (let c = 0; c < cases; c++) {
      await trx
        .insertInto('cases')
        .values({
          id: `bench-case-${c}`,
          reference: `BENCH-${c}`,
          round_id: 'bench-round',
          lead_council_code: 'BRADFORD',
          status: 'approved',
          revision: 1,
          document: JSON.stringify({ placeCode: 'BRADFORD', benefits: lines }),
          created_at: NOW.toISOString(),
          created_by: 'bench',
          updated_at: NOW.toISOString(),
          submitted_at: NOW.toISOString(),
          submitted_by: 'bench',
        })
        .execute();
      const rows = codes.map((code, line) => ({
        id: `bench-report-${c}-${line}`,
        case_id: `bench-case-${c}`,
        line_index: line,
        year: FY,
        beneficiary_code: code,
        claimed_pence: BigInt(1_000_00 + line * 7 + c),
        evidence: 'bench',
        status: 'verified',
        reported_by: 'bench',
        reported_at: NOW.toISOString(),
        verified_pence: BigInt(1_000_00 + line * 7 + c),
        reviewed_by: 'bench',
        reviewed_at: NOW.toISOString(),
        rejection_reason: null,
      }));
      await trx.insertInto('benefit_reports').values(rows).execute();
    }
  });
  const started = performance.now();
  const { close } = await inTransaction(db, (trx) => closeYear(trx, FY, SYSTEM, null, NOW));
  const ms = performance.now() - started;
  measure(`credits: year close, 50 departments, ${cases * codes.length} verified reports`, 's', [ms / 1000]);
  const withCredits = close.departments.filter((d) => d.creditsIssued > 0n).length;
  const owing = close.departments.filter((d) => d.obligationCredits > 0n).length;
  const provenance = close.departments.reduce((s, d) => s + d.provenanceReports, 0);
  console.log(
    `credits: year close for ${close.departments.length} departments over ${fmt(cases * codes.length)} verified benefit reports (SQLite, one transaction)`,
  );
  console.log(
    `  ${(ms / 1000).toFixed(2)} s: ${withCredits} departments issued credits, ${owing} owe, ${fmt(provenance)} reports recorded as provenance`,
  );
  await database.close();
}
