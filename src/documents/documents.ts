import { z } from 'zod';
import { verifyAuditChain } from '../audit/audit.ts';
import { caseRegister, type RegisterRow, realisedBenefits } from '../benefits/benefits.ts';
import { type Case, caseAppraisal, getCase, getReadableCase, NARRATIVE_SECTIONS } from '../cases/cases.ts';
import type { Db } from '../db/database.ts';
import { accountIds, fundPosition, getFinancialYear } from '../fund/fund.ts';
import { listTransfers } from '../ledger/ledger.ts';
import { verifyLedger } from '../ledger/verify.ts';
import { conflict, forbidden, notFound } from '../lib/errors.ts';
import type { Pence } from '../lib/money.ts';
import { listDecisions } from '../panel/panel.ts';
import { listOrganisations, listPlaces, listThemes } from '../reference/reference.ts';
import { awardPosition, listClawbacks, listTranches } from '../releases/releases.ts';
import { getRound, listRounds } from '../rounds/rounds.ts';
import type { Principal, Role } from '../users/users.ts';
import { barChart, flowChart, lineChart } from './charts.ts';
import type { PdfPage, Renderer } from './renderer.ts';
import { basisPointsAsPercent, londonDate, type TemplateSet } from './templates.ts';

/*
 * The service's PDF documents. Each builder reads its figures from the same domain functions
 * that serve the JSON API (the case and its appraisal, the fund position, award positions, the
 * benefits register, the ledger and audit verifiers), shapes them into a view model, checks that
 * model against its schema, and hands it to its template. Nothing here recomputes a figure the
 * domain already states; sums shown are the domain's own or plain totals of the rows listed.
 *
 * Who may read what follows the data: a case's PDF and decision letter go to whoever may read
 * the case; the fund statement to treasury, auditors, the panel and departments (it names every
 * department's contribution, already public within the service, and the verification result);
 * the realised-benefits review to anyone, showing the rows the reader may see in the API; a
 * place report to anyone (it shows the money that flows through one place).
 */

export const DOCUMENTS = ['business-case', 'decision-letter', 'fund-statement', 'realised-benefits', 'place-report'] as const;
export type DocumentKind = (typeof DOCUMENTS)[number];

export const FUND_STATEMENT_READERS: readonly Role[] = ['treasury', 'auditor', 'panel', 'department'];

/** Ledger transfers into the fund with this code are compliance buy-outs. */
export const BUY_OUT_CODE = 'buy-out';

const pence = z.bigint();
const text = z.string();

export interface BuiltDocument {
  template: DocumentKind;
  model: Record<string, unknown>;
  page: PdfPage & { subtitle: string };
  filename: string;
}

interface Context {
  orgName: (code: string | null) => string;
  themeName: (code: string) => string;
  placeName: (code: string) => string;
  userName: (id: string | null) => string;
  dateLabel: string;
  today: string;
}

async function context(db: Db, now: Date): Promise<Context> {
  const [orgs, themes, places, users] = await Promise.all([
    listOrganisations(db),
    listThemes(db),
    listPlaces(db),
    db.selectFrom('users').select(['id', 'name']).execute(),
  ]);
  const org = new Map(orgs.map((o) => [o.code, o.name]));
  const theme = new Map(themes.map((t) => [t.code, t.name]));
  const place = new Map(places.map((p) => [p.code, p.name]));
  const user = new Map(users.map((u) => [u.id, u.name]));
  return {
    orgName: (code) => (code === null ? 'Not attributed' : (org.get(code) ?? code)),
    themeName: (code) => theme.get(code) ?? code,
    placeName: (code) => place.get(code) ?? code,
    userName: (id) => (id === null ? 'the service' : (user.get(id) ?? id)),
    dateLabel: londonDate(now),
    today: now.toISOString().slice(0, 10),
  };
}

const paragraphs = (s: string) =>
  s
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean);

const sumBy = <T>(rows: T[], key: (r: T) => string, value: (r: T) => Pence) => {
  const m = new Map<string, Pence>();
  for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0n) + value(r));
  return m;
};

