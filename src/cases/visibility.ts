import type { Db, Tx } from '../db/database.ts';
import { refuse } from '../lib/refusals.ts';
import type { Principal } from '../users/users.ts';
import { CASE_STATUSES, type CaseStatus } from './lifecycle.ts';
import { type Case, caseFromRow, getCase, lockCase } from './records.ts';
import { CASES_REFUSALS } from './refusals.ts';

/*
 * Draft privacy: who may see a case in which status. The one place for the rule.
 *
 * In the users' words: **a council may not read another council's draft** — and nobody else may
 * either. A draft is its lead council's alone until it is submitted; to anyone else it does not
 * exist (404 `case-not-found`, not 403, so a draft's existence is not given away). Once submitted
 * the panel, treasury and auditors read every case, and a department the cases that name it (or a
 * body that answers to it) as a beneficiary. The lead council always sees its own cases.
 *
 * `mayReadCase` states the rule; `listCases` is the same rule in SQL; `getReadableCase`,
 * `lockOwnCase` (a council acting on its own case) and `lockSubmittedCase` (the panel or treasury
 * acting on a submitted one) are the checks every operation and page goes through.
 */

/** Statuses in which only the lead council sees a case (draft privacy). */
export const PRIVATE_STATUSES: readonly CaseStatus[] = ['draft'];

/** Statuses every reader other than the lead council may see: everything once submitted. */
export const SUBMITTED_STATUSES: readonly CaseStatus[] = CASE_STATUSES.filter((s) => !PRIVATE_STATUSES.includes(s));

/** Whether the principal is the case's lead council. */
export function isLeadCouncil(p: Principal, c: { leadCouncilCode: string }): boolean {
  return p.role === 'council' && p.organisationCode === c.leadCouncilCode;
}

/**
 * Whether the principal may read the case (draft privacy, above). `namesDepartment` says whether
 * the case names the principal's department as a beneficiary (only asked for a department).
 */
export function mayReadCase(p: Principal, c: { status: CaseStatus; leadCouncilCode: string }, namesDepartment: boolean): boolean {
  if (isLeadCouncil(p, c)) return true;
  if (PRIVATE_STATUSES.includes(c.status)) return false;
  if (p.role === 'panel' || p.role === 'treasury' || p.role === 'auditor') return true;
  return p.role === 'department' && !!p.organisationCode && namesDepartment;
}

/** Refuses (`case-not-found`) a principal who may not read the case (draft privacy, `mayReadCase`). */
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
  if (!mayReadCase(p, c, namesDepartment)) throw refuse(CASES_REFUSALS, 'case-not-found', `There is no case ${c.id}.`);
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

/**
 * Locks a case its lead council acts on (edit, submit, claim, report). Anyone else is told there
 * is no such case (`case-not-found`), as draft privacy asks.
 */
export async function lockOwnCase(trx: Tx, id: string, p: Principal): Promise<Case> {
  const c = await lockCase(trx, id);
  if (!isLeadCouncil(p, c)) throw refuse(CASES_REFUSALS, 'case-not-found', `There is no case ${id}.`);
  return c;
}

/**
 * Locks a submitted case the panel or treasury acts on (score, decide, override, terminate, claw
 * back). A draft is its council's alone (`case-not-found`).
 */
export async function lockSubmittedCase(trx: Tx, id: string): Promise<Case> {
  const c = await lockCase(trx, id);
  if (!SUBMITTED_STATUSES.includes(c.status)) throw refuse(CASES_REFUSALS, 'case-not-found', `There is no case ${id}.`);
  return c;
}
