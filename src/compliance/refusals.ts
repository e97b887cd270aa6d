import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals compliance can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const COMPLIANCE_REFUSALS = {
  'compliance-run-not-found': {
    status: 404,
    title: 'Compliance run not found',
    meaning: 'Compliance has not run for this financial year, so there is no result to show.',
    action: 'Check the year. Compliance runs once the year is closed (POST /api/v1/financial-years/{fy}/compliance).',
  },
  'financial-year-not-closed': {
    status: 409,
    title: 'Year not closed',
    meaning: 'Compliance runs on a closed year, and this one is still open.',
    action: 'Close the year first (treasury), then run compliance.',
  },
  'compliance-already-run': {
    status: 409,
    title: 'Compliance has run',
    meaning: 'Compliance for this year has run at its ceiling price, which is now fixed.',
    action: 'Nothing to do. The band for a later year can still be set.',
  },
} as const satisfies Record<string, Refusal>;
