import type { Refusal } from '../lib/refusals.ts';

/*
 * The refusals users, tokens and account requests can give, each with its stable `type` (`/problems/<type>`), HTTP status,
 * title, what it means and what the user should do. src/http/problems.ts composes every module's
 * catalogue into the one the problem pages and the OpenAPI document read.
 */
export const USERS_REFUSALS = {
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
} as const satisfies Record<string, Refusal>;
