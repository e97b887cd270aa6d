import { join } from 'node:path';
import type { Context, Hono } from 'hono';
import type { ZodType } from 'zod';
import { inTransaction } from '../db/database.ts';
import type { AppEnv, Deps } from '../http/context.ts';
import { zodFieldErrors } from '../http/problem.ts';
import { DomainError, type FieldError, invalid } from '../lib/errors.ts';
import { type Act, assertRole, type Look } from '../lib/operation.ts';
import { compileDir } from '../lib/templates.ts';
import type { Principal, Role } from '../users/users.ts';
import type { WebSession } from './session.ts';

/*
 * What every page handler uses: the page's environment (who is signed in, the session's CSRF
 * token), rendering a template inside the GOV.UK layout, running domain operations in one
 * transaction as the signed-in user (the same operations the API calls, with the same role and
 * organisation rules), and turning a refusal's JSON Pointers into the GOV.UK error summary and
 * messages beside their fields.
 */

export interface WebEnv {
  Variables: AppEnv['Variables'] & {
    session: WebSession;
    csrfToken: string;
    /** This page's form id, sent back by every form so a second send changes nothing (see src/web/app.ts). */
    formId: string;
    /** Why the session's sign-in ended (its token was revoked, expired, ...), shown on the sign-in page. */
    sessionEnded?: string;
  };
}

export type WebContext = Context<WebEnv>;
export type WebApp = Hono<WebEnv>;

export const WEB_TEMPLATES_DIR = join(import.meta.dirname, '..', '..', 'templates', 'web');

/** A link in the service navigation and on the start page, for the roles it is for. */
export interface NavItem {
  href: string;
  text: string;
  description?: string;
  /** What the entry offers a role that may only read some of it (an auditor reads; only Treasury closes a year). */
  descriptionFor?: Partial<Record<Role, string>>;
  roles: readonly Role[];
}

/** The service navigation: each section of the pages adds its entries (see src/web/app.ts). */
export const NAVIGATION: NavItem[] = [];

export function navigationFor(principal: Principal | undefined, path: string) {
  if (!principal) return [];
  return NAVIGATION.filter((n) => n.roles.includes(principal.role)).map(({ descriptionFor, ...n }) => ({
    ...n,
    description: descriptionFor?.[principal.role] ?? n.description,
    current: path === n.href || path.startsWith(`${n.href}/`),
  }));
}

const ROLE_LABELS: Record<Role, string> = {
  treasury: 'Treasury',
  panel: 'panel member',
  department: 'department',
  council: 'council',
  auditor: 'auditor',
};

/** A field's message, by the field's id, and the summary at the top of the page, in page order. */
export interface FormErrors {
  errors: Record<string, string>;
  errorList: { text: string; href: string | null }[];
  /** The page's status for these errors: 400 for fields to correct, 409 or 422 as the refusal's kind says. */
  status?: 400 | 409 | 422;
}

export const NO_ERRORS: FormErrors = { errors: {}, errorList: [] };

