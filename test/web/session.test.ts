import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePounds, penceAsPoundsInput } from '../../src/lib/money.ts';
import { type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';
import { webClient } from '../support/web.ts';

describe('money typed into a form', () => {
  it.each([
    ['£1,234.56', 123456n],
    ['1234.56', 123456n],
    ['1234.5', 123450n],
    ['1234', 123400n],
    [' £ 0.29 ', 29n],
    ['1,000,000', 100000000n],
    ['90071992547409.91', 9007199254740991n],
  ])('%s is %s pence exactly', (text, pence) => {
    expect(parsePounds(text)).toBe(pence);
    expect(parsePounds(penceAsPoundsInput(pence))).toBe(pence);
  });
  it.each([
    '£99999999999999999999',
    '90071992547409.92',
    '',
    '£',
    '1.234',
    '12,34',
    '1,2345',
    '-5',
    '1e3',
    '0x10',
    '1.',
    '.5',
    '£1,234.56p',
    '١٢٣',
  ])('refuses %j', (text) => {
    expect(parsePounds(text)).toBeNull();
  });
});

describe.each(engines())('web sessions (%s)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp(engine);
  });
  afterAll(async () => {
    await t.destroy();
  });

  it('a first visit gets a signed-out session in an HttpOnly, SameSite=Lax cookie, stored only hashed', async () => {
    const res = await t.app.request('/');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^topslice_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    const id = /=([^;]+)/.exec(cookie)?.[1] as string;
    const stored = await t.database.db.selectFrom('web_sessions').select('id_hash').execute();
    expect(stored.map((s) => s.id_hash)).not.toContain(id);
    const https = await t.app.request('https://fund.example/', { headers: {} });
    expect(https.headers.get('set-cookie')).toMatch(/; Secure/);
  });

  it('signs in with a token, replacing the session id, and signs out for good', async () => {
    const web = webClient(t);
    await web.get('/sign-in');
    const before = web.cookie;
    const empty = await web.post('/sign-in', { token: '' });
    expect(empty.status).toBe(400);
    expect(empty.title).toBe('Error: Sign in – topslice');
    expect(empty.errorSummary).toEqual(['Enter your token']);
    expect(empty.$('.govuk-error-summary a').attr('href')).toBe('#token');
    const wrong = await web.post('/sign-in', { token: 'ts_not-a-token' });
    expect(wrong.errorSummary).toEqual(['This token is not recognised. Check you copied all of it']);

    const signed = await web.post('/sign-in', { token: t.treasury, next: '/signed-out' });
    expect(signed.status).toBe(303);
    expect(signed.location).toBe('/signed-out');
    expect(web.cookie).not.toBe(before);
    const home = await web.get('/');
    expect(home.$('.app-signed-in').text()).toContain('Treasury');

    const old = webClient(t);
    old.cookie = before;
    expect((await old.get('/')).$('.app-signed-in').length).toBe(0);

    const kept = web.cookie;
    const out = await web.post('/sign-out');
    expect(out.status).toBe(303);
    const dead = webClient(t);
    dead.cookie = kept;
    expect((await dead.get('/')).$('.app-signed-in').length).toBe(0);
  });

  it('refuses a form post without the CSRF token, or with another session’s, and changes nothing', async () => {
    const web = webClient(t);
    await web.get('/sign-in');
    const none = await web.post('/sign-in', { _csrf: null, token: t.treasury });
    expect(none.status).toBe(403);
    expect(none.title).toBe('This form has expired – topslice');
    const other = webClient(t);
    await other.get('/sign-in');
    const theirs = (await other.get('/sign-in')).$('input[name=_csrf]').attr('value') as string;
    const forged = await web.post('/sign-in', { _csrf: theirs, token: t.treasury });
    expect(forged.status).toBe(403);
    expect((await web.get('/')).$('.app-signed-in').length).toBe(0);
    const cookieless = await t.app.request('/sign-out', { method: 'POST' });
    expect(cookieless.status).toBe(403);
  });

  it('ends a session after 30 idle minutes, and when its token is revoked', async () => {
    const start = new Date('2026-06-01T09:00:00Z');
    t.setNow(start);
    const web = webClient(t);
    await web.signIn(t.treasury);
    t.setNow(new Date(start.getTime() + 29 * 60_000));
    expect((await web.get('/')).$('.app-signed-in').length).toBe(1);
    t.setNow(new Date(start.getTime() + 29 * 60_000 + 30 * 60_000 + 1));
    expect((await web.get('/')).$('.app-signed-in').length).toBe(0);

    const token = await t.userToken({ name: 'Ada', role: 'auditor' });
    const ada = webClient(t);
    await ada.signIn(token);
    const me = await t.request('GET', '/api/v1/me', { token });
    const revoked = await t.request('POST', `/api/v1/users/${me.body.id}/tokens/revoke`, { body: { reason: 'lost laptop' } });
    expect(revoked.status).toBe(200);
    const after = await ada.get('/sign-in');
    expect(after.$('.app-signed-in').length).toBe(0);
    expect(after.$('.govuk-inset-text').text()).toContain('revoked');
    t.setNow(new Date('2026-06-01T09:00:00Z'));
  });

  it('sends signing in back only to a page of this service', async () => {
    for (const next of ['https://evil.example/', '//evil.example/', '/api/v1/me', '/\\evil']) {
      const web = webClient(t);
      await web.get('/sign-in');
      const page = await web.post('/sign-in', { token: t.treasury, next });
      expect(page.location).toBe('/');
    }
  });

  it('answers an unknown page with a GOV.UK 404 page and keeps the API’s problem+json', async () => {
    const page = await webClient(t).get('/no-such-page');
    expect(page.status).toBe(404);
    expect(page.title).toBe('Page not found – topslice');
    const api = await t.app.request('/api/v1/no-such-thing');
    expect(api.headers.get('content-type')).toBe('application/problem+json');
  });

  it('serves GOV.UK Frontend from its own /assets, in Arial, without GDS Transport', async () => {
    const css = await t.app.request('/assets/govuk-frontend.min.css');
    expect(css.status).toBe(200);
    const text = await css.text();
    expect(text).not.toContain('GDS Transport');
    expect(text).toContain('font-family:arial,sans-serif');
    for (const path of ['/assets/govuk-frontend.min.js', '/assets/app/init.js', '/assets/app/app.css', '/assets/app/favicon.svg']) {
      expect((await t.app.request(path)).status).toBe(200);
    }
  });
});
