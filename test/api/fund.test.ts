import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/audit/audit.ts';
import { inTransaction } from '../../src/db/database.ts';
import { setDepartmentYear } from '../../src/fund/fund.ts';
import { DEPARTMENTS, setUpYear, type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';

// MOJ: 95,000,000.01 × 3.33% = 3,163,500.000333 → £3,163,500.00 (half-even to the penny).
const DUE = { DHSC: 25_000_000_00, DWP: 12_000_000_00, MOJ: 3_163_500_00 };
const TOTAL = DUE.DHSC + DUE.DWP + DUE.MOJ;

describe.each(engines())('financial years, department settings and the fund on %s', (engine) => {
  let t: TestApp;
  let dhsc: string;
  let council: string;
  beforeAll(async () => {
    t = await testApp(engine);
    dhsc = await t.userToken({ name: 'DHSC finance', role: 'department', organisationCode: 'DHSC' });
    council = await t.userToken({ name: 'Bradford', role: 'council', organisationCode: 'BRADFORD' });
  });
  afterAll(() => t.destroy());

  describe('POST /financial-years', () => {
    it('creates a year with its April–March dates, once', async () => {
      const r = await t.request('POST', '/api/v1/financial-years', { body: { name: '2026-27' } });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ name: '2026-27', startsOn: '2026-04-01', endsOn: '2027-03-31', status: 'open' });
      const again = await t.request('POST', '/api/v1/financial-years', { body: { name: '2026-27' } });
      expect(again.status).toBe(409);
      expect(again.body.type).toBe('/problems/financial-year-exists');
      const list = await t.request('GET', '/api/v1/financial-years', { token: council });
      expect(list.body.map((y: { name: string }) => y.name)).toEqual(['2026-27']);
    });

    it('refuses names that are not financial years, pointing at the field', async () => {
      for (const name of ['2026-28', '2026', '26-27', 2026]) {
        const r = await t.request('POST', '/api/v1/financial-years', { body: { name } });
        expect(r.status).toBe(400);
        expect(r.body.type).toBe('/problems/validation-error');
        expect(r.body.errors[0].pointer).toBe('/name');
      }
      const extra = await t.request('POST', '/api/v1/financial-years', { body: { name: '2027-28', owner: 'x' } });
      expect(extra.status).toBe(400);
      expect(extra.body.errors).toEqual([{ pointer: '/owner', detail: 'is not a field this request takes' }]);
    });

    it('is for treasury only', async () => {
      const r = await t.request('POST', '/api/v1/financial-years', { token: dhsc, body: { name: '2027-28' } });
      expect(r.status).toBe(403);
      expect(r.body.type).toBe('/problems/forbidden');
    });
  });

  describe('GET /financial-years/{fy}', () => {
    it('shows one year to every role, 404 for a year not set up, 400 for a name that is not a year', async () => {
      const r = await t.request('GET', '/api/v1/financial-years/2026-27', { token: council });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ name: '2026-27', startsOn: '2026-04-01', endsOn: '2027-03-31', status: 'open' });
      const missing = await t.request('GET', '/api/v1/financial-years/2035-36');
      expect(missing.status).toBe(404);
      expect(missing.body.type).toBe('/problems/financial-year-not-found');
      const bad = await t.request('GET', '/api/v1/financial-years/2026');
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].parameter).toBe('fy');
    });
  });

  describe('PUT /financial-years/{fy}/departments/{code}', () => {
    it('sets baseline, rate and target, and votes the baseline to the department from the Exchequer', async () => {
      for (const [code, settings] of Object.entries(DEPARTMENTS)) {
        const r = await t.request('PUT', `/api/v1/financial-years/2026-27/departments/${code}`, { body: settings });
        expect(r.status).toBe(201);
        expect(r.body).toMatchObject({
          ...settings,
          departmentCode: code,
          revision: 1,
          contributionDuePence: DUE[code as keyof typeof DUE],
        });
      }
      const accounts = await t.request('GET', '/api/v1/ledger/accounts?fy=2026-27&kind=department');
      const dhscAccount = accounts.body.find((a: { organisationCode: string }) => a.organisationCode === 'DHSC');
      expect(dhscAccount).toMatchObject({ balance: DEPARTMENTS.DHSC.baselinePence, debitsMustNotExceedCredits: true });
    });

    it('posts a changed baseline as a new transfer for the difference, never an edit', async () => {
      const raised = { ...DEPARTMENTS.DWP, baselinePence: DEPARTMENTS.DWP.baselinePence + 100 };
      const r = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DWP', { body: raised });
      expect(r.status).toBe(200);
      expect(r.body.revision).toBe(2);
      const back = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DWP', { body: DEPARTMENTS.DWP });
      expect(back.body.revision).toBe(3);
      const same = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DWP', { body: DEPARTMENTS.DWP });
      expect(same.status).toBe(200);
      expect(same.body.revision).toBe(3);
      const transfers = await t.request('GET', '/api/v1/ledger/transfers?account=GBP/2026-27/department/DWP');
      expect(transfers.body.transfers.map((x: { code: string; amount: number }) => [x.code, x.amount])).toEqual([
        ['budget', DEPARTMENTS.DWP.baselinePence],
        ['budget', 100],
        ['budget-reduction', 100],
      ]);
    });

    it('refuses floats, strings, negatives, unsafe integers and rates over 100%, pointing at each field', async () => {
      const r = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DHSC', {
        body: { baselinePence: 123.45, topSliceBasisPoints: 10_001, savingsTargetPence: '100' },
      });
      expect(r.status).toBe(400);
      expect(r.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual([
        '/baselinePence',
        '/savingsTargetPence',
        '/topSliceBasisPoints',
      ]);
      expect(r.body.errors.find((e: { pointer: string }) => e.pointer === '/baselinePence').detail).toContain('whole number of pence');
      const big = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DHSC', {
        raw: '{"baselinePence": 9007199254740993, "topSliceBasisPoints": -1, "savingsTargetPence": 0}',
        headers: { 'content-type': 'application/json' },
      });
      expect(big.status).toBe(400);
      expect(big.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(['/baselinePence', '/topSliceBasisPoints']);
      const missing = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DHSC', { body: {} });
      expect(missing.body.errors).toContainEqual({ pointer: '/baselinePence', detail: 'is required' });
    });

    it('refuses unknown years and organisations that are not departments', async () => {
      const year = await t.request('PUT', '/api/v1/financial-years/2030-31/departments/DHSC', { body: DEPARTMENTS.DHSC });
      expect(year.status).toBe(404);
      expect(year.body.type).toBe('/problems/financial-year-not-found');
      const council = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/BRADFORD', { body: DEPARTMENTS.DHSC });
      expect(council.status).toBe(404);
      expect(council.body.type).toBe('/problems/department-not-found');
      const badPath = await t.request('PUT', '/api/v1/financial-years/2026/departments/dhsc', { body: DEPARTMENTS.DHSC });
      expect(badPath.status).toBe(400);
      expect(badPath.body.errors.map((e: { parameter: string }) => e.parameter).sort()).toEqual(['code', 'fy']);
    });

    it("shows every department's terms to every role, as the fund does, and lets only treasury set them", async () => {
      // One rule (src/fund/visibility.ts): a department's terms are public within the scheme.
      for (const token of [dhsc, council]) {
        const all = await t.request('GET', '/api/v1/financial-years/2026-27/departments', { token });
        expect(all.status).toBe(200);
        expect(all.body.map((d: { departmentCode: string }) => d.departmentCode)).toEqual(['DHSC', 'DWP', 'MOJ']);
        const dwp = await t.request('GET', '/api/v1/financial-years/2026-27/departments/DWP', { token });
        expect(dwp.status).toBe(200);
        expect(dwp.body).toMatchObject({ departmentCode: 'DWP', ...DEPARTMENTS.DWP });
        const fund = await t.request('GET', '/api/v1/fund?fy=2026-27', { token });
        expect(fund.status).toBe(200);
      }
      expect(
        (await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DHSC', { token: dhsc, body: DEPARTMENTS.DHSC })).status,
      ).toBe(403);
    });
  });

  describe('POST /financial-years/{fy}/contributions and GET /fund', () => {
    it('starts with an empty fund', async () => {
      const r = await t.request('GET', '/api/v1/fund?fy=2026-27', { token: council });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ contributedPence: 0, committedPence: 0, releasedPence: 0, availablePence: 0, balancePence: 0 });
    });

    it("posts every department's top-slice into the fund", async () => {
      const r = await t.request('POST', '/api/v1/financial-years/2026-27/contributions');
      expect(r.status).toBe(201);
      expect(r.body.posted).toEqual(
        Object.entries(DUE).map(([code, amount]) => ({
          departmentCode: code,
          amountPence: amount,
          transferId: `contribution/2026-27/${code}`,
        })),
      );
      expect(r.body.fund).toMatchObject({ contributedPence: TOTAL, balancePence: TOTAL, availablePence: TOTAL });
    });

    it('posts nothing new when run again, and the fund is unchanged', async () => {
      const before = await t.request('GET', '/api/v1/fund?fy=2026-27');
      const r = await t.request('POST', '/api/v1/financial-years/2026-27/contributions');
      expect(r.status).toBe(200);
      expect(r.body.posted).toEqual([]);
      expect(r.body.alreadyPosted).toHaveLength(3);
      const after = await t.request('GET', '/api/v1/fund?fy=2026-27');
      expect(after.body).toEqual(before.body);
    });

    it('reports the fund exactly as the ledger holds it', async () => {
      const fund = (await t.request('GET', '/api/v1/fund?fy=2026-27')).body;
      const [account] = (await t.request('GET', '/api/v1/ledger/accounts?fy=2026-27&kind=fund')).body;
      expect(fund).toMatchObject({
        accountId: account.id,
        balancePence: account.creditsPosted - account.debitsPosted,
        committedPence: account.debitsPending,
        releasedPence: account.debitsPosted,
        availablePence: account.creditsPosted - account.debitsPosted - account.debitsPending,
      });
      expect(fund.contributions).toEqual(Object.entries(DUE).map(([departmentCode, amountPence]) => ({ departmentCode, amountPence })));
      const verify = await t.request('GET', '/api/v1/ledger/verify');
      expect(verify.body.ok).toBe(true);
    });

    it('fixes baseline and rate once contributed, but not the savings target', async () => {
      const rate = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DHSC', {
        body: { ...DEPARTMENTS.DHSC, topSliceBasisPoints: 300 },
      });
      expect(rate.status).toBe(409);
      expect(rate.body.type).toBe('/problems/contribution-already-posted');
      const baseline = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DHSC', {
        body: { ...DEPARTMENTS.DHSC, baselinePence: DEPARTMENTS.DHSC.baselinePence + 1 },
      });
      expect(baseline.status).toBe(409);
      expect(baseline.body.type).toBe('/problems/contribution-already-posted');
      const target = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DHSC', {
        body: { ...DEPARTMENTS.DHSC, savingsTargetPence: 1 },
      });
      expect(target.status).toBe(200);
      expect(target.body.savingsTargetPence).toBe(1);
    });

    it('refuses a year with no departments set up, and unknown years', async () => {
      await t.request('POST', '/api/v1/financial-years', { body: { name: '2027-28' } });
      const none = await t.request('POST', '/api/v1/financial-years/2027-28/contributions');
      expect(none.status).toBe(422);
      expect(none.body.type).toBe('/problems/no-departments-set');
      const unknown = await t.request('POST', '/api/v1/financial-years/2031-32/contributions');
      expect(unknown.status).toBe(404);
      expect((await t.request('GET', '/api/v1/fund?fy=2031-32')).status).toBe(404);
      expect((await t.request('GET', '/api/v1/fund?fy=2031')).status).toBe(400);
    });

    it('defaults to the current financial year', async () => {
      t.setNow(new Date('2027-02-01T12:00:00Z'));
      const r = await t.request('GET', '/api/v1/fund');
      expect(r.body.financialYear).toBe('2026-27');
      t.setNow(new Date('2027-04-01T00:00:00Z'));
      expect((await t.request('GET', '/api/v1/fund')).body.financialYear).toBe('2027-28');
      t.setNow(new Date('2026-06-01T09:00:00Z'));
    });

    it('is posted by treasury only', async () => {
      expect((await t.request('POST', '/api/v1/financial-years/2026-27/contributions', { token: dhsc })).status).toBe(403);
      expect((await t.request('POST', '/api/v1/financial-years/2026-27/contributions', { token: council })).status).toBe(403);
    });

    it('records every change in the audit log', async () => {
      const log = await t.request('GET', '/api/v1/audit-log?limit=500');
      const actions = log.body.entries.map((e: { action: string }) => e.action);
      expect(actions).toContain('financial-year.created');
      expect(actions).toContain('department-year.set');
      expect(actions.filter((a: string) => a === 'contributions.posted')).toHaveLength(1);
      const posted = log.body.entries.find((e: { action: string }) => e.action === 'contributions.posted');
      expect(posted).toMatchObject({ actorRole: 'treasury', subject: 'financial-year/2026-27/contributions' });
      expect(posted.detail.totalPence).toBe(String(TOTAL));
    });
  });
});

