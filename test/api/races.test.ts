import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUpYear, type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';

/** Requests that race each other: on PostgreSQL they run on separate connections at once. */
describe.each(engines())('racing requests on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp(engine);
  });
  afterAll(() => t.destroy());

  it('creates a year once when eight requests race to create it', async () => {
    const replies = await Promise.all(
      Array.from({ length: 8 }, () => t.request('POST', '/api/v1/financial-years', { body: { name: '2026-27' } })),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
  });

  it('posts contributions once when eight requests race to post them', async () => {
    await setUpYear(t, '2027-28');
    const replies = await Promise.all(Array.from({ length: 8 }, () => t.request('POST', '/api/v1/financial-years/2027-28/contributions')));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    const fund = await t.request('GET', '/api/v1/fund?fy=2027-28');
    const posted = replies.find((r) => r.status === 201)?.body.posted;
    expect(fund.body.contributedPence).toBe(posted.reduce((s: number, p: { amountPence: number }) => s + p.amountPence, 0));
    expect((await t.request('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });

  it('keeps one answer per Idempotency-Key when the same request races itself', async () => {
    const replies = await Promise.all(
      Array.from({ length: 6 }, () =>
        t.request('POST', '/api/v1/users', { body: { name: 'Raced', role: 'auditor' }, headers: { 'idempotency-key': 'raced-user' } }),
      ),
    );
    const created = replies.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    expect(replies.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    const users = (await t.request('GET', '/api/v1/users')).body.filter((u: { name: string }) => u.name === 'Raced');
    expect(users).toHaveLength(1);
  });
});
