import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Handlebars from 'handlebars';
import { formatPence } from './money.ts';

/*
 * Handlebars for the documents and the web pages: the formatting helpers both use (money, dates,
 * percentages in the users' notation) and one way of compiling a folder of templates. A folder is
 * read and compiled once, when the service starts: a template with a syntax error, an unknown
 * helper or a missing partial stops start-up instead of failing a reader's request.
 */

const LONDON_DATE = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'long', year: 'numeric' });
const LONDON_DATE_TIME = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

const asBigInt = (v: unknown): bigint => {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw new TypeError(`not an amount of pence: ${String(v)}`);
};

/** `£1,234.56` through the project's money module; negatives as `−£1,234.56`. */
export function money(v: unknown): string {
  const p = asBigInt(v);
  return p < 0n ? `−${formatPence(-p)}` : formatPence(p);
}

/** A date (`2026-06-01`) or instant as the reader in London would write it: `1 June 2026`. */
export function londonDate(v: unknown, withTime = false): string {
  if (typeof v !== 'string' && !(v instanceof Date)) throw new TypeError(`not a date: ${String(v)}`);
  const d = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T12:00:00Z`) : new Date(v);
  if (Number.isNaN(d.getTime())) throw new TypeError(`not a date: ${String(v)}`);
  return (withTime ? LONDON_DATE_TIME : LONDON_DATE).format(d);
}

/** Basis points as a percentage: 250 → `2.5%`, 10,000 → `100%`. */
export function basisPointsAsPercent(v: unknown): string {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new TypeError(`not basis points: ${String(v)}`);
  const sign = v < 0 ? '−' : '';
  const abs = Math.abs(v);
  const whole = Math.trunc(abs / 100);
  const frac = String(abs % 100)
    .padStart(2, '0')
    .replace(/0+$/, '');
  return `${sign}${whole.toLocaleString('en-GB')}${frac ? `.${frac}` : ''}%`;
}

/** A ratio (BCR, ROI) to two places: 2.3456 → `2.35`; none → `n/a`. */
export function ratio(v: unknown): string {
  if (v === null || v === undefined) return 'n/a';
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`not a ratio: ${String(v)}`);
  return v.toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** A whole number (credits, counts) with thousands separators: 12345 → `12,345`. */
export function wholeNumber(v: unknown): string {
  const n = asBigInt(v);
  return `${n < 0n ? '−' : ''}${(n < 0n ? -n : n).toLocaleString('en-GB')}`;
}

/** `2026-27` → `2026 to 2027`, as GOV.UK writes financial years. */
export function financialYear(v: unknown): string {
  const m = typeof v === 'string' ? /^(\d{4})-(\d{2})$/.exec(v) : null;
  if (!m) throw new TypeError(`not a financial year: ${String(v)}`);
  return `${m[1]} to ${Number(m[1]) + 1}`;
}

export const HELPERS: Record<string, Handlebars.HelperDelegate> = {
  money: (v: unknown) => money(v),
  date: (v: unknown) => londonDate(v),
  dateTime: (v: unknown) => londonDate(v, true),
  bp: (v: unknown) => basisPointsAsPercent(v),
  ratio: (v: unknown) => ratio(v),
  fy: (v: unknown) => financialYear(v),
  whole: (v: unknown) => wholeNumber(v),
  eq: (a: unknown, b: unknown) => a === b,
  /** Words for enum values: `very-high` → `very high`. */
  words: (v: unknown) => String(v ?? '').replace(/-/g, ' '),
  plural: (n: unknown, one: string, many: string) => (n === 1 || n === 1n ? one : many),
};

export interface CompiledDir {
  hb: typeof Handlebars;
  /** Each top-level `.hbs` by its name without the extension. */
  templates: Map<string, Handlebars.TemplateDelegate>;
}

/**
 * Reads and compiles every `.hbs` in `dir` and its `partials/`, with `HELPERS` only. Throws,
 * naming the file (`label` says which set), if any is broken. With `explicitPartialContext` a
 * partial sees only what it is passed (`{{> input id=… label=…}}`), never the page's own fields of
 * the same names: a page's `name` or `hint` cannot leak into a field.
 */
export function compileDir(dir: string, label: string, options: { explicitPartialContext?: boolean } = {}): CompiledDir {
  const hb = Handlebars.create();
  for (const [name, fn] of Object.entries(HELPERS)) hb.registerHelper(name, fn);
  const knownHelpers = Object.fromEntries(Object.keys(HELPERS).map((n) => [n, true])) as Record<string, true>;
  const compileOptions = {
    knownHelpers,
    knownHelpersOnly: true,
    strict: false,
    preventIndent: true,
    explicitPartialContext: options.explicitPartialContext ?? false,
  } as const;

  const partialsDir = join(dir, 'partials');
  const partials = new Map<string, string>();
  for (const file of readdirSync(partialsDir).filter((f) => f.endsWith('.hbs'))) {
    partials.set(basename(file, '.hbs'), readFileSync(join(partialsDir, file), 'utf8'));
  }
  const sources = new Map<string, string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.hbs'))) {
    sources.set(basename(file, '.hbs'), readFileSync(join(dir, file), 'utf8'));
  }
  const templates = new Map<string, Handlebars.TemplateDelegate>();
  const check = (name: string, source: string) => {
    try {
      // precompile runs the whole compiler now: syntax, and helpers it does not know.
      hb.precompile(source, compileOptions);
      for (const used of partialNames(hb.parse(source))) {
        if (!partials.has(used)) throw new Error(`uses a partial "${used}" that does not exist`);
      }
    } catch (error) {
      throw new Error(`${label} template ${name} is broken: ${(error as Error).message}`);
    }
  };
  for (const [name, source] of partials) {
    check(`partials/${name}.hbs`, source);
    hb.registerPartial(name, hb.compile(source, compileOptions));
  }
  for (const [name, source] of sources) {
    check(`${name}.hbs`, source);
    templates.set(name, hb.compile(source, compileOptions));
  }
  return { hb, templates };
}

function partialNames(node: hbs.AST.Node): string[] {
  const found: string[] = [];
  const visit = (n: unknown) => {
    if (!n || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    if ((o.type === 'PartialStatement' || o.type === 'PartialBlockStatement') && (o.name as { type?: string })?.type === 'PathExpression') {
      found.push((o.name as { original: string }).original);
    }
    for (const v of Object.values(o)) {
      if (Array.isArray(v)) v.forEach(visit);
      else if (v && typeof v === 'object') visit(v);
    }
  };
  visit(node);
  return found;
}
