import type { Tx } from '../db/database.ts';

/*
 * How a case moves between statuses. The one place for the rule (who may see a case in each
 * status is ./visibility.ts).
 *
 * In the users' words: a council drafts a case and submits it; the panel approves, rejects or
 * defers a submitted (or deferred) case; the panel or treasury terminates an approved award.
 * Nothing else moves a case: a rejected or terminated case stays so, and only a draft can be edited.
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

/**
 * Moves a locked case along its lifecycle (`CASE_MOVES`); the caller has already
 * refused a move the table does not allow with its own named refusal. Returns the new status.
 */
export async function moveCase(
  trx: Tx,
  c: { id: string; status: CaseStatus },
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
