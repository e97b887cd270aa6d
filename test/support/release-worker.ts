/**
 * A child process for test/releases/concurrency.test.ts. Several of these race on one database:
 *
 * - phase `decide`: each lane tries to approve every case of the plan, in its own random order,
 *   calling `decide` inside `inTransaction` (the fund can cover only some of them);
 * - phase `release`: each lane walks the approved cases' tranches in the same order as every
 *   other lane and, for each tranche, claims it as the council and approves it as its own panel
 *   member and as a panel member shared by every lane, again and again, until it has seen the
 *   tranche released (and a few times after).
 *
 * It prints `ready` once it is connected and warmed up, waits for the go file to appear (so all
 * workers start together), and finally prints one JSON line (a ReleaseReport) with everything
 * it was acknowledged and every refusal it met.
 *
 * Run: node --import tsx test/support/release-worker.ts
 * Environment:
 *   RELEASE_WORKER_DB     the DatabaseConfig as JSON (sqlite path, or postgres url + schema)
 *   RELEASE_WORKER_NAME   a label for the report
 *   RELEASE_WORKER_PHASE  `decide` or `release`
 *   RELEASE_WORKER_PLAN   a ReleasePlan as JSON
 *   RELEASE_WORKER_SEED   the random seed
 *   RELEASE_WORKER_GO     a file path: start when it exists
 */
import { existsSync } from 'node:fs';
import type { DatabaseConfig } from '../../src/config.ts';
import { type Database, inTransaction, openDatabase, type Tx } from '../../src/db/database.ts';
import { DomainError } from '../../src/lib/errors.ts';
import { decide, type TrancheInput } from '../../src/panel/panel.ts';
import { approveTranche, claimTranche, listTranches } from '../../src/releases/releases.ts';
import type { Principal } from '../../src/users/users.ts';
import { random } from './child.ts';

export interface PlannedCase {
  id: string;
  /** The award every decider proposes, in pence (a decimal string). */
  amountPence: string;
  tranches: { basisPoints: number; earliestOn: string; condition: string }[];
}

export interface ReleasePlan {
  cases: PlannedCase[];
  /** One per lane (concurrent async loop, each its own transaction at a time): that lane's panel member. */
  lanes: Principal[];
  /** A panel member every lane of every worker also approves as. */
  shared: Principal;
  /** The lead council's user, who claims every tranche. */
  council: Principal;
  /** The service clock for every call (ISO). */
  now: string;
  /** How many more claim/approve rounds each lane makes on a tranche after seeing it released. */
  repeats: number;
}

export interface AckedDecision {
  caseId: string;
  sequence: number;
  amountPence: string;
  decidedBy: string;
  tranches: { number: number; amountPence: string }[];
}

export interface AckedApproval {
  caseId: string;
  number: number;
  userId: string;
  /** The tranche's status in the reply: `released` when this approval released it. */
  status: string;
  approvals: number;
  approvalsNeeded: number;
  releasedPence: string | null;
}

export interface ReleaseReport {
  name: string;
  phase: 'decide' | 'release';
  decisions: AckedDecision[];
  claims: { caseId: string; number: number; userId: string }[];
  approvals: AckedApproval[];
  /** Refusals by operation and problem type, e.g. `approve:tranche-already-released`. */
  refused: Record<string, number>;
  /** Anything the contract does not allow here: each one fails the test. */
  unexpected: string[];
  /** Tranches this worker gave up waiting for (claimed but never released). */
  stuck: string[];
  transactions: number;
  retries: number;
}

