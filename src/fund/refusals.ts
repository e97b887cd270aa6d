import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals the year's set-up and the fund can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const FUND_REFUSALS = {
  'financial-year-not-found': {
    status: 404,
    title: 'Financial year not found',
    meaning: 'This financial year has not been set up.',
    action: 'Treasury sets a year up with POST /api/v1/financial-years; list them with GET /api/v1/financial-years.',
  },
  'department-year-not-found': {
    status: 404,
    title: 'Department year not found',
    meaning: 'This department has no baseline, rate or target for this year yet.',
    action: 'Treasury sets them with PUT /api/v1/financial-years/{fy}/departments/{code}.',
  },
  'financial-year-exists': {
    status: 409,
    title: 'Financial year already set up',
    meaning: 'This financial year already exists.',
    action: 'Nothing to do: read it with GET /api/v1/financial-years/{fy}.',
  },
  'financial-year-closed': {
    status: 409,
    title: 'Financial year closed',
    meaning: 'The year is closed, so its settings and money can no longer change.',
    action: 'Make the change in an open year.',
  },
  'contribution-already-posted': {
    status: 409,
    title: 'Contribution already posted',
    meaning: "The department's top-slice has been posted to the fund, so its baseline and rate are fixed for the year.",
    action: 'Only the savings target can still change. Correct the money with a new transfer agreed with treasury.',
  },
  'baseline-below-committed': {
    status: 422,
    title: 'Baseline below what is already spent',
    meaning: 'The new baseline would be less than the department has already paid out of it.',
    action: 'Set a baseline at least as large as the amount already paid.',
  },
  'no-departments-set': {
    status: 422,
    title: 'No departments set up',
    meaning: 'No department has a baseline and rate for this year, so there is nothing to contribute.',
    action: 'Set each department with PUT /api/v1/financial-years/{fy}/departments/{code} first.',
  },
  'contributions-refused': {
    status: 422,
    title: 'Contributions refused',
    meaning: 'The ledger refused a department’s contribution, so none was posted (all or nothing).',
    action: 'The `detail` names the department and the ledger’s reason; correct its settings and run the contributions again.',
  },
} as const satisfies Record<string, Refusal>;
