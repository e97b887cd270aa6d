import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM } from '../../src/audit/audit.ts';
import { inTransaction } from '../../src/db/database.ts';
import type { DocumentService } from '../../src/documents/service.ts';
import { createApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/lib/log.ts';
import { bootstrapTreasury, createUser, type NewUser } from '../../src/users/users.ts';
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
  // Tests move the clock years ahead of the day their tokens were issued: tokens here last long.
  const app = createApp({
    database: db.database,
    log: createLogger('silent'),
    clock: () => now,
    documents,
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
    return { status: res.status, headers: res.headers, body: parsed, text };
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
    auditCheckpointPath,
    destroy: async () => {
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
