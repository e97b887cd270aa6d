import { allocate, type Dinero, dinero, GBP, halfEven, multiply, toDecimal, toSnapshot, transformScale } from 'dinero.js/bigint';

/**
 * Money is integer pence (`bigint`) everywhere. Arithmetic that can produce fractions of a
 * penny (rates, allocation) goes through dinero.js and is rounded half-even to the penny once,
 * at the end. Basis points: 10,000 = 100%.
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

/** Splits `amount` in the given ratios so the parts add up to it exactly (largest remainder first). */
export function allocatePence(amount: Pence, ratios: bigint[]): Pence[] {
  return allocate(gbp(amount), ratios).map(pence);
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
