import { z } from 'zod';
import { verifyAuditChain } from '../audit/audit.ts';
import { caseRegisters, type RegisterRow, realisedBenefits } from '../benefits/benefits.ts';
import { caseAppraisal } from '../cases/appraisal.ts';
import { type Case, casePlace, getCase, NARRATIVE_SECTIONS } from '../cases/records.ts';
import { getReadableCase, SUBMITTED_STATUSES } from '../cases/visibility.ts';
import { type ComplianceRun, type ComplianceStatus, getCompliance } from '../compliance/compliance.ts';
import { getYearClose, type Issuance, issuancesOfYear, issuanceWithProvenance } from '../credits/close.ts';
import type { Db } from '../db/database.ts';
import { placeDisposals } from '../disposals/disposals.ts';
import { accountIds, fundPosition, getFinancialYear } from '../fund/fund.ts';
import { listTransfers } from '../ledger/ledger.ts';
import { verifyLedger } from '../ledger/verify.ts';
import { DomainError, forbidden } from '../lib/errors.ts';
import type { Pence } from '../lib/money.ts';
import { refuse } from '../lib/refusals.ts';
import { basisPointsAsPercent, londonDate } from '../lib/templates.ts';
import { marketState } from '../market/prices.ts';
import { listTrades } from '../market/trades.ts';
import { listDecisions } from '../panel/panel.ts';
import { listOrganisations, listPlaces, listThemes } from '../reference/reference.ts';
import { REFERENCE_REFUSALS } from '../reference/refusals.ts';
import { awardPosition, listClawbacks, listTranches } from '../releases/releases.ts';
import { getRound, listRounds } from '../rounds/rounds.ts';
import type { Principal, Role } from '../users/users.ts';
import { barChart, flowChart, lineChart } from './charts.ts';
import { DOCUMENTS_REFUSALS } from './refusals.ts';
import type { PdfPage, Renderer } from './renderer.ts';
import type { TemplateSet } from './templates.ts';

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
 * place report to anyone (it shows the money that flows through one place), its disposals
 * section only to those who may read a place's disposals; the credits and compliance report to
 * those who may read a year's close and compliance, a department seeing its own rows as it does
 * in the API, and the trades only to those who may read the trades.
 */

export const DOCUMENTS = ['business-case', 'decision-letter', 'fund-statement', 'realised-benefits', 'place-report', 'credits'] as const;
export type DocumentKind = (typeof DOCUMENTS)[number];

