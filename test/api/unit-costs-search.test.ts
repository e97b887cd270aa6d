import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';

interface Row {
  code: string;
  category: string | null;
  detail: string | null;
  description: string;
  unit: string | null;
  agency: string | null;
  agencyDetail: string | null;
}

/** The text a search word is matched against, as the service builds it. */
const textOf = (u: Row) =>
  [u.code, u.category, u.detail, u.description, u.unit, u.agency, u.agencyDetail].filter(Boolean).join(' ').toLowerCase();

describe.each(engines())('the unit-cost search reads %% and _ as plain text on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp(engine);
  });
  afterAll(() => t.destroy());

  async function search(q: string): Promise<Row[]> {
    const r = await t.request('GET', `/api/v1/unit-costs?q=${encodeURIComponent(q)}&limit=500`);
    expect(r.status).toBe(200);
    return r.body.results;
  }

  it('finds the rows a plain word names, so an empty answer below is the filter working', async () => {
    const rows = await search('hospital');
    expect(rows.length).toBeGreaterThan(0);
    for (const u of rows) expect(textOf(u)).toContain('hospital');
  });

  it.each(['%', '_', '%%', '_%_', '!', '\\'])('q=%s returns only rows whose text contains it (none in v1.4)', async (q) => {
    const rows = await search(q);
    for (const u of rows) expect(textOf(u)).toContain(q);
    // No row of the Unit Cost Database v1.4 contains these characters.
    expect(rows).toEqual([]);
  });

  it('does not let _ stand for one letter nor % for a run of letters inside a word', async () => {
    expect((await search('h_spital')).map((u) => u.code)).toEqual([]);
    expect((await search('hosp%al')).map((u) => u.code)).toEqual([]);
    expect((await search('hospital%')).map((u) => u.code)).toEqual([]);
    expect((await search('hospital _')).map((u) => u.code)).toEqual([]);
  });
});
