import type { Case } from '../cases/records.ts';
import type { Db, Tx } from '../db/database.ts';
import { refuse } from '../lib/refusals.ts';
import type { Principal } from '../users/users.ts';
import { PANEL_REFUSALS } from './refusals.ts';

/*
 * A declared conflict of interest: a panel member who declared one in a case neither scores,
 * moderates, decides nor approves its releases. A leaf module, so the panel and releases can both
 * ask without importing each other.
 */

/** Whether the user has declared a conflict of interest in the case. */
export async function isConflicted(db: Db | Tx, caseId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('panel_conflicts')
    .select('user_id')
    .where('case_id', '=', caseId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return !!row;
}

/** Refuses (`conflict-of-interest`, 403) a member who declared a conflict in the case. */
export async function assertNotConflicted(db: Db | Tx, c: Case, p: Principal): Promise<void> {
  if (await isConflicted(db, c.id, p.userId)) throw conflictOfInterest(c);
}

/** The refusal (`conflict-of-interest`, 403) of a member who declared a conflict in the case, for a caller that has read the case's conflicts. */
export function conflictOfInterest(c: Pick<Case, 'reference'>) {
  return refuse(
    PANEL_REFUSALS,
    'conflict-of-interest',
    `You declared a conflict of interest in ${c.reference}, so you can neither score nor decide it.`,
  );
}