export const FUND_STATEMENT_READERS: readonly Role[] = ['treasury', 'auditor', 'panel', 'department'];
/** Who reads a year's close, issuances and compliance (`GET /financial-years/{fy}/close`, `.../compliance`). */
export const CREDITS_REPORT_READERS: readonly Role[] = ['treasury', 'auditor', 'panel', 'department'];
/** Who reads a year's trades (`GET /credits/trades`): the panel does not. */
const TRADE_READERS: readonly Role[] = ['treasury', 'auditor', 'department'];
/** Who reads a place's disposals (`GET /places/{code}/disposals`): councils do not. */
const DISPOSAL_READERS: readonly Role[] = ['treasury', 'auditor', 'panel', 'department'];

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
  /** The stored appraisal's sensitivity, as the appraisal API gives it; null for an appraisal stored before it existed. */
  sensitivity: z.array(z.object({ label: text, fiscalNpvPence: pence, bcr: z.number().nullable(), vfmBand: text.nullable() })).nullable(),
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
    sensitivity: a.sensitivity?.map((x) => ({ label: x.label, fiscalNpvPence: x.fiscalNpvPence, bcr: x.bcr, vfmBand: x.vfmBand })) ?? null,
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
  if (!latest) throw refuse(DOCUMENTS_REFUSALS, 'no-decision', `${c.reference} has not been decided, so there is no decision letter.`);
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
async function casesOfYear(db: Db, fy: string, placeCode?: string): Promise<Case[]> {
  const rounds = (await listRounds(db, fy)).map((r) => r.id);
  if (rounds.length === 0) return [];
  let q = db.selectFrom('cases').select('id').where('round_id', 'in', rounds).where('status', 'in', SUBMITTED_STATUSES);
  if (placeCode !== undefined) q = q.where(casePlace(db), '=', placeCode);
  const rows = await q.orderBy('reference').execute();
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
    page: {
      title: `Realised-benefits review ${fy}`,
      // Each reader's copy is a different document: a scoped copy carries its organisation.
      reference: p.role === 'department' || p.role === 'council' ? `RB-${fy}-${p.organisationCode}` : `RB-${fy}`,
      subtitle: `HM Treasury · ${scope}`,
      dateLabel: ctx.dateLabel,
    },
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
  /** Capital receipts against the place's pooled target; null for a reader who may not see a place's disposals. */
  disposals: z
    .object({
      pooledTargetPence: pence,
      receiptsPence: pence,
      met: z.boolean(),
      departments: z.array(z.object({ department: text, targetPence: pence, receiptsPence: pence })),
      disposals: z.array(z.object({ asset: text, department: text, disposedOn: text, receiptPence: pence })),
    })
    .nullable(),
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

/**
 * All the money flowing through one place in a year: its cases, releases, benefits by department,
 * and disposals against the pooled target (`placeDisposals`, for the readers of a place's
 * disposals). Readers: anyone. Refusals: financial-year-not-found, place-not-found (404).
 */
export async function buildPlaceReport(db: Db, p: Principal, placeCode: string, fy: string, now: Date): Promise<BuiltDocument> {
  await getFinancialYear(db, fy);
  const ctx = await context(db, now);
  const place = (await listPlaces(db)).find((pl) => pl.code === placeCode);
  if (!place) throw refuse(REFERENCE_REFUSALS, 'place-not-found', `There is no place ${placeCode}.`);
  const disposals = DISPOSAL_READERS.includes(p.role) ? await placeDisposals(db, placeCode, fy) : null;
  const cases = await casesOfYear(db, fy, placeCode);
  const rows = [];
  const releases = [];
  for (const c of cases) {
    const award = await awardPosition(db, c.id);
    rows.push({ c, award });
    for (const t of await listTranches(db, c.id)) {
      if (t.status === 'released' && t.releasedPence !== null && t.releasedAt) {
        releases.push({ reference: c.reference, tranche: t.number, amountPence: t.releasedPence, releasedAt: t.releasedAt });
      }
    }
  }
  const awarded = cases.filter((c) => c.status === 'approved' || c.status === 'terminated');
  const register: RegisterRow[] = (await caseRegisters(db, awarded, ctx.today)).flat().filter((r) => r.year === fy);
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
    disposals: disposals && {
      pooledTargetPence: disposals.pooledTargetPence,
      receiptsPence: disposals.receiptsPence,
      met: disposals.met,
      departments: disposals.departments.map((d) => ({
        department: ctx.orgName(d.departmentCode),
        targetPence: d.targetPence,
        receiptsPence: d.receiptsPence,
      })),
      disposals: disposals.disposals.map((d) => ({
        asset: d.asset,
        department: ctx.orgName(d.departmentCode),
        disposedOn: d.disposedOn,
        receiptPence: d.receiptPence,
      })),
    },
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
// Credits and compliance report

const credits = z.bigint();
const STATUS_LABEL: Record<ComplianceStatus | 'awaiting-compliance', { label: string; tone: string }> = {
  'no-obligation': { label: 'No obligation', tone: 'green' },
  compliant: { label: 'Compliant', tone: 'green' },
  'compliant-by-buy-out': { label: 'Compliant by buy-out', tone: 'amber' },
  outstanding: { label: 'Buy-out outstanding', tone: 'red' },
  'awaiting-compliance': { label: 'Awaiting compliance', tone: '' },
};

export const CreditsReportModel = z.object({
  financialYear: text,
  scope: text,
  closedAt: text,
  closedBy: text,
  departments: z.array(
    z.object({
      code: text,
      name: text,
      savingsTargetPence: pence,
      verifiedCashablePence: pence,
      verifiedOtherPence: pence,
      creditsIssued: credits,
      obligationCredits: credits,
      status: text,
      tone: text,
    }),
  ),
  totals: z.object({ creditsIssued: credits, obligationCredits: credits }),
  issuances: z.array(
    z.object({
      code: text,
      name: text,
      creditsIssued: credits,
      obligationCredits: credits,
      verifiedCashablePence: pence,
      transferId: text.nullable(),
      provenance: z.array(z.object({ caseReference: text, place: text, line: z.number(), reportId: text, verifiedPence: pence })),
    }),
  ),
  market: z.object({
    status: text,
    floorPence: pence.nullable(),
    ceilingPence: pence.nullable(),
  }),
  /** Null for a reader who may not see the trades. */
  trades: z
    .object({
      rows: z.array(
        z.object({
          executedAt: text,
          seller: text,
          buyer: text,
          vintage: text,
          quantity: credits,
          pricePence: pence,
          valuePence: pence,
          venue: text,
        }),
      ),
      count: z.number(),
      volume: credits,
      valuePence: pence,
      vwapPence: pence.nullable(),
    })
    .nullable(),
  /** Null until compliance has run for the year. */
  compliance: z
    .object({
      ranAt: text,
      ranBy: text,
      ceilingPence: pence,
      surrenders: z.array(z.object({ department: text, vintage: text, credits: credits, transferId: text })),
      buyOuts: z.array(
        z.object({
          department: text,
          shortfallCredits: credits,
          duePence: pence,
          paidPence: pence,
          outstandingPence: pence,
          transferId: text.nullable(),
        }),
      ),
      totals: z.object({ surrenderedCredits: credits, buyOutPaidPence: pence, buyOutOutstandingPence: pence }),
    })
    .nullable(),
});

/**
 * The credits and compliance report for a closed year: each department's target against its
 * verified savings, the credits issued (with the verified reports behind them) and obligations,
 * the market's prices and trades, surrenders, buy-outs and each department's compliance status.
 * Figures are the credits API's own: `getYearClose`, `issuanceWithProvenance`, `marketState`,
 * `listTrades` and `getCompliance`. Readers: treasury, auditors, the panel and departments; a
 * department sees its own rows (and the market's totals), as in the API; the trades are left
 * out for the panel, which may not read them. Refusals: forbidden (403), year-close-not-found
 * (404, the year is not closed).
 */
export async function buildCreditsReport(db: Db, p: Principal, fy: string, now: Date): Promise<BuiltDocument> {
  if (!CREDITS_REPORT_READERS.includes(p.role))
    throw forbidden(`The credits and compliance report is for ${CREDITS_REPORT_READERS.join(', ')}; you are signed in as ${p.role}.`);
  await getFinancialYear(db, fy);
  const only = p.role === 'department' ? (p.organisationCode ?? '') : undefined;
  const close = await getYearClose(db, fy, only);
  const [ctx, issuances, market, trades, compliance] = await Promise.all([
    context(db, now),
    only ? issuanceWithProvenance(db, fy, only).then((i) => [i]) : issuancesOfYear(db, fy),
    marketState(db, fy),
    TRADE_READERS.includes(p.role) ? listTrades(db, fy, only) : null,
    getCompliance(db, fy, only).catch((error: unknown): ComplianceRun | null => {
      if (error instanceof DomainError && error.type === 'compliance-run-not-found') return null;
      throw error;
    }),
  ]);
  const statusOf = new Map(compliance?.results.map((r) => [r.departmentCode, r.status]) ?? []);
  const scope = only
    ? `${ctx.orgName(only)} only; the market's prices and totals are the whole market's.`
    : trades === null
      ? 'Every department set up in the year; trades are not listed for this reader.'
      : 'Every department set up in the year.';
  const withCredits = (i: Issuance) => i.creditsIssued > 0n || i.provenance.length > 0;
  const model = CreditsReportModel.parse({
    financialYear: fy,
    scope,
    closedAt: close.closedAt,
    closedBy: ctx.userName(close.closedBy),
    departments: close.departments.map((d) => {
      const status = STATUS_LABEL[compliance ? (statusOf.get(d.departmentCode) ?? 'no-obligation') : 'awaiting-compliance'];
      return {
        code: d.departmentCode,
        name: ctx.orgName(d.departmentCode),
        savingsTargetPence: d.savingsTargetPence,
        verifiedCashablePence: d.verifiedCashablePence,
        verifiedOtherPence: d.verifiedOtherPence,
        creditsIssued: d.creditsIssued,
        obligationCredits: d.obligationCredits,
        status: status.label,
        tone: status.tone,
      };
    }),
    totals: close.totals,
    issuances: issuances.filter(withCredits).map((i) => ({
      code: i.departmentCode,
      name: ctx.orgName(i.departmentCode),
      creditsIssued: i.creditsIssued,
      obligationCredits: i.obligationCredits,
      verifiedCashablePence: i.verifiedCashablePence,
      transferId: i.transferId,
      provenance: i.provenance.map((l) => ({
        caseReference: l.caseReference,
        place: ctx.placeName(l.placeCode),
        line: l.benefitLineIndex + 1,
        reportId: l.reportId,
        verifiedPence: l.verifiedPence,
      })),
    })),
    market: {
      status: market.status,
      floorPence: market.prices?.floorPence ?? null,
      ceilingPence: market.prices?.ceilingPence ?? null,
    },
    trades: trades && {
      rows: trades.trades.map((t) => ({
        executedAt: t.executedAt,
        seller: t.sellerCode,
        buyer: t.buyerCode,
        vintage: t.vintage,
        quantity: t.quantity,
        pricePence: t.pricePence,
        valuePence: t.valuePence,
        venue: t.bilateralId ? 'bilateral' : 'order book',
      })),
      count: trades.market.trades,
      volume: trades.market.volume,
      valuePence: trades.market.valuePence,
      vwapPence: trades.market.vwapPence,
    },
    compliance: compliance && {
      ranAt: compliance.ranAt,
      ranBy: ctx.userName(compliance.ranBy),
      ceilingPence: compliance.ceilingPence,
      surrenders: compliance.results.flatMap((r) =>
        r.surrendered.map((s) => ({
          department: ctx.orgName(r.departmentCode),
          vintage: s.vintage,
          credits: s.credits,
          transferId: s.transferId,
        })),
      ),
      buyOuts: compliance.results
        .filter((r) => r.shortfallCredits > 0n)
        .map((r) => ({
          department: ctx.orgName(r.departmentCode),
          shortfallCredits: r.shortfallCredits,
          duePence: r.buyOutDuePence,
          paidPence: r.buyOutPaidPence,
          outstandingPence: r.buyOutOutstandingPence,
          transferId: r.buyOutTransferId,
        })),
      totals: compliance.totals,
    },
  });
  return {
    template: 'credits',
    model,
    page: {
      title: `Savings credits and compliance ${fy}`,
      reference: only ? `CR-${fy}-${only}` : trades === null ? `CR-${fy}-NO-TRADES` : `CR-${fy}`,
      subtitle: `HM Treasury · ${scope}`,
      dateLabel: ctx.dateLabel,
    },
    filename: only ? `credits-${fy}-${only}.pdf` : `credits-${fy}.pdf`,
  };
}

// ---------------------------------------------------------------------------------------------

/** How a rendered PDF is answered, to the API and the pages alike: shown in the browser, never cached. */
export function pdfHeaders(built: BuiltDocument): Record<string, string> {
  return {
    'content-type': 'application/pdf',
    'content-disposition': `inline; filename="${built.filename}"`,
    'cache-control': 'private, no-store',
  };
}

/** Renders a built document to PDF bytes. */
export async function renderBuilt(renderer: Renderer, templates: TemplateSet, built: BuiltDocument): Promise<Uint8Array> {
  const html = templates.render(built.template, built.model, built.page);
  return renderer.render(html, built.page);
}
