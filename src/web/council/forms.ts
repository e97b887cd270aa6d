import { MAX_LAG_YEARS, MAX_PERSISTENCE_YEARS } from '../../appraisal/engine.ts';
import type { ConfidenceGrade } from '../../appraisal/types.ts';
import type { BenefitLine, BenefitLineInput, Case, CaseInput, CostLine } from '../../cases/records.ts';
import type { FieldError } from '../../lib/errors.ts';
import { basisPointsAsPercentInput, parsePercent, parsePounds, penceAsPoundsInput } from '../../lib/money.ts';
import type { FormErrors } from '../pages.ts';

/*
 * The council's case forms: what each form's fields are called, how a case's stored values fill
 * them, how what was typed becomes the case's input (money in pounds to pence, percentages to
 * basis points, exactly), and where a refusal's JSON Pointer sends the user — to the field on
 * this page, or to the page of the case that holds it.
 */

export type Fields = Record<string, string>;

/** The case as `updateCase` takes it back: a Unit Cost Database line keeps only its code, a stated one its value, year and source. */
export function inputOf(c: Case): CaseInput {
  return {
    roundId: c.roundId,
    title: c.title,
    placeCode: c.placeCode,
    theme: c.theme,
    partnerCodes: [...c.partnerCodes],
    matchFundingPence: c.matchFundingPence,
    baseYear: c.baseYear,
    discountSchedule: c.discountSchedule,
    narrative: { ...c.narrative },
    costs: c.costs.map((l) => ({ ...l })),
    benefits: c.benefits.map(lineInputOf),
  };
}

function lineInputOf(b: BenefitLine): BenefitLineInput {
  const { unitValuePence, priceYear, source, ...rest } = b;
  return b.unitCostCode ? rest : { ...rest, unitValuePence, priceYear, source };
}

/** `2026-27` and 2 → `2028-29`. */
export function yearAfter(year: string, n: number): string {
  const y = Number(year.slice(0, 4)) + n;
  return `${y}-${String((y + 1) % 100).padStart(2, '0')}`;
}

/** The financial years a line's form offers: five from the base year, and any later year the line already uses. */
export function formYears(baseYear: string, used: string[] = []): string[] {
  const years = new Set([0, 1, 2, 3, 4].map((n) => yearAfter(baseYear, n)));
  for (const y of used) years.add(y);
  return [...years].sort();
}

// ---------------------------------------------------------------------------------------------
// Where a pointer's field is

export const ABOUT_FIELDS: Record<string, string> = {
  title: 'title',
  placeCode: 'placeCode',
  theme: 'theme',
  partnerCodes: 'partnerCodes',
  matchFundingPence: 'matchFunding',
  baseYear: 'baseYear',
  discountSchedule: 'discountSchedule',
  roundId: 'roundId',
};

export const COST_FIELDS: Record<string, string> = {
  year: 'year',
  kind: 'kind',
  payerCode: 'payerCode',
  amountPence: 'amount',
  confidenceGrade: 'grade',
};

export const BENEFIT_FIELDS: Record<string, string> = {
  outcome: 'outcome',
  beneficiaryCode: 'beneficiaryCode',
  type: 'type',
  cashable: 'cashable',
  cashableBasisPoints: 'cashableShare',
  unitCostCode: 'unitCostCode',
  unitValuePence: 'unitValue',
  priceYear: 'priceYear',
  source: 'source',
  engagementBasisPoints: 'engagement',
  impactBasisPoints: 'impact',
  deadweightBasisPoints: 'deadweight',
  displacementBasisPoints: 'displacement',
  lagYears: 'lag',
  dropOffBasisPoints: 'dropOff',
  persistenceYears: 'persistence',
  confidenceGrade: 'grade',
};

