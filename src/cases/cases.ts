import { randomUUID } from 'node:crypto';
import { AppraisalInputError, appraise, isWhollyCashable, lineChoiceErrors, MAX_YEAR_INDEX } from '../appraisal/engine.ts';
import { getDeflatorTable, getParameterSet } from '../appraisal/library.ts';
import type { AppraisalInput, AppraisalResult, BenefitType, ConfidenceGrade, DiscountScheduleName } from '../appraisal/types.ts';
import { appendAudit } from '../audit/audit.ts';
import { type Db, isPostgres, type Tx } from '../db/database.ts';
import { parseFinancialYear } from '../fund/fund.ts';
import { conflict, DomainError, type FieldError, forbidden, invalid, notFound, unprocessable } from '../lib/errors.ts';
import type { Pence } from '../lib/money.ts';
import { type Act, operation } from '../lib/operation.ts';
import { departmentOfEach } from '../reference/reference.ts';
import { getRound, type Round, roundStatus } from '../rounds/rounds.ts';
import { getUnitCosts } from '../unit-costs/unit-costs.ts';
import { actorOf, type Principal } from '../users/users.ts';
import { CASE_MOVES, type CaseMove, type CaseStatus, isLeadCouncil, mayMove, mayReadCase, SUBMITTED_STATUSES } from './lifecycle.ts';

/*
 * A spend-to-save business case in the Green Book five-case shape. A council drafts it (only
 * the council sees a draft), edits it while the appraisal updates, and submits it to an open
 * round once it passes the eligibility gates; from then on it is read-only and visible to the
 * panel, treasury, auditors and the departments it names as beneficiaries.
 */

export const NARRATIVE_SECTIONS = ['strategic', 'economic', 'commercial', 'financial', 'management'] as const;
export type NarrativeSection = (typeof NARRATIVE_SECTIONS)[number];
export type { CaseStatus } from './lifecycle.ts';

export interface CostLine {
  year: string;
  kind: 'revenue' | 'capital';
  payerCode: string;
  amountPence: Pence;
  confidenceGrade: ConfidenceGrade;
}

export interface BenefitLineInput {
  outcome: string;
  beneficiaryCode?: string | null;
  type: BenefitType;
  /** Wholly cashable or not; or give cashableBasisPoints (a fiscal line's cashable share). */
  cashable?: boolean;
  cashableBasisPoints?: number;
  unitCostCode?: string;
  unitValuePence?: Pence;
  priceYear?: string;
  source?: string;
  /** Engaged cohort by year; or `need` by year with `engagementBasisPoints`. */
  volumes?: Record<string, number>;
  need?: Record<string, number>;
  engagementBasisPoints?: number;
  impactBasisPoints: number;
  deadweightBasisPoints: number;
  displacementBasisPoints?: number;
  lagYears?: number;
  dropOffBasisPoints?: number;
  persistenceYears: number;
  confidenceGrade: ConfidenceGrade;
}

/**
 * A benefit line as stored: its unit value resolved (from the Unit Cost Database if picked from it), and
 * `cashable` always present: true only for a wholly cashable line (a partly cashable line keeps its share in
 * `cashableBasisPoints` and counts as not cashable where a yes/no is needed, such as the benefits register).
 */
export interface BenefitLine extends Omit<BenefitLineInput, 'unitValuePence' | 'priceYear' | 'source' | 'beneficiaryCode' | 'cashable'> {
  beneficiaryCode: string | null;
  cashable: boolean;
  unitCostCode?: string;
  unitValuePence: Pence;
  priceYear: string;
  source: string;
}

export interface CaseInput {
  roundId: string;
  title: string;
  placeCode: string;
  theme: string;
  partnerCodes: string[];
  matchFundingPence: Pence;
  baseYear: string;
  discountSchedule?: DiscountScheduleName;
  narrative: Record<NarrativeSection, string>;
  costs: CostLine[];
  benefits: BenefitLineInput[];
}

