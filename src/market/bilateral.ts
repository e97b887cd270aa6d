import { randomUUID } from 'node:crypto';
import { type Actor, appendAudit } from '../audit/audit.ts';
import { CREDITS_REFUSALS } from '../credits/refusals.ts';
import {
  actingDepartment,
  assertDepartmentInYear,
  assertInBand,
  assertTradingOpen,
  assertVintage,
  availableOf,
  creditAccounts,
  ensureAccounts,
  holdingAccount,
  lockYearState,
  mustHaveBand,
  nextSeqs,
} from '../credits/registry.ts';
import type { Db, Tx } from '../db/database.ts';
import type { BilateralTradeTable } from '../db/schema.ts';
import { MARKET_READERS, ownDepartmentScope } from '../fund/visibility.ts';
import { createTransfers } from '../ledger/ledger.ts';
import { formatCredits, formatPence, type Pence } from '../lib/money.ts';
import { type Act, type Look, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { REFERENCE_REFUSALS } from '../reference/refusals.ts';
import { actorOf, type Principal } from '../users/users.ts';
import type { Side } from './orders.ts';
import { MARKET_REFUSALS } from './refusals.ts';
import { deliveryVersusPayment, insertTrade } from './trades.ts';

/*
 * Bilateral trades: one department proposes to another a quantity of one vintage at a price
 * (within the year's floor and ceiling), as buyer or seller. The counterparty accepts or
 * declines; the proposer can withdraw; a proposal lapses at `expiresAt` (by default 7 days
 * after it was made). Nothing is reserved while a proposal is open: on acceptance the trade
 * settles delivery-versus-payment at that moment, both legs or neither, and a leg that cannot
 * settle (the seller no longer has the credits free, the buyer the cash) refuses the acceptance
 * and leaves the proposal open. The price must lie within the band when the trade settles, not
 * only when it was proposed: treasury may have narrowed the band since.
 * Statuses: proposed, accepted, declined, withdrawn, expired (shown once `expiresAt` has passed,
 * and set on every proposal still open when compliance ends the year's market).
 */

export type BilateralStatus = 'proposed' | 'accepted' | 'declined' | 'withdrawn' | 'expired';

export interface Bilateral {
  id: string;
  financialYear: string;
  proposerCode: string;
  counterpartyCode: string;
  proposerSide: Side;
  sellerCode: string;
  buyerCode: string;
  vintage: string;
  quantity: bigint;
  pricePence: Pence;
  status: BilateralStatus;
  expiresAt: string;
  proposedBy: string;
  proposedAt: string;
  resolvedBy: string | null;
  resolvedAt: string | null;
  tradeId: string | null;
}

export interface BilateralInput {
  financialYear: string;
  counterpartyCode: string;
  side: Side;
  vintage: string;
  quantity: bigint;
  pricePence: Pence;
  expiresInDays?: number;
}

type Row = BilateralTradeTable;

function fromRow(r: Row, now: Date): Bilateral {
  const side = r.proposer_side as Side;
  const lapsed = r.status === 'proposed' && r.expires_at <= now.toISOString();
  return {
    id: r.id,
    financialYear: r.financial_year,
    proposerCode: r.proposer_code,
    counterpartyCode: r.counterparty_code,
    proposerSide: side,
    sellerCode: side === 'sell' ? r.proposer_code : r.counterparty_code,
    buyerCode: side === 'buy' ? r.proposer_code : r.counterparty_code,
    vintage: r.vintage,
    quantity: BigInt(r.quantity),
    pricePence: BigInt(r.price_pence),
    status: lapsed ? 'expired' : (r.status as BilateralStatus),
    expiresAt: r.expires_at,
    proposedBy: r.proposed_by,
    proposedAt: r.proposed_at,
    resolvedBy: r.resolved_by,
    resolvedAt: r.resolved_at,
    tradeId: r.trade_id,
  };
}

/**
 * Refuses when `code` cannot deliver its side of the trade. Holdings and cash are private to
 * their department (src/fund/visibility.ts): only `actor`, the department asking, hears its own
 * figures; told about its counterparty, it learns only that the other side cannot settle.
 */
async function canDeliver(
  db: Db | Tx,
  b: { financialYear: string; vintage: string; quantity: bigint; pricePence: Pence },
  side: Side,
  code: string,
  actor: string,
): Promise<void> {
  const own = code === actor;
  if (side === 'sell') {
    const available = await availableOf(db, creditAccounts.holding(b.vintage, code));
    if (available < b.quantity) {
      throw refuse(
        CREDITS_REFUSALS,
        'insufficient-credits',
        own
          ? `${code} has ${formatCredits(available)} of vintage ${b.vintage} not already reserved; the trade needs ${formatCredits(b.quantity)}.`
          : `The seller, ${code}, does not hold enough credits of vintage ${b.vintage} not already reserved to settle this trade now; the proposal stays open.`,
      );
    }
  } else {
    const need = b.quantity * b.pricePence;
    const available = await availableOf(db, creditAccounts.cash(b.financialYear, code));
    if (available < need) {
      throw refuse(
        CREDITS_REFUSALS,
        'insufficient-cash',
        own
          ? `${code} has ${formatPence(available)} not already reserved in its ${b.financialYear} account; the trade needs ${formatPence(need)}.`
          : `The buyer, ${code}, does not have enough cash not already reserved to settle this trade now; the proposal stays open.`,
      );
    }
  }
}

/**
 * A department proposes a trade to another. Who: a department user, for their own department.
 * Refusals: financial-year-not-found, department-not-found (404); trading-year-not-closed,
 * trading-closed (409); market-prices-not-set, price-outside-band, vintage-in-the-future,
 * vintage-not-issued, department-not-in-year, counterparty-is-yourself, insufficient-credits,
 * insufficient-cash (422).
 */
export const proposeBilateral = operation(
  {
    roles: ['department'],
    organisation: 'a department user, for their own department',
    refuses: [
      'financial-year-not-found',
      'trading-year-not-closed',
      'trading-closed',
      'market-prices-not-set',
      'price-outside-band',
      'vintage-in-the-future',
      'vintage-not-issued',
      'counterparty-is-yourself',
      'department-not-found',
      'department-not-in-year',
      'insufficient-credits',
      'insufficient-cash',
    ],
  },
  async ({ trx, principal: p, requestId, now }: Act, input: BilateralInput): Promise<Bilateral> => {
    const code = actingDepartment(p);
    const fy = input.financialYear;
    assertTradingOpen(await lockYearState(trx, fy));
    const band = await mustHaveBand(trx, fy);
    assertInBand(band, input.pricePence, '/pricePence');
    await assertVintage(trx, fy, input.vintage);
    if (input.counterpartyCode === code) {
      throw refuse(MARKET_REFUSALS, 'counterparty-is-yourself', `${code} cannot trade with itself.`, {
        pointer: '/counterpartyCode',
      });
    }
    const other = await trx.selectFrom('organisations').select('kind').where('code', '=', input.counterpartyCode).executeTakeFirst();
    if (other?.kind !== 'department')
      throw refuse(REFERENCE_REFUSALS, 'department-not-found', `There is no department with the code ${input.counterpartyCode}.`);
    await assertDepartmentInYear(trx, fy, code);
    await assertDepartmentInYear(trx, fy, input.counterpartyCode, '/counterpartyCode');
    await canDeliver(trx, { ...input }, input.side, code, code);
    const row: Row = {
      id: randomUUID(),
      financial_year: fy,
      proposer_code: code,
      counterparty_code: input.counterpartyCode,
      proposer_side: input.side,
      vintage: input.vintage,
      quantity: input.quantity,
      price_pence: input.pricePence,
      status: 'proposed',
      expires_at: new Date(now.getTime() + (input.expiresInDays ?? 7) * 86_400_000).toISOString(),
      proposed_by: p.userId,
      proposed_at: now.toISOString(),
      resolved_by: null,
      resolved_at: null,
      trade_id: null,
    };
    await trx.insertInto('bilateral_trades').values(row).execute();
    const b = fromRow(row, now);
    await appendAudit(
      trx,
      { actor: actorOf(p), action: 'bilateral-trade.proposed', subject: `bilateral-trade/${row.id}`, detail: b, requestId },
      now,
    );
    return b;
  },
);

async function openProposal(trx: Tx, p: Principal, id: string, now: Date, who: 'proposer' | 'counterparty'): Promise<Bilateral> {
  const code = actingDepartment(p);
  const found = await trx.selectFrom('bilateral_trades').select('financial_year').where('id', '=', id).executeTakeFirst();
  if (!found) throw refuse(MARKET_REFUSALS, 'bilateral-trade-not-found', `There is no bilateral trade ${id}.`);
  await lockYearState(trx, found.financial_year);
  const b = fromRow(await trx.selectFrom('bilateral_trades').selectAll().where('id', '=', id).executeTakeFirstOrThrow(), now);
  if (b.proposerCode !== code && b.counterpartyCode !== code)
    throw refuse(MARKET_REFUSALS, 'bilateral-trade-not-found', `There is no bilateral trade ${id}.`);
  const mine = who === 'proposer' ? b.proposerCode : b.counterpartyCode;
  if (mine !== code) {
    throw refuse(
      MARKET_REFUSALS,
      'not-your-part',
      who === 'proposer'
        ? `Only ${b.proposerCode} can withdraw this proposal.`
        : `Only ${b.counterpartyCode} can accept or decline this proposal.`,
    );
  }
  if (b.status === 'expired') throw refuse(MARKET_REFUSALS, 'bilateral-trade-expired', `The proposal lapsed at ${b.expiresAt}.`);
  if (b.status !== 'proposed')
    throw refuse(MARKET_REFUSALS, 'bilateral-trade-not-open', `The proposal was ${b.status} at ${b.resolvedAt}.`);
  return b;
}

async function resolve(
  trx: Tx,
  p: Principal,
  b: Bilateral,
  status: BilateralStatus,
  tradeId: string | null,
  requestId: string | null,
  now: Date,
): Promise<Bilateral> {
  const at = now.toISOString();
  await trx
    .updateTable('bilateral_trades')
    .set({ status, resolved_by: p.userId, resolved_at: at, trade_id: tradeId })
    .where('id', '=', b.id)
    .execute();
  const after = { ...b, status, resolvedBy: p.userId, resolvedAt: at, tradeId };
  await appendAudit(
    trx,
    { actor: actorOf(p), action: `bilateral-trade.${status}`, subject: `bilateral-trade/${b.id}`, detail: { tradeId }, requestId },
    now,
  );
  return after;
}

/**
 * The counterparty accepts: the trade settles DvP now. Refusals: bilateral-trade-not-found (404);
 * not-your-part, bilateral-trade-expired, bilateral-trade-not-open, trading-closed (409);
 * price-outside-band, insufficient-credits, insufficient-cash (422, the proposal stays open).
 * It can also refuse: trade-cannot-settle (422).
 */
export const acceptBilateral = operation(
  {
    roles: ['department'],
    organisation: 'the department the proposal was made to',
    refuses: [
      'bilateral-trade-not-found',
      'not-your-part',
      'bilateral-trade-expired',
      'bilateral-trade-not-open',
      'trading-closed',
      'price-outside-band',
      'insufficient-credits',
      'insufficient-cash',
      'trade-cannot-settle',
    ],
  },
  async ({ trx, principal: p, requestId, now }: Act, id: string): Promise<Bilateral> => {
    const b = await openProposal(trx, p, id, now, 'counterparty');
    assertTradingOpen(await lockYearState(trx, b.financialYear));
    assertInBand(await mustHaveBand(trx, b.financialYear), b.pricePence);
    const trade = {
      id: randomUUID(),
      financialYear: b.financialYear,
      vintage: b.vintage,
      quantity: b.quantity,
      pricePence: b.pricePence,
      buyerCode: b.buyerCode,
      sellerCode: b.sellerCode,
    };
    await ensureAccounts(trx, [holdingAccount(b.vintage, b.buyerCode)], now);
    const results = await createTransfers(trx, deliveryVersusPayment(trade), now);
    const failed = results.find((r) => 'error' in r && r.error !== 'linked_event_failed');
    if (failed && 'error' in failed) {
      // Name the leg that could not settle; neither leg was applied.
      if (failed.id.endsWith('/credits')) await canDeliver(trx, b, 'sell', b.sellerCode, b.counterpartyCode);
      if (failed.id.endsWith('/cash')) await canDeliver(trx, b, 'buy', b.buyerCode, b.counterpartyCode);
      throw refuse(MARKET_REFUSALS, 'trade-cannot-settle', `Neither leg was applied: the ledger refused ${failed.id} (${failed.error}).`);
    }
    const [seq] = [await nextSeqs(trx, 1)];
    await insertTrade(trx, { ...trade, seq, bilateralId: b.id }, now.toISOString());
    return resolve(trx, p, b, 'accepted', trade.id, requestId, now);
  },
);

/**
 * The counterparty declines.
 * Refusals: `forbidden`; bilateral-trade-not-found (404), not-your-part (409),
 * bilateral-trade-expired (409), bilateral-trade-not-open (409).
 */
export const declineBilateral = operation(
  {
    roles: ['department'],
    organisation: 'the department the proposal was made to',
    refuses: ['bilateral-trade-not-found', 'not-your-part', 'bilateral-trade-expired', 'bilateral-trade-not-open'],
  },
  async ({ trx, principal: p, requestId, now }: Act, id: string): Promise<Bilateral> => {
    return resolve(trx, p, await openProposal(trx, p, id, now, 'counterparty'), 'declined', null, requestId, now);
  },
);

/** The proposer withdraws. Refusals: bilateral-trade-not-found (404); not-your-part, bilateral-trade-expired, bilateral-trade-not-open (409). */
export const withdrawBilateral = operation(
  {
    roles: ['department'],
    organisation: 'the department that made the proposal',
    refuses: ['bilateral-trade-not-found', 'not-your-part', 'bilateral-trade-expired', 'bilateral-trade-not-open'],
  },
  async ({ trx, principal: p, requestId, now }: Act, id: string): Promise<Bilateral> => {
    return resolve(trx, p, await openProposal(trx, p, id, now, 'proposer'), 'withdrawn', null, requestId, now);
  },
);

/** Ends a year's proposals when compliance runs: every one still open lapses (`expired`), as resting orders do. */
export async function expireOpenProposals(trx: Tx, fy: string, actor: Actor, requestId: string | null, now: Date): Promise<number> {
  const open = await trx
    .selectFrom('bilateral_trades')
    .select('id')
    .where('financial_year', '=', fy)
    .where('status', '=', 'proposed')
    .orderBy('id')
    .execute();
  if (open.length === 0) return 0;
  await trx
    .updateTable('bilateral_trades')
    .set({ status: 'expired', resolved_by: actor.userId ?? null, resolved_at: now.toISOString() })
    .where('financial_year', '=', fy)
    .where('status', '=', 'proposed')
    .execute();
  await appendAudit(
    trx,
    {
      actor,
      action: 'bilateral-trades.expired',
      subject: `financial-year/${fy}/market`,
      detail: { proposals: open.map((o) => o.id) },
      requestId,
    },
    now,
  );
  return open.length;
}

/** A year's bilateral trades, newest first (`department`: those it proposed or received). */
export async function listBilaterals(db: Db | Tx, fy: string, now: Date, department?: string): Promise<Bilateral[]> {
  let q = db.selectFrom('bilateral_trades').selectAll().where('financial_year', '=', fy);
  if (department) q = q.where((eb) => eb.or([eb('proposer_code', '=', department), eb('counterparty_code', '=', department)]));
  return (await q.orderBy('proposed_at', 'desc').orderBy('id').execute()).map((r) => fromRow(r, now));
}

export async function getBilateral(db: Db | Tx, p: Principal, id: string, now: Date): Promise<Bilateral> {
  const row = await db.selectFrom('bilateral_trades').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || (p.role === 'department' && row.proposer_code !== p.organisationCode && row.counterparty_code !== p.organisationCode)) {
    throw refuse(MARKET_REFUSALS, 'bilateral-trade-not-found', `There is no bilateral trade ${id}.`);
  }
  return fromRow(row, now);
}

/** Year `fy`'s bilateral proposals as of `now`: a department those it made or received. */
export const readBilaterals = operation(
  { ...MARKET_READERS, refuses: [] },
  ({ db, principal }: Look, fy: string, now: Date): Promise<Bilateral[]> => listBilaterals(db, fy, now, ownDepartmentScope(principal)),
);

/** One bilateral proposal as of `now`. Refusals: bilateral-trade-not-found (404, also if your department is not a party). */
export const readBilateral = operation(
  { ...MARKET_READERS, refuses: ['bilateral-trade-not-found'] },
  ({ db, principal }: Look, id: string, now: Date): Promise<Bilateral> => getBilateral(db, principal, id, now),
);
