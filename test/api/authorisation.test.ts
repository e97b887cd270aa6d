import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../src/users/users.ts';
import { type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';

const PARAMS: Record<string, string> = { fy: '2026-27', code: 'DHSC' };

/**
 * Every route in the OpenAPI document, called with a token of every role: the roles the route
 * documents get through (whatever else they then get), every other role gets 403 and changes nothing.
 */
describe.each(engines())('authorisation of every route for every role on %s', (engine) => {
  let t: TestApp;
  const tokens = {} as Record<Role, string>;
  // biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document as JSON
  let doc: any;
  beforeAll(async () => {
    t = await testApp(engine);
    tokens.treasury = t.treasury;
    tokens.panel = await t.userToken({ name: 'Panel member', role: 'panel' });
    tokens.auditor = await t.userToken({ name: 'Auditor', role: 'auditor' });
    tokens.department = await t.userToken({ name: 'DHSC', role: 'department', organisationCode: 'DHSC' });
    tokens.council = await t.userToken({ name: 'Gateshead', role: 'council', organisationCode: 'GATESHEAD' });
    doc = (await t.request('GET', '/openapi.json', { token: null })).body;
  });
  afterAll(() => t.destroy());

  it('documents roles for every API route and enforces exactly those', async () => {
    let checked = 0;
    for (const [template, operations] of Object.entries(doc.paths as Record<string, Record<string, { description: string }>>)) {
      if (!template.startsWith('/api/v1/')) continue;
      const path = template.replace(/\{(\w+)\}/g, (_m, name: string) => PARAMS[name] ?? 'X');
      for (const [method, op] of Object.entries(operations)) {
        const documented = /Roles: (.*)\./.exec(op.description)?.[1] ?? '';
        const allowed = ROLES.filter((r) => documented.includes(`\`${r}\``));
        expect(allowed.length, `${method} ${template} documents its roles`).toBeGreaterThan(0);
        for (const role of ROLES) {
          const before = (await t.request('GET', '/api/v1/audit-log?limit=500')).body.entries.length;
          const r = await t.request(method.toUpperCase(), path, {
            token: tokens[role],
            ...(method === 'get' ? {} : { body: {} }),
          });
          const label = `${method.toUpperCase()} ${path} as ${role}`;
          expect(r.status, label).not.toBe(401);
          if (allowed.includes(role)) {
            expect(r.status, label).not.toBe(403);
          } else {
            expect(r.status, label).toBe(403);
            expect(r.headers.get('content-type'), label).toBe('application/problem+json');
            expect((await t.request('GET', '/api/v1/audit-log?limit=500')).body.entries.length, label).toBe(before);
          }
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(17 * ROLES.length);
  });
});
