import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals commitments, tranche claims and releases (four eyes among them) can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const RELEASES_REFUSALS = {
  'tranche-not-found': {
    status: 404,
    title: 'Tranche not found',
    meaning: "The case's award has no tranche with this number.",
    action: 'List the tranches with GET /api/v1/cases/{id}/tranches.',
  },
  'insufficient-funds': {
    status: 422,
    title: 'Not enough money in the fund',
    meaning: 'The fund does not hold enough uncommitted money for this award.',
    action: 'Approve a smaller award, or wait for contributions or refunds to reach the fund.',
  },
  'case-not-approved': {
    status: 409,
    title: 'Case not approved',
    meaning: 'This needs an approved case; this one is in another state.',
    action: 'Check the case’s status with GET /api/v1/cases/{id}.',
  },
  'tranche-not-due': {
    status: 409,
    title: 'Tranche not due',
    meaning: 'The tranche cannot be claimed before its earliest date.',
    action: 'Claim it on or after the date in the tranche schedule.',
  },
  'tranche-out-of-order': {
    status: 409,
    title: 'Tranche out of order',
    meaning: 'Tranches are claimed and released in order; an earlier one is still open.',
    action: 'Claim or release the earlier tranche first.',
  },
  'tranche-already-claimed': {
    status: 409,
    title: 'Tranche already claimed',
    meaning: 'This tranche has an open claim.',
    action: 'Wait for it to be approved.',
  },
  'tranche-not-claimed': {
    status: 409,
    title: 'Tranche not claimed',
    meaning: 'The council has not claimed this tranche, so there is nothing to approve.',
    action: 'The council claims it first (POST .../tranches/{n}/claim).',
  },
  'tranche-already-released': {
    status: 409,
    title: 'Tranche already released',
    meaning: 'This tranche has been paid.',
    action: 'Nothing to do. A refund is a clawback (POST /api/v1/cases/{id}/clawbacks).',
  },
  'tranche-closed': {
    status: 409,
    title: 'Tranche closed',
    meaning: 'This tranche was voided when the case was terminated.',
    action: 'Nothing can be claimed or released from it.',
  },
  'already-approved-by-you': {
    status: 409,
    title: 'Already approved by you',
    meaning: 'You have already approved this claim; a second approval must come from someone else.',
    action: 'Ask another panel member or treasury user to approve it.',
  },
  'clawback-exceeds-released': {
    status: 422,
    title: 'Clawback exceeds what was released',
    meaning: 'A clawback cannot take back more than the case has been paid, less earlier clawbacks.',
    action: 'Claw back at most the amount in the `detail`.',
  },
  'offset-exceeds-tranche': {
    status: 422,
    title: 'Offset exceeds the tranche',
    meaning: 'An offset against a future tranche cannot be more than that tranche.',
    action: 'Offset at most the tranche’s amount, or refund the rest.',
  },
  'approver-not-independent': {
    status: 403,
    title: 'Not an independent approver',
    meaning:
      'Your approval would not be independent: you made the claim, decided the case, declared a conflict in it, or created, asked for or approved the account of the claimant, the decider or another approver (or they yours).',
    action: 'The `detail` says why. Ask an independent panel member or treasury user to approve it.',
  },
} as const satisfies Record<string, Refusal>;
