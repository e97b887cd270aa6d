import { join } from 'node:path';
import type { Context, Hono } from 'hono';
import { inTransaction } from '../db/database.ts';
import type { AppEnv, Deps } from '../http/context.ts';
import { DomainError, type FieldError } from '../lib/errors.ts';
import type { Act } from '../lib/operation.ts';
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
  roles: readonly Role[];
}

/** The service navigation: each section of the pages adds its entries (see src/web/app.ts). */
export const NAVIGATION: NavItem[] = [];

export function navigationFor(principal: Principal | undefined, path: string) {
  if (!principal) return [];
  return NAVIGATION.filter((n) => n.roles.includes(principal.role)).map((n) => ({
    ...n,
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
  const context = { ...model, user, csrfToken: c.get('csrfToken'), nav: navigationFor(principal, c.req.path), errors: model.errors ?? {} };
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

/**
 * Runs a form's operation: its result, or its field refusals as `FormErrors` for the form to show
 * again. Any other refusal (forbidden, not found, ...) goes on to the error pages.
 */
export async function tryForm<T>(
  run: () => Promise<T>,
  fieldOf?: (pointer: string) => string,
): Promise<{ ok: T } | { failed: FormErrors }> {
  try {
    return { ok: await run() };
  } catch (error) {
    if (error instanceof DomainError && (error.kind === 'invalid' || error.kind === 'conflict' || error.kind === 'unprocessable')) {
      return { failed: formErrors(error, fieldOf) };
    }
    throw error;
  }
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
