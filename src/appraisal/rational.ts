/**
 * Exact arithmetic helpers for the appraisal engine: bigint numerators over bigint denominators,
 * decimal strings parsed exactly, and half-even rounding applied once, at the output.
 * No floats ever touch a money figure (floorDiv may guess a quotient with one, then corrects it exactly).
 */

const POW10: bigint[] = [1n];

/** 10^n as a bigint (cached). */
export function pow10(n: number): bigint {
  if (n < 0 || !Number.isInteger(n)) throw new RangeError(`pow10: ${n}`);
  while (POW10.length <= n) POW10.push((POW10[POW10.length - 1] as bigint) * 10n);
  return POW10[n] as bigint;
}

/** Quotients below this in size are rounded from a float when its error bound decides them (see roundHalfEven). */
const DECIDED = 2 ** 40;
/** How far from a deciding point (a half-integer; for a floor, an integer) the float must lie: 2^−8. */
const MARGIN = 2 ** -8;

/**
 * n / d rounded half-even (banker's rounding) to an integer; d must be positive. `dN` is Number(d), passed in by
 * callers that divide by the same d many times (it must be exactly that, or omitted).
 * Fast path, exact: x = Number(n) / Number(d) is within a relative 3 × 2^−53 of n / d (each conversion and the
 * division round to nearest), so when |x| < 2^40 it is within 2^−10 of the exact quotient. If x's fractional part
 * then lies more than 2^−8 away from ½, the exact quotient lies strictly within ½ of the same integer as x's nearest,
 * which decides the rounding (never a tie; see roundWithin). Otherwise (near a tie, about one quotient in 128, or
 * too large, or beyond a float's range) it takes the exact division. The float only decides between two integers;
 * the figure is always the exact value's rounding.
 */
export function roundHalfEven(n: bigint, d: bigint, dN: number = Number(d)): bigint {
  // A divisor beyond a float's range would make any n look like 0.
  const decided = dN < Number.POSITIVE_INFINITY ? decidedRound(Number(n) / dN, MARGIN) : null;
  if (decided !== null) return decided;
  const { q, r } = floorDiv(n, d);
  return roundFloored(q, r, d);
}

/**
 * The half-even rounding of an exact value z known only to lie within `err` of the float x (|x| < 2^40), or null
 * when that does not decide it (roundWithin): decided unless x's fractional part lies within err of ½. NaN and
 * infinities are never decided.
 */
export function decidedRound(x: number, err: number): bigint | null {
  return x > -DECIDED && x < DECIDED ? roundWithin(x, err) : null;
}

/** Beyond this a float's fractional part has too few bits to decide anything by (see roundWithin). */
const WITHIN = 2 ** 52;

/**
 * The half-even rounding of an exact value z known only to lie within `err` (below 1/8) of the float x, for any
 * |x| < 2^52, or null when that does not decide it: x − ⌊x⌋ is exact for every such double, so a fractional part f
 * more than err below ½ puts z strictly within ½ of ⌊x⌋ (it rounds to ⌊x⌋, even when z is whole), and more than err
 * above ½ puts it strictly within ½ of ⌊x⌋ + 1. Only near a tie is nothing decided. The margins are widened by
 * 2^−40, more than the rounding of ½ ± err.
 */
export function roundWithin(x: number, err: number): bigint | null {
  if (!(x > -WITHIN && x < WITHIN) || !(err < 0.125)) return null;
  const e = err + 2 ** -40;
  const floor = Math.floor(x);
  const f = x - floor;
  return f < 0.5 - e ? BigInt(floor) : f > 0.5 + e ? BigInt(floor + 1) : null;
}

/**
 * ⌊z⌋ for an exact value z known only to lie within `err` (below 1/8) of the float x (|x| < 2^52), when x's
 * fractional part lies more than err from 0 and 1 (so z is not whole either), else null; `half` says which side of
 * ⌊z⌋ + ½ z lies, or 0 when the float cannot tell. As roundWithin.
 */
export function floorWithin(x: number, err: number): { floor: number; half: -1 | 0 | 1 } | null {
  if (!(x > -WITHIN && x < WITHIN) || !(err < 0.125)) return null;
  const e = err + 2 ** -40;
  const floor = Math.floor(x);
  const f = x - floor;
  if (!(f > e && f < 1 - e)) return null;
  return { floor, half: f < 0.5 - e ? -1 : f > 0.5 + e ? 1 : 0 };
}

/**
 * ⌊n / d⌋ when a float decides it (d positive, dN = Number(d)), else null: as in roundHalfEven, x = Number(n) / dN is
 * within 2^−10 of n / d when |x| < 2^40, so a fractional part more than 2^−8 away from 0 and 1 puts n / d strictly
 * between ⌊x⌋ and ⌊x⌋ + 1: the floor is ⌊x⌋ and n / d is not whole. `half` reports which side of ⌊x⌋ + ½ it lies,
 * or 0 when the float cannot tell.
 */
