import { smaller } from '../../src/credits/registry.ts';

/*
 * A deliberately simple reference for the credits market, written from the rules in
 * src/market/orders.ts and src/compliance/compliance.ts alone: the book is a plain list, sorted
 * afresh for every incoming order; balances are plain numbers. Used by the property test to
 * predict every outcome of the service.
 */

export type Side = 'buy' | 'sell';

export interface RefOrder {
  id: string;
  dept: string;
  side: Side;
  remaining: bigint;
  price: bigint;
  seq: number;
}

export interface RefFill {
  restingId: string;
  quantity: bigint;
  price: bigint;
}

/** Price, then time, at the resting price; meeting one's own order first refuses the whole order. */
export function referenceMatch(
  book: RefOrder[],
  incoming: { dept: string; side: Side; quantity: bigint; price: bigint },
): { refused: 'self-trade-prevented' } | { fills: RefFill[]; remaining: bigint } {
  const crosses = (o: RefOrder) =>
    o.side !== incoming.side && (incoming.side === 'buy' ? o.price <= incoming.price : o.price >= incoming.price);
  const better = (a: RefOrder, b: RefOrder) => {
    if (a.price !== b.price) return incoming.side === 'buy' ? (a.price < b.price ? -1 : 1) : a.price > b.price ? -1 : 1;
    return a.seq - b.seq;
  };
  const candidates = book.filter(crosses).sort(better);
  let remaining = incoming.quantity;
  const fills: RefFill[] = [];
  for (const o of candidates) {
    if (remaining === 0n) break;
    if (o.dept === incoming.dept) return { refused: 'self-trade-prevented' };
    const q = smaller(o.remaining, remaining);
    fills.push({ restingId: o.id, quantity: q, price: o.price });
    remaining -= q;
  }
  return { fills, remaining };
}

export class MarketModel {
  readonly book: RefOrder[] = [];
  readonly credits = new Map<string, bigint>();
  readonly cash = new Map<string, bigint>();
  private seq = 0;

  constructor(cash: Record<string, bigint>) {
    for (const [d, c] of Object.entries(cash)) {
      this.cash.set(d, c);
      this.credits.set(d, 0n);
    }
  }

  reservedCredits(dept: string): bigint {
    return this.book.filter((o) => o.dept === dept && o.side === 'sell').reduce((s, o) => s + o.remaining, 0n);
  }

  reservedCash(dept: string): bigint {
    return this.book.filter((o) => o.dept === dept && o.side === 'buy').reduce((s, o) => s + o.remaining * o.price, 0n);
  }

  availableCredits(dept: string): bigint {
    return (this.credits.get(dept) ?? 0n) - this.reservedCredits(dept);
  }

  availableCash(dept: string): bigint {
    return (this.cash.get(dept) ?? 0n) - this.reservedCash(dept);
  }

  issue(dept: string, q: bigint): void {
    this.credits.set(dept, (this.credits.get(dept) ?? 0n) + q);
  }

  /** What the service must answer to an order: a refusal's type, or the fills and what rests. */
  order(dept: string, side: Side, quantity: bigint, price: bigint): { refused: string } | { fills: RefFill[]; remaining: bigint } {
    if (side === 'sell' && this.availableCredits(dept) < quantity) return { refused: 'insufficient-credits' };
    if (side === 'buy' && this.availableCash(dept) < quantity * price) return { refused: 'insufficient-cash' };
    return referenceMatch(this.book, { dept, side, quantity, price });
  }

  /** Applies an accepted order with the id the service gave it. */
  apply(id: string, dept: string, side: Side, price: bigint, fills: RefFill[], remaining: bigint): void {
    for (const f of fills) {
      const resting = this.book.find((o) => o.id === f.restingId) as RefOrder;
      const [buyer, seller] = side === 'buy' ? [dept, resting.dept] : [resting.dept, dept];
      this.settle(seller, buyer, f.quantity, f.price);
      resting.remaining -= f.quantity;
    }
    for (let i = this.book.length - 1; i >= 0; i--) if (this.book[i]?.remaining === 0n) this.book.splice(i, 1);
    this.seq++;
    if (remaining > 0n) this.book.push({ id, dept, side, remaining, price, seq: this.seq });
  }

  cancel(id: string): void {
    const i = this.book.findIndex((o) => o.id === id);
    if (i >= 0) this.book.splice(i, 1);
  }

  /** A bilateral trade at acceptance: both legs or neither. */
  bilateral(seller: string, buyer: string, quantity: bigint, price: bigint): string | null {
    if (this.availableCredits(seller) < quantity) return 'insufficient-credits';
    if (this.availableCash(buyer) < quantity * price) return 'insufficient-cash';
    this.settle(seller, buyer, quantity, price);
    return null;
  }

  private settle(seller: string, buyer: string, q: bigint, p: bigint): void {
    this.credits.set(seller, (this.credits.get(seller) ?? 0n) - q);
    this.credits.set(buyer, (this.credits.get(buyer) ?? 0n) + q);
    this.cash.set(buyer, (this.cash.get(buyer) ?? 0n) - q * p);
    this.cash.set(seller, (this.cash.get(seller) ?? 0n) + q * p);
  }
}
