import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_CSV_COLUMNS, poundsForOpenData } from '../../src/exports/grants.ts';
import { REGISTER_CSV_COLUMNS } from '../../src/exports/register.ts';
import { FIXTURES_DIR } from '../../src/reference/reference.ts';
import { engines } from '../support/db.ts';
import { type DemoWorld, demoWorld } from '../support/demo.ts';

/** A schema file; its `$schema` names draft 2020-12 at its http: address, which Ajv knows by its https: one. */
const schema = (name: string) => ({
  ...JSON.parse(readFileSync(join(FIXTURES_DIR, '360giving', name), 'utf8')),
  $schema: 'https://json-schema.org/draft/2020-12/schema',
});

/** The 360Giving Data Standard's own JSON Schemas (fixtures/360giving/SOURCE.md). */
function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  // ajv-formats is CommonJS: its plugin is the module itself at run time, `.default` to the types.
  const addFormats = ((formats as unknown as { default?: typeof formats }).default ?? formats) as unknown as (a: Ajv2020) => void;
  addFormats(ajv);
  const grant = schema('360-giving-schema.json');
  // The package refers to the grant schema by its 1.4.2 address; the file is 1.4.3 of the same.
  ajv.addSchema({ ...grant, $id: 'https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/360-giving-schema.json' });
  return ajv.compile(schema('360-giving-package-schema.json'));
}

describe('pounds for open data', () => {
  it.each([
    [123456n, 1234.56],
    [123450n, 1234.5],
    [100n, 1],
    [0n, 0],
    [29n, 0.29],
    [999_999_999_999_99n, 999999999999.99],
  ])('%s pence is exactly %s pounds', (pence, pounds) => {
    expect(poundsForOpenData(pence)).toBe(pounds);
  });
  it('refuses an amount a JSON number cannot carry exactly', () => {
    expect(() => poundsForOpenData(9_007_199_254_740_993n)).toThrow(RangeError);
  });
});

describe.each(engines())('open data: the year’s awards in the 360Giving standard (%s)', (engine) => {
  let w: DemoWorld;
  beforeAll(async () => {
    w = await demoWorld(engine);
  });
  afterAll(async () => {
    await w.t.destroy();
  });

  it('publishes every approved case as a grant, valid against the 360Giving package schema', async () => {
    const r = await w.t.request('GET', `/api/v1/open-data/${w.fy}/grants.json`);
    expect(r.status).toBe(200);
    const validate = validator();
    const valid = validate(r.body);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // The schema really checks: a grant with its amount as text, or no grants at all, is refused.
    expect(validate({ ...r.body, grants: [{ ...r.body.grants[0], amountAwarded: '1' }] })).toBe(false);
    expect(validate({ ...r.body, grants: [] })).toBe(false);

    const cases = (await w.t.request('GET', `/api/v1/cases?status=approved`)).body;
    const approved = (Array.isArray(cases) ? cases : cases.items).filter((c: { status: string }) => c.status === 'approved');
    expect(r.body.grants.map((g: { id: string }) => g.id).sort()).toEqual(
      approved.map((c: { reference: string }) => `360G-topslice-${c.reference}`).sort(),
    );
    for (const g of r.body.grants) {
      const c = approved.find((x: { reference: string }) => g.id.endsWith(x.reference));
      const decisions = (await w.t.request('GET', `/api/v1/cases/${c.id}/decisions`)).body;
      const approval = decisions.filter((d: { outcome: string }) => d.outcome === 'approve').at(-1);
      expect(Math.round(g.amountAwarded * 100)).toBe(approval.amountPence);
      expect(g.awardDate).toBe(approval.decidedAt.slice(0, 10));
      expect(g.title).toBe(c.title);
    }
  });

  it('gives the same grants as the standard’s flat CSV, amounts written exactly in pounds', async () => {
    const json = (await w.t.request('GET', `/api/v1/open-data/${w.fy}/grants.json`)).body;
    const r = await w.t.request('GET', `/api/v1/open-data/${w.fy}/grants.csv`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = parse(r.text, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0] ?? {})).toEqual([...GRANT_CSV_COLUMNS]);
    expect(rows.map((x) => x.Identifier)).toEqual(json.grants.map((g: { id: string }) => g.id));
    for (const [i, row] of rows.entries()) {
      expect(row['Amount Awarded']).toMatch(/^\d+\.\d{2}$/);
      expect(Number(row['Amount Awarded'])).toBe(json.grants[i].amountAwarded);
      expect(row['Recipient Org:Name']).toBe(json.grants[i].recipientOrganization[0].name);
    }
  });

  it('gives the benefits register as CSV: the rows GET /benefits gives the same reader, pence written as exact pounds', async () => {
    for (const token of [w.t.treasury, await w.t.userToken({ name: 'DHSC reader', role: 'department', organisationCode: 'DHSC' })]) {
      const json = (await w.t.request('GET', `/api/v1/benefits?fy=${w.fy}&limit=5000`, { token })).body;
      const r = await w.t.request('GET', `/api/v1/open-data/benefits.csv?fy=${w.fy}`, { token });
      expect(r.status).toBe(200);
      const rows = parse(r.text, { columns: true }) as Record<string, string>[];
      expect(Object.keys(rows[0] ?? {})).toEqual([...REGISTER_CSV_COLUMNS]);
      expect(rows.length).toBe(json.rows.length);
      expect(rows.length).toBeGreaterThan(0);
      for (const [i, row] of rows.entries()) {
        const j = json.rows[i];
        expect(row['Case reference']).toBe(j.reference);
        expect(row.Year).toBe(j.year);
        const pence = (s: string) => BigInt(s.replace('.', '').replace(/^(-?)0+(?=\d)/, '$1'));
        expect(pence(row['Verified (£)'] as string)).toBe(BigInt(j.verifiedPence));
        expect(pence(row['Forecast (£)'] as string)).toBe(BigInt(j.forecastPence));
      }
    }
    const bad = await w.t.request('GET', '/api/v1/open-data/benefits.csv?case=nope');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].parameter).toBe('case');
  });

  it('refuses a year that does not exist, by name', async () => {
    const r = await w.t.request('GET', '/api/v1/open-data/2031-32/grants.json');
    expect(r.status).toBe(404);
    expect(r.body.type).toBe('/problems/financial-year-not-found');
  });
});
