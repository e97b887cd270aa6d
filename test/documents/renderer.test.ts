import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { Renderer, RendererError } from '../../src/documents/renderer.ts';
import { createDocumentService } from '../../src/documents/service.ts';
import { compileTemplates } from '../../src/documents/templates.ts';
import { setUpYear, testApp } from '../support/app.ts';
import { readPdf } from '../support/pdf.ts';

const BROWSER = process.env.BROWSER_PATH ?? '/usr/bin/chromium';
const PAGE = { title: 'A test document', reference: 'T-1', dateLabel: '1 June 2026' };
const html = (body: string) => `<!DOCTYPE html><html lang="en-GB"><head><title>t</title></head><body><h1>Heading</h1>${body}</body></html>`;

/** Process groups led by a Chromium this test process launched (puppeteer makes each browser a group leader). */
function browserGroups(): number[] {
  return execFileSync('ps', ['-e', '-o', 'pid=,ppid=,pgid=,comm='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, ppid, pgid, comm]) => ppid === String(process.pid) && pid === pgid && /chrom/i.test(comm ?? ''))
    .map(([pid]) => Number(pid));
}

/** How many processes of the group `pgid` still run (zombies have exited). */
function runningInGroup(pgid: number): number {
  return execFileSync('ps', ['-e', '-o', 'pgid=,stat='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([group, stat]) => group === String(pgid) && !stat?.startsWith('Z')).length;
}

const refusal = async (p: Promise<unknown>) => {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RendererError);
  return error as RendererError;
};

