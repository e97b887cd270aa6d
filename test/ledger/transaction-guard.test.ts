import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dryRun, inTransaction } from '../../src/db/database.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/db.ts';

/*
 * Inside a transaction every query goes through the transaction. A query sent to the database
 * itself from inside one would hang on SQLite (its one connection is held) and read beside the
 * transaction on PostgreSQL; it is refused at once instead, and the transaction rolls back.
 */
describe.each(engines())('a query beside an open transaction (%s)', (engine) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshDatabase(engine);
  });
  afterAll(() => t.destroy());

  const count = async () =>
    Number(
      (
        await t.database.db
          .selectFrom('organisations')
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('is refused at once, and the transaction’s writes are rolled back', async () => {
    const db = t.database.db;
    const before = await count();
    await expect(
      inTransaction(db, async (trx) => {
        await trx
          .insertInto('organisations')
          .values({
            code: 'GUARD1',
            name: 'Guard test',
            kind: 'department',
            place_code: null,
            department_code: null,
            gss_code: null,
            details: '{}',
          })
          .execute();
        return db.selectFrom('organisations').selectAll().execute();
      }),
    ).rejects.toThrow(/not the open transaction/);
    expect(await count()).toBe(before);
  });

  it('is refused inside a dry run too, and queries through the transaction work', async () => {
    const db = t.database.db;
    await expect(dryRun(db, async () => db.selectFrom('organisations').selectAll().execute())).rejects.toThrow(/not the open transaction/);
    const rows = await dryRun(db, async (trx) => trx.selectFrom('organisations').selectAll().execute());
    expect(rows.length).toBe(await count());
  });

  it('does not touch queries from other requests while a transaction is open', async () => {
    const db = t.database.db;
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const tx = inTransaction(db, async (trx) => {
      await held;
      return trx.selectFrom('organisations').selectAll().execute();
    });
    // Another flow's read waits for the connection (SQLite) or takes another (PostgreSQL): no refusal.
    const other = db.selectFrom('organisations').selectAll().execute();
    release();
    await expect(tx).resolves.toBeDefined();
    await expect(other).resolves.toBeDefined();
  });
});
