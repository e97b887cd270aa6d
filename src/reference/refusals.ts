import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals reference data (organisations, places) can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const REFERENCE_REFUSALS = {
  'place-not-found': {
    status: 404,
    title: 'Place not found',
    meaning: 'There is no place with this code.',
    action: 'List the places with GET /api/v1/places.',
  },
  'organisation-not-found': {
    status: 404,
    title: 'Organisation not found',
    meaning: 'There is no organisation with this code.',
    action: 'List the organisations with GET /api/v1/organisations.',
  },
  'department-not-found': {
    status: 404,
    title: 'Department not found',
    meaning: 'There is no spending department with this code.',
    action: 'List departments with GET /api/v1/organisations?kind=department.',
  },
} as const satisfies Record<string, Refusal>;
