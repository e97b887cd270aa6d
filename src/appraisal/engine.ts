/**
 * The appraisal engine: HM Treasury's *cost benefit analysis guidance for local partnerships*
 * (2014) on Green Book discounting (DESIGN.md step 4). Pure functions: no database, no HTTP.
 * Full write-up with worked examples: src/appraisal/README.md and test/appraisal/golden.md.
 *
 * Method (t = 0 is `input.baseYear`, t = 1 the next financial year, …):
 *   cost_{line,t}     = amount × (1 + cost uplift of its grade)
 *   v_t               = volumes[t], or need[t] × engagement
 *   benefit_{line,s}  = Σ over cohorts engaged in year t with t + lag ≤ s ≤ t + lag + persistenceYears − 1 of
 *                       v_t × impact × (1 − deadweight) × (1 − displacement) × unitValue × deflator[base] /
 *                       deflator[priceYear] × (1 − benefit haircut of its grade) × (1 − dropOff)^(s − t − lag)
 *   cashable part     = a fiscal line's benefit × its cashable share (cashable true/false = 10,000 / 0 bp)
 *   DF_t              = 1 / Π_{k=1..t} (1 + r_k), DF_0 = 1, r_k the schedule's rate for year k taken from its exact
 *                       decimal string (standard: 3.5% to year 30, 3.0% from year 31, so DF_31 = 1/(1.035^30 × 1.03))
 *   PV                = Σ_t value_t × DF_t
 *   fiscal NPV = PV fiscal − PV costs; public-value NPV = PV all benefits − PV costs;
 *   fiscal ROI = PV fiscal / PV costs; BCR = PV all benefits / PV costs (null when PV costs is 0).
 *
 * Sensitivity (every appraisal): fiscal NPV, BCR and band with optimism bias removed, every line one grade worse,
 * impact × 0.8, and every lag one year longer, each from its own exact value.
 *
 * Exactness and rounding: everything inside is an exact rational held as bigint numerators over ONE common
 * denominator G = 10^16 × L × D, where D = Π_{k=1..T} p_k for the reduced fractions 1 + r_k = p_k / q_k (so
 * DF_t = N_t / D with integer N_t), 10^16 carries the four basis-point factors, and L is a common multiple (built
 * without a gcd: see commonDenominator) of the per-line denominators (price-year deflator × volume decimal scale × 10^4 for engagement × b^(p−1)
 * for a drop-off leaving a/b of each year). No exact value is turned into a JavaScript number to be scaled or formatted. Sums are therefore plain integer
 * sums (order-independent by construction) and no gcd is taken on the hot path. Each output figure is rounded
 * independently, HALF-EVEN, from its own exact value, only at the output: money to whole pence, ratios to 4 dp
 * (a JSON number), discount factors to 10 dp (a string). So reported parts need not add to reported totals to the
 * penny (e.g. who-benefits rows vs PV totals); every figure is the correctly rounded exact value. The VfM band
 * compares the EXACT BCR with the band edges (a BCR of 0.99999 is "poor" even though it prints as 1.0000).
 *
 * Shortcuts, each exact and each checked against the plain method in test/appraisal/fast-paths.test.ts and
 * decided.test.ts: a drop-off line's yields are summed as JavaScript integers only when they provably stay below 2^53
 * (fiscalYields); under one rate a line's discounted yield is summed in runs of years as whole numbers below 2^53,
 * one bigint product per run (runYield); one more year of lag is PV × 1/(1 + r) when one rate runs to the horizon
 * (Discounting.oneRate); the band follows from the BCR's 4-dp floor when its edges have at most 4 decimals (bcrOf).
 * A float may DECIDE a rounding, never be one: roundHalfEven, the BCR (decidedFloor) and the fiscal year rows
 * (fiscalRowsDecided) take a float with a proven error bound and use it only when the bound puts the exact value
 * strictly within ½ of one integer (decidedRound, roundWithin); otherwise they take the exact bigint path. A whole
 * appraisal is decided that way first (decidedFigures: each line's PV as a float, the fiscal figures falling back to
 * the fiscal lines taken exactly), and worked out exactly (exactFigures) when a bound does not settle a figure; both
 * give the same figures (test/appraisal/decided-figures.test.ts).
 * The exact divisions guess their quotient from floats and correct it (floorDiv, test/appraisal/division.test.ts).
 *
 * Switching values: fiscal NPV is linear in each input varied, so each is exact: for "costs" (every cost line
 * scaled together; value = the undiscounted total of the amounts as entered) C* = C0 × PVfiscal / PVcosts; for the
 * unit value of each of the five largest fiscal lines by PV, u* = u0 × (PVline − fiscalNPV) / PVline. The string
 * carries enough decimals (≥ 2) that substituting it moves fiscal NPV less than 1/1000 of a penny from zero.
 * A unit-value switching value that would have to be negative is null (no admissible value makes NPV zero).
 *
 * Sources (fixtures/appraisal/SOURCES.md): HM Treasury, PSTN and New Economy, "Supporting public service
 * transformation: cost benefit analysis guidance for local partnerships" (2014); HM Treasury Green Book (2003
 * Annex 6 Table 6.1 declining schedule; 2022 health rate 1.5%); DfT value-for-money categories; HM Treasury GDP
 * deflators (March 2026). The optimism-bias table is UNVERIFIED, so that set is marked provisional and every
 * appraisal using it carries a warning.
 */
import { DomainError, type FieldError } from '../lib/errors.ts';
import { AppraisalDataError, deflatorTableSchema, financialYearName, financialYearStart, parameterSetSchema } from './parameters.ts';
import {
  decidedFloor,
  decimalString,
  floorDiv,
  floorWithin,
  gcd,
  numberToDecimal,
  parseDecimal,
  pow10,
  roundFloored,
  roundHalfEven,
  roundWithin,
  toDecimalString,
  toNumber4dp,
} from './rational.ts';
import type {
  AppraisalInput,
  AppraisalResult,
  BenefitLine,
  BenefitType,
  DeflatorTable,
  DiscountBand,
  DiscountScheduleName,
  ParameterSet,
  SensitivityCase,
  SwitchingValue,
  VfmBand,
} from './types.ts';

export { AppraisalDataError, parseDeflatorTable, parseParameterSet, parseParameterSets } from './parameters.ts';

/**
 * The limits of a case, stated once here and used by the API's validation too: a cost line or a cohort may fall
 * at most MAX_YEAR_INDEX years after the base year; a cohort yields for at most MAX_PERSISTENCE_YEARS years,
 * beginning at most MAX_LAG_YEARS years after engagement. So no benefit falls more than 60 + 10 + 30 − 1 = 99
 * years after the base year (100 with the sensitivity's extra year of lag).
 */
export const MAX_YEAR_INDEX = 60;
export const MAX_PERSISTENCE_YEARS = 30;
export const MAX_LAG_YEARS = 10;
/** Decimal places of the per-year discount factor strings. */
export const DISCOUNT_FACTOR_DECIMALS = 10;
const LAG_LABEL = 'Every benefit line’s lag one year longer';
/** How many fiscal benefit lines (largest PV first) get a unit-value switching value. */
export const SWITCHING_LINES = 5;

/**
 * The case cannot be appraised as entered. A DomainError of kind `invalid`, so the API turns it into a
 * 400 problem with one field error per problem (`pointer` is a JSON Pointer into the input, e.g. "/costs/2/year").
 */
export class AppraisalInputError extends DomainError {
  /** Pointer of the first problem. */
  readonly path: string;
  constructor(errors: FieldError[]) {
    const first = errors[0] ?? { pointer: '', detail: 'invalid input' };
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    super('invalid', 'appraisal-input', 'The case cannot be appraised', `${first.pointer}: ${first.detail}${more}`, {}, errors);
    this.name = 'AppraisalInputError';
    this.path = first.pointer ?? '';
  }
}

// ---------------------------------------------------------------------------------------------
// Parameter sets and deflator tables, compiled once per object (module-level caches).

interface Discounting {
  /** DF_t = N[t] / D. */
  N: bigint[];
  D: bigint;
  /** PN[t] = N[0] + … + N[t−1], so Σ_{t=a..b−1} N[t] = PN[b] − PN[a]. */
  PN: bigint[];
  /** windows[p].values[t] = N[t] + … + N[t+p−1]: what one unit engaged in year t for p years is worth (over D). */
  windows: Window[];
  /** The same with drop-off, keyed by p × 10,001 + keep (see dropWindow). */
  dropWindows: Map<number, Window>;
  /**
   * 1 + r = p / q when every year 1 … horizon has the same rate r, else null. Then one more year of lag discounts
   * every benefit by exactly one more factor q / p (DF_{s+1} = DF_s × q / p), so that sensitivity is PV × q / p.
   */
  oneRate: [bigint, bigint] | null;
  /** Common denominators of cases discounted over this horizon (see commonDenominator). */
  common: Map<string, CommonDenominator>;
  /** N[t] / D as floats (discountFloats), or null when D is beyond a float's range; undefined until asked for. */
  floats?: number[] | null;
  /** What runYield needs (runsOf), or null without one rate; undefined until asked for. */
  runs?: Runs | null;
}

/**
 * A case's common denominator G = 10^16 × L × D and, per kind of benefit line, deflator[base] × L / the line's
 * denominator (see commonDenominator). Both depend only on the deflator table, the base year, the price years rebased
 * from, the largest volume scale and drop-off powers, and D, so they are cached per discounting under those.
 */
interface CommonDenominator {
  L: bigint;
  G: bigint;
  /** By price year rebased from ('' when used as stated), then by kind (volume scale and drop-off powers). */
  factors: Map<string, Map<number, bigint>>;
}

/** keep / 10,000 in lowest terms, as [a, b] (0 is 0/1): the smaller b, the smaller every exact number. */
function dropFraction(keep: number): [bigint, bigint] {
  let x = keep;
  let y = 10_000;
  while (y !== 0) [x, y] = [y, x % y];
  return keep === 0 ? [0n, 1n] : [BigInt(keep / x), BigInt(10_000 / x)];
}

/** a^k × b^(p−1−k) for k = 0 … p−1 (keep/10,000 = a/b): a cohort's benefit in its k-th year of benefit, over b^(p−1). */
const dropCoefficients = new Map<number, bigint[]>();
function dropCoefficient(p: number, keep: number): bigint[] {
  const key = p * 10_001 + keep;
  let c = dropCoefficients.get(key);
  if (!c) {
    c = [];
    const [a, b] = dropFraction(keep);
    let ak = 1n;
    for (let k = 0; k < p; k++) {
      c.push(ak * b ** BigInt(p - 1 - k));
      ak *= a;
    }
    if (dropCoefficients.size > 4096) dropCoefficients.clear();
    dropCoefficients.set(key, c);
  }
  return c;
}

/** dropCoefficient(p, keep) as JavaScript numbers, or null when the largest, b^(p−1), is above 2^53 − 1. */
const dropCoefficientsN = new Map<number, number[] | null>();
function dropCoefficientNumbers(p: number, keep: number): number[] | null {
  const key = p * 10_001 + keep;
  let c = dropCoefficientsN.get(key);
  if (c === undefined) {
    const big = dropCoefficient(p, keep);
    c = big[0]! <= BigInt(Number.MAX_SAFE_INTEGER) ? big.map(Number) : null;
    if (dropCoefficientsN.size > 4096) dropCoefficientsN.clear();
    dropCoefficientsN.set(key, c);
  }
  return c;
}

/** dropCoefficient(p, keep) as the nearest floats (each within one rounding; at most 10^116, so finite). */
const dropCoefficientsF = new Map<number, number[]>();
function dropCoefficientFloats(p: number, keep: number): number[] {
  const key = p * 10_001 + keep;
  let c = dropCoefficientsF.get(key);
  if (c === undefined) {
    c = dropCoefficient(p, keep).map(Number);
    if (dropCoefficientsF.size > 4096) dropCoefficientsF.clear();
    dropCoefficientsF.set(key, c);
  }
  return c;
}

/** A window's values by start year, and runYield's exact quotients of them (by t × 64 + h; see runsOf), kept with it. */
interface Window {
  values: bigint[];
  factors: (bigint | undefined)[];
  /** values / D as floats (windowFloats); undefined until asked for. */
  floats?: number[];
}

/**
 * dropWindow(d, p, keep).values[t] = Σ_{k<p} a^k × b^(p−1−k) × N[t+k] (keep/10,000 = a/b): what one unit engaged for p
 * years of benefit starting in year t is worth, each year keeping a/b of the year before (over b^(p−1) × D).
 * Built from the end in one pass: W[t] = b^(p−1) N[t] + a × (W[t+1] − a^(p−1) N[t+p]) / b, an exact division.
 */
