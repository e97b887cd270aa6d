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
 * without a gcd: see appraise) of the per-line denominators (price-year deflator × volume decimal scale × 10^4 for engagement × b^(p−1)
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
 * strictly between the same integer and half-integer (decidedRound); otherwise they take the exact bigint path.
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
  decidedRound,
  floorDiv,
  gcd,
  numberToDecimal,
  parseDecimal,
  pow10,
  roundFloored,
  roundHalfEven,
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
  /** windows[p][t] = N[t] + … + N[t+p−1]: what one unit engaged in year t for p years is worth (over D). */
  windows: bigint[][];
  /** The same with drop-off, keyed by p × 10,001 + keep (see dropWindow). */
  dropWindows: Map<number, bigint[]>;
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
 * denominator (see appraise). Both depend only on the deflator table, the base year, the price years rebased
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

/**
 * dropWindow(d, p, keep)[t] = Σ_{k<p} a^k × b^(p−1−k) × N[t+k] (keep/10,000 = a/b): what one unit engaged for p
 * years of benefit starting in year t is worth, each year keeping a/b of the year before (over b^(p−1) × D).
 * Built from the end in one pass: W[t] = b^(p−1) N[t] + a × (W[t+1] − a^(p−1) N[t+p]) / b, an exact division.
 */
function dropWindow(d: Discounting, p: number, keep: number): bigint[] {
  const key = p * 10_001 + keep;
  let w = d.dropWindows.get(key);
  if (w) return w;
  const c = dropCoefficient(p, keep);
  const len = d.N.length - p + 1;
  w = new Array<bigint>(Math.max(0, len));
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
  if (d.dropWindows.size > 256) d.dropWindows.clear();
  d.dropWindows.set(key, w);
  return w;
}

function window(d: Discounting, p: number): bigint[] {
  let w = d.windows[p];
  if (!w) {
    w = [];
    for (let t = 0; t + p < d.PN.length; t++) w.push(d.PN[t + p]! - d.PN[t]!);
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
  values: Map<string, { value: bigint; forecast: boolean }>;
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
  const values = new Map<string, { value: bigint; forecast: boolean }>();
  for (const [year, d, forecast] of entries) values.set(year, { value: d.num * pow10(scale - d.scale), forecast });
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
  /** Cohort engagement years and volumes (numerators over 10^volumeScale; need × engagement carries 4 of them). */
  cohortT: number[];
  cohortV: bigint[];
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
  /** impact × (10^4 − deadweight) × (10^4 − displacement): exact, over 10^12. */
  pre: bigint;
  grade: number;
}

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
    const factor = cp.costFactor[line.confidenceGrade];
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
    const keep = cp.benefitKeep[line.confidenceGrade];
    if (keep === undefined)
      errors.push({ pointer: ptr('benefits', i, 'confidenceGrade'), detail: 'must be a confidence grade from 1 to 6' });
    // The cohort: `volumes`, or `need` × `engagementBasisPoints` (which of them is checked by lineChoiceErrors).
    const hasNeed = line.need !== undefined && line.volumes === undefined;
    const field = hasNeed ? 'need' : 'volumes';
    const cohorts = hasNeed ? line.need : line.volumes;
    const engagement = hasNeed ? optionalBasisPoints(line.engagementBasisPoints, 0, 10_000, errors, i, 'engagementBasisPoints') : 10_000;
    const cohortT: number[] = [];
    // Volumes as exact decimals num / 10^scale (whole numbers, the usual case, have scale 0).
    const cohortNum: bigint[] = [];
    const cohortWhole: number[] = [];
    const cohortScale: number[] = [];
    let volumeScale = 0;
    let lastT = -1;
    let wholeSum = 0;
    if (typeof cohorts !== 'object' || cohorts === null) {
      if (cohorts !== undefined) errors.push({ pointer: ptr('benefits', i, field), detail: 'must map financial years to volumes' });
    } else {
      for (const year of Object.keys(cohorts)) {
        const t = yearIndex(year, baseStart, baseYear, errors, 'benefits', i, field, year);
        const v = cohorts[year];
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
          errors.push({ pointer: ptr('benefits', i, field, year), detail: 'must be a finite, non-negative number' });
          continue;
        }
        if (t < 0) continue;
        cohortT.push(t);
        if (t > lastT) lastT = t;
        if (Number.isSafeInteger(v)) {
          cohortNum.push(v < SMALL.length ? SMALL[v]! : BigInt(v));
          cohortWhole.push(v);
          cohortScale.push(0);
          wholeSum += v;
        } else {
          const d = numberToDecimal(v);
          cohortNum.push(d.num);
          cohortScale.push(d.scale);
          if (d.scale > volumeScale) volumeScale = d.scale;
        }
      }
    }
    if (errors.length !== before) continue;
    // Whole volumes also as JavaScript numbers, for the shortcuts that sum them as numbers (volumeSum is Infinity
    // without): only when every volume is a safe integer (a whole volume of 2^53 or more has none of its own).
    const allSafe = cohortWhole.length === cohortNum.length;
    let cohortN: number[] | null = allSafe ? cohortWhole : null;
    let volumeSum = allSafe ? wholeSum : Number.POSITIVE_INFINITY;
    let cohortV = volumeScale === 0 ? cohortNum : cohortNum.map((n, c) => n * pow10(volumeScale - cohortScale[c]!));
    if (hasNeed) {
      const e = BigInt(engagement);
      cohortV = cohortV.map((n) => n * e);
      cohortN = cohortN?.map((n) => n * engagement) ?? null;
      volumeSum *= engagement;
      volumeScale += 4;
    }
    if (lastT + lag + p - 1 > horizon) horizon = lastT + lag + p - 1;
    // A benefit that lasts one year has no later year to fall in.
    const dropKeep = p === 1 ? 10_000 : 10_000 - dropOff;
    const [twos, fives] = dropKeep === 10_000 ? [0, 0] : dropPowers(dropKeep);
    prepared.push({
      index: i,
      line,
      priceYear: financialYearName(priceStart!),
      cohortT,
      cohortV,
      volumeScale,
      persistence: p,
      lag,
      dropKeep,
      dropCoef: dropKeep === 10_000 ? null : dropCoefficient(p, dropKeep),
      cohortN,
      volumeSum,
      dropTwos: twos * (p - 1),
      dropFives: fives * (p - 1),
      cashableBp: BigInt(cashableBp),
      // At most 10^12: exact as a number.
      pre: BigInt(line.impactBasisPoints * (10_000 - line.deadweightBasisPoints) * (10_000 - displacement)),
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
  const rebaseClass: number[] = [];
  const classOf = new Map<string, number>();
  for (const b of prepared) {
    let num = 1n;
    let den = 1n;
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
          cls = classOf.get(b.priceYear) ?? classOf.size + 1;
          classOf.set(b.priceYear, cls);
          if (base.forecast) forecastsUsed.add(baseYear);
          if (price.forecast) forecastsUsed.add(b.priceYear);
        }
      }
    }
    rebaseNum.push(num);
    rebaseDen.push(den);
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
  let W = 0n;
  for (let c = 0; c < b.cohortT.length; c++) {
    const v = b.cohortV[c]!;
    if (v !== 0n) W += v * win[b.cohortT[c]! + lag]!;
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
function runYield(b: PreparedBenefit, v: number[], disc: Discounting, win: bigint[], lag: number): bigint | null {
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
    runSums[j] = (runSums[j] ?? 0) + v[c]! * runs.coefficients(j === lastRun ? lastH : h)[i - j * span]!;
  }
  let W = 0n;
  for (let j = 0; j <= lastRun; j++) {
    const sum = runSums[j] ?? 0;
    if (sum === 0) continue;
    runSums[j] = 0;
    W += runs.factor(win, first + j * span + lag, j === lastRun ? lastH : h) * (sum < SMALL.length ? SMALL[sum]! : BigInt(sum));
  }
  return W;
}

/** What runYield needs of a discounting with one rate p / q, built once per discounting. */
interface Runs {
  /** p^h as JavaScript numbers while below 2^53 (at most 63 of them). */
  powers: number[];
  /** q^i × p^(h−i) for i = 0 … h. */
  coefficients(h: number): number[];
  /** win[t] / p^h, exact (cached per window). */
  factor(win: bigint[], t: number, h: number): bigint;
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
    // Per window, by t × 64 + h (h ≤ 63).
    const factors = new WeakMap<bigint[], (bigint | undefined)[]>();
    runs = {
      powers,
      coefficients: (h) => coefficients[h]!,
      factor(win, t, h) {
        let byStart = factors.get(win);
        if (!byStart) {
          byStart = new Array<bigint | undefined>(win.length * 64);
          factors.set(win, byStart);
        }
        let f = byStart[t * 64 + h];
        if (f === undefined) {
          f = win[t]! / p ** BigInt(h);
          byStart[t * 64 + h] = f;
        }
        return f;
      },
    };
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
  for (let c = 0; c < b.cohortT.length; c++) {
    const v = b.cohortV[c]!;
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
    if (p === 1) {
      for (let c = 0; c < b.cohortT.length; c++) {
        const v = b.cohortV[c]!;
        if (v === 0n) continue;
        const t = b.cohortT[c]! + b.lag;
        fiscalDirect[t] = fiscalDirect[t]! + v * K;
      }
    } else if (b.dropKeep === 10_000) {
      for (let c = 0; c < b.cohortT.length; c++) {
        const v = b.cohortV[c]!;
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
 * then fiscalRowsExact gives them). Every term K / (10^16 × L) × volume × drop-off coefficient × DF_s is
 * non-negative, and each of its factors is a float within a few roundings of the exact value; so a row, a sum of
 * such terms, and a running total of rows are within a relative γ_k = k·u / (1 − k·u) of their exact values
 * (u = 2^−53; Higham, Accuracy and Stability of Numerical Algorithms, §3.1 and §4.2), k at most the number of terms
 * summed plus the years plus 16, and err = 2^−51 × k × value bounds the distance with room to spare. A row or
 * running total is then rounded by decidedRound; the payback comparison is decided when the two running totals lie
 * further apart than their error bounds. A float of exactly 0 is an exact 0: every factor is 0 or at least 2^−1002
 * (volumes and coefficients are whole, K / (10^16 × L) ≥ 2^−900 is required, DF ≥ 2^−101 as no rate exceeds 100 %),
 * so no term underflows. Needs whole volumes (cohortN) and drop-off coefficients below 2^53.
 */
function fiscalRowsDecided(
  lines: FiscalLine[],
  disc: Discounting,
  T: number,
  unitN: number,
  cumCosts: bigint[],
  costDenN: number,
): FiscalRows | null {
  const df = discountFloats(disc);
  if (df === null || !(unitN < 2 ** 900) || !(costDenN < 2 ** 1000)) return null;
  const rows = rowScratch;
  for (let t = 0; t <= T; t++) rows[t] = 0;
  let terms = 0;
  for (const { b, K } of lines) {
    const v = b.cohortN;
    if (v === null) return null;
    const coef = b.dropCoef === null ? null : dropCoefficientNumbers(b.persistence, b.dropKeep);
    if (b.dropCoef !== null && coef === null) return null;
    const kf = Number(K) / unitN;
    if (!(kf < 2 ** 1000)) return null;
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
      const r = decidedRound(x, x * rel);
      cum += x;
      const c = decidedRound(cum, cum * rel);
      if (r === null || c === null) return null;
      row = r;
      cumRounded = c;
    }
    pv[t] = row;
    cumulative[t] = cumRounded;
    if (payback < 0 && cumCosts[t]! > 0n) {
      const costs = Number(cumCosts[t]!) / costDenN;
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

/**
 * Appraises one case. Deterministic and independent of the order of lines. Throws AppraisalInputError
 * (kind `invalid`, with JSON-pointer field errors) when the input cannot be appraised, and AppraisalDataError
 * when the parameter set or deflator table is malformed.
 */
export function appraise(input: AppraisalInput, params: ParameterSet, deflators: DeflatorTable | null): AppraisalResult {
  const {
    cp,
    baseStart,
    baseYear,
    schedule,
    horizon,
    costT,
    costAmount,
    costGrade,
    costUplifted,
    costTotal,
    prepared,
    rebaseNum,
    rebaseDen,
    rebaseClass,
    rebasedYears,
    deflatorId,
    warnings,
  } = prepareCase(input, params, deflators);

  // Common denominator G = 10^16 × L × D, L a common multiple of the per-line denominators, built without a gcd:
  // the product of the distinct price-year deflators, 10^(largest volume scale), and 2^X × 5^Y with X and Y the
  // largest powers of 2 and 5 in any drop-off denominator b^(p−1) (each b divides 10^4). Discounting runs one year
  // past the horizon, for the sensitivity with one more year of lag.
  const T = horizon;
  const disc = discounting(schedule, prepared.length > 0 ? T + 1 : T);
  const { N, D } = disc;
  let volumeScale = 0;
  let twos = 0;
  let fives = 0;
  for (const b of prepared) {
    if (b.volumeScale > volumeScale) volumeScale = b.volumeScale;
    if (b.dropTwos > twos) twos = b.dropTwos;
    if (b.dropFives > fives) fives = b.dropFives;
  }
  const key = `${deflatorId}|${baseYear}|${volumeScale}|${twos}|${fives}|${[...rebasedYears].sort().join('|')}`;
  let common = disc.common.get(key);
  if (!common) {
    let L = (pow10(volumeScale) << BigInt(twos)) * 5n ** BigInt(fives);
    for (let k = 1; k <= rebasedYears.length; k++) L *= rebaseDen[rebaseClass.indexOf(k)]!;
    common = { L, G: pow10(16) * L * D, factors: new Map() };
    if (disc.common.size > 256) disc.common.clear();
    disc.common.set(key, common);
  }
  const { L, G } = common;
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
      f = (L / lineDenominator(b, rebaseDen[j]!)) * rebaseNum[j]!;
      byKind.set(kind, f);
    }
    lineFactor.push(f);
  }

  // Costs by year, over 10^4 × D.
  const costScale = pow10(12) * L;
  const costByYear: bigint[] = new Array(T + 1).fill(0n);
  for (let j = 0; j < costT.length; j++) {
    const t = costT[j]!;
    costByYear[t] = costByYear[t]! + costUplifted[j]!;
  }

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
    const Kpre = b.pre * line.unitValuePence * lineFactor[j]!;
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

  // Per-year rows. Costs stay over 10^4 × D (smaller numbers); each row and each running total is rounded on its
  // own from its exact numerator (roundHalfEven); zero rows and unchanged running totals reuse the previous rounding.
  const costDen = 10_000n * D;
  const costDenN = Number(costDen);
  const GN = Number(G);
  const pvCostsByYear: bigint[] = new Array(T + 1);
  const cumCostsByYear: bigint[] = new Array(T + 1);
  const cumCostsRoundedByYear: bigint[] = new Array(T + 1);
  let cumCosts = 0n;
  let cumCostsRounded = 0n;
  for (let t = 0; t <= T; t++) {
    const cost = costByYear[t]!;
    let pvCosts = 0n;
    if (cost !== 0n) {
      const c = N[t]! * cost;
      cumCosts += c;
      pvCosts = roundHalfEven(c, costDen, costDenN);
      cumCostsRounded = roundHalfEven(cumCosts, costDen, costDenN);
    }
    pvCostsByYear[t] = pvCosts;
    cumCostsByYear[t] = cumCosts;
    cumCostsRoundedByYear[t] = cumCostsRounded;
  }
  const fiscalRows =
    fiscalRowsDecided(fiscalLines, disc, T, Number(pow10(16) * L), cumCostsByYear, costDenN) ??
    fiscalRowsExact(fiscalLines, disc, T, G, GN, cumCostsByYear, costScale);
  const years: AppraisalResult['years'] = [];
  for (let t = 0; t <= T; t++) {
    years.push({
      year: financialYearName(baseStart + t),
      index: t,
      discountFactor: schedule.dfStrings[t]!,
      pvCostsPence: pvCostsByYear[t]!,
      pvFiscalBenefitsPence: fiscalRows.pv[t]!,
      cumulativePvCostsPence: cumCostsRoundedByYear[t]!,
      cumulativePvFiscalBenefitsPence: fiscalRows.cumulative[t]!,
    });
  }
  const paybackYear = fiscalRows.payback < 0 ? null : financialYearName(baseStart + fiscalRows.payback);
  const numCosts = cumCosts * costScale;
  const numAll = numFiscal + numEconomic + numSocial;
  const { bcr, vfmBand } = bcrOf(cp, numAll, numCosts);

  // Who benefits: by organisation code (ordinal), null last; the cashable part is over G × 10^4.
  const G4 = G * 10_000n;
  const orgs = [...byOrg.keys()].sort(byOrganisationCode);
  const whoBenefits = orgs.map((organisationCode) => {
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

  // Switching values.
  const switchingValues: SwitchingValue[] = [];
  {
    const base = costTotal;
    const possible = numCosts > 0n;
    const dp = possible ? decimalsFor(numCosts, G * base) : 2;
    switchingValues.push({
      input: 'costs',
      label: 'All costs (every cost line scaled together; undiscounted total as entered, before optimism bias)',
      baseValue: Number(base),
      switchingValue: possible ? toDecimalString(base * numFiscal, numCosts, dp) : null,
      changeBasisPoints: possible ? Number(roundHalfEven((numFiscal - numCosts) * 10_000n, numCosts)) : null,
    });
  }
  const largest = fiscalLines
    .filter((l) => l.num > 0n)
    .sort((x, y) => {
      if (x.num !== y.num) return x.num > y.num ? -1 : 1;
      const kx = lineKey(x.b);
      const ky = lineKey(y.b);
      return kx < ky ? -1 : kx > ky ? 1 : x.b.index - y.b.index;
    })
    .slice(0, SWITCHING_LINES);
  // u* = u0 × (PVline − fiscal NPV) / PVline; over G: u0 × (num + shortfall) / num, shortfall = numCosts − numFiscal.
  const shortfall = numCosts - numFiscal;
  const shortfallBp = shortfall * 10_000n;
  for (const { b, num } of largest) {
    const u0 = b.line.unitValuePence;
    const top = u0 * (num + shortfall);
    const possible = top >= 0n;
    switchingValues.push({
      input: `benefits/${b.index}/unitValuePence`,
      label: `Unit value of "${b.line.outcome}" (${b.line.beneficiaryCode})`,
      baseValue: Number(u0),
      switchingValue: possible ? toDecimalString(top, num, decimalsFor(num, G * u0)) : null,
      changeBasisPoints: possible ? Number(roundHalfEven(shortfallBp, num)) : null,
    });
  }

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
  const scenario = (name: SensitivityCase['scenario'], label: string, f: bigint, a: bigint, c: bigint, den: bigint): SensitivityCase => ({
    scenario: name,
    label,
    fiscalNpvPence: roundHalfEven(f - c, den),
    ...bcrOf(cp, a, c),
  });
  const sensitivity: SensitivityCase[] = [
    scenario('optimism-bias-removed', 'Optimism bias removed (no cost uplift, no benefit haircut)', obF, obA, obCosts, G),
    scenario('one-grade-worse', 'Every cost and benefit line one confidence grade worse (grade 6 stays 6)', worseF, worseA, worseCosts, G),
    // Impact × 4/5: benefits scale by 4/5, so compare 4 × benefits with 5 × costs over 5G.
    scenario(
      'impact-20-percent-lower',
      'Impact 20% lower on every benefit line (impact × 0.8)',
      4n * numFiscal,
      4n * numAll,
      5n * numCosts,
      5n * G,
    ),
    oneRate
      ? scenario('lag-one-year-longer', LAG_LABEL, numFiscal * oneRate[1], numAll * oneRate[1], numCosts * oneRate[0], G * oneRate[0])
      : scenario('lag-one-year-longer', LAG_LABEL, lagF, lagF + lagOther, numCosts, G),
  ];

  const ordered: string[] = [];
  if (params.provisional) {
    ordered.push(
      `Parameter set ${params.name} ${params.version} is provisional: some of its values could not be verified against their published source, so this appraisal is indicative.`,
    );
  }
  if (numCosts === 0n) ordered.push('The present value of costs is zero, so fiscal ROI, BCR and the value-for-money band are not defined.');
  ordered.push(...[...warnings].sort());

  return {
    pvCostsPence: cumCostsRounded,
    pvBenefitsPence: {
      fiscal: fiscalRows.cumulative[T]!,
      economic: roundHalfEven(numEconomic, G, GN),
      social: roundHalfEven(numSocial, G, GN),
    },
    fiscalNpvPence: roundHalfEven(numFiscal - numCosts, G, GN),
    publicValueNpvPence: roundHalfEven(numAll - numCosts, G, GN),
    fiscalRoi: numCosts > 0n ? toNumber4dp(numFiscal, numCosts) : null,
    bcr,
    paybackYear,
    vfmBand,
    whoBenefits,
    switchingValues,
    years,
    parameterSet: { name: params.name, version: params.version, provisional: params.provisional },
    warnings: ordered,
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
    for (let c = 0; c < b.cohortT.length; c++) {
      const t = b.cohortT[c]! + b.lag;
      const v = b.cohortV[c]!;
      if (v === 0n) continue;
      for (let k = 0; k < p; k++) {
        yieldByYear[t + k] = yieldByYear[t + k]! + (coef ? v * coef[k]! : v);
        active[t + k] = true;
      }
    }
    const num = b.pre * cp.benefitKeep[b.grade]! * b.line.unitValuePence * rebaseNum[j]!;
    const den = pow10(16) * lineDenominator(b, rebaseDen[j]!);
    for (let t = 0; t <= horizon; t++) {
      if (active[t])
        out.push({ line: b.index, year: financialYearName(baseStart + t), valuePence: roundHalfEven(yieldByYear[t]! * num, den) });
    }
  }
  return out;
}
