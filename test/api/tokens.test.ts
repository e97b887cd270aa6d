import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../../src/audit/audit.ts';
import { inTransaction, openDatabase } from '../../src/db/database.ts';
import { createApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/lib/log.ts';
import { TOKEN_LIFETIME_DAYS } from '../../src/users/token-store.ts';
import { deactivateUser, reissueToken } from '../../src/users/tokens.ts';
import { type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';

const DAY = 86_400_000;

describe.each(engines())('tokens that can end on %s', (engine) => {
  let t: TestApp;
  const start = new Date('2026-06-01T09:00:00Z');
  beforeAll(async () => {
    t = await testApp(engine);
  });
  afterAll(() => t.destroy());

  /**
   * A user and their token: an auditor through the API; a treasury user as an operator makes one
   * (through the API a treasury account waits for a second treasury user's approval).
   */
  async function newUser(name: string, role: 'auditor' | 'treasury' = 'auditor'): Promise<{ id: string; token: string }> {
    if (role === 'treasury') {
      const token = await t.userToken({ name, role });
      return { id: (await t.request('GET', '/api/v1/me', { token })).body.id, token };
    }
    const r = await t.request('POST', '/api/v1/users', { body: { name, role } });
    expect(r.status).toBe(201);
    return { id: r.body.id, token: r.body.token };
  }

  const me = (token: string) => t.request('GET', '/api/v1/me', { token });
  const tokensOf = async (id: string) => (await t.request('GET', `/api/v1/users/${id}/tokens`)).body;
  const auditFor = async (id: string) =>
    (await t.request('GET', '/api/v1/audit-log?limit=500')).body.entries.filter((e: { subject: string }) => e.subject === `user/${id}`);

  it('issues tokens for 90 days by default, and refuses one past its expiry with 401 token-expired', async () => {
    // The service as deployed: no lifetime set, so the documented default.
    let now = start;
    const app = createApp({ database: t.database, log: createLogger('silent'), clock: () => now });
    const call = async (path: string, token: string, method = 'GET', body?: unknown) => {
      const res = await app.request(path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      // biome-ignore lint/suspicious/noExplicitAny: JSON
      const json: any = await res.json();
      return { status: res.status, body: json, headers: res.headers };
    };
    const created = await call('/api/v1/users', t.treasury, 'POST', { name: 'Short-lived', role: 'auditor' });
    expect(created.status).toBe(201);
    expect(TOKEN_LIFETIME_DAYS).toBe(90);
    const listed = await tokensOf(created.body.id);
    expect(listed.tokens).toHaveLength(1);
    expect(listed.tokens[0]).toMatchObject({ status: 'active', createdAt: start.toISOString(), lastUsedAt: null });
    expect(listed.tokens[0].expiresAt).toBe(new Date(start.getTime() + 90 * DAY).toISOString());

    now = new Date(start.getTime() + 90 * DAY - 1000);
    expect((await call('/api/v1/me', created.body.token)).status).toBe(200);
    now = new Date(start.getTime() + 90 * DAY);
    const expired = await call('/api/v1/me', created.body.token);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('content-type')).toBe('application/problem+json');
    expect(expired.headers.get('www-authenticate')).toContain('Bearer');
    expect(expired.body).toMatchObject({ type: '/problems/token-expired', title: 'Token expired', status: 401 });
    expect(expired.body.detail).toContain(`expired at ${now.toISOString()}`);
    expect((await call(`/api/v1/users/${created.body.id}/tokens`, t.treasury)).body.tokens[0].status).toBe('expired');

    // Treasury issues a new one; it works, for the full lifetime again.
    const reissued = await call(`/api/v1/users/${created.body.id}/tokens`, t.treasury, 'POST');
    expect(reissued.status).toBe(201);
    expect(reissued.body.expiresAt).toBe(new Date(now.getTime() + 90 * DAY).toISOString());
    expect((await call('/api/v1/me', reissued.body.token)).status).toBe(200);
    expect((await call('/api/v1/me', created.body.token)).body.type).toBe('/problems/token-expired');
  });

  it('keeps when each token was last used, to the minute', async () => {
    const u = await newUser('Frequent user');
    expect((await tokensOf(u.id)).tokens[0].lastUsedAt).toBeNull();
    t.setNow(new Date('2026-06-01T10:00:00Z'));
    expect((await me(u.token)).status).toBe(200);
    expect((await tokensOf(u.id)).tokens[0].lastUsedAt).toBe('2026-06-01T10:00:00.000Z');
    t.setNow(new Date('2026-06-01T10:00:30Z'));
    await me(u.token);
    expect((await tokensOf(u.id)).tokens[0].lastUsedAt).toBe('2026-06-01T10:00:00.000Z');
    t.setNow(new Date('2026-06-01T10:05:00Z'));
    await me(u.token);
    expect((await tokensOf(u.id)).tokens[0].lastUsedAt).toBe('2026-06-01T10:05:00.000Z');
    t.setNow(start);
  });

  it('lets a user rotate their own token: the old one is refused as revoked, the new one works, and it is audited', async () => {
    const u = await newUser('Rotating member');
    const r = await t.request('POST', '/api/v1/me/token', { token: u.token, headers: { 'idempotency-key': 'rotate-1' } });
    expect(r.status).toBe(201);
    expect(r.body.token).toMatch(/^tsl_[A-Za-z0-9_-]{43}$/);
    expect(r.body.token).not.toBe(u.token);
    const old = await me(u.token);
    expect(old.status).toBe(401);
    expect(old.body).toMatchObject({ type: '/problems/token-revoked', title: 'Token revoked' });
    expect(old.body.detail).toContain('rotated by its user');
    expect(old.body.detail).toContain('use the newer token you were given then');
    expect((await me(r.body.token)).body.id).toBe(u.id);
    // A replay of the rotation (with the new token: keys are per user) shows no token again.
    const replay = await t.request('POST', '/api/v1/me/token', { token: r.body.token, headers: { 'idempotency-key': 'rotate-1' } });
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual({ token: null, tokenId: r.body.tokenId, expiresAt: r.body.expiresAt });
    expect((await me(r.body.token)).status).toBe(200);
    const tokens = (await tokensOf(u.id)).tokens;
    expect(tokens.map((x: { status: string }) => x.status).sort()).toEqual(['active', 'revoked']);
    const entry = (await auditFor(u.id)).find((e: { action: string }) => e.action === 'user.token-rotated');
    expect(entry).toMatchObject({ actorUserId: u.id, detail: { tokenId: r.body.tokenId } });
    expect(JSON.stringify(await tokensOf(u.id))).not.toContain('tsl_');
  });

  it("lets treasury revoke a user's tokens with a reason: 401 token-revoked saying why, audited", async () => {
    const u = await newUser('Leaving soon');
    const missing = await t.request('POST', `/api/v1/users/${u.id}/tokens/revoke`, { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toContainEqual({ pointer: '/reason', detail: 'is required' });
    expect((await me(u.token)).status).toBe(200);

    const r = await t.request('POST', `/api/v1/users/${u.id}/tokens/revoke`, { body: { reason: 'Token seen in an email' } });
    expect(r.status).toBe(200);
    expect(r.body.revokedTokenIds).toHaveLength(1);
    const refused = await me(u.token);
    expect(refused.status).toBe(401);
    expect(refused.body.type).toBe('/problems/token-revoked');
    expect(refused.body.detail).toContain('Token seen in an email');
    // Nobody gave this user a newer token: the way back is a treasury user.
    expect(refused.body.detail).toContain('Ask a treasury user for a new token');
    expect(refused.body.detail).not.toContain('newer');
    expect((await tokensOf(u.id)).tokens[0]).toMatchObject({ status: 'revoked', revokedReason: 'Token seen in an email' });
    expect((await auditFor(u.id)).map((e: { action: string }) => e.action)).toContain('user.tokens-revoked');

    // Revoking again revokes nothing more; a new token can be issued.
    expect((await t.request('POST', `/api/v1/users/${u.id}/tokens/revoke`, { body: { reason: 'again' } })).body.revokedTokenIds).toEqual(
      [],
    );
    const fresh = await t.request('POST', `/api/v1/users/${u.id}/tokens`);
    expect(fresh.status).toBe(201);
    expect((await me(fresh.body.token)).status).toBe(200);
    expect((await auditFor(u.id)).map((e: { action: string }) => e.action)).toContain('user.token-issued');
  });

  it('lets treasury deactivate a user who has left: every token refused, none issued again, audited', async () => {
    const u = await newUser('Has left', 'treasury');
    // A treasury user's token is re-issued by an operator, never by another treasury user.
    expect((await t.request('POST', `/api/v1/users/${u.id}/tokens`)).body.type).toBe('/problems/privileged-token-by-operator');
    const second = { body: await inTransaction(t.database.db, (trx) => reissueToken(trx, u.id, SYSTEM, null, start)) };
    const r = await t.request('POST', `/api/v1/users/${u.id}/deactivate`, { body: { reason: 'Left HM Treasury' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ userId: u.id, deactivatedAt: start.toISOString() });
    expect(r.body.revokedTokenIds).toHaveLength(1);
    for (const token of [u.token, second.body.token]) {
      const refused = await me(token);
      expect(refused.status).toBe(401);
      expect(refused.body.type).toBe('/problems/user-deactivated');
    }
    expect((await tokensOf(u.id)).deactivatedAt).toBe(start.toISOString());
    const again = await t.request('POST', `/api/v1/users/${u.id}/deactivate`, { body: { reason: 'twice' } });
    expect(again.status).toBe(409);
    expect(again.body.type).toBe('/problems/user-already-deactivated');
    const reissue = await t.request('POST', `/api/v1/users/${u.id}/tokens`);
    expect(reissue.status).toBe(409);
    expect(reissue.body.type).toBe('/problems/user-already-deactivated');
    const entry = (await auditFor(u.id)).find((e: { action: string }) => e.action === 'user.deactivated');
    expect(entry.detail).toMatchObject({ reason: 'Left HM Treasury' });
  });

  it('refuses to deactivate yourself, the last active treasury user, or an unknown user', async () => {
    const self = (await me(t.treasury)).body.id;
    const r = await t.request('POST', `/api/v1/users/${self}/deactivate`, { body: { reason: 'Leaving' } });
    expect(r.status).toBe(409);
    expect(r.body.type).toBe('/problems/cannot-deactivate-self');
    await expect(
      inTransaction(t.database.db, (trx) => deactivateUser(trx, self, 'by an operator', SYSTEM, null, start)),
    ).rejects.toMatchObject({
      type: 'last-treasury-user',
    });
    const unknown = await t.request('POST', '/api/v1/users/00000000-0000-4000-8000-000000000000/deactivate', { body: { reason: 'x' } });
    expect(unknown.status).toBe(404);
    expect((await me(t.treasury)).status).toBe(200);
  });
});

describe('token commands for an operator', () => {
  it('lists, issues and revokes tokens and deactivates a user from the command line, as the API does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'topslice-cli-tokens-'));
    const env = { ...process.env, DATABASE_PATH: join(dir, 'cli.db'), DATABASE_URL: '', LOG_LEVEL: 'silent' as const };
    delete (env as Record<string, string | undefined>).DATABASE_URL;
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env, encoding: 'utf8', timeout: 60_000 });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    try {
      expect(cli('bootstrap').code).toBe(0);
      const made = cli('create-user', 'auditor', 'NAO');
      expect(made.code).toBe(0);
      const userId = /\(([0-9a-f-]{36})\)/.exec(made.out)?.[1] as string;
      expect(cli('list-tokens', userId).out).toMatch(/ active +issued /);
      const issued = cli('issue-token', userId);
      expect(issued.code).toBe(0);
      const token = issued.out.trim().split('\n').at(-1) as string;
      expect(token).toMatch(/^tsl_/);
      expect(cli('revoke-tokens', userId, 'Lost', 'laptop').out).toContain('Revoked 1 token(s)');
      expect(cli('deactivate-user', userId, 'Left').out).toContain(`Deactivated user ${userId}`);
      expect(cli('issue-token', userId).code).toBe(1);

      const database = await openDatabase({ engine: 'sqlite', path: join(dir, 'cli.db') });
      try {
        const actions = await database.db.selectFrom('audit_log').select('action').where('subject', '=', `user/${userId}`).execute();
        expect(actions.map((a) => a.action)).toEqual(['user.created', 'user.token-issued', 'user.tokens-revoked', 'user.deactivated']);
        const app = createApp({ database, log: createLogger('silent'), clock: () => new Date() });
        const res = await app.request('/api/v1/me', { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(401);
        expect(((await res.json()) as { type: string }).type).toBe('/problems/user-deactivated');
      } finally {
        await database.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
