import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type BrowserContext, type HTTPRequest, type Page, type PDFOptions } from 'puppeteer-core';
import type { Logger } from '../lib/log.ts';

/*
 * Turns a document's HTML into an A4 PDF with headless Chromium. One browser serves every
 * render: it is launched once (concurrent first renders share the launch), each document gets a
 * fresh browser context with JavaScript off and every request outside the document itself
 * blocked, renders run a few at a time with a bounded queue behind them, each has a time limit,
 * and the browser is replaced after a crash and after a fixed number of renders (long-lived
 * Chromium processes grow). Nothing here knows about HTTP: refusals are RendererError values
 * the API turns into 503s.
 *
 * Where the time goes: a new context costs a renderer process, and that process's first PDF
 * costs again (fonts, layout and the print pipeline start up), about as much as the document.
 * So the next document's context is made while no document is rendering — after each render,
 * once its own context has closed — and is warmed with one small fixed page of our own (never
 * a reader's document) printed to PDF; a document's context is closed after its PDF is handed
 * back, not before. Each context still serves exactly one document.
 */

export type RendererErrorCode = 'browser-unavailable' | 'renderer-busy' | 'render-timed-out' | 'render-failed' | 'renderer-closed';

export class RendererError extends Error {
  constructor(
    readonly code: RendererErrorCode,
    message: string,
    /** Seconds after which trying again is sensible; null when it will not help. */
    readonly retryAfterSeconds: number | null,
  ) {
    super(message);
    this.name = 'RendererError';
  }
}

/** The exact set-up command for a machine without the browser (Debian, as the README says). */
export const BROWSER_INSTALL_COMMAND = 'apt-get update && apt-get install -y chromium fonts-liberation poppler-utils';

export interface RendererOptions {
  browserPath: string;
  /** Renders at once. */
  concurrency?: number;
  /** Renders allowed to wait behind those; one more is refused as busy. */
  maxQueue?: number;
  /** Per render, from leaving the queue to the last byte. */
  timeoutMs?: number;
  /** The browser is replaced after this many renders. */
  rendersPerBrowser?: number;
  /** Print a small page of our own in each new context before its document (default true; see the note at the top). */
  warmUp?: boolean;
  log?: Logger;
}

export interface PdfPage {
  /** The running header: the document's title and reference. */
  title: string;
  reference: string;
  /** Printed in the footer, as the reader should see it (e.g. "30 November 2026"). */
  dateLabel: string;
}

/** Chromium flags: headless in a container, and quiet on a closed network. */
const BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-extensions',
  '--disable-default-apps',
  '--mute-audio',
];

interface Tab {
  context: BrowserContext;
  tab: Page;
}

interface Generation {
  browser: Promise<Browser>;
  /** A fresh, warmed context and page made ready ahead of the next document (each is used once). */
  spare: Promise<Tab> | null;
  active: number;
  renders: number;
  retired: boolean;
  pid: number | null;
}

export class Renderer {
  private readonly concurrency: number;
  private readonly maxQueue: number;
  private readonly timeoutMs: number;
  private readonly rendersPerBrowser: number;
  private readonly warmUp: boolean;
  private current: Generation | null = null;
  /** Every browser not yet closed: the current one and retired ones still finishing a render. */
  private readonly open = new Set<Generation>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private closed = false;
  /** Work done between documents: contexts closing, the next one being made. */
  private readonly background = new Set<Promise<unknown>>();
  /** How many browsers have been launched (for operators' logs and the tests). */
  launches = 0;
  renders = 0;

  constructor(private readonly options: RendererOptions) {
    this.concurrency = options.concurrency ?? 2;
    this.maxQueue = options.maxQueue ?? 32;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.rendersPerBrowser = options.rendersPerBrowser ?? 500;
    this.warmUp = options.warmUp ?? true;
  }

  /** The running browser, launched if need be (the benchmark compares against bare use of it). */
  async browser(): Promise<Browser> {
    return this.generation().browser;
  }

  /** The browser's process id, once launched (null before, or while relaunching). */
  async browserPid(): Promise<number | null> {
    if (!this.current) return null;
    await this.current.browser.catch(() => undefined);
    return this.current?.pid ?? null;
  }

  /**
   * Renders one document. Refusals: browser-unavailable (no browser at the configured path, or
   * it will not start), renderer-busy (the queue is full), render-timed-out, render-failed (the
   * browser died twice under this document), renderer-closed (shutting down).
   */
  async render(html: string, page: PdfPage, options: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    if (this.closed) throw new RendererError('renderer-closed', 'The service is shutting down.', 5);
    await this.slot();
    try {
      try {
        return await this.renderOnce(html, page, options.timeoutMs ?? this.timeoutMs);
      } catch (error) {
        // The browser died under us: the next attempt runs on a fresh one.
        if (error instanceof RendererError && error.code === 'render-failed' && !this.closed) {
          return await this.renderOnce(html, page, options.timeoutMs ?? this.timeoutMs);
        }
        throw error;
      }
    } finally {
      this.release();
    }
  }

