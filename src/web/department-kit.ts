import type { Db } from '../db/database.ts';
import { financialYearOf, listFinancialYears, parseFinancialYear } from '../fund/fund.ts';
import type { Deps } from '../http/context.ts';
import { notFound } from '../lib/errors.ts';
import type { WebContext } from './pages.ts';

/*
 * What the department and market pages share: reading as the signed-in user, the year a page is
 * about (`?fy=`, the current financial year by default), the year picker, and organisations'
 * names for showing codes in words.
 */

/** The year a page is about: `?fy=` if it names one, else the current financial year. A malformed year is a page that does not exist. */
export function yearOf(c: WebContext, deps: Deps): string {
  const fy = c.req.query('fy');
  if (fy === undefined || fy === '') return financialYearOf(deps.clock());
  if (!parseFinancialYear(fy)) throw notFound('financial-year', `There is no financial year ${fy}.`);
  return fy;
}

/** The year picker's choices: every financial year set up, newest first, the page's selected. */
export async function yearChoices(db: Db, fy: string) {
  const years = (await listFinancialYears(db)).map((y) => y.name);
  if (!years.includes(fy)) years.push(fy);
  return years
    .sort()
    .reverse()
    .map((name) => ({ value: name, text: name, selected: name === fy }));
}

/** Organisations' names by code. */
export async function organisationNames(db: Db): Promise<Map<string, string>> {
  const rows = await db.selectFrom('organisations').select(['code', 'name']).execute();
  return new Map(rows.map((r) => [r.code, r.name]));
}

/**
 * A whole number of credits typed into a form: digits, with or without thousands commas, from 1
 * to 1,000,000,000 (the API's range). Null for anything else (decimals, signs, words).
 */
export function parseCredits(text: string): bigint | null {
  const t = text.trim();
  if (!/^(\d{1,3}(,\d{3})+|\d+)$/.test(t)) return null;
  const n = BigInt(t.replace(/,/g, ''));
  return n >= 1n && n <= 1_000_000_000n ? n : null;
}
