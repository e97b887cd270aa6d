import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals pooled asset disposals can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const DISPOSALS_REFUSALS = {
  'disposal-in-the-future': {
    status: 422,
    title: 'Disposal date in the future',
    meaning: 'A disposal is recorded once it has been made, so its date cannot be after today.',
    action: 'Record it on or after the day it is made.',
  },
  'place-total-beyond-limit': {
    status: 422,
    title: 'Beyond the largest total a place can show',
    meaning:
      'A place’s pooled disposal target or its receipts for a year would pass £90,071,992,547,409.91 (2^53 − 1 pence), the largest amount the service states exactly.',
    action: 'Check the amount; it is almost certainly a typing error. Nothing was changed.',
  },
} as const satisfies Record<string, Refusal>;
