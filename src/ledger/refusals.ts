import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals the ledger can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const LEDGER_REFUSALS = {
  'ledger-refused': {
    status: 422,
    title: 'The ledger refused the movement',
    meaning:
      'The double-entry ledger refused a transfer (`ledgerError` names its rule, for example `exceeds_credits` when an account would be overdrawn). Nothing was posted.',
    action: 'Read `ledgerError`; the ledger’s rules are listed in the ledger contract (src/ledger/README.md).',
  },
  'ledger-limit-reached': {
    status: 422,
    title: 'Beyond what the ledger can hold',
    meaning: 'The transfer would take an account past the largest balance the ledger can hold, so nothing was posted.',
    action: 'Check the amount; it is almost certainly a typing error. Nothing was changed.',
  },
} as const satisfies Record<string, Refusal>;
