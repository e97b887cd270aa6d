import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR, loadReferenceData } from '../../src/reference/reference.ts';
import { type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';

/** A reload that changes who a beneficiary belongs to is versioned and audited like any other change. */
describe.each(engines())('reference data reloads on %s', (engine) => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    t = await testApp(engine);
    dir = mkdtempSync(join(tmpdir(), 'topslice-fixtures-'));
    cpSync(FIXTURES_DIR, dir, { recursive: true });
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.destroy();
  });

  it('records version 1 of every organisation, changes nothing on a reload of the same fixtures', async () => {
    const db = t.database.db;
    const v1 = await db.selectFrom('organisation_versions').selectAll().where('code', '=', 'WEST-MIDLANDS-POLICE').execute();
    expect(v1.map((v) => [Number(v.version), v.department_code])).toEqual([[1, 'HO']]);
    const before = (await t.request('GET', '/api/v1/audit-log?action=organisations.loaded')).body.entries.length;
    await loadReferenceData(db, dir);
    expect((await t.request('GET', '/api/v1/audit-log?action=organisations.loaded')).body.entries.length).toBe(before);
  });

  it('versions and audits an organisation remapped to another department', async () => {
    const file = join(dir, 'organisations.json');
    const orgs = JSON.parse(readFileSync(file, 'utf8')) as { code: string; departmentCode?: string }[];
    const police = orgs.find((o) => o.code === 'WEST-MIDLANDS-POLICE');
    if (!police) throw new Error('fixture changed');
    police.departmentCode = 'MOJ';
    writeFileSync(file, JSON.stringify(orgs));
    await loadReferenceData(t.database.db, dir, new Date('2026-07-01T00:00:00Z'));
    const versions = await t.database.db
      .selectFrom('organisation_versions')
      .selectAll()
      .where('code', '=', 'WEST-MIDLANDS-POLICE')
      .orderBy('version')
      .execute();
    expect(versions.map((v) => [Number(v.version), v.department_code])).toEqual([
      [1, 'HO'],
      [2, 'MOJ'],
    ]);
    const entries = (await t.request('GET', '/api/v1/audit-log?action=organisations.loaded')).body.entries;
    expect(entries.at(-1).detail.changes).toEqual([
      expect.objectContaining({
        code: 'WEST-MIDLANDS-POLICE',
        version: 2,
        from: expect.objectContaining({ departmentCode: 'HO' }),
        to: expect.objectContaining({ departmentCode: 'MOJ' }),
      }),
    ]);
    expect((await t.request('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });
});