export function decidedFloor(n: bigint, dN: number, scale = 1): { floor: number; half: -1 | 0 | 1 } | null {
  const x = (Number(n) * scale) / dN;
  return x > -DECIDED && x < DECIDED ? floorWithin(x, MARGIN) : null;
}

/** n / d as a decimal string with exactly `dp` places, rounded half-even; d must be positive. */
export function toDecimalString(n: bigint, d: bigint, dp: number): string {
  return decimalString(roundHalfEven(n * pow10(dp), d), dp);
}

/** q / 10^dp as a decimal string with exactly `dp` places. */
export function decimalString(q: bigint, dp: number): string {
  const negative = q < 0n;
  const digits = (negative ? -q : q).toString();
  if (dp === 0) return (negative ? '-' : '') + digits;
  const padded = digits.padStart(dp + 1, '0');
  return `${negative ? '-' : ''}${padded.slice(0, -dp)}.${padded.slice(-dp)}`;
}

/** n / d rounded half-even to 4 decimal places, as a JSON number (null-free; d must be positive). */
export function toNumber4dp(n: bigint, d: bigint): number {
  return Number(roundHalfEven(n * 10_000n, d)) / 10_000;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** An exact decimal ("0.035", "1.5e-7", "105.3095") as `num / 10^scale`; null if not a decimal. */
export function parseDecimal(text: string): { num: bigint; scale: number } | null {
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const fraction = m[3] ?? '';
  let num = BigInt(`${m[2]}${fraction}`);
  if (m[1] === '-') num = -num;
  let scale = fraction.length - Number(m[4] ?? '0');
  if (scale < 0) {
    num *= pow10(-scale);
    scale = 0;
  }
  return { num, scale };
}

/** A finite JavaScript number as an exact decimal (its shortest round-trip form) `num / 10^scale`. */
export function numberToDecimal(value: number): { num: bigint; scale: number } {
  if (Number.isSafeInteger(value)) return { num: BigInt(value), scale: 0 };
  const parsed = parseDecimal(String(value));
  if (!parsed) throw new RangeError(`not a finite number: ${value}`);
  return parsed;
}

export function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** Compares a/b with c/d (b, d positive): -1, 0 or 1. */
export function compareFractions(a: bigint, b: bigint, c: bigint, d: bigint): -1 | 0 | 1 {
  const l = a * d;
  const r = c * b;
  return l < r ? -1 : l > r ? 1 : 0;
}

/**
 * A non-negative exact value held as whole part q plus remainder r / d (0 ≤ r < d), so running totals
 * can be kept and rounded without a division per step.
 */
export interface Floored {
  q: bigint;
  r: bigint;
}

/** Quotients below this are guessed (see floorDiv): 2^50, so a guess is off by at most one. */
const GUESSED = 1_125_899_906_842_624;

/**
 * ⌊n / d⌋ and the remainder n − q × d (0 ≤ r < d), for any n and a positive d.
 * Fast path, exact: a bigint division is slow (it allocates scratch space and divides digit by digit), and most
 * quotients here are amounts of pence far below 2^50. So the quotient is first GUESSED from the two values'
 * floating-point approximations (each within a relative 2^−53 of the exact value, so the guess is within one of
 * ⌊n / d⌋ whenever that is below 2^50), then checked and corrected with exact integer arithmetic until
 * 0 ≤ r < d holds, which defines ⌊n / d⌋ uniquely. The float is never a result: only the corrected integers are.
 * Larger quotients (or values beyond a float's range) take the plain bigint division.
 */
export function floorDiv(n: bigint, d: bigint): Floored {
  const guess = Math.floor(Number(n) / Number(d));
  if (guess > -GUESSED && guess < GUESSED) {
    let q = BigInt(guess);
    let r = n - q * d;
    while (r < 0n) {
      r += d;
      q -= 1n;
    }
    while (r >= d) {
      r -= d;
      q += 1n;
    }
    return { q, r };
  }
  let q = n / d; // truncates toward zero
  let r = n - q * d;
  if (r < 0n) {
    r += d;
    q -= 1n;
  }
  return { q, r };
}

/** Adds b to a in place (same denominator d). */
export function addFloored(a: Floored, b: Floored, d: bigint): void {
  a.q += b.q;
  a.r += b.r;
  if (a.r >= d) {
    a.r -= d;
    a.q += 1n;
  }
}

/** q + r / d rounded half-even, for 0 ≤ r < d (any q). */
export function roundFloored(q: bigint, r: bigint, d: bigint): bigint {
  if (r === 0n) return q;
  const twice = r << 1n;
  return twice > d || (twice === d && (q & 1n) !== 0n) ? q + 1n : q;
}
