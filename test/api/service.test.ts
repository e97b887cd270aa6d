import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_TYPES } from '../../src/http/problems.ts';
import { ROOT } from '../support/child.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON replies
type Json = any;

import { type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';

describe.each(engines())('the service on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp(engine);
  });
  afterAll(() => t.destroy());

  it('answers /healthz without a token', async () => {
    const r = await t.request('GET', '/healthz', { token: null });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok', engine });
  });

  it('serves an OpenAPI 3.1 document naming every route, its roles and its errors', async () => {
    const r = await t.request('GET', '/openapi.json', { token: null });
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    const paths = Object.keys(r.body.paths);
    for (const p of [
      '/api/v1/users',
      '/api/v1/me',
      '/api/v1/organisations',
      '/api/v1/organisations/{code}',
      '/api/v1/places',
      '/api/v1/places/{code}',
      '/api/v1/themes',
      '/api/v1/financial-years',
      '/api/v1/financial-years/{fy}',
      '/api/v1/financial-years/{fy}/departments',
      '/api/v1/financial-years/{fy}/departments/{code}',
      '/api/v1/financial-years/{fy}/contributions',
      '/api/v1/fund',
      '/api/v1/ledger/accounts',
      '/api/v1/ledger/transfers',
      '/api/v1/ledger/verify',
      '/api/v1/audit-log',
    ]) {
      expect(paths).toContain(p);
    }
    for (const [path, ops] of Object.entries(r.body.paths as Record<string, Record<string, { description?: string; responses: object }>>)) {
      if (!path.startsWith('/api/v1/')) continue;
      for (const [method, op] of Object.entries(ops)) {
        expect(op.description, `${method} ${path}`).toMatch(/Roles: `/);
        const standard = method === 'get' ? ['400', '401', '403', '500'] : ['400', '401', '403', '413', '415', '500'];
        expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(standard));
        if (method === 'get') expect(Object.keys(op.responses), `${method} ${path}`).not.toContain('415');
      }
    }
    const put = r.body.paths['/api/v1/financial-years/{fy}/departments/{code}'].put;
    expect(put.description).toContain('Roles: `treasury`');
    expect(Object.keys(put.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '401', '403', '404', '409', '415', '422']));
    expect(put.responses['400'].content['application/problem+json']).toBeDefined();
    expect(r.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('documents each route with the problem types it can return, each with an example of its own type', async () => {
    const doc = (await t.request('GET', '/openapi.json', { token: null })).body;
    const examples = (op: { responses: Record<string, { content?: Record<string, { examples?: object }> }> }, status: string) =>
      Object.keys(op.responses[status]?.content?.['application/problem+json']?.examples ?? {});
    const verify = doc.paths['/api/v1/benefit-reports/{id}/verify'].post;
    expect(examples(verify, '401').sort()).toEqual(['token-expired', 'token-revoked', 'unauthenticated', 'user-deactivated']);
    expect(examples(verify, '403')).toEqual(['forbidden']);
    expect(examples(verify, '404').sort()).toEqual(['benefit-report-not-found', 'case-not-found']);
    expect(examples(verify, '409').sort()).toEqual([
      'benefit-report-reviewed',
      'financial-year-closed-for-verification',
      'idempotency-key-in-use',
    ]);
    expect(examples(verify, '413')).toEqual(['body-too-large']);
    expect(verify.responses['401'].content['application/problem+json'].examples.unauthenticated.value.type).toBe(
      '/problems/unauthenticated',
    );
    const fund = doc.paths['/api/v1/fund'].get;
    expect(Object.keys(fund.responses).sort()).toEqual(['200', '400', '401', '403', '404', '500']);
    expect(examples(fund, '404')).toEqual(['financial-year-not-found']);
    expect(examples(fund, '400')).toEqual(['validation-error']);
    // Every example of every route is a type with a page, and its type matches its name.
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, Json> }>>)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [status, response] of Object.entries(op.responses)) {
          for (const [name, example] of Object.entries(response.content?.['application/problem+json']?.examples ?? {})) {
            expect((example as Json).value, `${method} ${path} ${status}`).toMatchObject({
              type: `/problems/${name}`,
              status: Number(status),
            });
          }
        }
      }
    }
  });

  it('catalogues only refusals the code can give: each problem type is raised somewhere in src/', () => {
    const src = join(ROOT, 'src');
    // The catalogues themselves, and the lists of what an operation may refuse, give no refusal.
    const code = readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && f !== join('http', 'problems.ts') && !f.endsWith('refusals.ts'))
      .map((f) => readFileSync(join(src, f), 'utf8').replace(/refuses: \[[^\]]*\]/g, ''))
      .join('\n');
    const raisedSomewhere = (name: string) => code.includes(`'${name}'`) || code.includes(`/problems/${name}'`);
    expect(Object.keys(PROBLEM_TYPES).filter((name) => !raisedSomewhere(name))).toEqual([]);
  });

  it('has a page for every problem type the code can raise, saying what it means and what to do', async () => {
    const src = join(ROOT, 'src');
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const raised = new Set<string>();
    for (const file of files) {
      const text = readFileSync(join(src, file), 'utf8');
      for (const m of text.matchAll(/refuse\(\s*[A-Z_]+,\s*'([a-z0-9-]+)'/g)) raised.add(m[1] as string);
      for (const m of text.matchAll(/new RendererError\(\s*'([a-z0-9-]+)'/g)) raised.add(m[1] as string);
      for (const m of text.matchAll(/new DomainError\(\s*'[a-z-]+',\s*'([a-z0-9-]+)'/g)) raised.add(m[1] as string);
      for (const m of text.matchAll(/type: '([a-z0-9-]+)',\s*\n?\s*title:/g)) raised.add(m[1] as string);
      for (const m of text.matchAll(/type: '\/problems\/([a-z0-9-]+)'/g)) raised.add(m[1] as string);
    }
    expect(raised.size).toBeGreaterThan(40);
    for (const name of raised) {
      expect(Object.keys(PROBLEM_TYPES), `add ${name} to src/http/problems.ts`).toContain(name);
      const page = await t.request('GET', `/problems/${name}`, { token: null });
      expect(page.status, name).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.text).toContain('What it means');
      expect(page.text).toContain('What to do');
    }
    const index = await t.request('GET', '/problems', { token: null });
    for (const name of Object.keys(PROBLEM_TYPES)) expect(index.text).toContain(`/problems/${name}`);
    expect((await t.request('GET', '/problems/validation-error', { token: null })).text).toContain('JSON Pointer');
    expect((await t.request('GET', '/problems/no-such-problem', { token: null })).status).toBe(404);
  });

  it('serves /docs with the interactive reference and a list of every route, using only its own assets', async () => {
    const r = await t.request('GET', '/docs', { token: null });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.text).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(r.text).not.toMatch(/https?:\/\/(cdn|unpkg)/);
    const doc = (await t.request('GET', '/openapi.json', { token: null })).body;
    const operations = Object.values(doc.paths as Record<string, object>).reduce((n, ops) => n + Object.keys(ops).length, 0);
    expect(r.text).toContain(`Every route (${operations})`);
    expect(r.text).toContain('/api/v1/financial-years/{fy}/contributions');
    const js = await t.app.request('/docs/assets/swagger-ui-bundle.js');
    expect(js.status).toBe(200);
    expect((await js.text()).length).toBeGreaterThan(100_000);
  });

  it('answers unknown paths with a 404 problem', async () => {
    const r = await t.request('GET', '/api/v1/nothing-here');
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.body).toMatchObject({ type: '/problems/not-found', status: 404, instance: '/api/v1/nothing-here' });
  });

  it('answers a wrong method with a 405 problem and Allow', async () => {
    const r = await t.request('DELETE', '/api/v1/fund');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET');
    expect(r.body).toMatchObject({ type: '/problems/method-not-allowed', status: 405 });
    const put = await t.request('PATCH', '/api/v1/financial-years/2026-27/departments/DHSC', { body: {} });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toContain('PUT');
  });

  it('refuses a body that is not JSON with 415', async () => {
    const r = await t.request('POST', '/api/v1/financial-years', {
      raw: 'name=2026-27',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.status).toBe(415);
    expect(r.body).toMatchObject({ type: '/problems/unsupported-media-type', status: 415 });
  });

  it('refuses malformed JSON with a 400 problem', async () => {
    const r = await t.request('POST', '/api/v1/financial-years', {
      raw: '{"name": "2026-27",',
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ type: '/problems/malformed-json', status: 400 });
    expect((await t.request('GET', '/api/v1/financial-years')).body).toEqual([]);
  });

  it('refuses requests without a token, or with an unknown one, with 401 and a challenge', async () => {
    for (const token of [null, 'tsl_not-a-real-token']) {
      const r = await t.request('GET', '/api/v1/fund', { token });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toContain('Bearer');
      expect(r.body).toMatchObject({ type: '/problems/unauthenticated', status: 401 });
    }
    const basic = await t.request('GET', '/api/v1/fund', { token: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.status).toBe(401);
  });

  it('gives every response a request id, echoing a sensible one it was sent', async () => {
    const r = await t.request('GET', '/api/v1/me', { headers: { 'x-request-id': 'trace-123' } });
    expect(r.headers.get('x-request-id')).toBe('trace-123');
    const bad = await t.request('GET', '/api/v1/nothing', { headers: { 'x-request-id': 'no spaces allowed' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(bad.body.requestId).toBe(bad.headers.get('x-request-id'));
  });
});
