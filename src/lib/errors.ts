/**
 * Refusals from the domain core. They name what went wrong in the users' words and carry no
 * HTTP: the API maps `kind` to a status in one place (src/http/problem.ts). A module's named
 * refusals are thrown from its catalogue with `refuse` (src/lib/refusals.ts), so their titles are
 * the catalogue's; `forbidden` and `invalid` below are the request's own.
 */
export type ErrorKind = 'invalid' | 'forbidden' | 'not-found' | 'conflict' | 'unprocessable';

export interface FieldError {
  /** JSON Pointer into the request body (RFC 6901), e.g. `/costs/0/amountPence`. */
  pointer?: string;
  /** A query, path or header parameter's name. */
  parameter?: string;
  detail: string;
}

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** Stable slug, part of the problem type URI: `/problems/<type>`. */
    readonly type: string,
    readonly title: string,
    detail: string,
    readonly extra: Record<string, unknown> = {},
    readonly errors: FieldError[] = [],
  ) {
    super(detail);
    this.name = 'DomainError';
  }
}

export const forbidden = (detail: string) => new DomainError('forbidden', 'forbidden', 'Not allowed', detail);

export const invalid = (errors: FieldError[], detail = 'The request has invalid fields.') =>
  new DomainError('invalid', 'validation-error', 'Your request is not valid', detail, {}, errors);
