import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/audit/audit.ts';
import { runCompliance } from '../../src/compliance/compliance.ts';
import { closeYear } from '../../src/credits/close.ts';
import { CREDIT_CODES, creditAccounts } from '../../src/credits/registry.ts';
import { verifyCredits } from '../../src/credits/verify.ts';
import { type Db, inTransaction } from '../../src/db/database.ts';
import { createFinancialYear, parseFinancialYear, setDepartmentYear } from '../../src/fund/fund.ts';
import { createTransfers } from '../../src/ledger/ledger.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { DomainError } from '../../src/lib/errors.ts';
import { acceptBilateral, declineBilateral, proposeBilateral } from '../../src/market/bilateral.ts';
import { cancelOrder, placeOrder } from '../../src/market/orders.ts';
import { setMarketPrices } from '../../src/market/prices.ts';
import type { Principal } from '../../src/users/users.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/db.ts';
import { MarketModel, type Side } from './market-model.ts';

/*
 * Properties of the credits market over random sequences of issuance, limit orders,
 * cancellations and bilateral trades, then compliance, on each engine. Every outcome is
 * predicted by the simple reference in ./market-model.ts (same inputs → same refusals, same
 * fills at the same prices against the same resting orders). After every step: each
 * department's credits, cash and reservations equal the model's; the book is never crossed;
 * nobody traded with itself; credits are conserved and reservations equal what rests
 * (verifyCredits); the ledger verifies. At the end, compliance surrenders no vintage later than
 * the obligation's year although a later vintage is held, and buys out the rest at the ceiling
 * as far as the department's cash goes.
 *
 * One database per engine; each run uses its own pair of financial years and its own four
 * departments (so credits banked by one run are not another's).
 */

const RUNS = Number(process.env.CREDITS_PROPERTY_RUNS ?? 12);
const STEPS = Number(process.env.CREDITS_PROPERTY_STEPS ?? 30);
const ROLES_OF = ['A', 'B', 'C', 'D'] as const;
const CASH_OF: Record<string, bigint> = { A: 400n, B: 600n, C: 1000n, D: 150n };
const TARGET_OF: Record<string, bigint> = { A: 0n, B: 3000n, C: 500n, D: 0n };
const CEILING = 20n;
const NOW = new Date('2026-06-01T09:00:00Z');
/** A year is closed on or after its first day; these runs use years of their own, ahead of NOW. */
const onFirstDay = (fy: string) => new Date(`${parseFinancialYear(fy)?.startsOn}T09:00:00Z`);

type Command =
  | { kind: 'issue'; dept: number; q: number }
  | { kind: 'order'; dept: number; side: Side; q: number; price: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'bilateral'; proposer: number; other: number; side: Side; q: number; price: number; accept: boolean };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('issue' as const), dept: fc.nat(3), q: fc.integer({ min: 1, max: 12 }) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('order' as const),
      dept: fc.nat(3),
      side: fc.constantFrom<Side>('buy', 'sell'),
      q: fc.integer({ min: 1, max: 8 }),
      price: fc.integer({ min: 1, max: 20 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat(50) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('bilateral' as const),
      proposer: fc.nat(3),
      other: fc.nat(3),
      side: fc.constantFrom<Side>('buy', 'sell'),
      q: fc.integer({ min: 1, max: 8 }),
      price: fc.integer({ min: 1, max: 20 }),
      accept: fc.boolean(),
    }),
  },
);

const principal = (code: string): Principal => ({
  userId: `user-${code}`,
  name: code,
  role: 'department',
  organisationCode: code,
  isChair: false,
});
const show = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
const yearName = (y: number) => `${y}-${String((y + 1) % 100).padStart(2, '0')}`;

/** The refusal's type, or rethrow. */
async function outcome<T>(work: () => Promise<T>): Promise<{ ok: T } | { refused: string }> {
  try {
    return { ok: await work() };
  } catch (e) {
    if (e instanceof DomainError) return { refused: e.type };
    throw e;
  }
}

