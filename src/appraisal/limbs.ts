/**
 * Whole numbers held as little-endian arrays of 24-bit limbs in JavaScript numbers: the appraisal engine's fast path
 * for its per-year sums (see "Year rows" in engine.ts), where a bigint would be allocated for every step.
 *
 * Why it is exact: a JavaScript number holds every whole number below 2^53 exactly, and every value here stays
 * whole and below that. A limb is a whole number in [0, 2^24). `addMul` adds limb × factor + limb + carry with a
 * factor below 2^28: at most (2^24 − 1)(2^28 − 1) + (2^24 − 1) + 2^29 < 2^53, and the carry taken out, ⌊x / 2^24⌋, is
 * below 2^29 again. Scaling by 2^−24 is exact (a power of two), so the floor is exact too. `sub` borrows at most 1.
 * Nothing is rounded except in `divRound`, whose quotient is only guessed from floating-point approximations and then
 * corrected by exact limb arithmetic until 0 ≤ remainder < divisor holds, so the guess never decides the answer.
 *
 * A result that would not fit its array, or a quotient too large to guess, throws `LimbOverflow`; the engine then
 * takes its plain bigint path, so no bound is assumed.
 */

export const LIMB_BITS = 24;
export const LIMB = 16_777_216; // 2^24
const BASE = LIMB;
const INV = 1 / BASE; // 2^−24, exact
/** The largest limb count whose value a JavaScript number can approximate (2^(24 × 42) < 2^1024). */
export const MAX_LIMBS = 40;
/** Factors passed to addMul must be below this (see the header). */
export const MAX_FACTOR = 268_435_456; // 2^28
/** Quotients divRound will guess: below 2^50, so a guess is off by at most a few units. */
const MAX_QUOTIENT = 1_125_899_906_842_624; // 2^50

export type Limbs = number[];

/** A value outside the fast path's bounds: the caller recomputes with bigints. */
export class LimbOverflow extends Error {
  constructor() {
    super('value outside the limb fast path');
    this.name = 'LimbOverflow';
  }
}

export function zeros(n: number): Limbs {
  return new Array<number>(n).fill(0);
}

/** x ≥ 0 as `n` limbs; throws LimbOverflow when it does not fit. */
export function limbsOf(x: bigint, n: number): Limbs {
  const out = zeros(n);
  let rest = x;
  for (let i = 0; rest > 0n; i++) {
    if (i >= n) throw new LimbOverflow();
    out[i] = Number(rest & 0xff_ffffn);
    rest >>= 24n;
  }
  return out;
}

/** A safe whole number x ≥ 0 as `n` limbs. */
export function limbsOfNumber(x: number, n: number): Limbs {
  const out = zeros(n);
  let rest = x;
  for (let i = 0; rest > 0; i++) {
    if (i >= n) throw new LimbOverflow();
    const hi = Math.floor(rest * INV);
    out[i] = rest - hi * BASE;
    rest = hi;
  }
  return out;
}

/** The value of `a` as a bigint (two limbs at a time, each pair below 2^48). */
export function bigintOf(a: Limbs): bigint {
  let top = a.length - 1;
  while (top >= 0 && a[top] === 0) top--;
  let r = 0n;
  let i = top;
  if ((top & 1) === 0 && top >= 0) {
    r = BigInt(a[top]!);
    i--;
  }
  for (; i > 0; i -= 2) r = (r << 48n) + BigInt(a[i]! * BASE + a[i - 1]!);
  return r;
}

/** acc += a × f × 2^(24 × offset), for a whole f with 0 ≤ f < 2^28; throws LimbOverflow if acc is too short. */
export function addMul(acc: Limbs, a: Limbs, f: number, offset = 0): void {
  if (f === 0) return;
  let carry = 0;
  const n = acc.length;
  let i = 0;
  for (; i < a.length; i++) {
    const ai = a[i]!;
    if (ai === 0 && carry === 0) continue;
    const k = i + offset;
    if (k >= n) throw new LimbOverflow();
    const x = acc[k]! + ai * f + carry;
    carry = Math.floor(x * INV);
    acc[k] = x - carry * BASE;
  }
  for (let k = i + offset; carry !== 0; k++) {
    if (k >= n) throw new LimbOverflow();
    const x = acc[k]! + carry;
    carry = Math.floor(x * INV);
    acc[k] = x - carry * BASE;
  }
}

