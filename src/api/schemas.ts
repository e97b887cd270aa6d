import { z } from '@hono/zod-openapi';
import { CASE_REFERENCE } from '../cases/records.ts';
import { FIRST_FINANCIAL_YEAR, LAST_FINANCIAL_YEAR, parseFinancialYear } from '../fund/fund.ts';

const FINANCIAL_YEAR_RULE = `must be a financial year as YYYY-YY, e.g. 2026-27, from ${FIRST_FINANCIAL_YEAR}-${String((FIRST_FINANCIAL_YEAR + 1) % 100).padStart(2, '0')} to ${LAST_FINANCIAL_YEAR}-${String((LAST_FINANCIAL_YEAR + 1) % 100).padStart(2, '0')}`;

/** A missing field says so, whatever the field's own message for a wrong value. */
z.config({ customError: (issue) => (issue.input === undefined ? 'is required' : undefined) });

/** A field's message for a wrong value; a missing one still reads "is required". */
export const says = (message: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : message);

/**
 * The most any one amount in a request may be: £1,000,000,000,000.00 (10^14 pence), more than
 * all UK public spending in a year. Totals of such amounts stay far inside what the ledger and
 * JSON can hold (2^53 − 1 pence, about £90 trillion); past that the ledger refuses by name.
 */
export const MAX_INPUT_PENCE = 100_000_000_000_000;

/** A whole, non-negative number of pence, at most `max` (one message per field); see `penceUpTo`. */
export function wholePenceUpTo(max: number, maxInWords: string) {
  return (
    z
      // One message per field: a value that is not a safe integer is not also "too large".
      .int({ error: says('must be a whole number of pence (no decimals, no strings)'), abort: true })
      .min(0, { error: says('must not be negative') })
      .max(max, { error: says(`must be at most ${maxInWords} (${max} pence)`) })
      .openapi({ description: 'An amount in pence, as an integer (12345 is £123.45).', example: 125_000_000_00 })
  );
}

/**
 * Money in is handed to the handler as `bigint` pence, as the domain takes it: JSON carries it,
 * and OpenAPI describes it, as an integer; the schema converts it once checked.
 */
export const asPence = <S extends z.ZodType<number>>(schema: S) => schema.transform((pence) => BigInt(pence));

/** Money in: a whole, non-negative number of pence, at most `max`, as `bigint` pence. */
export const penceUpTo = (max: number, maxInWords: string) => asPence(wholePenceUpTo(max, maxInWords));

/** Money in: a whole, non-negative number of pence, at most MAX_INPUT_PENCE. */
export const PenceInput = penceUpTo(MAX_INPUT_PENCE, '£1,000,000,000,000.00');

/** The same amount as a number, for a field with a further rule of its own; wrap it in `asPence`. */
export const PenceInputNumber = wholePenceUpTo(MAX_INPUT_PENCE, '£1,000,000,000,000.00');

/** Money out: always an integer number of pence. */
export const Pence = z.int().openapi({ description: 'Integer pence.', example: 3_125_000_00 });

export const BasisPoints = z
  .int({ error: says('must be a whole number of basis points (250 is 2.5%)') })
  .min(0, { error: says('must not be negative') })
  .max(10_000, { error: says('must be at most 10000 (100%)') })
  .openapi({ description: 'A rate in basis points: 250 is 2.5%.', example: 250 });

export const FinancialYearName = z
  .string({ error: says(FINANCIAL_YEAR_RULE) })
  .refine((name) => parseFinancialYear(name) !== null, { error: FINANCIAL_YEAR_RULE })
  .openapi({
    description: `An April–March financial year, ${FIRST_FINANCIAL_YEAR}-${String((FIRST_FINANCIAL_YEAR + 1) % 100).padStart(2, '0')} to ${LAST_FINANCIAL_YEAR}-${String((LAST_FINANCIAL_YEAR + 1) % 100).padStart(2, '0')}.`,
    example: '2026-27',
  });

export const OrganisationCode = z
  .string()
  .regex(/^[A-Z0-9][A-Z0-9-]{0,63}$/, { error: says('must be an organisation code such as DHSC') })
  .openapi({ example: 'DHSC' });

/**
 * A whole number in a query string or a path, from `min` to `max`: digits only, so "0x10", "1e3",
 * "1.0", " 5" and "" are refused (a bare number coercion would read the first three as 16, 1,000
 * and 1, and the last two as numbers).
 */
export function WholeNumberParam(min: number, max: number, rule?: string) {
  return z
    .string({ error: says(rule ?? 'must be a whole number') })
    .regex(/^\d{1,15}$/, { error: rule ?? 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: rule ?? `must be at least ${min}` })
        .max(max, { error: rule ?? `must be at most ${max}` }),
    )
    .openapi({ type: 'integer', minimum: min, maximum: max });
}

/** A tranche's number in a path: 1 to 100, digits only. */
export const TrancheNumber = WholeNumberParam(1, 100, 'must be a tranche number');

/** A page's size: 1 to `max` rows (default `byDefault`). */
export const PageLimit = (max: number, byDefault: number) =>
  WholeNumberParam(1, max).optional().default(byDefault).openapi({ default: byDefault });

export const Limit = PageLimit(500, 100);

/** A keyset cursor: the `what` (a sequence number) of the last item of an earlier page. */
export const PageCursor = (what: string) =>
  z
    .string()
    .regex(/^\d{1,18}$/, { error: `must be a \`${what}\` from an earlier page` })
    .optional();

/** A calendar date as YYYY-MM-DD that exists (no 2027-02-30). */
export const IsoDate = z
  .string({ error: says('must be a date as YYYY-MM-DD') })
  .refine(isRealDate, { error: 'is not a real date as YYYY-MM-DD' })
  .openapi({ example: '2026-06-01' });

function isRealDate(d: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) return false;
  const t = Date.parse(`${d}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === d;
}

/** A case (or report) id in the path. */
export const IdParam = z.object({ id: z.uuid({ error: says('must be an id as returned when it was created') }) });

/** A case named by its id or its reference (TP-2026-27-001). */
export const CaseKey = z
  .string()
  .max(100)
  .refine((k) => CASE_REFERENCE.test(k) || z.uuid().safeParse(k).success, {
    error: 'must be a case id or reference such as TP-2026-27-001',
  });

/** Why: a reason recorded in the audit trail. */
export const Reason = z
  .string()
  .trim()
  .min(1, { error: says('must not be empty') })
  .max(5000);

/** The benefits register's filters, as `GET /benefits` and its CSV take them. */
export const BenefitsFilterQuery = z.object({
  fy: FinancialYearName.optional(),
  department: OrganisationCode.optional(),
  place: OrganisationCode.optional(),
  theme: z.string().max(50).optional(),
  case: z.uuid({ error: says('must be a case id') }).optional(),
});