// ---------------------------------------------------------------------------------------------
// Business case

const LineChartSchema = z.object({
  width: z.number(),
  height: z.number(),
  description: text,
  plot: z.object({ left: z.number(), right: z.number(), top: z.number(), bottom: z.number() }),
  series: z.array(z.object({ label: text, className: text, path: text, points: z.array(z.object({ x: z.number(), y: z.number() })) })),
  xTicks: z.array(z.object({ x: z.number(), label: text })),
  yTicks: z.array(z.object({ y: z.number(), label: text })),
});
const BarChartSchema = z.object({
  width: z.number(),
  height: z.number(),
  labelWidth: z.number(),
  description: text,
  bars: z.array(z.object({ y: z.number(), width: z.number(), label: text, valueLabel: text, valueX: z.number() })),
});
const DecisionSchema = z.object({
  outcome: z.enum(['approve', 'reject', 'defer']),
  outcomeLabel: text,
  reasons: z.array(text),
  amountPence: pence.nullable(),
  conditions: z.array(text),
  decidedBy: text,
  decidedAt: text,
});

export const BusinessCaseModel = z.object({
  case: z.object({
    reference: text,
    title: text,
    status: text,
    leadCouncil: text,
    place: text,
    theme: text,
    round: text,
    financialYear: text,
    baseYear: text,
    discountSchedule: text,
    submittedAt: text.nullable(),
    matchFundingPence: pence,
    totalCostsPence: pence,
    requestedPence: pence,
  }),
  narrative: z.array(z.object({ heading: text, paragraphs: z.array(text) })),
  partners: z.array(z.object({ code: text, name: text })),
  costLines: z.array(z.object({ year: text, kind: text, payer: text, amountPence: pence, grade: z.number() })),
  benefitLines: z.array(
    z.object({
      number: z.number(),
      outcome: text,
      beneficiary: text,
      type: text,
      cashable: z.boolean(),
      unitValuePence: pence,
      priceYear: text,
      source: text,
      impactBasisPoints: z.number(),
      deadweightBasisPoints: z.number(),
      persistenceYears: z.number(),
      grade: z.number(),
      volumes: text,
    }),
  ),
  profile: z.array(
    z.object({
      year: text,
      costsPence: pence,
      discountFactor: text,
      pvCostsPence: pence,
      pvFiscalBenefitsPence: pence,
      cumulativePvCostsPence: pence,
      cumulativePvFiscalBenefitsPence: pence,
    }),
  ),
  appraisal: z.object({
    stored: z.boolean(),
    computedAt: text.nullable(),
    pvCostsPence: pence,
    pvFiscalPence: pence,
    pvEconomicPence: pence,
    pvSocialPence: pence,
    fiscalNpvPence: pence,
    publicValueNpvPence: pence,
    fiscalRoi: z.number().nullable(),
    bcr: z.number().nullable(),
    paybackYear: text.nullable(),
    vfmBand: text.nullable(),
  }),
  whoBenefits: z.array(z.object({ name: text, pvPence: pence, cashablePvPence: pence })),
  switchingValues: z.array(z.object({ label: text, base: text, switchingValue: text, change: text })),
  parameterSet: z.object({ name: text, version: text, provisional: z.boolean() }),
  warnings: z.array(text),
  decisions: z.array(DecisionSchema),
  charts: z.object({ cumulative: LineChartSchema, whoBenefits: BarChartSchema }),
});

const OUTCOME_LABEL = { approve: 'Approved', reject: 'Rejected', defer: 'Deferred' } as const;