describe('the PDF renderer', () => {
  // One renderer for the tests that share a browser; the others make their own small ones.
  const renderer = new Renderer({ browserPath: BROWSER, concurrency: 2, maxQueue: 8, timeoutMs: 60_000 });
  afterAll(() => renderer.close());

  it('starts one browser for concurrent first renders, and makes tagged A4 PDFs with an outline', async () => {
    const pdfs = await Promise.all([1, 2, 3, 4].map((n) => renderer.render(html(`<p>Document ${n}</p>`), PAGE)));
    expect(renderer.launches).toBe(1);
    const read = await readPdf(pdfs[2] as Uint8Array);
    expect(read.text).toContain('Document 3');
    expect(read.text).toContain('Page 1 of 1');
    expect(read.text).toContain('T-1');
    expect(read.tagged).toBe(true);
    expect(read.outline).toContain('Heading');
  });

  it('relaunches a browser that crashed, and the next render succeeds', async () => {
    await renderer.render(html('<p>before</p>'), PAGE);
    const pid = await renderer.browserPid();
    expect(pid).toBeTypeOf('number');
    const launches = renderer.launches;
    process.kill(pid as number, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const read = await readPdf(await renderer.render(html('<p>after the crash</p>'), PAGE));
    expect(read.text).toContain('after the crash');
    expect(renderer.launches).toBe(launches + 1);
    expect(await renderer.browserPid()).not.toBe(pid);
  });

  it('refuses a render past its time limit cleanly, and renders the next', async () => {
    const big = html(`<table>${'<tr><td>row</td><td>of a very long table</td></tr>'.repeat(20_000)}</table>`);
    const error = await refusal(renderer.render(big, PAGE, { timeoutMs: 50 }));
    expect(error.code).toBe('render-timed-out');
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
    expect((await readPdf(await renderer.render(html('<p>next</p>'), PAGE))).text).toContain('next');
  });

  it('blocks every request to anything but the document itself', async () => {
    // If the image loaded the render would wait on a closed network; blocked, it renders at once.
    const pdf = await renderer.render(
      html('<img src="http://example.invalid/x.png" alt="x"><link rel="stylesheet" href="https://example.invalid/a.css"><p>no network</p>'),
      PAGE,
    );
    expect((await readPdf(pdf)).text).toContain('no network');
  });

  it("closes each document's context behind it and keeps one new context ready for the next", async () => {
    const browser = await renderer.browser();
    for (const n of [1, 2]) {
      await renderer.render(html(`<p>document ${n}</p>`), PAGE);
      await renderer.settled();
      // The browser's default context (unused) and the one made ready: the document's own is gone.
      expect(browser.browserContexts()).toHaveLength(2);
    }
  });

  it('answers busy when its queue is full, and replaces its browser after a fixed number of renders', async () => {
    const small = new Renderer({ browserPath: BROWSER, concurrency: 1, maxQueue: 1, rendersPerBrowser: 2 });
    try {
      const first = small.render(html('<p>1</p>'), PAGE);
      const second = small.render(html('<p>2</p>'), PAGE);
      const busy = await refusal(small.render(html('<p>3</p>'), PAGE));
      expect(busy.code).toBe('renderer-busy');
      expect(busy.retryAfterSeconds).toBeGreaterThan(0);
      await Promise.all([first, second]);
      await small.render(html('<p>4</p>'), PAGE);
      expect(small.launches).toBe(2);
    } finally {
      await small.close();
    }
  });

  it('leaves no process of any of its browsers running once closed, a retired one still rendering included', async () => {
    // One render per browser: the long document retires the first browser as it starts, and
    // the second document launches another. close() comes while the long one still renders.
    const others = new Set(browserGroups()); // the shared renderer's browser, if running
    const small = new Renderer({ browserPath: BROWSER, concurrency: 2, rendersPerBrowser: 1, timeoutMs: 120_000 });
    const long = small
      .render(html(`<table>${'<tr><td>row</td><td>of a very long table</td></tr>'.repeat(20_000)}</table>`), PAGE)
      .catch((error: unknown) => error);
    await small.render(html('<p>short</p>'), PAGE);
    expect(small.launches).toBe(2);
    const leaders = browserGroups().filter((leader) => !others.has(leader));
    expect(leaders.length).toBeGreaterThanOrEqual(2);
    await small.close();
    await long;
    // SIGKILL takes effect at once; only the reaping of zombies may lag, and zombies do not run.
    expect(leaders.filter((leader) => runningInGroup(leader) > 0)).toEqual([]);
  });

  it('names what to install when there is no browser', async () => {
    const none = new Renderer({ browserPath: '/nonexistent/chromium' });
    const error = await refusal(none.render(html('<p>x</p>'), PAGE));
    expect(error.code).toBe('browser-unavailable');
    expect(error.message).toContain('apt-get install -y chromium fonts-liberation');
    expect(error.message).toContain('BROWSER_PATH');
    await none.close();
  });

  it('turns renderer refusals into 503 problems, with Retry-After when waiting helps', async () => {
    const t = await testApp('sqlite', { templates: compileTemplates(), renderer: new Renderer({ browserPath: '/nonexistent/chromium' }) });
    try {
      await setUpYear(t);
      const r = await t.request('GET', '/api/v1/reports/fund-statement.pdf?fy=2026-27');
      expect(r.status).toBe(503);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.body.type).toBe('/problems/browser-unavailable');
      expect(r.body.detail).toContain('apt-get install -y chromium');
      expect(r.headers.get('retry-after')).toBeNull();
    } finally {
      await t.destroy();
    }
    const busy = createDocumentService({ browserPath: BROWSER, concurrency: 1, maxQueue: 0 });
    const t2 = await testApp('sqlite', busy);
    try {
      await setUpYear(t2);
      const path = '/api/v1/reports/fund-statement.pdf?fy=2026-27';
      const replies = await Promise.all([t2.request('GET', path), t2.request('GET', path)]);
      const statuses = replies.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 503]);
      const refused = replies.find((r) => r.status === 503);
      expect(refused?.body.type).toBe('/problems/renderer-busy');
      expect(refused?.headers.get('retry-after')).toBe('5');
    } finally {
      await busy.renderer.close();
      await t2.destroy();
    }
  });
});
