import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../support/app.ts';
import { BRADFORD_CASE, type CaseBody, demoCase, draftCase, LEWISHAM_CASE, openRound, simpleCase, submit } from '../support/cases.ts';
import { engines } from '../support/db.ts';

const pointers = (body: { errors?: { pointer?: string }[] }) => [...new Set((body.errors ?? []).map((e) => e.pointer))].sort();
const JUNE = new Date('2026-06-01T09:00:00Z');

describe.each(engines())('business cases on %s', (engine) => {
  let t: TestApp;
  let roundId: string;
  let bradford: string;
  let bradford2: string;
  let lewisham: string;
  let panel: string;
  let auditor: string;
  const dept = {} as Record<'MOJ' | 'HO' | 'DWP' | 'DHSC' | 'DFE', string>;
  /** The Bradford demo case: drafted, edited, then submitted. */
  let demoId: string;
  beforeAll(async () => {
    t = await testApp(engine);
    roundId = (await openRound(t)).id;
    bradford = await t.userToken({ name: 'Bradford case lead', role: 'council', organisationCode: 'BRADFORD' });
    bradford2 = await t.userToken({ name: 'Bradford finance', role: 'council', organisationCode: 'BRADFORD' });
    lewisham = await t.userToken({ name: 'Lewisham case lead', role: 'council', organisationCode: 'LEWISHAM' });
    panel = await t.userToken({ name: 'Panel member', role: 'panel' });
    auditor = await t.userToken({ name: 'Auditor', role: 'auditor' });
    for (const code of ['MOJ', 'HO', 'DWP', 'DHSC', 'DFE'] as const) {
      dept[code] = await t.userToken({ name: `${code} analyst`, role: 'department', organisationCode: code });
    }
  });
  afterAll(() => t.destroy());

  const get = (id: string, token: string) => t.request('GET', `/api/v1/cases/${id}`, { token });
  const listIds = async (token: string, query = '') =>
    (await t.request('GET', `/api/v1/cases${query}`, { token })).body.map((c: { id: string }) => c.id) as string[];
  const caseCount = async () => (await listIds(bradford)).length;

  describe('drafting', () => {
    it('drafts a case: 201, a draft with a reference, the request net of match funding, unit costs resolved', async () => {
      const body = demoCase(BRADFORD_CASE, roundId);
      const r = await t.request('POST', '/api/v1/cases', { token: bradford, body });
      expect(r.status).toBe(201);
      demoId = r.body.id;
      const total = body.costs.reduce((s: number, c: { amountPence: number }) => s + c.amountPence, 0);
      expect(total).toBe(2_610_000_00);
      expect(r.body).toMatchObject({
        reference: 'TP-2026-27-001',
        roundId,
        leadCouncilCode: 'BRADFORD',
        status: 'draft',
        revision: 1,
        title: body.title,
        placeCode: 'BRADFORD',
        theme: 'offenders',
        partnerCodes: body.partnerCodes,
        matchFundingPence: 390_000_00,
        totalCostsPence: total,
        requestedPence: total - 390_000_00,
        baseYear: '2026-27',
        discountSchedule: 'standard',
        narrative: body.narrative,
        submittedAt: null,
        decisions: [],
        createdAt: '2026-06-01T09:00:00.000Z',
      });
      expect(r.body.requestedPence).toBe(2_220_000_00);
      expect(r.body.costs).toEqual(body.costs);
      const custody = r.body.benefits[0];
      expect(custody).toMatchObject({ unitCostCode: 'CR3.1', beneficiaryCode: 'MOJ', type: 'fiscal' });
      expect(Number.isSafeInteger(custody.unitValuePence)).toBe(true);
      expect(custody.priceYear).toMatch(/^\d{4}-\d{2}$/);
      expect(custody.source).toContain('Unit Cost Database v1.4 CR3.1');
      expect(r.body.benefits[5]).toMatchObject({ unitValuePence: 796600, priceYear: '2009-10', beneficiaryCode: null, type: 'economic' });
      expect(r.body.id).toMatch(/^[0-9a-f-]{36}$/);

      // Any user of the same council sees it; the next case gets the next reference.
      expect((await get(demoId, bradford2)).body).toEqual(r.body);
      const next = await draftCase(t, bradford2, simpleCase(roundId, { title: 'Second Bradford draft' }));
      expect(next.reference).toBe('TP-2026-27-002');
      expect(await listIds(bradford)).toEqual([demoId, next.id]);
      expect(await listIds(bradford, '?status=draft')).toEqual([demoId, next.id]);
      expect(await listIds(bradford, '?status=submitted')).toEqual([]);
    });

    it('takes a Unit Cost Database pick without a beneficiary as saving its paying department', async () => {
      const body = simpleCase(roundId, { title: 'A&E priced from the UCD' });
      body.benefits[0] = {
        ...body.benefits[0],
        beneficiaryCode: null,
        unitCostCode: 'HE4.0',
        unitValuePence: undefined,
        priceYear: undefined,
        source: undefined,
      };
      const r = await t.request('POST', '/api/v1/cases', { token: bradford, body: JSON.parse(JSON.stringify(body)) });
      expect(r.status).toBe(201);
      expect(r.body.benefits[0]).toMatchObject({ unitCostCode: 'HE4.0', beneficiaryCode: 'DHSC', type: 'fiscal' });
    });

    it('edits a draft with PUT: each save is a new revision, in the audit log', async () => {
      const body = demoCase(BRADFORD_CASE, roundId);
      const first = await t.request('PUT', `/api/v1/cases/${demoId}`, { token: bradford, body: { ...body, title: `${body.title} (v2)` } });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        id: demoId,
        reference: 'TP-2026-27-001',
        revision: 2,
        status: 'draft',
        title: `${body.title} (v2)`,
      });
      t.setNow(new Date('2026-06-02T10:00:00Z'));
      try {
        const second = await t.request('PUT', `/api/v1/cases/${demoId}`, { token: bradford2, body });
        expect(second.status).toBe(200);
        expect(second.body).toMatchObject({
          revision: 3,
          title: body.title,
          createdAt: '2026-06-01T09:00:00.000Z',
          updatedAt: '2026-06-02T10:00:00.000Z',
        });
      } finally {
        t.setNow(JUNE);
      }
      expect((await get(demoId, bradford)).body.revision).toBe(3);
      const log = await t.request('GET', `/api/v1/audit-log?subject=case/${demoId}`);
      expect(log.body.entries.map((e: { action: string }) => e.action)).toEqual(['case.drafted', 'case.edited', 'case.edited']);
      expect(log.body.entries[0]).toMatchObject({ actorRole: 'council' });
    });

    it('shows the appraisal of a draft computed afresh, changing as a benefit volume changes', async () => {
      const body = simpleCase(roundId, { title: 'Appraisal follows edits' });
      const draft = await draftCase(t, bradford, body);
      const before = await t.request('GET', `/api/v1/cases/${draft.id}/appraisal`, { token: bradford });
      expect(before.status).toBe(200);
      expect(before.body).toMatchObject({
        caseId: draft.id,
        stored: false,
        computedAt: null,
        pvCostsPence: 1_000_000_00,
        pvBenefitsPence: { fiscal: 2_000_000_00, economic: 0, social: 0 },
        fiscalNpvPence: 1_000_000_00,
        publicValueNpvPence: 1_000_000_00,
        bcr: 2,
        vfmBand: 'high',
        whoBenefits: [{ organisationCode: 'WEST-YORKSHIRE-ICB', pvPence: 2_000_000_00, cashablePvPence: 2_000_000_00 }],
        parameterSet: { name: 'local-partnerships-cba', version: '2014.1', provisional: true },
      });
      body.benefits[0].volumes['2026-27'] = 35_000;
      const edited = await t.request('PUT', `/api/v1/cases/${draft.id}`, { token: bradford, body });
      expect(edited.body.revision).toBe(2);
      const after = await t.request('GET', `/api/v1/cases/${draft.id}/appraisal`, { token: bradford });
      expect(after.body).toMatchObject({ stored: false, pvBenefitsPence: { fiscal: 3_500_000_00 }, bcr: 3.5, vfmBand: 'high' });
      body.benefits[0].volumes['2026-27'] = 5_000;
      await t.request('PUT', `/api/v1/cases/${draft.id}`, { token: bradford, body });
      const poor = await t.request('GET', `/api/v1/cases/${draft.id}/appraisal`, { token: bradford });
      expect(poor.body).toMatchObject({ bcr: 0.5, vfmBand: 'poor', fiscalNpvPence: -500_000_00 });

      // The demo case is appraised too, with its unit costs rebased and the provisional warning.
      const demo = await t.request('GET', `/api/v1/cases/${demoId}/appraisal`, { token: bradford });
      expect(demo.status).toBe(200);
      expect(demo.body.stored).toBe(false);
      expect(demo.body.bcr).toBeGreaterThan(2);
      expect(demo.body.warnings.some((w: string) => w.includes('provisional'))).toBe(true);
    });
  });

  describe('validation', () => {
    const refused = async (body: CaseBody) => {
      const before = await caseCount();
      const r = await t.request('POST', '/api/v1/cases', { token: bradford, body });
      expect(r.status).toBe(400);
      expect(r.body.type).toBe('/problems/validation-error');
      expect(await caseCount()).toBe(before);
      return r.body;
    };

    it('points at an unknown payer', async () => {
      const body = simpleCase(roundId);
      body.costs[0].payerCode = 'NOBODY';
      expect((await refused(body)).errors).toEqual([{ pointer: '/costs/0/payerCode', detail: 'there is no organisation NOBODY' }]);
    });

    it('points at years before the base year', async () => {
      const body = simpleCase(roundId);
      body.costs[1].year = '2025-26';
      body.benefits[0].volumes = { '2025-26': 10, '2026-27': 10 };
      const errors = (await refused(body)).errors;
      expect(pointers({ errors })).toEqual(['/benefits/0/volumes/2025-26', '/costs/1/year']);
      expect(errors[0].detail).toContain('before the base year 2026-27');
    });

    it('points at a fiscal benefit without a beneficiary', async () => {
      const body = simpleCase(roundId);
      body.benefits[0].beneficiaryCode = null;
      expect((await refused(body)).errors).toEqual([
        { pointer: '/benefits/0/beneficiaryCode', detail: 'a fiscal benefit must name the organisation that saves' },
      ]);
      delete body.benefits[0].beneficiaryCode;
      expect(pointers(await refused(body))).toEqual(['/benefits/0/beneficiaryCode']);
    });

    it('points at a benefit with both a unit cost code and a stated value, and at an unknown code', async () => {
      const both = simpleCase(roundId);
      both.benefits[0].unitCostCode = 'HE4.0';
      expect(pointers(await refused(both))).toEqual(['/benefits/0/unitCostCode']);
      const unknown = simpleCase(roundId);
      unknown.benefits[0] = { ...unknown.benefits[0], unitCostCode: 'XX99.9' };
      delete unknown.benefits[0].unitValuePence;
      delete unknown.benefits[0].priceYear;
      delete unknown.benefits[0].source;
      expect((await refused(unknown)).errors).toEqual([
        { pointer: '/benefits/0/unitCostCode', detail: 'there is no unit cost XX99.9 in the Unit Cost Database' },
      ]);
      const neither = simpleCase(roundId);
      delete neither.benefits[0].source;
      expect(pointers(await refused(neither))).toEqual(['/benefits/0/unitCostCode']);
    });

    it('points at a fiscal Unit Cost Database pick paid by several agencies and no beneficiary named', async () => {
      const body = simpleCase(roundId);
      body.benefits[0] = { ...body.benefits[0], beneficiaryCode: null, unitCostCode: 'CR2.0' };
      delete body.benefits[0].unitValuePence;
      delete body.benefits[0].priceYear;
      delete body.benefits[0].source;
      const errors = (await refused(body)).errors;
      expect(pointers({ errors })).toEqual(['/benefits/0/beneficiaryCode']);
      expect(errors[0].detail).toContain('name the organisation that saves');
      body.benefits[0].beneficiaryCode = 'WEST-YORKSHIRE-POLICE';
      const named = await t.request('POST', '/api/v1/cases', { token: bradford, body });
      expect(named.status).toBe(201);
      expect(named.body.benefits[0]).toMatchObject({ unitCostCode: 'CR2.0', beneficiaryCode: 'WEST-YORKSHIRE-POLICE' });
    });

    it('points at match funding above the costs', async () => {
      const body = simpleCase(roundId);
      body.matchFundingPence = 1_000_000_01;
      expect((await refused(body)).errors).toEqual([
        { pointer: '/matchFundingPence', detail: 'cannot be more than the total of the cost lines' },
      ]);
      body.matchFundingPence = 1_000_000_00; // equal is allowed: nothing asked of the fund
      const r = await t.request('POST', '/api/v1/cases', { token: bradford, body });
      expect(r.status).toBe(201);
      expect(r.body.requestedPence).toBe(0);
    });

    it('points at a place the lead council is not in, unknown partners and themes, and an unknown round', async () => {
      const body = simpleCase(roundId);
      body.placeCode = 'LEWISHAM';
      expect((await refused(body)).errors).toEqual([
        { pointer: '/placeCode', detail: 'BRADFORD is not a council of LEWISHAM; a council leads cases in its own place' },
      ]);
      const more = simpleCase(roundId);
      more.partnerCodes = ['WEST-YORKSHIRE-POLICE', 'NOBODY', 'BRADFORD', 'WEST-YORKSHIRE-POLICE'];
      more.theme = 'astrology';
      expect(pointers(await refused(more))).toEqual(['/partnerCodes', '/partnerCodes/1', '/partnerCodes/2', '/theme']);
      const round = await refused(simpleCase('2026-27-r99'));
      expect(round.errors).toEqual([{ pointer: '/roundId', detail: 'there is no funding round 2026-27-r99' }]);
    });

    it('refuses malformed money, grades and unknown fields at the schema, with pointers', async () => {
      const body = simpleCase(roundId);
      body.costs[0].amountPence = 1234.5;
      body.costs[1].confidenceGrade = 7;
      body.benefits[0].volumes = { '2026-27': -1 };
      body.benefits[0].impactBasisPoints = 10_001;
      body.colour = 'blue';
      expect(pointers(await refused(body))).toEqual([
        '/benefits/0/impactBasisPoints',
        '/benefits/0/volumes/2026-27',
        '/colour',
        '/costs/0/amountPence',
        '/costs/1/confidenceGrade',
      ]);
      const narrative = simpleCase(roundId);
      narrative.narrative.vision = 'not a section';
      expect(pointers(await refused(narrative))).toEqual(['/narrative/vision']);
    });

    it('refuses the same problems on PUT without changing the draft, and keeps a draft in its round', async () => {
      const draft = await draftCase(t, bradford, simpleCase(roundId, { title: 'Edit me badly' }));
      const body = simpleCase(roundId, { title: 'Edit me badly' });
      body.costs[0].payerCode = 'NOBODY';
      const bad = await t.request('PUT', `/api/v1/cases/${draft.id}`, { token: bradford, body });
      expect(bad.status).toBe(400);
      expect(pointers(bad.body)).toEqual(['/costs/0/payerCode']);
      const other = await openRound(t, { name: 'Another round' });
      const move = await t.request('PUT', `/api/v1/cases/${draft.id}`, { token: bradford, body: simpleCase(other.id) });
      expect(move.status).toBe(400);
      expect(pointers(move.body)).toEqual(['/roundId']);
      expect((await get(draft.id, bradford)).body).toMatchObject({ revision: 1, roundId, costs: draft.costs });
      const notId = await t.request('PUT', '/api/v1/cases/not-a-uuid', { token: bradford, body: simpleCase(roundId) });
      expect(notId.status).toBe(400);
      expect(notId.body.errors[0].parameter).toBe('id');
    });
  });

  describe('drafts are private to their council', () => {
    it('gives every other council, panel, treasury, auditor and department 404, and leaves the draft out of their lists', async () => {
      const others = { lewisham, panel, treasury: t.treasury, auditor, ...dept };
      for (const [who, token] of Object.entries(others)) {
        for (const path of [`/api/v1/cases/${demoId}`, `/api/v1/cases/${demoId}/appraisal`]) {
          const r = await t.request('GET', path, { token });
          expect(r.status, `${who} GET ${path}`).toBe(404);
          expect(r.body.type, who).toBe('/problems/case-not-found');
        }
        expect(await listIds(token), who).not.toContain(demoId);
      }
      expect(await listIds(lewisham)).toEqual([]);
      expect(await listIds(panel)).toEqual([]);
      // MOJ is named as a beneficiary, but a draft is still private.
      expect(await listIds(dept.MOJ)).toEqual([]);
    });

    it('does not let another council edit or submit it', async () => {
      const put = await t.request('PUT', `/api/v1/cases/${demoId}`, { token: lewisham, body: demoCase(LEWISHAM_CASE, roundId) });
      expect(put.status).toBe(404);
      const sub = await t.request('POST', `/api/v1/cases/${demoId}/submit`, { token: lewisham });
      expect(sub.status).toBe(404);
      expect((await get(demoId, bradford)).body).toMatchObject({ status: 'draft', revision: 3 });
    });

    it('lets the other council draft its own case, which Bradford cannot see', async () => {
      const own = await draftCase(t, lewisham, demoCase(LEWISHAM_CASE, roundId));
      expect(own.leadCouncilCode).toBe('LEWISHAM');
      expect(await listIds(lewisham)).toEqual([own.id]);
      expect(await listIds(bradford)).not.toContain(own.id);
      expect((await get(own.id, bradford)).status).toBe(404);
    });
  });

  describe('submission gates', () => {
    const refusedGates = async (body: CaseBody) => {
      const draft = await draftCase(t, bradford, body);
      const r = await t.request('POST', `/api/v1/cases/${draft.id}/submit`, { token: bradford });
      expect(r.status).toBe(422);
      expect(r.body.type).toBe('/problems/case-not-eligible');
      expect((await get(draft.id, bradford)).body.status).toBe('draft');
      // Each failed gate is also a field error, pointing where validation errors point.
      expect(r.body.errors).toEqual(
        r.body.failures.map((f: { pointer: string; detail: string }) => ({ pointer: f.pointer, detail: f.detail })),
      );
      return {
        id: draft.id,
        failures: r.body.failures as { gate: string; pointer: string; detail: string }[],
        detail: r.body.detail as string,
      };
    };

    it('needs at least two partners', async () => {
      const body = simpleCase(roundId);
      body.partnerCodes = ['WEST-YORKSHIRE-ICB'];
      const { failures } = await refusedGates(body);
      expect(failures).toEqual([
        {
          gate: 'partners',
          pointer: '/partnerCodes',
          detail: 'A case needs at least two partner bodies besides the lead council; it names 1.',
        },
      ]);
    });

    it('needs a benefit to someone other than the lead council', async () => {
      const body = simpleCase(roundId);
      body.benefits[0].beneficiaryCode = 'BRADFORD';
      const { failures } = await refusedGates(body);
      expect(failures.map((f) => f.gate)).toEqual(['benefits-beyond-lead']);
    });

    it('needs match funding at the round minimum', async () => {
      const { failures } = await refusedGates(simpleCase(roundId, { leadPence: 900_000_01, matchPence: 99_999_99 }));
      expect(failures).toEqual([
        { gate: 'match-funding', pointer: '/matchFundingPence', detail: expect.stringContaining('the round needs at least 10%') },
      ]);
      expect(failures[0]?.detail).toContain('9.99%');
    });

    it('needs every narrative section', async () => {
      const body = simpleCase(roundId);
      body.narrative.commercial = '   ';
      delete body.narrative.management;
      const { failures } = await refusedGates(body);
      expect(failures).toEqual([
        { gate: 'narrative', pointer: '/narrative/commercial', detail: 'The commercial case is missing.' },
        { gate: 'narrative', pointer: '/narrative/management', detail: 'The management case is missing.' },
      ]);
    });

    it('needs the round to be open: not before it opens, not after it closes', async () => {
      const body = simpleCase(roundId, { title: 'Too early or too late' });
      const draft = await draftCase(t, bradford, body);
      try {
        t.setNow(new Date('2026-04-30T23:00:00Z'));
        const early = await t.request('POST', `/api/v1/cases/${draft.id}/submit`, { token: bradford });
        expect(early.status).toBe(422);
        expect(early.body.failures).toEqual([{ gate: 'round-open', pointer: '/roundId', detail: `Round ${roundId} opens on 2026-05-01.` }]);
        expect(early.body.errors).toEqual([{ pointer: '/roundId', detail: `Round ${roundId} opens on 2026-05-01.` }]);
        t.setNow(new Date('2026-08-01T00:00:00Z'));
        const late = await t.request('POST', `/api/v1/cases/${draft.id}/submit`, { token: bradford });
        expect(late.status).toBe(422);
        expect(late.body.failures).toEqual([{ gate: 'round-open', pointer: '/roundId', detail: `Round ${roundId} closed on 2026-07-31.` }]);
      } finally {
        t.setNow(JUNE);
      }
      expect((await get(draft.id, bradford)).body.status).toBe('draft');
    });

    it("needs the case's theme to be one the round funds", async () => {
      const themed = await openRound(t, { name: 'Alcohol and drugs round', themes: ['alcohol-and-drugs'] });
      const { failures } = await refusedGates(simpleCase(themed.id));
      expect(failures.map((f) => f.gate)).toEqual(['theme']);
    });

    it('lists every failed gate at once, and submits once the draft is fixed', async () => {
      const body = simpleCase(roundId, { leadPence: 950_000_00, matchPence: 50_000_00, title: 'Everything wrong' });
      body.partnerCodes = [];
      body.benefits[0].beneficiaryCode = 'BRADFORD';
      body.narrative.strategic = '';
      const { id, failures, detail } = await refusedGates(body);
      expect(failures.map((f) => [f.gate, f.pointer])).toEqual([
        ['partners', '/partnerCodes'],
        ['benefits-beyond-lead', '/benefits'],
        ['match-funding', '/matchFundingPence'],
        ['narrative', '/narrative/strategic'],
      ]);
      for (const f of failures) expect(detail).toContain(f.detail);
      const fixed = await t.request('PUT', `/api/v1/cases/${id}`, {
        token: bradford,
        body: simpleCase(roundId, { title: 'Everything fixed' }),
      });
      expect(fixed.status).toBe(200);
      const ok = await t.request('POST', `/api/v1/cases/${id}/submit`, { token: bradford });
      expect(ok.status).toBe(200);
      expect(ok.body.case).toMatchObject({ status: 'submitted', revision: 2 });
    });
  });

  describe('submission', () => {
    it('submits: the stored appraisal comes back with its parameter set, and the case is read-only', async () => {
      t.setNow(new Date('2026-06-03T12:00:00Z'));
      let r: Awaited<ReturnType<TestApp['request']>>;
      try {
        r = await t.request('POST', `/api/v1/cases/${demoId}/submit`, { token: bradford2 });
      } finally {
        t.setNow(JUNE);
      }
      expect(r.status).toBe(200);
      expect(r.body.case).toMatchObject({ id: demoId, status: 'submitted', revision: 3, submittedAt: '2026-06-03T12:00:00.000Z' });
      expect(r.body.appraisal).toMatchObject({
        caseId: demoId,
        stored: true,
        computedAt: '2026-06-03T12:00:00.000Z',
        parameterSet: { name: 'local-partnerships-cba', version: '2014.1', provisional: true },
      });
      expect(r.body.appraisal.vfmBand).toBe('high');
      expect(Number.isSafeInteger(r.body.appraisal.pvCostsPence)).toBe(true);
      const stored = await t.request('GET', `/api/v1/cases/${demoId}/appraisal`, { token: bradford });
      expect(stored.body).toEqual(r.body.appraisal);
      expect((await get(demoId, bradford)).body).toMatchObject({ status: 'submitted', submittedAt: '2026-06-03T12:00:00.000Z' });

      const put = await t.request('PUT', `/api/v1/cases/${demoId}`, { token: bradford, body: demoCase(BRADFORD_CASE, roundId) });
      expect(put.status).toBe(409);
      expect(put.body.type).toBe('/problems/case-not-draft');
      const again = await t.request('POST', `/api/v1/cases/${demoId}/submit`, { token: bradford });
      expect(again.status).toBe(409);
      expect(again.body.type).toBe('/problems/case-not-draft');
      expect((await get(demoId, bradford)).body).toMatchObject({ revision: 3, submittedAt: '2026-06-03T12:00:00.000Z' });

      const log = await t.request('GET', `/api/v1/audit-log?subject=case/${demoId}`);
      const submitted = log.body.entries.at(-1);
      expect(submitted).toMatchObject({ action: 'case.submitted', actorRole: 'council' });
      expect(log.body.entries.map((e: { action: string }) => e.action)).toEqual([
        'case.drafted',
        'case.edited',
        'case.edited',
        'case.submitted',
      ]);
    });

    it('replays a submission sent again with the same Idempotency-Key', async () => {
      const draft = await draftCase(t, bradford, simpleCase(roundId, { title: 'Submitted twice over a bad line' }));
      const headers = { 'idempotency-key': `submit-${draft.id}` };
      const first = await t.request('POST', `/api/v1/cases/${draft.id}/submit`, { token: bradford, headers });
      expect(first.status).toBe(200);
      const replay = await t.request('POST', `/api/v1/cases/${draft.id}/submit`, { token: bradford, headers });
      expect(replay.status).toBe(200);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(first.body);
      const log = await t.request('GET', `/api/v1/audit-log?subject=case/${draft.id}`);
      expect(log.body.entries.filter((e: { action: string }) => e.action === 'case.submitted')).toHaveLength(1);
    });

    it('shows a submitted case to the departments it names, directly or through a partner body, and to no other', async () => {
      // Named directly: MOJ (custody, courts), DWP (benefits); through West Yorkshire Police: HO.
      for (const code of ['MOJ', 'DWP', 'HO'] as const) {
        const r = await get(demoId, dept[code]);
        expect(r.status, code).toBe(200);
        expect(r.body.reference, code).toBe('TP-2026-27-001');
        expect((await t.request('GET', `/api/v1/cases/${demoId}/appraisal`, { token: dept[code] })).status, code).toBe(200);
        expect(await listIds(dept[code]), code).toEqual([demoId]);
      }
      for (const code of ['DHSC', 'DFE'] as const) {
        const r = await get(demoId, dept[code]);
        expect(r.status, code).toBe(404);
        expect(r.body.type).toBe('/problems/case-not-found');
        expect((await t.request('GET', `/api/v1/cases/${demoId}/appraisal`, { token: dept[code] })).status, code).toBe(404);
        expect(await listIds(dept[code]), code).not.toContain(demoId);
      }
      expect((await get(demoId, lewisham)).status).toBe(404);
      expect(await listIds(lewisham)).not.toContain(demoId);
      for (const token of [panel, t.treasury, auditor]) {
        expect((await get(demoId, token)).status).toBe(200);
        const ids = await listIds(token);
        expect(ids).toContain(demoId);
        // Nobody but the council sees drafts: the list itself carries no draft.
        const listed = (await t.request('GET', '/api/v1/cases', { token })).body as { id: string; status: string }[];
        expect(listed.length).toBe(ids.length);
        expect(listed.filter((c) => c.status === 'draft')).toEqual([]);
      }
      expect(await listIds(panel, `?round=${roundId}&status=submitted`)).toContain(demoId);
      expect(await listIds(panel, '?status=draft')).toEqual([]);
    });

    it('shows a case to the department a partner body answers to (an ICB: DHSC)', async () => {
      const draft = await draftCase(t, bradford, simpleCase(roundId, { title: 'ICB beneficiary' }));
      await submit(t, bradford, draft.id);
      expect((await get(draft.id, dept.DHSC)).status).toBe(200);
      expect(await listIds(dept.DHSC)).toContain(draft.id);
      expect((await get(draft.id, dept.MOJ)).status).toBe(404);
      expect(await listIds(dept.MOJ)).not.toContain(draft.id);
    });

    it('stores the appraisal worked by hand for a small case (golden G18)', async () => {
      // test/appraisal/golden.md, G18: every figure below is worked there by hand.
      const body = simpleCase(roundId, { title: 'Golden G18' });
      body.benefits[0].volumes = { '2026-27': 20_000, '2027-28': 10_350 };
      const draft = await draftCase(t, bradford, body);
      await submit(t, bradford, draft.id);
      const stored = (await t.request('GET', `/api/v1/cases/${draft.id}/appraisal`, { token: t.treasury })).body;
      const { caseId, stored: isStored, computedAt, warnings, parameterSet, switchingValues, ...figures } = stored;
      expect(caseId).toBe(draft.id);
      expect(isStored).toBe(true);
      expect(computedAt).toBe('2026-06-01T09:00:00.000Z');
      expect(parameterSet).toEqual({ name: 'local-partnerships-cba', version: '2014.1', provisional: true });
      expect(warnings).toHaveLength(1);
      expect(switchingValues.map(({ label: _l, ...v }: { label: string }) => v)).toEqual([
        { input: 'costs', baseValue: 100_000_000, switchingValue: '300000000.0000', changeBasisPoints: 20_000 },
        { input: 'benefits/0/unitValuePence', baseValue: 10_000, switchingValue: '3333.333333333', changeBasisPoints: -6_667 },
      ]);
      expect(figures).toEqual({
        pvCostsPence: 100_000_000,
        pvBenefitsPence: { fiscal: 300_000_000, economic: 0, social: 0 },
        fiscalNpvPence: 200_000_000,
        publicValueNpvPence: 200_000_000,
        fiscalRoi: 3,
        bcr: 3,
        paybackYear: '2026-27',
        vfmBand: 'high',
        whoBenefits: [{ organisationCode: 'WEST-YORKSHIRE-ICB', pvPence: 300_000_000, cashablePvPence: 300_000_000 }],
        years: [
          {
            year: '2026-27',
            index: 0,
            discountFactor: '1.0000000000',
            pvCostsPence: 100_000_000,
            pvFiscalBenefitsPence: 200_000_000,
            cumulativePvCostsPence: 100_000_000,
            cumulativePvFiscalBenefitsPence: 200_000_000,
          },
          {
            year: '2027-28',
            index: 1,
            discountFactor: '0.9661835749',
            pvCostsPence: 0,
            pvFiscalBenefitsPence: 100_000_000,
            cumulativePvCostsPence: 100_000_000,
            cumulativePvFiscalBenefitsPence: 300_000_000,
          },
        ],
        sensitivity: [
          { scenario: 'optimism-bias-removed', label: expect.any(String), fiscalNpvPence: 200_000_000, bcr: 3, vfmBand: 'high' },
          { scenario: 'one-grade-worse', label: expect.any(String), fiscalNpvPence: 180_000_000, bcr: 2.7143, vfmBand: 'high' },
          { scenario: 'impact-20-percent-lower', label: expect.any(String), fiscalNpvPence: 140_000_000, bcr: 2.4, vfmBand: 'high' },
          { scenario: 'lag-one-year-longer', label: expect.any(String), fiscalNpvPence: 189_855_072, bcr: 2.8986, vfmBand: 'high' },
        ],
      });
    });
  });

  describe('Idempotency-Key on POST /cases', () => {
    it('replays the first draft for the same key and body, and refuses the key with another body', async () => {
      const before = await caseCount();
      const headers = { 'idempotency-key': 'bradford-draft-7' };
      const body = simpleCase(roundId, { title: 'Sent twice' });
      const first = await t.request('POST', '/api/v1/cases', { token: bradford, body, headers });
      expect(first.status).toBe(201);
      const replay = await t.request('POST', '/api/v1/cases', { token: bradford, body, headers });
      expect(replay.status).toBe(201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(first.body);
      expect(await caseCount()).toBe(before + 1);
      const other = await t.request('POST', '/api/v1/cases', { token: bradford, body: { ...body, title: 'Something else' }, headers });
      expect(other.status).toBe(422);
      expect(other.body.type).toBe('/problems/idempotency-key-reused');
      expect(await caseCount()).toBe(before + 1);
    });
  });

  describe('references', () => {
    it('gives concurrent drafts distinct references', async () => {
      const replies = await Promise.all(
        [1, 2, 3, 4].map((i) =>
          t.request('POST', '/api/v1/cases', { token: bradford, body: simpleCase(roundId, { title: `Concurrent ${i}` }) }),
        ),
      );
      expect(replies.map((r) => r.status)).toEqual([201, 201, 201, 201]);
      const refs = replies.map((r) => r.body.reference);
      expect(new Set(refs).size).toBe(4);
    });

    it("numbers a year's cases from 001 in that year", async () => {
      const next = await openRound(t, { financialYear: '2027-28', name: 'Next year', opensOn: '2027-05-01', closesOn: '2027-07-31' });
      const body = simpleCase(next.id, { title: 'Next year' });
      body.baseYear = '2027-28';
      body.costs = body.costs.map((c: { year: string }) => ({ ...c, year: '2027-28' }));
      body.benefits[0].volumes = { '2027-28': 20_000 };
      const draft = await draftCase(t, bradford, body);
      expect(draft.reference).toBe('TP-2027-28-001');
    });
  });
});
