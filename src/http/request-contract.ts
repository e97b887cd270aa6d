import type { MiddlewareHandler } from 'hono';
import type { FieldError } from '../lib/errors.ts';
import type { AppEnv } from './context.ts';
import { boundedErrors, MAX_FIELD_ERRORS, pointerOf, problemResponse, validationProblem } from './problem.ts';

/*
 * The request contract: one rule for every request the API takes, applied here so that every
 * route inherits it without declaring anything.
 *   - A body is at most MAX_BODY_BYTES (1 MiB). A larger declared length is refused with 413
 *     before a byte is read; a body that turns out larger is refused as soon as it passes the
 *     limit, and the connection is closed rather than read to the end.
 *   - A body that is not empty must be JSON (`Content-Type: application/json`), else 415; an empty
 *     body (no bytes at all, whatever the headers) is the empty object `{}`, so an action that
 *     takes no input accepts a bare POST.
 *   - JSON is UTF-8 text; it nests at most MAX_DEPTH deep, and any one array or object in it has
 *     at most MAX_ENTRIES entries. A larger collection is one problem naming where it is, not one
 *     error per entry.
 *   - Text carries no control characters (U+0000–U+001F other than tab, line feed and carriage
 *     return; U+007F–U+009F) and no unpaired surrogates, in any string or key of the body, any
 *     query parameter, or the path. Both databases would treat them differently (PostgreSQL
 *     refuses NUL outright), so both refuse them here, with a pointer.
 *   - No key named `__proto__`, `constructor` or `prototype`: request names are only ever looked
 *     up as own keys (`ownValue` below), and these never name anything the API takes.
 *   - Unknown fields are refused with a pointer to each (the validation hook in router.ts compares
 *     what a route's schema kept with what was sent).
 */

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_ENTRIES = 1000;
export const MAX_DEPTH = 32;

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** `obj[key]` only when `key` is the object's own property, never one inherited from its prototype. */
export function ownValue<V>(obj: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

// C0 controls except tab, LF, CR; DEL and the C1 controls; a surrogate (in /u mode only an unpaired one matches).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const FORBIDDEN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uD800-\uDFFF]/u;

/** Why `text` is not acceptable text, or null if it is. */
export function textProblem(text: string): string | null {
  const m = FORBIDDEN_TEXT.exec(text);
  if (!m) return null;
  const code = m[0].codePointAt(0) ?? 0;
  if (code >= 0xd800 && code <= 0xdfff) return 'must be valid Unicode text (it has an unpaired surrogate)';
  return `must not contain control characters (it has U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
}

/** Every breach of the contract in a parsed body: depth, collection sizes, text, reserved keys. */
export function bodyProblems(value: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0 && errors.length <= MAX_FIELD_ERRORS) {
    const { value: v, path } = stack.pop() as { value: unknown; path: (string | number)[] };
    if (typeof v === 'string') {
      const why = textProblem(v);
      if (why) errors.push({ pointer: pointerOf(path), detail: why });
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (path.length >= MAX_DEPTH) {
      errors.push({ pointer: pointerOf(path), detail: `nests deeper than ${MAX_DEPTH} levels` });
      continue;
    }
    const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    if (entries.length > MAX_ENTRIES) {
      errors.push({
        pointer: pointerOf(path),
        detail: `has ${entries.length} entries; at most ${MAX_ENTRIES} are taken in one ${Array.isArray(v) ? 'list' : 'object'}`,
      });
      continue;
    }
    for (const [key, child] of entries.reverse()) {
      if (typeof key === 'string') {
        const why = textProblem(key);
        if (why) errors.push({ pointer: pointerOf([...path, key]), detail: `the field name ${why}` });
        else if (RESERVED_KEYS.has(key)) errors.push({ pointer: pointerOf([...path, key]), detail: 'is not a field this API takes' });
      }
      stack.push({ value: child, path: [...path, key] });
    }
  }
  return errors;
}

/** The same JSON value whatever the order of its keys: for comparing requests, not for storing them. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const tooLarge = () => ({
  type: 'body-too-large',
  title: 'The request body is too large',
  status: 413,
  detail: `A request body may be at most ${MAX_BODY_BYTES} bytes (1 MiB).`,
  limitBytes: MAX_BODY_BYTES,
});

/**
 * Before anything else: a declared body longer than the limit is refused unread. Runs before
 * authentication, so nobody's large body is ever read.
 */
export function bodyLimit(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined && BODY_METHODS.has(c.req.method)) {
      const n = /^\d+$/.test(length.trim()) ? Number(length.trim()) : Number.NaN;
      if (!Number.isFinite(n)) {
        return problemResponse(c, validationProblem([{ parameter: 'Content-Length', detail: 'must be a whole number of bytes' }]));
      }
      if (n > MAX_BODY_BYTES) return problemResponse(c, tooLarge(), { connection: 'close' });
    }
    await next();
  };
}

/** Reads at most `limit` bytes of a stream; null if it holds more. */
async function readCapped(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | null> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * The body and parameters of every API request, checked against the contract above. The parsed
 * body is left in `c.get('body')` (the empty object for an empty body) and in the request's body
 * cache, so the route validators read it without reading the stream again.
 */
export function requestContract(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const paramErrors: FieldError[] = [];
    let path = c.req.path;
    try {
      path = decodeURIComponent(path);
    } catch {
      paramErrors.push({ parameter: 'path', detail: 'is not valid percent-encoded UTF-8' });
    }
    const pathWhy = textProblem(path);
    if (pathWhy) paramErrors.push({ parameter: 'path', detail: pathWhy });
    for (const [name, values] of Object.entries(c.req.queries())) {
      const why = textProblem(name) ?? values.map(textProblem).find((w) => w !== null) ?? null;
      if (why) paramErrors.push({ parameter: name, detail: why });
    }
    if (paramErrors.length > 0) return problemResponse(c, validationProblem(paramErrors));

    if (!BODY_METHODS.has(c.req.method)) return next();
    const stream = c.req.raw.body;
    const bytes = stream ? await readCapped(stream, MAX_BODY_BYTES) : new Uint8Array(0);
    if (bytes === null) return problemResponse(c, tooLarge(), { connection: 'close' });
    let body: unknown = {};
    let text = '';
    if (bytes.byteLength > 0) {
      const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim() ?? '';
      if (!JSON_TYPE.test(type)) {
        return problemResponse(c, {
          type: 'unsupported-media-type',
          title: 'Send JSON',
          status: 415,
          detail: `The body must be application/json, not ${type || 'an unlabelled body'}.`,
        });
      }
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        body = JSON.parse(text);
      } catch {
        return problemResponse(c, {
          type: 'malformed-json',
          title: 'The request body is not valid JSON',
          status: 400,
          detail: 'The body could not be parsed as JSON (UTF-8). Check quotes, commas and brackets.',
        });
      }
      const errors = bodyProblems(body);
      if (errors.length > 0) return problemResponse(c, validationProblem(boundedErrors(errors)));
    }
    if (bytes.byteLength === 0) {
      // No bytes is no input, whatever the headers say: the validators downstream see an empty JSON object.
      text = '{}';
      const headers = new Headers(c.req.raw.headers);
      headers.set('content-type', 'application/json');
      c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers });
    }
    c.set('body', body);
    // The validators read the body through Hono's cache: text first, as other readers derive from the first entry.
    const cache = c.req.bodyCache as Record<string, Promise<unknown>>;
    cache.text = Promise.resolve(text);
    cache.json = Promise.resolve(body);
    await next();
  };
}
