import type { Principal } from '../users/users.ts';

/*
 * How a case moves between statuses, and who may read it in each. The one place for both rules.
 *
 * The lifecycle: a council drafts a case and submits it; the panel approves, rejects or defers a
 * submitted (or deferred) case; the panel or treasury terminates an approved award. Nothing else
 * moves a case: a rejected or terminated case stays so, and only a draft can be edited.
 *
 * Draft privacy, in the users' words: **a council may not read another council's draft** — and
 * nobody else may either. A draft is its lead council's alone until it is submitted; to anyone
 * else it does not exist (404, not 403, so a draft's existence is not given away). Once submitted
 * the panel, treasury and auditors read every case, and a department the cases that name it as a
 * beneficiary.
 */

export const CASE_STATUSES = ['draft', 'submitted', 'approved', 'rejected', 'deferred', 'terminated'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** Each move a case can make: the statuses it may start from, the status it ends in, and the operation that makes it. */
export const CASE_MOVES = {
  submit: { from: ['draft'], to: 'submitted', by: 'submitCase (the lead council)' },
  approve: { from: ['submitted', 'deferred'], to: 'approved', by: 'decide (the panel)' },
  reject: { from: ['submitted', 'deferred'], to: 'rejected', by: 'decide (the panel)' },
  defer: { from: ['submitted', 'deferred'], to: 'deferred', by: 'decide (the panel)' },
  terminate: { from: ['approved'], to: 'terminated', by: 'terminateCase (the panel or treasury)' },
} as const satisfies Record<string, { from: readonly CaseStatus[]; to: CaseStatus; by: string }>;

export type CaseMove = keyof typeof CASE_MOVES;

/** Whether a case in `status` may make `move`. */
export function mayMove(move: CaseMove, status: CaseStatus): boolean {
  return (CASE_MOVES[move].from as readonly CaseStatus[]).includes(status);
}

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