/** A switching value as the reader needs it: money for amounts, a percentage for rates. */
function switchingFigure(input: string, v: string | number | null): string {
  if (v === null) return 'none: no value of this input makes the fiscal NPV zero';
  const n = typeof v === 'number' ? v : Number(v);
  if (input.endsWith('BasisPoints')) return `${(n / 100).toLocaleString('en-GB', { maximumFractionDigits: 2 })}%`;
  const whole = BigInt(Math.round(n));
  return `${whole < 0n ? '−' : ''}£${(Number(whole < 0n ? -whole : whole) / 100).toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

async function decisionsOf(db: Db, c: Case, ctx: Context) {
  return (await listDecisions(db, c.id)).map((d) => ({
    outcome: d.outcome,
    outcomeLabel: OUTCOME_LABEL[d.outcome],
    reasons: paragraphs(d.reasons),
    amountPence: d.amountPence,
    conditions: d.conditions,
    decidedBy: ctx.userName(d.decidedBy),
    decidedAt: d.decidedAt,
  }));
}

/** The business case as a document for ministers. Readers: whoever may read the case (`getReadableCase`). */
export async function buildBusinessCase(db: Db, p: Principal, caseId: string, now: Date): Promise<BuiltDocument> {
  const c = await getReadableCase(db, p, caseId);
  const [ctx, round, appraisal] = await Promise.all([context(db, now), getRound(db, c.roundId), caseAppraisal(db, c)]);
  const a = appraisal.result;
  const costsByYear = sumBy(
    c.costs,
    (l) => l.year,
    (l) => l.amountPence,
  );
  const model = BusinessCaseModel.parse({
    case: {
      reference: c.reference,
      title: c.title,
      status: c.status,
      leadCouncil: ctx.orgName(c.leadCouncilCode),
      place: ctx.placeName(c.placeCode),
      theme: ctx.themeName(c.theme),
      round: round.name,
      financialYear: round.financialYear,
      baseYear: c.baseYear,
      discountSchedule: c.discountSchedule,
      submittedAt: c.submittedAt,
      matchFundingPence: c.matchFundingPence,
      totalCostsPence: c.totalCostsPence,
      requestedPence: c.requestedPence,
    },
    narrative: NARRATIVE_SECTIONS.map((s) => ({ heading: `The ${s} case`, paragraphs: paragraphs(c.narrative[s] ?? '') })),
    partners: c.partnerCodes.map((code) => ({ code, name: ctx.orgName(code) })),
    costLines: c.costs.map((l) => ({
      year: l.year,
      kind: l.kind,
      payer: ctx.orgName(l.payerCode),
      amountPence: l.amountPence,
      grade: l.confidenceGrade,
    })),
    benefitLines: c.benefits.map((b, i) => ({
      number: i + 1,
      outcome: b.outcome,
      beneficiary: ctx.orgName(b.beneficiaryCode),
      type: b.type,
      cashable: b.cashable,
      unitValuePence: b.unitValuePence,
      priceYear: b.priceYear,
      source: b.unitCostCode ? `${b.unitCostCode}: ${b.source}` : b.source,
      impactBasisPoints: b.impactBasisPoints,
      deadweightBasisPoints: b.deadweightBasisPoints,
      persistenceYears: b.persistenceYears,
      grade: b.confidenceGrade,
      volumes: b.volumes
        ? Object.entries(b.volumes)
            .map(([y, v]) => `${y}: ${v.toLocaleString('en-GB')}`)
            .join('; ')
        : `need ${Object.entries(b.need ?? {})
            .map(([y, v]) => `${y}: ${v.toLocaleString('en-GB')}`)
            .join('; ')} × engagement ${basisPointsAsPercent(b.engagementBasisPoints ?? 0)}`,
    })),
    profile: a.years.map((y) => ({
      year: y.year,
      costsPence: costsByYear.get(y.year) ?? 0n,
      discountFactor: Number(y.discountFactor).toFixed(4),
      pvCostsPence: y.pvCostsPence,
      pvFiscalBenefitsPence: y.pvFiscalBenefitsPence,
      cumulativePvCostsPence: y.cumulativePvCostsPence,
      cumulativePvFiscalBenefitsPence: y.cumulativePvFiscalBenefitsPence,
    })),
    appraisal: {
      stored: appraisal.stored,
      computedAt: appraisal.computedAt,
      pvCostsPence: a.pvCostsPence,
      pvFiscalPence: a.pvBenefitsPence.fiscal,
      pvEconomicPence: a.pvBenefitsPence.economic,
      pvSocialPence: a.pvBenefitsPence.social,
      fiscalNpvPence: a.fiscalNpvPence,
      publicValueNpvPence: a.publicValueNpvPence,
      fiscalRoi: a.fiscalRoi,
      bcr: a.bcr,
      paybackYear: a.paybackYear,
      vfmBand: a.vfmBand,
    },
    whoBenefits: a.whoBenefits.map((w) => ({
      name: ctx.orgName(w.organisationCode),
      pvPence: w.pvPence,
      cashablePvPence: w.cashablePvPence,
    })),
    switchingValues: a.switchingValues.map((s) => ({
      label: s.label,
      base: switchingFigure(s.input, s.baseValue),
      switchingValue: switchingFigure(s.input, s.switchingValue),
      change: s.changeBasisPoints === null ? '—' : `${(s.changeBasisPoints / 100).toLocaleString('en-GB', { maximumFractionDigits: 2 })}%`,
    })),
    parameterSet: a.parameterSet,
    warnings: a.warnings,
    decisions: await decisionsOf(db, c, ctx),
    charts: {
      cumulative: lineChart(
        a.years.map((y) => y.year),
        [
          { label: 'Cumulative discounted costs', className: 'costs', values: a.years.map((y) => y.cumulativePvCostsPence) },
          {
            label: 'Cumulative discounted fiscal benefits',
            className: 'benefits',
            values: a.years.map((y) => y.cumulativePvFiscalBenefitsPence),
          },
        ],
        'Line chart of cumulative discounted costs against cumulative discounted fiscal benefits by year; the table below gives the figures.',
      ),
      whoBenefits: barChart(
        a.whoBenefits.map((w) => ({ label: ctx.orgName(w.organisationCode), value: w.pvPence })),
        'Bar chart of present-value benefit by organisation; the table below gives the figures.',
      ),
    },
  });
  return {
    template: 'business-case',
    model,
    page: {
      title: `Business case: ${c.title}`,
      reference: c.reference,
      subtitle: `${ctx.orgName(c.leadCouncilCode)} · ${round.name}`,
      dateLabel: ctx.dateLabel,
    },
    filename: `${c.reference}-business-case.pdf`,
  };
}

// ---------------------------------------------------------------------------------------------
// Decision letter

export const DecisionLetterModel = z.object({
  reference: text,
  title: text,
  addressee: text,
  place: text,
  round: text,
  decision: DecisionSchema,
  earlier: z.array(DecisionSchema),
  tranches: z.array(z.object({ number: z.number(), amountPence: pence, earliestOn: text, condition: text, status: text })),
  award: z.object({ awardPence: pence, releasedPence: pence, committedPence: pence, clawedBackPence: pence }).nullable(),
  clawbacks: z.array(z.object({ kind: text, amountPence: pence, reason: text, recordedAt: text })),
});

/** The panel's decision letter to the lead council. Readers: whoever may read the case. Refused (409) before any decision. */
export async function buildDecisionLetter(db: Db, p: Principal, caseId: string, now: Date): Promise<BuiltDocument> {
  const c = await getReadableCase(db, p, caseId);
  const [ctx, round] = await Promise.all([context(db, now), getRound(db, c.roundId)]);
  const decisions = await decisionsOf(db, c, ctx);
  const latest = decisions.at(-1);
  if (!latest) throw conflict('no-decision', 'No decision yet', `${c.reference} has not been decided, so there is no decision letter.`);
  const approved = latest.outcome === 'approve';
  const [tranches, award, clawbacks] = approved
    ? await Promise.all([listTranches(db, c.id), awardPosition(db, c.id), listClawbacks(db, c.id)])
    : [[], null, []];
  const model = DecisionLetterModel.parse({
    reference: c.reference,
    title: c.title,
    addressee: ctx.orgName(c.leadCouncilCode),
    place: ctx.placeName(c.placeCode),
    round: round.name,
    decision: latest,
    earlier: decisions.slice(0, -1),
    tranches: tranches.map((t) => ({
      number: t.number,
      amountPence: t.amountPence,
      earliestOn: t.earliestOn,
      condition: t.condition,
      status: t.status,
    })),
    award: award
      ? {
          awardPence: award.awardPence,
          releasedPence: award.releasedPence,
          committedPence: award.committedPence,
          clawedBackPence: award.clawedBackPence,
        }
      : null,
    clawbacks: clawbacks.map((k) => ({ kind: k.kind, amountPence: k.amountPence, reason: k.reason, recordedAt: k.recordedAt })),
  });
  return {
    template: 'decision-letter',
    model,
    page: {
      title: `Decision letter: ${c.title}`,
      reference: c.reference,
      subtitle: `To ${ctx.orgName(c.leadCouncilCode)}`,
      dateLabel: ctx.dateLabel,
    },
    filename: `${c.reference}-decision-letter.pdf`,
  };
}

// ---------------------------------------------------------------------------------------------
// Fund statement

export const FundStatementModel = z.object({
  financialYear: text,
  position: z.object({
    contributedPence: pence,
    otherReceiptsPence: pence,
    committedPence: pence,
    releasedPence: pence,
    balancePence: pence,
    availablePence: pence,
  }),
  contributions: z.array(z.object({ department: text, amountPence: pence })),
  commitments: z.array(
    z.object({
      reference: text,
      title: text,
      place: text,
      awardPence: pence,
      releasedPence: pence,
      committedPence: pence,
      voidedPence: pence,
    }),
  ),
  releasesByPlace: z.array(z.object({ label: text, amountPence: pence })),
  releasesByTheme: z.array(z.object({ label: text, amountPence: pence })),
  clawbacks: z.array(z.object({ reference: text, kind: text, amountPence: pence, reason: text, recordedAt: text })),
  clawbacksTotalPence: pence,
  buyOuts: z.array(z.object({ from: text, amountPence: pence, reference: text, createdAt: text })),
  buyOutsTotalPence: pence,
  verification: z.object({
    ok: z.boolean(),
    ledgersBalanced: z.boolean(),
    accountsChecked: z.number(),
    mismatches: z.number(),
    overdrawn: z.number(),
    auditEntries: z.number(),
    auditOk: z.boolean(),
  }),
});

/** Cases of a year's rounds that have left draft, by reference. */
async function casesOfYear(db: Db, fy: string): Promise<Case[]> {
  const rounds = (await listRounds(db, fy)).map((r) => r.id);
  if (rounds.length === 0) return [];
  const rows = await db
    .selectFrom('cases')
    .select('id')
    .where('round_id', 'in', rounds)
    .where('status', '!=', 'draft')
    .orderBy('reference')
    .execute();
  return Promise.all(rows.map((r) => getCase(db, r.id)));
}

/** The fund's statement for a year. Readers: treasury, auditors, the panel and departments. */
export async function buildFundStatement(db: Db, p: Principal, fy: string, now: Date): Promise<BuiltDocument> {
  if (!FUND_STATEMENT_READERS.includes(p.role))
    throw forbidden(`The fund statement is for ${FUND_STATEMENT_READERS.join(', ')}; you are signed in as ${p.role}.`);
  await getFinancialYear(db, fy);
  const [ctx, position, cases, ledger, audit] = await Promise.all([
    context(db, now),
    fundPosition(db, fy),
    casesOfYear(db, fy),
    verifyLedger(db),
    verifyAuditChain(db),
  ]);
  const awarded = [];
  const clawbacks = [];
  for (const c of cases) {
    const award = await awardPosition(db, c.id);
    if (award.awardPence > 0n) awarded.push({ c, award });
    for (const k of await listClawbacks(db, c.id)) clawbacks.push({ c, k });
  }
  const fundAccount = accountIds.fund(fy);
  const buyOuts = (await listTransfers(db, { accountIds: [fundAccount], code: BUY_OUT_CODE, limit: 100_000 })).filter(
    (t) => t.creditAccountId === fundAccount && !t.pending && !t.voidPendingTransfer,
  );
  const fromAccounts = new Map(
    (buyOuts.length
      ? await db
          .selectFrom('accounts')
          .select(['id', 'organisation_code'])
          .where(
            'id',
            'in',
            buyOuts.map((t) => t.debitAccountId),
          )
          .execute()
      : []
    ).map((a) => [a.id, a.organisation_code]),
  );
  const byLabel = (m: Map<string, Pence>) =>
    [...m].map(([label, amountPence]) => ({ label, amountPence })).sort((a, b) => a.label.localeCompare(b.label));
  const model = FundStatementModel.parse({
    financialYear: fy,
    position,
    contributions: position.contributions.map((k) => ({ department: ctx.orgName(k.departmentCode), amountPence: k.amountPence })),
    commitments: awarded.map(({ c, award }) => ({
      reference: c.reference,
      title: c.title,
      place: ctx.placeName(c.placeCode),
      awardPence: award.awardPence,
      releasedPence: award.releasedPence,
      committedPence: award.committedPence,
      voidedPence: award.voidedPence,
    })),
    releasesByPlace: byLabel(
      sumBy(
        awarded,
        (x) => ctx.placeName(x.c.placeCode),
        (x) => x.award.releasedPence,
      ),
    ),
    releasesByTheme: byLabel(
      sumBy(
        awarded,
        (x) => ctx.themeName(x.c.theme),
        (x) => x.award.releasedPence,
      ),
    ),
    clawbacks: clawbacks.map(({ c, k }) => ({
      reference: c.reference,
      kind: k.kind,
      amountPence: k.amountPence,
      reason: k.reason,
      recordedAt: k.recordedAt,
    })),
    clawbacksTotalPence: clawbacks.reduce((s, x) => s + x.k.amountPence, 0n),
    buyOuts: buyOuts.map((t) => ({
      from: ctx.orgName(fromAccounts.get(t.debitAccountId) ?? null),
      amountPence: t.amount,
      reference: t.reference ?? t.id,
      createdAt: t.createdAt,
    })),
    buyOutsTotalPence: buyOuts.reduce((s, t) => s + t.amount, 0n),
    verification: {
      ok: ledger.ok && audit.ok,
      ledgersBalanced: ledger.ledgers.every((l) => l.balanced),
      accountsChecked: ledger.accounts.checked,
      mismatches: ledger.accounts.mismatches.length,
      overdrawn: ledger.limits.overdrawn.length,
      auditEntries: audit.entries,
      auditOk: audit.ok,
    },
  });
  return {
    template: 'fund-statement',
    model,
    page: {
      title: `Prevention fund statement ${fy}`,
      reference: `FS-${fy}`,
      subtitle: 'HM Treasury · the prevention fund',
      dateLabel: ctx.dateLabel,
    },
    filename: `fund-statement-${fy}.pdf`,
  };
}

// ---------------------------------------------------------------------------------------------
// Realised-benefits review

const GroupSchema = z.object({
  label: text,
  forecastPence: pence,
  claimedPence: pence,
  verifiedPence: pence,
  variancePence: pence,
  green: z.number(),
  amber: z.number(),
  red: z.number(),
  notDue: z.number(),
});

export const RealisedBenefitsModel = z.object({
  financialYear: text,
  scope: text,
  totals: z.object({ appraisedPence: pence, forecastPence: pence, claimedPence: pence, verifiedPence: pence, variancePence: pence }),
  cashableVerifiedPence: pence,
  nonCashableVerifiedPence: pence,
  byDepartment: z.array(GroupSchema),
  byPlace: z.array(GroupSchema),
  byTheme: z.array(GroupSchema),
  rows: z.array(
    z.object({
      reference: text,
      outcome: text,
      department: text,
      cashable: z.boolean(),
      forecastPence: pence,
      verifiedPence: pence,
      variancePence: pence,
      rag: text,
    }),
  ),
});

/** Forecast against verified, grouped; each group's RAG is the count of its rows' statuses (the register's rule, per row). */
function groups(rows: RegisterRow[], key: (r: RegisterRow) => string) {
  const m = new Map<string, z.infer<typeof GroupSchema>>();
  for (const r of rows) {
    const label = key(r);
    const g = m.get(label) ?? {
      label,
      forecastPence: 0n,
      claimedPence: 0n,
      verifiedPence: 0n,
      variancePence: 0n,
      green: 0,
      amber: 0,
      red: 0,
      notDue: 0,
    };
    g.forecastPence += r.forecastPence;
    g.claimedPence += r.claimedPence;
    g.verifiedPence += r.verifiedPence;
    g.variancePence += r.variancePence;
    if (r.rag === 'not-due') g.notDue++;
    else g[r.rag]++;
    m.set(label, g);
  }
  return [...m.values()].sort((a, b) => a.label.localeCompare(b.label));
}

/** Treasury's review of realised benefits for a year. Readers: anyone; each sees the rows the benefits API shows them. */
export async function buildRealisedBenefits(db: Db, p: Principal, fy: string, now: Date): Promise<BuiltDocument> {
  await getFinancialYear(db, fy);
  const ctx = await context(db, now);
  const found = await realisedBenefits(db, p, { fy }, ctx.today);
  const scope =
    p.role === 'department'
      ? `Benefits attributed to ${ctx.orgName(p.organisationCode)} only.`
      : p.role === 'council'
        ? `Benefits of ${ctx.orgName(p.organisationCode)}'s own cases only.`
        : 'Every approved case.';
  const model = RealisedBenefitsModel.parse({
    financialYear: fy,
    scope,
    totals: { ...found.totals, variancePence: found.rows.reduce((s, r) => s + r.variancePence, 0n) },
    cashableVerifiedPence: found.cashable.verifiedPence,
    nonCashableVerifiedPence: found.nonCashable.verifiedPence,
    byDepartment: groups(found.rows, (r) => ctx.orgName(r.departmentCode)),
    byPlace: groups(found.rows, (r) => ctx.placeName(r.placeCode)),
    byTheme: groups(found.rows, (r) => ctx.themeName(r.theme)),
    rows: found.rows.map((r) => ({
      reference: r.reference,
      outcome: r.outcome,
      department: ctx.orgName(r.departmentCode),
      cashable: r.cashable,
      forecastPence: r.forecastPence,
      verifiedPence: r.verifiedPence,
      variancePence: r.variancePence,
      rag: r.rag,
    })),
  });
  return {
    template: 'realised-benefits',
    model,
    page: { title: `Realised-benefits review ${fy}`, reference: `RB-${fy}`, subtitle: `HM Treasury · ${scope}`, dateLabel: ctx.dateLabel },
    filename: `realised-benefits-${fy}.pdf`,
  };
}

