import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM, verifyAuditChain } from '../../src/audit/audit.ts';
import type { DatabaseConfig } from '../../src/config.ts';
import { type Database, inTransaction } from '../../src/db/database.ts';
import { prepareDatabase } from '../../src/db/prepare.ts';
import { accountIds } from '../../src/fund/fund.ts';
import { createApp } from '../../src/http/app.ts';
import { getAccount, transferFromRow } from '../../src/ledger/ledger.ts';
import type { Account } from '../../src/ledger/types.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { createLogger } from '../../src/lib/log.ts';
import { councilAccountId, listTranches, type TrancheState } from '../../src/releases/releases.ts';
import { bootstrapTreasury, createUser, type NewUser, type Principal } from '../../src/users/users.ts';
import { caseWithBcr } from '../support/cases.ts';
import { envInt, startTsx } from '../support/child.ts';
import { type EngineName, engines, freshConfig } from '../support/db.ts';
import type { PlannedCase, ReleasePlan, ReleaseReport } from '../support/release-worker.ts';

/*
 * Racing approvals and tranche approvals against one small fund, from several OS processes on
 * one database (SQLite: one file, each process a single connection serialised by BEGIN
 * IMMEDIATE; PostgreSQL: each process also runs several transactions at once on its pool).
 *
 * Phase 1: every lane of every worker tries to approve every case (its own random order). The
 * fund holds well under the sum of the awards, so some approvals must be refused
 * ('insufficient-funds') and every case but the first approval must see 'case-decided'.
 * Phase 2: every lane walks the approved cases' tranches in the same order and, for each, claims
 * it as the council and approves it as its own panel member and as one panel member shared by
 * every lane, over and over. Each tranche must be released exactly once; tranches above the
 * round's threshold (counting the award's earlier releases) need two distinct approvers.
 *
 * Scale with RELEASE_CONCURRENCY_WORKERS (processes), RELEASE_CONCURRENCY_LANES (transactions in
 * flight per PostgreSQL process), RELEASE_CONCURRENCY_CASES, RELEASE_CONCURRENCY_TRANCHES,
 * RELEASE_CONCURRENCY_REPEATS (extra tries per lane on a released tranche) and
 * RELEASE_CONCURRENCY_FUND_PERCENT (the fund as a share of all the awards).
 */

const WORKERS = envInt('RELEASE_CONCURRENCY_WORKERS', 4);
const PG_LANES = envInt('RELEASE_CONCURRENCY_LANES', 3);
const CASES = envInt('RELEASE_CONCURRENCY_CASES', 12);
const TRANCHES = Math.max(1, envInt('RELEASE_CONCURRENCY_TRANCHES', 2));
const REPEATS = envInt('RELEASE_CONCURRENCY_REPEATS', 2);
const FUND_PERCENT = envInt('RELEASE_CONCURRENCY_FUND_PERCENT', 50);
const SEED = envInt('RELEASE_CONCURRENCY_SEED', Math.floor(Math.random() * 2 ** 31));

const FY = '2026-27';
/** Tranches above £10,000 need two approvers: with these awards, some do and some do not. */
const THRESHOLD_PENCE = 10_000_00n;
const NOW = '2026-06-10T10:00:00.000Z';

/** Awards of £20,000 to £44,000, so which cases fit depends on who gets in first. */
const awardOf = (i: number) => 20_000_00n + BigInt((i * 5) % 9) * 3_000_00n;

/** Tranche shares in basis points adding to 10,000: the first takes the remainder. */
function shares(n: number): number[] {
  const each = Math.floor(10_000 / n);
  return Array.from({ length: n }, (_, i) => (i === 0 ? 10_000 - each * (n - 1) : each));
}

const principalOf = (u: Principal): Principal => ({
  userId: u.userId,
  name: u.name,
  role: u.role,
  organisationCode: u.organisationCode,
  isChair: u.isChair,
});