export interface Case {
  id: string;
  reference: string;
  roundId: string;
  leadCouncilCode: string;
  status: CaseStatus;
  revision: number;
  title: string;
  placeCode: string;
  theme: string;
  partnerCodes: string[];
  matchFundingPence: Pence;
  baseYear: string;
  discountSchedule: DiscountScheduleName;
  narrative: Record<NarrativeSection, string>;
  costs: CostLine[];
  benefits: BenefitLine[];
  totalCostsPence: Pence;
  /** What the case asks of the fund: total costs less match funding. */
  requestedPence: Pence;
  createdAt: string;
  updatedAt: string;
  submittedAt: string | null;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Refuses (`case-not-found`) a principal who may not read the case (draft privacy, ./lifecycle.ts `mayReadCase`). */
export async function assertCanRead(db: Db | Tx, p: Principal, c: Case): Promise<void> {
  const namesDepartment =
    p.role === 'department' &&
    !!p.organisationCode &&
    !!(await db
      .selectFrom('case_beneficiaries')
      .select('organisation_code')
      .where('case_id', '=', c.id)
      .where('organisation_code', '=', p.organisationCode)
      .executeTakeFirst());
  if (!mayReadCase(p, c, namesDepartment)) throw notFound('case', `There is no case ${c.id}.`);
}

export async function getCase(db: Db | Tx, id: string): Promise<Case> {
  const row = await db.selectFrom('cases').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('case', `There is no case ${id}.`);
  return caseFromRow(row);
}

/**
 * Reads a case to change it. On PostgreSQL this takes the case row's lock, so every change to
 * one case (edit, submit, score, decide, claim, approve, report) runs one after another and each
 * sees the state the last one left; SQLite writers already run one at a time. Lock order:
 * case, then ledger accounts, then the audit head.
 */
export async function lockCase(trx: Tx, id: string): Promise<Case> {
  if (isPostgres(trx)) await trx.selectFrom('cases').select('id').where('id', '=', id).forUpdate().execute();
  return getCase(trx, id);
}

/**
 * Locks a case its lead council acts on (edit, submit, claim, report). Anyone else is told there
 * is no such case (`case-not-found`), as draft privacy asks.
 */
export async function lockOwnCase(trx: Tx, id: string, p: Principal): Promise<Case> {
  const c = await lockCase(trx, id);
  if (!isLeadCouncil(p, c)) throw notFound('case', `There is no case ${id}.`);
  return c;
}

/**
 * Locks a submitted case the panel or treasury acts on (score, decide, override, terminate, claw
 * back). A draft is its council's alone (`case-not-found`).
 */
export async function lockSubmittedCase(trx: Tx, id: string): Promise<Case> {
  const c = await lockCase(trx, id);
  if (!SUBMITTED_STATUSES.includes(c.status)) throw notFound('case', `There is no case ${id}.`);
  return c;
}

/**
 * Moves a locked case along its lifecycle (./lifecycle.ts `CASE_MOVES`); the caller has already
 * refused a move the table does not allow with its own named refusal. Returns the new status.
 */
export async function moveCase(
  trx: Tx,
  c: Case,
  move: CaseMove,
  at: string,
  also: { submitted_at?: string; submitted_by?: string } = {},
): Promise<CaseStatus> {
  const { from, to } = CASE_MOVES[move];
  if (!mayMove(move, c.status)) throw new Error(`A case that is ${c.status} cannot ${move}`);
  await trx
    .updateTable('cases')
    .set({ status: to, updated_at: at, ...also })
    .where('id', '=', c.id)
    .where('status', 'in', [...from])
    .execute();
  return to;
}

export async function getReadableCase(db: Db | Tx, p: Principal, id: string): Promise<Case> {
  const c = await getCase(db, id);
  await assertCanRead(db, p, c);
  return c;
}

/** The cases a user may see (draft privacy, ./lifecycle.ts: the same rule as `mayReadCase`, in SQL), optionally in one round or status. */
export async function listCases(db: Db | Tx, p: Principal, filter: { roundId?: string; status?: CaseStatus } = {}): Promise<Case[]> {
  let q = db.selectFrom('cases').selectAll('cases');
  if (filter.roundId) q = q.where('round_id', '=', filter.roundId);
  if (filter.status) q = q.where('status', '=', filter.status);
  if (p.role === 'council') {
    q = q.where('lead_council_code', '=', p.organisationCode ?? '');
  } else if (p.role === 'department') {
    q = q.where('status', 'in', SUBMITTED_STATUSES).where(
      'id',
      'in',
      db
        .selectFrom('case_beneficiaries')
        .select('case_id')
        .where('organisation_code', '=', p.organisationCode ?? ''),
    );
  } else {
    q = q.where('status', 'in', SUBMITTED_STATUSES);
  }
  const rows = await q.orderBy('reference').execute();
  return rows.map(caseFromRow);
}

// ---------------------------------------------------------------------------------------------
// Drafting

/**
 * A council drafts a business case for itself in an open round (the five-case narrative, cost
 * and benefit lines in pence). Changes: the draft case (revision 1), an audit entry.
 * Refusals: `forbidden` only.
 */
export const createCase = operation(
  { roles: ['council'], organisation: 'a council files cases for itself', refuses: [] },
  async ({ trx, principal: p, requestId, now }: Act, input: CaseInput): Promise<Case> => {
    const lead = councilOf(p);
    const round = await getRound(trx, input.roundId).catch((e) => {
      throw e instanceof DomainError ? invalid([{ pointer: '/roundId', detail: `there is no funding round ${input.roundId}` }]) : e;
    });
    const benefits = await checkCase(trx, input, lead);
    // References run from 001 in each financial year.
    const count = await trx
      .selectFrom('cases')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('reference', 'like', `TP-${round.financialYear}-%`)
      .executeTakeFirstOrThrow();
    const at = now.toISOString();
    const c: Case = {
      ...documentOf(input, benefits),
      id: randomUUID(),
      reference: `TP-${round.financialYear}-${String(Number(count.n) + 1).padStart(3, '0')}`,
      roundId: round.id,
      leadCouncilCode: lead,
      status: 'draft',
      revision: 1,
      createdAt: at,
      updatedAt: at,
      submittedAt: null,
    };
    await trx
      .insertInto('cases')
      .values({
        id: c.id,
        reference: c.reference,
        round_id: c.roundId,
        lead_council_code: lead,
        status: c.status,
        revision: c.revision,
        document: storedDocument(c),
        created_at: at,
        created_by: p.userId,
        updated_at: at,
        submitted_at: null,
        submitted_by: null,
      })
      .execute();
    await saveBeneficiaries(trx, c);
    await appendAudit(
      trx,
      {
        actor: actorOf(p),
        action: 'case.drafted',
        subject: `case/${c.id}`,
        detail: { reference: c.reference, title: c.title, revision: 1 },
        requestId,
      },
      now,
    );
    return c;
  },
);

/**
 * A council replaces its own draft with `input` (a new revision). Changes: the case, an audit entry.
 * Refusals: `forbidden`; case-not-found (404), case-not-draft (409).
 */
export const updateCase = operation(
  { roles: ['council'], organisation: "the case's lead council", refuses: ['case-not-found', 'case-not-draft'] },
  async ({ trx, principal: p, requestId, now }: Act, id: string, input: CaseInput): Promise<Case> => {
    const lead = councilOf(p);
    const existing = await lockOwnCase(trx, id, p);
    if (existing.status !== 'draft') {
      throw conflict('case-not-draft', 'Case is no longer a draft', `Case ${existing.reference} was submitted and is read-only.`);
    }
    if (input.roundId !== existing.roundId) {
      throw invalid([
        { pointer: '/roundId', detail: `a draft stays in its round (${existing.roundId}); start a new case for another round` },
      ]);
    }
    const benefits = await checkCase(trx, input, lead);
    const c: Case = { ...existing, ...documentOf(input, benefits), revision: existing.revision + 1, updatedAt: now.toISOString() };
    await trx
      .updateTable('cases')
      .set({ document: storedDocument(c), revision: c.revision, updated_at: c.updatedAt })
      .where('id', '=', id)
      .where('status', '=', 'draft')
      .execute();
    await saveBeneficiaries(trx, c);
    await appendAudit(
      trx,
      { actor: actorOf(p), action: 'case.edited', subject: `case/${c.id}`, detail: { revision: c.revision }, requestId },
      now,
    );
    return c;
  },
);

function councilOf(p: Principal): string {
  if (p.role !== 'council' || !p.organisationCode) throw forbidden('Only a council drafts cases.');
  return p.organisationCode;
}

/**
 * Everything about a draft that can be checked on its own: codes exist, the lead council is
 * in the place, years are real financial years on or after the base year, each benefit line
 * has exactly one unit value. Returns the benefit lines with their unit values resolved.
 */
async function checkCase(trx: Tx, input: CaseInput, lead: string): Promise<BenefitLine[]> {
  const errors: FieldError[] = [];
  const orgs = new Map((await trx.selectFrom('organisations').select(['code', 'kind', 'place_code']).execute()).map((o) => [o.code, o]));
  const place = await trx.selectFrom('places').select(['code', 'theme_codes']).where('code', '=', input.placeCode).executeTakeFirst();
  if (!place) errors.push({ pointer: '/placeCode', detail: `there is no place ${input.placeCode}` });
  else if (orgs.get(lead)?.place_code !== input.placeCode) {
    errors.push({
      pointer: '/placeCode',
      detail: `${lead} is not a council of ${input.placeCode}; a council leads cases in its own place`,
    });
  }
  const theme = await trx.selectFrom('themes').select('code').where('code', '=', input.theme).executeTakeFirst();
  if (!theme) errors.push({ pointer: '/theme', detail: `there is no theme ${input.theme}` });
  input.partnerCodes.forEach((code, i) => {
    if (!orgs.has(code)) errors.push({ pointer: `/partnerCodes/${i}`, detail: `there is no organisation ${code}` });
    else if (code === lead) errors.push({ pointer: `/partnerCodes/${i}`, detail: 'the lead council is not its own partner' });
  });
  if (new Set(input.partnerCodes).size !== input.partnerCodes.length)
    errors.push({ pointer: '/partnerCodes', detail: 'lists a partner twice' });

  const base = parseFinancialYear(input.baseYear);
  if (!base) errors.push({ pointer: '/baseYear', detail: 'must be a financial year as YYYY-YY, e.g. 2026-27' });
  const checkYear = (year: string, pointer: string) => {
    if (!parseFinancialYear(year)) errors.push({ pointer, detail: 'must be a financial year as YYYY-YY, e.g. 2027-28' });
    else if (base && year < input.baseYear) errors.push({ pointer, detail: `is before the base year ${input.baseYear}` });
    else if (base && Number(year.slice(0, 4)) - Number(input.baseYear.slice(0, 4)) > MAX_YEAR_INDEX) {
      errors.push({ pointer, detail: `is more than ${MAX_YEAR_INDEX} years after the base year` });
    }
  };

  let total = 0n;
  input.costs.forEach((line, i) => {
    checkYear(line.year, `/costs/${i}/year`);
    if (!orgs.has(line.payerCode)) errors.push({ pointer: `/costs/${i}/payerCode`, detail: `there is no organisation ${line.payerCode}` });
    total += line.amountPence;
  });
  if (input.matchFundingPence > total) {
    errors.push({ pointer: '/matchFundingPence', detail: 'cannot be more than the total of the cost lines' });
  }

  const unitCosts = await getUnitCosts(
    trx,
    input.benefits.flatMap((b) => (b.unitCostCode ? [b.unitCostCode] : [])),
  );
  const benefits: BenefitLine[] = [];
  input.benefits.forEach((line, i) => {
    const at = `/benefits/${i}`;
    const choices = lineChoiceErrors(line, i);
    errors.push(...choices);
    if (choices.length > 0) return;
    const field = line.need !== undefined ? 'need' : 'volumes';
    for (const [year, volume] of Object.entries(line.need ?? line.volumes ?? {})) {
      checkYear(year, `${at}/${field}/${year}`);
      if (!Number.isSafeInteger(volume) || volume < 0)
        errors.push({ pointer: `${at}/${field}/${year}`, detail: 'must be a whole number, 0 or more' });
    }
    const cashable = line.cashableBasisPoints === undefined ? line.cashable === true : isWhollyCashable(line.cashableBasisPoints);
    const beneficiary = line.beneficiaryCode ?? null;
    if (beneficiary !== null && !orgs.has(beneficiary))
      errors.push({ pointer: `${at}/beneficiaryCode`, detail: `there is no organisation ${beneficiary}` });
    if (line.type === 'fiscal' && beneficiary === null && !line.unitCostCode) {
      errors.push({ pointer: `${at}/beneficiaryCode`, detail: 'a fiscal benefit must name the organisation that saves' });
    }
    const stated = line.unitValuePence !== undefined || line.priceYear !== undefined || line.source !== undefined;
    if (line.unitCostCode && stated) {
      errors.push({
        pointer: `${at}/unitCostCode`,
        detail: 'give either unitCostCode or unitValuePence with priceYear and source, not both',
      });
      return;
    }
    if (line.unitCostCode) {
      const uc = unitCosts.get(line.unitCostCode);
      if (!uc) {
        errors.push({ pointer: `${at}/unitCostCode`, detail: `there is no unit cost ${line.unitCostCode} in the Unit Cost Database` });
        return;
      }
      if (uc.valuePence === null || !uc.priceYear) {
        errors.push({
          pointer: `${at}/unitCostCode`,
          detail: `unit cost ${uc.code} has no value; state one with its price year and source`,
        });
        return;
      }
      const who = beneficiary ?? uc.departmentCode;
      if (line.type === 'fiscal' && who === null) {
        errors.push({
          pointer: `${at}/beneficiaryCode`,
          detail: `${uc.code} is paid by ${uc.agency ?? 'several agencies'}: name the organisation that saves`,
        });
        return;
      }
      benefits.push({
        ...line,
        cashable,
        beneficiaryCode: who,
        unitValuePence: uc.valuePence,
        priceYear: uc.priceYear.replace('/', '-'),
        source: `Unit Cost Database v1.4 ${uc.code}: ${uc.description} (${uc.unit ?? 'per unit'})`,
      });
      return;
    }
    const missing = (['unitValuePence', 'priceYear', 'source'] as const).filter((k) => line[k] === undefined);
    if (missing.length > 0) {
      errors.push({ pointer: `${at}/unitCostCode`, detail: `pick a unitCostCode, or state ${missing.join(', ')}` });
      return;
    }
    if (!parseFinancialYear((line.priceYear as string).replace('/', '-'))) {
      errors.push({ pointer: `${at}/priceYear`, detail: 'must be a financial year as YYYY-YY, e.g. 2019-20' });
      return;
    }
    benefits.push({
      ...line,
      cashable,
      beneficiaryCode: beneficiary,
      unitValuePence: line.unitValuePence as Pence,
      priceYear: (line.priceYear as string).replace('/', '-'),
      source: line.source as string,
    });
  });
  if (errors.length > 0) throw invalid(errors, `The case has ${errors.length} problem${errors.length === 1 ? '' : 's'}.`);
  return benefits;
}

function documentOf(input: CaseInput, benefits: BenefitLine[]) {
  const total = input.costs.reduce((s, c) => s + c.amountPence, 0n);
  return {
    title: input.title,
    placeCode: input.placeCode,
    theme: input.theme,
    partnerCodes: input.partnerCodes,
    matchFundingPence: input.matchFundingPence,
    baseYear: input.baseYear,
    discountSchedule: input.discountSchedule ?? ('standard' as const),
    narrative: input.narrative,
    costs: input.costs,
    benefits,
    totalCostsPence: total,
    requestedPence: total - input.matchFundingPence,
  };
}

/** Who a case names as saving money: each beneficiary, and the department a partner body answers to. */
async function saveBeneficiaries(trx: Tx, c: Case): Promise<void> {
  const named = [...new Set(c.benefits.flatMap((b) => (b.beneficiaryCode ? [b.beneficiaryCode] : [])))];
  const departmentOf = await departmentOfEach(trx);
  const all = [...new Set([...named, ...named.flatMap((code) => departmentOf.get(code) ?? [])])].sort();
  await trx.deleteFrom('case_beneficiaries').where('case_id', '=', c.id).execute();
  if (all.length > 0) {
    await trx
      .insertInto('case_beneficiaries')
      .values(all.map((code) => ({ case_id: c.id, organisation_code: code })))
      .execute();
  }
}

// ---------------------------------------------------------------------------------------------
// Appraisal

export function appraisalInputOf(c: Case): AppraisalInput {
  return {
    baseYear: c.baseYear,
    discountSchedule: c.discountSchedule,
    costs: c.costs.map((l) => ({ ...l })),
    benefits: c.benefits.map((b) => ({
      outcome: b.outcome,
      beneficiaryCode: b.beneficiaryCode,
      type: b.type,
      // A stored line always has `cashable`; its share, when given, is what counts.
      ...(b.cashableBasisPoints === undefined ? { cashable: b.cashable } : { cashableBasisPoints: b.cashableBasisPoints }),
      unitValuePence: b.unitValuePence,
      priceYear: b.priceYear,
      ...(b.need === undefined ? { volumes: b.volumes } : { need: b.need, engagementBasisPoints: b.engagementBasisPoints }),
      impactBasisPoints: b.impactBasisPoints,
      deadweightBasisPoints: b.deadweightBasisPoints,
      ...(b.displacementBasisPoints === undefined ? {} : { displacementBasisPoints: b.displacementBasisPoints }),
      ...(b.lagYears === undefined ? {} : { lagYears: b.lagYears }),
      ...(b.dropOffBasisPoints === undefined ? {} : { dropOffBasisPoints: b.dropOffBasisPoints }),
      persistenceYears: b.persistenceYears,
      confidenceGrade: b.confidenceGrade,
    })),
  };
}

/** Appraises a case with its round's parameter set and deflators. Input the engine cannot use is a 422 with pointers. */
export async function appraiseCase(db: Db | Tx, c: Case): Promise<AppraisalResult> {
  const round = await getRound(db, c.roundId);
  const [params, deflators] = await Promise.all([
    getParameterSet(db, round.parameterSet.name, round.parameterSet.version),
    getDeflatorTable(db, round.deflatorEdition),
  ]);
  try {
    const result = appraise(appraisalInputOf(c), params, deflators);
    if (!withinJson(result)) {
      throw unprocessable(
        'appraisal-out-of-range',
        'The appraisal is too large to be a real case',
        `${c.reference}'s figures exceed what money fields can carry exactly (about £90 trillion): check its volumes and unit values.`,
      );
    }
    return result;
  } catch (error) {
    // A draft the engine cannot appraise is not a bad request: it is a case not yet ready.
    if (error instanceof AppraisalInputError) {
      throw new DomainError('unprocessable', 'appraisal-not-possible', 'The case cannot be appraised yet', error.message, {}, error.errors);
    }
    throw error;
  }
}

/**
 * Every figure in a result fits an exact JSON number: amounts and whole numbers are safe integers, and the
 * 4-dp ratios (fiscalRoi, bcr) are below 2^53 / 10^4, so their digits are exact too.
 */
export function withinJson(value: unknown, key = ''): boolean {
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER);
  if (typeof value === 'number') {
    if (key === 'fiscalRoi' || key === 'bcr') return Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER / 10_000;
    return Number.isSafeInteger(value);
  }
  if (Array.isArray(value)) return value.every((v) => withinJson(v));
  if (value !== null && typeof value === 'object') return Object.entries(value).every(([k, v]) => withinJson(v, k));
  return true;
}

