import type { Db, Tx } from '../db/database.ts';
import type { Pence } from '../lib/money.ts';
import { accountSponsors, answersFor } from '../users/requests.ts';

/*
 * Four eyes: no one person, acting alone, can release more of an award than the round's
 * two-approver threshold. DESIGN: "nobody approves their own claim"; two approvers above the
 * threshold. The rule, in full:
 *
 * 1. The threshold applies to the award's cumulative releases: a tranche needs two approvals
 *    when what the award has released so far plus this tranche's payment is more than the
 *    threshold, otherwise one. Splitting an award into tranches at the threshold gains nothing.
 * 2. An approver must be independent of the release. Not independent: the claimant; the panel
 *    member who decided to approve the case; a member with a declared conflict in the case; and
 *    anyone who answers for one of their accounts or whose account they answer for (a user
 *    answers for an account they created or asked for, approved as the second treasury user, or
 *    whose token they were handed by re-issuing it).
 * 3. Two approvals count as two only if the approvers are independent of each other in the same
 *    sense. An approval stops counting when its approver declares a conflict before the release.
 * 4. Treasury and panel accounts exist only once a second treasury user, independent of the first
 *    in the sense of 2, approves them (src/users/requests.ts), and their tokens are never
 *    re-issued through the API (src/users/tokens.ts), so one person cannot mint or take over a
 *    second approver; and by 2 and 3 the two treasury users behind an account cannot approve
 *    alongside it either.
 */

/** 1: how many independent approvals a tranche paying `paymentPence` needs. */
export function approvalsNeeded(releasedSoFarPence: Pence, paymentPence: Pence, thresholdPence: Pence): 1 | 2 {
  return releasedSoFarPence + paymentPence > thresholdPence ? 2 : 1;
}

/** The people a release must be independent of, and who answers for whose account. */
export interface ReleaseParties {
  claimantId: string | null;
  deciderIds: string[];
  conflicted: Set<string>;
  sponsors: Map<string, Set<string>>;
}

/** Loads what `independenceProblem` needs for a case's release, for these approvers. */
export async function releaseParties(
  db: Db | Tx,
  caseId: string,
  claimantId: string | null,
  approverIds: string[],
): Promise<ReleaseParties> {
  const [decisions, conflicts] = await Promise.all([
    db.selectFrom('case_decisions').select('decided_by').where('case_id', '=', caseId).where('outcome', '=', 'approve').execute(),
    db.selectFrom('panel_conflicts').select('user_id').where('case_id', '=', caseId).execute(),
  ]);
  const deciderIds = [...new Set(decisions.map((d) => d.decided_by))];
  const sponsors = await accountSponsors(db, [...(claimantId ? [claimantId] : []), ...deciderIds, ...approverIds]);
  return { claimantId, deciderIds, conflicted: new Set(conflicts.map((c) => c.user_id)), sponsors };
}

/** Whether either of two users answers for the other's account (or they are the same user). */
function related(p: ReleaseParties, a: string, b: string): boolean {
  return answersFor(p.sponsors, a, b);
}

/**
 * 2 and 3: why `approverId` is not an independent approver of this release alongside the
 * approvals already counted, or null if they are.
 */
export function independenceProblem(parties: ReleaseParties, approverId: string, counted: string[]): string | null {
  if (parties.conflicted.has(approverId)) return 'you declared a conflict of interest in this case';
  if (parties.claimantId && approverId === parties.claimantId) return 'nobody approves their own claim';
  if (parties.claimantId && related(parties, approverId, parties.claimantId))
    return 'you created, asked for or approved the claimant’s account (or they yours)';
  if (parties.deciderIds.includes(approverId)) return 'you decided to approve this case; its releases need someone else';
  if (parties.deciderIds.some((d) => related(parties, approverId, d)))
    return 'you created, asked for or approved the account of the member who decided this case (or they yours)';
  if (counted.some((a) => related(parties, approverId, a)))
    return 'you created, asked for or approved the account of an approver of this tranche (or they yours)';
  return null;
}

/** 3: the approvals that count, in the order given: independent, and independent of each other. */
export function countedApprovals<A extends { userId: string }>(parties: ReleaseParties, approvals: A[]): A[] {
  const counted: A[] = [];
  for (const a of approvals) {
    if (
      independenceProblem(
        parties,
        a.userId,
        counted.map((c) => c.userId),
      ) === null
    )
      counted.push(a);
  }
  return counted;
}
