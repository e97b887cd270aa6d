import { type Dinero, dinero, GBP, halfEven, multiply, toDecimal, toSnapshot, transformScale } from 'dinero.js/bigint';

/**
 * Money is integer pence (`bigint`) everywhere. A rate applied to an amount goes through
 * dinero.js and is rounded half-even to the penny once, at the end; a split of an amount into
 * parts follows the allocation rule below. Basis points: 10,000 = 100%.
 */

export type Pence = bigint;

export const gbp = (pence: Pence): Dinero<bigint> => dinero({ amount: pence, currency: GBP });

function pence(d: Dinero<bigint>): Pence {
  const { amount, scale } = toSnapshot(transformScale(d, 2n, halfEven));
  if (scale !== 2n) throw new Error('money must be at pence scale');
  return amount;
}

/** `amount × basisPoints / 10,000`, rounded half-even to the penny. */
export function applyBasisPoints(amount: Pence, basisPoints: number): Pence {
  if (!Number.isSafeInteger(basisPoints)) throw new RangeError('basis points must be a whole number');
  return pence(multiply(gbp(amount), { amount: BigInt(basisPoints), scale: 4n }));
}

/*
 * The allocation rule (tranches of an award, and any other split of an amount by shares):
 * **largest remainder, ties to the earlier part.** Each part first gets its exact share
 * (amount × ratio / Σ ratios) rounded down to the penny; the pence left over then go one each to
 * the parts whose exact shares lost the most in that rounding down, and between parts that lost
 * the same, to the earlier one. So the parts add up to the amount exactly, and no part is more
 * than a penny from its exact share: 10p at 50/26/24% is 5p, 3p, 2p (exact 5, 2.6, 2.4).
 */

/**
 * Splits `amount` (pence, ≥ 0) in the given ratios (each ≥ 0, at least one > 0) by the
 * allocation rule above. Returns one part per ratio, in the same order, adding up to `amount`.
 * Throws RangeError on a negative amount or ratio, or ratios that add up to nothing.
 */
export function allocatePence(amount: Pence, ratios: bigint[]): Pence[] {
  if (amount < 0n) throw new RangeError('an amount to allocate must not be negative');
  if (ratios.some((r) => r < 0n)) throw new RangeError('allocation ratios must not be negative');
  const total = ratios.reduce((s, r) => s + r, 0n);
  if (total === 0n) throw new RangeError('allocation ratios must not all be zero');
  const parts = ratios.map((r) => (amount * r) / total);
  // What each part lost to rounding down, in units of 1 / total of a penny.
  const lost = ratios.map((r) => (amount * r) % total);
  let left = amount - parts.reduce((s, p) => s + p, 0n);
  const order = ratios.map((_, i) => i).sort((a, b) => (lost[a] === lost[b] ? a - b : (lost[b] as bigint) > (lost[a] as bigint) ? 1 : -1));
  for (const i of order) {
    if (left === 0n) break;
    parts[i] = (parts[i] as bigint) + 1n;
    left--;
  }
  return parts;
}

const formatter = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP' });

/** `£1,234.56`, for pages, reports and messages. */
export function formatPence(amount: Pence): string {
  return toDecimal(gbp(amount), ({ value }) => formatter.format(value as unknown as number));
}

/** For JSON: money leaves the service as an integer number of pence, and must be exact. */
export function penceToJson(amount: Pence): number {
  const n = Number(amount);
  if (!Number.isSafeInteger(n)) throw new RangeError(`amount ${amount} is beyond a JSON safe integer`);
  return n;
}

/** A value as it leaves in JSON: every bigint (pence, counters) an exact integer number. */
export type Jsonified<T> = T extends bigint
  ? number
  : T extends (infer U)[]
    ? Jsonified<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonified<T[K]> }
      : T;

export function toJson<T>(value: T): Jsonified<T> {
  if (typeof value === 'bigint') return penceToJson(value) as Jsonified<T>;
  if (Array.isArray(value)) return value.map(toJson) as Jsonified<T>;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)])) as Jsonified<T>;
  }
  return value as Jsonified<T>;
}

/** `1,000,000 credits`, `1 credit`: a count of savings credits (the CREDIT ledger's unit) for pages, reports and messages. */
export function formatCredits(count: bigint | number): string {
  const n = BigInt(count);
  return `${n.toLocaleString('en-GB')} ${n === 1n || n === -1n ? 'credit' : 'credits'}`;
}

/*
 * Money typed into a form: **pounds, with or without a £, with or without thousands commas
 * (placed every three digits), and at most two decimal places** — `£1,234.56`, `1234.56`, `1234.5`,
 * `1234`. It is read digit by digit into integer pence, never through a float, so `0.29` is 29p
 * exactly (as a float, 0.29 × 100 is 28.999…).
 */
const POUNDS = /^£?\s*((?:\d{1,3}(?:,\d{3})+)|\d+)(?:\.(\d{1,2}))?$/;

/**
 * `£1,234.56` → 123456n. Returns null for anything that is not a non-negative amount written as
 * above, or that is more pence than JSON carries exactly (2^53 − 1: £90,071,992,547,409.91).
 */
export function parsePounds(text: string): Pence | null {
  const m = POUNDS.exec(text.trim());
  if (!m) return null;
  const whole = BigInt((m[1] as string).replace(/,/g, ''));
  const fraction = BigInt((m[2] ?? '').padEnd(2, '0'));
  const pence = whole * 100n + fraction;
  return pence <= BigInt(Number.MAX_SAFE_INTEGER) ? pence : null;
}

/** 123456n → `1234.56`: pence as a form field's value, which `parsePounds` reads back exactly. */
export function penceAsPoundsInput(amount: Pence): string {
  const sign = amount < 0n ? '-' : '';
  const abs = amount < 0n ? -amount : amount;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/*
 * A rate typed into a form as a percentage (impact, deadweight, cashable share, ...): **a number
 * from 0 to 100, with at most two decimal places, with or without a % sign** — `35`, `12.5`,
 * `12.75%`. It is read as a decimal string into whole basis points (1% = 100 basis points), never
 * through a float, so `12.34` is 1,234 basis points exactly; a third decimal place is refused
 * rather than rounded, as it would not be what the user typed.
 */
const PERCENT = /^(\d{1,3})(?:\.(\d{1,2}))?\s*%?$/;

/** `12.5%` → 1250 (basis points). Returns null for anything that is not a percentage from 0 to 100 written as above. */
export function parsePercent(text: string): number | null {
  const m = PERCENT.exec(text.trim());
  if (!m) return null;
  const bp = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return bp <= 10_000 ? bp : null;
}

/** 1250 → `12.5`: basis points as a percentage field's value, which `parsePercent` reads back exactly. */
export function basisPointsAsPercentInput(bp: number): string {
  const whole = Math.trunc(bp / 100);
  const fraction = String(bp % 100)
    .padStart(2, '0')
    .replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}
