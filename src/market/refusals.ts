import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals the credits market can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const MARKET_REFUSALS = {
  'credit-order-not-found': {
    status: 404,
    title: 'Credit order not found',
    meaning: 'There is no order with this id, or it belongs to another department.',
    action: 'Check the id against your department’s orders.',
  },
  'bilateral-trade-not-found': {
    status: 404,
    title: 'Bilateral trade not found',
    meaning: 'There is no bilateral trade with this id, or your department is not a party to it.',
    action: 'Check the id against your department’s proposals.',
  },
  'self-trade-prevented': {
    status: 422,
    title: 'Order would trade with your own',
    meaning: 'The order would match a resting order of your own department, so it was refused and nothing traded.',
    action: 'Cancel your resting order first, or change this order’s price so it does not cross it.',
  },
  'order-not-open': {
    status: 409,
    title: 'Order not open',
    meaning: 'Only a resting order can be cancelled; this one has already filled or been cancelled.',
    action: 'Nothing to do.',
  },
  'counterparty-is-yourself': {
    status: 422,
    title: 'Counterparty is yourself',
    meaning: 'A bilateral trade is between two departments; a department cannot trade with itself.',
    action: 'Name another department as the counterparty.',
  },
  'not-your-part': {
    status: 409,
    title: 'Not your part of the trade',
    meaning: 'Only the proposer can withdraw a proposal, and only the counterparty can accept or reject it.',
    action: 'Ask the other party to the trade to do this.',
  },
  'bilateral-trade-expired': {
    status: 409,
    title: 'Proposal expired',
    meaning: 'The proposal lapsed before it was answered, so it can no longer be accepted, rejected or withdrawn.',
    action: 'Propose the trade again if it is still wanted.',
  },
  'bilateral-trade-not-open': {
    status: 409,
    title: 'Proposal no longer open',
    meaning: 'The proposal has already been accepted, rejected or withdrawn.',
    action: 'Nothing to do; propose a new trade if one is wanted.',
  },
  'trade-cannot-settle': {
    status: 422,
    title: 'The trade cannot settle',
    meaning: 'The ledger refused one leg of the trade, so neither was applied and nothing moved.',
    action: 'The `detail` says which transfer was refused and why. Check both parties’ balances and try again.',
  },
  'resting-orders-outside-band': {
    status: 422,
    title: 'Resting orders outside the new band',
    meaning: 'An order rests at a price outside the new floor and ceiling, so the band cannot change under it.',
    action: 'Have the order named in the `detail` cancelled first, or choose a band that contains it.',
  },
} as const satisfies Record<string, Refusal>;
