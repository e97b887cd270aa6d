import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepared } from '../../src/db/prepared.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/db.ts';

describe.each(engines())('prepared statements on %s', (engine) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshDatabase(engine);
  });
  afterAll(() => t.destroy());

  const byKindAndCodes = prepared((db, kind: string, codes: string[]) =>
    db.selectFrom('organisations').select('code').where('kind', '=', kind).where('code', 'in', codes).orderBy('code'),
  );

  it('binds new arguments to a statement compiled once, per shape', async () => {
    const a = await byKindAndCodes(t.database.db, 'department', ['DWP', 'DHSC', 'BRADFORD']);
    expect(a.rows.map((r) => r.code)).toEqual(['DHSC', 'DWP']);
    const b = await byKindAndCodes(t.database.db, 'council', ['DWP', 'DHSC', 'BRADFORD']);
    expect(b.rows.map((r) => r.code)).toEqual(['BRADFORD']);
    const c = await byKindAndCodes(t.database.db, 'department', ['MOJ']);
    expect(c.rows.map((r) => r.code)).toEqual(['MOJ']);
  });

  it('tells shapes apart by the length of every array, empty ones included', async () => {
    const eitherList = prepared((db, a: string[], b: string[]) => {
      const codes = [...a, ...b];
      return db
        .selectFrom('organisations')
        .select('code')
        .where('code', 'in', codes.length > 0 ? codes : ['none'])
        .orderBy('code');
    });
    expect((await eitherList(t.database.db, ['DHSC'], [])).rows.map((r) => r.code)).toEqual(['DHSC']);
    expect((await eitherList(t.database.db, [], ['DWP'])).rows.map((r) => r.code)).toEqual(['DWP']);
    expect((await eitherList(t.database.db, ['DHSC'], ['DWP'])).rows.map((r) => r.code)).toEqual(['DHSC', 'DWP']);
  });

  it('treats argument values as data, even ones that look like its placeholders', async () => {
    // PostgreSQL text cannot hold NUL, so there a look-alike is the nearest a value can come.
    const nul = engine === 'sqlite' ? '\u0000' : '';
    const r = await byKindAndCodes(t.database.db, `${nul}prepared-argument:0`, [`${nul}prepared-argument:1`]);
    expect(r.rows).toEqual([]);
  });
});