const EXPECTED: Record<string, string[]> = {
  decide: ['insufficient-funds', 'case-decided'],
  claim: ['tranche-already-claimed', 'tranche-out-of-order'],
  // The member who decided a case may not approve its releases (four eyes): others must.
  approve: ['tranche-already-released', 'already-approved-by-you', 'tranche-not-claimed', 'approver-not-independent'],
};

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const config = JSON.parse(env('RELEASE_WORKER_DB')) as DatabaseConfig;
  const name = env('RELEASE_WORKER_NAME');
  const phase = env('RELEASE_WORKER_PHASE') as ReleaseReport['phase'];
  const plan = JSON.parse(env('RELEASE_WORKER_PLAN')) as ReleasePlan;
  const rnd = random(Number(env('RELEASE_WORKER_SEED')));
  const go = env('RELEASE_WORKER_GO');
  const now = new Date(plan.now);
  const shuffle = <T>(xs: T[]): T[] => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  };

  const database: Database = await openDatabase(config);
  const report: ReleaseReport = {
    name,
    phase,
    decisions: [],
    claims: [],
    approvals: [],
    refused: {},
    unexpected: [],
    stuck: [],
    transactions: 0,
    retries: 0,
  };

  /** Runs one operation in its own transaction; returns its value, or the refusal's type. */
  async function run<T>(op: 'decide' | 'claim' | 'approve', what: string, work: (trx: Tx) => Promise<T>) {
    let attempts = 0;
    try {
      const value = await inTransaction(database.db, (trx) => {
        attempts++;
        return work(trx);
      });
      return { value } as const;
    } catch (error) {
      if (error instanceof DomainError && EXPECTED[op]?.includes(error.type)) {
        const key = `${op}:${error.type}`;
        report.refused[key] = (report.refused[key] ?? 0) + 1;
        return { refused: error.type } as const;
      }
      const e = error as { code?: string; type?: string; message?: string };
      report.unexpected.push(`${op} ${what}: ${e.type ?? e.code ?? ''} ${e.message ?? String(error)} (after ${attempts} attempts)`);
      return { failed: true } as const;
    } finally {
      report.transactions++;
      report.retries += Math.max(0, attempts - 1);
    }
  }

  async function decideLane(p: Principal): Promise<void> {
    for (const c of shuffle(plan.cases)) {
      const input = {
        outcome: 'approve' as const,
        reasons: `Approved by ${p.name} in a race.`,
        amountPence: BigInt(c.amountPence),
        tranches: c.tranches satisfies TrancheInput[],
      };
      const r = await run('decide', c.id, (trx) => decide({ trx, principal: p, requestId: null, now }, c.id, input));
      if ('value' in r && r.value) {
        report.decisions.push({
          caseId: r.value.caseId,
          sequence: r.value.sequence,
          amountPence: String(r.value.amountPence),
          decidedBy: r.value.decidedBy,
          tranches: r.value.tranches.map((t) => ({ number: t.number, amountPence: String(t.amountPence) })),
        });
      }
    }
  }

  async function releaseLane(own: Principal): Promise<void> {
    for (const c of plan.cases) {
      for (let n = 1; n <= c.tranches.length; n++) {
        const label = `${c.id}/${n}`;
        let releasedSeen = false;
        let extra = 0;
        let idle = 0;
        for (let attempt = 0; attempt < 2000; attempt++) {
          let progressed = false;
          const claim = await run('claim', label, (trx) =>
            claimTranche({ trx, principal: plan.council, requestId: null, now }, c.id, n, `Evidence for ${label}`),
          );
          if ('value' in claim && claim.value) {
            report.claims.push({ caseId: c.id, number: n, userId: plan.council.userId });
            progressed = true;
          }
          let mine = 0;
          for (const p of shuffle([own, plan.shared])) {
            const r = await run('approve', label, (trx) => approveTranche({ trx, principal: p, requestId: null, now }, c.id, n));
            if ('value' in r && r.value) {
              const t = r.value;
              report.approvals.push({
                caseId: c.id,
                number: n,
                userId: p.userId,
                status: t.status,
                approvals: t.approvals.length,
                approvalsNeeded: t.approvalsNeeded,
                releasedPence: t.releasedPence === null ? null : String(t.releasedPence),
              });
              if (t.status === 'released') releasedSeen = true;
              progressed = true;
            } else if ('refused' in r && r.refused === 'tranche-already-released') {
              releasedSeen = true;
            } else if ('refused' in r && (r.refused === 'already-approved-by-you' || r.refused === 'approver-not-independent')) {
              mine++;
            }
          }
          if (releasedSeen) {
            // Keep hammering the released tranche a few times: every further try must be refused.
            if (extra++ >= plan.repeats) break;
            continue;
          }
          if (progressed) {
            idle = 0;
            continue;
          }
          // Both of this lane's members have approved and it is still not released: others must
          // approve it. Give up if it already has every approval it needs (it never will be).
          if (mine === 2) {
            const t = (await listTranches(database.db, c.id)).find((x) => x.number === n);
            if (t?.status === 'released') {
              releasedSeen = true;
              continue;
            }
            if (t && t.status === 'claimed' && t.approvals.length >= t.approvalsNeeded && ++idle > 50) {
              report.stuck.push(`${label}: claimed with ${t.approvals.length} of ${t.approvalsNeeded} approvals, not released`);
              break;
            }
          }
          if (++idle > 400) {
            report.stuck.push(`${label}: gave up after ${attempt + 1} rounds`);
            break;
          }
          await sleep(1 + rnd() * 5);
        }
        if (!releasedSeen) return; // later tranches cannot be claimed
      }
    }
  }

  try {
    // Warm up (module loading, first connection, prepared statements) before the start line.
    await listTranches(database.db, plan.cases[0]?.id ?? '').catch(() => []);
    process.stdout.write('ready\n');
    while (!existsSync(go)) await sleep(2);
    const lane = phase === 'decide' ? decideLane : releaseLane;
    await Promise.all(plan.lanes.map((p) => lane(p)));
  } finally {
    await database.close();
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