  /** Resolves once the work between documents (closing contexts, making the next) is done. */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  /**
   * Stops taking renders, waits for none, and closes every browser, retired ones still
   * finishing a render included: none may outlive the service.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.waiting.splice(0)) wake();
    this.current = null;
    await Promise.all(
      [...this.open].map((g) => {
        g.retired = true;
        g.spare = null;
        return this.closeGeneration(g);
      }),
    );
  }

  private closeGeneration(g: Generation): Promise<void> {
    return closeBrowser(g.browser).finally(() => this.open.delete(g));
  }

  private async slot(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return;
    }
    if (this.waiting.length >= this.maxQueue) {
      throw new RendererError(
        'renderer-busy',
        `Every PDF renderer is busy and ${this.waiting.length} documents are waiting. Try again in a few seconds.`,
        5,
      );
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.closed) throw new RendererError('renderer-closed', 'The service is shutting down.', 5);
    this.running++;
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }

  /** The browser to use now: the running one, or one launch shared by everyone who asks. */
  private generation(): Generation {
    if (this.current && !this.current.retired) return this.current;
    // Once closed, never launch again: a browser started after close() would outlive the service.
    if (this.closed) throw new RendererError('renderer-closed', 'The service is shutting down.', 5);
    if (!existsSync(this.options.browserPath)) {
      throw new RendererError(
        'browser-unavailable',
        `PDFs need Chromium, and there is none at ${this.options.browserPath}. Install it with \`${BROWSER_INSTALL_COMMAND}\` (as root), or set BROWSER_PATH to a Chromium binary.`,
        null,
      );
    }
    const g: Generation = {
      browser: undefined as unknown as Promise<Browser>,
      spare: null,
      active: 0,
      renders: 0,
      retired: false,
      pid: null,
    };
    this.launches++;
    g.browser = puppeteer
      .launch({ executablePath: this.options.browserPath, headless: true, args: BROWSER_ARGS, timeout: 30_000 })
      .then((browser) => {
        g.pid = browser.process()?.pid ?? null;
        browser.on('disconnected', () => this.retire(g));
        this.options.log?.info('browser launched', { pid: g.pid, launches: this.launches });
        return browser;
      })
      .catch((error: unknown) => {
        this.retire(g);
        throw new RendererError(
          'browser-unavailable',
          `Chromium at ${this.options.browserPath} would not start (${(error as Error).message.split('\n')[0]}). Check it with \`${this.options.browserPath} --version\`; install it with \`${BROWSER_INSTALL_COMMAND}\`.`,
          null,
        );
      });
    this.current = g;
    this.open.add(g);
    this.restock(g);
    return g;
  }

  /** Takes a browser out of service; it closes once its last render is done. */
  private retire(g: Generation): void {
    g.retired = true;
    const spare = g.spare;
    g.spare = null;
    void spare?.then((t) => t.context.close()).catch(() => undefined);
    if (this.current === g) this.current = null;
    if (g.active === 0) void this.closeGeneration(g);
  }

  /** The context made ready for this document, or a new one if none is ready; no context ever serves two documents. */
  private takeTab(g: Generation): Promise<Tab> {
    const ready = g.spare ?? this.prepareTab(g);
    g.spare = null;
    return ready;
  }

  /** Makes the next document's context now, while nothing renders, unless one is ready or the browser is going. */
  private restock(g: Generation): void {
    if (g.spare || g.retired || this.closed || this.current !== g) return;
    const spare = this.prepareTab(g);
    g.spare = spare;
    spare.catch(() => {
      if (g.spare === spare) g.spare = null;
    });
    this.track(spare);
  }

  private track(work: Promise<unknown>): void {
    const done = work.then(
      () => undefined,
      () => undefined,
    );
    this.background.add(done);
    void done.then(() => this.background.delete(done));
  }

  /**
   * A new browser context with one page, JavaScript off and every request but the document's
   * own blocked, warmed by printing a small fixed page of our own (see the note at the top).
   */
  private async prepareTab(g: Generation): Promise<Tab> {
    const browser = await g.browser;
    const context = await browser.createBrowserContext();
    try {
      const tab = await context.newPage();
      await tab.setJavaScriptEnabled(false);
      await tab.setRequestInterception(true);
      tab.on('request', (request: HTTPRequest) => {
        // The document carries its own styles and charts inline; nothing else may load.
        if (request.url().startsWith('data:') || request.url() === 'about:blank') void request.continue();
        else void request.abort('blockedbyclient');
      });
      if (this.warmUp) {
        await tab.setContent(WARM_UP_HTML, { waitUntil: 'load', timeout: this.timeoutMs });
        await tab.pdf({ ...pdfOptions(WARM_UP_PAGE), timeout: this.timeoutMs });
      }
      return { context, tab };
    } catch (error) {
      await context.close().catch(() => undefined);
      throw error;
    }
  }