/** A submitted case's appraisal as stored at submission; a draft's, computed now. */
export async function caseAppraisal(
  db: Db | Tx,
  c: Case,
): Promise<{ result: AppraisalResult; stored: boolean; computedAt: string | null }> {
  if (c.status !== 'draft') {
    const row = await db.selectFrom('appraisals').selectAll().where('case_id', '=', c.id).orderBy('revision', 'desc').executeTakeFirst();
    if (row) return { result: reviveAppraisal(row.result), stored: true, computedAt: row.computed_at };
  }
  return { result: await appraiseCase(db, c), stored: false, computedAt: null };
}

/** JSON with bigints as `{"$bigint":"…"}`, so a stored appraisal comes back exactly. */
export function storeAppraisal(result: AppraisalResult): string {
  return JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v));
}

export function reviveAppraisal(json: string): AppraisalResult {
  return JSON.parse(json, (_k, v) => (v && typeof v === 'object' && typeof v.$bigint === 'string' ? BigInt(v.$bigint) : v));
}

// ---------------------------------------------------------------------------------------------
// Submission

/** The submission gates, each in the words the API documents it with: `eligibility` checks them all. */
export const SUBMISSION_GATES = {
  'round-open': 'the round is open',
  partners: 'at least two partner bodies',
  'benefits-beyond-lead': 'a benefit to an organisation other than the lead council',
  'match-funding': 'match funding at or above the round minimum',
  narrative: 'all five narrative sections',
  costs: 'cost lines',
  benefits: 'benefit lines',
  theme: 'the round’s themes',
} as const;