describe.each(engines())('setting up a year through the helper on %s', (engine) => {
  it('works end to end', async () => {
    const t = await testApp(engine);
    try {
      await setUpYear(t);
      expect((await t.request('POST', '/api/v1/financial-years/2026-27/contributions')).status).toBe(201);
    } finally {
      await t.destroy();
    }
  });
});

describe.each(engines())('money past 2^53 on %s', (engine) => {
  let t: TestApp;
  let auditor: string;
  beforeAll(async () => {
    t = await testApp(engine);
    auditor = await t.userToken({ name: 'NAO', role: 'auditor' });
    expect((await t.request('POST', '/api/v1/financial-years', { body: { name: '2026-27' } })).status).toBe(201);
  });
  afterAll(() => t.destroy());

  const put = (code: string, baselinePence: number) =>
    t.request('PUT', `/api/v1/financial-years/2026-27/departments/${code}`, {
      body: { baselinePence, topSliceBasisPoints: 0, savingsTargetPence: 0 },
    });

  it('refuses an amount over £1,000,000,000,000.00 in a request, pointing at it', async () => {
    const r = await put('DHSC', 9_007_199_254_740_991);
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ pointer: '/baselinePence', detail: 'must be at most £1,000,000,000,000.00 (100000000000000 pence)' }]);
    expect((await put('DHSC', 100_000_000_000_001)).status).toBe(400);
    expect((await put('DHSC', 100_000_000_000_000)).status).toBe(201);
  });

  it('has the ledger refuse, by name, a movement that would take the Exchequer past 2^53 − 1 pence, and every read still answers', async () => {
    // The case, below the API's bounds: 2^53 − 1 pence to one department, then 1p to another.
    const set = (code: string, baselinePence: bigint, topSliceBasisPoints = 0) =>
      inTransaction(t.database.db, (trx) =>
        setDepartmentYear(trx, '2026-27', code, { baselinePence, topSliceBasisPoints, savingsTargetPence: 0n }, SYSTEM, null, new Date()),
      );
    await set('DWP', 9_007_199_254_740_991n - 100_000_000_000_000n, 10_000);
    await expect(set('MOJ', 1n)).rejects.toMatchObject({
      type: 'ledger-limit-reached',
      extra: { ledgerError: 'overflows_debits_posted' },
    });
    // DWP pays all of it into the fund: the GBP ledger's total debits are now past 2^53 − 1,
    // though no one account's counter is.
    expect((await t.request('POST', '/api/v1/financial-years/2026-27/contributions')).status).toBe(201);
    for (const token of [t.treasury, auditor]) {
      for (const path of ['/api/v1/ledger/accounts', '/api/v1/ledger/transfers', '/api/v1/ledger/verify']) {
        const r = await t.request('GET', path, { token });
        expect(r.status, path).toBe(200);
      }
    }
    const exchequer = (await t.request('GET', '/api/v1/ledger/accounts')).body.find((a: { kind: string }) => a.kind === 'exchequer');
    expect(exchequer.debitsPosted).toBe(9_007_199_254_740_991);
    const verified = (await t.request('GET', '/api/v1/ledger/verify')).body;
    expect(verified.ok).toBe(true);
    expect(verified.ledgers.find((l: { ledger: string }) => l.ledger === 'GBP')).toMatchObject({
      balanced: true,
      debitsPosted: String(9_007_199_254_740_991n + 9_007_199_254_740_991n - 100_000_000_000_000n),
    });
    expect((await t.request('GET', '/api/v1/financial-years/2026-27/departments/MOJ')).status).toBe(404);
  });
});