// ---------------------------------------------------------------------------------------------
// Place report

export const PlaceReportModel = z.object({
  place: z.object({ code: text, name: text, region: text.nullable(), councils: z.array(text) }),
  financialYear: text,
  cases: z.array(
    z.object({
      reference: text,
      title: text,
      council: text,
      theme: text,
      status: text,
      requestedPence: pence,
      awardPence: pence,
      releasedPence: pence,
    }),
  ),
  totals: z.object({ awardPence: pence, releasedPence: pence, forecastPence: pence, verifiedPence: pence }),
  releases: z.array(z.object({ reference: text, tranche: z.number(), amountPence: pence, releasedAt: text })),
  benefitsByDepartment: z.array(
    z.object({ department: text, forecastPence: pence, claimedPence: pence, verifiedPence: pence, variancePence: pence }),
  ),
  flow: z.object({
    width: z.number(),
    height: z.number(),
    description: text,
    centre: z.object({ x: z.number(), y: z.number(), height: z.number(), label: text }),
    inflows: z.array(
      z.object({
        x: z.number(),
        y: z.number(),
        height: z.number(),
        label: text,
        valueLabel: text,
        path: text,
        labelX: z.number(),
        anchor: text,
      }),
    ),
    outflows: z.array(
      z.object({
        x: z.number(),
        y: z.number(),
        height: z.number(),
        label: text,
        valueLabel: text,
        path: text,
        labelX: z.number(),
        anchor: text,
      }),
    ),
  }),
});

