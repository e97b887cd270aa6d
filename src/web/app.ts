import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler, Next } from 'hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Deps } from '../http/context.ts';
import { claimKey, keepAnswer, releaseKey, requestFingerprint } from '../http/idempotency.ts';
import { textProblem } from '../http/request-contract.ts';
import { DomainError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { TokenRefusal } from '../users/tokens.ts';
import { NAVIGATION, type NavItem, render, signedIn, type WebContext, type WebEnv } from './pages.ts';
import {
  CSRF_FIELD,
  csrfToken,
  csrfValid,
  findSession,
  SESSION_IDLE_MINUTES,
  sessionUser,
  signIn,
  signOut,
  startSession,
  type WebSession,
} from './session.ts';

/*
 * The web pages: every path that is not the API, its documentation or an asset. They are
 * server-rendered GOV.UK pages that work without JavaScript; they call the domain operations
 * directly (never the HTTP API), as the signed-in user, so the same role and organisation rules
 * apply. Each section of pages is a function that adds its routes and navigation here.
 */

const NOT_PAGES = /^\/(api|docs|openapi\.json|problems|healthz|assets)(\/|$)/;

/** Whether a path is one of the web pages (so it gets a session, and HTML errors). */
export function isPagePath(path: string): boolean {
  return !NOT_PAGES.test(path) && path !== '/favicon.ico';
}

/** A section of pages: its routes, and its entries in the service navigation. */
export interface PageSection {
  navigation?: NavItem[];
  mount(web: Hono<WebEnv>, deps: Deps): void;
}

/** Form posts are small: a business case's longest narrative is well under this. */
const FORM_LIMIT_BYTES = 512 * 1024;

/**
 * Every page request: the browser's session (a signed-out one is started on a first visit), who it
 * signs in, and, for a form post, the CSRF check before anything else runs.
 */
function webSession(deps: Deps): MiddlewareHandler<WebEnv> {
  const idle = deps.sessionIdleMinutes ?? SESSION_IDLE_MINUTES;
  return async (c, next) => {
    const db = deps.database.db;
    const now = deps.clock();
    let session = await findSession(db, c, now, idle);
    let fields: Record<string, unknown> = {};
    if (c.req.method === 'POST') {
      fields = session ? await c.req.parseBody({ all: true }) : {};
      const sent = fields[CSRF_FIELD];
      // A refused form: the error page, in the session (new if none), with nothing changed.
      const refuseForm = (s: WebSession, heading: string, paragraphs: string[], status: 400 | 403) => {
        c.set('session', s);
        c.set('csrfToken', csrfToken(s));
        return render(c, 'error', { title: heading, heading, paragraphs }, status);
      };
      if (!session || !csrfValid(session, Array.isArray(sent) ? sent[0] : sent)) {
        return refuseForm(
          session ?? (await startSession(db, c, now)),
          'This form has expired',
          [
            'For your security, forms stop working when you have been away for a while, or when they did not come from this service.',
            'Nothing has been changed. Go back, reload the page and try again.',
          ],
          403,
        );
      }
      // The API's rule for text (src/http/request-contract.ts): no control characters, no unpaired surrogates.
      const why = Object.values(fields)
        .flat()
        .map((v) => (typeof v === 'string' ? textProblem(v) : null))
        .find((w) => w !== null);
      if (why) {
        return refuseForm(
          session,
          'The form sent text this service cannot take',
          [
            `A field’s text ${why}: characters a keyboard does not type.`,
            'Nothing has been changed. Go back, correct the text and try again.',
          ],
          400,
        );
      }
    }
    if (!session) session = await startSession(db, c, now);
    c.set('session', session);
    c.set('csrfToken', csrfToken(session));
    c.set('formId', randomUUID());
    // The same rule for the address: its path and query (filters, cursors) reach the database too.
    const addressWhy = [c.req.path, ...Object.entries(c.req.queries()).flat(2)].map(textProblem).find((w) => w !== null);
    if (addressWhy) {
      const heading = 'The address has text this service cannot take';
      const paragraphs = [`Part of the page’s address ${addressWhy}.`, 'Check the address, or go back and use the page’s own links.'];
      return render(c, 'error', { title: heading, heading, paragraphs }, 400);
    }
    const user = await sessionUser(db, session, now);
    if (user && 'principal' in user) c.set('principal', user.principal);
    else if (user) c.set('sessionEnded', endedBecause(user));
    const formId = fields[FORM_ID_FIELD];
    if (c.req.method === 'POST' && user && 'principal' in user && typeof formId === 'string' && FORM_ID.test(formId)) {
      return sendOnce(c, deps, user.principal.userId, formId, fields, next);
    }
    await next();
  };
}

/** The id each rendered page gives its forms (the `csrf` partial writes it beside the CSRF token). */
const FORM_ID_FIELD = '_form';
const FORM_ID = /^[0-9a-f-]{36}$/;

/**
 * A form sent twice (a double click, the browser sending it again after a slow answer) changes
 * things once, by the same rule as the API's Idempotency-Key (src/http/idempotency.ts). The key
 * is the page's form id with what the form sent: the same form sent again is the same request,
 * while another form of the same page, or the same form with other values, is a new one. A second
 * send waits a few seconds for the first and gets its answer, the redirect to the result; a
 * refused send (4xx, 5xx) releases the key, so the second runs itself and shows the refusal. Only
 * redirects are kept: a page is never stored. (Pages are `no-store`, so the back button fetches
 * the form again with a new id: that is a new request.)
 */
async function sendOnce(c: WebContext, deps: Deps, userId: string, formId: string, fields: Record<string, unknown>, next: Next) {
  const db = deps.database.db;
  const { [CSRF_FIELD]: _csrf, ...sent } = fields;
  const fingerprint = requestFingerprint(c.req.method, c.req.path, sent);
  const key = `form:${formId}:${fingerprint}`;
  let claim = await claimKey(db, userId, key, fingerprint, deps.clock());
  for (let waited = 0; claim.state === 'in-flight' && waited < SECOND_SEND_WAITS_MS; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    claim = await claimKey(db, userId, key, fingerprint, deps.clock());
  }
  if (claim.state === 'done') return c.redirect(claim.body, 303);
  if (claim.state !== 'claimed') {
    const heading = 'This form is still being sent';
    return render(
      c,
      'error',
      {
        title: heading,
        heading,
        paragraphs: [
          'You sent this form again while the service was still acting on it the first time, and that has not finished yet.',
          'Do not send it again. In a minute, check the page the form was for to see whether the change was made.',
        ],
      },
      409,
    );
  }
  let kept = false;
  try {
    await next();
    const location = c.res.headers.get('location');
    if (c.res.status >= 300 && c.res.status < 400 && location) {
      await keepAnswer(db, userId, key, { statusCode: 303, body: location, contentType: REDIRECT });
      kept = true;
    }
  } finally {
    if (!kept) await releaseKey(db, userId, key);
  }
}

/** How long a second send of a form waits for the first to finish. */
const SECOND_SEND_WAITS_MS = 5_000;

/** How a kept answer that was a redirect is marked: its body is the location (RFC 2483's list of URIs). */
const REDIRECT = 'text/uri-list';

/** Why a signed-in session ended, in the words of the token rule. */
function endedBecause(r: TokenRefusal): string {
  switch (r.reason) {
    case 'expired':
      return 'You have been signed out because your token expired. Ask a Treasury user for a new one.';
    case 'revoked':
      return 'You have been signed out because your token was revoked. Sign in with the newer token you were given, or ask a Treasury user.';
    case 'deactivated':
      return 'You have been signed out because your account was deactivated. Ask a Treasury user if this is wrong.';
    default:
      return 'You have been signed out. Sign in again.';
  }
}

/** Only a path on this service, so signing in cannot send the user elsewhere. */
function safeNext(next: string | undefined): string {
  return next && /^\/(?!\/)[A-Za-z0-9/_.~%?=&-]*$/.test(next) && isPagePath(next.split('?')[0] as string) ? next : '/';
}

function signInPage(c: WebContext, model: { next?: string; error?: string }, status: 200 | 400 = 200) {
  return render(
    c,
    'sign-in',
    {
      title: 'Sign in',
      next: model.next && model.next !== '/' ? model.next : null,
      ended: c.get('sessionEnded') ?? null,
      errors: model.error ? { token: model.error } : {},
      errorList: model.error ? [{ text: model.error, href: '#token' }] : [],
    },
    status,
  );
}

function tokenRefusalMessage(r: TokenRefusal): string {
  switch (r.reason) {
    case 'expired':
      return 'This token has expired. Ask a Treasury user for a new one';
    case 'revoked':
      return 'This token has been revoked. Use the newer token you were given, or ask a Treasury user';
    case 'deactivated':
      return 'The account this token belongs to has been deactivated';
    default:
      return 'This token is not recognised. Check you copied all of it';
  }
}

/** Adds the pages to the service: the sign-in journey, the start page and every section given. */
export function mountPages(app: Hono<never>, deps: Deps, sections: PageSection[]): void {
  const web = new Hono<WebEnv>();
  const gate: MiddlewareHandler<WebEnv> = (c, next) => (isPagePath(c.req.path) ? webSession(deps)(c, next) : next());
  web.use('*', async (c, next: Next) => (isPagePath(c.req.path) && c.req.method === 'POST' ? formLimit(c, next) : next()));
  web.use('*', gate);

  web.get('/', (c) => {
    const principal = signedIn(c);
    return render(c, 'home', { title: principal ? 'Home' : 'Prevention fund' });
  });
  web.get('/sign-in', (c) => signInPage(c, { next: safeNext(c.req.query('next')) }));
  web.post('/sign-in', async (c) => {
    const fields = await c.req.parseBody();
    const token = typeof fields.token === 'string' ? fields.token.trim() : '';
    const next = safeNext(typeof fields.next === 'string' ? fields.next : undefined);
    if (!token) return signInPage(c, { next, error: 'Enter your token' }, 400);
    const result = await signIn(deps.database.db, c, c.get('session'), token, deps.clock());
    if (!('session' in result)) return signInPage(c, { next, error: tokenRefusalMessage(result) }, 400);
    return c.redirect(next, 303);
  });
  web.post('/sign-out', async (c) => {
    await signOut(deps.database.db, c, c.get('session'));
    return c.redirect('/signed-out', 303);
  });
  web.get('/signed-out', (c) => render(c, 'signed-out', { title: 'You have signed out' }));

  for (const section of sections) {
    NAVIGATION.push(...(section.navigation ?? []).filter((n) => !NAVIGATION.some((m) => m.href === n.href)));
    section.mount(web, deps);
  }
  app.route('/', web as unknown as Hono<never>);
}

const formLimit = bodyLimit({
  maxSize: FORM_LIMIT_BYTES,
  onError: (c) =>
    render(
      c as unknown as WebContext,
      'error',
      {
        title: 'Too much was sent',
        heading: 'Too much was sent',
        paragraphs: ['The form was larger than this service accepts. Nothing has been changed.'],
      },
      400,
    ),
});

/** A page that does not exist: GOV.UK's “Page not found”. */
export function pageNotFound(c: Context) {
  return render(
    c as unknown as WebContext,
    'error',
    {
      title: 'Page not found',
      heading: 'Page not found',
      paragraphs: [
        'If you typed the web address, check it is correct.',
        'If you pasted the web address, check you copied the entire address.',
      ],
    },
    404,
  );
}

/**
 * A page's error as GOV.UK error pages show it: not found (404, also for what another organisation
 * may not see), not allowed (403), a refusal the page did not expect (its own words), or
 * “Sorry, there is a problem with the service” (500, logged with the request id).
 */
export function pageError(error: Error, c: Context, log: Logger) {
  const wc = c as unknown as WebContext;
  if (!wc.get('csrfToken')) wc.set('csrfToken', '');
  if (error instanceof DomainError) {
    if (error.kind === 'not-found') return pageNotFound(c);
    if (error.kind === 'forbidden') {
      return render(wc, 'error', { title: 'You cannot do this', heading: 'You cannot do this', paragraphs: [error.message] }, 403);
    }
    const status = error.kind === 'invalid' ? 400 : error.kind === 'conflict' ? 409 : 422;
    return render(wc, 'error', { title: error.title, heading: error.title, paragraphs: [error.message] }, status);
  }
  log.error('unhandled error', { requestId: wc.get('requestId'), path: c.req.path, error });
  return render(
    wc,
    'error',
    {
      title: 'Sorry, there is a problem with the service',
      heading: 'Sorry, there is a problem with the service',
      paragraphs: ['Try again later. Nothing you sent has been saved unless a page told you so.'],
      requestId: wc.get('requestId'),
    },
    500,
  );
}
