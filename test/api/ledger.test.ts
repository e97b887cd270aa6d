import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUpYear, type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';

describe.each(engines())('ledger reads, verification and audit tamper on %s', (engine) => {
  let t: TestApp;
  let dhsc: string;
  let council: string;
  let auditor: string;
  beforeAll(async () => {
    t = await testApp(engine);
    await setUpYear(t);
    await t.request('POST', '/api/v1/financial-years/2026-27/contributions');
    dhsc = await t.userToken({ name: 'DHSC', role: 'department', organisationCode: 'DHSC' });
    council = await t.userToken({ name: 'Durham', role: 'council', organisationCode: 'DURHAM' });
    auditor = await t.userToken({ name: 'NAO', role: 'auditor' });
  });
  afterAll(() => t.destroy());

  it('lists accounts with their four counters and limit flags', async () => {
    const r = await t.request('GET', '/api/v1/ledger/accounts', { token: auditor });
    expect(r.status).toBe(200);
    expect(r.body.map((a: { id: string }) => a.id)).toEqual([
      'GBP/2026-27/department/DHSC',
      'GBP/2026-27/department/DWP',
      'GBP/2026-27/department/MOJ',
      'GBP/2026-27/exchequer',
      'GBP/2026-27/fund',
    ]);
    const fund = r.body.find((a: { kind: string }) => a.kind === 'fund');
    expect(fund).toMatchObject({ ledger: 'GBP', debitsMustNotExceedCredits: true, closed: false, debitsPending: 0, debitsPosted: 0 });
  });

  it('pages through transfers in ledger order', async () => {
    const all = await t.request('GET', '/api/v1/ledger/transfers?limit=500');
    expect(all.body.transfers).toHaveLength(6);
    expect(all.body.nextAfter).toBeNull();
    const first = await t.request('GET', '/api/v1/ledger/transfers?limit=4');
    expect(first.body.transfers).toHaveLength(4);
    const rest = await t.request('GET', `/api/v1/ledger/transfers?limit=4&after=${first.body.nextAfter}`);
    expect([...first.body.transfers, ...rest.body.transfers]).toEqual(all.body.transfers);
    const contribution = all.body.transfers.find((x: { id: string }) => x.id === 'contribution/2026-27/DHSC');
    expect(contribution).toMatchObject({ code: 'contribution', amount: 25_000_000_00, debitAccountId: 'GBP/2026-27/department/DHSC' });
    expect(contribution.creditAccountAfter.creditsPosted).toBe(25_000_000_00);
    const bad = await t.request('GET', '/api/v1/ledger/transfers?limit=0&after=x');
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { parameter: string }) => e.parameter).sort()).toEqual(['after', 'limit']);
  });

  // A page size or tranche number is digits only: no hex, exponent, fraction, sign or padding.
  it.each(['0x10', '1e2', '16.0', ' 16', '+16', '-1', '', '0', '100001', '99999999999999999999'])(
    'refuses a page size of %j',
    async (limit) => {
      for (const path of ['/api/v1/ledger/transfers', '/api/v1/audit-log', '/api/v1/benefits', '/api/v1/unit-costs']) {
        const r = await t.request('GET', `${path}?limit=${encodeURIComponent(limit)}`);
        expect(r.status, `${path} ${r.text}`).toBe(400);
        expect(r.body.errors.map((e: { parameter: string }) => e.parameter)).toEqual(['limit']);
      }
      const tranche = await t.request(
        'POST',
        `/api/v1/cases/00000000-0000-4000-8000-000000000000/tranches/${encodeURIComponent(limit || 'x')}/claim`,
        {
          token: council,
          body: { evidence: 'Milestone reached.' },
        },
      );
      expect(tranche.status, tranche.text).toBe(400);
    },
  );

  it('takes a page size written as plain digits, leading zeros and all', async () => {
    const r = await t.request('GET', '/api/v1/ledger/transfers?limit=004');
    expect(r.status, r.text).toBe(200);
    expect(r.body.transfers).toHaveLength(4);
  });

  it('shows a department only its own accounts and transfers; a council its own (none yet); panel nothing', async () => {
    const accounts = await t.request('GET', '/api/v1/ledger/accounts', { token: dhsc });
    expect(accounts.body.map((a: { id: string }) => a.id)).toEqual(['GBP/2026-27/department/DHSC']);
    const transfers = await t.request('GET', '/api/v1/ledger/transfers', { token: dhsc });
    expect(transfers.body.transfers.map((x: { id: string }) => x.id)).toEqual(['budget/2026-27/DHSC/1', 'contribution/2026-27/DHSC']);
    // Its own balances after each transfer, never the Exchequer's or the fund's (which would reveal other departments').
    const [budget, contribution] = transfers.body.transfers;
    expect(budget.debitAccountAfter).toBeNull();
    expect(budget.creditAccountAfter.creditsPosted).toBe(1_000_000_000_00);
    expect(contribution.creditAccountAfter).toBeNull();
    expect(contribution.debitAccountAfter.debitsPosted).toBe(25_000_000_00);
    expect((await t.request('GET', '/api/v1/ledger/transfers?account=GBP/2026-27/fund', { token: dhsc })).status).toBe(403);
    expect((await t.request('GET', '/api/v1/ledger/accounts?organisation=DWP', { token: dhsc })).status).toBe(403);
    expect((await t.request('GET', '/api/v1/ledger/accounts', { token: council })).body).toEqual([]);
    expect((await t.request('GET', '/api/v1/ledger/transfers', { token: council })).body.transfers).toEqual([]);
    const panel = await t.userToken({ name: 'Panel', role: 'panel' });
    expect((await t.request('GET', '/api/v1/ledger/accounts', { token: panel })).status).toBe(403);
  });

  it('verifies the ledger and the audit chain for treasury and auditors only', async () => {
    const r = await t.request('GET', '/api/v1/ledger/verify', { token: auditor });
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(true);
    expect(r.body.ledgers.find((l: { ledger: string }) => l.ledger === 'GBP')).toMatchObject({ balanced: true });
    expect(r.body.audit).toMatchObject({ ok: true, problems: [] });
    expect(r.body.audit.entries).toBeGreaterThan(5);
    expect((await t.request('GET', '/api/v1/ledger/verify', { token: dhsc })).status).toBe(403);
  });

  it('reports a counter edited directly in the database', async () => {
    const db = t.database.db;
    await db.updateTable('accounts').set({ credits_posted: sql`credits_posted + 1` }).where('id', '=', 'GBP/2026-27/fund').execute();
    const r = await t.request('GET', '/api/v1/ledger/verify');
    expect(r.body.ok).toBe(false);
    expect(r.body.accounts.mismatches).toEqual([
      { accountId: 'GBP/2026-27/fund', counter: 'creditsPosted', stored: '4016350001', fromTransfers: '4016350000' },
    ]);
    expect(r.body.ledgers.find((l: { ledger: string }) => l.ledger === 'GBP').balanced).toBe(false);
    await db.updateTable('accounts').set({ credits_posted: sql`credits_posted - 1` }).where('id', '=', 'GBP/2026-27/fund').execute();
    expect((await t.request('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });

  it('reports an audit entry edited directly in the database', async () => {
    const db = t.database.db;
    const row = await db.selectFrom('audit_log').selectAll().where('position', '=', 3n).executeTakeFirstOrThrow();
    await db
      .updateTable('audit_log')
      .set({ detail: row.detail.replace('1', '2') })
      .where('position', '=', 3n)
      .execute();
    const r = await t.request('GET', '/api/v1/ledger/verify');
    expect(r.body.ok).toBe(false);
    expect(r.body.audit.problems).toContainEqual(expect.objectContaining({ position: '3', problem: 'hash-mismatch' }));
    await db.updateTable('audit_log').set({ detail: row.detail }).where('position', '=', 3n).execute();
    expect((await t.request('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });

  it('reports a reordered pair of audit entries', async () => {
    const db = t.database.db;
    const a = await db.selectFrom('audit_log').selectAll().where('position', '=', 2n).executeTakeFirstOrThrow();
    const b = await db.selectFrom('audit_log').selectAll().where('position', '=', 3n).executeTakeFirstOrThrow();
    const swap = async (x: typeof a, position: bigint) => {
      const { position: _p, ...rest } = x;
      await db.updateTable('audit_log').set(rest).where('position', '=', position).execute();
    };
    await swap(b, 2n);
    await swap(a, 3n);
    const r = await t.request('GET', '/api/v1/ledger/verify');
    expect(r.body.audit.ok).toBe(false);
    expect(r.body.audit.problems.map((p: { position: string }) => p.position)).toContain('2');
    await swap(a, 2n);
    await swap(b, 3n);
    expect((await t.request('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });

  it('reports an audit entry deleted from the middle, and one deleted from the end', async () => {
    const db = t.database.db;
    const middle = await db.selectFrom('audit_log').selectAll().where('position', '=', 4n).executeTakeFirstOrThrow();
    await db.deleteFrom('audit_log').where('position', '=', 4n).execute();
    const r = await t.request('GET', '/api/v1/ledger/verify');
    expect(r.body.audit.ok).toBe(false);
    expect(r.body.audit.problems).toContainEqual(expect.objectContaining({ position: '4', problem: 'missing-entry' }));
    await db.insertInto('audit_log').values(middle).execute();
    expect((await t.request('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);

    const last = await db.selectFrom('audit_log').selectAll().orderBy('position', 'desc').limit(1).executeTakeFirstOrThrow();
    await db.deleteFrom('audit_log').where('position', '=', last.position).execute();
    const tail = await t.request('GET', '/api/v1/ledger/verify');
    expect(tail.body.audit.ok).toBe(false);
    expect(tail.body.audit.problems).toContainEqual(expect.objectContaining({ problem: 'head-mismatch' }));
    await db.insertInto('audit_log').values(last).execute();
    expect((await t.request('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });

  it('reports a forged entry appended without moving the head, and an edited actor or time', async () => {
    const db = t.database.db;
    const last = await db.selectFrom('audit_log').selectAll().orderBy('position', 'desc').limit(1).executeTakeFirstOrThrow();
    const forged = { ...last, position: BigInt(last.position) + 1n, prev_hash: last.hash, action: 'user.created', hash: 'f'.repeat(64) };
    await db.insertInto('audit_log').values(forged).execute();
    const appended = await t.request('GET', '/api/v1/ledger/verify');
    expect(appended.body.audit.ok).toBe(false);
    expect(appended.body.audit.problems.map((p: { problem: string }) => p.problem)).toEqual(
      expect.arrayContaining(['hash-mismatch', 'head-mismatch']),
    );
    await db.deleteFrom('audit_log').where('position', '=', forged.position).execute();
    expect((await t.request('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);

    for (const change of [{ actor_role: 'auditor' }, { at: '2020-01-01T00:00:00.000Z' }]) {
      const row = await db.selectFrom('audit_log').selectAll().where('position', '=', 2n).executeTakeFirstOrThrow();
      await db.updateTable('audit_log').set(change).where('position', '=', 2n).execute();
      const r = await t.request('GET', '/api/v1/ledger/verify');
      expect(r.body.audit.problems, JSON.stringify(change)).toContainEqual(
        expect.objectContaining({ position: '2', problem: 'hash-mismatch' }),
      );
      await db.updateTable('audit_log').set({ actor_role: row.actor_role, at: row.at }).where('position', '=', 2n).execute();
    }
    expect((await t.request('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });

  it('reports a transfer deleted from the ledger', async () => {
    const db = t.database.db;
    const row = await db.selectFrom('transfers').selectAll().where('id', '=', 'contribution/2026-27/MOJ').executeTakeFirstOrThrow();
    await db.deleteFrom('transfers').where('id', '=', row.id).execute();
    const r = await t.request('GET', '/api/v1/ledger/verify');
    expect(r.body.ok).toBe(false);
    expect(r.body.accounts.mismatches.map((m: { accountId: string }) => m.accountId).sort()).toEqual([
      'GBP/2026-27/department/MOJ',
      'GBP/2026-27/fund',
    ]);
  });
});
