import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapTreasury } from '../../src/users/users.ts';
import { type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';

describe.each(engines())('users and tokens on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp(engine);
  });
  afterAll(() => t.destroy());

  it('bootstraps the first treasury user only while there is none', async () => {
    await expect(bootstrapTreasury(t.database.db)).rejects.toMatchObject({ type: 'already-bootstrapped' });
  });

  it('creates a user of each role, returning the token once, and the token works', async () => {
    // Treasury and panel accounts wait for a second treasury user (src/users/requests.ts).
    const second = await t.userToken({ name: 'Second treasury official (operator-created)', role: 'treasury' });
    const cases = [
      { name: 'Panel chair', role: 'panel', isChair: true },
      { name: 'NAO auditor', role: 'auditor' },
      { name: 'DWP finance', role: 'department', organisationCode: 'DWP' },
      { name: 'Leicester finance', role: 'council', organisationCode: 'LEICESTER' },
      { name: 'Third treasury official', role: 'treasury' },
    ];
    for (const body of cases) {
      let r = await t.request('POST', '/api/v1/users', { body });
      if (body.role === 'panel' || body.role === 'treasury') {
        expect(r.status, r.text).toBe(202);
        expect(r.body).toMatchObject({ name: body.name, role: body.role, status: 'awaiting-approval', userId: null });
        expect(r.body.token).toBeUndefined();
        r = await t.request('POST', `/api/v1/user-requests/${r.body.id}/approve`, { token: second });
      }
      expect(r.status, r.text).toBe(201);
      expect(r.body).toMatchObject({ name: body.name, role: body.role, organisationCode: body.organisationCode ?? null });
      expect(r.body.token).toMatch(/^tsl_[A-Za-z0-9_-]{43}$/);
      const me = await t.request('GET', '/api/v1/me', { token: r.body.token });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: r.body.id, role: body.role, isChair: body.isChair ?? false });
    }
    const list = await t.request('GET', '/api/v1/users');
    expect(list.body).toHaveLength(cases.length + 2);
    expect(JSON.stringify(list.body)).not.toContain('tsl_');
  });

  it('needs a second treasury user to approve a treasury or panel account, once', async () => {
    const asked = await t.request('POST', '/api/v1/users', { body: { name: 'Shadow treasury', role: 'treasury' } });
    expect(asked.status).toBe(202);
    const before = (await t.request('GET', '/api/v1/users')).body.length;
    // The requester cannot approve their own request: one person, one identity.
    const self = await t.request('POST', `/api/v1/user-requests/${asked.body.id}/approve`);
    expect(self.status).toBe(403);
    expect(self.body.type).toMatch(/second-treasury-user-needed$/);
    expect((await t.request('GET', '/api/v1/users')).body.length).toBe(before);
    const other = await t.userToken({ name: 'Approving treasury official', role: 'treasury' });
    const ok = await t.request('POST', `/api/v1/user-requests/${asked.body.id}/approve`, { token: other });
    expect(ok.status).toBe(201);
    expect((await t.request('POST', `/api/v1/user-requests/${asked.body.id}/approve`, { token: other })).status).toBe(409);
    const requests = await t.request('GET', '/api/v1/user-requests');
    expect(requests.body.find((r: { id: string }) => r.id === asked.body.id)).toMatchObject({
      status: 'approved',
      userId: ok.body.id,
      approvedBy: (await t.request('GET', '/api/v1/me', { token: other })).body.id,
    });
    const audit = await t.request('GET', `/api/v1/audit-log?subject=user-request/${asked.body.id}`);
    expect(audit.body.entries.map((e: { action: string }) => e.action)).toEqual(['user.requested', 'user.request-approved']);
  });

  it('stores only the hash of a token', async () => {
    const r = await t.request('POST', '/api/v1/users', { body: { name: 'Kent', role: 'council', organisationCode: 'KENT' } });
    const rows = await t.database.db.selectFrom('users').select('token_hash').execute();
    expect(rows.map((x) => x.token_hash)).not.toContain(r.body.token);
    expect(rows.every((x) => /^[0-9a-f]{64}$/.test(x.token_hash))).toBe(true);
  });

  it('binds departments and councils to one organisation of the right kind', async () => {
    const cases: [object, string, string][] = [
      [{ name: 'x', role: 'department' }, '/organisationCode', 'must name the department'],
      [{ name: 'x', role: 'council', organisationCode: 'DHSC' }, '/organisationCode', 'is a department, not a council'],
      [{ name: 'x', role: 'department', organisationCode: 'NOPE' }, '/organisationCode', 'no organisation has the code NOPE'],
      [{ name: 'x', role: 'treasury', organisationCode: 'DHSC' }, '/organisationCode', 'not bound to an organisation'],
      [{ name: 'x', role: 'auditor', isChair: true }, '/isChair', 'only a panel member'],
      [{ name: '', role: 'panel' }, '/name', 'must not be empty'],
      [{ name: 'x', role: 'minister' }, '/role', 'must be one of treasury, panel, department, council, auditor'],
      [{ role: 'panel' }, '/name', 'is required'],
    ];
    const before = (await t.request('GET', '/api/v1/users')).body.length;
    for (const [body, pointer, detail] of cases) {
      const r = await t.request('POST', '/api/v1/users', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.body.errors[0].pointer).toBe(pointer);
      expect(r.body.errors[0].detail).toContain(detail);
    }
    expect((await t.request('GET', '/api/v1/users')).body.length).toBe(before);
  });

  it('lets only treasury create users, and treasury and auditors list them', async () => {
    const council = (await t.request('POST', '/api/v1/users', { body: { name: 'Croydon', role: 'council', organisationCode: 'CROYDON' } }))
      .body.token;
    const auditor = (await t.request('POST', '/api/v1/users', { body: { name: 'Auditor 2', role: 'auditor' } })).body.token;
    const r = await t.request('POST', '/api/v1/users', { token: council, body: { name: 'Sneaky', role: 'treasury' } });
    expect(r.status).toBe(403);
    expect(r.body.detail).toContain('treasury');
    expect((await t.request('POST', '/api/v1/users', { token: auditor, body: { name: 'x', role: 'panel' } })).status).toBe(403);
    expect((await t.request('GET', '/api/v1/users', { token: auditor })).status).toBe(200);
    expect((await t.request('GET', '/api/v1/users', { token: council })).status).toBe(403);
  });

  it('audits user creation without the token', async () => {
    const log = await t.request('GET', '/api/v1/audit-log?action=user.created');
    expect(log.body.entries.length).toBeGreaterThan(5);
    for (const e of log.body.entries) expect(e.detail).toHaveProperty('role');
    expect(JSON.stringify(log.body)).not.toContain('tsl_');
  });
});