function dropWindow(d: Discounting, p: number, keep: number): Window {
  const key = p * 10_001 + keep;
  const cached = d.dropWindows.get(key);
  if (cached) return cached;
  const c = dropCoefficient(p, keep);
  const len = d.N.length - p + 1;
  const w = new Array<bigint>(Math.max(0, len));
  if (len > 0) {
    const [a, b] = dropFraction(keep);
    const top = c[0]!;
    const last = c[p - 1]!; // keep^(p−1)
    let acc = 0n;
    for (let k = 0; k < p; k++) acc += c[k]! * d.N[len - 1 + k]!;
    w[len - 1] = acc;
    for (let t = len - 2; t >= 0; t--) {
      acc = top * d.N[t]! + (a * (acc - last * d.N[t + p]!)) / b;
      w[t] = acc;
    }
  }
  const result: Window = { values: w, factors: [] };
  if (d.dropWindows.size > 256) d.dropWindows.clear();
  d.dropWindows.set(key, result);
  return result;
}

function window(d: Discounting, p: number): Window {
  let w = d.windows[p];
  if (!w) {
    const values: bigint[] = [];
    for (let t = 0; t + p < d.PN.length; t++) values.push(d.PN[t + p]! - d.PN[t]!);
    w = { values, factors: [] };
    d.windows[p] = w;
  }
  return w;
}

interface CompiledSchedule {
  /** 1 + r_k = p[k] / q[k] in lowest terms, for k = 1 … (grown on demand). */
  p: bigint[];
  q: bigint[];
  bands: { from: number; to: number; p: bigint; q: bigint }[];
  byHorizon: Map<number, Discounting>;
  dfStrings: string[];
}

interface CompiledParameters {
  schedules: Map<string, CompiledSchedule>;
  /** Indexed by grade: 10,000 + cost uplift bp, and 10,000 − benefit haircut bp. */
  costFactor: (bigint | undefined)[];
  benefitKeep: (bigint | undefined)[];
  /** The same as JavaScript numbers (whole, below 2^15), for decidedFigures. */
  costFactorN: (number | undefined)[];
  benefitKeepN: (number | undefined)[];
  vfm: {
    band: VfmBand;
    min: [bigint, bigint] | null;
    max: [bigint, bigint] | null;
    /** The upper edge × 10^4 when that is whole (at most 4 decimals), so the band follows from the BCR's 4-dp floor. */
    max4: bigint | null;
    /** max4 as a JavaScript number (exact up to 2^53; any larger edge is above every quotient a float decides). */
    max4N: number;
    minInclusive: boolean;
    maxInclusive: boolean;
  }[];
}

const compiledParameters = new WeakMap<ParameterSet, CompiledParameters>();

function fractionOf(decimal: string): [bigint, bigint] {
  const d = parseDecimal(decimal);
  if (!d) throw new AppraisalDataError(`not a decimal: ${decimal}`, []);
  return [d.num, pow10(d.scale)];
}

function compileSchedule(bands: DiscountBand[]): CompiledSchedule {
  return {
    p: [1n],
    q: [1n],
    bands: bands.map((band) => {
      const [num, den] = fractionOf(band.rate);
      const g = gcd(den + num, den);
      return { from: band.fromYear, to: band.toYear ?? Number.POSITIVE_INFINITY, p: (den + num) / g, q: den / g };
    }),
    byHorizon: new Map(),
    dfStrings: [],
  };
}

