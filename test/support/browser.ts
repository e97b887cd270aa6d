import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import puppeteer, { type Browser, type BrowserContext, type ElementHandle, type Page } from 'puppeteer-core';
import type { TestApp } from './app.ts';

/*
 * A real browser for the page tests: the project's Chromium (BROWSER_PATH, as the PDF renderer
 * uses), driven by puppeteer-core, against the app served on a loopback port. Each user is a
 * browser context of its own (its own cookies); a tab is reused from page to page. Every
 * response a page's assets answer with 4xx/5xx, every request that fails and every script error
 * is recorded, for the tests to assert there are none. axe-core is injected into a page to
 * check it against the WCAG A and AA rules; with SCREENSHOT_DIR set, each page it checks is also
 * saved there as a full-page screenshot.
 */

const BROWSER_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Containers often give /dev/shm 64 MB, too little for Chromium's shared memory.
  '--disable-dev-shm-usage',
];

/** Every WCAG 2.0, 2.1 and 2.2 level A and AA rule: axe's tags are not cumulative, so all five. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] as const;

// biome-ignore lint/suspicious/noExplicitAny: the page's DOM, in functions run in the browser (the project's TypeScript has no DOM library)
type Dom = any;
/** The page's globals, for functions run in the browser. */
type InPage = { document: Dom; axe?: Dom };

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Something a page asked for that did not come back whole. */
export interface BadResponse {
  /** The page that asked, and what it asked for. */
  page: string;
  url: string;
  /** The HTTP status, or the network error's text. */
  status: number | string;
  resourceType: string;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string; html: string; summary: string }[];
}

export interface AxeReport {
  url: string;
  violations: AxeViolation[];
  /** How many rules ran: passes + violations + incomplete + inapplicable. */
  rulesRun: number;
  /** Rules axe could not decide (for a person to look at), by id. */
  incomplete: string[];
  /** How long the check took. */
  ms: number;
}

export interface BrowserTab {
  page: Page;
  context: BrowserContext;
  /** Whether the tab runs the pages' scripts. */
  javascript: boolean;
  /** Goes to a path on the app and waits for the page to load (scripts run); gives the document's status. */
  go(path: string): Promise<number>;
  /** Clicks what matches and waits for the page it leads to; gives the document's status. */
  clickAndWait(selector: string | ElementHandle): Promise<number>;
  /**
   * Types into the field whose <label> says `label` (exactly, once whitespace is collapsed),
   * clearing it first; within the fieldset whose legend says `legend` if given.
   */
  fill(label: string, text: string, legend?: string): Promise<void>;
  /** Chooses the radio or checkbox whose <label> says `label`, within the fieldset whose legend says `legend` if given. */
  choose(label: string, legend?: string): Promise<void>;
  /** Chooses an option, by its visible text or else its value, in the <select> whose <label> says `label`. */
  select(label: string, optionText: string): Promise<void>;
  /** Clicks the button (or submit input) whose text is `text`, and waits for the next page. */
  press(text: string): Promise<number>;
  /** Follows the link whose text is `text` (exactly, once whitespace is collapsed). */
  follow(text: string): Promise<number>;
  /** The page's text under `selector` (whitespace collapsed), '' if none. */
  text(selector?: string): Promise<string>;
  /** Every match's text under `selector` (whitespace collapsed). */
  texts(selector: string): Promise<string[]>;
  /** The path (and query) the tab is on. */
  path(): string;
  /** The page's <title>. */
  title(): Promise<string>;
  /** The classes of the element that has focus. */
  focused(): Promise<string[]>;
  /** The classes on <body> (`js-enabled` once the page's script has run). */
  bodyClasses(): Promise<string[]>;
  /** Runs axe-core on the page as it stands. */
  axe(): Promise<AxeReport>;
}

export interface BrowserHarness {
  browser: Browser;
  baseUrl: string;
  /** Every asset or subresource that answered 4xx/5xx or failed, across every tab. */
  badResponses: BadResponse[];
  /** Uncaught script errors and console errors, across every tab. */
  scriptErrors: string[];
  /** Every axe report made by any tab, in order. */
  axeReports: AxeReport[];
  /** A new user's tab: its own cookies; `javascript: false` turns scripts off for it. */
  newTab(opts?: { javascript?: boolean }): Promise<BrowserTab>;
  close(): Promise<void>;
}

