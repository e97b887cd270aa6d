import { type Round, roundStatus } from '../rounds/rounds.ts';
import { type Case, NARRATIVE_SECTIONS } from './records.ts';

/*
 * Eligibility: when a council may submit its draft. The one place for the submission gates.
 *
 * In the users' words: a case goes to the panel only if its round is open, it names at least two
 * partner bodies besides the lead council, at least one of its benefits goes to someone other than
 * the lead council, its match funding is at least the round's minimum share of its costs, all five
 * narrative sections are written, it has cost lines and benefit lines, and it is filed under one of
 * the round's themes (if the round names any). Each gate that fails is named with its reason and
 * the field of the case it concerns, so the council knows what to change.
 */

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