export type Gate = keyof typeof SUBMISSION_GATES;

/** The gates as one sentence, for the API's description of submission. */
export function describeGates(): string {
  return `Gates: ${Object.values(SUBMISSION_GATES).join('; ')}.`;
}

export interface GateFailure {
  gate: Gate;
  /** JSON Pointer to the field of the case (as PUT /cases/{id} takes it) that the gate concerns. */
  pointer: string;
  detail: string;
}

/** The eligibility gates, each with its reason; an empty list means the case may be submitted. */
export function eligibility(c: Case, round: Round, today: string): GateFailure[] {
  const failures: GateFailure[] = [];
  const status = roundStatus(round, today);
  if (status !== 'open') {
    failures.push({
      gate: 'round-open',
      pointer: '/roundId',
      detail: status === 'upcoming' ? `Round ${round.id} opens on ${round.opensOn}.` : `Round ${round.id} closed on ${round.closesOn}.`,
    });
  }
  if (c.partnerCodes.length < 2) {
    failures.push({
      gate: 'partners',
      pointer: '/partnerCodes',
      detail: `A case needs at least two partner bodies besides the lead council; it names ${c.partnerCodes.length}.`,
    });
  }
  if (!c.benefits.some((b) => b.beneficiaryCode !== null && b.beneficiaryCode !== c.leadCouncilCode)) {
    failures.push({
      gate: 'benefits-beyond-lead',
      pointer: '/benefits',
      detail: 'At least one benefit must go to an organisation other than the lead council.',
    });
  }
  const matchBp = c.totalCostsPence === 0n ? 0n : (c.matchFundingPence * 10_000n) / c.totalCostsPence;
  if (c.totalCostsPence === 0n || c.matchFundingPence * 10_000n < BigInt(round.minMatchFundingBasisPoints) * c.totalCostsPence) {
    failures.push({
      gate: 'match-funding',
      pointer: '/matchFundingPence',
      detail: `Match funding is ${Number(matchBp) / 100}% of costs; the round needs at least ${round.minMatchFundingBasisPoints / 100}%.`,
    });
  }
  const missing = NARRATIVE_SECTIONS.filter((s) => c.narrative[s].trim().length === 0);
  for (const section of missing)
    failures.push({ gate: 'narrative', pointer: `/narrative/${section}`, detail: `The ${section} case is missing.` });
  if (c.costs.length === 0) failures.push({ gate: 'costs', pointer: '/costs', detail: 'A case needs at least one cost line.' });
  if (c.benefits.length === 0) failures.push({ gate: 'benefits', pointer: '/benefits', detail: 'A case needs at least one benefit line.' });
  if (round.themes.length > 0 && !round.themes.includes(c.theme)) {
    failures.push({
      gate: 'theme',
      pointer: '/theme',
      detail: `Round ${round.id} funds ${round.themes.join(', ')}; this case is filed under ${c.theme}.`,
    });
  }
  return failures;
}

