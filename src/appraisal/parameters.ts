import { z } from 'zod';
import { parseDecimal, pow10 } from './rational.ts';
import type { DeflatorTable, ParameterSet } from './types.ts';

/**
 * Validation of the appraisal data files (fixtures/appraisal/parameter-sets.json and
 * gdp-deflators.json). Parameter sets are data, not code: a malformed file must fail loudly at
 * load, with the path of every problem, never yield a quietly wrong appraisal.
 */

export class AppraisalDataError extends Error {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'AppraisalDataError';
  }
}

const FY = /^(\d{4})[-/](\d{2})$/;

/** "2026-27" (or, if `allowSlash`, the Unit Cost Database's "2026/27") → 2026; null if not a financial year. */
export function financialYearStart(name: string, allowSlash = false): number | null {
  let start: number | null | undefined = parsedYears.get(name);
  if (start === undefined) {
    const m = FY.exec(name);
    start = m && (Number(m[1]) + 1) % 100 === Number(m[2]) ? Number(m[1]) : null;
    // Only well-formed names are cached, so the cache is bounded (at most two spellings per year).
    if (start !== null) parsedYears.set(name, start);
  }
  if (start !== null && !allowSlash && name.charCodeAt(4) !== 45 /* - */) return null;
  return start;
}
const parsedYears = new Map<string, number>();

// Preallocated, so the array stays a flat table (a sparse one would be a slow dictionary).
const yearNames: (string | undefined)[] = new Array(10_000);
/** 2026 → "2026-27"; 999 → "0999-00" (four digits, as financialYearStart reads them). */
export function financialYearName(start: number): string {
  let name = yearNames[start];
  if (name === undefined) {
    name = `${String(start).padStart(4, '0')}-${String((start + 1) % 100).padStart(2, '0')}`;
    if (start >= 0 && start < 10_000) yearNames[start] = name;
  }
  return name;
}

const decimalString = z.string().regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal string such as "0.035"');
const positiveDecimal = decimalString.refine((s) => /[1-9]/.test(s), 'must be greater than zero');
const financialYear = z.string().refine((s) => financialYearStart(s) !== null, 'must be a financial year such as "2026-27"');

/** Exact value of a decimal string as num / den. */
function fraction(s: string): { num: bigint; den: bigint } {
  const d = parseDecimal(s);
  if (!d) throw new Error(`not a decimal: ${s}`);
  return { num: d.num, den: pow10(d.scale) };
}

const discountBand = z
  .object({
    fromYear: z.number().int().min(0),
    toYear: z.number().int().min(0).nullable(),
    rateBasisPoints: z.number().int().min(0).max(10_000),
    rate: decimalString,
  })
  .superRefine((band, ctx) => {
    const r = fraction(band.rate);
    if (r.num * 10_000n !== BigInt(band.rateBasisPoints) * r.den) {
      ctx.addIssue({ code: 'custom', path: ['rate'], message: `rate ${band.rate} does not equal ${band.rateBasisPoints} basis points` });
    }
    if (band.toYear !== null && band.toYear < band.fromYear) {
      ctx.addIssue({ code: 'custom', path: ['toYear'], message: 'must not be before fromYear' });
    }
  });

const discountSchedule = z
  .array(discountBand)
  .min(1)
  .superRefine((bands, ctx) => {
    let expected = 0;
    bands.forEach((band, i) => {
      if (band.fromYear !== expected) {
        ctx.addIssue({ code: 'custom', path: [i, 'fromYear'], message: `bands must be contiguous from year 0: expected ${expected}` });
      }
      if (band.toYear === null && i !== bands.length - 1) {
        ctx.addIssue({ code: 'custom', path: [i, 'toYear'], message: 'only the last band may be open-ended' });
      }
      expected = (band.toYear ?? Number.POSITIVE_INFINITY) + 1;
    });
    if (bands[bands.length - 1]?.toYear !== null) {
      ctx.addIssue({ code: 'custom', path: [bands.length - 1, 'toYear'], message: 'the last band must be open-ended (null)' });
    }
  });

const grade = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(5), z.literal(6)]);

const confidenceGrade = z.object({
  grade,
  description: z.string(),
  costUpliftBasisPoints: z.number().int().min(0).max(1_000_000),
  benefitHaircutBasisPoints: z.number().int().min(0).max(10_000),
  verified: z.boolean().optional(),
});

const vfmBand = z.object({
  band: z.enum(['poor', 'low', 'medium', 'high', 'very-high']),
  minBcr: decimalString.nullable(),
  maxBcr: decimalString.nullable(),
  minInclusive: z.boolean(),
  maxInclusive: z.boolean(),
});

const parameterSetSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  provisional: z.boolean(),
  title: z.string(),
  source: z.object({ title: z.string(), publisher: z.string(), year: z.number().int(), url: z.string() }),
  discountSchedules: z.object({ standard: discountSchedule, health: discountSchedule }),
  confidenceGrades: z.array(confidenceGrade).superRefine((grades, ctx) => {
    for (const g of [1, 2, 3, 4, 5, 6]) {
      const n = grades.filter((x) => x.grade === g).length;
      if (n !== 1) ctx.addIssue({ code: 'custom', path: [], message: `grade ${g} must appear exactly once (found ${n})` });
    }
  }),
  vfmBands: z
    .array(vfmBand)
    .min(1)
    .superRefine((bands, ctx) => {
      // The bands must partition [0, ∞): first open below, last open above, each upper edge the next
      // lower edge, and exactly one of the two sides of every edge inclusive.
      bands.forEach((band, i) => {
        const first = i === 0;
        const last = i === bands.length - 1;
        if (first !== (band.minBcr === null)) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'minBcr'],
            message: first ? 'the first band must have minBcr null' : 'must not be null',
          });
        }
        if (last !== (band.maxBcr === null)) {
          ctx.addIssue({ code: 'custom', path: [i, 'maxBcr'], message: last ? 'the last band must have maxBcr null' : 'must not be null' });
        }
        if (band.minBcr !== null && band.maxBcr !== null) {
          const lo = fraction(band.minBcr);
          const hi = fraction(band.maxBcr);
          if (lo.num * hi.den >= hi.num * lo.den) ctx.addIssue({ code: 'custom', path: [i], message: 'minBcr must be below maxBcr' });
        }
        const next = bands[i + 1];
        if (next && band.maxBcr !== null && next.minBcr !== null) {
          const a = fraction(band.maxBcr);
          const b = fraction(next.minBcr);
          if (a.num * b.den !== b.num * a.den) {
            ctx.addIssue({ code: 'custom', path: [i + 1, 'minBcr'], message: `must equal the previous band's maxBcr ${band.maxBcr}` });
          }
          if (band.maxInclusive === next.minInclusive) {
            ctx.addIssue({
              code: 'custom',
              path: [i + 1, 'minInclusive'],
              message: 'exactly one of two adjacent bands must include their shared edge',
            });
          }
        }
      });
      if (new Set(bands.map((b) => b.band)).size !== bands.length) ctx.addIssue({ code: 'custom', path: [], message: 'band names repeat' });
    }),
  notes: z.array(z.string()),
});

const deflatorRecord = z.record(z.string(), positiveDecimal).superRefine((rec, ctx) => {
  for (const key of Object.keys(rec)) {
    if (financialYearStart(key) === null)
      ctx.addIssue({ code: 'custom', path: [key], message: 'key must be a financial year such as "2026-27"' });
  }
});

const deflatorTableSchema = z.object({
  edition: z.string().min(1),
  baseYear: financialYear,
  index: deflatorRecord,
  forecastIndex: deflatorRecord.optional(),
});

function fail(what: string, error: z.ZodError): never {
  const issues = error.issues.map((i) => ({ path: `/${i.path.map(String).join('/')}`, message: i.message }));
  throw new AppraisalDataError(`Invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
}

/** Validates one parameter set (an element of parameter-sets.json); throws AppraisalDataError listing every problem. */
export function parseParameterSet(json: unknown): ParameterSet {
  const result = parameterSetSchema.safeParse(json);
  if (!result.success) fail('appraisal parameter set', result.error);
  return result.data;
}

/** Validates the whole parameter-sets.json array; names and versions must be unique together. */
export function parseParameterSets(json: unknown): ParameterSet[] {
  const result = z.array(parameterSetSchema).safeParse(json);
  if (!result.success) fail('appraisal parameter sets', result.error);
  const seen = new Set<string>();
  for (const set of result.data) {
    const key = `${set.name}@${set.version}`;
    if (seen.has(key))
      throw new AppraisalDataError(`Invalid appraisal parameter sets: ${key} appears twice`, [{ path: '/', message: key }]);
    seen.add(key);
  }
  return result.data;
}

/** Validates gdp-deflators.json; throws AppraisalDataError listing every problem. */
export function parseDeflatorTable(json: unknown): DeflatorTable {
  const result = deflatorTableSchema.safeParse(json);
  if (!result.success) fail('GDP deflator table', result.error);
  return result.data;
}

export { deflatorTableSchema, parameterSetSchema };
