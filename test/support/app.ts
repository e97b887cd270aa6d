import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM } from '../../src/audit/audit.ts';
import { inTransaction } from '../../src/db/database.ts';
import type { DocumentService } from '../../src/documents/service.ts';
import { createApp } from '../../src/http/app.ts';
import { problemType } from '../../src/http/problems.ts';
import { createLogger } from '../../src/lib/log.ts';
import { bootstrapTreasury, createUser, type NewUser } from '../../src/users/users.ts';
import { createVerificationRunner } from '../../src/verify/runner.ts';
import { type EngineName, freshDatabase, type TestDatabase } from './db.ts';

export interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test replies are inspected field by field
  body: any;
  text: string;
}

export interface RequestOptions {
  token?: string | null;
  body?: unknown;
  /** Sent as is, instead of JSON.stringify(body). */
  raw?: string;
  headers?: Record<string, string>;
}

/** How long tokens issued in tests last: past any date a test sets its clock to. */
export const TEST_TOKEN_DAYS = 3650;

/** The app on a fresh database, with a treasury token and an adjustable clock. */
export async function testApp(engine: EngineName, documents?: DocumentService) {
  const db: TestDatabase = await freshDatabase(engine);
  let now = new Date('2026-06-01T09:00:00Z');
  const checkpointDir = mkdtempSync(join(tmpdir(), 'topslice-checkpoints-'));
  const auditCheckpointPath = join(checkpointDir, 'audit-checkpoints.jsonl');
  const log = createLogger('silent');
  // The app's background checks of the books, so a test can wait for them (`verifications.idle()`).
  const verifications = createVerificationRunner({ database: db.database, clock: () => now, log, checkpointPath: auditCheckpointPath });
  // Tests move the clock years ahead of the day their tokens were issued: tokens here last long.
  const app = createApp({
    database: db.database,
    log,
    clock: () => now,
    documents,
    verifications,
    tokenLifetimeDays: TEST_TOKEN_DAYS,
    auditCheckpointPath,
  });
  const { token: treasury } = await bootstrapTreasury(db.database.db, undefined, { tokenLifetimeDays: TEST_TOKEN_DAYS });

  async function request(method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const token = opts.token === undefined ? treasury : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await app.request(path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text */
    }
    if (res.headers.get('content-type') === 'application/problem+json') {
      const problem = parsed as { type?: string; title?: string };
      await assertDocumented(method, path, res.status, problem?.type);
      assertCatalogued(method, path, res.status, problem);
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  // biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is read field by field
  let openApi: any;
  /**
   * Every refusal the suite meets must be one the OpenAPI document promises for that route: its
   * status, and its type among the status's examples. So the document stays truthful.
   */
  async function assertDocumented(method: string, url: string, status: number, type: string | undefined): Promise<void> {
    openApi ??= await (await app.request('/openapi.json')).json();
    const path = url.split('?')[0] ?? '';
    const template = Object.keys(openApi.paths).find((p) =>
      new RegExp(`^${p.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`).test(path),
    );
    const op = template ? openApi.paths[template][method.toLowerCase()] : undefined;
    if (!op) return; // not a route: 404 or 405, documented for the API as a whole
    const response = op.responses[String(status)];
    if (!response) throw new Error(`${method} ${template} answered ${status} ${type}, which its OpenAPI entry does not list`);
    const examples = response.content?.['application/problem+json']?.examples;
    if (examples && !Object.values(examples).some((e) => (e as { value: { type: string } }).value.type === type)) {
      throw new Error(
        `${method} ${template} answered ${status} ${type}, not among its documented types: ${Object.keys(examples).join(', ')}`,
      );
    }
  }

  /** Every refusal the suite meets says what its catalogue row says: the same title and status. */
  function assertCatalogued(method: string, path: string, status: number, problem: { type?: string; title?: string }): void {
    const row = problemType((problem?.type ?? '').replace(/^\/problems\//, ''));
    if (row && (row.title !== problem.title || row.status !== status)) {
      throw new Error(
        `${method} ${path} answered ${status} ${problem.type} "${problem.title}"; its catalogue row says ${row.status} "${row.title}"`,
      );
    }
  }

  async function userToken(user: NewUser): Promise<string> {
    const { token } = await inTransaction(db.database.db, (trx) => createUser(trx, user, SYSTEM, null, new Date(), TEST_TOKEN_DAYS));
    return token;
  }

  return {
    app,
    database: db.database,
    /** Where the database lives, for a process that opens it too. */
    databaseConfig: db.config,
    treasury,
    request,
    userToken,
    setNow: (d: Date) => {
      now = d;
    },
    now: () => now,
    auditCheckpointPath,
    verifications,
    destroy: async () => {
      await verifications.close();
      rmSync(checkpointDir, { recursive: true, force: true });
      await db.destroy();
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof testApp>>;

export const DEPARTMENTS = {
  DHSC: { baselinePence: 1_000_000_000_00, topSliceBasisPoints: 250, savingsTargetPence: 5_000_000_00 },
  DWP: { baselinePence: 800_000_000_00, topSliceBasisPoints: 150, savingsTargetPence: 3_000_000_00 },
  MOJ: { baselinePence: 95_000_000_01, topSliceBasisPoints: 333, savingsTargetPence: 1_000_000_00 },
} as const;

/** Treasury sets up a year and three departments through the API. */
export async function setUpYear(t: TestApp, fy = '2026-27'): Promise<void> {
  const year = await t.request('POST', '/api/v1/financial-years', { body: { name: fy } });
  if (year.status !== 201) throw new Error(`year: ${year.status} ${year.text}`);
  for (const [code, settings] of Object.entries(DEPARTMENTS)) {
    const r = await t.request('PUT', `/api/v1/financial-years/${fy}/departments/${code}`, { body: settings });
    if (r.status !== 201) throw new Error(`${code}: ${r.status} ${r.text}`);
  }
}
