import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals funding rounds can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const ROUNDS_REFUSALS = {
  'round-not-found': {
    status: 404,
    title: 'Round not found',
    meaning: 'There is no funding round with this id.',
    action: 'List the rounds with GET /api/v1/rounds.',
  },
} as const satisfies Record<string, Refusal>;
