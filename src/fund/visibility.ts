import type { Principal, Role } from '../users/users.ts';

/*
 * One visibility rule for departments' figures.
 *
 * Public within the scheme (every signed-in user, every role): each department's terms for a
 * year — baseline, top-slice rate, contribution due and posted, savings target — and the fund
 * they add up to. Why: they are set by Treasury from budgets voted by Parliament and published
 * in the Estimates; every bid competes for the pot they make; and a pooled fund holds together
 * only if contributors can see that each pays its agreed share and is held to its target.
 *
 * The department's own (and treasury's and auditors'): its ledger accounts and the transfers on
 * them, the benefit reports it verifies, its credits and obligations — operational figures whose
 * detail is the department's business until Treasury publishes them in a report.
 */

export type DepartmentFigures = 'terms' | 'own-records';

/** Whether `p` may read department `code`'s figures of this kind. */
export function mayReadDepartmentFigures(p: Principal, code: string, figures: DepartmentFigures): boolean {
  if (figures === 'terms') return true;
  return p.role === 'treasury' || p.role === 'auditor' || (p.role === 'department' && p.organisationCode === code);
}

/**
 * The department a reader of credits, orders, trades and compliance is limited to (its own
 * records), or undefined for treasury, auditors and the panel, who read every department's.
 */
export function ownDepartmentScope(p: Principal): string | undefined {
  return p.role === 'department' ? (p.organisationCode ?? '') : undefined;
}

/** Who reads departments' credits, year closes and compliance: each department its own (above). */
export const CREDIT_READERS = {
  roles: ['treasury', 'auditor', 'panel', 'department'],
  organisation: 'a department reads its own credits, outcomes and position',
} as const satisfies { roles: readonly Role[]; organisation: string };

/** Who reads the credits market's orders, proposals and trades: a department those it is party to. */
export const MARKET_READERS = {
  roles: ['treasury', 'auditor', 'department'],
  organisation: 'a department reads the orders, proposals and trades it is party to',
} as const satisfies { roles: readonly Role[]; organisation: string };