/** `/costs/0/amountPence` → `costs-0-amountPence`: the id of the field a pointer names, by default. */
export function fieldIdOf(pointer: string): string {
  return pointer.replace(/^\//, '').replace(/\//g, '-') || 'main-content';
}

/**
 * A refusal as the GOV.UK error pattern shows it: each field error beside the field its pointer
 * names (through `fieldOf` when the form's names differ from the API's) and listed in the summary
 * linking to it; a refusal without field errors is one summary line. The first message for a
 * field wins, as a field shows one message.
 */
export function formErrors(error: DomainError | FieldError[], fieldOf: (pointer: string) => string = fieldIdOf): FormErrors {
  const list: FieldError[] = Array.isArray(error) ? error : error.errors;
  const kind = Array.isArray(error) ? 'invalid' : error.kind;
  const out: FormErrors = { errors: {}, errorList: [], status: kind === 'conflict' ? 409 : kind === 'unprocessable' ? 422 : 400 };
  if (list.length === 0 && !Array.isArray(error)) {
    out.errorList.push({ text: error.message, href: null });
    return out;
  }
  for (const e of list) {
    const id = e.pointer !== undefined ? fieldOf(e.pointer) : e.parameter ? fieldOf(`/${e.parameter}`) : null;
    const text = sentence(e.detail);
    if (id === null) out.errorList.push({ text, href: null });
    else if (out.errors[id] === undefined) {
      out.errors[id] = text;
      out.errorList.push({ text, href: `#${id}` });
    }
  }
  return out;
}

const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export interface PageModel {
  /** The page's `<title>` (before “ – topslice”); unique per page. */
  title: string;
  backLink?: string;
  /** A success banner. */
  notice?: string;
  [key: string]: unknown;
}

const views = compileDir(WEB_TEMPLATES_DIR, 'Web page', { explicitPartialContext: true });
const layout = (() => {
  const t = views.templates.get('layout');
  if (!t) throw new Error(`Web templates in ${WEB_TEMPLATES_DIR} have no layout.hbs`);
  return t;
})();

/** The names of the page templates (every top-level `.hbs` but the layout). */
export const PAGE_TEMPLATES = [...views.templates.keys()].filter((n) => n !== 'layout').sort();

/** Renders `templates/web/<name>.hbs` inside the layout, for the signed-in user (if any). */
export function render(
  c: WebContext,
  name: string,
  model: PageModel & Partial<FormErrors>,
  status: 200 | 400 | 403 | 404 | 409 | 422 | 500 = 200,
) {
  const template = views.templates.get(name);
  if (!template) throw new Error(`no page template ${name}`);
  const principal = c.get('principal') as Principal | undefined;
  const user = principal ? { ...principal, roleLabel: ROLE_LABELS[principal.role] } : null;
  const context = {
    ...model,
    user,
    csrfToken: c.get('csrfToken'),
    formId: c.get('formId'),
    nav: navigationFor(principal, c.req.path),
    errors: model.errors ?? {},
  };
  const body = template(context);
  c.header('cache-control', 'no-store');
  return c.html(layout({ ...context, body: new views.hb.SafeString(body) }), status);
}

/** The signed-in user, or null: the page then sends the browser to sign in and come back. */
export function signedIn(c: WebContext): Principal | null {
  return (c.get('principal') as Principal | undefined) ?? null;
}

/** A redirect to the sign-in page that brings the user back to this page afterwards. */
export function toSignIn(c: WebContext) {
  const next = c.req.method === 'GET' ? c.req.path : null;
  return c.redirect(next && next !== '/' ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in', 303);
}

/**
 * Runs domain operations as the signed-in user in one transaction, as an API request does
 * (`acting` in src/http/router.ts): a refusal leaves no partial write.
 */
export function actingAsUser<T>(deps: Deps, c: WebContext, run: (act: Act) => Promise<T>): Promise<T> {
  const principal = c.get('principal') as Principal;
  const requestId = c.get('requestId');
  const now = deps.clock();
  return inTransaction(deps.database.db, (trx) => run({ trx, principal, requestId, now }));
}

/** How a form's refusals are shown: what its fields are called, and which field a pointer names. */
export interface FormFieldNames {
  /**
   * The field's name to put before a message the API words as a phrase ("must not be empty"), so
   * the message names what is wrong as GOV.UK's do: by the pointer, or by its first segment.
   */
  names?: Record<string, string> | ((pointer: string) => string | null);
  /** The id of the field a pointer names (by default `fieldIdOf`). */
  fieldOf?: (pointer: string) => string;
}

/** Field errors with the field's name in front where the message is a phrase; a page's own sentences stay as they are. */
export function named(errors: FieldError[], names: FormFieldNames['names']): FieldError[] {
  if (!names) return errors;
  const nameOf = typeof names === 'function' ? names : (ptr: string) => names[ptr] ?? names[ptr.split('/')[1] ?? ''] ?? null;
  return errors.map((e) => {
    const name = e.pointer === undefined || !/^[a-z]/.test(e.detail) ? null : nameOf(e.pointer);
    return name ? { ...e, detail: `${name} ${e.detail}` } : e;
  });
}

/**
 * Runs a form's operation: its result, or its refusal when it is one a form shows again beside its
 * fields (invalid, conflict, unprocessable). Any other refusal (forbidden, not found, ...) goes on
 * to the error pages.
 */
export async function attemptForm<T>(run: () => Promise<T>): Promise<{ ok: T } | { refused: DomainError }> {
  try {
    return { ok: await run() };
  } catch (error) {
    if (error instanceof DomainError && (error.kind === 'invalid' || error.kind === 'conflict' || error.kind === 'unprocessable')) {
      return { refused: error };
    }
    throw error;
  }
}

/**
 * Runs a form's operation (attemptForm): its result, or its refusal as `FormErrors` for the form to
 * show again, each field's message beside it (a refusal about one field, such as a price outside
 * the band, too).
 */
export async function tryForm<T>(run: () => Promise<T>, how: FormFieldNames = {}): Promise<{ ok: T } | { failed: FormErrors }> {
  const done = await attemptForm(run);
  if ('ok' in done) return done;
  const error = done.refused;
  const pointer = error.extra.pointer;
  const fields =
    error.errors.length > 0 ? named(error.errors, how.names) : typeof pointer === 'string' ? [{ pointer, detail: error.message }] : [];
  const refusal = new DomainError(error.kind, error.type, error.title, error.message, error.extra, fields);
  return { failed: formErrors(refusal, how.fieldOf) };
}

/** Reads as the signed-in user: the same role and organisation rules as the API's reads. */
export const lookAs = (deps: Deps, p: Principal): Look => ({ db: deps.database.db, principal: p });

/** Signed in, or off to sign in and back. */
export function requireUser(c: WebContext): Principal | Response {
  return signedIn(c) ?? toSignIn(c);
}

/** Signed in with one of `roles` (refused with the 403 page otherwise), or off to sign in and back. */
export function requireRole(c: WebContext, roles: readonly Role[]): Principal | Response {
  const p = signedIn(c);
  if (!p) return toSignIn(c);
  assertRole(p, roles);
  return p;
}

/** The success message a redirect asked for with `?done=`, from the page's own list (never text from the request). */
export function noticeOf(c: WebContext, notices: Record<string, string>): string | undefined {
  return notices[c.req.query('done') ?? ''] ?? undefined;
}

/** Checks a form, turned into the API's JSON body, against the API's schema: its parsed value, or field errors. */
export function checkBody<T>(schema: ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw invalid(zodFieldErrors(parsed.error, 'json'));
  return parsed.data;
}

/** A form post's fields: each a string (the last value sent); files and absent fields are ''. */
export async function formFields(c: WebContext): Promise<Record<string, string>> {
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(body)) {
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    out[k] = typeof last === 'string' ? last : '';
  }
  return out;
}

/** The values sent under one name, in order (checkboxes, repeated fields). */
export async function formValues(c: WebContext, name: string): Promise<string[]> {
  const body = await c.req.parseBody({ all: true });
  const v = body[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');
}
