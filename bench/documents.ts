import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusinessCase } from '../src/documents/documents.ts';
import { pdfOptions } from '../src/documents/renderer.ts';
import { createDocumentService } from '../src/documents/service.ts';
import { demoWorld } from '../test/support/demo.ts';
import { describe, fmtRange, interleave, measure, ratios, spread } from './measure.ts';

/*
 * Business-case PDFs: the service's renderer (a fresh context per document, JavaScript off,
 * requests blocked, queue and time limit), warm, against bare page.setContent + page.pdf of the
 * same HTML with the same PDF options on one reused page of the same browser, in interleaved
 * rounds so both see the same machine load.
 *   Latency: one document at a time, each timed from a quiet browser (the renderer's work
 *   between documents — closing the last context, making the next — finished first, as it is
 *   when readers' requests are not back to back), so neither run is slowed by the other's.
 *   Documents per second: back to back, one after another, with everything each document costs
 *   (its context made and closed) inside the time.
 * Then `npm run cli -- render round <id>` for the demo's eight cases, as an operator runs it,
 * timed end to end (process start included).
 */

const withoutDatabaseUrl = (env: NodeJS.ProcessEnv) => Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'DATABASE_URL'));

export async function benchDocuments(rounds: number): Promise<void> {
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
    // Latency: one document each per round, each from a quiet browser; three times as many
    // rounds as elsewhere, as a round is one document.
    const settledThen = (run: () => Promise<unknown>) => async () => {
      await documents.renderer.settled();
      const started = performance.now();
      await run();
      return performance.now() - started;
    };
    const latencyRounds = 3 * rounds;
    const [serviceMs, bareMs] = await interleave([settledThen(service), settledThen(bare)], latencyRounds, 3);
    // Back to back: k documents in a row through each per round.
    const k = 5;
    const inRow = (run: () => Promise<unknown>, settle: boolean) => async () => {
      await documents.renderer.settled();
      const started = performance.now();
      for (let i = 0; i < k; i++) await run();
      if (settle) await documents.renderer.settled();
      return (k / (performance.now() - started)) * 1000;
    };
    const [serviceRate, bareRate] = await interleave([inRow(service, true), inRow(bare, false)], rounds);
    await page.close();
    const latency = measure(
      'documents: business-case PDF latency, renderer/bare',
      'ratio',
      ratios(serviceMs as number[], bareMs as number[]),
      {
        op: '<=',
        value: 1.3,
      },
    );
    const throughput = measure(
      'documents: business-case PDFs back to back, bare/renderer',
      'ratio',
      ratios(bareRate as number[], serviceRate as number[]),
    );
    const m = { service: spread(serviceMs as number[]), bare: spread(bareMs as number[]) };
    const r = { service: spread(serviceRate as number[]), bare: spread(bareRate as number[]) };
    console.log(`documents: business-case PDF (${first.reference}), warm, interleaved with bare in the same browser`);
    console.log(
      `  latency (${latencyRounds} rounds)  renderer ${fmtRange(m.service)} ms, bare ${fmtRange(m.bare)} ms: renderer / bare = ${describe(latency)}\n` +
        `  back to back (${rounds} rounds of ${k}, every context made and closed inside the time)  renderer ${r.service.median.toFixed(2)} docs/s, bare ${r.bare.median.toFixed(2)} docs/s: bare / renderer = ${describe(throughput)}`,
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
      measure('documents: npm run cli -- render round, end to end', 's', [ms / 1000]);
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