/** The field id of a benefit line's pointer tail: `volumes/2026-27` → `volumes-2026-27`; `volumes` → the first year's. */
function benefitFieldOf(tail: string[], firstYear: string): string {
  const [field, year] = tail;
  if (field === 'volumes' || field === 'need') return `${field}-${year ?? firstYear}`;
  return BENEFIT_FIELDS[field ?? ''] ?? 'outcome';
}

/** The page of the case (and the field on it) that a pointer into the case concerns. */
export function sectionHref(caseId: string, pointer: string, baseYear: string): string {
  const parts = pointer.replace(/^\//, '').split('/');
  const [head, second, ...rest] = parts;
  const base = `/cases/${caseId}`;
  if (head === 'narrative' && second) return `${base}/narrative/${second}#narrative`;
  if (head === 'costs') return second === undefined ? `${base}/costs` : `${base}/costs/${second}#${COST_FIELDS[rest[0] ?? ''] ?? 'year'}`;
  if (head === 'benefits') {
    return second === undefined ? `${base}/benefits` : `${base}/benefits/${second}#${benefitFieldOf(rest, baseYear)}`;
  }
  return `${base}/about#${ABOUT_FIELDS[head ?? ''] ?? 'title'}`;
}

/**
 * A refusal's field errors as the GOV.UK pattern shows them: a field on this page gets its message
 * beside it and a summary line linking to it (`#id`); a field on another page of the case gets a
 * summary line linking to that page. `local` gives this page's field id for a pointer, or null.
 */
export function pageErrors(
  list: FieldError[],
  local: (pointer: string) => string | null,
  caseId: string | null,
  baseYear: string,
  fallbackMessage?: string,
): FormErrors {
  const out: FormErrors = { errors: {}, errorList: [] };
  for (const e of list) {
    const pointer = e.pointer ?? (e.parameter ? `/${e.parameter}` : undefined);
    const text = sentence(e.detail);
    const id = pointer === undefined ? null : local(pointer);
    if (id !== null) {
      if (out.errors[id] === undefined) {
        out.errors[id] = text;
        out.errorList.push({ text, href: `#${id}` });
      }
    } else {
      out.errorList.push({ text, href: pointer !== undefined && caseId ? sectionHref(caseId, pointer, baseYear) : null });
    }
  }
  if (out.errorList.length === 0 && fallbackMessage) out.errorList.push({ text: fallbackMessage, href: null });
  return out;
}

const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const aboutField = (pointer: string): string | null => {
  const head = pointer.replace(/^\//, '').split('/')[0] ?? '';
  return head === 'roundId' ? null : (ABOUT_FIELDS[head] ?? null);
};

export const costField =
  (i: number) =>
  (pointer: string): string | null => {
    const m = /^\/costs\/(\d+)(?:\/([^/]+))?/.exec(pointer);
    return m && Number(m[1]) === i ? (COST_FIELDS[m[2] ?? ''] ?? 'year') : null;
  };

export const benefitField =
  (i: number, firstYear: string) =>
  (pointer: string): string | null => {
    const m = /^\/benefits\/(\d+)(?:\/(.*))?$/.exec(pointer);
    return m && Number(m[1]) === i ? benefitFieldOf((m[2] ?? '').split('/'), firstYear) : null;
  };

// ---------------------------------------------------------------------------------------------
// Reading what was typed

const GRADES = ['1', '2', '3', '4', '5', '6'];

function wholeNumber(text: string, min: number, max: number): number | null {
  const t = text.trim().replace(/,/g, '');
  if (!/^\d{1,10}$/.test(t)) return null;
  const n = Number(t);
  return n >= min && n <= max ? n : null;
}

/** The about-the-case form: title, place, theme, partners (codes, one a line or comma-separated), match funding in pounds, base year, discount schedule. */
export function aboutFromForm(f: Fields, current: CaseInput): { input: CaseInput; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const title = (f.title ?? '').trim();
  if (!title) errors.push({ pointer: '/title', detail: 'Enter a title for the case' });
  const match = parsePounds(f.matchFunding ?? '');
  if (match === null) errors.push({ pointer: '/matchFundingPence', detail: 'Enter match funding in pounds, like 100000 or £1,234.56' });
  const baseYear = (f.baseYear ?? '').trim();
  if (!baseYear) errors.push({ pointer: '/baseYear', detail: 'Enter the base year, like 2026-27' });
  const schedule = f.discountSchedule === 'health' ? 'health' : 'standard';
  const partnerCodes = (f.partnerCodes ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  return {
    input: {
      ...current,
      title,
      placeCode: (f.placeCode ?? '').trim(),
      theme: (f.theme ?? '').trim(),
      partnerCodes,
      matchFundingPence: match ?? 0n,
      baseYear,
      discountSchedule: schedule,
    },
    errors,
  };
}

export function aboutValues(c: CaseInput): Fields {
  return {
    title: c.title,
    placeCode: c.placeCode,
    theme: c.theme,
    partnerCodes: c.partnerCodes.join('\n'),
    matchFunding: penceAsPoundsInput(c.matchFundingPence),
    baseYear: c.baseYear,
    discountSchedule: c.discountSchedule ?? 'standard',
  };
}

/** A cost line's form: year, kind, payer, amount in pounds, confidence grade. */
export function costFromForm(f: Fields, i: number): { line: CostLine | null; errors: FieldError[] } {
  const at = `/costs/${i}`;
  const errors: FieldError[] = [];
  const year = (f.year ?? '').trim();
  if (!year) errors.push({ pointer: `${at}/year`, detail: 'Enter the financial year of the cost, like 2026-27' });
  const kind = f.kind;
  if (kind !== 'revenue' && kind !== 'capital')
    errors.push({ pointer: `${at}/kind`, detail: 'Select whether the cost is revenue or capital' });
  const payerCode = (f.payerCode ?? '').trim();
  if (!payerCode) errors.push({ pointer: `${at}/payerCode`, detail: 'Select who pays the cost' });
  const amount = parsePounds(f.amount ?? '');
  if (amount === null) errors.push({ pointer: `${at}/amountPence`, detail: 'Enter the amount in pounds, like 250000 or £1,234.56' });
  if (!GRADES.includes(f.grade ?? '')) errors.push({ pointer: `${at}/confidenceGrade`, detail: 'Select a confidence grade' });
  if (errors.length > 0) return { line: null, errors };
  return {
    line: {
      year,
      kind: kind as 'revenue' | 'capital',
      payerCode,
      amountPence: amount as bigint,
      confidenceGrade: Number(f.grade) as ConfidenceGrade,
    },
    errors,
  };
}

export function costValues(l: CostLine | undefined, baseYear: string): Fields {
  if (!l) return { year: baseYear, kind: '', payerCode: '', amount: '', grade: '' };
  return {
    year: l.year,
    kind: l.kind,
    payerCode: l.payerCode,
    amount: penceAsPoundsInput(l.amountPence),
    grade: String(l.confidenceGrade),
  };
}

function percentField(f: Fields, name: string, pointer: string, label: string, errors: FieldError[], required: boolean) {
  const text = (f[name] ?? '').trim();
  if (!text) {
    if (required) errors.push({ pointer, detail: `Enter ${label} as a percentage` });
    return undefined;
  }
  const bp = parsePercent(text);
  if (bp === null) errors.push({ pointer, detail: `Enter ${label} as a percentage from 0 to 100, with at most 2 decimal places` });
  return bp ?? undefined;
}

function cohort(f: Fields, prefix: 'volumes' | 'need', at: string, errors: FieldError[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(f)) {
    if (!k.startsWith(`${prefix}-`) || !v.trim()) continue;
    const year = k.slice(prefix.length + 1);
    const n = wholeNumber(v, 0, 1_000_000_000);
    if (n === null)
      errors.push({
        pointer: `${at}/${prefix}/${year}`,
        detail: `Enter the ${prefix === 'need' ? 'eligible cohort' : 'number engaged'} in ${year} as a whole number`,
      });
    else out[year] = n;
  }
  return out;
}

/**
 * A benefit line's form. Cashable is `yes`, `no` or `partly` (then `cashableShare` is the cashable
 * percentage). The unit value is a Unit Cost Database code, or a value in pounds with its price
 * year and source. The cohort is `volumes-<year>` (people engaged), or `need-<year>` with an
 * engagement percentage.
 */
export function benefitFromForm(f: Fields, i: number): { line: BenefitLineInput | null; errors: FieldError[] } {
  const at = `/benefits/${i}`;
  const errors: FieldError[] = [];
  const outcome = (f.outcome ?? '').trim();
  if (!outcome) errors.push({ pointer: `${at}/outcome`, detail: 'Enter the outcome this line counts' });
  const type = f.type;
  if (type !== 'fiscal' && type !== 'economic' && type !== 'social')
    errors.push({ pointer: `${at}/type`, detail: 'Select whether the benefit is fiscal, economic or social' });
  const beneficiaryCode = (f.beneficiaryCode ?? '').trim() || null;

  let cashable: boolean | undefined;
  let cashableBasisPoints: number | undefined;
  if (f.cashable === 'yes') cashable = true;
  else if (f.cashable === 'no') cashable = false;
  else if (f.cashable === 'partly') {
    cashableBasisPoints = percentField(f, 'cashableShare', `${at}/cashableBasisPoints`, 'the cashable share', errors, true);
  } else errors.push({ pointer: `${at}/cashable`, detail: 'Select whether the saving is cashable' });

  const unitCostCode = (f.unitCostCode ?? '').trim() || undefined;
  const valueText = (f.unitValue ?? '').trim();
  const priceYear = (f.priceYear ?? '').trim() || undefined;
  const source = (f.source ?? '').trim() || undefined;
  let unitValuePence: bigint | undefined;
  if (valueText) {
    const v = parsePounds(valueText);
    if (v === null) errors.push({ pointer: `${at}/unitValuePence`, detail: 'Enter the unit value in pounds, like 1234.56' });
    else unitValuePence = v;
  }
  if (!unitCostCode && !valueText && !priceYear && !source) {
    errors.push({
      pointer: `${at}/unitCostCode`,
      detail: 'Pick a unit cost from the Unit Cost Database, or state a unit value with its price year and source',
    });
  } else if (!unitCostCode) {
    if (!valueText) errors.push({ pointer: `${at}/unitValuePence`, detail: 'Enter the unit value in pounds' });
    if (!priceYear) errors.push({ pointer: `${at}/priceYear`, detail: 'Enter the price year of the unit value, like 2019-20' });
    if (!source) errors.push({ pointer: `${at}/source`, detail: 'Enter the source of the unit value' });
  }

  const volumes = cohort(f, 'volumes', at, errors);
  const need = cohort(f, 'need', at, errors);
  const engagementText = (f.engagement ?? '').trim();
  const byNeed = Object.keys(need).length > 0 || engagementText !== '';
  let engagementBasisPoints: number | undefined;
  if (byNeed) {
    engagementBasisPoints = percentField(f, 'engagement', `${at}/engagementBasisPoints`, 'engagement', errors, true);
    if (Object.keys(need).length === 0) errors.push({ pointer: `${at}/need`, detail: 'Enter the eligible cohort in at least one year' });
    if (Object.keys(volumes).length > 0)
      errors.push({ pointer: `${at}/need`, detail: 'Give the number engaged, or the eligible cohort with engagement, not both' });
  } else if (Object.keys(volumes).length === 0) {
    errors.push({ pointer: `${at}/volumes`, detail: 'Enter the number engaged in at least one year' });
  }

  const impactBasisPoints = percentField(f, 'impact', `${at}/impactBasisPoints`, 'impact', errors, true);
  const deadweightBasisPoints = percentField(f, 'deadweight', `${at}/deadweightBasisPoints`, 'deadweight', errors, true);
  const displacementBasisPoints = percentField(f, 'displacement', `${at}/displacementBasisPoints`, 'displacement', errors, false);
  const dropOffBasisPoints = percentField(f, 'dropOff', `${at}/dropOffBasisPoints`, 'drop-off', errors, false);
  let lagYears: number | undefined;
  if ((f.lag ?? '').trim()) {
    const n = wholeNumber(f.lag ?? '', 0, MAX_LAG_YEARS);
    if (n === null)
      errors.push({ pointer: `${at}/lagYears`, detail: `Enter the lag as a whole number of years from 0 to ${MAX_LAG_YEARS}` });
    else lagYears = n;
  }
  const persistenceYears = wholeNumber(f.persistence ?? '', 1, MAX_PERSISTENCE_YEARS);
  if (persistenceYears === null)
    errors.push({
      pointer: `${at}/persistenceYears`,
      detail: `Enter persistence as a whole number of years from 1 to ${MAX_PERSISTENCE_YEARS}`,
    });
  if (!GRADES.includes(f.grade ?? '')) errors.push({ pointer: `${at}/confidenceGrade`, detail: 'Select a confidence grade' });
  if (errors.length > 0) return { line: null, errors };

  const line: BenefitLineInput = {
    outcome,
    beneficiaryCode,
    type: type as BenefitLineInput['type'],
    ...(cashableBasisPoints === undefined ? { cashable } : { cashableBasisPoints }),
    ...(unitCostCode ? { unitCostCode } : { unitValuePence, priceYear, source }),
    ...(byNeed ? { need, engagementBasisPoints } : { volumes }),
    impactBasisPoints: impactBasisPoints as number,
    deadweightBasisPoints: deadweightBasisPoints as number,
    ...(displacementBasisPoints === undefined ? {} : { displacementBasisPoints }),
    ...(lagYears === undefined ? {} : { lagYears }),
    ...(dropOffBasisPoints === undefined ? {} : { dropOffBasisPoints }),
    persistenceYears: persistenceYears as number,
    confidenceGrade: Number(f.grade) as ConfidenceGrade,
  };
  return { line, errors };
}

export function benefitValues(b: BenefitLine | undefined): Fields {
  if (!b) return { cashable: '', type: '', grade: '', persistence: '', lag: '' };
  const pct = (v: number | undefined) => (v === undefined ? '' : basisPointsAsPercentInput(v));
  const out: Fields = {
    outcome: b.outcome,
    beneficiaryCode: b.beneficiaryCode ?? '',
    type: b.type,
    cashable:
      b.cashableBasisPoints !== undefined && b.cashableBasisPoints !== 10_000 && b.cashableBasisPoints !== 0
        ? 'partly'
        : b.cashable
          ? 'yes'
          : 'no',
    cashableShare: pct(b.cashableBasisPoints),
    unitCostCode: b.unitCostCode ?? '',
    unitValue: b.unitCostCode ? '' : penceAsPoundsInput(b.unitValuePence),
    priceYear: b.unitCostCode ? '' : b.priceYear,
    source: b.unitCostCode ? '' : b.source,
    engagement: pct(b.engagementBasisPoints),
    impact: pct(b.impactBasisPoints),
    deadweight: pct(b.deadweightBasisPoints),
    displacement: pct(b.displacementBasisPoints),
    lag: b.lagYears === undefined ? '' : String(b.lagYears),
    dropOff: pct(b.dropOffBasisPoints),
    persistence: String(b.persistenceYears),
    grade: String(b.confidenceGrade),
  };
  for (const [y, v] of Object.entries(b.volumes ?? {})) out[`volumes-${y}`] = String(v);
  for (const [y, v] of Object.entries(b.need ?? {})) out[`need-${y}`] = String(v);
  return out;
}
