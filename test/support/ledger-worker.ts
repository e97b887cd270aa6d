/**
 * A child process for test/ledger/concurrency.test.ts: hammers one funded account (with
 * `debitsMustNotExceedCredits`) with single, pending, post, void and linked transfers, refunds
 * paid back into it, and replays of its own earlier ids, each batch in its own transaction.
 *
 * It prints `ready` once it is connected and warmed up, waits for the go file to appear (so all
 * workers start together and really overlap), and at the end prints one JSON line (see
 * WorkerReport) with every transfer it got an acknowledged `created`/`exists` result for.
 *
 * Run: node --import tsx test/support/ledger-worker.ts
 * Environment:
 *   LEDGER_WORKER_DB     the DatabaseConfig as JSON (sqlite path, or postgres url + schema)
 *   LEDGER_WORKER_NAME   a prefix that makes this worker's ids unique
 *   LEDGER_WORKER_FUND   the funded account id
 *   LEDGER_WORKER_SINKS  comma-separated ids of the accounts it pays into
 *   LEDGER_WORKER_OPS    how many operations (batches) to run, over all lanes
 *   LEDGER_WORKER_LANES  concurrent async loops in this process (each its own transaction)
 *   LEDGER_WORKER_SEED   the random seed
 *   LEDGER_WORKER_GO     a file path: start when it exists
 *   LEDGER_WORKER_PAUSE  at most this many milliseconds (random) to wait after each batch; 0 for none
 */
import { existsSync } from 'node:fs';
import type { DatabaseConfig } from '../../src/config.ts';
import { type Database, inTransaction, openDatabase } from '../../src/db/database.ts';
import { type CreateTransferResult, createTransfers, getAccount } from '../../src/ledger/ledger.ts';
import type { TransferInput } from '../../src/ledger/types.ts';
import { random } from './child.ts';

/** A transfer acknowledged as `created` or `exists`, with its amount as stored (a decimal string). */
export interface AckedTransfer {
  id: string;
  kind: 'single' | 'pending' | 'post' | 'void' | 'refund';
  status: 'created' | 'exists';
  debitAccountId: string;
  creditAccountId: string;
  amount: string;
  pendingId: string | null;
}