describe.each(engines())('racing approvals and tranche releases on %s', (engine: EngineName) => {
  let config: DatabaseConfig;
  let drop: () => Promise<void>;
  let database: Database;
  let goDir: string;
  const lanes = engine === 'postgres' ? PG_LANES : 1;
  let plan: ReleasePlan;
  let awards: Map<string, bigint>;
  let decideReports: ReleaseReport[] = [];
  let releaseReports: ReleaseReport[] = [];
  let fundCredits = 0n;
  /** After phase 1. */
  let afterDecisions: {
    fund: Account;
    statuses: Map<string, string>;
    decisions: { case_id: string; sequence: number; amount_pence: bigint | null; decided_by: string; outcome: string }[];
    tranchePendings: { id: string; amount: bigint; status: string }[];
    verified: Awaited<ReturnType<typeof verifyLedger>>;
  };
  const timings: Record<string, number> = {};

  async function runPhase(phase: ReleaseReport['phase'], phasePlan: ReleasePlan, workerLanes: Principal[][]): Promise<ReleaseReport[]> {
    const go = join(goDir, `go-${phase}`);
    const children = workerLanes.map((laneUsers, w) =>
      startTsx('test/support/release-worker.ts', {
        RELEASE_WORKER_DB: JSON.stringify(config),
        RELEASE_WORKER_NAME: `${phase}-w${w}`,
        RELEASE_WORKER_PHASE: phase,
        RELEASE_WORKER_PLAN: JSON.stringify({ ...phasePlan, lanes: laneUsers }),
        RELEASE_WORKER_SEED: String(SEED + w),
        RELEASE_WORKER_GO: go,
      }),
    );
    // Start together: wait until every worker is connected and warm, then open the gate.
    await Promise.race([
      Promise.all(children.map((c) => new Promise<void>((resolve) => c.onLine((l) => l === 'ready' && resolve())))),
      Promise.all(children.map((c) => c.exited)),
    ]);
    const started = Date.now();
    writeFileSync(go, '');
    const exits = await Promise.all(children.map((c) => c.exited));
    timings[phase] = Date.now() - started;
    return children.map((c, w) => {
      const exit = exits[w];
      if (exit?.code !== 0) throw new Error(`${phase} worker ${w} (seed ${SEED + w}) exited ${exit?.code ?? exit?.signal}:\n${c.stderr()}`);
      const last = c.lines.at(-1);
      if (!last || last === 'ready') throw new Error(`${phase} worker ${w} printed no report:\n${c.stderr()}`);
      return JSON.parse(last) as ReleaseReport;
    });
  }

  beforeAll(async () => {
    const t0 = Date.now();
    const fresh = await freshConfig(engine);
    config = fresh.config;
    drop = fresh.drop;
    goDir = mkdtempSync(join(tmpdir(), 'topslice-release-race-'));
    database = await prepareDatabase(config);

    // --- Set up through the API: a year, a small fund, a round with quorum 1, scored cases.
    const clock = new Date('2026-06-01T09:00:00Z');
    const app = createApp({ database, log: createLogger('silent'), clock: () => clock });
    const { token: treasury } = await bootstrapTreasury(database.db);
    const request = async (method: string, path: string, token: string, body?: unknown) => {
      const res = await app.request(path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, text, body: text ? JSON.parse(text) : null };
    };
    const must = async (want: number, method: string, path: string, token: string, body?: unknown) => {
      const r = await request(method, path, token, body);
      if (r.status !== want) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
      return r.body;
    };
    const user = (u: NewUser) => inTransaction(database.db, (trx) => createUser(trx, u, SYSTEM));

    const amounts = Array.from({ length: CASES }, (_, i) => awardOf(i));
    const demand = amounts.reduce((s, a) => s + a, 0n);
    const fundTarget = (demand * BigInt(FUND_PERCENT)) / 100n;
    await must(201, 'POST', '/api/v1/financial-years', treasury, { name: FY });
    // At 100 bp the contribution is exactly baseline ÷ 100.
    await must(201, 'PUT', `/api/v1/financial-years/${FY}/departments/DHSC`, treasury, {
      baselinePence: Number(fundTarget * 100n),
      topSliceBasisPoints: 100,
      savingsTargetPence: 1_000_000_00,
    });
    await must(201, 'POST', `/api/v1/financial-years/${FY}/contributions`, treasury);
    const round = await must(201, 'POST', '/api/v1/rounds', treasury, {
      financialYear: FY,
      name: 'Prevention Fund 2026-27: racing round',
      envelopePence: 25_000_000_00,
      opensOn: '2026-05-01',
      closesOn: '2026-07-31',
      minMatchFundingBasisPoints: 1000,
      themes: [],
      quorum: 1,
      twoApproverThresholdPence: Number(THRESHOLD_PENCE),
    });

    const council = await user({ name: 'Bradford case lead', role: 'council', organisationCode: 'BRADFORD' });
    const scorer = await user({ name: 'Scorer', role: 'panel' });
    const shared = await user({ name: 'Shared approver', role: 'panel' });
    const laneUsers: Principal[][] = [];
    for (let w = 0; w < WORKERS; w++) {
      const row: Principal[] = [];
      for (let l = 0; l < lanes; l++) row.push(principalOf((await user({ name: `Panel w${w} l${l}`, role: 'panel' })).user));
      laneUsers.push(row);
    }

    const cases: PlannedCase[] = [];
    const s = shares(TRANCHES);
    for (let i = 0; i < CASES; i++) {
      const draft = await must(201, 'POST', '/api/v1/cases', council.token, caseWithBcr(round.id, 3, `Racing case ${i}`));
      await must(200, 'POST', `/api/v1/cases/${draft.id}/submit`, council.token);
      await must(200, 'POST', `/api/v1/cases/${draft.id}/scores`, scorer.token, {
        scores: ['strategic-fit', 'value-for-money', 'evidence', 'deliverability', 'partnership'].map((criterion) => ({
          criterion,
          score: 4,
          justification: `Scored ${criterion} against the published guidance.`,
        })),
      });
      cases.push({
        id: draft.id,
        amountPence: (amounts[i] as bigint).toString(),
        tranches: s.map((basisPoints, k) => ({ basisPoints, earliestOn: '2026-06-01', condition: `Milestone ${k + 1}` })),
      });
    }
    awards = new Map(cases.map((c) => [c.id, BigInt(c.amountPence)]));
    const fundAtStart = await getAccount(database.db, accountIds.fund(FY));
    fundCredits = fundAtStart?.creditsPosted ?? 0n;
    plan = {
      cases,
      lanes: [],
      shared: principalOf(shared.user),
      council: principalOf(council.user),
      now: NOW,
      repeats: REPEATS,
    };
    timings.setup = Date.now() - t0;

    // --- Phase 1: race to approve.
    decideReports = await runPhase('decide', plan, laneUsers);
    const fund = (await getAccount(database.db, accountIds.fund(FY))) as Account;
    const caseRows = await database.db.selectFrom('cases').select(['id', 'status']).execute();
    afterDecisions = {
      fund,
      statuses: new Map(caseRows.map((r) => [r.id, r.status])),
      decisions: (await database.db.selectFrom('case_decisions').selectAll().execute()).map((d) => ({
        case_id: d.case_id,
        sequence: Number(d.sequence),
        amount_pence: d.amount_pence === null ? null : BigInt(d.amount_pence),
        decided_by: d.decided_by,
        outcome: d.outcome,
      })),
      tranchePendings: (await database.db.selectFrom('pending_transfers').selectAll().where('id', 'like', 'tranche/%').execute()).map(
        (p) => ({ id: p.id, amount: BigInt(p.amount), status: p.status }),
      ),
      verified: await verifyLedger(database.db),
    };

    // --- Phase 2: race to claim and approve the approved cases' tranches.
    const approved = cases.filter((c) => afterDecisions.statuses.get(c.id) === 'approved');
    releaseReports = await runPhase('release', { ...plan, cases: approved }, laneUsers);
    timings.total = Date.now() - t0;
  }, 180_000);

  afterAll(async () => {
    console.info(`${engine}: timings (ms) ${JSON.stringify(timings)}`);
    await database?.close();
    await drop?.();
    if (goDir) rmSync(goDir, { recursive: true, force: true });
  });

  const sum = (xs: bigint[]) => xs.reduce((s, x) => s + x, 0n);
  const refusedTotals = (reports: ReleaseReport[]) => {
    const out: Record<string, number> = {};
    for (const r of reports) for (const [k, n] of Object.entries(r.refused)) out[k] = (out[k] ?? 0) + n;
    return out;
  };

  describe(`phase 1: ${WORKERS} workers × ${lanes} lanes approve ${CASES} cases (seed ${SEED})`, () => {
    it('met only the expected refusals', () => {
      console.info(
        `${engine} decide: ${decideReports.reduce((n, r) => n + r.transactions, 0)} transactions, ` +
          `${decideReports.reduce((n, r) => n + r.retries, 0)} retries, ${decideReports.flatMap((r) => r.decisions).length} approvals, ` +
          `refused ${JSON.stringify(refusedTotals(decideReports))}`,
      );
      expect(decideReports.flatMap((r) => r.unexpected)).toEqual([]);
      const refused = refusedTotals(decideReports);
      // The fund is smaller than the awards: some approvals were refused for want of money.
      expect(refused['decide:insufficient-funds'] ?? 0).toBeGreaterThan(0);
      if (WORKERS * lanes > 1) expect(refused['decide:case-decided'] ?? 0).toBeGreaterThan(0);
    });

    it('acknowledged each approval once, and every acknowledged approval is stored', () => {
      const acked = decideReports.flatMap((r) => r.decisions);
      const byCase = new Map<string, number>();
      for (const d of acked) byCase.set(d.caseId, (byCase.get(d.caseId) ?? 0) + 1);
      expect([...byCase].filter(([, n]) => n > 1)).toEqual([]);
      for (const d of acked) {
        expect(afterDecisions.statuses.get(d.caseId), d.caseId).toBe('approved');
        const stored = afterDecisions.decisions.filter((x) => x.case_id === d.caseId);
        expect(stored, d.caseId).toEqual([
          { case_id: d.caseId, sequence: d.sequence, amount_pence: BigInt(d.amountPence), decided_by: d.decidedBy, outcome: 'approve' },
        ]);
      }
      // Nothing crashed, so every approval that committed was acknowledged.
      const approved = [...afterDecisions.statuses].filter(([, s]) => s === 'approved').map(([id]) => id);
      expect(approved.sort()).toEqual([...byCase.keys()].sort());
    });

    it('recorded no case with two decisions, and left the refused cases untouched', () => {
      const counts = new Map<string, number>();
      for (const d of afterDecisions.decisions) counts.set(d.case_id, (counts.get(d.case_id) ?? 0) + 1);
      expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
      for (const id of awards.keys()) {
        const status = afterDecisions.statuses.get(id);
        expect(['approved', 'submitted'], id).toContain(status);
        if (status === 'submitted') {
          expect(counts.get(id) ?? 0, id).toBe(0);
          expect(
            afterDecisions.tranchePendings.filter((p) => p.id.startsWith(`tranche/${id}/`)),
            id,
          ).toEqual([]);
        }
      }
    });

    it('committed exactly the approved awards, never more than the fund holds', () => {
      const { fund, verified } = afterDecisions;
      expect(verified.limits.overdrawn).toEqual([]);
      expect(verified.accounts.mismatches).toEqual([]);
      expect(verified.pendingTransfers.inconsistent).toEqual([]);
      expect(verified.ok).toBe(true);
      expect(fund.creditsPosted).toBe(fundCredits);
      expect(fund.debitsPending + fund.debitsPosted).toBeLessThanOrEqual(fund.creditsPosted);
      const approved = [...awards].filter(([id]) => afterDecisions.statuses.get(id) === 'approved');
      expect(fund.debitsPosted).toBe(0n);
      expect(fund.debitsPending).toBe(sum(approved.map(([, a]) => a)));
      for (const [id, award] of approved) {
        const pendings = afterDecisions.tranchePendings.filter((p) => p.id.startsWith(`tranche/${id}/`));
        expect(pendings.length, id).toBe(TRANCHES);
        expect(
          pendings.every((p) => p.status === 'pending'),
          id,
        ).toBe(true);
        expect(sum(pendings.map((p) => p.amount)), id).toBe(award);
      }
      // A refusal was for want of money: no case left unapproved would have fitted at the end.
      const available = fund.creditsPosted - fund.debitsPosted - fund.debitsPending;
      for (const [id, award] of awards) {
        if (afterDecisions.statuses.get(id) !== 'approved') expect(award, `${id} was refused yet fits`).toBeGreaterThan(available);
      }
    });
  });

  describe('phase 2: the same lanes claim and approve every tranche of the approved cases', () => {
    let tranches: Map<string, TrancheState[]>;
    let approvedIds: string[];
    beforeAll(async () => {
      approvedIds = [...afterDecisions.statuses].filter(([, s]) => s === 'approved').map(([id]) => id);
      tranches = new Map();
      for (const id of approvedIds) tranches.set(id, await listTranches(database.db, id));
    });

    it('met only the expected refusals, and no tranche was left waiting', () => {
      console.info(
        `${engine} release: ${releaseReports.reduce((n, r) => n + r.transactions, 0)} transactions, ` +
          `${releaseReports.reduce((n, r) => n + r.retries, 0)} retries, ` +
          `${releaseReports.flatMap((r) => r.approvals).filter((a) => a.status === 'released').length} releases, ` +
          `refused ${JSON.stringify(refusedTotals(releaseReports))}`,
      );
      expect(releaseReports.flatMap((r) => r.unexpected)).toEqual([]);
      expect(releaseReports.flatMap((r) => r.stuck)).toEqual([]);
    });

    it('released every tranche of every approved case exactly once', async () => {
      const releases = await database.db.selectFrom('transfers').selectAll().where('id', 'like', 'release/%').execute();
      const audit = await database.db
        .selectFrom('audit_log')
        .select(['subject', 'action'])
        .where('action', 'in', ['tranche.released', 'tranche.claimed', 'case.approved'])
        .execute();
      const count = (action: string, subject: string) => audit.filter((a) => a.action === action && a.subject === subject).length;
      const problems: string[] = [];
      for (const id of approvedIds) {
        if (count('case.approved', `case/${id}`) !== 1) problems.push(`${id}: approved ${count('case.approved', `case/${id}`)} times`);
        for (const t of tranches.get(id) ?? []) {
          const label = `${id}/${t.number}`;
          const subject = `case/${id}/tranche/${t.number}`;
          if (t.status !== 'released') problems.push(`${label}: ${t.status} with ${t.approvals.length}/${t.approvalsNeeded} approvals`);
          if (t.releasedPence !== t.amountPence) problems.push(`${label}: released ${t.releasedPence} of ${t.amountPence}`);
          const rel = releases.filter((r) => r.id === `release/${id}/${t.number}` || r.pending_id === t.pendingTransferId);
          if (rel.length !== 1) problems.push(`${label}: ${rel.length} release transfers`);
          if (count('tranche.released', subject) !== 1)
            problems.push(`${label}: released ${count('tranche.released', subject)} times in the audit log`);
          if (count('tranche.claimed', subject) !== 1)
            problems.push(`${label}: claimed ${count('tranche.claimed', subject)} times in the audit log`);
        }
      }
      expect(problems).toEqual([]);
      // No release for anything but these tranches.
      expect(releases.length).toBe(approvedIds.length * TRANCHES);
    });

    it('released each tranche on exactly the approvals it needed (no approval lost to a race)', () => {
      const problems: string[] = [];
      for (const id of approvedIds) {
        // Four eyes counts the award's cumulative releases: tranches are released in order, so a
        // tranche needs two approvals once the earlier ones and it together pass the threshold.
        let releasedBefore = 0;
        for (const t of [...(tranches.get(id) ?? [])].sort((a, b) => a.number - b.number)) {
          const expected = releasedBefore + Number(t.amountPence) > Number(THRESHOLD_PENCE) ? 2 : 1;
          releasedBefore += Number(t.amountPence);
          if (t.approvalsNeeded !== expected) problems.push(`${id}/${t.number}: needs ${t.approvalsNeeded}, expected ${expected}`);
          if (t.status === 'released' && t.approvals.length !== t.approvalsNeeded)
            problems.push(
              `${id}/${t.number} (£${Number(t.amountPence) / 100}): released with ${t.approvals.length} approvals, needs ${t.approvalsNeeded}`,
            );
          if (t.status === 'claimed' && t.approvals.length >= t.approvalsNeeded)
            problems.push(`${id}/${t.number}: claimed with ${t.approvals.length}/${t.approvalsNeeded} approvals but never released`);
          if (new Set(t.approvals.map((a) => a.userId)).size !== t.approvals.length) problems.push(`${id}/${t.number}: an approver twice`);
        }
      }
      expect(problems).toEqual([]);
    });

    it('stored every acknowledged claim, approval and release, and acknowledged each release once', async () => {
      const claims = releaseReports.flatMap((r) => r.claims);
      const approvals = releaseReports.flatMap((r) => r.approvals);
      const key = (c: { caseId: string; number: number }) => `${c.caseId}/${c.number}`;
      const claimCounts = new Map<string, number>();
      for (const c of claims) claimCounts.set(key(c), (claimCounts.get(key(c)) ?? 0) + 1);
      expect([...claimCounts].filter(([, n]) => n > 1)).toEqual([]);
      // A reply that says `released` must come from the approval that released the tranche
      // (the actor of its one `tranche.released` audit entry), and only one reply per tranche.
      const releasers = new Map(
        (
          await database.db.selectFrom('audit_log').select(['subject', 'actor_user_id']).where('action', '=', 'tranche.released').execute()
        ).map((r) => [r.subject.replace(/^case\//, '').replace('/tranche/', '/'), r.actor_user_id]),
      );
      const released = approvals.filter((a) => a.status === 'released');
      const releaseCounts = new Map<string, number>();
      for (const a of released) releaseCounts.set(key(a), (releaseCounts.get(key(a)) ?? 0) + 1);
      expect(
        released.filter((a) => releasers.get(key(a)) !== a.userId).map((a) => `${key(a)}: told ${a.userId} it released the tranche`),
      ).toEqual([]);
      expect([...releaseCounts].filter(([, n]) => n > 1)).toEqual([]);
      const all = approvedIds.flatMap((id) => (tranches.get(id) ?? []).map((t) => `${id}/${t.number}`));
      expect([...releaseCounts.keys()].sort()).toEqual([...all].sort());
      expect([...claimCounts.keys()].sort()).toEqual([...all].sort());
      for (const a of approvals) {
        const t = tranches.get(a.caseId)?.find((x) => x.number === a.number);
        expect(
          t?.approvals.some((x) => x.userId === a.userId),
          `acknowledged approval of ${key(a)} by ${a.userId}`,
        ).toBe(true);
        if (a.status === 'released') expect(a.releasedPence, key(a)).toBe(t?.releasedPence?.toString());
      }
      // Every stored approval was acknowledged to someone.
      for (const id of approvedIds)
        for (const t of tranches.get(id) ?? [])
          for (const x of t.approvals)
            expect(
              approvals.some((a) => a.caseId === id && a.number === t.number && a.userId === x.userId),
              `stored approval of ${id}/${t.number} by ${x.userId}`,
            ).toBe(true);
    });

    it('moved exactly the approved awards from the fund to the council, and the ledger and audit chain verify', async () => {
      const v = await verifyLedger(database.db);
      expect(v.limits.overdrawn).toEqual([]);
      expect(v.accounts.mismatches).toEqual([]);
      expect(v.pendingTransfers.inconsistent).toEqual([]);
      expect(v.ok).toBe(true);
      const fund = (await getAccount(database.db, accountIds.fund(FY))) as Account;
      const approvedAwards = sum(approvedIds.map((id) => awards.get(id) ?? 0n));
      // Released + still committed = the approved awards; here all of it was released.
      expect(fund.debitsPosted + fund.debitsPending).toBe(approvedAwards);
      const released = sum(approvedIds.flatMap((id) => (tranches.get(id) ?? []).map((t) => t.releasedPence ?? 0n)));
      expect(fund.debitsPosted).toBe(released);
      expect(fund.debitsPending + fund.debitsPosted).toBeLessThanOrEqual(fund.creditsPosted);
      const council = await getAccount(database.db, councilAccountId(FY, 'BRADFORD'));
      expect(council?.creditsPosted).toBe(released);
      expect(council?.creditsPending).toBe(approvedAwards - released);
      expect((await verifyAuditChain(database.db)).problems).toEqual([]);
    });

    it('never overdrew the fund at any step of its history', async () => {
      const rows = await database.db
        .selectFrom('transfers')
        .selectAll()
        .where((eb) => eb.or([eb('debit_account_id', '=', accountIds.fund(FY)), eb('credit_account_id', '=', accountIds.fund(FY))]))
        .orderBy('seq')
        .execute();
      const over = rows
        .map(transferFromRow)
        .map((t) => ({ t, c: t.debitAccountId === accountIds.fund(FY) ? t.debitAccountAfter : t.creditAccountAfter }))
        .filter(({ c }) => c.debitsPending + c.debitsPosted > c.creditsPosted)
        .map(({ t }) => `${t.id} (seq ${t.seq})`);
      expect(over).toEqual([]);
    });
  });
});