function compileParameters(params: ParameterSet): CompiledParameters {
  const cached = compiledParameters.get(params);
  if (cached) return cached;
  const checked = parameterSetSchema.safeParse(params);
  if (!checked.success) {
    const issues = checked.error.issues.map((i) => ({ path: `/${i.path.map(String).join('/')}`, message: i.message }));
    throw new AppraisalDataError(`Invalid appraisal parameter set: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  const costFactor: (bigint | undefined)[] = [];
  const benefitKeep: (bigint | undefined)[] = [];
  for (const g of params.confidenceGrades) {
    costFactor[g.grade] = BigInt(10_000 + g.costUpliftBasisPoints);
    benefitKeep[g.grade] = BigInt(10_000 - g.benefitHaircutBasisPoints);
  }
  const compiled: CompiledParameters = {
    schedules: new Map(Object.entries(params.discountSchedules).map(([name, bands]) => [name, compileSchedule(bands)])),
    costFactor,
    benefitKeep,
    costFactorN: costFactor.map((f) => (f === undefined ? undefined : Number(f))),
    benefitKeepN: benefitKeep.map((k) => (k === undefined ? undefined : Number(k))),
    vfm: params.vfmBands.map((b) => {
      const max = b.maxBcr === null ? null : fractionOf(b.maxBcr);
      const max4 = max !== null && (max[0] * 10_000n) % max[1] === 0n ? (max[0] * 10_000n) / max[1] : null;
      return {
        band: b.band,
        min: b.minBcr === null ? null : fractionOf(b.minBcr),
        max,
        max4,
        max4N: max4 === null ? Number.POSITIVE_INFINITY : Number(max4),
        minInclusive: b.minInclusive,
        maxInclusive: b.maxInclusive,
      };
    }),
  };
  compiledParameters.set(params, compiled);
  return compiled;
}

function rateFor(schedule: CompiledSchedule, k: number): void {
  while (schedule.p.length <= k) {
    const year = schedule.p.length;
    const band = schedule.bands.find((b) => year >= b.from && year <= b.to);
    if (!band) throw new AppraisalDataError(`discount schedule has no rate for year ${year}`, []);
    schedule.p.push(band.p);
    schedule.q.push(band.q);
  }
}

function discounting(schedule: CompiledSchedule, T: number): Discounting {
  const cached = schedule.byHorizon.get(T);
  if (cached) return cached;
  rateFor(schedule, T);
  // Q[t] = Π_{k≤t} q_k; P[t] = Π_{k≤t} p_k; DF_t = Q[t] / P[t] = Q[t] × (P[T] / P[t]) / P[T].
  const Q: bigint[] = [1n];
  const P: bigint[] = [1n];
  for (let k = 1; k <= T; k++) {
    Q.push((Q[k - 1] as bigint) * (schedule.q[k] as bigint));
    P.push((P[k - 1] as bigint) * (schedule.p[k] as bigint));
  }
  const D = P[T] as bigint;
  const N: bigint[] = [];
  const PN: bigint[] = [0n];
  for (let t = 0; t <= T; t++) {
    N.push((Q[t] as bigint) * (D / (P[t] as bigint)));
    PN.push((PN[t] as bigint) + (N[t] as bigint));
  }
  for (let t = schedule.dfStrings.length; t <= T; t++) {
    schedule.dfStrings.push(toDecimalString(Q[t] as bigint, P[t] as bigint, DISCOUNT_FACTOR_DECIMALS));
  }
  let oneRate: [bigint, bigint] | null = T >= 1 ? [schedule.p[1]!, schedule.q[1]!] : null;
  for (let k = 2; oneRate && k <= T; k++) if (schedule.p[k] !== oneRate[0] || schedule.q[k] !== oneRate[1]) oneRate = null;
  const result: Discounting = { N, D, PN, windows: [], dropWindows: new Map(), oneRate, common: new Map() };
  schedule.byHorizon.set(T, result);
  return result;
}

interface CompiledDeflators {
  /** Distinguishes compiled tables in the common-denominator cache (see commonDenominator). */
  id: number;
  edition: string;
  /** Each year's figure at one decimal scale, and the same as a number (the nearest, above 2^53). */
  values: Map<string, { value: bigint; valueN: number; forecast: boolean }>;
  /** forecastWarning's texts, by base year, then by the year whose forecast was used. */
  forecastWarnings: Map<string, Map<string, string>>;
}

const compiledDeflators = new WeakMap<DeflatorTable, CompiledDeflators>();
let deflatorTables = 0;

function compileDeflators(table: DeflatorTable): CompiledDeflators {
  const cached = compiledDeflators.get(table);
  if (cached) return cached;
  const checked = deflatorTableSchema.safeParse(table);
  if (!checked.success) {
    const issues = checked.error.issues.map((i) => ({ path: `/${i.path.map(String).join('/')}`, message: i.message }));
    throw new AppraisalDataError(`Invalid GDP deflator table: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  // All figures at one decimal scale, so a ratio of two is a ratio of integers.
  const entries: [string, { num: bigint; scale: number }, boolean][] = [];
  for (const [year, v] of Object.entries(table.forecastIndex ?? {})) entries.push([year, parseDecimal(v)!, true]);
  for (const [year, v] of Object.entries(table.index)) entries.push([year, parseDecimal(v)!, false]); // outturn wins
  const scale = Math.max(0, ...entries.map(([, d]) => d.scale));
  const values: CompiledDeflators['values'] = new Map();
  for (const [year, d, forecast] of entries) {
    const value = d.num * pow10(scale - d.scale);
    values.set(year, { value, valueN: Number(value), forecast });
  }
  const compiled = { id: ++deflatorTables, edition: table.edition, values, forecastWarnings: new Map() };
  compiledDeflators.set(table, compiled);
  return compiled;
}

// ---------------------------------------------------------------------------------------------
// Input validation

/** Preallocated bigints for small whole volumes (saves an allocation per cohort). */
const SMALL: bigint[] = Array.from({ length: 4096 }, (_, i) => BigInt(i));

const BENEFIT_TYPES: readonly BenefitType[] = ['fiscal', 'economic', 'social'];

function isBasisPoints(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

const BP_DETAIL = 'must be a whole number of basis points from 0 to 10,000';
const LAG_DETAIL = `must be a whole number of years from 0 to ${MAX_LAG_YEARS}`;

interface PreparedBenefit {
  index: number;
  line: BenefitLine;
  priceYear: string;
  /** Cohort engagement years. */
  cohortT: number[];
  /**
   * Cohort volumes as exact numerators over 10^volumeScale (need × engagement carries 4 of them): see volumesOf, which
   * builds them from wholeVolumes when first asked (most appraisals need only cohortN).
   */
  cohortV: bigint[] | null;
  /** The volumes as entered when every one is a safe integer, else null (cohortV is then built at once). */
  wholeVolumes: number[] | null;
  /** engagementBasisPoints when the cohort is need × engagement, else null. */
  engagement: number | null;
  volumeScale: number;
  persistence: number;
  lag: number;
  /** 10,000 − drop-off: the share of each year's benefit kept the next year (10,000 when there is no drop-off). */
  dropKeep: number;
  /** With drop-off (keep = a/b in lowest terms): a^k × b^(p−1−k) for k < p (dropCoefficient); null without. */
  dropCoef: bigint[] | null;
  /**
   * The volumes as JavaScript numbers and their sum, when every volume is whole (volumeSum is Infinity otherwise):
   * exact wherever fiscalYields uses them (see there).
   */
  cohortN: number[] | null;
  volumeSum: number;
  /** b^(p−1) = 2^dropTwos × 5^dropFives (b divides 10^4); 0 and 0 without drop-off. */
  dropTwos: number;
  dropFives: number;
  cashableBp: bigint;
  /** impact × (10^4 − deadweight) × (10^4 − displacement), over 10^12: a whole number of at most 10^12, exact. */
  preN: number;
  /** The unit value as a number (the nearest, when above 2^53). */
  unitN: number;
  grade: number;
}

/**
 * A line's cohort volumes as exact numerators over 10^volumeScale, built from its whole volumes when first asked
 * (the exact paths need them; the shortcuts work from cohortN).
 */
function volumesOf(b: PreparedBenefit): bigint[] {
  if (b.cohortV === null) {
    const e = b.engagement === null ? 1n : BigInt(b.engagement);
    b.cohortV = b.wholeVolumes!.map((v) => (v < SMALL.length ? SMALL[v]! : BigInt(v)) * e);
  }
  return b.cohortV;
}

/** One line's cohort years and volumes while prepareCase reads them. */
const scratchT: number[] = [];
const scratchV: number[] = [];

/** JSON Pointer (RFC 6901) for a field of line `i` of `list`; built only when reporting an error. */
function ptr(list: string, i: number, ...path: string[]): string {
  return `/${[list, String(i), ...path].map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
}

/**
 * Year index of `name`, or −1 after recording an error at the pointer for `path` (built only then; no
 * closures on the hot path).
 */
function yearIndex(
  name: unknown,
  baseStart: number,
  baseYear: string,
  errors: FieldError[],
  list: string,
  i: number,
  field: string,
  key?: string,
): number {
  const start = typeof name === 'string' ? financialYearStart(name) : null;
  let detail: string | null = null;
  if (start === null) detail = 'must be a financial year such as "2026-27"';
  else if (start < baseStart) detail = `${name} is before the base year ${baseYear}`;
  else if (start - baseStart > MAX_YEAR_INDEX) detail = `${name} is more than ${MAX_YEAR_INDEX} years after the base year ${baseYear}`;
  if (detail === null) return (start as number) - baseStart;
  errors.push({ pointer: key === undefined ? ptr(list, i, field) : ptr(list, i, field, key), detail });
  return -1;
}

function lineName(line: BenefitLine): string {
  return `benefit line "${line.outcome}" (${line.beneficiaryCode ?? 'no beneficiary organisation'}, ${line.type})`;
}

function asStated(b: PreparedBenefit, baseYear: string): string {
  return `${lineName(b.line)}: its unit value is used as stated at ${b.priceYear} prices, not rebased to ${baseYear} prices`;
}

/** A content key for benefit lines, used only to break exact ties in PV deterministically. */
function lineKey(b: PreparedBenefit): string {
  const line = b.line;
  const sorted = (m: Record<string, number> | undefined) => Object.entries(m ?? {}).sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0));
  return JSON.stringify([
    line.outcome,
    line.beneficiaryCode,
    line.type,
    b.cashableBp.toString(),
    line.unitValuePence.toString(),
    line.priceYear.replace('/', '-'),
    sorted(line.volumes),
    sorted(line.need),
    line.engagementBasisPoints ?? null,
    line.impactBasisPoints,
    line.deadweightBasisPoints,
    line.displacementBasisPoints ?? 0,
    b.lag,
    b.dropKeep,
    line.persistenceYears,
    line.confidenceGrade,
  ]);
}

/**
 * Smallest number of decimals (≥ 2) at which rounding a value moves NPV by ≤ 1/1000 penny, given
 * |dNPV/dvalue| = sNum/sDen, plus one spare digit: the smallest e with 10^e × sDen ≥ 500 × sNum, then e + 1.
 * Exact integer arithmetic: sNum and sDen can be far larger than any JavaScript number.
 */
function decimalsFor(sNum: bigint, sDen: bigint): number {
  const x = 500n * sNum;
  if (x <= sDen) return 2;
  // The smallest e with 10^e × sDen ≥ x: estimated from floats, then settled by exact comparisons (two, usually).
  const guess = Math.ceil(Math.log10(Number(x) / Number(sDen)));
  if (!(guess >= 0 && guess <= 400)) {
    // Beyond a float's range: 10^e × sDen ≥ x exactly when 10^e ≥ c = ⌈x / sDen⌉ (≥ 2), e the digits of c − 1.
    const q = x / sDen;
    const c = q * sDen === x ? q : q + 1n;
    return Math.max(2, (c - 1n).toString().length + 1);
  }
  let e = guess;
  while (e > 0 && pow10(e - 1) * sDen >= x) e--;
  while (pow10(e) * sDen < x) e++;
  return Math.max(2, e + 1);
}

/**
 * The choices a benefit line makes between its fields, the same for the engine and for a case's validation:
 * its cohort as `volumes` or as `need` with `engagementBasisPoints`; its cashability as `cashable` (true is
 * 10,000 basis points, false 0) or `cashableBasisPoints` (only a fiscal line has a cashable share). Given both,
 * `cashable` says whether the line is wholly cashable, as a stored case reports it (see isWhollyCashable), so a
 * case read from the API can be sent back unchanged.
 */
export function lineChoiceErrors(
  line: Pick<BenefitLine, 'type' | 'cashable' | 'cashableBasisPoints' | 'volumes' | 'need' | 'engagementBasisPoints'>,
  i: number,
): FieldError[] {
  const errors: FieldError[] = [];
  if (line.need !== undefined && line.volumes !== undefined) {
    errors.push({ pointer: ptr('benefits', i, 'need'), detail: 'give volumes, or need with engagementBasisPoints, not both' });
  } else if (line.need !== undefined) {
    if (line.engagementBasisPoints === undefined)
      errors.push({ pointer: ptr('benefits', i, 'engagementBasisPoints'), detail: 'is required with need' });
  } else if (line.volumes === undefined) {
    errors.push({ pointer: ptr('benefits', i, 'volumes'), detail: 'is required (or give need with engagementBasisPoints)' });
  } else if (line.engagementBasisPoints !== undefined) {
    errors.push({ pointer: ptr('benefits', i, 'engagementBasisPoints'), detail: 'applies to need only; volumes are already engaged' });
  }
  if (line.cashableBasisPoints === undefined) {
    if (typeof line.cashable !== 'boolean') errors.push({ pointer: ptr('benefits', i, 'cashable'), detail: 'must be true or false' });
  } else {
    if (line.cashable !== undefined && line.cashable !== isWhollyCashable(line.cashableBasisPoints)) {
      errors.push({
        pointer: ptr('benefits', i, 'cashable'),
        detail: 'must be true exactly when cashableBasisPoints is 10,000 (wholly cashable); or give only one of them',
      });
    }
    if (line.type !== 'fiscal' && line.cashableBasisPoints !== 0)
      errors.push({ pointer: ptr('benefits', i, 'cashableBasisPoints'), detail: 'only a fiscal benefit has a cashable share' });
  }
  return errors;
}

/**
 * Whether a line with this cashable share is wholly cashable: the yes/no a case reports beside the share, and
 * what the benefits register counts as cashable.
 */
export function isWhollyCashable(cashableBasisPoints: number): boolean {
  return cashableBasisPoints === 10_000;
}

/** A whole number of basis points, the default when absent; else an error at the field's pointer. */
function optionalBasisPoints(
  value: unknown,
  fallback: number,
  max: number,
  errors: FieldError[],
  i: number,
  field: string,
  detail = BP_DETAIL,
): number {
  if (value === undefined) return fallback;
  if (isBasisPoints(value, max)) return value;
  errors.push({ pointer: ptr('benefits', i, field), detail });
  return fallback;
}

// ---------------------------------------------------------------------------------------------
// The engine

interface PreparedCase {
  cp: CompiledParameters;
  baseStart: number;
  baseYear: string;
  schedule: CompiledSchedule;
  /** Last year index with a cost or a benefit. */
  horizon: number;
  costT: number[];
  costAmount: bigint[];
  costGrade: number[];
  /** amount × (10^4 + uplift), over 10^4. */
  costUplifted: bigint[];
  costTotal: bigint;
  prepared: PreparedBenefit[];
  /** Per prepared benefit line: deflator[base] / deflator[priceYear] (1/1 when not rebased). */
  rebaseNum: bigint[];
  rebaseDen: bigint[];
  /** The same as numbers (deflators at one decimal scale: whole, and exact below 2^53). */
  rebaseNumN: number[];
  rebaseDenN: number[];
  /** Per prepared benefit line: 0 when its value is used as stated, else k for the k-th distinct price year rebased from. */
  rebaseClass: number[];
  /** The price years rebased from, in the order of their class (rebaseClass k is rebasedYears[k − 1]). */
  rebasedYears: string[];
  /** Which deflator table (compiled) rebased them; 0 when none. */
  deflatorId: number;
  warnings: Set<string>;
}

/** Validates the input (throwing AppraisalInputError with every problem) and resolves grades and rebasing. */
function prepareCase(input: AppraisalInput, params: ParameterSet, deflators: DeflatorTable | null): PreparedCase {
  const cp = compileParameters(params);
  const baseYear = input.baseYear;
  const baseStart = typeof baseYear === 'string' ? financialYearStart(baseYear) : null;
  if (baseStart === null) throw new AppraisalInputError([{ pointer: '/baseYear', detail: 'must be a financial year such as "2026-27"' }]);

  const errors: FieldError[] = [];
  const scheduleName: DiscountScheduleName = input.discountSchedule ?? 'standard';
  const schedule = cp.schedules.get(scheduleName);
  if (!schedule) errors.push({ pointer: '/discountSchedule', detail: `must be one of ${[...cp.schedules.keys()].join(', ')}` });

  let horizon = 0;

  // Costs: amount × (10^4 + uplift) per year, over 10^4.
  const costs = Array.isArray(input.costs) ? input.costs : [];
  if (!Array.isArray(input.costs)) errors.push({ pointer: '/costs', detail: 'must be a list of cost lines' });
  const costT: number[] = [];
  const costAmount: bigint[] = [];
  const costGrade: number[] = [];
  const costUplifted: bigint[] = [];
  let costTotal = 0n;
  for (let i = 0; i < costs.length; i++) {
    const line = costs[i]!;
    const t = yearIndex(line.year, baseStart, baseYear, errors, 'costs', i, 'year');
    // A whole number: the tables would also answer the string "2", which grade + 1 would then misread.
    const factor = Number.isInteger(line.confidenceGrade) ? cp.costFactor[line.confidenceGrade] : undefined;
    if (factor === undefined)
      errors.push({ pointer: ptr('costs', i, 'confidenceGrade'), detail: 'must be a confidence grade from 1 to 6' });
    const amount = line.amountPence;
    if (typeof amount !== 'bigint' || amount < 0n) {
      errors.push({ pointer: ptr('costs', i, 'amountPence'), detail: 'must be a whole, non-negative number of pence' });
      continue;
    }
    if (t < 0 || factor === undefined) continue;
    costT.push(t);
    costAmount.push(amount);
    costGrade.push(line.confidenceGrade);
    costUplifted.push(amount * factor);
    costTotal += amount;
    if (t > horizon) horizon = t;
  }

  // Benefits.
  const benefits = Array.isArray(input.benefits) ? input.benefits : [];
  if (!Array.isArray(input.benefits)) errors.push({ pointer: '/benefits', detail: 'must be a list of benefit lines' });
  const prepared: PreparedBenefit[] = [];
  for (let i = 0; i < benefits.length; i++) {
    const line = benefits[i]!;
    const before = errors.length;
    if (!BENEFIT_TYPES.includes(line.type))
      errors.push({ pointer: ptr('benefits', i, 'type'), detail: 'must be fiscal, economic or social' });
    if (line.beneficiaryCode === null) {
      if (line.type === 'fiscal')
        errors.push({ pointer: ptr('benefits', i, 'beneficiaryCode'), detail: 'a fiscal benefit must name the organisation that saves' });
    } else if (typeof line.beneficiaryCode !== 'string' || line.beneficiaryCode === '') {
      errors.push({ pointer: ptr('benefits', i, 'beneficiaryCode'), detail: 'must be an organisation code or null' });
    }
    const choiceErrors = lineChoiceErrors(line, i);
    if (choiceErrors.length > 0) errors.push(...choiceErrors);
    let cashableBp = line.cashable ? 10_000 : 0;
    if (line.cashableBasisPoints !== undefined)
      cashableBp = optionalBasisPoints(line.cashableBasisPoints, 0, 10_000, errors, i, 'cashableBasisPoints');
    if (typeof line.unitValuePence !== 'bigint' || line.unitValuePence < 0n) {
      errors.push({ pointer: ptr('benefits', i, 'unitValuePence'), detail: 'must be a whole, non-negative number of pence' });
    }
    const priceStart = typeof line.priceYear === 'string' ? financialYearStart(line.priceYear, true) : null;
    if (priceStart === null)
      errors.push({ pointer: ptr('benefits', i, 'priceYear'), detail: 'must be a financial year such as "2013-14" or "2013/14"' });
    if (!isBasisPoints(line.impactBasisPoints, 10_000))
      errors.push({ pointer: ptr('benefits', i, 'impactBasisPoints'), detail: BP_DETAIL });
    if (!isBasisPoints(line.deadweightBasisPoints, 10_000))
      errors.push({ pointer: ptr('benefits', i, 'deadweightBasisPoints'), detail: BP_DETAIL });
    const displacement = optionalBasisPoints(line.displacementBasisPoints, 0, 10_000, errors, i, 'displacementBasisPoints');
    const dropOff = optionalBasisPoints(line.dropOffBasisPoints, 0, 10_000, errors, i, 'dropOffBasisPoints');
    const lag = optionalBasisPoints(line.lagYears, 0, MAX_LAG_YEARS, errors, i, 'lagYears', LAG_DETAIL);
    const p = line.persistenceYears;
    if (!(Number.isInteger(p) && p >= 1 && p <= MAX_PERSISTENCE_YEARS)) {
      errors.push({
        pointer: ptr('benefits', i, 'persistenceYears'),
        detail: `must be a whole number of years from 1 to ${MAX_PERSISTENCE_YEARS}`,
      });
    }
    const keep = Number.isInteger(line.confidenceGrade) ? cp.benefitKeep[line.confidenceGrade] : undefined;
    if (keep === undefined)
      errors.push({ pointer: ptr('benefits', i, 'confidenceGrade'), detail: 'must be a confidence grade from 1 to 6' });
    // The cohort: `volumes`, or `need` × `engagementBasisPoints` (which of them is checked by lineChoiceErrors).
    const hasNeed = line.need !== undefined && line.volumes === undefined;
    const field = hasNeed ? 'need' : 'volumes';
    const cohorts = hasNeed ? line.need : line.volumes;
    const engagement = hasNeed ? optionalBasisPoints(line.engagementBasisPoints, 0, 10_000, errors, i, 'engagementBasisPoints') : 10_000;
    // Gathered in scratch arrays and copied out at their length (an array grown by push holds room for 17).
    let n = 0;
    let lastT = -1;
    let allSafe = true;
    let wholeSum = 0;
    if (typeof cohorts !== 'object' || cohorts === null) {
      if (cohorts !== undefined) errors.push({ pointer: ptr('benefits', i, field), detail: 'must map financial years to volumes' });
    } else {
      // for…in, not Object.keys: V8 reads cohorts[year] from the enumeration cache inside it. Own keys only, as
      // Object.keys gives.
      for (const year in cohorts) {
        if (!Object.hasOwn(cohorts, year)) continue;
        const t = yearIndex(year, baseStart, baseYear, errors, 'benefits', i, field, year);
        const v = cohorts[year];
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
          errors.push({ pointer: ptr('benefits', i, field, year), detail: 'must be a finite, non-negative number' });
          continue;
        }
        if (t < 0) continue;
        scratchT[n] = t;
        scratchV[n] = v;
        n++;
        if (t > lastT) lastT = t;
        if (Number.isSafeInteger(v)) wholeSum += v;
        else allSafe = false;
      }
    }
    if (errors.length !== before) continue;
    const cohortT = scratchT.slice(0, n);
    const volumes = scratchV.slice(0, n);
    // Whole volumes also as JavaScript numbers, for the shortcuts that sum them as numbers (volumeSum is Infinity
    // without): only when every volume is a safe integer (a whole volume of 2^53 or more has none of its own).
    // Otherwise every volume as an exact decimal num / 10^scale, over the largest scale.
    let cohortN: number[] | null = null;
    let cohortV: bigint[] | null = null;
    let volumeSum = Number.POSITIVE_INFINITY;
    let volumeScale = 0;
    if (allSafe) {
      cohortN = hasNeed ? volumes.map((v) => v * engagement) : volumes;
      volumeSum = hasNeed ? wholeSum * engagement : wholeSum;
    } else {
      const decimals = volumes.map(numberToDecimal);
      for (const d of decimals) if (d.scale > volumeScale) volumeScale = d.scale;
      const e = hasNeed ? BigInt(engagement) : 1n;
      cohortV = decimals.map((d) => d.num * pow10(volumeScale - d.scale) * e);
    }
    if (hasNeed) volumeScale += 4;
    if (lastT + lag + p - 1 > horizon) horizon = lastT + lag + p - 1;
    // A benefit that lasts one year has no later year to fall in.
    const dropKeep = p === 1 ? 10_000 : 10_000 - dropOff;
    const powers = dropKeep === 10_000 ? NO_DROP : dropPowers(dropKeep);
    // At most 10^12: exact as a number.
    const pre = line.impactBasisPoints * (10_000 - line.deadweightBasisPoints) * (10_000 - displacement);
    prepared.push({
      index: i,
      line,
      priceYear: financialYearName(priceStart!),
      cohortT,
      cohortV,
      wholeVolumes: allSafe ? volumes : null,
      engagement: hasNeed ? engagement : null,
      volumeScale,
      persistence: p,
      lag,
      dropKeep,
      dropCoef: dropKeep === 10_000 ? null : dropCoefficient(p, dropKeep),
      cohortN,
      volumeSum,
      dropTwos: powers[0] * (p - 1),
      dropFives: powers[1] * (p - 1),
      cashableBp: BigInt(cashableBp),
      preN: pre,
      unitN: Number(line.unitValuePence),
      grade: line.confidenceGrade,
    });
  }
  if (errors.length > 0) throw new AppraisalInputError(errors);

  const warnings = new Set<string>();
  for (const b of prepared) {
    const displacement = b.line.displacementBasisPoints ?? 0;
    if (displacement > 0) {
      warnings.add(
        `${lineName(b.line)}: ${displacement / 100}% displacement applied (Green Book additionality; not part of the 2014 local CBA model).`,
      );
    }
  }

  // Rebasing: unit value × deflator[base] / deflator[priceYear], or as stated with a warning.
  const table = deflators === null ? null : compileDeflators(deflators);
  const forecastsUsed = new Set<string>();
  const rebaseNum: bigint[] = [];
  const rebaseDen: bigint[] = [];
  const rebaseNumN: number[] = [];
  const rebaseDenN: number[] = [];
  const rebaseClass: number[] = [];
  const classOf = new Map<string, number>();
  for (const b of prepared) {
    let num = 1n;
    let den = 1n;
    let numN = 1;
    let denN = 1;
    let cls = 0;
    if (b.priceYear !== baseYear) {
      if (table === null) {
        warnings.add(`${asStated(b, baseYear)}, because no GDP deflator table was supplied.`);
      } else {
        const base = table.values.get(baseYear);
        const price = table.values.get(b.priceYear);
        if (!base || !price) {
          const missing = [!price ? b.priceYear : null, !base ? baseYear : null].filter((y) => y !== null).join(' and ');
          warnings.add(`${asStated(b, baseYear)}, because the GDP deflator table (${table.edition}) has no figure for ${missing}.`);
        } else {
          num = base.value;
          den = price.value;
          numN = base.valueN;
          denN = price.valueN;
          cls = classOf.get(b.priceYear) ?? classOf.size + 1;
          classOf.set(b.priceYear, cls);
          if (base.forecast) forecastsUsed.add(baseYear);
          if (price.forecast) forecastsUsed.add(b.priceYear);
        }
      }
    }
    rebaseNum.push(num);
    rebaseDen.push(den);
    rebaseNumN.push(numN);
    rebaseDenN.push(denN);
    rebaseClass.push(cls);
  }

  for (const year of forecastsUsed) warnings.add(forecastWarning(table!, year, baseYear));

  return {
    cp,
    baseStart,
    baseYear,
    schedule: schedule!,
    horizon,
    costT,
    costAmount,
    costGrade,
    costUplifted,
    costTotal,
    prepared,
    rebaseNum,
    rebaseDen,
    rebaseNumN,
    rebaseDenN,
    rebaseClass,
    rebasedYears: [...classOf.keys()],
    deflatorId: table === null ? 0 : table.id,
    warnings,
  };
}

/** The warning that rebasing used a forecast deflator (kept per table, base year and year: the same every time). */
function forecastWarning(table: CompiledDeflators, year: string, baseYear: string): string {
  let byYear = table.forecastWarnings.get(baseYear);
  if (!byYear) {
    byYear = new Map();
    table.forecastWarnings.set(baseYear, byYear);
  }
  let text = byYear.get(year);
  if (text === undefined) {
    text = `The GDP deflator for ${year} is a forecast, not outturn (${table.edition}); rebasing to ${baseYear} prices used it.`;
    byYear.set(year, text);
  }
  return text;
}

const NO_DROP: [number, number] = [0, 0];

/** keep / 10,000 = a / b in lowest terms; b = 2^x × 5^y (a divisor of 10^4) as [x, y], cached per keep. */
const dropPowersOf: ([number, number] | undefined)[] = new Array(10_001);
function dropPowers(keep: number): [number, number] {
  let xy = dropPowersOf[keep];
  if (!xy) {
    xy = [0, 0];
    for (let m = Number(dropFraction(keep)[1]); m % 2 === 0; m /= 2) xy[0]++;
    for (let m = Number(dropFraction(keep)[1]); m % 5 === 0; m /= 5) xy[1]++;
    dropPowersOf[keep] = xy;
  }
  return xy;
}

/** Per benefit line: the denominator beyond 10^16 × D: deflator × volume decimal scale × b^(p−1) for a drop-off of a/b. */
function lineDenominator(b: PreparedBenefit, rebaseDen: bigint): bigint {
  const den = rebaseDen * pow10(b.volumeScale);
  return b.dropCoef === null ? den : den * b.dropCoef[0]!;
}

/**
 * Σ over cohorts of volume × the window value at (engagement year + lag + shift): a line's discounted yield over
 * its denominator × D (shift 1 is the lag sensitivity's extra year). Whole volumes under one rate are summed in runs
 * of years (runYield); otherwise one bigint product per cohort.
 */
function weightedYield(b: PreparedBenefit, disc: Discounting, shift: number): bigint {
  const win = b.dropKeep === 10_000 ? window(disc, b.persistence) : dropWindow(disc, b.persistence, b.dropKeep);
  const lag = b.lag + shift;
  const runs = disc.oneRate !== null && b.cohortN !== null ? runYield(b, b.cohortN, disc, win, lag) : null;
  if (runs !== null) return runs;
  const values = win.values;
  const volumes = volumesOf(b);
  let W = 0n;
  for (let c = 0; c < b.cohortT.length; c++) {
    const v = volumes[c]!;
    if (v !== 0n) W += v * values[b.cohortT[c]! + lag]!;
  }
  return W;
}

/** Run sums for runYield (all zero between calls). */
const runSums: number[] = [];

/**
 * weightedYield for whole volumes under one rate 1 + r = p / q in every year (Discounting.oneRate), exact. Then
 * N[s] = q^s × p^(T−s), so a window's values are in ratio q / p from one year to the next: win[t0 + i] =
 * C × q^i × p^(h−i) with C = win[t0] / p^h, a whole number for every index used. So the cohorts engaged in a run of
 * years t0 … t0 + h contribute C × Σ v × q^i × p^(h−i): one bigint product per run instead of one per cohort. The
 * run is as long as keeps Σ volumes × p^h ≤ 2^53 − 1, so every product and partial sum of the inner sum is a whole
 * number below 2^53, which JavaScript numbers hold exactly (each q^i × p^(h−i) ≤ p^h, as q ≤ p for a rate ≥ 0).
 * Null when runs would be single years (then the plain sum is as quick).
 */
function runYield(b: PreparedBenefit, v: number[], disc: Discounting, win: Window, lag: number): bigint | null {
  const runs = runsOf(disc);
  if (runs === null) return null;
  let first = Number.POSITIVE_INFINITY;
  let last = -1;
  for (let c = 0; c < v.length; c++) {
    const t = b.cohortT[c]!;
    if (t < first) first = t;
    if (t > last) last = t;
  }
  let h = Math.min(last - first, runs.powers.length - 1);
  while (h > 0 && b.volumeSum * runs.powers[h]! > Number.MAX_SAFE_INTEGER) h--;
  if (h === 0) return null;
  const span = h + 1;
  const lastRun = Math.floor((last - first) / span);
  const lastH = last - first - lastRun * span;
  for (let c = 0; c < v.length; c++) {
    const i = b.cohortT[c]! - first;
    const j = Math.floor(i / span);
    runSums[j] = (runSums[j] ?? 0) + v[c]! * runs.coefficients[j === lastRun ? lastH : h]![i - j * span]!;
  }
  let W = 0n;
  for (let j = 0; j <= lastRun; j++) {
    const sum = runSums[j] ?? 0;
    if (sum === 0) continue;
    runSums[j] = 0;
    W += runFactor(runs, win, first + j * span + lag, j === lastRun ? lastH : h) * (sum < SMALL.length ? SMALL[sum]! : BigInt(sum));
  }
  return W;
}

/** What runYield needs of a discounting with one rate p / q, built once per discounting. */
interface Runs {
  /** 1 + r = p / q. */
  p: bigint;
  /** p^h as JavaScript numbers while below 2^53 (at most 63 of them). */
  powers: number[];
  /** coefficients[h][i] = q^i × p^(h−i) for i = 0 … h. */
  coefficients: number[][];
}

/** win.values[t] / p^h, exact (kept with the window, by t × 64 + h; h ≤ 63). */
function runFactor(runs: Runs, win: Window, t: number, h: number): bigint {
  if (win.factors.length === 0) win.factors = new Array<bigint | undefined>(win.values.length * 64);
  let f = win.factors[t * 64 + h];
  if (f === undefined) {
    f = win.values[t]! / runs.p ** BigInt(h);
    win.factors[t * 64 + h] = f;
  }
  return f;
}

function runsOf(disc: Discounting): Runs | null {
  if (disc.runs !== undefined) return disc.runs;
  const one = disc.oneRate;
  let runs: Runs | null = null;
  if (one !== null && one[0] < 1n << 26n) {
    const [p, q] = one;
    const pN = Number(p);
    const qN = Number(q);
    const powers = [1];
    while (powers.length < 64 && powers[powers.length - 1]! * pN <= Number.MAX_SAFE_INTEGER) powers.push(powers[powers.length - 1]! * pN);
    // By repeated products of whole numbers, each at most p^h < 2^53, so exact.
    const coefficients = powers.map((_, h) => {
      const c: number[] = [];
      let qi = 1;
      for (let i = 0; i <= h; i++) {
        c.push(qi * powers[h - i]!);
        qi *= qN;
      }
      return c;
    });
    runs = { p, powers, coefficients };
  }
  disc.runs = runs;
  return runs;
}

/** Scratch yields by year for fiscalYields' fast path (all zero between calls). */
const yieldsN: number[] = [];

/**
 * A fiscal line with drop-off: its yield in each year s, Σ over cohorts of volume × a^k × b^(p−1−k) with
 * k = s − t − lag (keep = a/b; over b^(p−1)), times K added to fiscalDirect[s]. `yields` is zero on entry and exit.
 * Fast path: every coefficient is at most b^(p−1) (a < b), so when Σ volumes × b^(p−1) ≤ 2^53 − 1 every partial sum
 * is a whole number below 2^53, which JavaScript numbers hold exactly; the yields are summed as numbers and become
 * bigints once per year. Otherwise (fractional or very large volumes, long persistence) they are summed as bigints.
 */
function fiscalYields(b: PreparedBenefit, K: bigint, fiscalDirect: bigint[], yields: bigint[]): void {
  const p = b.persistence;
  const coefN = dropCoefficientNumbers(p, b.dropKeep);
  let first = fiscalDirect.length;
  let last = 0;
  if (coefN !== null && b.volumeSum * coefN[0]! <= Number.MAX_SAFE_INTEGER) {
    const v = b.cohortN!;
    for (let c = 0; c < v.length; c++) {
      const t = b.cohortT[c]! + b.lag;
      if (t < first) first = t;
      if (t + p - 1 > last) last = t + p - 1;
      for (let k = 0; k < p; k++) yieldsN[t + k] = (yieldsN[t + k] ?? 0) + v[c]! * coefN[k]!;
    }
    for (let s = first; s <= last; s++) {
      const y = yieldsN[s] ?? 0;
      if (y === 0) continue;
      fiscalDirect[s] = fiscalDirect[s]! + (y < SMALL.length ? SMALL[y]! : BigInt(y)) * K;
      yieldsN[s] = 0;
    }
    return;
  }
  const coef = b.dropCoef!;
  const volumes = volumesOf(b);
  for (let c = 0; c < b.cohortT.length; c++) {
    const v = volumes[c]!;
    if (v === 0n) continue;
    const t = b.cohortT[c]! + b.lag;
    if (t < first) first = t;
    if (t + p - 1 > last) last = t + p - 1;
    for (let k = 0; k < p; k++) yields[t + k] = yields[t + k]! + v * coef[k]!;
  }
  for (let s = first; s <= last; s++) {
    const y = yields[s]!;
    if (y === 0n) continue;
    fiscalDirect[s] = fiscalDirect[s]! + y * K;
    yields[s] = 0n;
  }
}

/** A fiscal benefit line in the appraisal: its PV numerator over G, and K, the value of one unit over 10^16 × L. */
interface FiscalLine {
  b: PreparedBenefit;
  num: bigint;
  K: bigint;
}

/** A fiscal line for fiscalRowsDecided: kf, the value of one unit in pence (K / (10^16 × L)), as a float. */
interface RowLine {
  b: PreparedBenefit;
  kf: number;
}

/** The fiscal columns of the yearly rows, rounded, and the payback year's index (−1 for none). */
interface FiscalRows {
  pv: bigint[];
  cumulative: bigint[];
  payback: number;
}

/**
 * The fiscal benefits' PV in each year s, N[s] × Σ_lines K × yield(s) over G, and its running total, each rounded
 * half-even from its exact value; the payback year is the first whose running total of fiscal benefits reaches the
 * running total of costs (cumCosts[s] over costDen = G / costScale), once there are some costs. Yields: lines without
 * drop-off as differences (a cohort's yield starts in year t + lag and stops p years later), one-year lines in their
 * year, lines with drop-off year by year (fiscalYields).
 */
function fiscalRowsExact(
  lines: FiscalLine[],
  disc: Discounting,
  T: number,
  G: bigint,
  GN: number,
  cumCosts: bigint[],
  costScale: bigint,
): FiscalRows {
  const fiscalDiff: bigint[] = new Array(T + 2).fill(0n);
  const fiscalDirect: bigint[] = new Array(T + 1).fill(0n);
  const yields: bigint[] = new Array(T + 1).fill(0n);
  for (const { b, K } of lines) {
    const p = b.persistence;
    const volumes = volumesOf(b);
    if (p === 1) {
      for (let c = 0; c < b.cohortT.length; c++) {
        const v = volumes[c]!;
        if (v === 0n) continue;
        const t = b.cohortT[c]! + b.lag;
        fiscalDirect[t] = fiscalDirect[t]! + v * K;
      }
    } else if (b.dropKeep === 10_000) {
      for (let c = 0; c < b.cohortT.length; c++) {
        const v = volumes[c]!;
        if (v === 0n) continue;
        const t = b.cohortT[c]! + b.lag;
        const x = v * K;
        fiscalDiff[t] = fiscalDiff[t]! + x;
        fiscalDiff[t + p] = fiscalDiff[t + p]! - x;
      }
    } else {
      fiscalYields(b, K, fiscalDirect, yields);
    }
  }
  const pv: bigint[] = new Array(T + 1);
  const cumulative: bigint[] = new Array(T + 1);
  let running = 0n;
  let cum = 0n;
  let cumRounded = 0n;
  let payback = -1;
  for (let t = 0; t <= T; t++) {
    running += fiscalDiff[t]!;
    const yearFiscal = running + fiscalDirect[t]!;
    let row = 0n;
    if (yearFiscal !== 0n) {
      const x = disc.N[t]! * yearFiscal;
      cum += x;
      row = roundHalfEven(x, G, GN);
      cumRounded = roundHalfEven(cum, G, GN);
    }
    pv[t] = row;
    cumulative[t] = cumRounded;
    if (payback < 0 && cumCosts[t]! > 0n && cum >= cumCosts[t]! * costScale) payback = t;
  }
  return { pv, cumulative, payback };
}

/** Scratch rows for fiscalRowsDecided (zeroed there before use). */
const rowScratch: number[] = [];

/** DF_t = N[t] / D as floats, for fiscalRowsDecided; null when D is beyond a float's range. */
function discountFloats(disc: Discounting): number[] | null {
  if (disc.floats === undefined) {
    const DN = Number(disc.D);
    disc.floats = DN < 2 ** 1000 ? disc.N.map((n) => Number(n) / DN) : null;
  }
  return disc.floats;
}

/**
 * The same rows as fiscalRowsExact, decided from floats when their error bound allows (null when it does not, and
 * then fiscalRowsExact gives them). Every term kf × volume × drop-off coefficient × DF_s is non-negative, and each
 * of its factors is a float within a few roundings of the exact value (at most 14 for kf); so a row, a sum of
 * such terms, and a running total of rows are within a relative γ_k = k·u / (1 − k·u) of their exact values
 * (u = 2^−53; Higham, Accuracy and Stability of Numerical Algorithms, §3.1 and §4.2), k at most the number of terms
 * summed plus the years plus 16, and err = 2^−51 × k × value bounds the distance with room to spare. A row or
 * running total is then rounded by roundWithin; the payback comparison is decided when the two running totals lie
 * further apart than their error bounds. A float of exactly 0 is an exact 0: every factor is 0 or at least 2^−1002
 * (volumes are whole, coefficients 0 or at least 1, kf ≥ 2^−900 is required, DF ≥ 2^−101 as no rate exceeds 100 %),
 * so no term underflows. Needs whole volumes (cohortN); the drop-off coefficients are the nearest floats
 * (dropCoefficientFloats).
 */
function fiscalRowsDecided(lines: RowLine[], disc: Discounting, T: number, cumCosts: bigint[], costDenN: number): FiscalRows | null {
  const df = discountFloats(disc);
  if (df === null || !(costDenN < 2 ** 1000)) return null;
  const rows = rowScratch;
  for (let t = 0; t <= T; t++) rows[t] = 0;
  let terms = 0;
  for (const { b, kf } of lines) {
    const v = b.cohortN;
    if (v === null) return null;
    const coef = b.dropCoef === null ? null : dropCoefficientFloats(b.persistence, b.dropKeep);
    if (kf !== 0 && !(kf >= 2 ** -900 && kf < 2 ** 1000)) return null;
    const p = b.persistence;
    for (let c = 0; c < v.length; c++) {
      const kv = kf * v[c]!;
      if (kv === 0) continue;
      const t = b.cohortT[c]! + b.lag;
      if (coef === null) for (let k = 0; k < p; k++) rows[t + k] = rows[t + k]! + kv;
      else for (let k = 0; k < p; k++) rows[t + k] = rows[t + k]! + kv * coef[k]!;
      terms += p;
    }
  }
  const rel = (terms + T + 16) * 2 ** -51;
  const pv: bigint[] = new Array(T + 1);
  const cumulative: bigint[] = new Array(T + 1);
  let cum = 0;
  let cumRounded = 0n;
  let payback = -1;
  for (let t = 0; t <= T; t++) {
    const x = rows[t]! * df[t]!;
    let row = 0n;
    if (x !== 0) {
      const r = roundWithin(x, x * rel);
      cum += x;
      const c = roundWithin(cum, cum * rel);
      if (r === null || c === null) return null;
      row = r;
      cumRounded = c;
    }
    pv[t] = row;
    cumulative[t] = cumRounded;
    if (payback < 0 && cumCosts[t]! > 0n) {
      const costs = Number(cumCosts[t]!) / costDenN;
      // Beyond a float's range the running total of costs decides nothing.
      if (!Number.isFinite(costs)) return null;
      const slack = rel + 2 ** -48;
      if (cum * (1 - slack) > costs * (1 + slack)) payback = t;
      else if (!(cum * (1 + slack) < costs * (1 - slack))) return null;
    }
  }
  return { pv, cumulative, payback };
}

/** Organisation codes in ordinal order, null (wider society) last. */
function byOrganisationCode(a: string | null, b: string | null): number {
  return a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1;
}

/** Whether the BCR numAll / numCosts lies beyond a band's upper edge (one with more than 4 decimals), by cross-multiplying. */
function pastEdge(band: CompiledParameters['vfm'][number], numAll: bigint, numCosts: bigint): boolean {
  const [num, den] = band.max as [bigint, bigint];
  return band.maxInclusive ? numAll * den > num * numCosts : numAll * den >= num * numCosts;
}

/**
 * The BCR numAll / numCosts rounded half-even to 4 dp (a JSON number), and the VfM band containing its EXACT value;
 * both null when numCosts is 0. The parameter set's bands partition [0, ∞) in order (checked when it is parsed), so
 * the first band whose upper edge lies above the BCR is it. One division: with q = ⌊10^4 × BCR⌋ and remainder r,
 * for a whole E = 10^4 × edge, BCR ≥ edge exactly when q ≥ E, and BCR > edge when q > E or (q = E and r > 0); an
 * edge with more decimals is compared exactly by cross-multiplying.
 */
function bcrOf(cp: CompiledParameters, numAll: bigint, numCosts: bigint): { bcr: number | null; vfmBand: VfmBand | null } {
  if (numCosts <= 0n) return { bcr: null, vfmBand: null };
  // Usually a float decides q and that r > 0 (see decidedFloor); then BCR > edge and BCR ≥ edge both mean q ≥ E.
  const decided = decidedFloor(numAll, Number(numCosts), 10_000);
  if (decided !== null && decided.half !== 0) {
    const q = decided.floor;
    const bcr = (decided.half < 0 ? q : q + 1) / 10_000;
    for (const band of cp.vfm) {
      if (band.max4 !== null) {
        if (q >= band.max4N) continue;
      } else if (band.max && pastEdge(band, numAll, numCosts)) continue;
      return { bcr, vfmBand: band.band };
    }
    return { bcr, vfmBand: null };
  }
  const { q, r } = floorDiv(numAll * 10_000n, numCosts);
  const bcr = Number(roundFloored(q, r, numCosts)) / 10_000;
  for (const band of cp.vfm) {
    if (band.max4 !== null) {
      const E = band.max4;
      if (band.maxInclusive ? q > E || (q === E && r > 0n) : q >= E) continue;
    } else if (band.max && pastEdge(band, numAll, numCosts)) continue;
    return { bcr, vfmBand: band.band };
  }
  return { bcr, vfmBand: null };
}

/** The costs' yearly rows, exact (a case has few cost lines), shared by both ways of working out the rest. */
interface CostRows {
  /** The PV of costs up to and including each year, over costDen = 10^4 × D (exact). */
  cumCosts: bigint[];
  /** Each year's PV of costs and the running total, rounded half-even to pence. */
  pv: bigint[];
  cumulativeRounded: bigint[];
  /** The PV of all costs over costDen (the last running total). */
  total: bigint;
  costDen: bigint;
  costDenN: number;
}

/**
 * The costs' rows: amount × (1 + uplift of its grade) summed by year, discounted once per year; each row and each
 * running total rounded on its own from its exact numerator (zero rows reuse the previous running total's rounding).
 */
function costRows(pc: PreparedCase, disc: Discounting, T: number): CostRows {
  const { N, D } = disc;
  const byYear: bigint[] = new Array(T + 1).fill(0n);
  for (let j = 0; j < pc.costT.length; j++) {
    const t = pc.costT[j]!;
    byYear[t] = byYear[t]! + pc.costUplifted[j]!;
  }
  const costDen = 10_000n * D;
  const costDenN = Number(costDen);
  const pv: bigint[] = new Array(T + 1);
  const cumCosts: bigint[] = new Array(T + 1);
  const cumulativeRounded: bigint[] = new Array(T + 1);
  let cum = 0n;
  let cumRounded = 0n;
  for (let t = 0; t <= T; t++) {
    const cost = byYear[t]!;
    let row = 0n;
    if (cost !== 0n) {
      const c = N[t]! * cost;
      cum += c;
      row = roundHalfEven(c, costDen, costDenN);
      cumRounded = roundHalfEven(cum, costDen, costDenN);
    }
    pv[t] = row;
    cumCosts[t] = cum;
    cumulativeRounded[t] = cumRounded;
  }
  return { cumCosts, pv, cumulativeRounded, total: cum, costDen, costDenN };
}

/** A switching value's figures (both null when no admissible value makes fiscal NPV zero). */
interface Switch {
  switchingValue: string | null;
  changeBasisPoints: number | null;
}

/** A sensitivity scenario's figures. */
interface Outcome {
  fiscalNpvPence: bigint;
  bcr: number | null;
  vfmBand: VfmBand | null;
}

/** The sensitivity scenarios, in the order Figures.sensitivity gives their outcomes. */
const SCENARIOS: [SensitivityCase['scenario'], string][] = [
  ['optimism-bias-removed', 'Optimism bias removed (no cost uplift, no benefit haircut)'],
  ['one-grade-worse', 'Every cost and benefit line one confidence grade worse (grade 6 stays 6)'],
  ['impact-20-percent-lower', 'Impact 20% lower on every benefit line (impact × 0.8)'],
  ['lag-one-year-longer', LAG_LABEL],
];

/** Every figure of an appraisal but the costs' rows: worked out exactly (exactFigures) or decided from floats. */
interface Figures {
  fiscalRows: FiscalRows;
  economicPence: bigint;
  socialPence: bigint;
  fiscalNpvPence: bigint;
  publicValueNpvPence: bigint;
  fiscalRoi: number | null;
  bcr: number | null;
  vfmBand: VfmBand | null;
  whoBenefits: AppraisalResult['whoBenefits'];
  costsSwitch: Switch;
  /** The largest fiscal lines by PV (at most SWITCHING_LINES), largest first. */
  lineSwitches: { b: PreparedBenefit; sw: Switch }[];
  /** In the order of SCENARIOS. */
  sensitivity: Outcome[];
}

/**
 * Appraises one case. Deterministic and independent of the order of lines. Throws AppraisalInputError
 * (kind `invalid`, with JSON-pointer field errors) when the input cannot be appraised, and AppraisalDataError
 * when the parameter set or deflator table is malformed. Every figure is the exact value's rounding: decided from
 * floats with a proven error bound where that settles every one of them (decidedFigures), else worked out exactly
 * (exactFigures); both give the same figures, which test/appraisal checks against a plain statement of the method.
 */
export function appraise(input: AppraisalInput, params: ParameterSet, deflators: DeflatorTable | null): AppraisalResult {
  const { pc, disc, costs } = start(input, params, deflators);
  return result(pc, params, costs, decidedFigures(pc, disc, costs) ?? exactFigures(pc, disc, costs));
}

/**
 * The same case appraised both ways: the figures decided from floats (null where a bound did not settle one) and
 * worked out exactly. For the tests that hold the two to one another; appraise is the service's entry.
 */
export function appraiseBothWays(
  input: AppraisalInput,
  params: ParameterSet,
  deflators: DeflatorTable | null,
): { decided: AppraisalResult | null; exact: AppraisalResult } {
  const { pc, disc, costs } = start(input, params, deflators);
  const decided = decidedFigures(pc, disc, costs);
  return { decided: decided && result(pc, params, costs, decided), exact: result(pc, params, costs, exactFigures(pc, disc, costs)) };
}

/** What both ways start from: the prepared case, its discounting and the costs' rows. */
function start(input: AppraisalInput, params: ParameterSet, deflators: DeflatorTable | null) {
  const pc = prepareCase(input, params, deflators);
  // Discounting runs one year past the horizon, for the sensitivity with one more year of lag.
  const T = pc.horizon;
  const disc = discounting(pc.schedule, pc.prepared.length > 0 ? T + 1 : T);
  return { pc, disc, costs: costRows(pc, disc, T) };
}

/** The appraisal from its figures: the yearly rows, labels and warnings. */
function result(pc: PreparedCase, params: ParameterSet, costs: CostRows, figures: Figures): AppraisalResult {
  const T = pc.horizon;
  const years: AppraisalResult['years'] = [];
  for (let t = 0; t <= T; t++) {
    years.push({
      year: financialYearName(pc.baseStart + t),
      index: t,
      discountFactor: pc.schedule.dfStrings[t]!,
      pvCostsPence: costs.pv[t]!,
      pvFiscalBenefitsPence: figures.fiscalRows.pv[t]!,
      cumulativePvCostsPence: costs.cumulativeRounded[t]!,
      cumulativePvFiscalBenefitsPence: figures.fiscalRows.cumulative[t]!,
    });
  }
  const payback = figures.fiscalRows.payback;
  const switchingValues: SwitchingValue[] = [
    {
      input: 'costs',
      label: 'All costs (every cost line scaled together; undiscounted total as entered, before optimism bias)',
      baseValue: Number(pc.costTotal),
      ...figures.costsSwitch,
    },
    ...figures.lineSwitches.map(({ b, sw }) => ({
      input: `benefits/${b.index}/unitValuePence`,
      label: `Unit value of "${b.line.outcome}" (${b.line.beneficiaryCode})`,
      baseValue: Number(b.line.unitValuePence),
      ...sw,
    })),
  ];

  const ordered: string[] = [];
  if (params.provisional) {
    ordered.push(
      `Parameter set ${params.name} ${params.version} is provisional: some of its values could not be verified against their published source, so this appraisal is indicative.`,
    );
  }
  if (costs.total === 0n)
    ordered.push('The present value of costs is zero, so fiscal ROI, BCR and the value-for-money band are not defined.');
  ordered.push(...[...pc.warnings].sort());

  return {
    pvCostsPence: costs.cumulativeRounded[T]!,
    pvBenefitsPence: {
      fiscal: figures.fiscalRows.cumulative[T]!,
      economic: figures.economicPence,
      social: figures.socialPence,
    },
    fiscalNpvPence: figures.fiscalNpvPence,
    publicValueNpvPence: figures.publicValueNpvPence,
    fiscalRoi: figures.fiscalRoi,
    bcr: figures.bcr,
    paybackYear: payback < 0 ? null : financialYearName(pc.baseStart + payback),
    vfmBand: figures.vfmBand,
    whoBenefits: figures.whoBenefits,
    switchingValues,
    years,
    parameterSet: { name: params.name, version: params.version, provisional: params.provisional },
    warnings: ordered,
    sensitivity: SCENARIOS.map(([scenario, label], i) => ({ scenario, label, ...figures.sensitivity[i]! })),
  };
}

/** A case's common denominator G = 10^16 × L × D (see exactFigures) and each benefit line's factor over it. */
interface Common {
  L: bigint;
  G: bigint;
  GN: number;
  /** Per prepared benefit line: deflator[base] × L / its denominator. */
  lineFactor: bigint[];
}

/**
 * The common denominator G = 10^16 × L × D, L a common multiple of the per-line denominators, built without a gcd:
 * the product of the distinct price-year deflators, 10^(largest volume scale), and 2^X × 5^Y with X and Y the
 * largest powers of 2 and 5 in any drop-off denominator b^(p−1) (each b divides 10^4). Cached per discounting.
 */
function commonDenominator(pc: PreparedCase, disc: Discounting): Common {
  const { baseYear, prepared, rebaseNum, rebaseDen, rebaseClass, rebasedYears, deflatorId } = pc;
  let volumeScale = 0;
  let twos = 0;
  let fives = 0;
  for (const b of prepared) {
    if (b.volumeScale > volumeScale) volumeScale = b.volumeScale;
    if (b.dropTwos > twos) twos = b.dropTwos;
    if (b.dropFives > fives) fives = b.dropFives;
  }
  // The price years in the order the lines name them: another order gives the same L, under a key of its own.
  const key = `${deflatorId}|${baseYear}|${volumeScale}|${twos}|${fives}|${rebasedYears.join('|')}`;
  let common = disc.common.get(key);
  if (!common) {
    let L = (pow10(volumeScale) << BigInt(twos)) * 5n ** BigInt(fives);
    for (let k = 1; k <= rebasedYears.length; k++) L *= rebaseDen[rebaseClass.indexOf(k)]!;
    common = { L, G: pow10(16) * L * disc.D, factors: new Map() };
    if (disc.common.size > 256) disc.common.clear();
    disc.common.set(key, common);
  }
  // Per line: deflator[base] × L / its denominator, once per kind of line (price year, volume scale, drop-off powers).
  const lineFactor: bigint[] = [];
  for (let j = 0; j < prepared.length; j++) {
    const b = prepared[j]!;
    const cls = rebaseClass[j]!;
    const priceYear = cls === 0 ? '' : rebasedYears[cls - 1]!;
    let byKind = common.factors.get(priceYear);
    if (!byKind) {
      byKind = new Map();
      common.factors.set(priceYear, byKind);
    }
    // Exact as a number: volume scales below 2^20, powers of 2 and 5 below 2^10.
    const kind = (b.volumeScale * 1024 + b.dropTwos) * 1024 + b.dropFives;
    let f = byKind.get(kind);
    if (f === undefined) {
      f = (common.L / lineDenominator(b, rebaseDen[j]!)) * rebaseNum[j]!;
      byKind.set(kind, f);
    }
    lineFactor.push(f);
  }
  return { L: common.L, G: common.G, GN: Number(common.G), lineFactor };
}

/**
 * Every figure but the costs' rows, from exact rationals over one common denominator G (commonDenominator), each
 * rounded from its own exact value.
 */
function exactFigures(pc: PreparedCase, disc: Discounting, costs: CostRows): Figures {
  const { cp, costT, costAmount, costGrade, prepared } = pc;
  const T = pc.horizon;
  const N = disc.N;
  const { L, G, GN, lineFactor } = commonDenominator(pc, disc);
  // Costs over G: their PV is over costDen = 10^4 × D = G / costScale.
  const costScale = pow10(12) * L;

  // Benefits: each line's PV numerator (over G) is K × W, where K = Kpre × keep is the value of one unit over
  // 10^16 × L (Kpre before its grade's benefit haircut, keep = 10^4 − haircut) and W = Σ_cohorts v × window(t + lag)
  // over D (weightedYield).
  let numFiscal = 0n;
  let numEconomic = 0n;
  let numSocial = 0n;
  // Sensitivity: W × Kpre summed by grade, fiscal and all; the scenarios multiply the sums by the grades' factors.
  const byGradeF: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n, 0n];
  const byGradeA: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n, 0n];
  // Lag one year longer, over G: PV × q / p when one rate 1 + r = p / q runs to the horizon (disc.oneRate); else
  // K × W one year later, fiscal lines and the others apart.
  const oneRate = disc.oneRate;
  let lagF = 0n;
  let lagOther = 0n;
  const byOrg = new Map<string | null, { pv: bigint; whole: bigint; part: bigint }>();
  const fiscalLines: FiscalLine[] = [];
  for (let j = 0; j < prepared.length; j++) {
    const b = prepared[j]!;
    const line = b.line;
    const g = b.grade;
    const Kpre = BigInt(b.preN) * line.unitValuePence * lineFactor[j]!;
    const keep = cp.benefitKeep[g]!;
    const K = Kpre * keep;
    const WK = weightedYield(b, disc, 0) * Kpre;
    const num = WK * keep;
    byGradeA[g] = byGradeA[g]! + WK;
    if (line.type === 'fiscal') {
      numFiscal += num;
      byGradeF[g] = byGradeF[g]! + WK;
      fiscalLines.push({ b, num, K });
      if (!oneRate) lagF += weightedYield(b, disc, 1) * K;
    } else {
      if (line.type === 'economic') numEconomic += num;
      else numSocial += num;
      if (!oneRate) lagOther += weightedYield(b, disc, 1) * K;
    }
    let org = byOrg.get(line.beneficiaryCode);
    if (!org) {
      org = { pv: 0n, whole: 0n, part: 0n };
      byOrg.set(line.beneficiaryCode, org);
    }
    org.pv += num;
    if (b.cashableBp === 10_000n) org.whole += num;
    else if (b.cashableBp !== 0n) org.part += num * b.cashableBp;
  }
  let obF = 0n;
  let obA = 0n;
  let worseF = 0n;
  let worseA = 0n;
  for (let g = 1; g <= 6; g++) {
    if (byGradeA[g] === 0n) continue;
    const worse = cp.benefitKeep[Math.min(g + 1, 6)]!;
    obF += byGradeF[g]!;
    obA += byGradeA[g]!;
    worseF += byGradeF[g]! * worse;
    worseA += byGradeA[g]! * worse;
  }
  obF *= 10_000n;
  obA *= 10_000n;

  const unitN = Number(pow10(16) * L);
  const fiscalRows =
    (unitN < 2 ** 900
      ? fiscalRowsDecided(
          fiscalLines.map(({ b, K }) => ({ b, kf: Number(K) / unitN })),
          disc,
          T,
          costs.cumCosts,
          costs.costDenN,
        )
      : null) ?? fiscalRowsExact(fiscalLines, disc, T, G, GN, costs.cumCosts, costScale);
  const numCosts = costs.total * costScale;
  const numAll = numFiscal + numEconomic + numSocial;
  const { bcr, vfmBand } = bcrOf(cp, numAll, numCosts);

  // Who benefits: by organisation code (ordinal), null last; the cashable part is over G × 10^4.
  const G4 = G * 10_000n;
  const whoBenefits = [...byOrg.keys()].sort(byOrganisationCode).map((organisationCode) => {
    const v = byOrg.get(organisationCode)!;
    const pvPence = roundHalfEven(v.pv, G, GN);
    const cashablePvPence =
      v.part === 0n
        ? v.whole === v.pv
          ? pvPence
          : v.whole === 0n
            ? 0n
            : roundHalfEven(v.whole, G, GN)
        : roundHalfEven(v.whole * 10_000n + v.part, G4);
    return { organisationCode, pvPence, cashablePvPence };
  });

  const possible = numCosts > 0n;
  const { costsSwitch, lineSwitches } = switchingValues(pc, G, numFiscal, numCosts, fiscalLines);

  // Sensitivity: costs without optimism bias and one grade worse (over 10^4 × D, then over G).
  // Amounts (× 10^4) and amounts one grade worse summed by year first, then discounted once per year.
  const obByYear: bigint[] = new Array(T + 1).fill(0n);
  const worseByYear: bigint[] = new Array(T + 1).fill(0n);
  for (let j = 0; j < costT.length; j++) {
    const t = costT[j]!;
    obByYear[t] = obByYear[t]! + costAmount[j]!;
    worseByYear[t] = worseByYear[t]! + costAmount[j]! * cp.costFactor[Math.min(costGrade[j]! + 1, 6)]!;
  }
  let obCosts = 0n;
  let worseCosts = 0n;
  for (let t = 0; t <= T; t++) {
    if (worseByYear[t] === 0n) continue;
    obCosts += N[t]! * obByYear[t]!;
    worseCosts += N[t]! * worseByYear[t]!;
  }
  obCosts *= costScale * 10_000n;
  worseCosts *= costScale;
  const outcome = (f: bigint, a: bigint, c: bigint, den: bigint): Outcome => ({
    fiscalNpvPence: roundHalfEven(f - c, den),
    ...bcrOf(cp, a, c),
  });
  const sensitivity: Outcome[] = [
    outcome(obF, obA, obCosts, G),
    outcome(worseF, worseA, worseCosts, G),
    // Impact × 4/5: benefits scale by 4/5, so compare 4 × benefits with 5 × costs over 5G.
    outcome(4n * numFiscal, 4n * numAll, 5n * numCosts, 5n * G),
    oneRate
      ? outcome(numFiscal * oneRate[1], numAll * oneRate[1], numCosts * oneRate[0], G * oneRate[0])
      : outcome(lagF, lagF + lagOther, numCosts, G),
  ];

  return {
    fiscalRows,
    economicPence: roundHalfEven(numEconomic, G, GN),
    socialPence: roundHalfEven(numSocial, G, GN),
    fiscalNpvPence: roundHalfEven(numFiscal - numCosts, G, GN),
    publicValueNpvPence: roundHalfEven(numAll - numCosts, G, GN),
    fiscalRoi: possible ? toNumber4dp(numFiscal, numCosts) : null,
    bcr,
    vfmBand,
    whoBenefits,
    costsSwitch,
    lineSwitches,
    sensitivity,
  };
}

/**
 * The switching values, exact (over G): for all costs, C* = C0 × PVfiscal / PVcosts with C0 the undiscounted total as
 * entered; for the unit value of each of the SWITCHING_LINES largest fiscal lines by PV (exact ties broken by the
 * lines' content, then input order), u* = u0 × (PVline − fiscal NPV) / PVline, null when it would have to be negative.
 */
function switchingValues(
  pc: PreparedCase,
  G: bigint,
  numFiscal: bigint,
  numCosts: bigint,
  fiscalLines: FiscalLine[],
): { costsSwitch: Switch; lineSwitches: Figures['lineSwitches'] } {
  const costTotal = pc.costTotal;
  const possible = numCosts > 0n;
  const costsSwitch: Switch = {
    switchingValue: possible ? toDecimalString(costTotal * numFiscal, numCosts, decimalsFor(numCosts, G * costTotal)) : null,
    changeBasisPoints: possible ? Number(roundHalfEven((numFiscal - numCosts) * 10_000n, numCosts)) : null,
  };
  const largest = fiscalLines
    .filter((l) => l.num > 0n)
    .sort((x, y) => {
      if (x.num !== y.num) return x.num > y.num ? -1 : 1;
      const kx = lineKey(x.b);
      const ky = lineKey(y.b);
      return kx < ky ? -1 : kx > ky ? 1 : x.b.index - y.b.index;
    })
    .slice(0, SWITCHING_LINES);
  // Over G: u0 × (num + shortfall) / num, shortfall = numCosts − numFiscal.
  const shortfall = numCosts - numFiscal;
  const shortfallBp = shortfall * 10_000n;
  const lineSwitches = largest.map(({ b, num }) => {
    const u0 = b.line.unitValuePence;
    const top = u0 * (num + shortfall);
    const ok = top >= 0n;
    const sw: Switch = {
      switchingValue: ok ? toDecimalString(top, num, decimalsFor(num, G * u0)) : null,
      changeBasisPoints: ok ? Number(roundHalfEven(shortfallBp, num)) : null,
    };
    return { b, sw };
  });

  return { costsSwitch, lineSwitches };
}

/** A window's values over D as floats (each within 3 roundings of the exact quotient), kept with the window. */
function windowFloats(win: Window, DN: number): number[] {
  if (win.floats === undefined) win.floats = win.values.map((w) => Number(w) / DN);
  return win.floats;
}

/**
 * The BCR a / c rounded half-even to 4 dp and its VfM band, decided from floats a and c whose quotient is within a
 * relative eps of the exact BCR; null when that does not settle both (as bcrOf's fast path, with the error given).
 * Bands with an edge of more than 4 decimals are left to bcrOf. c must be positive.
 */
function bcrWithin(cp: CompiledParameters, a: number, c: number, eps: number): { bcr: number; vfmBand: VfmBand | null } | null {
  const x = (a / c) * 10_000;
  const decided = floorWithin(x, x * eps);
  if (decided === null || decided.half === 0) return null;
  const q = decided.floor;
  const bcr = (decided.half < 0 ? q : q + 1) / 10_000;
  for (const band of cp.vfm) {
    if (band.max4 === null) {
      if (band.max !== null) return null;
    } else if (q >= band.max4N) continue;
    return { bcr, vfmBand: band.band };
  }
  return { bcr, vfmBand: null };
}

/** The fiscal lines worked out exactly (see exactFigures): what decidedFigures falls back on for fiscal figures. */
interface ExactFiscal {
  G: bigint;
  GN: number;
  costScale: bigint;
  numFiscal: bigint;
  numCosts: bigint;
  fiscalLines: FiscalLine[];
}

function exactFiscal(pc: PreparedCase, disc: Discounting, costs: CostRows): ExactFiscal {
  const { L, G, GN, lineFactor } = commonDenominator(pc, disc);
  const costScale = pow10(12) * L;
  let numFiscal = 0n;
  const fiscalLines: FiscalLine[] = [];
  for (let j = 0; j < pc.prepared.length; j++) {
    const b = pc.prepared[j]!;
    if (b.line.type !== 'fiscal') continue;
    const K = BigInt(b.preN) * b.line.unitValuePence * lineFactor[j]! * pc.cp.benefitKeep[b.grade]!;
    const num = weightedYield(b, disc, 0) * K;
    numFiscal += num;
    fiscalLines.push({ b, num, K });
  }
  return { G, GN, costScale, numFiscal, numCosts: costs.total * costScale, fiscalLines };
}

/**
 * decidedFigures' rounding: roundWithin, except that an error bound of 0 leaves every part an exact 0 (see there),
 * so the figure is 0.
 */
function decide(x: number, err: number): bigint | null {
  return x === 0 && err === 0 ? 0n : roundWithin(x, err);
}

/**
 * decimalsFor(num, G × u0) for a line worth pv pence (a float within a relative eps of it) and a unit value u0:
 * 2 when 500 × pv ≤ u0, else one more than the smallest e with 10^e × u0 ≥ 500 × pv (at least 2); null when the
 * float lies too near an edge to tell, or e would pass 22 (where powers of ten stop being exact floats).
 */
function decimalsWithin(pv: number, u0: number, eps: number): number | null {
  const r = (500 * pv) / u0;
  const lo = r * (1 - 2 * eps);
  const hi = r * (1 + 2 * eps);
  if (hi < 1) return 2;
  if (!(lo > 1)) return null;
  for (let e = 1; e <= 22; e++) {
    const p = 10 ** e;
    if (hi < p) return Math.max(2, e + 1);
    if (!(lo > p)) return null;
  }
  return null;
}

/**
 * The switching values (see switchingValues) decided from floats F (fiscal PV), C (costs' PV) and each fiscal line's
 * PV, each within a relative eps; null when one is not settled, the order of the largest lines included (an exact
 * tie is never settled). The costs' decimals come from the exact costs.
 */
function switchingWithin(
  pc: PreparedCase,
  costs: CostRows,
  F: number,
  C: number,
  fiscal: { b: PreparedBenefit; pv: number }[],
  eps: number,
): { costsSwitch: Switch; lineSwitches: Figures['lineSwitches'] } | null {
  let costsSwitch: Switch = { switchingValue: null, changeBasisPoints: null };
  if (costs.total > 0n) {
    const dp = decimalsFor(costs.total, costs.costDen * pc.costTotal);
    if (dp > 22) return null;
    const x = ((Number(pc.costTotal) * F) / C) * 10 ** dp;
    const value = decide(x, x * eps);
    const change = ((F - C) / C) * 10_000;
    const changeBp = decide(change, ((F + C) / C) * 10_000 * eps);
    if (value === null || changeBp === null) return null;
    costsSwitch = { switchingValue: decimalString(value, dp), changeBasisPoints: Number(changeBp) };
  }
  const ranked = fiscal.filter((l) => l.pv > 0).sort((x, y) => y.pv - x.pv);
  for (let i = 0; i + 1 < Math.min(ranked.length, SWITCHING_LINES + 1); i++) {
    const x = ranked[i]!.pv;
    const y = ranked[i + 1]!.pv;
    if (!(x - y > (x + y) * eps)) return null;
  }
  const lineSwitches: Figures['lineSwitches'] = [];
  for (const { b, pv } of ranked.slice(0, SWITCHING_LINES)) {
    // u* = u0 × (PVline − fiscal NPV) / PVline, admissible when PVline + C − F ≥ 0.
    const d = pv + C - F;
    const dErr = (pv + C + F) * eps;
    if (!(Math.abs(d) > dErr)) return null;
    let sw: Switch = { switchingValue: null, changeBasisPoints: null };
    if (d > 0) {
      const u0 = Number(b.line.unitValuePence);
      const dp = decimalsWithin(pv, u0, eps);
      if (dp === null) return null;
      const x = ((u0 * d) / pv) * 10 ** dp;
      const value = decide(x, x * (dErr / d + 2 * eps));
      const change = ((C - F) / pv) * 10_000;
      const changeBp = decide(change, ((C + F) / pv) * 10_000 * eps + Math.abs(change) * 2 * eps);
      if (value === null || changeBp === null) return null;
      sw = { switchingValue: decimalString(value, dp), changeBasisPoints: Number(changeBp) };
    }
    lineSwitches.push({ b, sw });
  }
  return { costsSwitch, lineSwitches };
}

/**
 * Every figure but the costs' rows, decided from floats where their error bound settles them; null when a figure that
 * does not rest on the fiscal lines alone is not settled (then exactFigures works them all out). A fiscal figure the
 * floats do not settle (fiscal NPV, ROI, the yearly rows, the switching values, whose many decimals a float holds only
 * for smaller cases) is worked out from the fiscal lines taken exactly (exactFiscal), as exactFigures does.
 * A line's PV in pence is kpre × keep × Σ_cohorts v × w[t + lag], where kpre = impact × (1 − deadweight) ×
 * (1 − displacement) × unit value × deflator[base] / deflator[priceYear] / (10^volume scale × b^(p−1)) is the value of
 * one unit before the haircut and w the window over D (windowFloats); every factor is non-negative and a float within
 * a few roundings of its exact value (at most 12 for kpre, 2 for the haircut, 3 for w, 1 for v: need × engagement
 * above 2^53). So each figure, a sum of at most n = (cohorts of the longest line) + (lines) + (cost lines) such
 * products, or a difference or quotient of two such sums, is within a relative γ_k of its exact value with
 * k ≤ n + 30 roundings (u = 2^−53; Higham, Accuracy and Stability of Numerical Algorithms, §3.1 and §4.2), and
 * eps = (n + 32) × 2^−52 bounds that with room to spare; the error of a difference is bounded by eps × the sum of its
 * parts. Each figure is then rounded by roundWithin (the BCR by floorWithin), which decides only what the bound
 * settles. Costs come from the exact running total (3 roundings). A float of 0 is an exact 0: kpre is 0 only for a
 * line worth nothing (a kpre that overflowed or underflowed on the way, a deflator or unit value beyond a float's
 * range included, sends the case to the exact working), and every other factor is at least 2^−101 (a window, as no
 * rate exceeds 100 %), so nothing underflows. A total or a cost beyond a float's range is never decided. Needs whole
 * volumes and D within a float's range.
 */
function decidedFigures(pc: PreparedCase, disc: Discounting, costs: CostRows): Figures | null {
  const { cp, prepared, rebaseNumN, rebaseDenN, costT, costAmount, costGrade } = pc;
  const T = pc.horizon;
  const df = discountFloats(disc);
  if (df === null || !(costs.costDenN < 2 ** 1000)) return null;
  const DN = Number(disc.D);
  const oneRate = disc.oneRate;
  let longest = 0;
  // PV in pence: fiscal, economic and social; all lines and the fiscal ones before the haircut (optimism bias
  // removed), one grade worse and (without one rate) one year later.
  let F = 0;
  let E = 0;
  let S = 0;
  let obF = 0;
  let obA = 0;
  let worseF = 0;
  let worseA = 0;
  let lagF = 0;
  let lagA = 0;
  const fiscal: { b: PreparedBenefit; pv: number }[] = [];
  const rowLines: RowLine[] = [];
  const byOrg = new Map<string | null, { pv: number; cash: number }>();
  for (let j = 0; j < prepared.length; j++) {
    const b = prepared[j]!;
    const v = b.cohortN;
    if (v === null) return null;
    if (v.length > longest) longest = v.length;
    const scale = b.dropCoef === null ? 1 : dropCoefficientFloats(b.persistence, b.dropKeep)[0]!;
    const kpre = ((b.preN / 1e12) * b.unitN * rebaseNumN[j]!) / rebaseDenN[j]! / (10 ** b.volumeScale * scale);
    // Exactly 0 only for a line worth nothing; any other value must not have overflowed or underflowed on the way.
    if (b.preN === 0 || b.line.unitValuePence === 0n ? kpre !== 0 : !(kpre >= 2 ** -880 && kpre < 2 ** 900)) return null;
    const w = windowFloats(b.dropKeep === 10_000 ? window(disc, b.persistence) : dropWindow(disc, b.persistence, b.dropKeep), DN);
    let y = 0;
    for (let c = 0; c < v.length; c++) y += v[c]! * w[b.cohortT[c]! + b.lag]!;
    const keep = cp.benefitKeepN[b.grade]!;
    const worse = cp.benefitKeepN[Math.min(b.grade + 1, 6)]!;
    const pre = kpre * y;
    const pv = (pre * keep) / 10_000;
    obA += pre;
    worseA += (pre * worse) / 10_000;
    const type = b.line.type;
    if (type === 'fiscal') {
      F += pv;
      obF += pre;
      worseF += (pre * worse) / 10_000;
      fiscal.push({ b, pv });
      rowLines.push({ b, kf: (kpre * keep) / 10_000 });
    } else if (type === 'economic') E += pv;
    else S += pv;
    if (!oneRate) {
      let y1 = 0;
      for (let c = 0; c < v.length; c++) y1 += v[c]! * w[b.cohortT[c]! + b.lag + 1]!;
      const lagged = (kpre * y1 * keep) / 10_000;
      lagA += lagged;
      if (type === 'fiscal') lagF += lagged;
    }
    let org = byOrg.get(b.line.beneficiaryCode);
    if (!org) {
      org = { pv: 0, cash: 0 };
      byOrg.set(b.line.beneficiaryCode, org);
    }
    org.pv += pv;
    if (b.cashableBp === 10_000n) org.cash += pv;
    else if (b.cashableBp !== 0n) org.cash += (pv * Number(b.cashableBp)) / 10_000;
  }
  const A = F + E + S;
  if (!(A < 2 ** 1000 && obA < 2 ** 1000 && lagA < 2 ** 1000)) return null;
  const eps = (longest + prepared.length + costT.length + 32) * 2 ** -52;

  // Costs: as entered, and without the uplifts (optimism bias removed) and one grade worse.
  const possible = costs.total > 0n;
  const C = Number(costs.total) / costs.costDenN;
  if (!Number.isFinite(C)) return null;
  let obC = 0;
  let worseC = 0;
  for (let j = 0; j < costT.length; j++) {
    const amount = Number(costAmount[j]!) * df[costT[j]!]!;
    obC += amount;
    worseC += (amount * cp.costFactorN[Math.min(costGrade[j]! + 1, 6)]!) / 10_000;
  }

  const economicPence = decide(E, E * eps);
  const socialPence = decide(S, S * eps);
  const publicValueNpvPence = decide(A - C, (A + C) * eps);
  const ratio = possible ? bcrWithin(cp, A, C, eps) : { bcr: null, vfmBand: null };
  if (economicPence === null || socialPence === null || publicValueNpvPence === null || ratio === null) return null;

  const whoBenefits: AppraisalResult['whoBenefits'] = [];
  for (const organisationCode of [...byOrg.keys()].sort(byOrganisationCode)) {
    const { pv, cash } = byOrg.get(organisationCode)!;
    const pvPence = decide(pv, pv * eps);
    const cashablePvPence = decide(cash, cash * eps);
    if (pvPence === null || cashablePvPence === null) return null;
    whoBenefits.push({ organisationCode, pvPence, cashablePvPence });
  }

  // Sensitivity, in the order of SCENARIOS.
  const outcome = (f: number, a: number, c: number): Outcome | null => {
    const npv = decide(f - c, (f + c) * eps);
    const b = possible ? bcrWithin(cp, a, c, eps) : { bcr: null, vfmBand: null };
    return npv === null || b === null ? null : { fiscalNpvPence: npv, ...b };
  };
  const later = oneRate ? Number(oneRate[1]) / Number(oneRate[0]) : 0;
  const sensitivity: Outcome[] = [];
  for (const o of [
    outcome(obF, obA, obC),
    outcome(worseF, worseA, worseC),
    outcome((4 * F) / 5, (4 * A) / 5, C),
    oneRate ? outcome(F * later, A * later, C) : outcome(lagF, lagA, C),
  ]) {
    if (o === null) return null;
    sensitivity.push(o);
  }

  // The fiscal figures: from floats where they settle them, else from the fiscal lines taken exactly.
  let exact: ExactFiscal | undefined;
  const x = () => (exact ??= exactFiscal(pc, disc, costs));
  const roi = (F / C) * 10_000;
  const fiscalRoi = possible ? decide(roi, roi * eps) : null;
  return {
    fiscalRows:
      fiscalRowsDecided(rowLines, disc, T, costs.cumCosts, costs.costDenN) ??
      fiscalRowsExact(x().fiscalLines, disc, T, x().G, x().GN, costs.cumCosts, x().costScale),
    economicPence,
    socialPence,
    fiscalNpvPence: decide(F - C, (F + C) * eps) ?? roundHalfEven(x().numFiscal - x().numCosts, x().G, x().GN),
    publicValueNpvPence,
    fiscalRoi: !possible ? null : fiscalRoi !== null ? Number(fiscalRoi) / 10_000 : toNumber4dp(x().numFiscal, x().numCosts),
    bcr: ratio.bcr,
    vfmBand: ratio.vfmBand,
    whoBenefits,
    ...(switchingWithin(pc, costs, F, C, fiscal, eps) ?? switchingValues(pc, x().G, x().numFiscal, x().numCosts, x().fiscalLines)),
    sensitivity,
  };
}

/**
 * The appraised value of each benefit line in each year it yields: undiscounted, at base-year prices, after
 * need × engagement, impact, deadweight, displacement, lag, drop-off, rebasing and the optimism-bias haircut:
 * what the appraisal expects that year (the benefits register's "appraised" column). Each value is rounded
 * half-even to the penny on its own; `line` is the index into `input.benefits`. Years run in order within
 * each line; lines in input order. The same validation and warnings rules as appraise() apply (warnings are
 * not returned here).
 */
export function benefitSchedule(
  input: AppraisalInput,
  params: ParameterSet,
  deflators: DeflatorTable | null,
): { line: number; year: string; valuePence: bigint }[] {
  const { cp, baseStart, horizon, prepared, rebaseNum, rebaseDen } = prepareCase(input, params, deflators);
  const out: { line: number; year: string; valuePence: bigint }[] = [];
  for (let j = 0; j < prepared.length; j++) {
    const b = prepared[j]!;
    const p = b.persistence;
    const coef = b.dropCoef;
    // Yield per year (numerators over 10^volumeScale, and 10^(4(p−1)) with drop-off) from each cohort's window.
    const yieldByYear: bigint[] = new Array(horizon + 1).fill(0n);
    const active: boolean[] = new Array(horizon + 1).fill(false);
    const volumes = volumesOf(b);
    for (let c = 0; c < b.cohortT.length; c++) {
      const t = b.cohortT[c]! + b.lag;
      const v = volumes[c]!;
      if (v === 0n) continue;
      for (let k = 0; k < p; k++) {
        yieldByYear[t + k] = yieldByYear[t + k]! + (coef ? v * coef[k]! : v);
        active[t + k] = true;
      }
    }
    const num = BigInt(b.preN) * cp.benefitKeep[b.grade]! * b.line.unitValuePence * rebaseNum[j]!;
    const den = pow10(16) * lineDenominator(b, rebaseDen[j]!);
    for (let t = 0; t <= horizon; t++) {
      if (active[t])
        out.push({ line: b.index, year: financialYearName(baseStart + t), valuePence: roundHalfEven(yieldByYear[t]! * num, den) });
    }
  }
  return out;
}
