/**
 * A child process for test/ledger/crash.test.ts, killed with SIGKILL at a random moment. It runs
 * business operations until it dies: each is one transaction holding a small batch of transfers
 * out of a funded account (single, pending, post or void of a pending one, a linked pair) and an
 * audit entry naming the transfers it created. Only after the commit does it print, per transfer
 * acknowledged `created` or `exists`, one line: `ack <json of the TransferInput, amounts as strings>`.
 * It prints `ready` once it has opened the database, and resolves pending transfers left open by
 * an earlier run that was killed.
 *
 * Run: node --import tsx test/support/crash-worker.ts
 * Environment:
 *   CRASH_WORKER_DB    the DatabaseConfig as JSON
 *   CRASH_WORKER_RUN   this run's number: its ids start with `r<run>-`, so a restart uses new ones
 *   CRASH_WORKER_SEED  the random seed
 */
import { pathToFileURL } from 'node:url';
import { appendAudit, SYSTEM } from '../../src/audit/audit.ts';
import type { DatabaseConfig } from '../../src/config.ts';
import { inTransaction, openDatabase } from '../../src/db/database.ts';
import { createTransfers } from '../../src/ledger/ledger.ts';
import type { TransferInput } from '../../src/ledger/types.ts';
import { random } from './child.ts';

export const CRASH_FUND = 'fund';
export const CRASH_SINKS = ['dept-a', 'dept-b', 'dept-c'];
export const CRASH_ACTION = 'transfers.posted';

/** A TransferInput with its amount as a string, as printed after `ack `. */
export type PrintedInput = Omit<TransferInput, 'amount'> & { amount?: string };

export function printInput(t: TransferInput): string {
  return JSON.stringify({ ...t, amount: t.amount?.toString() });
}

export function parseInput(json: string): TransferInput {
  const p = JSON.parse(json) as PrintedInput;
  const { amount, ...rest } = p;
  return amount === undefined ? rest : { ...rest, amount: BigInt(amount) };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.CRASH_WORKER_DB ?? '') as DatabaseConfig;
  const run = Number(process.env.CRASH_WORKER_RUN);
  const rnd = random(Number(process.env.CRASH_WORKER_SEED));
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const amount = () => BigInt(1 + Math.floor(rnd() * 500));
  let next = 0;
  const newId = () => `r${run}-${next++}`;

  const database = await openDatabase(config);
  const db = database.db;
  // Pending transfers an earlier run left open (it may have died before resolving them).
  const open = (
    await db
      .selectFrom('pending_transfers')
      .select('id')
      .where('status', '=', 'pending')
      .where('debit_account_id', '=', CRASH_FUND)
      .execute()
  ).map((r) => r.id);
  process.stdout.write('ready\n');

  const single = (): TransferInput => ({
    id: newId(),
    debitAccountId: CRASH_FUND,
    creditAccountId: pick(CRASH_SINKS),
    amount: amount(),
    ledger: 'GBP',
    code: 'grant',
    reference: `run ${run}`,
  });

  for (let op = 0; op < 1_000_000; op++) {
    const r = rnd();
    let inputs: TransferInput[];
    if (r < 0.25 && open.length > 0) {
      const pendingId = open.splice(Math.floor(rnd() * open.length), 1)[0] as string;
      inputs = [{ id: newId(), pendingId, ...(rnd() < 0.5 ? { postPendingTransfer: true } : { voidPendingTransfer: true }) }];
    } else if (r < 0.45) {
      inputs = [{ ...single(), pending: true, code: 'commitment' }];
    } else if (r < 0.55) {
      inputs = [{ ...single(), linked: true }, single()];
    } else if (r < 0.65) {
      inputs = Array.from({ length: 2 + Math.floor(rnd() * 4) }, single);
    } else {
      inputs = [single()];
    }

    const results = await inTransaction(db, async (trx) => {
      const results = await createTransfers(trx, inputs);
      const created = results.flatMap((x) => ('status' in x && x.status === 'created' ? [x.id] : []));
      await appendAudit(trx, {
        actor: SYSTEM,
        action: CRASH_ACTION,
        subject: `run/${run}/op/${op}`,
        detail: { created, refused: results.flatMap((x) => ('error' in x ? [`${x.id}:${x.error}`] : [])) },
      });
      return results;
    });
    // Committed: acknowledge.
    let out = '';
    results.forEach((res, i) => {
      const input = inputs[i] as TransferInput;
      if (!('status' in res)) return;
      out += `ack ${printInput(input)}\n`;
      if (input.pending) open.push(input.id);
    });
    if (out) process.stdout.write(out);
  }
  await database.close();
}

// Run as a script, not when the test imports the helpers above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
