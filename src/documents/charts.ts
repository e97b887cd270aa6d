import { money } from '../lib/templates.ts';

/*
 * Chart geometry for the documents' inline SVG. The figures come in already computed by the
 * domain; this only places them on a page. Labels stay data (the templates escape them), and
 * coordinates are plain numbers, so no markup is ever built from user text here.
 */

export interface LineChart {
  width: number;
  height: number;
  series: { label: string; className: string; path: string; points: { x: number; y: number }[] }[];
  xTicks: { x: number; label: string }[];
  yTicks: { y: number; label: string }[];
  plot: { left: number; right: number; top: number; bottom: number };
  description: string;
}

const W = 640;
const H = 260;
const PLOT = { left: 96, right: W - 16, top: 16, bottom: H - 40 };

/** A round top for a money axis: 1, 2 or 5 × a power of ten, in pence. */
function niceCeiling(max: bigint): bigint {
  if (max <= 0n) return 100n;
  let step = 1n;
  while (step * 10n <= max) step *= 10n;
  for (const m of [1n, 2n, 5n, 10n]) if (step * m >= max) return step * m;
  return step * 10n;
}

const scale = (v: bigint, max: bigint, span: number) => Number((v * BigInt(Math.round(span * 1000))) / max) / 1000;

/** Running totals by year, one line per series (e.g. cumulative discounted costs against benefits). */
export function lineChart(
  xLabels: string[],
  series: { label: string; className: string; values: bigint[] }[],
  description: string,
): LineChart {
  const max = niceCeiling(largest(series.flatMap((s) => s.values)));
  const n = Math.max(xLabels.length, 1);
  const xAt = (i: number) => PLOT.left + (n === 1 ? 0 : (i * (PLOT.right - PLOT.left)) / (n - 1));
  const yAt = (v: bigint) => PLOT.bottom - scale(v < 0n ? 0n : v, max, PLOT.bottom - PLOT.top);
  return {
    width: W,
    height: H,
    plot: PLOT,
    description,
    series: series.map((s) => {
      const points = s.values.map((v, i) => ({ x: round(xAt(i)), y: round(yAt(v)) }));
      return { label: s.label, className: s.className, points, path: points.map((p, i) => `${i ? 'L' : 'M'}${p.x} ${p.y}`).join(' ') };
    }),
    xTicks: xLabels.map((label, i) => ({ x: round(xAt(i)), label })),
    yTicks: [0n, 1n, 2n, 3n, 4n].map((k) => ({ y: round(yAt((max * k) / 4n)), label: money((max * k) / 4n).replace(/\.00$/, '') })),
  };
}

export interface BarChart {
  width: number;
  height: number;
  labelWidth: number;
  bars: { y: number; width: number; label: string; valueLabel: string; valueX: number }[];
  description: string;
}

/** Horizontal bars, largest first as given (e.g. PV benefit by department); short labels can take less room. */
export function barChart(items: { label: string; value: bigint }[], description: string, labelWidth = 220): BarChart {
  const barSpan = W - labelWidth - 110;
  const max = largest(items.map((i) => i.value)) || 1n;
  return {
    width: W,
    height: items.length * 26 + 8,
    labelWidth,
    description,
    bars: items.map((item, i) => {
      const width = round(scale(item.value < 0n ? 0n : item.value, max, barSpan));
      return { y: i * 26 + 4, width, label: item.label, valueLabel: money(item.value), valueX: labelWidth + width + 6 };
    }),
  };
}

export interface FlowChart {
  width: number;
  height: number;
  centre: { x: number; y: number; height: number; label: string };
  inflows: FlowNode[];
  outflows: FlowNode[];
  description: string;
}

interface FlowNode {
  x: number;
  y: number;
  height: number;
  label: string;
  valueLabel: string;
  path: string;
  labelX: number;
  anchor: 'start' | 'end';
}

/** Money in (left, into the place) and savings out (right, to departments), bands scaled to the amounts. */
export function flowChart(
  placeLabel: string,
  inflows: { label: string; value: bigint }[],
  outflows: { label: string; value: bigint }[],
  description: string,
): FlowChart {
  const height = Math.max(inflows.length, outflows.length, 3) * 48 + 20;
  const total = largest([...inflows, ...outflows].map((i) => i.value)) || 1n;
  const bandMax = 60;
  const cx = W / 2;
  const centreHeight = height - 20;
  const nodes = (items: { label: string; value: bigint }[], side: 'in' | 'out'): FlowNode[] => {
    const gap = (height - 20) / Math.max(items.length, 1);
    const centreStep = centreHeight / Math.max(items.length, 1);
    return items.map((item, i) => {
      const h = Math.max(3, round(scale(item.value < 0n ? 0n : item.value, total, bandMax)));
      const y = round(10 + i * gap + (gap - h) / 2);
      const cy = round(10 + i * centreStep + (centreStep - h) / 2);
      const x0 = side === 'in' ? 190 : cx + 8;
      const x1 = side === 'in' ? cx - 8 : W - 190;
      const [ya, yb] = side === 'in' ? [y, cy] : [cy, y];
      const mid = (x0 + x1) / 2;
      const path = `M${x0} ${ya} C${mid} ${ya} ${mid} ${yb} ${x1} ${yb} L${x1} ${yb + h} C${mid} ${yb + h} ${mid} ${ya + h} ${x0} ${ya + h} Z`;
      return {
        x: side === 'in' ? x0 : x1,
        y,
        height: h,
        label: item.label,
        valueLabel: money(item.value),
        path,
        labelX: side === 'in' ? x0 - 6 : x1 + 6,
        anchor: side === 'in' ? 'end' : 'start',
      };
    });
  };
  return {
    width: W,
    height,
    centre: { x: cx - 8, y: 10, height: centreHeight, label: placeLabel },
    inflows: nodes(inflows, 'in'),
    outflows: nodes(outflows, 'out'),
    description,
  };
}

const round = (v: number) => Math.round(v * 10) / 10;

/** The largest amount (bigints have no Math.max). */
function largest(values: bigint[]): bigint {
  let m = 0n;
  for (const v of values) if (v > m) m = v;
  return m;
}
