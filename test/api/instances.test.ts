import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM, verifyAuditChain } from '../../src/audit/audit.ts';
import { type Database, inTransaction } from '../../src/db/database.ts';
import { prepareDatabase } from '../../src/db/prepare.ts';
import { accountIds } from '../../src/fund/fund.ts';
import { getAccount } from '../../src/ledger/ledger.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { bootstrapTreasury, createUser, type NewUser } from '../../src/users/users.ts';
import { TEST_TOKEN_DAYS } from '../support/app.ts';
import { caseWithBcr } from '../support/cases.ts';
import { startTsx, type TsxChild } from '../support/child.ts';
import { freshConfig } from '../support/db.ts';

/*
 * Several stateless API processes on one PostgreSQL database: two servers (`src/server.ts`, as
 * deployed) on one schema, with every racing request sent to both at once. Contributions,
 * approvals against a fund that cannot cover them all, and tranche approvals race; afterwards
 * the fund never committed more than it held, no tranche was paid twice, an Idempotency-Key
 * replayed through the other instance returns the first response, and the ledger verifies.
 * Runs only with TEST_DATABASE_URL.
 */

const CASES = 6;
const FY = '2026-27';
/** Awards of £20,000 to £44,000 against a fund of half their total. */
const awardOf = (i: number) => 20_000_00 + ((i * 5) % 9) * 3_000_00;

interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON
  body: any;
  text: string;
  replayed: boolean;
}

async function send(base: string, method: string, path: string, token: string, body?: unknown, key?: string): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key) headers['idempotency-key'] = key;
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text, replayed: res.headers.get('idempotent-replayed') === 'true' };
}

async function startServer(url: string, schema: string): Promise<{ child: TsxChild; base: string }> {
  const child = startTsx('src/server.ts', { DATABASE_URL: url, DATABASE_SCHEMA: schema, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
  const base = await new Promise<string>((resolve, reject) => {
    child.onLine((line) => {
      const m = /"msg":"listening".*"url":"(http[^"]+)"/.exec(line);
      if (m?.[1]) resolve(m[1]);
    });
    child.exited.then(({ code }) => reject(new Error(`server exited ${code}:\n${child.stderr()}`)));
  });
  return { child, base };
}

