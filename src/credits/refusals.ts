import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals year close and savings credits can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const CREDITS_REFUSALS = {
  'year-close-not-found': {
    status: 404,
    title: 'Year close not found',
    meaning: 'This financial year has not been closed, so there is no close to show.',
    action: 'Check the year, or wait for treasury to close it.',
  },
  'department-outcome-not-found': {
    status: 404,
    title: 'Department outcome not found',
    meaning: 'The department was not set up in this year, so the year’s close gave it nothing.',
    action: 'Check the department code and the year.',
  },
  'financial-year-not-started': {
    status: 409,
    title: 'The year has not started',
    meaning:
      'A year closes on the savings verified for it, and none can be reported before it starts; closing it now would fix every department’s obligation at its whole target for good.',
    action: 'Close the year once it has started and its benefits have been reported and verified.',
  },
  'trading-year-not-closed': {
    status: 409,
    title: 'The year is not closed yet',
    meaning: 'Credits for a year are traded once treasury has closed it, and this year is still open.',
    action: 'Wait for treasury to close the year, then trade.',
  },
  'trading-closed': {
    status: 409,
    title: 'Trading for this year has ended',
    meaning: 'Compliance for this year has run, so its market is closed.',
    action: 'Trade banked credits in a later year’s market.',
  },
  'market-prices-not-set': {
    status: 422,
    title: 'No floor and ceiling price',
    meaning: 'Treasury has not set the floor and ceiling price for this year’s market, so nothing can trade in it.',
    action: 'Ask treasury to set them: on the page /fund/{fy}/market, or with PUT /api/v1/financial-years/{fy}/credit-market.',
  },
  'price-outside-band': {
    status: 422,
    title: 'Price outside the floor and ceiling',
    meaning: 'A price per credit must lie between the year’s floor and ceiling price.',
    action: 'Use a price within the band given in the `detail`.',
  },
  'vintage-in-the-future': {
    status: 422,
    title: 'Vintage from the future',
    meaning: 'A year’s market trades credits of its own and earlier vintages only.',
    action: 'Choose a vintage no later than the market’s year.',
  },
  'vintage-not-issued': {
    status: 422,
    title: 'No credits of that vintage',
    meaning: 'No credits of this vintage have been issued, so there are none to trade.',
    action: 'Choose a vintage whose year has been closed and issued credits.',
  },
  'department-not-in-year': {
    status: 422,
    title: 'Department not set up for the year',
    meaning: 'The department has no budget for this year, so it cannot trade in the year’s market.',
    action: 'Check the department code and the year; treasury sets up a year’s departments.',
  },
  'insufficient-credits': {
    status: 422,
    title: 'Not enough credits',
    meaning: 'The department does not hold enough credits, not already reserved by open orders or proposals, to sell this many.',
    action: 'Sell fewer, or cancel an open order or proposal that reserves them.',
  },
  'insufficient-cash': {
    status: 422,
    title: 'Not enough cash',
    meaning:
      'The department does not have enough money, not already reserved by open orders or proposals, in its account for the year to pay for this.',
    action: 'Buy fewer or at a lower price, or cancel an open order or proposal that reserves the cash.',
  },
} as const satisfies Record<string, Refusal>;
