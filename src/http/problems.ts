/*
 * Every problem type the API can answer with: the `type` of an RFC 9457 problem is
 * `/problems/<name>`, and `/problems/<name>` is a page saying what it means and what to do.
 * A plain table, one row per type, so that it can be split by module later; the OpenAPI document
 * takes each route's error examples from here, and a test checks that every type the code can
 * raise has a row.
 */

export interface ProblemType {
  status: number;
  title: string;
  /** What happened, in the users' words. */
  meaning: string;
  /** What to do about it. */
  action: string;
}

export const PROBLEM_TYPES = {
  // The request itself.
  'validation-error': {
    status: 400,
    title: 'Your request is not valid',
    meaning:
      'A field, parameter or header is missing, has the wrong type, is out of range, or is not one this request takes. Each entry in `errors` names one: `pointer` is a JSON Pointer into the body, `parameter` a query, path or header parameter.',
    action: 'Correct each field named in `errors` and send the request again. Nothing was changed.',
  },
  'malformed-json': {
    status: 400,
    title: 'The request body is not valid JSON',
    meaning: 'The body could not be read as JSON text in UTF-8.',
    action: 'Check quotes, commas and brackets, and that the body is UTF-8. Nothing was changed.',
  },
  'malformed-request': {
    status: 400,
    title: 'The request is not valid HTTP',
    meaning: 'The request line or a header breaks HTTP/1.1 (for example a control character in a header value).',
    action: 'Send headers of visible ASCII text only. Nothing was changed.',
  },
  'headers-too-large': {
    status: 431,
    title: 'The request headers are too large',
    meaning: 'The request headers together are larger than the server accepts.',
    action: 'Send fewer or shorter headers.',
  },
  'body-too-large': {
    status: 413,
    title: 'The request body is too large',
    meaning: 'A request body may be at most 1 MiB (1,048,576 bytes); this one was larger, so it was not read.',
    action: 'Send a smaller body; no request the API takes needs more. Nothing was changed.',
  },
  'unsupported-media-type': {
    status: 415,
    title: 'Send JSON',
    meaning: 'The request has a body that is not labelled `Content-Type: application/json`.',
    action: 'Send the body as JSON with that header, or send no body at all to an action that takes no input.',
  },
  unauthenticated: {
    status: 401,
    title: 'Sign-in required',
    meaning: 'The request had no bearer token, or one the service does not recognise.',
    action:
      'Send `Authorization: Bearer <token>` with the token you were issued. Ask a treasury administrator for a new one if it is lost.',
  },
  forbidden: {
    status: 403,
    title: 'Not allowed',
    meaning: 'Your token is valid, but your role or organisation may not do this.',
    action: "The `detail` says which role or organisation may. Ask someone who holds it, or ask treasury to change your user's role.",
  },
  'not-found': {
    status: 404,
    title: 'Not found',
    meaning: 'There is no resource at this path.',
    action: 'Check the path against the list of routes at /docs. The API is under /api/v1.',
  },
  'method-not-allowed': {
    status: 405,
    title: 'Method not allowed',
    meaning: 'The path exists, but not with this method.',
    action: 'Use one of the methods in the `Allow` header.',
  },
  'idempotency-key-reused': {
    status: 422,
    title: 'Idempotency key already used for another request',
    meaning:
      'This Idempotency-Key was first used with a different method, path or body (bodies are compared as JSON, whatever the order of their keys).',
    action: 'Use a new key for a new request; reuse a key only to retry exactly the same request.',
  },
  'idempotency-key-in-use': {
    status: 409,
    title: 'The first request with this key is still running',
    meaning: 'A request with the same Idempotency-Key has not finished yet.',
    action: 'Wait a moment and retry with the same key: you will get the first request’s response.',
  },
  'internal-error': {
    status: 500,
    title: 'Something went wrong on our side',
    meaning: 'The service hit an error it did not expect. The request was not completed and nothing was changed.',
    action: 'Retry later. If it persists, report it to the service team quoting the `requestId`.',
  },

  // Things named in the path or body that do not exist (or that you may not see).
  'case-not-found': {
    status: 404,
    title: 'Case not found',
    meaning: 'There is no business case with this id that you may see (a council sees only its own cases; others see submitted cases).',
    action: 'Check the id; list the cases you can see with GET /api/v1/cases.',
  },
  'benefit-report-not-found': {
    status: 404,
    title: 'Benefit report not found',
    meaning: 'There is no benefit report with this id that you may see.',
    action: "Check the id; a case's reports appear in its benefits register (GET /api/v1/cases/{id}/benefits).",
  },
  'tranche-not-found': {
    status: 404,
    title: 'Tranche not found',
    meaning: "The case's award has no tranche with this number.",
    action: 'List the tranches with GET /api/v1/cases/{id}/tranches.',
  },
  'round-not-found': {
    status: 404,
    title: 'Round not found',
    meaning: 'There is no funding round with this id.',
    action: 'List the rounds with GET /api/v1/rounds.',
  },
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
  'parameter-set-not-found': {
    status: 404,
    title: 'Parameter set not found',
    meaning: 'There is no appraisal parameter set with this name and version.',
    action: 'List them with GET /api/v1/appraisal-parameter-sets.',
  },
  'compliance-run-not-found': {
    status: 404,
    title: 'Compliance run not found',
    meaning: 'Compliance has not run for this financial year, so there is no result to show.',
    action: 'Check the year. Compliance runs once the year is closed (POST /api/v1/financial-years/{fy}/compliance).',
  },
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
  'user-not-found': {
    status: 404,
    title: 'User not found',
    meaning: 'There is no user with this id.',
    action: 'Check the id against the list of users.',
  },
  'user-request-not-found': {
    status: 404,
    title: 'User request not found',
    meaning: 'There is no account request with this id.',
    action: 'Check the id against the list of account requests.',
  },

  // The year and the fund.
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
  'ledger-refused': {
    status: 422,
    title: 'The ledger refused the movement',
    meaning:
      'The double-entry ledger refused a transfer (`ledgerError` names its rule, for example `exceeds_credits` when an account would be overdrawn). Nothing was posted.',
    action: 'Read `ledgerError`; the ledger’s rules are listed in the ledger contract (src/ledger/README.md).',
  },
  'insufficient-funds': {
    status: 422,
    title: 'Not enough money in the fund',
    meaning: 'The fund does not hold enough uncommitted money for this award.',
    action: 'Approve a smaller award, or wait for contributions or refunds to reach the fund.',
  },
  'ledger-limit-reached': {
    status: 422,
    title: 'Beyond what the ledger can hold',
    meaning: 'The transfer would take an account past the largest balance the ledger can hold, so nothing was posted.',
    action: 'Check the amount; it is almost certainly a typing error. Nothing was changed.',
  },
  'financial-year-not-closed': {
    status: 409,
    title: 'Year not closed',
    meaning: 'Compliance runs on a closed year, and this one is still open.',
    action: 'Close the year first (treasury), then run compliance.',
  },
  'financial-year-closed-for-verification': {
    status: 409,
    title: 'Year closed for verification',
    meaning: 'The year has been closed, so its savings and credits are fixed; a report for it can no longer be filed or verified.',
    action: 'Nothing can change a closed year’s figures. Report the benefit in an open year instead.',
  },

  // Credits and the market.
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
    action: 'Ask treasury to set them (PUT /api/v1/financial-years/{fy}/credit-market).',
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
  'compliance-already-run': {
    status: 409,
    title: 'Compliance has run',
    meaning: 'Compliance for this year has run at its ceiling price, which is now fixed.',
    action: 'Nothing to do. The band for a later year can still be set.',
  },
  'resting-orders-outside-band': {
    status: 422,
    title: 'Resting orders outside the new band',
    meaning: 'An order rests at a price outside the new floor and ceiling, so the band cannot change under it.',
    action: 'Have the order named in the `detail` cancelled first, or choose a band that contains it.',
  },

  // Disposals, documents and reappraisal.
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
  'no-decision': {
    status: 409,
    title: 'No decision yet',
    meaning: 'The case has not been decided, so there is no decision letter.',
    action: 'Wait for the panel to decide the case.',
  },
  'appraisal-missing': {
    status: 422,
    title: 'A submitted case has no stored appraisal',
    meaning: 'A submitted case has no stored appraisal to compare the new one with, so the reappraisal cannot be made.',
    action: 'This should not happen; report it to the service team with the case named in the `detail`.',
  },

  // Cases and the panel.
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
  'conflict-of-interest': {
    status: 403,
    title: 'Declared conflict of interest',
    meaning: 'You declared a conflict of interest in this case, so you may neither score nor decide it.',
    action: 'Another panel member must do it.',
  },
  'conflict-already-declared': {
    status: 409,
    title: 'Conflict already declared',
    meaning: 'You have already declared a conflict of interest in this case.',
    action: 'Nothing to do: the declaration stands.',
  },
  'case-decided': {
    status: 409,
    title: 'Case already decided',
    meaning: 'The panel has already decided this case, so it can no longer be scored, moderated or decided again.',
    action: 'Read the decision with GET /api/v1/cases/{id}/decisions.',
  },
  'quorum-not-met': {
    status: 422,
    title: 'Quorum not met',
    meaning: 'Too few panel members without a conflict have scored the case for the round’s quorum.',
    action: 'More members must score the case first.',
  },
  'amount-exceeds-request': {
    status: 422,
    title: 'Award exceeds the request',
    meaning: 'The award is more than the council asked for.',
    action: 'Approve at most the requested amount.',
  },
  'vfm-override-required': {
    status: 422,
    title: 'Treasury override required',
    meaning: 'The case’s value for money is poor, so it can be approved only after a recorded treasury override.',
    action: 'Treasury records an override (POST /api/v1/cases/{id}/vfm-override), or the panel rejects or defers the case.',
  },
  'override-not-needed': {
    status: 409,
    title: 'Override not needed',
    meaning: 'The case’s value for money is not poor, so there is nothing to override.',
    action: 'Nothing to do: the panel may approve it.',
  },
  'override-exists': {
    status: 409,
    title: 'Override already recorded',
    meaning: 'Treasury has already recorded an override for this case.',
    action: 'Nothing to do: the override stands.',
  },

  // Releases.
  'case-not-approved': {
    status: 409,
    title: 'Case not approved',
    meaning: 'This needs an approved case; this one is in another state.',
    action: 'Check the case’s status with GET /api/v1/cases/{id}.',
  },
  'tranche-not-due': {
    status: 409,
    title: 'Tranche not due',
    meaning: 'The tranche cannot be claimed before its earliest date.',
    action: 'Claim it on or after the date in the tranche schedule.',
  },
  'tranche-out-of-order': {
    status: 409,
    title: 'Tranche out of order',
    meaning: 'Tranches are claimed and released in order; an earlier one is still open.',
    action: 'Claim or release the earlier tranche first.',
  },
  'tranche-already-claimed': {
    status: 409,
    title: 'Tranche already claimed',
    meaning: 'This tranche has an open claim.',
    action: 'Wait for it to be approved.',
  },
  'tranche-not-claimed': {
    status: 409,
    title: 'Tranche not claimed',
    meaning: 'The council has not claimed this tranche, so there is nothing to approve.',
    action: 'The council claims it first (POST .../tranches/{n}/claim).',
  },
  'tranche-already-released': {
    status: 409,
    title: 'Tranche already released',
    meaning: 'This tranche has been paid.',
    action: 'Nothing to do. A refund is a clawback (POST /api/v1/cases/{id}/clawbacks).',
  },
  'tranche-closed': {
    status: 409,
    title: 'Tranche closed',
    meaning: 'This tranche was voided when the case was terminated.',
    action: 'Nothing can be claimed or released from it.',
  },
  'already-approved-by-you': {
    status: 409,
    title: 'Already approved by you',
    meaning: 'You have already approved this claim; a second approval must come from someone else.',
    action: 'Ask another panel member or treasury user to approve it.',
  },
  'clawback-exceeds-released': {
    status: 422,
    title: 'Clawback exceeds what was released',
    meaning: 'A clawback cannot take back more than the case has been paid, less earlier clawbacks.',
    action: 'Claw back at most the amount in the `detail`.',
  },
  'offset-exceeds-tranche': {
    status: 422,
    title: 'Offset exceeds the tranche',
    meaning: 'An offset against a future tranche cannot be more than that tranche.',
    action: 'Offset at most the tranche’s amount, or refund the rest.',
  },

  // Benefits.
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

  // Users.
  'already-bootstrapped': {
    status: 409,
    title: 'Users already exist',
    meaning: 'The first treasury user is created only on an empty database.',
    action: 'Ask an existing treasury user to create your user (POST /api/v1/users).',
  },
  'token-expired': {
    status: 401,
    title: 'Token expired',
    meaning: 'The bearer token is past its expiry date, so it no longer signs in.',
    action: 'Ask a treasury user for a new token; next time, rotate yours before it expires (POST /api/v1/me/token).',
  },
  'token-revoked': {
    status: 401,
    title: 'Token revoked',
    meaning: 'The bearer token was revoked (replaced by a newer one, or by treasury), so it no longer signs in.',
    action:
      'If you rotated it, or a treasury user issued you a new one, use that newer token; otherwise ask a treasury user for a new token.',
  },
  'user-deactivated': {
    status: 401,
    title: 'User deactivated',
    meaning: 'The user this token belongs to has been deactivated, so none of their tokens signs in and none can be issued.',
    action: 'Ask a treasury user if this is wrong.',
  },
  'user-already-deactivated': {
    status: 409,
    title: 'User already deactivated',
    meaning: 'This user has already been deactivated.',
    action: 'Nothing to do.',
  },
  'cannot-deactivate-self': {
    status: 409,
    title: 'You cannot deactivate yourself',
    meaning: 'A treasury user cannot deactivate their own account.',
    action: 'Ask another treasury user to deactivate it.',
  },
  'last-treasury-user': {
    status: 409,
    title: 'The last treasury user',
    meaning: 'This is the only active treasury user; without one, nobody could manage users.',
    action: 'Create another treasury user first.',
  },
  'user-request-decided': {
    status: 409,
    title: 'Request already decided',
    meaning: 'The account request has already been approved or rejected.',
    action: 'Nothing to do; ask for a new request if one is needed.',
  },
  'second-treasury-user-needed': {
    status: 403,
    title: 'A second treasury user must approve',
    meaning: 'A treasury user cannot approve an account they asked for themselves; another treasury user must approve it.',
    action: 'Ask another treasury user to approve the request.',
  },
  'privileged-token-by-operator': {
    status: 403,
    title: 'Only an operator re-issues this token',
    meaning:
      'A treasury or panel account’s token is not re-issued through the API: whoever was handed it could approve as that user alongside themselves.',
    action:
      'Ask an operator to run `npm run cli -- issue-token <userId>`, or ask for a new account, which a second treasury user approves.',
  },
  'approver-not-independent': {
    status: 403,
    title: 'Not an independent approver',
    meaning:
      'Your approval would not be independent: you made the claim, decided the case, declared a conflict in it, or created, asked for or approved the account of the claimant, the decider or another approver (or they yours).',
    action: 'The `detail` says why. Ask an independent panel member or treasury user to approve it.',
  },
  // The PDF renderer.
  'browser-unavailable': {
    status: 503,
    title: 'PDFs cannot be rendered on this server',
    meaning: 'The server has no working browser to render PDFs: none is installed at the configured path, or it will not start.',
    action: 'The `detail` names what to install (or set `BROWSER_PATH`). The data is unaffected: read it as JSON meanwhile.',
  },
  'renderer-busy': {
    status: 503,
    title: 'The PDF renderer is busy',
    meaning: 'Every renderer is in use and the queue of documents waiting is full.',
    action: 'Try again after the number of seconds in `Retry-After`.',
  },
  'render-timed-out': {
    status: 503,
    title: 'The document took too long to render',
    meaning: 'Rendering this document went past its time limit and was stopped.',
    action: 'Try again after the number of seconds in `Retry-After`; if it keeps happening, tell the service team which document it was.',
  },
  'render-failed': {
    status: 503,
    title: 'The document could not be rendered',
    meaning: 'The browser stopped or refused while rendering this document.',
    action: 'Try again (the browser has been restarted); if it keeps happening, tell the service team which document it was.',
  },
  'renderer-closed': {
    status: 503,
    title: 'The service is shutting down',
    meaning: 'The server is stopping and takes no new documents.',
    action: 'Try again after the number of seconds in `Retry-After`, when the service is back.',
  },
} as const satisfies Record<string, ProblemType>;

export type ProblemName = keyof typeof PROBLEM_TYPES;

/** The catalogue row for a type name, own keys only. */
export function problemType(name: string): ProblemType | undefined {
  return Object.hasOwn(PROBLEM_TYPES, name) ? (PROBLEM_TYPES as Record<string, ProblemType>)[name] : undefined;
}