/** acc += a × b (limb by limb of b, each below 2^24 < 2^28). */
export function addProduct(acc: Limbs, a: Limbs, b: Limbs): void {
  for (let j = 0; j < b.length; j++) {
    const bj = b[j]!;
    if (bj !== 0) addMul(acc, a, bj, j);
  }
}

/** acc −= b, for acc ≥ b. */
export function sub(acc: Limbs, b: Limbs): void {
  let borrow = 0;
  let i = 0;
  for (; i < b.length; i++) {
    const x = acc[i]! - b[i]! + borrow;
    borrow = x < 0 ? -1 : 0;
    acc[i] = x - borrow * BASE;
  }
  for (; borrow !== 0; i++) {
    if (i >= acc.length) throw new RangeError('limbs: subtraction below zero');
    const x = acc[i]! + borrow;
    borrow = x < 0 ? -1 : 0;
    acc[i] = x - borrow * BASE;
  }
}

/** −1, 0 or 1 as a <, = or > b. */
export function cmp(a: Limbs, b: Limbs): -1 | 0 | 1 {
  for (let i = Math.max(a.length, b.length) - 1; i >= 0; i--) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function isZero(a: Limbs): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

/** A floating-point approximation of a (relative error below 2^−47), for guessing quotients only. */
function approx(a: Limbs): number {
  let top = a.length - 1;
  while (top >= 0 && a[top] === 0) top--;
  if (top < 0) return 0;
  const lo = top >= 2 ? top - 2 : 0;
  let v = 0;
  for (let i = top; i >= lo; i--) v = v * BASE + a[i]!;
  return v * 2 ** (LIMB_BITS * lo);
}

/**
 * n / d rounded half-even to a whole number (n ≥ 0, d > 0), exactly: a guess from approximations, then corrected
 * until n = q × d + r with 0 ≤ r < d, then rounded by comparing 2r with d. Throws LimbOverflow when the quotient is
 * 2^50 or more.
 */
export function divRound(n: Limbs, d: Limbs): number {
  const len = Math.max(n.length, d.length) + 3;
  if (len - 3 > MAX_LIMBS) throw new LimbOverflow();
  const guess = Math.floor(approx(n) / approx(d));
  if (!(guess >= 0 && guess < MAX_QUOTIENT)) throw new LimbOverflow();
  let q = guess;
  // t = d × q, with q in 24-bit pieces.
  const t = zeros(len);
  const q0 = q % BASE;
  const q1 = Math.floor(q * INV) % BASE;
  const q2 = Math.floor(q * INV * INV);
  addMul(t, d, q0, 0);
  addMul(t, d, q1, 1);
  addMul(t, d, q2, 2);
  while (cmp(t, n) > 0) {
    sub(t, d);
    q--;
  }
  const r = n.slice();
  while (r.length < len) r.push(0);
  sub(r, t);
  while (cmp(r, d) >= 0) {
    sub(r, d);
    q++;
  }
  if (isZero(r)) return q;
  const twice = zeros(len);
  addMul(twice, r, 2);
  const c = cmp(twice, d);
  return c > 0 || (c === 0 && q % 2 === 1) ? q + 1 : q;
}

/** a ×= f in place, for a whole f with 0 ≤ f < 2^28; throws LimbOverflow if a is too short. */
export function scale(a: Limbs, f: number): void {
  let carry = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! * f + carry;
    carry = Math.floor(x * INV);
    a[i] = x - carry * BASE;
  }
  if (carry !== 0) throw new LimbOverflow();
}
