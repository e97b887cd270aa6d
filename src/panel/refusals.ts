import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals the panel can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const PANEL_REFUSALS = {
  'conflict-of-interest': {
    status: 403,
    title: 'Declared conflict of interest',
    meaning: 'You declared a conflict of interest in this case, so you may neither score nor decide it.',
    action: 'Another panel member must do it.',
  },
  'conflict-already-declared': {
    status: 409,
    title: 'Conflict already declared',
    meaning: 'You have already declared a conflict of interest in this case.',
    action: 'Nothing to do: the declaration stands.',
  },
  'case-decided': {
    status: 409,
    title: 'Case already decided',
    meaning: 'The panel has already decided this case, so it can no longer be scored, moderated or decided again.',
    action: 'Read the decision with GET /api/v1/cases/{id}/decisions.',
  },
  'quorum-not-met': {
    status: 422,
    title: 'Quorum not met',
    meaning: 'Too few panel members without a conflict have scored the case for the round’s quorum.',
    action: 'More members must score the case first.',
  },
  'amount-exceeds-request': {
    status: 422,
    title: 'Award exceeds the request',
    meaning: 'The award is more than the council asked for.',
    action: 'Approve at most the requested amount.',
  },
  'vfm-override-required': {
    status: 422,
    title: 'Treasury override required',
    meaning: 'The case’s value for money is poor, so it can be approved only after a recorded treasury override.',
    action: 'Treasury records an override (POST /api/v1/cases/{id}/vfm-override), or the panel rejects or defers the case.',
  },
  'override-not-needed': {
    status: 409,
    title: 'Override not needed',
    meaning: 'The case’s value for money is not poor, so there is nothing to override.',
    action: 'Nothing to do: the panel may approve it.',
  },
  'override-exists': {
    status: 409,
    title: 'Override already recorded',
    meaning: 'Treasury has already recorded an override for this case.',
    action: 'Nothing to do: the override stands.',
  },
} as const satisfies Record<string, Refusal>;
