import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlayedCases } from './cases.ts';

/*
 * The demo's last step: every document, downloaded through the API as its readers would, written
 * to out/ (or DEMO_OUT_DIR): each case's business case and decision letter, the fund statement,
 * the realised-benefits review, the credits and compliance report, and a place report for each
 * place with a case.
 */

export const DEMO_OUT_DIR = process.env.DEMO_OUT_DIR ?? 'out';

export async function writeDemoDocuments(
  baseUrl: string,
  treasury: string,
  fy: string,
  played: PlayedCases,
  step: (title: string) => void,
  say: (line: string) => void,
): Promise<string[]> {
  step(`Every document, as PDF, to ${DEMO_OUT_DIR}/`);
  mkdirSync(DEMO_OUT_DIR, { recursive: true });
  const get = async (path: string, token = treasury) => {
    const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`GET ${path}: expected 200, got ${res.status}: ${await res.text()}`);
    return res;
  };
  const places = new Set<string>();
  const jobs: { path: string; token?: string }[] = [];
  for (const c of played.cases) {
    places.add(((await (await get(`/api/v1/cases/${c.id}`)).json()) as { placeCode: string }).placeCode);
    jobs.push({ path: `/api/v1/cases/${c.id}/pdf` }, { path: `/api/v1/cases/${c.id}/decision-letter.pdf`, token: c.council });
  }
  jobs.push(
    { path: `/api/v1/reports/fund-statement.pdf?fy=${fy}` },
    { path: `/api/v1/reports/realised-benefits.pdf?fy=${fy}` },
    { path: `/api/v1/reports/credits.pdf?fy=${fy}` },
  );
  for (const place of [...places].sort()) jobs.push({ path: `/api/v1/places/${place}/report.pdf?fy=${fy}` });

  const written: string[] = [];
  const started = Date.now();
  // Two at a time: the server renders two at once and queues the rest.
  const queue = [...jobs];
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const res = await get(job.path, job.token);
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'document.pdf';
      writeFileSync(join(DEMO_OUT_DIR, name), new Uint8Array(await res.arrayBuffer()));
      written.push(name);
    }
  };
  await Promise.all([worker(), worker()]);
  written.sort();
  for (const name of written) say(`${DEMO_OUT_DIR}/${name}`);
  say(`${written.length} documents in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return written;
}