describe.skipIf(!process.env.TEST_DATABASE_URL)('two API processes on one PostgreSQL database', () => {
  let database: Database;
  let drop: () => Promise<void>;
  const servers: { child: TsxChild; base: string }[] = [];
  let A: string;
  let B: string;
  let treasury: string;
  let council: string;
  const panel: string[] = [];
  const caseIds: string[] = [];
  let contributionRuns: Reply[] = [];
  const decisions: { caseId: string; replies: Reply[]; bodies: unknown[]; keys: string[]; tokens: string[] }[] = [];
  const releases: { caseId: string; replies: Reply[] }[] = [];

  beforeAll(async () => {
    const fresh = await freshConfig('postgres');
    drop = fresh.drop;
    const config = fresh.config as { engine: 'postgres'; url: string; schema: string };
    database = await prepareDatabase(config);
    const user = async (u: NewUser) =>
      (await inTransaction(database.db, (trx) => createUser(trx, u, SYSTEM, null, new Date(), TEST_TOKEN_DAYS))).token;
    treasury = (await bootstrapTreasury(database.db, undefined, { tokenLifetimeDays: TEST_TOKEN_DAYS })).token;
    council = await user({ name: 'Bradford case lead', role: 'council', organisationCode: 'BRADFORD' });
    const scorer = await user({ name: 'Scorer', role: 'panel' });
    panel.push(await user({ name: 'Panel A', role: 'panel' }), await user({ name: 'Panel B', role: 'panel' }));

    servers.push(await startServer(config.url, config.schema), await startServer(config.url, config.schema));
    A = servers[0]?.base as string;
    B = servers[1]?.base as string;
    const must = async (want: number, base: string, method: string, path: string, token: string, body?: unknown) => {
      const r = await send(base, method, path, token, body);
      if (r.status !== want) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
      return r.body;
    };

    // Set up through both instances, turn about.
    const demand = Array.from({ length: CASES }, (_, i) => awardOf(i)).reduce((s, a) => s + a, 0);
    await must(201, A, 'POST', '/api/v1/financial-years', treasury, { name: FY });
    await must(201, B, 'PUT', `/api/v1/financial-years/${FY}/departments/DHSC`, treasury, {
      baselinePence: (demand / 2) * 100,
      topSliceBasisPoints: 100,
      savingsTargetPence: 0,
    });
    await must(201, A, 'PUT', `/api/v1/financial-years/${FY}/departments/DWP`, treasury, {
      baselinePence: 100_00,
      topSliceBasisPoints: 100,
      savingsTargetPence: 0,
    });
    const round = await must(201, B, 'POST', '/api/v1/rounds', treasury, {
      financialYear: FY,
      name: 'Prevention Fund 2026-27: two instances',
      envelopePence: 25_000_000_00,
      opensOn: '2026-01-01',
      closesOn: '2099-12-31',
      minMatchFundingBasisPoints: 1000,
      themes: [],
      quorum: 1,
    });
    for (let i = 0; i < CASES; i++) {
      const base = i % 2 === 0 ? A : B;
      const draft = await must(201, base, 'POST', '/api/v1/cases', council, caseWithBcr(round.id, 3, `Two-instance case ${i}`));
      await must(200, base, 'POST', `/api/v1/cases/${draft.id}/submit`, council);
      await must(200, i % 2 === 0 ? B : A, 'POST', `/api/v1/cases/${draft.id}/scores`, scorer, {
        scores: ['strategic-fit', 'value-for-money', 'evidence', 'deliverability', 'partnership'].map((criterion) => ({
          criterion,
          score: 4,
          justification: `Scored ${criterion} against the published guidance.`,
        })),
      });
      caseIds.push(draft.id);
    }

    // Race 1: the contribution run, three times through each instance at once.
    contributionRuns = await Promise.all(
      [A, B, A, B, A, B].map((base) => send(base, 'POST', `/api/v1/financial-years/${FY}/contributions`, treasury)),
    );

    // Race 2: every case approved by one panel member through A and another through B at once.
    await Promise.all(
      caseIds.map(async (caseId, i) => {
        const body = { outcome: 'approve', reasons: 'Meets the criteria.', amountPence: awardOf(i) };
        const keys = [`approve-${caseId}-a`, `approve-${caseId}-b`];
        const replies = await Promise.all([
          send(A, 'POST', `/api/v1/cases/${caseId}/decision`, panel[0] as string, body, keys[0]),
          send(B, 'POST', `/api/v1/cases/${caseId}/decision`, panel[1] as string, body, keys[1]),
        ]);
        decisions.push({ caseId, replies, bodies: [body, body], keys, tokens: [panel[0] as string, panel[1] as string] });
      }),
    );

    // Race 3: each approved case's tranche claimed, then approved through both instances at once.
    const approved = decisions.filter((d) => d.replies.some((r) => r.status === 201)).map((d) => d.caseId);
    await Promise.all(
      approved.map(async (caseId) => {
        await must(200, A, 'POST', `/api/v1/cases/${caseId}/tranches/1/claim`, council, { evidence: 'Signed partnership agreement.' });
        const replies = await Promise.all([
          send(A, 'POST', `/api/v1/cases/${caseId}/tranches/1/approve`, panel[0] as string),
          send(B, 'POST', `/api/v1/cases/${caseId}/tranches/1/approve`, panel[1] as string),
          send(B, 'POST', `/api/v1/cases/${caseId}/tranches/1/approve`, treasury),
        ]);
        releases.push({ caseId, replies });
      }),
    );
  }, 240_000);

  afterAll(async () => {
    for (const s of servers) s.child.process.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.child.exited));
    await database?.close();
    await drop?.();
  });

  it('posted each contribution once, however many runs raced', async () => {
    // One run posts (201); the others find nothing new (200).
    const statuses = contributionRuns.map((r) => r.status).sort();
    expect(statuses, contributionRuns.map((r) => r.text).join(' | ')).toEqual([200, 200, 200, 200, 200, 201]);
    const transfers = await database.db.selectFrom('transfers').select('id').where('code', '=', 'contribution').execute();
    expect(transfers.map((t) => t.id).sort()).toEqual([`contribution/${FY}/DHSC`, `contribution/${FY}/DWP`]);
  });

  it('approved each case at most once, and never committed more than the fund held', async () => {
    for (const d of decisions) {
      const statuses = d.replies.map((r) => r.status).sort();
      const ok = statuses.filter((s) => s === 201).length;
      expect(ok, `${d.caseId}: ${d.replies.map((r) => r.text).join(' | ')}`).toBeLessThanOrEqual(1);
      for (const r of d.replies.filter((x) => x.status !== 201)) {
        expect(['/problems/case-decided', '/problems/insufficient-funds'], r.text).toContain(r.body.type);
      }
    }
    const approved = decisions.filter((d) => d.replies.some((r) => r.status === 201));
    expect(approved.length).toBeGreaterThan(0);
    // Half the demand: some approvals must have been refused for want of money.
    expect(approved.length).toBeLessThan(CASES);
    const fund = await getAccount(database.db, accountIds.fund(FY));
    if (!fund) throw new Error('no fund account');
    const committed = approved.reduce((s, d) => s + BigInt(awardOf(caseIds.indexOf(d.caseId))), 0n);
    expect(fund.debitsPending + fund.debitsPosted).toBe(committed);
    expect(committed <= fund.creditsPosted).toBe(true);
    const rows = await database.db.selectFrom('case_decisions').select('case_id').execute();
    expect(new Set(rows.map((r) => r.case_id)).size).toBe(rows.length);
  });

  it('replays an Idempotency-Key through the other instance with the first response', async () => {
    for (const d of decisions) {
      for (let i = 0; i < 2; i++) {
        const first = d.replies[i] as Reply;
        if (first.status !== 201) continue;
        const other = i === 0 ? B : A;
        const replay = await send(other, 'POST', `/api/v1/cases/${d.caseId}/decision`, d.tokens[i] as string, d.bodies[i], d.keys[i]);
        expect(replay.status).toBe(first.status);
        expect(replay.replayed).toBe(true);
        expect(replay.text).toBe(first.text);
      }
    }
  });

  it('paid no tranche twice', async () => {
    for (const r of releases) {
      const released = r.replies.filter((x) => x.status === 200 && x.body.status === 'released');
      expect(released.length, r.replies.map((x) => x.text).join(' | ')).toBe(1);
      // The others lost the race, or (four eyes) decided the case and may not approve its releases.
      for (const x of r.replies.filter((y) => y.status !== 200)) {
        expect(['/problems/tranche-already-released', '/problems/approver-not-independent'], x.text).toContain(x.body.type);
      }
    }
    const posts = await database.db.selectFrom('transfers').select(['pending_id']).where('pending_id', 'like', 'tranche/%').execute();
    expect(posts).toHaveLength(releases.length);
    expect(new Set(posts.map((p) => p.pending_id)).size).toBe(posts.length);
  });

  it('leaves a ledger and an audit chain that verify', async () => {
    const [ledger, audit] = await Promise.all([verifyLedger(database.db), verifyAuditChain(database.db)]);
    expect(
      ledger.ok,
      JSON.stringify(ledger, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
    ).toBe(true);
    expect(audit.ok).toBe(true);
    const viaApi = await send(B, 'GET', '/api/v1/ledger/verify', treasury);
    expect(viaApi.status).toBe(200);
    expect(viaApi.body.ok).toBe(true);
  });
});
