import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../src/users/users.ts';
import { type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';

const ALL = ROLES;
const T: Role[] = ['treasury'];
const TA: Role[] = ['treasury', 'auditor'];
const PTA: Role[] = ['panel', 'treasury', 'auditor'];
const C: Role[] = ['council'];
const P: Role[] = ['panel'];

/**
 * Who may call what: the access policy, written out here by hand from DESIGN's table of users,
 * so that a route whose roles change in the code fails this test until the policy is changed too.
 * (Organisation-level rules — a council's own cases, a department's own rows — are tested with
 * their features.)
 */
const POLICY: Record<string, readonly Role[]> = {
  'POST /api/v1/users': T,
  'GET /api/v1/users': TA,
  'GET /api/v1/me': ALL,
  'GET /api/v1/organisations': ALL,
  'GET /api/v1/organisations/{code}': ALL,
  'GET /api/v1/places': ALL,
  'GET /api/v1/places/{code}': ALL,
  'GET /api/v1/themes': ALL,
  'GET /api/v1/financial-years': ALL,
  'POST /api/v1/financial-years': T,
  'GET /api/v1/financial-years/{fy}': ALL,
  'GET /api/v1/financial-years/{fy}/departments': ALL,
  'GET /api/v1/financial-years/{fy}/departments/{code}': ALL,
  'PUT /api/v1/financial-years/{fy}/departments/{code}': T,
  'POST /api/v1/financial-years/{fy}/contributions': T,
  'GET /api/v1/fund': ALL,
  'GET /api/v1/ledger/accounts': ['treasury', 'auditor', 'department', 'council'],
  'GET /api/v1/ledger/transfers': ['treasury', 'auditor', 'department', 'council'],
  'GET /api/v1/ledger/verify': TA,
  'GET /api/v1/audit-log': TA,
  'POST /api/v1/rounds': T,
  'GET /api/v1/rounds': ALL,
  'GET /api/v1/rounds/{id}': ALL,
  'GET /api/v1/rounds/{id}/ranking': PTA,
  'GET /api/v1/rounds/{id}/reappraisal': PTA,
  'GET /api/v1/unit-costs': ALL,
  'GET /api/v1/appraisal-parameter-sets': ALL,
  'POST /api/v1/cases': C,
  'GET /api/v1/cases': ALL,
  'GET /api/v1/cases/{id}': ALL,
  'PUT /api/v1/cases/{id}': C,
  'GET /api/v1/cases/{id}/appraisal': ALL,
  'POST /api/v1/cases/{id}/submit': C,
  'POST /api/v1/cases/{id}/conflicts': P,
  'GET /api/v1/cases/{id}/scores': PTA,
  'POST /api/v1/cases/{id}/scores': P,
  'POST /api/v1/cases/{id}/moderation': P,
  'POST /api/v1/cases/{id}/vfm-override': T,
  'POST /api/v1/cases/{id}/decision': P,
  'GET /api/v1/cases/{id}/decisions': ALL,
  'GET /api/v1/cases/{id}/tranches': ALL,
  'POST /api/v1/cases/{id}/tranches/{n}/claim': C,
  'POST /api/v1/cases/{id}/tranches/{n}/approve': ['panel', 'treasury'],
  'POST /api/v1/cases/{id}/terminate': ['panel', 'treasury'],
  'POST /api/v1/cases/{id}/clawbacks': ['panel', 'treasury'],
  'GET /api/v1/cases/{id}/clawbacks': ALL,
  'GET /api/v1/cases/{id}/award': ALL,
  'GET /api/v1/cases/{id}/benefits': ALL,
  'POST /api/v1/cases/{id}/benefit-forecasts': C,
  'POST /api/v1/cases/{id}/benefit-reports': C,
  'GET /api/v1/benefit-reports/{id}': ALL,
  'POST /api/v1/benefit-reports/{id}/verify': ['department', 'treasury'],
  'POST /api/v1/benefit-reports/{id}/reject': ['department', 'treasury'],
  'GET /api/v1/benefits': ALL,
  'GET /api/v1/cases/{id}/pdf': ALL,
  'GET /api/v1/cases/{id}/decision-letter.pdf': ALL,
  'GET /api/v1/reports/fund-statement.pdf': ['treasury', 'auditor', 'panel', 'department'],
  'GET /api/v1/reports/realised-benefits.pdf': ALL,
  'GET /api/v1/places/{code}/report.pdf': ALL,
  'POST /api/v1/financial-years/{fy}/close': T,
  'GET /api/v1/financial-years/{fy}/close': ['treasury', 'auditor', 'panel', 'department'],
  'GET /api/v1/financial-years/{fy}/departments/{code}/credit-issuance': ['treasury', 'auditor', 'panel', 'department'],
  'GET /api/v1/departments/{code}/position': ['treasury', 'auditor', 'panel', 'department'],
  'PUT /api/v1/financial-years/{fy}/credit-market': T,
  'GET /api/v1/financial-years/{fy}/credit-market': ['treasury', 'auditor', 'panel', 'department'],
  'POST /api/v1/credits/orders': ['department'],
  'GET /api/v1/credits/orders': ['treasury', 'auditor', 'department'],
  'GET /api/v1/credits/orders/{id}': ['treasury', 'auditor', 'department'],
  'POST /api/v1/credits/orders/{id}/cancel': ['department'],
  'POST /api/v1/credits/bilateral-trades': ['department'],
  'GET /api/v1/credits/bilateral-trades': ['treasury', 'auditor', 'department'],
  'GET /api/v1/credits/bilateral-trades/{id}': ['treasury', 'auditor', 'department'],
  'POST /api/v1/credits/bilateral-trades/{id}/accept': ['department'],
  'POST /api/v1/credits/bilateral-trades/{id}/decline': ['department'],
  'POST /api/v1/credits/bilateral-trades/{id}/withdraw': ['department'],
  'GET /api/v1/credits/trades': ['treasury', 'auditor', 'department'],
  'POST /api/v1/financial-years/{fy}/compliance': T,
  'GET /api/v1/financial-years/{fy}/compliance': ['treasury', 'auditor', 'panel', 'department'],
  'PUT /api/v1/places/{code}/disposal-targets': T,
  'POST /api/v1/places/{code}/disposals': ['department'],
  'GET /api/v1/places/{code}/disposals': ['treasury', 'auditor', 'panel', 'department'],
  'POST /api/v1/me/token': ALL,
  'GET /api/v1/users/{id}/tokens': TA,
  'POST /api/v1/users/{id}/tokens': T,
  'POST /api/v1/users/{id}/tokens/revoke': T,
  'POST /api/v1/users/{id}/deactivate': T,
  'GET /api/v1/user-requests': TA,
  'POST /api/v1/user-requests/{id}/approve': T,
  'POST /api/v1/ledger/verify': TA,
  'POST /api/v1/ledger/verifications': TA,
  'GET /api/v1/ledger/verifications': TA,
  'GET /api/v1/ledger/verifications/{id}': TA,
  'POST /api/v1/audit-log/checkpoints': TA,
  'GET /api/v1/reports/credits.pdf': ['treasury', 'auditor', 'panel', 'department'],
  'GET /api/v1/open-data/{fy}/grants.json': ALL,
  'GET /api/v1/open-data/{fy}/grants.csv': ALL,
  'GET /api/v1/open-data/benefits.csv': ALL,
  'GET /api/v1/open-data/trades.csv': ['treasury', 'auditor', 'department'],
};

const PARAMS: Record<string, string> = { fy: '2026-27', code: 'DHSC', id: '00000000-0000-4000-8000-000000000000', n: '1' };

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

  const operations = () =>
    Object.entries(doc.paths as Record<string, Record<string, { description: string }>>).flatMap(([path, ops]) =>
      path.startsWith('/api/v1/')
        ? Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, method, path, op }))
        : [],
    );

  it('has a policy line for every API route, and documents exactly those roles', () => {
    const keys = operations().map((o) => o.key);
    expect(keys.sort()).toEqual(Object.keys(POLICY).sort());
    for (const { key, op } of operations()) {
      const documented = /Roles: (.*)\./.exec(op.description)?.[1] ?? '';
      expect(ROLES.filter((r) => documented.includes(`\`${r}\``)).sort(), key).toEqual([...(POLICY[key] ?? [])].sort());
    }
  });

  it('lets through exactly the roles the policy names, and refuses the rest with 403 and no change', async () => {
    let checked = 0;
    for (const { key, method, path } of operations()) {
      const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => PARAMS[name] ?? 'X');
      const allowed = POLICY[key] ?? [];
      for (const role of ROLES) {
        const before = (await t.request('GET', '/api/v1/audit-log?limit=500', { token: tokens.treasury })).body.entries.length;
        const r = await t.request(method.toUpperCase(), url, { token: tokens[role], ...(method === 'get' ? {} : { body: {} }) });
        const label = `${key} as ${role}`;
        expect(r.status, label).not.toBe(401);
        // Rotating your own token retires the one used: carry on with the new one.
        if (key === 'POST /api/v1/me/token' && r.status === 201) tokens[role] = r.body.token;
        if (allowed.includes(role)) {
          expect(r.status, label).not.toBe(403);
        } else {
          expect(r.status, label).toBe(403);
          expect(r.headers.get('content-type'), label).toBe('application/problem+json');
          expect((await t.request('GET', '/api/v1/audit-log?limit=500', { token: tokens.treasury })).body.entries.length, label).toBe(
            before,
          );
        }
        checked++;
      }
    }
    expect(checked).toBe(Object.keys(POLICY).length * ROLES.length);
  });
});
