import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals appraisals and their parameters can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const APPRAISAL_REFUSALS = {
  'parameter-set-not-found': {
    status: 404,
    title: 'Parameter set not found',
    meaning: 'There is no appraisal parameter set with this name and version.',
    action: 'List them with GET /api/v1/appraisal-parameter-sets.',
  },
  'appraisal-missing': {
    status: 422,
    title: 'A submitted case has no stored appraisal',
    meaning: 'A submitted case has no stored appraisal to compare the new one with, so the reappraisal cannot be made.',
    action: 'This should not happen; report it to the service team with the case named in the `detail`.',
  },
  'appraisal-not-possible': {
    status: 422,
    title: 'The case cannot be appraised yet',
    meaning: 'The draft lacks something the appraisal needs (a year, a price, a deflator). `errors` points at each.',
    action: 'Complete the fields named in `errors`.',
  },
  'appraisal-out-of-range': {
    status: 422,
    title: 'The appraisal is out of range',
    meaning: "The case's figures produce an appraisal larger than the service can state exactly.",
    action: 'Check the volumes, unit values and years for a mistake in scale.',
  },
} as const satisfies Record<string, Refusal>;
