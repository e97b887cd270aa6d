import { type CheerioAPI, load } from 'cheerio';
import type { TestApp } from './app.ts';

/*
 * A browser without a browser, for page tests over HTTP: it keeps the session cookie, reads the
 * CSRF token and form id from the last page it loaded and posts forms as a browser would
 * (application/x-www-form-urlencoded). The real-browser tests are in test/web/browser.test.ts.
 */

export interface Page {
  status: number;
  location: string | null;
  html: string;
  $: CheerioAPI;
  /** The page's <title>. */
  title: string;
  /** The error summary's lines, in order. */
  errorSummary: string[];
}

export function webClient(t: Pick<TestApp, 'app'>) {
  let cookie = '';
  let csrf = '';
  let formId = '';

  function keep(res: Response) {
    const set = res.headers.get('set-cookie');
    if (set) {
      const [pair] = set.split(';');
      cookie = pair?.endsWith('=') ? '' : (pair ?? '');
    }
  }

  async function read(res: Response): Promise<Page> {
    keep(res);
    const html = await res.text();
    const $ = load(html);
    const token = $('input[name="_csrf"]').first().attr('value');
    if (token) csrf = token;
    // A redirect shows no page; any other answer is the page now shown, and its form (if any) is the one sent next.
    if (res.status < 300 || res.status >= 400) formId = $('input[name="_form"]').first().attr('value') ?? '';
    return {
      status: res.status,
      location: res.headers.get('location'),
      html,
      $,
      title: $('title').text(),
      errorSummary: $('.govuk-error-summary__list li')
        .map((_, li) => $(li).text().trim())
        .get(),
    };
  }

  async function get(path: string): Promise<Page> {
    return read(await t.app.request(path, { headers: cookie ? { cookie } : {} }));
  }

  /**
   * Posts a form; `_csrf` and the form id `_form` are the last page's unless given (pass null to
   * send none). As in a browser, the same form sent twice from one page (posts with no page read
   * between them) carries the same id; a page with no form of its own gives none.
   */
  async function post(path: string, fields: Record<string, string | string[] | null> = {}): Promise<Page> {
    const body = new URLSearchParams();
    const all: Record<string, string | string[] | null> = { _csrf: csrf, _form: formId || null, ...fields };
    for (const [k, v] of Object.entries(all)) {
      if (v === null) continue;
      for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    }
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (cookie) headers.cookie = cookie;
    return read(await t.app.request(path, { method: 'POST', headers, body: body.toString() }));
  }

  /** Signs in with a token through the sign-in page. */
  async function signIn(token: string): Promise<Page> {
    await get('/sign-in');
    const page = await post('/sign-in', { token });
    if (page.status !== 303) throw new Error(`sign-in: ${page.status} ${page.errorSummary.join('; ')}`);
    return page;
  }

  return {
    get,
    post,
    signIn,
    /** Follows a redirect the last post answered with. */
    follow: (page: Page) => get(page.location ?? '/'),
    get cookie() {
      return cookie;
    },
    set cookie(v: string) {
      cookie = v;
    },
  };
}
