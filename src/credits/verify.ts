import type { Db, Tx } from '../db/database.ts';

/*
 * The registry's own invariants, checked from scratch beside the ledger's (GET /ledger/verify):
 *   credits conserved — issued = available + reserved + surrendered, where issued is what the
 *     issuance accounts have paid out, available what holdings have free (held less reserved, as a position shows it), reserved what resting sell
 *     orders hold back, surrendered what surrender accounts received;
 *   reservations match the book — each resting order has exactly one pending reservation, of its
 *     remaining quantity (sell) or remaining × limit price (buy), and nothing else is reserved;
 *   limits — no holding, department, fund or reservation account shows a negative posted balance
 *     (the ledger's own check covers the limit flags).
 */

export interface CreditsVerification {
  ok: boolean;
  credits: { issued: bigint; available: bigint; reserved: bigint; surrendered: bigint; conserved: boolean };
  reservations: { restingOrders: number; mismatched: string[]; reservedCredits: bigint; reservedCashPence: bigint; matchBook: boolean };
  negativeBalances: string[];
}

export async function verifyCredits(db: Db | Tx): Promise<CreditsVerification> {
  const accounts = await db
    .selectFrom('accounts')
    .select(['id', 'kind', 'ledger', 'debits_pending', 'debits_posted', 'credits_pending', 'credits_posted'])
    .where('kind', 'in', [
      'credit-issuance',
      'credit-holding',
      'credit-reservation',
      'credit-surrendered',
      'cash-reservation',
      'department',
      'fund',
    ])
    .execute();
  let issued = 0n;
  let available = 0n;
  let reserved = 0n;
  let surrendered = 0n;
  let marketCredits = 0n;
  let marketCash = 0n;
  const negativeBalances: string[] = [];
  for (const a of accounts) {
    const dp = BigInt(a.debits_pending);
    const balance = BigInt(a.credits_posted) - BigInt(a.debits_posted);
    if (a.kind === 'credit-issuance') {
      issued += BigInt(a.debits_posted) - BigInt(a.credits_posted);
      continue;
    }
    if (balance < 0n) negativeBalances.push(a.id);
    if (a.kind === 'credit-holding') {
      available += balance - dp;
      reserved += dp;
    } else if (a.kind === 'credit-surrendered') surrendered += balance;
    else if (a.kind === 'credit-reservation') marketCredits += BigInt(a.credits_pending) + balance;
    else if (a.kind === 'cash-reservation') marketCash += BigInt(a.credits_pending) + balance;
  }

  const resting = await db
    .selectFrom('credit_orders as o')
    .leftJoin('pending_transfers as p', 'p.id', 'o.reservation_id')
    .select([
      'o.id as id',
      'o.side as side',
      'o.quantity as quantity',
      'o.filled as filled',
      'o.limit_price_pence as price',
      'p.amount as amount',
      'p.status as status',
    ])
    .where('o.status', '=', 'open')
    .execute();
  const mismatched: string[] = [];
  let bookCredits = 0n;
  let bookCash = 0n;
  for (const o of resting) {
    const remaining = BigInt(o.quantity) - BigInt(o.filled);
    const expected = o.side === 'sell' ? remaining : remaining * BigInt(o.price);
    if (o.side === 'sell') bookCredits += expected;
    else bookCash += expected;
    if (o.status !== 'pending' || o.amount === null || BigInt(o.amount) !== expected) mismatched.push(o.id);
  }
  const matchBook = mismatched.length === 0 && bookCredits === marketCredits && bookCash === marketCash && reserved === marketCredits;
  const conserved = issued === available + reserved + surrendered;
  return {
    ok: conserved && matchBook && negativeBalances.length === 0,
    credits: { issued, available, reserved, surrendered, conserved },
    reservations: { restingOrders: resting.length, mismatched, reservedCredits: marketCredits, reservedCashPence: marketCash, matchBook },
    negativeBalances,
  };
}
