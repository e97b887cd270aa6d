import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Db, Tx } from '../db/database.ts';
import { FIXTURES_DIR } from '../reference/reference.ts';

/*
 * The Unit Cost Database (New Economy / GMCA Research, v1.4): the library that benefit lines
 * take their unit values from. It ships in fixtures/ with its attribution, and each row's
 * paying agency maps to the department whose budget bears the cost (fixtures/unit-cost-agencies.json).
 */

export const UNIT_COST_FILE = 'unit-cost-database-v1.4.json';

const UcdRow = z.object({
  code: z.string().min(1),
  sheet: z.string().nullable(),
  category: z.string().nullable(),
  detail: z.string().nullable(),
  description: z.string().min(1),
  unit: z.string().nullable(),
  valueGbp: z.number().nullable(),
  agency: z.string().nullable(),
  agencyDetail: z.string().nullable(),
  priceYear: z.string().nullable(),
});

const Ucd = z.object({
  name: z.string(),
  version: z.string(),
  publisher: z.string(),
  distributedBy: z.string(),
  licence: z.string(),
  rows: z.array(UcdRow),
});

const AgencyMap = z.array(z.object({ agency: z.string(), departmentCode: z.string().nullable(), note: z.string().optional() }));

export interface UnitCost {
  code: string;
  description: string;
  unit: string | null;
  category: string | null;
  detail: string | null;
  /** Null where the source row has no value: such a row cannot price a benefit line. */
  valuePence: bigint | null;
  /** As the database writes it, "2013/14". */
  priceYear: string | null;
  agency: string | null;
  agencyDetail: string | null;
  /** The department whose budget bears the cost, where the agency maps to one. */
  departmentCode: string | null;
}

export interface UnitCostLibrary {
  name: string;
  version: string;
  publisher: string;
  licence: string;
  attribution: string;
}

function readUcd(dir = FIXTURES_DIR) {
  return Ucd.parse(JSON.parse(readFileSync(join(dir, UNIT_COST_FILE), 'utf8')));
}

/** Who to credit wherever a unit cost is shown or shipped (the licence asks for it). */
export function unitCostLibrary(dir = FIXTURES_DIR): UnitCostLibrary {
  const ucd = readUcd(dir);
  return {
    name: ucd.name,
    version: ucd.version,
    publisher: ucd.publisher,
    licence: ucd.licence,
    attribution: `GMCA Research / New Economy Unit Cost Database v${ucd.version}`,
  };
}

/**
 * Pounds with up to two decimals to exact pence. The source holds values such as 365.0 or
 * 1250.5; anything finer than a penny would be a data error, and is refused.
 */
export function poundsToPence(pounds: number): bigint {
  const [whole = '0', fraction = ''] = pounds.toFixed(6).split('.');
  if (!/^0*$/.test(fraction.slice(2))) throw new Error(`unit cost ${pounds} is not a whole number of pence`);
  return BigInt(whole) * 100n + BigInt(fraction.slice(0, 2)) * (pounds < 0 ? -1n : 1n);
}

export async function loadUnitCosts(db: Db, dir = FIXTURES_DIR): Promise<number> {
  const ucd = readUcd(dir);
  const agencies = AgencyMap.parse(JSON.parse(readFileSync(join(dir, 'unit-cost-agencies.json'), 'utf8')));
  const departmentOf = new Map(agencies.map((a) => [a.agency, a.departmentCode]));
  const existing = await db
    .selectFrom('unit_costs')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  if (Number(existing.n) === ucd.rows.length) return 0;
  const rows = ucd.rows.map((r) => ({
    code: r.code,
    sheet: r.sheet,
    category: r.category,
    detail: r.detail,
    description: r.description,
    unit: r.unit,
    value_pence: r.valueGbp === null ? null : poundsToPence(r.valueGbp),
    agency: r.agency,
    agency_detail: r.agencyDetail,
    price_year: r.priceYear,
    department_code: r.agency ? (departmentOf.get(r.agency) ?? null) : null,
    search_text: [r.code, r.category, r.detail, r.description, r.unit, r.agency, r.agencyDetail].filter(Boolean).join(' ').toLowerCase(),
  }));
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += 100) {
      await trx
        .insertInto('unit_costs')
        .values(rows.slice(i, i + 100))
        .onConflict((oc) => oc.column('code').doNothing())
        .execute();
    }
  });
  return rows.length;
}

/*
 * A search word is plain text: `%` and `_` in it match only themselves. LIKE would read them as
 * wildcards, so each is escaped with `!` and the ESCAPE clause names it; SQLite has no default
 * escape character and PostgreSQL's is the backslash, so the clause is stated on both.
 */
function containsWord(word: string) {
  const pattern = `%${word.replace(/[!%_]/g, (c) => `!${c}`)}%`;
  return sql<boolean>`search_text like ${pattern} escape '!'`;
}

/** Rows whose text contains every word of `q` (case-insensitive, `%` and `_` literal), by code. */
export async function searchUnitCosts(db: Db, filter: { q?: string; agency?: string; limit: number }): Promise<UnitCost[]> {
  let query = db.selectFrom('unit_costs').selectAll();
  for (const word of (filter.q ?? '').toLowerCase().split(/\s+/).filter(Boolean).slice(0, 8)) {
    query = query.where(containsWord(word));
  }
  if (filter.agency) query = query.where('agency', '=', filter.agency);
  const rows = await query.orderBy('code').limit(filter.limit).execute();
  return rows.map(unitCostFromRow);
}

export async function getUnitCosts(db: Db | Tx, codes: string[]): Promise<Map<string, UnitCost>> {
  if (codes.length === 0) return new Map();
  const rows = await db.selectFrom('unit_costs').selectAll().where('code', 'in', codes).execute();
  return new Map(rows.map((r) => [r.code, unitCostFromRow(r)]));
}

function unitCostFromRow(r: {
  code: string;
  description: string;
  unit: string | null;
  category: string | null;
  detail: string | null;
  value_pence: bigint | number | null;
  price_year: string | null;
  agency: string | null;
  agency_detail: string | null;
  department_code: string | null;
}): UnitCost {
  return {
    code: r.code,
    description: r.description,
    unit: r.unit,
    category: r.category,
    detail: r.detail,
    valuePence: r.value_pence === null ? null : BigInt(r.value_pence),
    priceYear: r.price_year,
    agency: r.agency,
    agencyDetail: r.agency_detail,
    departmentCode: r.department_code,
  };
}
