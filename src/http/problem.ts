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

/** A refusal lists at most this many field errors, then says how many more there were. */
export const MAX_FIELD_ERRORS = 100;

/** The body's JSON Pointer for a path of keys (RFC 6901). */
export function pointerOf(path: readonly (string | number)[]): string {
  return path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Cuts a long list of field errors to MAX_FIELD_ERRORS, saying how many were left out. */
export function boundedErrors(errors: FieldError[]): FieldError[] {
  if (errors.length <= MAX_FIELD_ERRORS) return errors;
  return [...errors.slice(0, MAX_FIELD_ERRORS), { pointer: '', detail: `and ${errors.length - MAX_FIELD_ERRORS} more errors like these` }];
}

/** Zod issues as field errors: body fields by JSON Pointer (each unknown field its own), other parameters by name. */
export function zodFieldErrors(error: ZodError, target: string): FieldError[] {
  return boundedErrors(
    error.issues.flatMap((issue): FieldError[] => {
      const path = issue.path.map((p) => String(p));
      if (target === 'json' || target === 'form') {
        if (issue.code === 'unrecognized_keys') {
          return issue.keys.map((key) => ({ pointer: pointerOf([...path, key]), detail: 'is not a field this request takes' }));
        }
        return [{ pointer: pointerOf(path), detail: humanise(issue) }];
      }
      if (issue.code === 'unrecognized_keys')
        return issue.keys.map((key) => ({ parameter: key, detail: 'is not a parameter this request takes' }));
      return [{ parameter: path[0] ?? target, detail: humanise(issue) }];
    }),
  );
}

function humanise(issue: ZodError['issues'][number]): string {
  if (issue.code === 'unrecognized_keys') return `has fields this request does not take: ${issue.keys.join(', ')}`;
  return issue.message;
}

/**
 * Fields that were sent but that the route's schema did not keep: unknown fields, wherever they
 * are, even under an object schema that would otherwise drop them silently.
 */
export function unknownFields(sent: unknown, kept: unknown, path: (string | number)[] = []): FieldError[] {
  if (Array.isArray(sent) && Array.isArray(kept)) {
    return sent.flatMap((v, i) => (i < kept.length ? unknownFields(v, kept[i], [...path, i]) : []));
  }
  if (!isPlainObject(sent) || !isPlainObject(kept)) return [];
  return Object.keys(sent).flatMap((key) =>
    Object.hasOwn(kept, key)
      ? unknownFields(sent[key], kept[key], [...path, key])
      : [{ pointer: pointerOf([...path, key]), detail: 'is not a field this request takes' }],
  );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
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
    if (error.status === 415) {
      return problemResponse(c, {
        type: 'unsupported-media-type',
        title: 'Send JSON',
        status: 415,
        detail: 'The body must be application/json.',
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

/**
 * The raw HTTP response for a request Node's parser refused before the app saw it: problem+json
 * like every other refusal, and the connection closed.
 */
export function malformedRequestResponse(code: string | undefined): string {
  const tooLarge = code === 'HPE_HEADER_OVERFLOW';
  const body = JSON.stringify(
    tooLarge
      ? {
          type: '/problems/headers-too-large',
          title: 'The request headers are too large',
          status: 431,
          detail: 'The request headers together are larger than the server accepts.',
        }
      : {
          type: '/problems/malformed-request',
          title: 'The request is not valid HTTP',
          status: 400,
          detail: 'The request line or a header breaks HTTP/1.1 (a header value may hold only visible ASCII text, spaces and tabs).',
        },
  );
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  return `HTTP/1.1 ${status}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
