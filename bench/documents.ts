import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusinessCase } from '../src/documents/documents.ts';
import { pdfOptions } from '../src/documents/renderer.ts';
import { createDocumentService } from '../src/documents/service.ts';
import { demoWorld } from '../test/support/demo.ts';

/*
 * Business-case PDFs: the service's renderer (a fresh context per document, JavaScript off,
 * requests blocked, queue and time limit), warm, against bare page.setContent + page.pdf of the
 * same HTML with the same PDF options on one reused page of the same browser, alternating so
 * both see the same machine load.
 *   Latency: one document at a time, each timed from a quiet browser (the renderer's work
 *   between documents — closing the last context, making the next — finished first, as it is
 *   when readers' requests are not back to back), so neither run is slowed by the other's.
 *   Documents per second: back to back, one after another, with everything each document costs
 *   (its context made and closed) inside the time.
 * Then `npm run cli -- render round <id>` for the demo's eight cases, as an operator runs it,
 * timed end to end (process start included).
 */

const withoutDatabaseUrl = (env: NodeJS.ProcessEnv) => Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'DATABASE_URL'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function benchDocuments(scale: number): Promise<void> {
  const documents = createDocumentService({ concurrency: 1 });
  const w = await demoWorld('sqlite', documents);
  try {
    const principal = { userId: 'bench', name: 'Bench', role: 'treasury' as const, organisationCode: null, isChair: false };
    const first = w.played.cases[0] as (typeof w.played.cases)[number];
    const built = await buildBusinessCase(w.t.database.db, principal, first.id, new Date());
    const html = documents.templates.render(built.template, built.model, built.page);
    const browser = await documents.renderer.browser();
    const page = await browser.newPage();
    const bare = async () => {
      await page.setContent(html, { waitUntil: 'load' });
      return page.pdf(pdfOptions(built.page));
    };
    const service = () => documents.renderer.render(html, built.page);
    for (let i = 0; i < 3; i++) {
      await bare();
      await service();
    }
    const n = Math.max(5, Math.round(20 * scale));
    const times = { service: [] as number[], bare: [] as number[] };
    for (let i = 0; i < n; i++) {
      for (const [name, run] of [
        ['service', service],
        ['bare', bare],
      ] as const) {
        await documents.renderer.settled();
        const started = performance.now();
        await run();
        times[name].push(performance.now() - started);
      }
    }
    // Back to back: k documents in a row through each, alternating blocks of k.
    const k = 5;
    const rounds = Math.max(2, Math.round(4 * scale));
    const inRow = { service: 0, bare: 0 };
    for (let r = 0; r < rounds; r++) {
      for (const [name, run] of [
        ['service', service],
        ['bare', bare],
      ] as const) {
        await documents.renderer.settled();
        const started = performance.now();
        for (let i = 0; i < k; i++) await run();
        if (name === 'service') await documents.renderer.settled();
        inRow[name] += performance.now() - started;
      }
    }
    await page.close();
    const m = { service: median(times.service), bare: median(times.bare) };
    const rate = { service: ((rounds * k) / inRow.service) * 1000, bare: ((rounds * k) / inRow.bare) * 1000 };
    console.log(`documents: business-case PDF (${first.reference}), warm, alternating with bare in the same browser`);
    console.log(
      `  latency (${n} each)  renderer median ${m.service.toFixed(0)} ms, bare median ${m.bare.toFixed(0)} ms: renderer / bare = ${(m.service / m.bare).toFixed(2)}× (aim ≤ 1.3×)\n` +
        `  back to back (${rounds * k} each, every context made and closed inside the time)  renderer ${rate.service.toFixed(2)} docs/s, bare ${rate.bare.toFixed(2)} docs/s: bare / renderer = ${(rate.bare / rate.service).toFixed(2)}×`,
    );

    const config = w.t.databaseConfig;
    if (config.engine !== 'sqlite') throw new Error('the CLI benchmark needs the SQLite demo database');
    const roundId = (await w.t.request('GET', '/api/v1/rounds')).body[0].id as string;
    const out = mkdtempSync(join(tmpdir(), 'topslice-bench-out-'));
    try {
      const started = performance.now();
      const cli = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'render', 'round', roundId, '--out', out], {
        env: { ...withoutDatabaseUrl(process.env), DATABASE_PATH: config.path, LOG_LEVEL: 'warn' },
        encoding: 'utf8',
      });
      const ms = performance.now() - started;
      if (cli.status !== 0) throw new Error(`render round failed: ${cli.stdout}${cli.stderr}`);
      console.log(
        `  npm run cli -- render round ${roundId}: ${readdirSync(out).length} business cases in ${(ms / 1000).toFixed(1)} s end to end`,
      );
      console.log(`  ${cli.stdout.trim()}`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  } finally {
    await documents.renderer.close();
    await w.t.destroy();
  }
}