/**
 * A council submits its own draft: the submission gates (`SUBMISSION_GATES`) must pass; the appraisal
 * is stored and the case becomes read-only. Changes: the case's status and appraisal, an audit entry.
 * Refusals: `forbidden`; case-not-found (404), case-not-draft (409), case-not-eligible (422),
 * appraisal-not-possible (422), appraisal-out-of-range (422).
 */
export const submitCase = operation(
  {
    roles: ['council'],
    organisation: "the case's lead council",
    refuses: ['case-not-found', 'case-not-draft', 'case-not-eligible', 'appraisal-not-possible', 'appraisal-out-of-range'],
  },
  async ({ trx, principal: p, requestId, now }: Act, id: string): Promise<{ case: Case; appraisal: AppraisalResult }> => {
    const c = await lockOwnCase(trx, id, p);
    if (!mayMove('submit', c.status))
      throw conflict('case-not-draft', 'Case already submitted', `Case ${c.reference} was submitted on ${c.submittedAt}.`);
    const round = await getRound(trx, c.roundId);
    const failures = eligibility(c, round, now.toISOString().slice(0, 10));
    if (failures.length > 0) {
      throw new DomainError(
        'unprocessable',
        'case-not-eligible',
        'The case cannot be submitted yet',
        failures.map((f) => f.detail).join(' '),
        { failures },
        failures.map((f) => ({ pointer: f.pointer, detail: f.detail })),
      );
    }
    const result = await appraiseCase(trx, c);
    const at = now.toISOString();
    await moveCase(trx, c, 'submit', at, { submitted_at: at, submitted_by: p.userId });
    await trx
      .insertInto('appraisals')
      .values({
        case_id: id,
        revision: c.revision,
        parameter_set_name: result.parameterSet.name,
        parameter_set_version: result.parameterSet.version,
        deflator_edition: round.deflatorEdition,
        result: storeAppraisal(result),
        computed_at: at,
      })
      .execute();
    await appendAudit(
      trx,
      {
        actor: actorOf(p),
        action: 'case.submitted',
        subject: `case/${id}`,
        detail: {
          reference: c.reference,
          revision: c.revision,
          requestedPence: c.requestedPence,
          parameterSet: result.parameterSet,
          bcr: result.bcr,
          vfmBand: result.vfmBand,
          fiscalNpvPence: result.fiscalNpvPence,
        },
        requestId,
      },
      now,
    );
    return { case: { ...c, status: 'submitted', submittedAt: at, updatedAt: at }, appraisal: result };
  },
);

