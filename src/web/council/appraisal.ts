import type { AppraisalResult } from '../../appraisal/types.ts';
import { caseAppraisal } from '../../cases/appraisal.ts';
import type { Case } from '../../cases/records.ts';
import type { Db, Tx } from '../../db/database.ts';
import { DomainError } from '../../lib/errors.ts';
import { money } from '../../lib/templates.ts';

/*
 * A case's appraisal as the pages show it: the same figures the API's
 * GET /cases/{id}/appraisal gives (through `caseAppraisal`, so a draft is appraised now and a
 * submitted case shows the appraisal stored at submission), and a chart of cumulative discounted
 * costs against cumulative discounted fiscal benefits by year — the payback picture — with the
 * same numbers in a table for readers who cannot see the chart.
 *
 * Templates: `{{> case-appraisal appraisal}}` (figures, who benefits, chart and its table) and
 * `{{> case-chart appraisal.chart}}` (the chart alone), where `appraisal` is `caseAppraisalModel`'s.
 */

/** One point of the chart: a year's running totals, and where they fall on the drawing. */
export interface ChartYear {
  year: string;
  cumulativePvCostsPence: bigint;
  cumulativePvFiscalBenefitsPence: bigint;
  x: number;
  costsY: number;
  benefitsY: number;
}

export interface AppraisalChart {
  width: number;
  height: number;
  /** The drawing area's edges. */
  left: number;
  right: number;
  top: number;
  bottom: number;
  costsPoints: string;
  benefitsPoints: string;
  /** The top of the vertical scale, in pence, and its label. */
  maxPence: bigint;
  maxLabel: string;
  years: ChartYear[];
  /** Year labels under the axis: the first, the last and some between, so they do not overlap. */
  ticks: { x: number; label: string }[];
  paybackYear: string | null;
}

export type CaseAppraisalModel =
  | {
      available: true;
      caseId: string;
      /** True for the appraisal stored at submission; false for a draft appraised now. */
      stored: boolean;
      computedAt: string | null;
      result: AppraisalResult;
      pvBenefitsTotalPence: bigint;
      whoBenefits: { organisationCode: string | null; name: string; pvPence: bigint; cashablePvPence: bigint }[];
      chart: AppraisalChart | null;
    }
  | {
      available: false;
      caseId: string;
      /** Why the case cannot be appraised yet, in the engine's words. */
      reasons: string[];
    };

const WIDTH = 460;
const HEIGHT = 300;
const PAD = { left: 36, right: 36, top: 28, bottom: 40 };

/** Where a value falls on a vertical scale from 0 (bottom) to max (top), to a hundredth of a pixel: exact bigint scaling. */
function yOf(value: bigint, max: bigint): number {
  const plot = BigInt((HEIGHT - PAD.top - PAD.bottom) * 100);
  const v = value < 0n ? 0n : value;
  return HEIGHT - PAD.bottom - Number((v * plot) / max) / 100;
}

/** The chart of a result's cumulative discounted costs against fiscal benefits; null when it has no years. */
export function appraisalChart(result: AppraisalResult): AppraisalChart | null {
  const ys = result.years;
  if (ys.length === 0) return null;
  let max = 0n;
  for (const y of ys) {
    if (y.cumulativePvCostsPence > max) max = y.cumulativePvCostsPence;
    if (y.cumulativePvFiscalBenefitsPence > max) max = y.cumulativePvFiscalBenefitsPence;
  }
  if (max === 0n) max = 1n;
  const span = WIDTH - PAD.left - PAD.right;
  const step = ys.length === 1 ? 0 : span / (ys.length - 1);
  const years: ChartYear[] = ys.map((y, i) => ({
    year: y.year,
    cumulativePvCostsPence: y.cumulativePvCostsPence,
    cumulativePvFiscalBenefitsPence: y.cumulativePvFiscalBenefitsPence,
    x: Math.round((PAD.left + (ys.length === 1 ? span / 2 : i * step)) * 100) / 100,
    costsY: yOf(y.cumulativePvCostsPence, max),
    benefitsY: yOf(y.cumulativePvFiscalBenefitsPence, max),
  }));
  const every = Math.max(1, Math.ceil(ys.length / 6));
  const ticks = years
    .filter((_, i) => i === 0 || i === years.length - 1 || (i % every === 0 && years.length - 1 - i >= every / 2))
    .map((y) => ({ x: y.x, label: y.year }));
  return {
    width: WIDTH,
    height: HEIGHT,
    left: PAD.left,
    right: WIDTH - PAD.right,
    top: PAD.top,
    bottom: HEIGHT - PAD.bottom,
    costsPoints: years.map((y) => `${y.x},${y.costsY}`).join(' '),
    benefitsPoints: years.map((y) => `${y.x},${y.benefitsY}`).join(' '),
    maxPence: max,
    maxLabel: money(max),
    years,
    ticks,
    paybackYear: result.paybackYear,
  };
}

/**
 * The appraisal of a case the caller has already been allowed to read (`getReadableCase`), for
 * the `case-appraisal` partial. A draft the engine cannot appraise yet (`appraisal-not-possible`,
 * `appraisal-out-of-range`) gives `available: false` with the reasons, not an error page: the
 * case page still shows, and says what to fix. Names come from the organisations table.
 */
export async function caseAppraisalModel(db: Db | Tx, c: Case): Promise<CaseAppraisalModel> {
  let a: Awaited<ReturnType<typeof caseAppraisal>>;
  try {
    a = await caseAppraisal(db, c);
  } catch (error) {
    if (error instanceof DomainError && error.kind === 'unprocessable') {
      const reasons = error.errors.length > 0 ? error.errors.map((e) => sentence(e.detail, e.pointer)) : [error.message];
      return { available: false, caseId: c.id, reasons };
    }
    throw error;
  }
  const codes = a.result.whoBenefits.flatMap((w) => (w.organisationCode ? [w.organisationCode] : []));
  const names = new Map(
    codes.length === 0
      ? []
      : (await db.selectFrom('organisations').select(['code', 'name']).where('code', 'in', codes).execute()).map((o) => [o.code, o.name]),
  );
  const b = a.result.pvBenefitsPence;
  return {
    available: true,
    caseId: c.id,
    stored: a.stored,
    computedAt: a.computedAt,
    result: a.result,
    pvBenefitsTotalPence: b.fiscal + b.economic + b.social,
    whoBenefits: a.result.whoBenefits.map((w) => ({
      ...w,
      name: w.organisationCode ? (names.get(w.organisationCode) ?? w.organisationCode) : 'Wider society',
    })),
    chart: appraisalChart(a.result),
  };
}

function sentence(detail: string, pointer?: string): string {
  const where = pointer ? pointer.replace(/^\//, '').replace(/\//g, ' ') : '';
  const text = where ? `${where}: ${detail}` : detail;
  return text.charAt(0).toUpperCase() + text.slice(1);
}
