import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals the benefits register and realised benefits can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const BENEFITS_REFUSALS = {
  'benefit-report-not-found': {
    status: 404,
    title: 'Benefit report not found',
    meaning: 'There is no benefit report with this id that you may see.',
    action: "Check the id; a case's reports appear in its benefits register (GET /api/v1/cases/{id}/benefits).",
  },
  'financial-year-closed-for-verification': {
    status: 409,
    title: 'Year closed for verification',
    meaning: 'The year has been closed, so its savings and credits are fixed; a report for it can no longer be filed or verified.',
    action: 'Nothing can change a closed year’s figures. Report the benefit in an open year instead.',
  },
  'benefit-already-reported': {
    status: 409,
    title: 'Already reported',
    meaning: 'This benefit line already has an open (pending or verified) report for this year.',
    action: 'Wait for the open report to be verified or rejected; a rejected one can be reported again.',
  },
  'benefit-report-reviewed': {
    status: 409,
    title: 'Report already reviewed',
    meaning:
      'The report has already been verified or rejected. A review is final: a verified figure is what the year’s savings count, so it is never edited.',
    action: 'If the review was wrong, the council reports the year again after a rejection; a verified report stands.',
  },
  'register-total-too-large': {
    status: 422,
    title: 'Register total too large',
    meaning:
      'The change would take the benefits register’s total of appraised, forecast, claimed or verified benefits, over every case and year, past £90,071,992,547,409.91 (2^53 − 1 pence), the most its figures can carry exactly. Nothing was changed.',
    action: 'Check the amounts: a forecast or claim is for one benefit line in one year, in pence.',
  },
} as const satisfies Record<string, Refusal>;
