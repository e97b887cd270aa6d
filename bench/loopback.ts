import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, fmtRange, interleave, measure, p95, ratios } from './measure.ts';

/*
 * Views served over loopback by a real HTTP server (the app in a process of its own, so the load
 * generator does not share its event loop), compared in interleaved rounds: in each round every
 * target is driven for one slice (page, API, page, API, …), giving its views per second and its
 * 95th-percentile latency for the round; ratios are per round, then the median and spread.
 */

export interface Server {
  child: ChildProcess;
  base: string;
}

/** bench/http-server.ts with `args` (`topslice <sqlite path>` or `bare`), listening on a free loopback port. */
export async function startServer(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'http-server.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return { child, base: `http://127.0.0.1:${Number(line)}` };
}

/** GETs `url` and reads it all; throws unless 200. */
export async function fetchOk(url: string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, { headers });
  const body = await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${Buffer.from(body).toString('utf8').slice(0, 300)}`);
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A browser's session cookie header, signed in through the sign-in page with `token`. */
export async function signInCookie(base: string, token: string): Promise<{ cookie: string }> {
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
  return { cookie };
}

export interface View {
  label: string;
  /** One view: the requests a client makes to see it. */
  view: () => Promise<void>;
}

export interface Slice {
  /** Views per second. */
  rate: number;
  /** 95th-percentile latency of a view, ms. */
  p95: number;
  /** Views per CPU-second taken by the server and this load generator together (null without `server`). */
  perCpu: number | null;
}

/** `server`'s CPU time so far, µs. */
async function serverCpu(server: Server): Promise<number> {
  const res = await fetch(`${server.base}/bench/cpu-usage`);
  const usage = (await res.json()) as NodeJS.CpuUsage;
  return usage.user + usage.system;
}

/**
 * Runs `target`'s view from `clients` clients, back to back, for `ms`: views per second and p95
 * latency, and, given the `server` that serves it, views per CPU-second of it and this process.
 */
export async function drive(target: View, clients: number, ms: number, server?: Server): Promise<Slice> {
  const latencies: number[] = [];
  const serverBefore = server ? await serverCpu(server) : 0;
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const until = started + ms;
  const client = async () => {
    while (performance.now() < until) {
      const t = performance.now();
      await target.view();
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const wall = performance.now() - started;
  const own = process.cpuUsage(ownBefore);
  const cpu = server ? (await serverCpu(server)) - serverBefore + own.user + own.system : 0;
  return {
    rate: (latencies.length / wall) * 1000,
    p95: p95(latencies),
    perCpu: server ? (latencies.length / cpu) * 1_000_000 : null,
  };
}

/**
 * The first target (a page) against each of the others (the JSON routes with the same data), in
 * `rounds` interleaved rounds of one `sliceMs` slice each, from `clients` clients. Prints and
 * records each target's views per second and p95 (median over rounds, with the spread) and the
 * page's ratios to each: throughput page/API (aim ≥ `aim`), p95 page/API, and views per
 * CPU-second (the server's and this process's) page/API, which a busy machine moves least.
 */
export async function compareViews(
  part: string,
  targets: View[],
  options: { server: Server; clients: number; rounds: number; sliceMs: number; aim: number },
): Promise<void> {
  const { server, clients, rounds, sliceMs, aim } = options;
  const slices = await interleave<Slice>(
    targets.map((target) => () => drive(target, clients, sliceMs, server)),
    rounds,
  );
  const who = clients === 1 ? '1 client' : `${clients} clients`;
  console.log(`  ${clients === 1 ? '1 client, back to back' : `${clients} concurrent clients`}:`);
  const width = Math.max(...targets.map((t) => t.label.length));
  for (const [i, t] of targets.entries()) {
    const s = slices[i] as Slice[];
    const r = measure(
      `${part}: ${t.label}, ${who}, views/s`,
      'views/s',
      s.map((x) => x.rate),
    );
    const p = measure(
      `${part}: ${t.label}, ${who}, p95`,
      'ms',
      s.map((x) => x.p95),
    );
    console.log(
      `    ${t.label.padEnd(width)}  ${fmtRange(r).padStart(20)} views/s   p95 ${p.median.toFixed(1).padStart(6)} ms (${p.min.toFixed(1)}–${p.max.toFixed(1)})`,
    );
  }
  const page = slices[0] as Slice[];
  for (const [i, t] of targets.entries()) {
    if (i === 0) continue;
    const api = slices[i] as Slice[];
    const throughput = measure(
      `${part}: ${targets[0]?.label} / ${t.label}, ${who}, throughput ratio`,
      'ratio',
      ratios(
        page.map((x) => x.rate),
        api.map((x) => x.rate),
      ),
      { op: '>=', value: aim },
    );
    const latency = measure(
      `${part}: ${targets[0]?.label} / ${t.label}, ${who}, p95 ratio`,
      'ratio',
      ratios(
        page.map((x) => x.p95),
        api.map((x) => x.p95),
      ),
    );
    const cpu = measure(
      `${part}: ${targets[0]?.label} / ${t.label}, ${who}, views per CPU-second ratio`,
      'ratio',
      ratios(
        page.map((x) => x.perCpu as number),
        api.map((x) => x.perCpu as number),
      ),
    );
    console.log(`    page / ${t.label}: throughput ${describe(throughput)}; p95 ${describe(latency)}; per CPU-second ${describe(cpu)}`);
  }
}
