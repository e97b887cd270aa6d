import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FIXTURES_DIR } from '../src/reference/reference.ts';
import { demoCase, demoLead, draftCase, submit } from '../test/support/cases.ts';
import { scores, world } from '../test/support/releases.ts';
import { fmt } from './measure.ts';

/*
 * The web pages against the JSON API serving the same data, over loopback to a real HTTP server
 * (the app in a process of its own, so the load generator does not share its event loop), on one
 * SQLite database, in the same run:
 *   - a signed-in council's draft case page (its task list and live appraisal, computed afresh
 *     on every request) against GET /api/v1/cases/{id} then GET /api/v1/cases/{id}/appraisal;
 *   - a signed-in panel member's list of a round's submitted cases (appraisal, scoring) against
 *     GET /api/v1/cases?round={id} (the round's cases), and against GET /api/v1/rounds/{id}/ranking
 *     (the round's cases with their scores and value for money).
 * Each is driven by one client (requests back to back) and by a few concurrent keep-alive
 * clients, page and API alternating in short slices so both see the same machine load;
 * requests per second and the 95th-percentile latency of each.
 */

interface Target {
  label: string;
  /** One view: the requests a client makes to see it. */
  view: () => Promise<void>;
}

interface Figures {
  rate: number;
  p95: number;
}

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))] as number;

async function startApp(path: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'http-server.ts'), 'topslice', path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`pages bench server exited with ${code}`)));
  });
  return { child, base: `http://127.0.0.1:${Number(line)}` };
}

/** GETs `url` and reads it all; throws unless 200. */
async function fetchOk(url: string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, { headers });
  const body = await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${Buffer.from(body).toString('utf8').slice(0, 300)}`);
}

/** A browser's session cookie, signed in through the sign-in page with `token`. */
async function signInCookie(base: string, token: string): Promise<string> {
  const form = await fetch(`${base}/sign-in`);
  const first = (form.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!first || !csrf) throw new Error('sign-in page gave no session or CSRF token');
  const res = await fetch(`${base}/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: first, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, token }).toString(),
  });
  await res.arrayBuffer();
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
  if (res.status !== 303 || !cookie) throw new Error(`sign-in: ${res.status}`);
  return cookie;
}