  private async renderOnce(html: string, page: PdfPage, timeoutMs: number): Promise<Uint8Array> {
    const g = this.generation();
    g.active++;
    g.renders++;
    if (g.renders >= this.rendersPerBrowser) this.retire(g);
    let timer: NodeJS.Timeout | undefined;
    let context: Awaited<ReturnType<Browser['createBrowserContext']>> | undefined;
    const work = (async () => {
      const fresh = await this.takeTab(g);
      context = fresh.context;
      const tab = fresh.tab;
      await tab.setContent(html, { waitUntil: 'load', timeout: timeoutMs });
      return await tab.pdf({ ...pdfOptions(page), timeout: timeoutMs });
    })();
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RendererError(
              'render-timed-out',
              `The document took longer than ${timeoutMs / 1000} seconds to render and was abandoned. Try again shortly.`,
              10,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      const pdf = await Promise.race([work, timeout]);
      this.renders++;
      return pdf;
    } catch (error) {
      if (error instanceof RendererError) throw error;
      if (g.retired || !(await g.browser.then((b) => b.connected).catch(() => false))) {
        this.retire(g);
        throw new RendererError('render-failed', 'The browser stopped while rendering; it has been restarted.', 2);
      }
      throw new RendererError('render-failed', `The document could not be rendered: ${(error as Error).message.split('\n')[0]}`, null);
    } finally {
      clearTimeout(timer);
      work.catch(() => undefined);
      // The PDF goes back now; its context closes behind it, then the next one is made.
      // A render abandoned at its deadline may still be creating its context: close that too.
      const closing = context
        ? context.close().catch(() => undefined)
        : work
            .then(
              () => undefined,
              () => undefined,
            )
            .then(() => context?.close().catch(() => undefined));
      const after = closing.then(() => {
        g.active--;
        if (g.retired && g.active === 0) void this.closeGeneration(g);
        else this.restock(g);
      });
      this.track(after);
    }
  }
}

/** What a new context prints once before its document: the same fonts, table, heading and margins. */
const WARM_UP_PAGE: PdfPage = { title: 'Warm-up', reference: '-', dateLabel: '-' };
const WARM_UP_HTML = `<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>-</title><style>body{font-family:"Liberation Sans",Arial,sans-serif;font-size:10.5pt}table{border-collapse:collapse}th,td{border-bottom:1px solid #b1b4b6}</style></head><body><h1>Warm-up</h1><h2>Section</h2><p>Text <strong>bold</strong> <span style="font-variant-numeric:tabular-nums">£1,234.56</span></p><table><thead><tr><th>A</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table><svg width="10" height="10" role="img" aria-label="-"><rect width="10" height="10"/></svg></body></html>`;

/** A4, tagged, with an outline from the headings, and the running header and footer. */
export function pdfOptions(page: PdfPage): PDFOptions {
  return {
    format: 'A4',
    printBackground: true,
    tagged: true,
    outline: true,
    displayHeaderFooter: true,
    headerTemplate: headerTemplate(page),
    footerTemplate: footerTemplate(page),
    margin: { top: '22mm', bottom: '20mm', left: '18mm', right: '18mm' },
  };
}

async function closeBrowser(browser: Promise<Browser>): Promise<void> {
  let b: Browser;
  try {
    b = await browser;
  } catch {
    return; // Never launched.
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    if (b.connected) await Promise.race([b.close(), new Promise((resolve) => (timer = setTimeout(resolve, 5_000)))]);
  } catch {
    // Already gone, or refusing: the kill below settles it.
  } finally {
    clearTimeout(timer);
  }
  // However the close went, no process of the browser may outlive the service. Chromium is
  // launched as the leader of its own process group (puppeteer's `detached`) with its zygote and
  // renderers in it: the whole group is killed, so none that hangs is left behind the leader
  // (puppeteer's own exit hook skips the group once the leader is gone).
  const pid = b.process()?.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the whole group has already exited.
  }
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** Chromium prints these in the page margins; they need their own font size and no external anything. */
function headerTemplate(page: PdfPage): string {
  return `<div style="font-family:'Liberation Sans',Arial,sans-serif;font-size:8pt;color:#505a5f;box-sizing:border-box;width:100%;padding:0 18mm;display:flex;justify-content:space-between;gap:6mm;border-bottom:0.5pt solid #b1b4b6;padding-bottom:2mm"><span style="overflow:hidden;text-overflow:ellipsis;white-space:nowrap">${escapeHtml(page.title)}</span><span style="white-space:nowrap">${escapeHtml(page.reference)}</span></div>`;
}

function footerTemplate(page: PdfPage): string {
  return `<div style="font-family:'Liberation Sans',Arial,sans-serif;font-size:8pt;color:#505a5f;box-sizing:border-box;width:100%;padding:0 18mm;display:flex;justify-content:space-between"><span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span><span>${escapeHtml(page.dateLabel)}</span></div>`;
}