/** The app served on a free loopback port. */
export async function serveApp(app: TestApp['app']): Promise<{ server: ServerType; baseUrl: string }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({ server, baseUrl: `http://127.0.0.1:${info.port}` });
    });
  });
}

/** Launches Chromium (fresh profile) and serves `app` for it. */
export async function openBrowser(app: TestApp['app']): Promise<BrowserHarness> {
  const { server, baseUrl } = await serveApp(app);
  const profile = mkdtempSync(join(tmpdir(), 'topslice-browser-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.BROWSER_PATH || '/usr/bin/chromium',
    headless: true,
    args: [...BROWSER_ARGS, `--user-data-dir=${profile}`],
    timeout: 60_000,
  });
  const badResponses: BadResponse[] = [];
  const scriptErrors: string[] = [];
  const axeReports: AxeReport[] = [];

  async function newTab(opts: { javascript?: boolean } = {}): Promise<BrowserTab> {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.setDefaultNavigationTimeout(30_000);
    const javascript = opts.javascript !== false;
    if (!javascript) await page.setJavaScriptEnabled(false);
    const where = () => page.url().replace(baseUrl, '');
    page.on('response', (r) => {
      // A page itself may rightly answer 400 (a form with errors) or 404; what it loads may not.
      if (r.status() >= 400 && r.request().resourceType() !== 'document') {
        badResponses.push({
          page: where(),
          url: r.url().replace(baseUrl, ''),
          status: r.status(),
          resourceType: r.request().resourceType(),
        });
      }
    });
    page.on('requestfailed', (r) => {
      badResponses.push({
        page: where(),
        url: r.url().replace(baseUrl, ''),
        status: r.failure()?.errorText ?? 'failed',
        resourceType: r.resourceType(),
      });
    });
    page.on('pageerror', (e) => scriptErrors.push(`${where()}: ${(e as Error).message ?? String(e)}`));
    page.on('console', (m) => {
      // A document's own error status is a console error too; the response log above covers assets.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) scriptErrors.push(`${where()}: console: ${m.text()}`);
    });

    const status = (r: { status(): number } | null) => {
      if (!r) throw new Error(`no response for ${where()}`);
      return r.status();
    };

    async function clickAndWait(target: string | ElementHandle): Promise<number> {
      const el = typeof target === 'string' ? await page.$(target) : target;
      if (!el) throw new Error(`nothing matches ${String(target)} on ${where()}`);
      const [r] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), el.click()]);
      return status(r);
    }

    /** The id of the field labelled `label`: a <label for> whose text matches. */
    async function fieldFor(label: string, within?: string): Promise<string> {
      const id = await page.evaluate(
        (wanted: string, legend: string | null) => {
          const squash = (s: string | null) => (s ?? '').replace(/\s+/g, ' ').trim();
          const document = (globalThis as unknown as InPage).document;
          let scope: Dom = document;
          if (legend !== null) {
            const set = [...document.querySelectorAll('fieldset')].find(
              (f: Dom) => squash(f.querySelector('legend')?.textContent ?? '') === legend,
            );
            if (!set) return { error: `no fieldset with legend “${legend}”` };
            scope = set;
          }
          const labels: Dom[] = [...scope.querySelectorAll('label')].filter((l: Dom) => squash(l.textContent) === wanted);
          if (labels.length !== 1) {
            return {
              error: `${labels.length} labels say “${wanted}”: ${[...scope.querySelectorAll('label')].map((l: Dom) => squash(l.textContent)).join(' | ')}`,
            };
          }
          const forId = labels[0]?.htmlFor;
          if (!forId || !document.getElementById(forId)) return { error: `the label “${wanted}” names no field` };
          return { id: forId };
        },
        label,
        within ?? null,
      );
      if ('error' in id) throw new Error(`${where()}: ${id.error}`);
      return id.id as string;
    }

    const byId = (id: string) => `[id="${id.replace(/"/g, '\\"')}"]`;

    async function press(text: string): Promise<number> {
      const buttons = await page.$$('button, input[type=submit]');
      for (const b of buttons) {
        const t = await b.evaluate((el) => (el.textContent || (el as Dom).value || '').replace(/\s+/g, ' ').trim());
        if (t === text) return clickAndWait(b);
      }
      throw new Error(`${where()}: no button “${text}”`);
    }

    async function follow(text: string): Promise<number> {
      const links = await page.$$('a');
      for (const a of links) {
        const t = await a.evaluate((el) => (el.textContent ?? '').replace(/\s+/g, ' ').trim());
        if (t === text) return clickAndWait(a);
      }
      throw new Error(`${where()}: no link “${text}”`);
    }

    async function axe(): Promise<AxeReport> {
      const started = performance.now();
      // Injected through the DevTools protocol rather than a <script> tag. axe waits on timers,
      // which do not fire while a tab's scripts are off: they are turned on for the check alone
      // (the page's own scripts, skipped when it loaded, stay unrun).
      if (!javascript) await page.setJavaScriptEnabled(true);
      const has = await page.evaluate(() => (globalThis as unknown as InPage).axe !== undefined);
      if (!has) await page.evaluate(AXE_SOURCE);
      const raw = await page.evaluate(
        async (tags: string[]) => {
          const { axe, document } = globalThis as unknown as InPage;
          const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
          return {
            violations: r.violations.map((v: Dom) => ({
              id: v.id,
              impact: v.impact ?? null,
              help: v.help,
              nodes: v.nodes.map((n: Dom) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary ?? '' })),
            })),
            counts: r.passes.length + r.violations.length + r.incomplete.length + r.inapplicable.length,
            incomplete: r.incomplete.map((v: Dom) => v.id),
          };
        },
        [...WCAG_TAGS],
      );
      if (!javascript) await page.setJavaScriptEnabled(false);
      const report: AxeReport = {
        url: where(),
        violations: raw.violations,
        rulesRun: raw.counts,
        incomplete: raw.incomplete,
        ms: performance.now() - started,
      };
      axeReports.push(report);
      // SCREENSHOT_DIR keeps a picture of every page checked, for a person to look at.
      const dir = process.env.SCREENSHOT_DIR;
      if (dir) {
        mkdirSync(dir, { recursive: true });
        const name = `${String(axeReports.length).padStart(3, '0')}${where().replace(/[^a-z0-9]+/gi, '-')}`.slice(0, 120);
        await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
      }
      return report;
    }

    return {
      page,
      context,
      javascript,
      go: async (path) => status(await page.goto(`${baseUrl}${path}`, { waitUntil: 'load' })),
      clickAndWait,
      fill: async (label, text, legend) => {
        const sel = byId(await fieldFor(label, legend));
        await page.$eval(sel, (el) => {
          (el as Dom).value = '';
        });
        await page.focus(sel);
        // Sent as one input event, as a paste would be: a keystroke each is a round trip each.
        await page.keyboard.sendCharacter(text);
      },
      choose: async (label, legend) => {
        await page.click(byId(await fieldFor(label, legend)));
      },
      select: async (label, optionText) => {
        const sel = byId(await fieldFor(label));
        const value = await page.$eval(
          sel,
          (el, wanted) => {
            const options: Dom[] = [...(el as Dom).options];
            const chosen = options.find((o) => o.text.replace(/\s+/g, ' ').trim() === wanted) ?? options.find((o) => o.value === wanted);
            return chosen ? (chosen.value as string) : null;
          },
          optionText,
        );
        if (value === null) throw new Error(`${where()}: “${label}” has no option “${optionText}”`);
        await page.select(sel, value);
      },
      press,
      follow,
      text: async (selector = 'body') =>
        page.evaluate(
          (s: string) => ((globalThis as unknown as InPage).document.querySelector(s)?.textContent ?? '').replace(/\s+/g, ' ').trim(),
          selector,
        ),
      texts: async (selector) =>
        page.evaluate(
          (s: string) =>
            [...(globalThis as unknown as InPage).document.querySelectorAll(s)].map((e: Dom) =>
              (e.textContent ?? '').replace(/\s+/g, ' ').trim(),
            ),
          selector,
        ),
      path: where,
      title: () => page.title(),
      focused: () => page.evaluate(() => [...((globalThis as unknown as InPage).document.activeElement?.classList ?? [])] as string[]),
      bodyClasses: () => page.evaluate(() => [...(globalThis as unknown as InPage).document.body.classList] as string[]),
      axe,
    };
  }

  return {
    browser,
    baseUrl,
    badResponses,
    scriptErrors,
    axeReports,
    newTab,
    close: async () => {
      await browser.close().catch(() => browser.process()?.kill('SIGKILL'));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A violation list as one readable line per node, for an assertion's message. */
export function describeViolations(r: AxeReport): string {
  return r.violations
    .flatMap((v) => v.nodes.map((n) => `${r.url}: ${v.id} (${v.impact}) ${v.help} at ${n.target}: ${n.summary}`))
    .join('\n');
}