describe.each(engines())('credits market properties on %s', (engine) => {
  let tdb: TestDatabase;
  let db: Db;
  let nextYear = 2030;
  beforeAll(async () => {
    tdb = await freshDatabase(engine);
    db = tdb.database.db;
  });
  afterAll(() => tdb.destroy());

  async function setUp(): Promise<{
    fy: string;
    later: string;
    DEPTS: string[];
    CASH: Record<string, bigint>;
    TARGET: Record<string, bigint>;
  }> {
    const fy = yearName(nextYear);
    const later = yearName(nextYear + 1);
    const DEPTS = ROLES_OF.map((r) => `RUN${nextYear}-${r}`);
    const CASH = Object.fromEntries(ROLES_OF.map((r, i) => [DEPTS[i], CASH_OF[r]])) as Record<string, bigint>;
    const TARGET = Object.fromEntries(ROLES_OF.map((r, i) => [DEPTS[i], TARGET_OF[r]])) as Record<string, bigint>;
    nextYear += 2;
    await db
      .insertInto('organisations')
      .values(
        DEPTS.map((code) => ({
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
      for (const y of [fy, later]) await createFinancialYear(trx, y, SYSTEM, null, NOW);
      for (const d of DEPTS) {
        await setDepartmentYear(
          trx,
          fy,
          d,
          { baselinePence: CASH[d] as bigint, topSliceBasisPoints: 0, savingsTargetPence: TARGET[d] as bigint },
          SYSTEM,
          null,
          NOW,
        );
        await setDepartmentYear(trx, later, d, { baselinePence: 1n, topSliceBasisPoints: 0, savingsTargetPence: 0n }, SYSTEM, null, NOW);
      }
      await closeYear(trx, fy, SYSTEM, null, onFirstDay(fy));
      await setMarketPrices(
        { trx: trx, principal: { ...principal('X'), role: 'treasury', organisationCode: null }, requestId: null, now: NOW },
        fy,
        { floorPence: 1n, ceilingPence: CEILING },
      );
    });
    return { fy, later, DEPTS, CASH, TARGET };
  }

  async function issue(fy: string, dept: string, q: bigint, id: string): Promise<void> {
    await inTransaction(db, async (trx) => {
      const [r] = await createTransfers(
        trx,
        [
          {
            id,
            debitAccountId: creditAccounts.issuance(fy),
            creditAccountId: creditAccounts.holding(fy, dept),
            amount: q,
            ledger: 'CREDIT',
            code: CREDIT_CODES.issue,
          },
        ],
        NOW,
      );
      if (!r || 'error' in r) throw new Error(`issue: ${show(r)}`);
    });
  }

  async function checkAgainstModel(fy: string, DEPTS: string[], model: MarketModel, label: string): Promise<void> {
    const accounts = await db.selectFrom('accounts').selectAll().where('financial_year', '=', fy).execute();
    const byId = new Map(accounts.map((a) => [a.id, a]));
    for (const d of DEPTS) {
      const h = byId.get(creditAccounts.holding(fy, d));
      const c = byId.get(creditAccounts.cash(fy, d));
      const got = {
        credits: h ? BigInt(h.credits_posted) - BigInt(h.debits_posted) : 0n,
        creditsReserved: h ? BigInt(h.debits_pending) : 0n,
        cash: c ? BigInt(c.credits_posted) - BigInt(c.debits_posted) : 0n,
        cashReserved: c ? BigInt(c.debits_pending) : 0n,
      };
      expect(got, `${label}: ${d}`).toEqual({
        credits: model.credits.get(d),
        creditsReserved: model.reservedCredits(d),
        cash: model.cash.get(d),
        cashReserved: model.reservedCash(d),
      });
    }
    const open = await db
      .selectFrom('credit_orders')
      .selectAll()
      .where('financial_year', '=', fy)
      .where('status', '=', 'open')
      .orderBy('seq')
      .execute();
    expect(
      open.map((o) => [o.id, BigInt(o.quantity) - BigInt(o.filled)]),
      `${label}: the book`,
    ).toEqual(model.book.map((o) => [o.id, o.remaining]));
    const bids = open.filter((o) => o.side === 'buy').map((o) => Number(o.limit_price_pence));
    const asks = open.filter((o) => o.side === 'sell').map((o) => Number(o.limit_price_pence));
    if (bids.length > 0 && asks.length > 0) {
      const best = Math.max(...bids);
      const ask = Math.min(...asks);
      expect(best < ask, `${label}: crossed book (bid ${best}, ask ${ask})`).toBe(true);
    }
    const selfTrades = await db
      .selectFrom('credit_trades')
      .select('id')
      .where('financial_year', '=', fy)
      .whereRef('buyer_code', '=', 'seller_code')
      .execute();
    expect(selfTrades, `${label}: self-trades`).toEqual([]);
    const v = await verifyCredits(db);
    expect(v, label).toMatchObject({ ok: true });
  }

  it('agrees with the reference matcher and keeps every invariant', async () => {
    let issued = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: STEPS }), async (commands) => {
        const { fy, later, DEPTS, CASH, TARGET } = await setUp();
        const model = new MarketModel(CASH);
        let step = 0;
        for (const c of commands) {
          const label = `${fy} step ${step++} ${JSON.stringify(c)}`;
          if (c.kind === 'issue') {
            const d = DEPTS[c.dept] as string;
            await issue(fy, d, BigInt(c.q), `test-issue/${fy}/${issued++}`);
            model.issue(d, BigInt(c.q));
          } else if (c.kind === 'order') {
            const d = DEPTS[c.dept] as string;
            const [q, price] = [BigInt(c.q), BigInt(c.price)];
            const expected = model.order(d, c.side, q, price);
            const got = await outcome(() =>
              inTransaction(db, (trx) =>
                placeOrder(
                  { trx: trx, principal: principal(d), requestId: null, now: NOW },
                  { financialYear: fy, side: c.side, quantity: q, limitPricePence: price, vintage: c.side === 'sell' ? fy : null },
                ),
              ),
            );
            if ('refused' in expected) {
              expect(got, label).toEqual({ refused: expected.refused });
            } else {
              expect('ok' in got, `${label}: ${show(got)}`).toBe(true);
              if (!('ok' in got)) return;
              expect(
                got.ok.fills.map((f) => [f.restingOrderId, f.quantity, f.pricePence]),
                label,
              ).toEqual(expected.fills.map((f) => [f.restingId, f.quantity, f.price]));
              expect(got.ok.order.remaining, label).toBe(expected.remaining);
              model.apply(got.ok.order.id, d, c.side, price, expected.fills, expected.remaining);
            }
          } else if (c.kind === 'cancel') {
            if (model.book.length === 0) continue;
            const o = model.book[c.pick % model.book.length];
            if (!o) continue;
            await inTransaction(db, (trx) => cancelOrder({ trx: trx, principal: principal(o.dept), requestId: null, now: NOW }, o.id));
            model.cancel(o.id);
          } else {
            const proposer = DEPTS[c.proposer] as string;
            const other = DEPTS[c.other] as string;
            if (proposer === other) continue;
            const [q, price] = [BigInt(c.q), BigInt(c.price)];
            const [seller, buyer] = c.side === 'sell' ? [proposer, other] : [other, proposer];
            const proposerShort =
              c.side === 'sell'
                ? model.availableCredits(proposer) < q
                  ? 'insufficient-credits'
                  : null
                : model.availableCash(proposer) < q * price
                  ? 'insufficient-cash'
                  : null;
            const proposed = await outcome(() =>
              inTransaction(db, (trx) =>
                proposeBilateral(
                  { trx: trx, principal: principal(proposer), requestId: null, now: NOW },
                  { financialYear: fy, counterpartyCode: other, side: c.side, vintage: fy, quantity: q, pricePence: price },
                ),
              ),
            );
            if (proposerShort) {
              expect(proposed, label).toEqual({ refused: proposerShort });
              continue;
            }
            if (!('ok' in proposed)) throw new Error(`${label}: ${show(proposed)}`);
            if (!c.accept) {
              await inTransaction(db, (trx) =>
                declineBilateral({ trx: trx, principal: principal(other), requestId: null, now: NOW }, proposed.ok.id),
              );
            } else {
              const expected = model.bilateral(seller, buyer, q, price);
              const accepted = await outcome(() =>
                inTransaction(db, (trx) =>
                  acceptBilateral({ trx: trx, principal: principal(other), requestId: null, now: NOW }, proposed.ok.id),
                ),
              );
              if (expected) expect(accepted, label).toEqual({ refused: expected });
              else expect('ok' in accepted, `${label}: ${show(accepted)}`).toBe(true);
            }
          }
          await checkAgainstModel(fy, DEPTS, model, label);
        }

        // A later vintage is held by everyone before compliance: it must not be surrendered.
        await inTransaction(db, (trx) => closeYear(trx, later, SYSTEM, null, onFirstDay(later)));
        for (const d of DEPTS) await issue(later, d, 50n, `test-issue/${later}/${d}`);
        const { run } = await inTransaction(db, (trx) => runCompliance(trx, fy, SYSTEM, null, NOW));
        for (const d of DEPTS) {
          const r = run.results.find((x) => x.departmentCode === d);
          const owed = (TARGET[d] as bigint) / 100n;
          const held = model.credits.get(d) ?? 0n;
          const surrendered = held < owed ? held : owed;
          const due = (owed - surrendered) * CEILING;
          const cash = model.cash.get(d) ?? 0n;
          expect(r, `${fy} compliance ${d}`).toMatchObject({
            obligationCredits: owed,
            surrenderedCredits: surrendered,
            buyOutDuePence: due,
            buyOutPaidPence: due < cash ? due : cash,
          });
          expect(r?.surrendered.every((s) => s.vintage <= fy)).toBe(true);
        }
        expect(await verifyCredits(db)).toMatchObject({ ok: true });
        expect((await verifyLedger(db)).ok).toBe(true);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, 600_000);
});