/** All the money flowing through one place in a year: its cases, releases and benefits by department. Readers: anyone. */
export async function buildPlaceReport(db: Db, _p: Principal, placeCode: string, fy: string, now: Date): Promise<BuiltDocument> {
  await getFinancialYear(db, fy);
  const ctx = await context(db, now);
  const place = (await listPlaces(db)).find((pl) => pl.code === placeCode);
  if (!place) throw notFound('place', `There is no place ${placeCode}.`);
  const cases = (await casesOfYear(db, fy)).filter((c) => c.placeCode === placeCode);
  const rows = [];
  const releases = [];
  const register: RegisterRow[] = [];
  for (const c of cases) {
    const award = await awardPosition(db, c.id);
    rows.push({ c, award });
    for (const t of await listTranches(db, c.id)) {
      if (t.status === 'released' && t.releasedPence !== null && t.releasedAt) {
        releases.push({ reference: c.reference, tranche: t.number, amountPence: t.releasedPence, releasedAt: t.releasedAt });
      }
    }
    if (c.status === 'approved' || c.status === 'terminated')
      register.push(...(await caseRegister(db, c, ctx.today)).filter((r) => r.year === fy));
  }
  const byDept = new Map<
    string,
    { department: string; forecastPence: Pence; claimedPence: Pence; verifiedPence: Pence; variancePence: Pence }
  >();
  for (const r of register) {
    const department = ctx.orgName(r.departmentCode);
    const g = byDept.get(department) ?? { department, forecastPence: 0n, claimedPence: 0n, verifiedPence: 0n, variancePence: 0n };
    g.forecastPence += r.forecastPence;
    g.claimedPence += r.claimedPence;
    g.verifiedPence += r.verifiedPence;
    g.variancePence += r.variancePence;
    byDept.set(department, g);
  }
  const benefitsByDepartment = [...byDept.values()].sort((a, b) => a.department.localeCompare(b.department));
  const funded = rows.filter((x) => x.award.awardPence > 0n);
  const model = PlaceReportModel.parse({
    place: { code: place.code, name: place.name, region: place.region, councils: place.councilCodes.map(ctx.orgName) },
    financialYear: fy,
    cases: rows.map(({ c, award }) => ({
      reference: c.reference,
      title: c.title,
      council: ctx.orgName(c.leadCouncilCode),
      theme: ctx.themeName(c.theme),
      status: c.status,
      requestedPence: c.requestedPence,
      awardPence: award.awardPence,
      releasedPence: award.releasedPence,
    })),
    totals: {
      awardPence: rows.reduce((s, x) => s + x.award.awardPence, 0n),
      releasedPence: rows.reduce((s, x) => s + x.award.releasedPence, 0n),
      forecastPence: benefitsByDepartment.reduce((s, g) => s + g.forecastPence, 0n),
      verifiedPence: benefitsByDepartment.reduce((s, g) => s + g.verifiedPence, 0n),
    },
    releases,
    benefitsByDepartment,
    flow: flowChart(
      place.name,
      funded.map(({ c, award }) => ({ label: `${c.reference} award`, value: award.awardPence })),
      benefitsByDepartment.map((g) => ({ label: g.department, value: g.forecastPence })),
      `Flow of money into ${place.name} (awards by case, left) and the savings forecast for ${fy} by department (right); the tables give the figures.`,
    ),
  });
  return {
    template: 'place-report',
    model,
    page: {
      title: `Place report: ${place.name} ${fy}`,
      reference: `PL-${place.code}-${fy}`,
      subtitle: `Total Place count for ${place.name}`,
      dateLabel: ctx.dateLabel,
    },
    filename: `place-${place.code}-${fy}.pdf`,
  };
}

// ---------------------------------------------------------------------------------------------

/** Renders a built document to PDF bytes. */
export async function renderBuilt(renderer: Renderer, templates: TemplateSet, built: BuiltDocument): Promise<Uint8Array> {
  const html = templates.render(built.template, built.model, built.page);
  return renderer.render(html, built.page);
}
