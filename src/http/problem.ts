import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { DomainError, type ErrorKind, type FieldError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { toJson } from '../lib/money.ts';

/** RFC 9457 problem details: the only shape an error ever leaves the service in. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  invalid: 400,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  unprocessable: 422,
};

export function problemResponse(c: Context, p: Problem, headers: Record<string, string> = {}): Response {
  const body: Problem = { ...p, type: `/problems/${p.type}`, instance: c.req.path };
  const requestId = c.get('requestId' as never) as string | undefined;
  if (requestId) body.requestId = requestId;
  return new Response(JSON.stringify(toJson(body)), {
    status: p.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
}

/** Zod issues as field errors: body fields by JSON Pointer, other parameters by name. */
export function zodFieldErrors(error: ZodError, target: string): FieldError[] {
  return error.issues.map((issue) => {
    const path = issue.path.map((p) => String(p));
    if (target === 'json' || target === 'form') {
      const pointer = `/${path.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
      return { pointer: path.length === 0 ? '' : pointer, detail: humanise(issue) };
    }
    return { parameter: path[0] ?? target, detail: humanise(issue) };
  });
}

function humanise(issue: ZodError['issues'][number]): string {
  if (issue.code === 'unrecognized_keys') return `has fields this request does not take: ${issue.keys.join(', ')}`;
  return issue.message;
}

export function validationProblem(errors: FieldError[], detail = 'The request has invalid fields.'): Problem {
  return { type: 'validation-error', title: 'Your request is not valid', status: 400, detail, errors };
}

/** The one place every thrown error becomes a response. Nothing unexpected leaks its message. */
export function handleError(error: Error, c: Context, log: Logger): Response {
  if (error instanceof DomainError) {
    const p: Problem = {
      type: error.type,
      title: error.title,
      status: STATUS[error.kind],
      detail: error.message,
      ...error.extra,
    };
    if (error.errors.length > 0) p.errors = error.errors;
    return problemResponse(c, p);
  }
  if (error instanceof HTTPException) {
    if (error.status === 400 && /malformed json/i.test(error.message)) {
      return problemResponse(c, {
        type: 'malformed-json',
        title: 'The request body is not valid JSON',
        status: 400,
        detail: 'The body could not be parsed as JSON. Check quotes, commas and brackets.',
      });
    }
    return problemResponse(c, {
      type: `http-${error.status}`,
      title: error.message || 'Request refused',
      status: error.status,
      detail: error.message || 'The request was refused.',
    });
  }
  log.error('unhandled error', { requestId: c.get('requestId' as never), path: c.req.path, error });
  return problemResponse(c, {
    type: 'internal-error',
    title: 'Something went wrong on our side',
    status: 500,
    detail: 'The request could not be completed and nothing was changed. Quote the request id when reporting this.',
  });
}
