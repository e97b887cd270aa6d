import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPARTMENTS, type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';

describe.each(engines())('Idempotency-Key on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp(engine);
  });
  afterAll(() => t.destroy());

  const auditCount = async () => (await t.request('GET', '/api/v1/audit-log?limit=500')).body.entries.length;

  it('replays the first response for the same key and body, and changes nothing', async () => {
    const headers = { 'idempotency-key': 'year-2026-27' };
    const first = await t.request('POST', '/api/v1/financial-years', { body: { name: '2026-27' }, headers });
    expect(first.status).toBe(201);
    const entries = await auditCount();
    const replay = await t.request('POST', '/api/v1/financial-years', { body: { name: '2026-27' }, headers });
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await auditCount()).toBe(entries);
  });

  it('refuses the same key with a different body', async () => {
    const r = await t.request('POST', '/api/v1/financial-years', {
      body: { name: '2027-28' },
      headers: { 'idempotency-key': 'year-2026-27' },
    });
    expect(r.status).toBe(422);
    expect(r.body.type).toBe('/problems/idempotency-key-reused');
    expect((await t.request('GET', '/api/v1/financial-years')).body).toHaveLength(1);
  });

  it('keeps keys per user: another user may use the same key', async () => {
    const other = await t.userToken({ name: 'Treasury 2', role: 'treasury' });
    const r = await t.request('POST', '/api/v1/financial-years', {
      token: other,
      body: { name: '2027-28' },
      headers: { 'idempotency-key': 'year-2026-27' },
    });
    expect(r.status).toBe(201);
  });

  it('does not store refusals: the key can be used again once the request is right', async () => {
    const headers = { 'idempotency-key': 'dhsc-settings' };
    const bad = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DHSC', { body: { baselinePence: 1.5 }, headers });
    expect(bad.status).toBe(400);
    const good = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DHSC', { body: DEPARTMENTS.DHSC, headers });
    expect(good.status).toBe(201);
  });

  it('replays a contribution run without posting again', async () => {
    const headers = { 'idempotency-key': 'contributions-1' };
    const first = await t.request('POST', '/api/v1/financial-years/2026-27/contributions', { headers });
    expect(first.status).toBe(201);
    const replay = await t.request('POST', '/api/v1/financial-years/2026-27/contributions', { headers });
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    const transfers = await t.request('GET', '/api/v1/ledger/transfers?code=contribution');
    expect(transfers.body.transfers).toHaveLength(1);
  });

  it("never replays or stores a new user's token", async () => {
    const headers = { 'idempotency-key': 'new-auditor' };
    const first = await t.request('POST', '/api/v1/users', { body: { name: 'Replayed auditor', role: 'auditor' }, headers });
    expect(first.status).toBe(201);
    expect(first.body.token).toMatch(/^tsl_/);
    const replay = await t.request('POST', '/api/v1/users', { body: { name: 'Replayed auditor', role: 'auditor' }, headers });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual({ ...first.body, token: null });
    const stored = await t.database.db.selectFrom('idempotency_keys').select('response_body').execute();
    expect(stored.map((r) => r.response_body ?? '').join('\n')).not.toContain(first.body.token);
  });

  it('refuses an empty or over-long key', async () => {
    for (const key of ['', 'k'.repeat(256)]) {
      const r = await t.request('POST', '/api/v1/financial-years', { body: { name: '2028-29' }, headers: { 'idempotency-key': key } });
      expect(r.status).toBe(400);
      expect(r.body.errors[0].parameter).toBe('Idempotency-Key');
    }
  });

  it('answers 409 while the first request with a key is still in flight', async () => {
    const principal = (await t.request('GET', '/api/v1/me')).body;
    await t.database.db
      .insertInto('idempotency_keys')
      .values({
        user_id: principal.id,
        key: 'in-flight',
        fingerprint: createHash('sha256')
          .update(`POST /api/v1/financial-years\n${JSON.stringify({ name: '2028-29' })}`)
          .digest('hex'),
        state: 'in-flight',
        status_code: null,
        response_body: null,
        content_type: null,
        created_at: new Date('2026-06-01T09:00:00Z').toISOString(),
      })
      .execute();
    const busy = await t.request('POST', '/api/v1/financial-years', {
      body: { name: '2028-29' },
      headers: { 'idempotency-key': 'in-flight' },
    });
    expect(busy.status).toBe(409);
    expect(busy.body.type).toBe('/problems/idempotency-key-in-use');
    // ...and once the in-flight claim is a minute old it is taken as abandoned.
    t.setNow(new Date('2026-06-01T09:01:01Z'));
    const retried = await t.request('POST', '/api/v1/financial-years', {
      body: { name: '2028-29' },
      headers: { 'idempotency-key': 'in-flight' },
    });
    expect(retried.status).toBe(201);
    t.setNow(new Date('2026-06-01T09:00:00Z'));
  });

  it('keeps an answer for a day: after that the key is a new request, and the user’s lapsed keys are gone', async () => {
    const headers = { 'idempotency-key': 'kept-a-day' };
    const principal = (await t.request('GET', '/api/v1/me')).body;
    const first = await t.request('POST', '/api/v1/financial-years', { body: { name: '2029-30' }, headers });
    expect(first.status).toBe(201);
    t.setNow(new Date('2026-06-02T08:59:59Z'));
    expect(
      (await t.request('POST', '/api/v1/financial-years', { body: { name: '2029-30' }, headers })).headers.get('idempotent-replayed'),
    ).toBe('true');
    t.setNow(new Date('2026-06-02T09:00:01Z'));
    const later = await t.request('POST', '/api/v1/financial-years', { body: { name: '2029-30' }, headers });
    expect(later.status).toBe(409); // run again: the year exists
    const kept = await t.database.db
      .selectFrom('idempotency_keys')
      .select(['key', 'created_at'])
      .where('user_id', '=', principal.id)
      .execute();
    expect(kept.every((k) => k.created_at >= '2026-06-01T09:00:01.000Z')).toBe(true);
    t.setNow(new Date('2026-06-01T09:00:00Z'));
  });
});
