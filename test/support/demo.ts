import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PlayedCases, playCases } from '../../src/demo/cases.ts';
import { playCredits } from '../../src/demo/credits.ts';
import { secondTreasuryToken, useApprover } from '../../src/demo/integrity.ts';
import { playReleases } from '../../src/demo/releases.ts';
import type { DocumentService } from '../../src/documents/service.ts';
import { FIXTURES_DIR } from '../../src/reference/reference.ts';
import { type TestApp, testApp } from './app.ts';
import type { EngineName } from './db.ts';

/*
 * The demo's year, played in-process through the same API calls `npm run demo` makes (the
 * set-up steps of src/demo/run.ts, then its cases and releases, and with `credits` its year
 * end: close, trades, disposals, compliance), without a server or a port.
 */

export interface DemoWorld {
  t: TestApp;
  fy: string;
  played: PlayedCases;
  /** A request as any user, by token, returning the parsed body; throws on an unexpected status. */
  // biome-ignore lint/suspicious/noExplicitAny: the demo reads response fields by name
  api: (token: string, method: string, path: string, body: unknown, expected: number, headers?: Record<string, string>) => Promise<any>;
}

export async function demoWorld(engine: EngineName, documents?: DocumentService, options: { credits?: boolean } = {}): Promise<DemoWorld> {
  const t = await testApp(engine, documents);
  // Panel accounts need a second treasury user's approval, as in the demo itself.
  useApprover(await secondTreasuryToken(t.database.db));
  const api = async (token: string, method: string, path: string, body: unknown, expected: number, headers?: Record<string, string>) => {
    const r = await t.request(method, path, { token, body, headers });
    if (r.status !== expected) throw new Error(`${method} ${path}: expected ${expected}, got ${r.status}: ${r.text}`);
    return r.body;
  };
  const setup = JSON.parse(readFileSync(join(FIXTURES_DIR, 'demo', 'departments-2026-27.json'), 'utf8')) as {
    financialYear: string;
    departments: { code: string; baselinePence: number; topSliceBasisPoints: number; savingsTargetPence: number }[];
  };
  const fy = setup.financialYear;
  await api(t.treasury, 'POST', '/api/v1/financial-years', { name: fy }, 201);
  for (const { code, ...settings } of setup.departments)
    await api(t.treasury, 'PUT', `/api/v1/financial-years/${fy}/departments/${code}`, settings, 201);
  await api(t.treasury, 'POST', `/api/v1/financial-years/${fy}/contributions`, undefined, 201);
  const quiet = () => {};
  const played = await playCases(api, t.treasury, fy, new Date('2026-06-01T09:00:00Z'), quiet, quiet);
  await playReleases(api, t.treasury, fy, played, quiet, quiet);
  if (options.credits) await playCredits(api, t.treasury, fy, quiet, quiet, '2026-06-01');
  return { t, fy, played, api };
}
