import { openSqliteFile } from '../src/db/database.ts';
import { prepareDatabase } from '../src/db/prepare.ts';

/** What every benchmark shares: summary figures and the raw-SQLite baseline the ledger's figures are set against. */

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
export const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
export const fmt = (n: number) => n.toLocaleString('en-GB');

/**
 * Raw better-sqlite3 on the same schema (a migrated database at `path`), the same pragmas:
 * BEGIN IMMEDIATE, one transfer row, two counter updates, COMMIT, with nothing read or checked.
 * `round()` runs `n` commits and gives the milliseconds they took.
 */
export async function rawCommits(path: string, n: number): Promise<{ round: () => number; close: () => void }> {
  await (await prepareDatabase({ engine: 'sqlite', path })).close();
  const raw = openSqliteFile(path);
  raw.exec(`insert into accounts (id, ledger, kind, flags, debits_pending, debits_posted, credits_pending, credits_posted, created_at)
            values ('a', 'GBP', 'bench', 0, 0, 0, 0, 0, '2026-06-01T09:00:00.000Z'), ('b', 'GBP', 'bench', 0, 0, 0, 0, 0, '2026-06-01T09:00:00.000Z')`);
  const insert = raw.prepare(`insert into transfers (id, debit_account_id, credit_account_id, amount, ledger, code, flags, pending_id,
      timeout_seconds, reference, fingerprint, created_at,
      debit_account_debits_pending, debit_account_debits_posted, debit_account_credits_pending, debit_account_credits_posted,
      credit_account_debits_pending, credit_account_debits_posted, credit_account_credits_pending, credit_account_credits_posted)
    values (?, 'a', 'b', 100, 'GBP', 'bench', 0, null, 0, null, ?, ?, 0, ?, 0, 0, 0, 0, 0, ?)`);
  const debit = raw.prepare('update accounts set debits_posted = debits_posted + 100 where id = ?');
  const credit = raw.prepare('update accounts set credits_posted = credits_posted + 100 where id = ?');
  const begin = raw.prepare('begin immediate');
  const commit = raw.prepare('commit');
  let rounds = 0;
  const round = () => {
    rounds++;
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const total = BigInt((rounds - 1) * n + i + 1) * 100n;
      begin.run();
      insert.run(`raw-${rounds}-${i}`, 'x'.repeat(43), new Date().toISOString(), total, total);
      debit.run('a');
      credit.run('b');
      commit.run();
    }
    return performance.now() - started;
  };
  return { round, close: () => raw.close() };
}