export interface WorkerReport {
  name: string;
  acked: AckedTransfer[];
  /** Transfers refused because of the ledger's state, by error. */
  refused: Record<string, number>;
  /** Results that contradict the contract (each one a failure of the test). */
  unexpected: string[];
  batches: number;
  retriesSeen: number;
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Op {
  inputs: TransferInput[];
  kinds: AckedTransfer['kind'][];
  /** For replays: the result each input must get. */
  expect?: ('exists' | 'id_already_failed')[];
}

async function main(): Promise<void> {
  const config = JSON.parse(env('LEDGER_WORKER_DB')) as DatabaseConfig;
  const name = env('LEDGER_WORKER_NAME');
  const fund = env('LEDGER_WORKER_FUND');
  const sinks = env('LEDGER_WORKER_SINKS').split(',');
  const ops = Number(env('LEDGER_WORKER_OPS'));
  const lanes = Number(process.env.LEDGER_WORKER_LANES ?? '1');
  const rnd = random(Number(env('LEDGER_WORKER_SEED')));
  const go = env('LEDGER_WORKER_GO');
  const pause = Number(process.env.LEDGER_WORKER_PAUSE ?? '0');
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const amount = () => BigInt(1 + Math.floor(rnd() * 60));

  const database: Database = await openDatabase(config);
  const report: WorkerReport = { name, acked: [], refused: {}, unexpected: [], batches: 0, retriesSeen: 0 };
  /** Inputs acknowledged or refused (by state) so far, to replay. */
  const done: { input: TransferInput; kind: AckedTransfer['kind']; outcome: 'exists' | 'id_already_failed' }[] = [];
  /** Pending transfers this worker created and has not yet resolved (nor handed to a lane). */
  const open: TransferInput[] = [];
  let next = 0;
  const newId = () => `${name}-${next++}`;

  const single = (): TransferInput => ({
    id: newId(),
    debitAccountId: fund,
    creditAccountId: pick(sinks),
    amount: amount(),
    ledger: 'GBP',
    code: 'grant',
  });
  const pending = (): TransferInput => ({ ...single(), pending: true, code: 'commitment' });

  function nextOp(): Op {
    const r = rnd();
    if (r < 0.1 && done.length > 0) {
      // Replays of earlier ids, exactly as first sent.
      const n = 1 + Math.floor(rnd() * 3);
      const chosen = Array.from({ length: n }, () => pick(done));
      return { inputs: chosen.map((c) => c.input), kinds: chosen.map((c) => c.kind), expect: chosen.map((c) => c.outcome) };
    }
    if (r < 0.3 && open.length > 0) {
      const p = open.splice(Math.floor(rnd() * open.length), 1)[0] as TransferInput;
      const how = rnd();
      if (how < 0.35) return { inputs: [{ id: newId(), pendingId: p.id, voidPendingTransfer: true }], kinds: ['void'] };
      if (how < 0.7) return { inputs: [{ id: newId(), pendingId: p.id, postPendingTransfer: true }], kinds: ['post'] };
      // A partial post, naming the accounts as the contract allows.
      const part = 1n + BigInt(Math.floor(rnd() * Number(p.amount as bigint)));
      return {
        inputs: [
          {
            id: newId(),
            pendingId: p.id,
            postPendingTransfer: true,
            amount: part,
            debitAccountId: p.debitAccountId as string,
            creditAccountId: p.creditAccountId as string,
          },
        ],
        kinds: ['post'],
      };
    }
    if (r < 0.45) {
      const p = pending();
      return { inputs: [p], kinds: ['pending'] };
    }
    if (r < 0.55) {
      // A pending transfer posted in the same batch, as one linked chain.
      const p = { ...pending(), linked: true };
      return { inputs: [p, { id: newId(), pendingId: p.id, postPendingTransfer: true }], kinds: ['pending', 'post'] };
    }
    if (r < 0.65) {
      // A linked pair of singles: both or neither.
      return { inputs: [{ ...single(), linked: true }, single()], kinds: ['single', 'single'] };
    }
    if (r < 0.7) {
      // Money flowing back in while others spend it: the fund's credits move too.
      return {
        inputs: [{ id: newId(), debitAccountId: pick(sinks), creditAccountId: fund, amount: amount(), ledger: 'GBP', code: 'refund' }],
        kinds: ['refund'],
      };
    }
    if (r < 0.78) {
      // An unlinked batch: each succeeds or fails on its own.
      const n = 2 + Math.floor(rnd() * 4);
      return { inputs: Array.from({ length: n }, single), kinds: Array.from({ length: n }, () => 'single' as const) };
    }
    return { inputs: [single()], kinds: ['single'] };
  }

  async function runOp(op: Op): Promise<void> {
    let attempts = 0;
    const results: CreateTransferResult[] = await inTransaction(database.db, (trx) => {
      attempts++;
      return createTransfers(trx, op.inputs);
    });
    report.batches++;
    report.retriesSeen += attempts - 1;
    // Committed: from here on, a `created`/`exists` result is acknowledged.
    results.forEach((res, i) => {
      const input = op.inputs[i] as TransferInput;
      const kind = op.kinds[i] as AckedTransfer['kind'];
      if (res.id !== input.id) report.unexpected.push(`result ${i} has id ${res.id}, sent ${input.id}`);
      const want = op.expect?.[i];
      if ('status' in res) {
        if (want === 'id_already_failed') report.unexpected.push(`replay of failed ${input.id} gave ${res.status}`);
        if (want === 'exists' && res.status !== 'exists') report.unexpected.push(`replay of ${input.id} gave ${res.status}`);
        if (!want && res.status !== 'created') report.unexpected.push(`new ${input.id} gave ${res.status}`);
        report.acked.push({
          id: res.id,
          kind,
          status: res.status,
          debitAccountId: res.transfer.debitAccountId,
          creditAccountId: res.transfer.creditAccountId,
          amount: res.transfer.amount.toString(),
          pendingId: res.transfer.pendingId,
        });
        if (!want) {
          // A linked transfer replayed alone would open a chain; replay only unlinked ones.
          if (!input.linked) done.push({ input, kind, outcome: 'exists' });
          if (kind === 'pending' && !op.inputs.some((o) => o.pendingId === input.id)) open.push(input);
        }
        return;
      }
      if (want === 'exists') report.unexpected.push(`replay of ${input.id} gave ${res.error}`);
      if (want === 'id_already_failed' && res.error !== 'id_already_failed')
        report.unexpected.push(`replay of failed ${input.id} gave ${res.error}`);
      if (want) return;
      report.refused[res.error] = (report.refused[res.error] ?? 0) + 1;
      // Only running out of money, and the chain failures it causes, are expected here.
      if (res.error !== 'exceeds_credits' && res.error !== 'linked_event_failed')
        report.unexpected.push(`${input.id} (${kind}) refused: ${res.error}`);
      if (res.error === 'exceeds_credits' && !input.linked) done.push({ input, kind, outcome: 'id_already_failed' });
    });
  }

  let started = 0;
  async function lane(): Promise<void> {
    while (started < ops) {
      started++;
      await runOp(nextOp());
      // Not from `rnd`: the operations a seed gives must not depend on the pause.
      if (pause > 0) await sleep(Math.random() * pause);
    }
  }
  try {
    // Warm up (module loading, first connection, a transaction on every lane's connection)
    // before the start line, so that no worker is done before the last one has begun.
    await Promise.all(Array.from({ length: lanes }, () => inTransaction(database.db, (trx) => getAccount(trx, fund))));
    process.stdout.write('ready\n');
    while (!existsSync(go)) await sleep(2);
    await Promise.all(Array.from({ length: lanes }, lane));
    // Leave nothing reserved forever: resolve what is still open, half posted, half voided.
    while (open.length > 0) {
      const p = open.pop() as TransferInput;
      const post = rnd() < 0.5;
      await runOp({
        inputs: [{ id: newId(), pendingId: p.id, ...(post ? { postPendingTransfer: true } : { voidPendingTransfer: true }) }],
        kinds: [post ? 'post' : 'void'],
      });
    }
  } finally {
    await database.close();
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
