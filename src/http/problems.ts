import { APPRAISAL_REFUSALS } from '../appraisal/refusals.ts';
import { BENEFITS_REFUSALS } from '../benefits/refusals.ts';
import { CASES_REFUSALS } from '../cases/refusals.ts';
import { COMPLIANCE_REFUSALS } from '../compliance/refusals.ts';
import { CREDITS_REFUSALS } from '../credits/refusals.ts';
import { DISPOSALS_REFUSALS } from '../disposals/refusals.ts';
import { DOCUMENTS_REFUSALS } from '../documents/refusals.ts';
import { FUND_REFUSALS } from '../fund/refusals.ts';
import { LEDGER_REFUSALS } from '../ledger/refusals.ts';
import type { Refusal } from '../lib/refusals.ts';
import { MARKET_REFUSALS } from '../market/refusals.ts';
import { PANEL_REFUSALS } from '../panel/refusals.ts';
import { REFERENCE_REFUSALS } from '../reference/refusals.ts';
import { RELEASES_REFUSALS } from '../releases/refusals.ts';
import { ROUNDS_REFUSALS } from '../rounds/refusals.ts';
import { USERS_REFUSALS } from '../users/refusals.ts';
import { VERIFY_REFUSALS } from '../verify/refusals.ts';

/*
 * Every problem type the API can answer with: the `type` of an RFC 9457 problem is
 * `/problems/<name>`, and `/problems/<name>` is a page saying what it means and what to do.
 * The refusals of the request itself (its shape, sign-in, idempotency) are here; each domain
 * module's own are in its catalogue, `src/<module>/refusals.ts`, composed below into the one
 * catalogue the problem pages and the OpenAPI document read. A test checks that every type the
 * code can raise has a row, and that every row is one the code can raise.
 */

/** A catalogue row: status, title, what it means, what to do. */
export type ProblemType = Refusal;

/** The request's own refusals: its shape and size, sign-in and role, idempotency, the unexpected. */
const REQUEST_PROBLEMS = {
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
} as const satisfies Record<string, ProblemType>;

export const PROBLEM_TYPES = {
  ...REQUEST_PROBLEMS,
  ...FUND_REFUSALS,
  ...LEDGER_REFUSALS,
  ...CREDITS_REFUSALS,
  ...MARKET_REFUSALS,
  ...COMPLIANCE_REFUSALS,
  ...DISPOSALS_REFUSALS,
  ...DOCUMENTS_REFUSALS,
  ...APPRAISAL_REFUSALS,
  ...CASES_REFUSALS,
  ...PANEL_REFUSALS,
  ...RELEASES_REFUSALS,
  ...BENEFITS_REFUSALS,
  ...ROUNDS_REFUSALS,
  ...REFERENCE_REFUSALS,
  ...USERS_REFUSALS,
  ...VERIFY_REFUSALS,
} as const satisfies Record<string, ProblemType>;

export type ProblemName = keyof typeof PROBLEM_TYPES;

/** The catalogue row for a type name, own keys only. */
export function problemType(name: string): ProblemType | undefined {
  return Object.hasOwn(PROBLEM_TYPES, name) ? (PROBLEM_TYPES as Record<string, ProblemType>)[name] : undefined;
}
