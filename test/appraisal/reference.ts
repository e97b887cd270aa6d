import type { AppraisalInput, DeflatorTable, ParameterSet } from '../../src/appraisal/types.ts';

/*
 * An independent, deliberately plain statement of the appraisal method for the property tests: every
 * quantity a reduced fraction of bigints, every benefit summed year by year from its formula in
 * src/appraisal/README.md, rounded half-even once at the end. Slow and obvious, so it can judge the engine.
 */

type Q = { n: bigint; d: bigint };
const gcd = (a: bigint, b: bigint): bigint => {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y) [x, y] = [y, x % y];
  return x;
};
const q = (n: bigint, d = 1n): Q => {
  const g = gcd(n, d) || 1n;
  return d < 0n ? { n: -n / g, d: -d / g } : { n: n / g, d: d / g };
};
const add = (a: Q, b: Q) => q(a.n * b.d + b.n * a.d, a.d * b.d);
const mul = (a: Q, b: Q) => q(a.n * b.n, a.d * b.d);
const dec = (s: string): Q => {
  const [w, f = ''] = s.split('.');
  return q(BigInt(`${w}${f}`), 10n ** BigInt(f.length));
};
const num = (v: number): Q => dec(String(v));
const bp = (v: number) => q(BigInt(v), 10_000n);
const one = q(1n);

export function roundHalfEven(x: Q): bigint {
  let f = x.n / x.d;
  if (x.n < 0n && f * x.d !== x.n) f -= 1n;
  const r = q(x.n - f * x.d, x.d); // 0 ≤ r < 1
  if (r.n * 2n > r.d || (r.n * 2n === r.d && f % 2n !== 0n)) f += 1n;
  return f;
}

export interface ReferenceOptions {
  noOptimismBias?: boolean;
  gradeWorse?: boolean;
  impactScale?: Q;
  extraLag?: number;
}

export interface ReferenceResult {
  pvCosts: Q;
  costsByYear: Map<number, Q>;
  fiscal: Q;
  economic: Q;
  social: Q;
  fiscalByYear: Map<number, Q>;
  byOrg: Map<string | null, { pv: Q; cashable: Q }>;
}

export function referenceAppraisal(
  input: AppraisalInput,
  params: ParameterSet,
  deflators: DeflatorTable,
  o: ReferenceOptions = {},
): ReferenceResult {
  const bands = params.discountSchedules[input.discountSchedule ?? 'standard'];
  const dfCache: Q[] = [one];
  const df = (t: number): Q => {
    while (dfCache.length <= t) {
      const k = dfCache.length;
      const band = bands.find((b) => k >= b.fromYear && (b.toYear === null || k <= b.toYear))!;
      const r = dec(band.rate);
      dfCache.push(mul(dfCache[k - 1]!, q(r.d, r.d + r.n)));
    }
    return dfCache[t]!;
  };
  const grade = (g: number) => params.confidenceGrades.find((x) => x.grade === (o.gradeWorse ? Math.min(g + 1, 6) : g))!;
  const start = (y: string) => Number(y.slice(0, 4));
  const base = start(input.baseYear);
  const deflator = (y: string): Q | null => {
    const v = deflators.index[y] ?? deflators.forecastIndex?.[y];
    return v === undefined ? null : dec(v);
  };
  let pvCosts = q(0n);
  const costsByYear = new Map<number, Q>();
  for (const c of input.costs) {
    const uplift = o.noOptimismBias ? one : add(one, bp(grade(c.confidenceGrade).costUpliftBasisPoints));
    const t = start(c.year) - base;
    const pv = mul(mul(q(c.amountPence), uplift), df(t));
    pvCosts = add(pvCosts, pv);
    costsByYear.set(t, add(costsByYear.get(t) ?? q(0n), pv));
  }
  const out: ReferenceResult = {
    pvCosts,
    costsByYear,
    fiscal: q(0n),
    economic: q(0n),
    social: q(0n),
    fiscalByYear: new Map(),
    byOrg: new Map(),
  };
  for (const b of input.benefits) {
    const priceYear = b.priceYear.replace('/', '-');
    let rebase = one;
    if (priceYear !== input.baseYear) {
      const to = deflator(input.baseYear);
      const from = deflator(priceYear);
      if (to && from) rebase = mul(to, q(from.d, from.n));
    }
    const keep = o.noOptimismBias ? one : q(BigInt(10_000 - grade(b.confidenceGrade).benefitHaircutBasisPoints), 10_000n);
    let perUnit = mul(mul(q(b.unitValuePence), rebase), keep);
    perUnit = mul(perUnit, mul(bp(b.impactBasisPoints), o.impactScale ?? one));
    perUnit = mul(perUnit, q(BigInt(10_000 - b.deadweightBasisPoints), 10_000n));
    perUnit = mul(perUnit, q(BigInt(10_000 - (b.displacementBasisPoints ?? 0)), 10_000n));
    const cohorts = b.need ?? b.volumes ?? {};
    const engagement = b.need ? bp(b.engagementBasisPoints ?? 0) : one;
    const dropKeep = q(BigInt(10_000 - (b.dropOffBasisPoints ?? 0)), 10_000n);
    const lag = (b.lagYears ?? 0) + (o.extraLag ?? 0);
    const cashable = b.cashableBasisPoints !== undefined ? bp(b.cashableBasisPoints) : b.cashable ? one : q(0n);
    let pv = q(0n);
    for (const [year, v] of Object.entries(cohorts)) {
      let value = mul(mul(num(v), engagement), perUnit);
      for (let k = 0; k < b.persistenceYears; k++) {
        const s = start(year) - base + lag + k;
        const discounted = mul(value, df(s));
        pv = add(pv, discounted);
        if (b.type === 'fiscal') out.fiscalByYear.set(s, add(out.fiscalByYear.get(s) ?? q(0n), discounted));
        value = mul(value, dropKeep);
      }
    }
    out[b.type] = add(out[b.type], pv);
    const org = out.byOrg.get(b.beneficiaryCode) ?? { pv: q(0n), cashable: q(0n) };
    out.byOrg.set(b.beneficiaryCode, { pv: add(org.pv, pv), cashable: add(org.cashable, mul(pv, cashable)) });
  }
  return out;
}

export const sum = (...xs: Q[]) => xs.reduce(add, q(0n));

/**
 * The year rows the reference gives for the engine's `years` (PV costs, PV fiscal benefits and
 * their running totals, each rounded once) and the payback year: the first whose running fiscal
 * benefits reach the running costs.
 */
export function referenceYearRows(base: ReferenceResult, years: readonly { index: number; year: string }[]) {
  let cumCosts = q(0n);
  let cumFiscal = q(0n);
  let payback: string | null = null;
  const rows = years.map((y) => {
    const c = base.costsByYear.get(y.index) ?? q(0n);
    const f = base.fiscalByYear.get(y.index) ?? q(0n);
    cumCosts = sum(cumCosts, c);
    cumFiscal = sum(cumFiscal, f);
    if (payback === null && cumCosts.n > 0n && cmp(cumFiscal, cumCosts) >= 0) payback = y.year;
    return [roundHalfEven(c), roundHalfEven(f), roundHalfEven(cumCosts), roundHalfEven(cumFiscal)];
  });
  return { rows, payback };
}

/** -1, 0 or 1 as `a` is below, equal to or above `b` (denominators positive). */
export const cmp = (a: Q, b: Q) => {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
};
export const minus = (a: Q, b: Q) => add(a, q(-b.n, b.d));
export { q };
