import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/db/database.ts';
import { createAccounts, createTransfers, getPendingStatus } from '../../src/ledger/ledger.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/db.ts';

/** More pending transfers fall due at once than one expiry pass takes: none of them may still be posted. */
describe.each(engines())('expiring many pending transfers at once on %s', (engine) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshDatabase(engine);
  });
  afterAll(() => t.destroy());

  it('expires every due reservation before a post, however many there are', async () => {
    const db = t.database.db;
    const start = new Date('2030-01-01T00:00:00Z');
    await inTransaction(db, (trx) =>
      createAccounts(trx, [
        { id: 'x-a', ledger: 'GBP', kind: 'test' },
        { id: 'x-b', ledger: 'GBP', kind: 'test' },
      ]),
    );
    const ids = Array.from({ length: 1001 }, (_, i) => `x-p${String(i).padStart(4, '0')}`);
    const created = await inTransaction(db, (trx) =>
      createTransfers(
        trx,
        ids.map((id) => ({
          id,
          debitAccountId: 'x-a',
          creditAccountId: 'x-b',
          amount: 1n,
          ledger: 'GBP',
          code: 'hold',
          pending: true,
          timeoutSeconds: 1,
        })),
        start,
      ),
    );
    expect(created.every((r) => 'status' in r && r.status === 'created')).toBe(true);
    const later = new Date(start.getTime() + 2000);
    const [post] = await inTransaction(db, (trx) =>
      createTransfers(trx, [{ id: 'x-post', pendingId: 'x-p1000', postPendingTransfer: true }], later),
    );
    expect(post).toEqual({ id: 'x-post', error: 'pending_transfer_expired' });
    expect(await getPendingStatus(db, 'x-p1000')).toBe('expired');
    expect(await getPendingStatus(db, 'x-p0000')).toBe('expired');
    const verified = await verifyLedger(db);
    expect(verified.ok).toBe(true);
    const a = verified.ledgers.find((l) => l.ledger === 'GBP');
    expect(a?.debitsPending).toBe(0n);
  });
});
