import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals business cases can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const CASES_REFUSALS = {
  'case-not-found': {
    status: 404,
    title: 'Case not found',
    meaning: 'There is no business case with this id that you may see (a council sees only its own cases; others see submitted cases).',
    action: 'Check the id; list the cases you can see with GET /api/v1/cases.',
  },
  'case-not-draft': {
    status: 409,
    title: 'Case already submitted',
    meaning: 'The case has been submitted, so it is read-only.',
    action: 'Start a new draft if the case must change.',
  },
  'case-not-eligible': {
    status: 422,
    title: 'The case cannot be submitted yet',
    meaning:
      'One or more eligibility gates failed. `failures` lists each gate with its reason, and `errors` points at the field of the case each concerns.',
    action: 'Edit the draft (PUT /api/v1/cases/{id}) to meet each gate, then submit again.',
  },
} as const satisfies Record<string, Refusal>;
