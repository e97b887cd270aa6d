import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, MAX_ENTRIES } from '../../src/http/request-contract.ts';
import type { Role } from '../../src/users/users.ts';
import { type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';

/*
 * The request contract (src/http/request-contract.ts and the validation hook in router.ts),
 * tested kind-wide: every route the OpenAPI document lists, not the few the issue named.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON replies
type Json = any;

const SAMPLE: Record<string, string> = { id: '00000000-0000-4000-8000-000000000000', fy: '2026-27', code: 'DHSC', n: '1' };
const fill = (template: string) => template.replace(/\{(\w+)\}/g, (_, name: string) => SAMPLE[name] ?? 'x');

describe.each(engines())('the request contract on %s', (engine) => {
  let t: TestApp;
  let doc: Json;
  const tokens = {} as Record<Role, string>;
  beforeAll(async () => {
    t = await testApp(engine);
    tokens.treasury = t.treasury;
    tokens.panel = await t.userToken({ name: 'Panel member', role: 'panel' });
    tokens.department = await t.userToken({ name: 'DHSC analyst', role: 'department', organisationCode: 'DHSC' });
    tokens.council = await t.userToken({ name: 'Bradford officer', role: 'council', organisationCode: 'BRADFORD' });
    tokens.auditor = await t.userToken({ name: 'Auditor', role: 'auditor' });
    doc = (await t.request('GET', '/openapi.json', { token: null })).body;
  });
  afterAll(() => t.destroy());

  /** Every operation that takes a body, with a role that may call it. */
  const bodyOperations = () =>
    Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([method]) => ['post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, op]) => ({
          method: method.toUpperCase(),
          path,
          url: fill(path),
          // Any role may rotate its own token: the auditor does, so the treasury token the other tests use stays live.
          role: path === '/api/v1/me/token' ? 'auditor' : (/Roles: `(\w+)`/.exec(op.description)?.[1] as Role),
          required: op.requestBody?.required === true,
        })),
    );

  it('refuses an unknown field on every route that takes a body, with a pointer to it, whatever its schema', async () => {
    const ops = bodyOperations();
    expect(ops.length).toBeGreaterThanOrEqual(20);
    for (const op of ops) {
      const r = await t.request(op.method, op.url, { token: tokens[op.role], body: { notAField: 1, 'a/b': true } });
      expect(r.status, `${op.method} ${op.path}: ${r.text}`).toBe(400);
      expect(r.body.type).toBe('/problems/validation-error');
      const pointers = r.body.errors.map((e: Json) => e.pointer);
      expect(pointers, `${op.method} ${op.path}`).toEqual(expect.arrayContaining(['/notAField', '/a~1b']));
    }
  });

  it('takes an empty body (no bytes, with or without a JSON Content-Type) as no input: never 415 or 400 malformed-json, and required fields are named', async () => {
    for (const [op, headers] of bodyOperations().flatMap(
      (op) =>
        [
          [op, {}],
          [op, { 'content-type': 'application/json' }],
        ] as const,
    )) {
      const r = await t.request(op.method, op.url, { token: tokens[op.role], headers, raw: '' });
      expect(r.status, `${op.method} ${op.path}: ${r.text}`).not.toBe(415);
      expect(r.body?.type, `${op.method} ${op.path} with ${JSON.stringify(headers)}`).not.toBe('/problems/malformed-json');
      // Rotating your own token takes no input: it succeeds, and the old token stops working.
      if (op.path === '/api/v1/me/token' && r.status === 201) tokens[op.role] = r.body.token;
      if (r.status === 400 && r.body.type === '/problems/validation-error') {
        // Only a route that needs input says so, field by field.
        expect(op.required, `${op.method} ${op.path}: ${r.text}`).toBe(true);
        expect(
          r.body.errors.every((e: Json) => e.detail === 'is required' || e.parameter),
          `${op.method} ${op.path}`,
        ).toBe(true);
      }
    }
  });

  it('refuses a contribution run sent options it does not take, and posts nothing', async () => {
    expect((await t.request('POST', '/api/v1/financial-years', { body: { name: '2026-27' } })).status).toBe(201);
    const settings = { baselinePence: 1_000_000_00, topSliceBasisPoints: 250, savingsTargetPence: 0 };
    expect((await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DHSC', { body: settings })).status).toBe(201);
    const r = await t.request('POST', '/api/v1/financial-years/2026-27/contributions', { body: { dryRun: true, departments: ['NONE'] } });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: Json) => e.pointer).sort()).toEqual(['/departments', '/dryRun']);
    expect((await t.request('GET', '/api/v1/fund?fy=2026-27')).body.contributedPence).toBe(0);
    // With no body at all it runs.
    const run = await t.request('POST', '/api/v1/financial-years/2026-27/contributions');
    expect(run.status, run.text).toBe(201);
    expect(run.body.posted).toEqual([expect.objectContaining({ departmentCode: 'DHSC', amountPence: 25_000_00 })]);
  });

  it('refuses a body over 1 MiB with 413 problem+json, declared or not', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES) });
    const r = await t.request('POST', '/api/v1/financial-years', { raw: big, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(413);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.body).toMatchObject({ type: '/problems/body-too-large', status: 413, limitBytes: 1_048_576 });
    // A declared length over the limit is refused before authentication and before reading.
    const declared = await t.request('POST', '/api/v1/users', {
      token: null,
      raw: '{}',
      headers: { 'content-type': 'application/json', 'content-length': String(100 * 1024 * 1024) },
    });
    expect(declared.status).toBe(413);
    // Exactly at the limit is read (and then judged on its content).
    const atLimit = `{"name":"${'x'.repeat(MAX_BODY_BYTES - 11)}"}`;
    expect(Buffer.byteLength(atLimit)).toBe(MAX_BODY_BYTES);
    const ok = await t.request('POST', '/api/v1/financial-years', { raw: atLimit, headers: { 'content-type': 'application/json' } });
    expect(ok.status).toBe(400);
    expect(ok.body.errors[0].pointer).toBe('/name');
  });

  it('bounds every collection in a body: one problem naming where, not one error per entry', async () => {
    const volumes = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, 1]));
    const r = await t.request('POST', '/api/v1/cases', { token: tokens.council, body: { benefits: [{ volumes }] } });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([
      { pointer: '/benefits/0/volumes', detail: `has 5000 entries; at most ${MAX_ENTRIES} are taken in one object` },
    ]);
    expect(r.text.length).toBeLessThan(1000);
    // The 200,000 keys are more than the body limit allows.
    const huge = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`2026-${i}`, 1]));
    const h = await t.request('POST', '/api/v1/cases', { token: tokens.council, body: { benefits: [{ volumes: huge }] } });
    expect(h.status).toBe(413);
    // Many invalid entries within the bounds still answer with a bounded list.
    const many = Object.fromEntries(Array.from({ length: MAX_ENTRIES }, (_, i) => [`y${i}`, -1]));
    const m = await t.request('POST', '/api/v1/cases', { token: tokens.council, body: { benefits: [{ volumes: many }] } });
    expect(m.status).toBe(400);
    expect(m.body.errors.length).toBeLessThanOrEqual(101);
    // Nesting is bounded too.
    const deep = `${'['.repeat(100)}${']'.repeat(100)}`;
    const d = await t.request('POST', '/api/v1/financial-years', { raw: deep, headers: { 'content-type': 'application/json' } });
    expect(d.status).toBe(400);
    expect(d.body.errors[0].detail).toContain('nests deeper');
  });

  it('refuses control characters in any text, key, query or path, with a pointer, the same on both engines', async () => {
    const nul = await t.request('POST', '/api/v1/users', { body: { name: 'Nul\u0000Name', role: 'panel' } });
    expect(nul.status, nul.text).toBe(400);
    expect(nul.body.errors).toEqual([{ pointer: '/name', detail: 'must not contain control characters (it has U+0000)' }]);
    const nested = await t.request('POST', '/api/v1/cases', {
      token: tokens.council,
      body: { narrative: { strategic: 'ok\nfine\ttabbed', economic: 'bell\u0007' } },
    });
    expect(nested.body.errors.filter((e: Json) => /control/.test(e.detail))).toEqual([
      { pointer: '/narrative/economic', detail: 'must not contain control characters (it has U+0007)' },
    ]);
    const key = await t.request('POST', '/api/v1/users', { body: { 'na\u001bme': 'x', role: 'panel' } });
    expect(key.body.errors[0]).toMatchObject({ pointer: '/na\u001bme' });
    const lone = await t.request('POST', '/api/v1/users', {
      raw: '{"name":"\\ud800","role":"panel"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(lone.body.errors).toEqual([{ pointer: '/name', detail: 'must be valid Unicode text (it has an unpaired surrogate)' }]);
    const query = await t.request('GET', '/api/v1/unit-costs?q=%00');
    expect(query.status).toBe(400);
    expect(query.body.errors).toEqual([{ parameter: 'q', detail: 'must not contain control characters (it has U+0000)' }]);
    const path = await t.request('GET', '/api/v1/organisations/DH%00SC');
    expect(path.status).toBe(400);
    expect((await t.request('GET', '/api/v1/users')).body.map((u: Json) => u.name)).not.toContain('Nul\u0000Name');
  });

  it('refuses prototype names as fields, and looks names up only as own keys', async () => {
    const proto = await t.request('POST', '/api/v1/users', {
      raw: '{"__proto__":{"role":"treasury"},"name":"P"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(proto.status).toBe(400);
    expect(proto.body.errors.map((e: Json) => e.pointer)).toContain('/__proto__');
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const r = await t.request('GET', `/docs/assets/${name}`, { token: null });
      expect(r.status, name).toBe(404);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      const p = await t.request('GET', `/problems/${name}`, { token: null });
      expect(p.status, name).toBe(404);
    }
  });

  it('refuses financial years outside 2000-01 to 2199-00, in a body and in a path', async () => {
    for (const name of ['1899-00', '2999-00', '1999-00', '2200-01']) {
      const r = await t.request('POST', '/api/v1/financial-years', { body: { name } });
      expect(r.status, name).toBe(400);
      expect(r.body.errors).toEqual([{ pointer: '/name', detail: expect.stringContaining('from 2000-01 to 2199-00') }]);
      const p = await t.request('GET', `/api/v1/financial-years/${name}`);
      expect(p.status, name).toBe(400);
      expect(p.body.errors[0].parameter).toBe('fy');
    }
    expect((await t.request('POST', '/api/v1/financial-years', { body: { name: '2199-00' } })).status).toBe(201);
    expect((await t.request('POST', '/api/v1/financial-years', { body: { name: '2000-01' } })).status).toBe(201);
  });

  describe('idempotency', () => {
    it('replays the same JSON with its keys in another order and other whitespace', async () => {
      const headers = { 'idempotency-key': 'settings-reordered', 'content-type': 'application/json' };
      const first = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DWP', {
        raw: '{"baselinePence":100,"topSliceBasisPoints":250,"savingsTargetPence":0}',
        headers,
      });
      expect(first.status, first.text).toBe(201);
      const again = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DWP', {
        raw: '{ "savingsTargetPence": 0, "topSliceBasisPoints": 250,\n  "baselinePence": 100 }',
        headers,
      });
      expect(again.status, again.text).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual(first.body);
      const other = await t.request('PUT', '/api/v1/financial-years/2026-27/departments/DWP', {
        raw: '{"savingsTargetPence":1,"topSliceBasisPoints":250,"baselinePence":100}',
        headers,
      });
      expect(other.status).toBe(422);
      // No body and {} are the same request.
      const none = await t.request('POST', '/api/v1/financial-years/2026-27/contributions', {
        headers: { 'idempotency-key': 'run-empty' },
      });
      const empty = await t.request('POST', '/api/v1/financial-years/2026-27/contributions', {
        body: {},
        headers: { 'idempotency-key': 'run-empty' },
      });
      expect(empty.headers.get('idempotent-replayed')).toBe('true');
      expect(empty.body).toEqual(none.body);
    });

    it('refuses a key sent twice (joined by a comma) or with characters a key may not hold, and creates nothing', async () => {
      const before = (await t.request('GET', '/api/v1/users')).body.length;
      for (const key of ['B2, B2', 'B2,B2', 'with space', 'é', 'x'.repeat(256)]) {
        const r = await t.request('POST', '/api/v1/users', { body: { name: 'Twice', role: 'panel' }, headers: { 'idempotency-key': key } });
        expect(r.status, key).toBe(400);
        expect(r.body.errors[0].parameter).toBe('Idempotency-Key');
      }
      const joined = await t.request('POST', '/api/v1/users', {
        body: { name: 'Twice', role: 'panel' },
        headers: { 'idempotency-key': 'B2, B2' },
      });
      expect(joined.body.errors[0].detail).toContain('sent once');
      expect((await t.request('GET', '/api/v1/users')).body.length).toBe(before);
    });
  });
});
