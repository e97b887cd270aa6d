import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../support/app.ts';
import { ROUND } from '../support/cases.ts';
import { engines } from '../support/db.ts';

const pointers = (body: { errors?: { pointer?: string }[] }) => [...new Set((body.errors ?? []).map((e) => e.pointer))].sort();

describe.each(engines())('funding rounds, unit costs and appraisal parameters on %s', (engine) => {
  let t: TestApp;
  let council: string;
  let panel: string;
  let department: string;
  let auditor: string;
  beforeAll(async () => {
    t = await testApp(engine);
    council = await t.userToken({ name: 'Bradford', role: 'council', organisationCode: 'BRADFORD' });
    panel = await t.userToken({ name: 'Panel member', role: 'panel' });
    department = await t.userToken({ name: 'DHSC finance', role: 'department', organisationCode: 'DHSC' });
    auditor = await t.userToken({ name: 'Auditor', role: 'auditor' });
    const year = await t.request('POST', '/api/v1/financial-years', { body: { name: '2026-27' } });
    expect(year.status).toBe(201);
  });
  afterAll(() => t.destroy());

  describe('POST /rounds', () => {
    it('opens a round with the default criteria, the newest parameter set and deflators, open by the clock', async () => {
      const r = await t.request('POST', '/api/v1/rounds', { body: ROUND });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({
        id: '2026-27-r1',
        financialYear: '2026-27',
        name: ROUND.name,
        envelopePence: ROUND.envelopePence,
        opensOn: '2026-05-01',
        closesOn: '2026-07-31',
        status: 'open',
        minMatchFundingBasisPoints: 1000,
        themes: [],
        quorum: 2,
        parameterSet: { name: 'local-partnerships-cba', version: '2014.1' },
        createdAt: '2026-06-01T09:00:00.000Z',
      });
      expect(r.body.criteria).toEqual([
        { key: 'strategic-fit', name: 'Strategic fit and prevention', weight: 20 },
        { key: 'value-for-money', name: 'Value for money', weight: 30 },
        { key: 'evidence', name: 'Evidence strength', weight: 15 },
        { key: 'deliverability', name: 'Deliverability', weight: 15 },
        { key: 'partnership', name: 'Partnership', weight: 20 },
      ]);
      expect(r.body.criteria.reduce((s: number, c: { weight: number }) => s + c.weight, 0)).toBe(100);
      expect(typeof r.body.deflatorEdition).toBe('string');
      expect(Number.isSafeInteger(r.body.envelopePence)).toBe(true);
      const one = await t.request('GET', '/api/v1/rounds/2026-27-r1', { token: council });
      expect(one.status).toBe(200);
      expect(one.body).toEqual(r.body);
    });

    it('reports upcoming, open and closed as the clock moves (inclusive at both ends)', async () => {
      const r = await t.request('POST', '/api/v1/rounds', {
        body: { ...ROUND, name: 'Autumn round', opensOn: '2026-09-01', closesOn: '2026-10-31' },
      });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ id: '2026-27-r2', status: 'upcoming' });
      const status = async () => (await t.request('GET', `/api/v1/rounds/${r.body.id}`, { token: council })).body.status;
      try {
        t.setNow(new Date('2026-08-31T23:59:59Z'));
        expect(await status()).toBe('upcoming');
        t.setNow(new Date('2026-09-01T00:00:00Z'));
        expect(await status()).toBe('open');
        t.setNow(new Date('2026-10-31T23:59:59Z'));
        expect(await status()).toBe('open');
        t.setNow(new Date('2026-11-01T00:00:00Z'));
        expect(await status()).toBe('closed');
        const first = (await t.request('GET', '/api/v1/rounds/2026-27-r1', { token: council })).body;
        expect(first.status).toBe('closed');
      } finally {
        t.setNow(new Date('2026-06-01T09:00:00Z'));
      }
      expect(await status()).toBe('upcoming');
    });

    it('takes custom criteria, naming known keys by default, and priority themes', async () => {
      const r = await t.request('POST', '/api/v1/rounds', {
        body: {
          ...ROUND,
          name: 'Offenders round',
          themes: ['offenders', 'alcohol-and-drugs'],
          quorum: 3,
          criteria: [
            { key: 'value-for-money', weight: 50 },
            { key: 'evidence', weight: 25 },
            { key: 'innovation', name: 'Innovation and learning', weight: 25 },
          ],
        },
      });
      expect(r.status).toBe(201);
      expect(r.body.themes).toEqual(['offenders', 'alcohol-and-drugs']);
      expect(r.body.quorum).toBe(3);
      expect(r.body.criteria).toEqual([
        { key: 'value-for-money', name: 'Value for money', weight: 50 },
        { key: 'evidence', name: 'Evidence strength', weight: 25 },
        { key: 'innovation', name: 'Innovation and learning', weight: 25 },
      ]);
    });

    it('refuses bad dates, closing before opening, unknown themes, float envelopes and a quorum of 0, with pointers', async () => {
      const notDate = await t.request('POST', '/api/v1/rounds', { body: { ...ROUND, opensOn: '1 May 2026', closesOn: '2026-02-30' } });
      expect(notDate.status).toBe(400);
      expect(notDate.body.type).toBe('/problems/validation-error');
      expect(pointers(notDate.body)).toEqual(['/closesOn', '/opensOn']);
      expect(notDate.body.errors.find((e: { pointer: string }) => e.pointer === '/opensOn').detail).toContain('YYYY-MM-DD');
      expect(notDate.body.errors.find((e: { pointer: string }) => e.pointer === '/closesOn').detail).toContain('not a real date');

      const month13 = await t.request('POST', '/api/v1/rounds', { body: { ...ROUND, opensOn: '2026-13-01' } });
      expect(month13.status).toBe(400);
      expect(pointers(month13.body)).toEqual(['/opensOn']);

      const backwards = await t.request('POST', '/api/v1/rounds', { body: { ...ROUND, opensOn: '2026-07-01', closesOn: '2026-06-30' } });
      expect(backwards.status).toBe(400);
      expect(backwards.body.errors).toContainEqual({ pointer: '/closesOn', detail: 'must not be before opensOn' });

      const theme = await t.request('POST', '/api/v1/rounds', { body: { ...ROUND, themes: ['offenders', 'astrology'] } });
      expect(theme.status).toBe(400);
      expect(theme.body.errors).toEqual([{ pointer: '/themes/1', detail: 'there is no theme astrology' }]);

      const float = await t.request('POST', '/api/v1/rounds', { body: { ...ROUND, envelopePence: 1000.5 } });
      expect(float.status).toBe(400);
      expect(pointers(float.body)).toEqual(['/envelopePence']);
      expect(float.body.errors[0].detail).toContain('whole number of pence');
      const str = await t.request('POST', '/api/v1/rounds', { body: { ...ROUND, envelopePence: '100000' } });
      expect(pointers(str.body)).toEqual(['/envelopePence']);

      const quorum = await t.request('POST', '/api/v1/rounds', { body: { ...ROUND, quorum: 0 } });
      expect(quorum.status).toBe(400);
      expect(quorum.body.errors).toEqual([{ pointer: '/quorum', detail: 'must be at least 1' }]);

      const many = await t.request('POST', '/api/v1/rounds', {
        body: { ...ROUND, minMatchFundingBasisPoints: 10_001, criteria: [{ key: 'Value For Money', weight: 1.5 }], extra: true },
      });
      expect(many.status).toBe(400);
      expect(pointers(many.body)).toEqual(['/criteria/0/key', '/criteria/0/weight', '/extra', '/minMatchFundingBasisPoints']);

      const dupes = await t.request('POST', '/api/v1/rounds', {
        body: {
          ...ROUND,
          criteria: [
            { key: 'evidence', weight: 0 },
            { key: 'evidence', weight: 0 },
          ],
        },
      });
      expect(dupes.status).toBe(400);
      expect(dupes.body.errors.map((e: { detail: string }) => e.detail)).toEqual([
        'criterion keys must be unique',
        'the weights must add up to more than zero',
      ]);
      expect(pointers(dupes.body)).toEqual(['/criteria']);

      const missing = await t.request('POST', '/api/v1/rounds', { body: { financialYear: '2026-27' } });
      expect(missing.status).toBe(400);
      expect(missing.body.errors).toContainEqual({ pointer: '/envelopePence', detail: 'is required' });

      // None of these made a round.
      expect((await t.request('GET', '/api/v1/rounds')).body).toHaveLength(3);
    });

    it('refuses an unknown financial year with 404, and an unknown parameter set or deflator edition', async () => {
      const r = await t.request('POST', '/api/v1/rounds', { body: { ...ROUND, financialYear: '2030-31' } });
      expect(r.status).toBe(404);
      expect(r.body.type).toBe('/problems/financial-year-not-found');
      const set = await t.request('POST', '/api/v1/rounds', { body: { ...ROUND, parameterSet: { name: 'green-book', version: '1' } } });
      expect(set.status).toBe(404);
      expect(set.body.type).toBe('/problems/parameter-set-not-found');
      const deflators = await t.request('POST', '/api/v1/rounds', { body: { ...ROUND, deflatorEdition: 'June 1066' } });
      expect(deflators.status).toBe(400);
      expect(pointers(deflators.body)).toEqual(['/deflatorEdition']);
      expect((await t.request('GET', '/api/v1/rounds')).body).toHaveLength(3);
    });

    it('takes an explicit parameter set and no deflators', async () => {
      const r = await t.request('POST', '/api/v1/rounds', {
        body: { ...ROUND, name: 'Undeflated', parameterSet: { name: 'local-partnerships-cba', version: '2014.1' }, deflatorEdition: null },
      });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({
        id: '2026-27-r4',
        deflatorEdition: null,
        parameterSet: { name: 'local-partnerships-cba', version: '2014.1' },
      });
    });

    it('is created by treasury only and listed for everyone, by year', async () => {
      for (const token of [council, panel, department, auditor]) {
        const r = await t.request('POST', '/api/v1/rounds', { token, body: { ...ROUND, name: 'Not mine to open' } });
        expect(r.status).toBe(403);
        expect(r.body.type).toBe('/problems/forbidden');
      }
      for (const token of [t.treasury, council, panel, department, auditor]) {
        const r = await t.request('GET', '/api/v1/rounds', { token });
        expect(r.status).toBe(200);
        expect(r.body.map((x: { id: string }) => x.id)).toEqual(['2026-27-r1', '2026-27-r2', '2026-27-r3', '2026-27-r4']);
      }
      expect((await t.request('GET', '/api/v1/rounds?fy=2026-27', { token: council })).body).toHaveLength(4);
      expect((await t.request('GET', '/api/v1/rounds?fy=2027-28', { token: council })).body).toEqual([]);
      expect((await t.request('GET', '/api/v1/rounds?fy=2027', { token: council })).status).toBe(400);
      const unknown = await t.request('GET', '/api/v1/rounds/2026-27-r99', { token: council });
      expect(unknown.status).toBe(404);
      expect(unknown.body.type).toBe('/problems/round-not-found');
    });

    it('numbers rounds within their year', async () => {
      await t.request('POST', '/api/v1/financial-years', { body: { name: '2027-28' } });
      const r = await t.request('POST', '/api/v1/rounds', {
        body: { ...ROUND, financialYear: '2027-28', name: 'Next year', opensOn: '2027-05-01', closesOn: '2027-07-31' },
      });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ id: '2027-28-r1', status: 'upcoming' });
    });

    it('replays a round opened with the same Idempotency-Key', async () => {
      const headers = { 'idempotency-key': 'round-winter' };
      const body = { ...ROUND, name: 'Winter round', opensOn: '2026-12-01', closesOn: '2027-01-31' };
      const first = await t.request('POST', '/api/v1/rounds', { body, headers });
      expect(first.status).toBe(201);
      const again = await t.request('POST', '/api/v1/rounds', { body, headers });
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body.id).toBe(first.body.id);
      expect((await t.request('GET', '/api/v1/rounds?fy=2026-27')).body).toHaveLength(5);
    });

    it('records each round in the audit log', async () => {
      const log = await t.request('GET', '/api/v1/audit-log?subject=round/2026-27-r1');
      expect(log.status).toBe(200);
      expect(log.body.entries).toHaveLength(1);
      expect(log.body.entries[0]).toMatchObject({ action: 'round.created', actorRole: 'treasury', subject: 'round/2026-27-r1' });
    });
  });

  describe('GET /unit-costs', () => {
    it('finds hospital bed days with the attribution, integer pence and the paying department', async () => {
      const r = await t.request('GET', '/api/v1/unit-costs?q=hospital%20bed', { token: council });
      expect(r.status).toBe(200);
      expect(r.body.attribution).toContain('Unit Cost Database');
      expect(r.body.attribution).toContain('New Economy');
      expect(r.body.licence).toContain('Creative Commons');
      expect(r.body.results.length).toBeGreaterThan(0);
      const codes = r.body.results.map((u: { code: string }) => u.code);
      expect([...codes].sort()).toEqual(codes);
      for (const u of r.body.results) {
        const text = [u.code, u.category, u.detail, u.description, u.unit, u.agency, u.agencyDetail].join(' ').toLowerCase();
        expect(text).toContain('hospital');
        expect(text).toContain('bed');
        if (u.valuePence !== null) expect(Number.isSafeInteger(u.valuePence)).toBe(true);
        if (u.agency === 'NHS') expect(u.departmentCode).toBe('DHSC');
      }
      expect(r.body.results.some((u: { agency: string }) => u.agency === 'NHS')).toBe(true);
    });

    it('filters by agency and limits, and refuses a bad limit', async () => {
      const r = await t.request('GET', '/api/v1/unit-costs?agency=NHS&limit=5', { token: panel });
      expect(r.status).toBe(200);
      expect(r.body.results).toHaveLength(5);
      for (const u of r.body.results) expect(u).toMatchObject({ agency: 'NHS', departmentCode: 'DHSC' });
      const none = await t.request('GET', '/api/v1/unit-costs?q=zzzqqq', { token: panel });
      expect(none.body.results).toEqual([]);
      const bad = await t.request('GET', '/api/v1/unit-costs?limit=0', { token: panel });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].parameter).toBe('limit');
    });

    it('treats SQL wildcards in the query as plain text', async () => {
      const all = await t.request('GET', '/api/v1/unit-costs?q=%25&limit=500');
      expect(all.status).toBe(200);
      const none = await t.request('GET', '/api/v1/unit-costs?q=zzzqqq_%25');
      expect(none.body.results).toEqual([]);
    });
  });

  describe('GET /appraisal-parameter-sets', () => {
    it('lists the provisional local-partnerships set with its discount schedule, grade tables and VfM bands', async () => {
      const r = await t.request('GET', '/api/v1/appraisal-parameter-sets', { token: department });
      expect(r.status).toBe(200);
      const set = r.body.find((s: { name: string }) => s.name === 'local-partnerships-cba');
      expect(set).toMatchObject({ name: 'local-partnerships-cba', version: '2014.1', provisional: true });
      expect(set.discountSchedule[0]).toEqual({ fromYear: 0, toYear: 30, rateBasisPoints: 350, rate: '0.035' });
      expect(set.discountSchedule[1]).toMatchObject({ fromYear: 31, rateBasisPoints: 300 });
      expect(set.discountSchedules.health[0]).toMatchObject({ fromYear: 0, rateBasisPoints: 150 });
      expect(Object.keys(set.costUpliftBasisPointsByGrade)).toEqual(['1', '2', '3', '4', '5', '6']);
      expect(Object.keys(set.benefitHaircutBasisPointsByGrade)).toEqual(['1', '2', '3', '4', '5', '6']);
      for (const table of [set.costUpliftBasisPointsByGrade, set.benefitHaircutBasisPointsByGrade]) {
        const values = Object.values(table) as number[];
        for (const v of values) expect(Number.isInteger(v)).toBe(true);
        expect([...values].sort((a, b) => a - b)).toEqual(values); // worse evidence, bigger adjustment
      }
      expect(set.vfmBands.map((b: { band: string }) => b.band)).toEqual(['poor', 'low', 'medium', 'high', 'very-high']);
      expect(set.vfmBands[0]).toMatchObject({ band: 'poor', minBcr: null, maxBcr: '1' });
      expect(set.vfmBands[4]).toMatchObject({ band: 'very-high', minBcr: '4', maxBcr: null });
    });
  });
});
