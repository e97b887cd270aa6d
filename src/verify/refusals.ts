import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals verifications of the books can give, each with its stable `type` (`/problems/<type>`),
 * HTTP status, title, what it means and what the user should do. src/http/problems.ts composes
 * every module's catalogue into the one the problem pages and the OpenAPI document read.
 */
export const VERIFY_REFUSALS = {
  'verification-not-found': {
    status: 404,
    title: 'Verification not found',
    meaning: 'There is no verification of the books with this id.',
    action: 'Check the id against the list of verifications (GET /api/v1/ledger/verifications), or start one.',
  },
} as const satisfies Record<string, Refusal>;