/** Runs `target`'s view from `clients` clients for `ms`, adding each view's latency to `latencies`; gives the views done. */
async function drive(target: Target, clients: number, ms: number, latencies: number[]): Promise<number> {
  const until = performance.now() + ms;
  let done = 0;
  const client = async () => {
    while (performance.now() < until) {
      const started = performance.now();
      await target.view();
      latencies.push(performance.now() - started);
      done++;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return done;
}

/** Each target in turn, `slices` times over, `sliceMs` each: views per second and p95 latency. */
async function compare(targets: Target[], clients: number, slices: number, sliceMs: number): Promise<Figures[]> {
  const latencies = targets.map(() => [] as number[]);
  const done = targets.map(() => 0);
  const spent = targets.map(() => 0);
  for (let s = 0; s < slices; s++) {
    for (const [i, target] of targets.entries()) {
      const started = performance.now();
      done[i] = (done[i] as number) + (await drive(target, clients, sliceMs, latencies[i] as number[]));
      spent[i] = (spent[i] as number) + performance.now() - started;
    }
  }
  return targets.map((_, i) => ({ rate: ((done[i] as number) / (spent[i] as number)) * 1000, p95: p95(latencies[i] as number[]) }));
}

function report(title: string, targets: Target[], byClients: [number, Figures[]][]): void {
  console.log(title);
  const width = Math.max(...targets.map((t) => t.label.length));
  for (const [clients, figures] of byClients) {
    console.log(`  ${clients === 1 ? '1 client, back to back' : `${clients} concurrent clients`}:`);
    for (const [i, t] of targets.entries()) {
      const f = figures[i] as Figures;
      console.log(`    ${t.label.padEnd(width)}  ${fmt(Math.round(f.rate)).padStart(6)} views/s   p95 ${f.p95.toFixed(1).padStart(6)} ms`);
    }
    const page = figures[0] as Figures;
    for (const [i, t] of targets.entries()) {
      if (i === 0) continue;
      const f = figures[i] as Figures;
      console.log(
        `    page / ${t.label}: throughput ${(page.rate / f.rate).toFixed(2)}×, p95 ${(page.p95 / f.p95).toFixed(2)}×   (aim: throughput ≥ 0.5×)`,
      );
    }
  }
}

export async function benchPages(scale: number): Promise<void> {
  const w = await world('sqlite');
  let server: { child: ChildProcess; base: string } | null = null;
  try {
    // The round: every demo case but Bradford's submitted by its lead council and scored by two
    // members; Bradford's is the council's draft, appraised afresh on each view.
    const councilTokens = new Map<string, string>();
    const councilToken = async (code: string) => {
      let token = councilTokens.get(code);
      if (!token) {
        token = await w.t.userToken({ name: `${code} case lead`, role: 'council', organisationCode: code });
        councilTokens.set(code, token);
      }
      return token;
    };
    const files = readdirSync(join(FIXTURES_DIR, 'demo', 'cases')).filter((f) => f.endsWith('.json'));
    let draftId = '';
    let submitted = 0;
    for (const file of files) {
      const token = file.includes('bradford') ? w.tokens.bradford : await councilToken(demoLead(file));
      const draft = await draftCase(w.t, token, demoCase(file, w.roundId));
      if (file.includes('bradford')) {
        draftId = draft.id;
        continue;
      }
      await submit(w.t, token, draft.id);
      submitted++;
      for (const member of [w.tokens.alice, w.tokens.bob]) {
        const r = await w.t.request('POST', `/api/v1/cases/${draft.id}/scores`, { token: member, body: scores(3) });
        if (r.status !== 200) throw new Error(`scores: ${r.status} ${r.text}`);
      }
    }
    const config = w.t.databaseConfig;
    if (config.engine !== 'sqlite') throw new Error('the pages benchmark runs on SQLite');
    server = await startApp(config.path);
    const { base } = server;
    const council = { cookie: await signInCookie(base, w.tokens.bradford) };
    const member = { cookie: await signInCookie(base, w.tokens.alice) };
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const round = encodeURIComponent(w.roundId);

    const caseTargets: Target[] = [
      { label: 'page GET /cases/{id}', view: () => fetchOk(`${base}/cases/${draftId}`, council) },
      {
        label: 'API GET /api/v1/cases/{id} + /appraisal',
        view: async () => {
          await fetchOk(`${base}/api/v1/cases/${draftId}`, bearer(w.tokens.bradford));
          await fetchOk(`${base}/api/v1/cases/${draftId}/appraisal`, bearer(w.tokens.bradford));
        },
      },
    ];
    const roundTargets: Target[] = [
      { label: 'page GET /rounds/{id}', view: () => fetchOk(`${base}/rounds/${round}`, member) },
      { label: 'API GET /api/v1/cases?round={id}', view: () => fetchOk(`${base}/api/v1/cases?round=${round}`, bearer(w.tokens.alice)) },
      {
        label: 'API GET /api/v1/rounds/{id}/ranking',
        view: () => fetchOk(`${base}/api/v1/rounds/${round}/ranking`, bearer(w.tokens.alice)),
      },
    ];

    const sliceMs = 1000 * scale;
    const slices = 3;
    const concurrent = 4;
    for (const [title, targets] of [
      [
        `pages: a council's draft case page with its live appraisal (${demoCase(files.find((f) => f.includes('bradford')) as string, w.roundId).title})`,
        caseTargets,
      ],
      [`pages: a panel member's list of the round's ${submitted} submitted cases`, roundTargets],
    ] as const) {
      await compare(targets, 1, 1, 300); // warm up
      const byClients: [number, Figures[]][] = [];
      for (const clients of [1, concurrent]) byClients.push([clients, await compare(targets, clients, slices, sliceMs)]);
      report(`${title}; SQLite, loopback, ${slices} alternating slices of ${sliceMs} ms each`, targets, byClients);
    }
  } finally {
    server?.child.kill('SIGTERM');
    await w.t.destroy();
  }
}
