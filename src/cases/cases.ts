import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { isWhollyCashable, lineChoiceErrors, MAX_YEAR_INDEX } from '../appraisal/engine.ts';
import type { AppraisalResult } from '../appraisal/types.ts';
import { appendAudit, SUBJECT } from '../audit/audit.ts';
import type { Tx } from '../db/database.ts';
import { parseFinancialYear } from '../fund/fund.ts';
import { DomainError, type FieldError, forbidden, invalid } from '../lib/errors.ts';
import type { Pence } from '../lib/money.ts';
import { type Act, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { departmentOfSome } from '../reference/reference.ts';
import { getRound } from '../rounds/rounds.ts';
import { getUnitCosts } from '../unit-costs/unit-costs.ts';
import { actorOf, type Principal } from '../users/users.ts';
import { appraiseCase, storeAppraisal } from './appraisal.ts';
import { eligibility } from './eligibility.ts';
import { mayMove, moveCase } from './lifecycle.ts';
import { type BenefitLine, type Case, type CaseInput, storedDocument } from './records.ts';
import { CASES_REFUSALS } from './refusals.ts';
import { lockOwnCase } from './visibility.ts';

/*
 * Drafting and submitting a spend-to-save business case in the Green Book five-case shape. A
 * council drafts it, edits its lines and costs while the appraisal updates, and submits it to an
 * open round once it passes the eligibility gates (./eligibility.ts); from then on it is read-only.
 * Who may see it in each status is ./visibility.ts; how it moves between statuses, ./lifecycle.ts.
 */

// ---------------------------------------------------------------------------------------------
// Drafting

/*
 * A case's reference: TP-<financial year>-<number>, numbered from 001 in each financial year in
 * the order cases are drafted, at least three digits (TP-2026-27-001 … TP-2026-27-999, then
 * TP-2026-27-1000). The year's last number is kept (case_reference_counters), so drafting a case
 * reads one row however many cases the year holds; the row's update also orders two councils
 * drafting at once, so two cases never take one number.
 */

/** The reference of the `number`th case of financial year `fy`. */
export function caseReference(fy: string, number: number): string {
  return `TP-${fy}-${String(number).padStart(3, '0')}`;
}

/** Takes the next case number of financial year `fy` (1 for its first case), inside `trx`. */
export async function nextCaseNumber(trx: Tx, fy: string): Promise<number> {
  const row = await trx
    .insertInto('case_reference_counters')
    .values({ financial_year: fy, last_number: 1 })
    .onConflict((oc) => oc.column('financial_year').doUpdateSet({ last_number: sql`case_reference_counters.last_number + 1` }))
    .returning('last_number')
    .executeTakeFirstOrThrow();
  return Number(row.last_number);
}

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
    const number = await nextCaseNumber(trx, round.financialYear);
    const at = now.toISOString();
    const c: Case = {
      ...documentOf(input, benefits),
      id: randomUUID(),
      reference: caseReference(round.financialYear, number),
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
        subject: SUBJECT.case(c.id),
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
      throw refuse(CASES_REFUSALS, 'case-not-draft', `Case ${existing.reference} was submitted and is read-only.`);
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
      { actor: actorOf(p), action: 'case.edited', subject: SUBJECT.case(c.id), detail: { revision: c.revision }, requestId },
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
  // Only the organisations the case names: the table holds every council and partner body.
  const named = [
    ...new Set([
      lead,
      ...input.partnerCodes,
      ...input.costs.map((l) => l.payerCode),
      ...input.benefits.flatMap((b) => (b.beneficiaryCode ? [b.beneficiaryCode] : [])),
    ]),
  ];
  const orgs = new Map(
    (await trx.selectFrom('organisations').select(['code', 'kind', 'place_code']).where('code', 'in', named).execute()).map((o) => [
      o.code,
      o,
    ]),
  );
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
  const departmentOf = await departmentOfSome(trx, named);
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
// Submission

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
      throw refuse(CASES_REFUSALS, 'case-not-draft', `Case ${c.reference} was submitted on ${c.submittedAt}.`);
    const round = await getRound(trx, c.roundId);
    const failures = eligibility(c, round, now.toISOString().slice(0, 10));
    if (failures.length > 0) {
      throw refuse(
        CASES_REFUSALS,
        'case-not-eligible',
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
        subject: SUBJECT.case(id),
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