// ---------------------------------------------------------------------------------------------
// Rows

type StoredLine = Record<string, unknown>;

function storedDocument(c: Case): string {
  return JSON.stringify(
    {
      title: c.title,
      placeCode: c.placeCode,
      theme: c.theme,
      partnerCodes: c.partnerCodes,
      matchFundingPence: c.matchFundingPence,
      baseYear: c.baseYear,
      discountSchedule: c.discountSchedule,
      narrative: c.narrative,
      costs: c.costs,
      benefits: c.benefits,
    },
    (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
  );
}

export function caseFromRow(r: {
  id: string;
  reference: string;
  round_id: string;
  lead_council_code: string;
  status: string;
  revision: bigint | number;
  document: string;
  created_at: string;
  updated_at: string;
  submitted_at: string | null;
}): Case {
  const d = JSON.parse(r.document) as Record<string, unknown> & { costs: StoredLine[]; benefits: StoredLine[] };
  const costs = d.costs.map((l) => ({ ...l, amountPence: BigInt(l.amountPence as string) }) as CostLine);
  const benefits = d.benefits.map((l) => ({ ...l, unitValuePence: BigInt(l.unitValuePence as string) }) as BenefitLine);
  const total = costs.reduce((s, l) => s + l.amountPence, 0n);
  const match = BigInt(d.matchFundingPence as string);
  return {
    id: r.id,
    reference: r.reference,
    roundId: r.round_id,
    leadCouncilCode: r.lead_council_code,
    status: r.status as CaseStatus,
    revision: Number(r.revision),
    title: d.title as string,
    placeCode: d.placeCode as string,
    theme: d.theme as string,
    partnerCodes: d.partnerCodes as string[],
    matchFundingPence: match,
    baseYear: d.baseYear as string,
    discountSchedule: d.discountSchedule as DiscountScheduleName,
    narrative: d.narrative as Record<NarrativeSection, string>,
    costs,
    benefits,
    totalCostsPence: total,
    requestedPence: total - match,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    submittedAt: r.submitted_at,
  };
}
