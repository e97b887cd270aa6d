import { DomainError, type ErrorKind, type FieldError } from './errors.ts';

/**
 * A named refusal: what a domain operation answers when it will not do what was asked. Its
 * `type` (the key in a module's catalogue, `src/<module>/refusals.ts`) is stable and names the
 * page `/problems/<type>`; `status` is the HTTP status the API answers with.
 */
export interface Refusal {
  status: number;
  title: string;
  /** What happened, in the users' words. */
  meaning: string;
  /** What to do about it. */
  action: string;
}

/** The kind of domain error each status a domain refusal may have stands for (src/http/problem.ts maps it back). */
const KIND_OF_STATUS: Readonly<Record<number, ErrorKind>> = {
  400: 'invalid',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  422: 'unprocessable',
};

/**
 * The refusal `type` of `catalogue`, as the error a domain operation throws: its title and status
 * are the catalogue's, so what is thrown can never differ from what the problem page and the
 * OpenAPI document say. `detail` says what happened this time; `extra` adds members to the problem,
 * `errors` points at the fields concerned.
 */
export function refuse<C extends Record<string, Refusal>>(
  catalogue: C,
  type: keyof C & string,
  detail: string,
  extra: Record<string, unknown> = {},
  errors: FieldError[] = [],
): DomainError {
  const { status, title } = catalogue[type] as Refusal;
  const kind = KIND_OF_STATUS[status];
  if (!kind) throw new Error(`${type} has status ${status}, which no domain refusal may have`);
  return new DomainError(kind, type, title, detail, extra, errors);
}
