import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../support/app.ts';
import { type CaseBody, caseWithBcr, draftCase, openRound, simpleCase, submit } from '../support/cases.ts';
import { engines } from '../support/db.ts';

const pointers = (body: { errors?: { pointer?: string }[] }) => [...new Set((body.errors ?? []).map((e) => e.pointer))].sort();

/** A fiscal line for the West Yorkshire ICB, stated at 2026-27 prices unless told otherwise. */
function line(over: Record<string, unknown> = {}): CaseBody {
  return {
    outcome: 'Admissions avoided',
    beneficiaryCode: 'WEST-YORKSHIRE-ICB',
    type: 'fiscal',
    cashable: true,
    unitValuePence: 10_000,
    priceYear: '2026-27',
    source: 'Local tariff',
    volumes: { '2026-27': 10 },
    impactBasisPoints: 10_000,
    deadweightBasisPoints: 0,
    persistenceYears: 1,
    confidenceGrade: 1,
    ...over,
  };
}

describe.each(engines())('appraisal fidelity and re-appraisal on %s', (engine) => {
  let t: TestApp;
  let roundId: string;
  let bradford: string;
  let panel: string;
  let council2: string;
  beforeAll(async () => {
    t = await testApp(engine);
    roundId = (await openRound(t)).id;
    bradford = await t.userToken({ name: 'Bradford case lead', role: 'council', organisationCode: 'BRADFORD' });
    council2 = await t.userToken({ name: 'Lewisham case lead', role: 'council', organisationCode: 'LEWISHAM' });
    panel = await t.userToken({ name: 'Panel member', role: 'panel' });
    // A later vintage of the parameter set: grade 1 costs uplifted by 10%, grade 2 benefits not cut.
    const row = await t.database.db
      .selectFrom('appraisal_parameter_sets')
      .select('definition')
      .where('name', '=', 'local-partnerships-cba')
      .where('version', '=', '2014.1')
      .executeTakeFirstOrThrow();
    const set = JSON.parse(row.definition);
    set.version = 'test-2';
    set.confidenceGrades[0].costUpliftBasisPoints = 1_000;
    set.confidenceGrades[1].benefitHaircutBasisPoints = 0;
    await t.database.db
      .insertInto('appraisal_parameter_sets')
      .values({
        name: set.name,
        version: set.version,
        provisional: 1,
        definition: JSON.stringify(set),
        loaded_at: new Date().toISOString(),
      })
      .execute();
  });
  afterAll(() => t.destroy());

  const appraisal = (id: string, query = '', token = bradford) => t.request('GET', `/api/v1/cases/${id}/appraisal${query}`, { token });

  describe('appraisal that used to crash', () => {
    it('values a far-future benefit on the health schedule: PV fiscal 32,436 p, no ratios without costs', async () => {
      const body = {
        ...simpleCase(roundId, { title: 'Far-future health benefit' }),
        discountSchedule: 'health',
        matchFundingPence: 0,
        costs: [],
        benefits: [line({ beneficiaryCode: 'DHSC', unitValuePence: 3_333, volumes: { '2086-87': 1 }, persistenceYears: 26 })],
      };
      const draft = await draftCase(t, bradford, body);
      const r = await appraisal(draft.id);
      expect(r.status).toBe(200);
      expect(r.body.pvBenefitsPence.fiscal).toBe(32_436);
      expect(r.body).toMatchObject({ fiscalRoi: null, bcr: null, paybackYear: null, vfmBand: null });
      // Submission refuses it for want of a cost line, with its reason, rather than failing.
      const submitted = await t.request('POST', `/api/v1/cases/${draft.id}/submit`, { token: bradford });
      expect(submitted.status).toBe(422);
      expect(submitted.body.type).toBe('/problems/case-not-eligible');
      const standard = await t.request('PUT', `/api/v1/cases/${draft.id}`, {
        token: bradford,
        body: { ...body, discountSchedule: 'standard' },
      });
      expect(standard.status).toBe(200);
      expect((await appraisal(draft.id)).body.pvBenefitsPence.fiscal).toBe(9_078);
    });

    it('appraises 27 lines at 27 price years with a cost in the last year the API accepts', async () => {
      const benefits = Array.from({ length: 27 }, (_, i) => {
        const start = 2000 + i;
        return line({ outcome: `Outcome priced ${start}`, priceYear: `${start}-${String((start + 1) % 100).padStart(2, '0')}` });
      });
      const body = {
        ...simpleCase(roundId, { title: 'Many price years' }),
        matchFundingPence: 0,
        costs: [{ year: '2086-87', kind: 'revenue', payerCode: 'BRADFORD', amountPence: 100_000, confidenceGrade: 1 }],
        benefits,
      };
      const draft = await draftCase(t, bradford, body);
      const r = await appraisal(draft.id);
      expect(r.status).toBe(200);
      expect(r.body.years).toHaveLength(61);
      expect(r.body.switchingValues).toHaveLength(6);
      expect(r.body.switchingValues[0].switchingValue).toMatch(/^\d+\.\d{2,}$/);
      // Benefits outweigh so small a cost that no unit value of a single line can bring NPV to zero.
      expect(r.body.switchingValues.slice(1).map((s: { switchingValue: string | null }) => s.switchingValue)).toEqual([
        null,
        null,
        null,
        null,
        null,
      ]);
    });

    it('states one horizon and one persistence cap: 60 years after the base year, 30 years of benefit', async () => {
      const body = simpleCase(roundId, { title: 'Too far' });
      body.benefits[0].volumes = { '2087-88': 1 };
      body.benefits[0].persistenceYears = 31;
      body.costs[0].year = '2087-88';
      const r = await t.request('POST', '/api/v1/cases', { token: bradford, body });
      expect(r.status).toBe(400);
      expect(pointers(r.body)).toEqual(['/benefits/0/persistenceYears']);
      body.benefits[0].persistenceYears = 30;
      const again = await t.request('POST', '/api/v1/cases', { token: bradford, body });
      expect(again.status).toBe(400);
      expect(pointers(again.body)).toEqual(['/benefits/0/volumes/2087-88', '/costs/0/year']);
      expect(again.body.errors[0].detail).toMatch(/more than 60 years/);
    });
  });

  describe("the local CBA model's inputs", () => {
    it('takes need × engagement, drop-off and a cashable share, and shows sensitivity', async () => {
      const body = simpleCase(roundId, { title: 'Fading benefit' });
      body.benefits = [
        line({
          volumes: undefined,
          cashable: undefined,
          need: { '2026-27': 40 },
          engagementBasisPoints: 2_500,
          persistenceYears: 3,
          dropOffBasisPoints: 2_000,
          lagYears: 0,
          cashableBasisPoints: 6_000,
        }),
      ];
      const draft = await draftCase(t, bradford, body);
      expect(draft.benefits[0]).toMatchObject({
        need: { '2026-27': 40 },
        engagementBasisPoints: 2_500,
        cashableBasisPoints: 6_000,
        cashable: false,
      });
      const r = await appraisal(draft.id);
      expect(r.status).toBe(200);
      // 40 × 25% = 10 people × £100, falling 20% a year for 3 years: 237,039 p (golden G13); 60% cashable.
      expect(r.body.pvBenefitsPence.fiscal).toBe(237_039);
      expect(r.body.whoBenefits).toEqual([{ organisationCode: 'WEST-YORKSHIRE-ICB', pvPence: 237_039, cashablePvPence: 142_224 }]);
      expect(r.body.sensitivity.map((s: { scenario: string }) => s.scenario)).toEqual([
        'optimism-bias-removed',
        'one-grade-worse',
        'impact-20-percent-lower',
        'lag-one-year-longer',
      ]);
      expect(r.body.sensitivity[3].fiscalNpvPence).toBe(229_024 - 1_000_000_00);
    });

    it('points at every new field that is wrong, at the schema or against another field', async () => {
      const body = simpleCase(roundId, { title: 'Bad lines' });
      body.benefits = [
        line({ need: { '2026-27': 5 } }),
        line({ volumes: undefined, need: { '2026-27': 5 } }),
        line({ engagementBasisPoints: 5_000 }),
        line({ cashable: true, cashableBasisPoints: 5_000 }),
        line({ type: 'social', beneficiaryCode: null, cashable: undefined, cashableBasisPoints: 5_000 }),
      ];
      const r = await t.request('POST', '/api/v1/cases', { token: bradford, body });
      expect(r.status).toBe(400);
      expect(pointers(r.body)).toEqual([
        '/benefits/0/need',
        '/benefits/1/engagementBasisPoints',
        '/benefits/2/engagementBasisPoints',
        '/benefits/3/cashable',
        '/benefits/4/cashableBasisPoints',
      ]);
      body.benefits = [
        line({ lagYears: 11 }),
        line({ dropOffBasisPoints: 10_001 }),
        line({ displacementBasisPoints: -1 }),
        line({ lagYears: 1.5 }),
        line({ volumes: undefined, need: { '2026-27': 5 }, engagementBasisPoints: 10_001 }),
      ];
      const schema = await t.request('POST', '/api/v1/cases', { token: bradford, body });
      expect(schema.status).toBe(400);
      expect(pointers(schema.body)).toEqual([
        '/benefits/0/lagYears',
        '/benefits/1/dropOffBasisPoints',
        '/benefits/2/displacementBasisPoints',
        '/benefits/3/lagYears',
        '/benefits/4/engagementBasisPoints',
      ]);
    });

    it('takes a partly cashable line back as the API reports it (cashable false beside its share)', async () => {
      const body = simpleCase(roundId, { title: 'Round trip' });
      body.benefits = [
        line({ cashable: undefined, cashableBasisPoints: 5_000, lagYears: 1, dropOffBasisPoints: 1_000, persistenceYears: 3 }),
      ];
      const draft = await draftCase(t, bradford, body);
      const read = await t.request('GET', `/api/v1/cases/${draft.id}`, { token: bradford });
      expect(read.body.benefits[0]).toMatchObject({ cashable: false, cashableBasisPoints: 5_000 });
      const back: Record<string, unknown> = {};
      for (const k of Object.keys(body)) back[k] = read.body[k];
      const put = await t.request('PUT', `/api/v1/cases/${draft.id}`, { token: bradford, body: back });
      expect(put.status).toBe(200);
      expect(put.body.benefits[0]).toMatchObject({ cashable: false, cashableBasisPoints: 5_000 });
      // cashable still has to agree with the share: a wholly cashable share is not "false", a half share not "true".
      for (const [cashable, share] of [
        [false, 10_000],
        [true, 5_000],
        [true, 0],
      ] as const) {
        back.benefits = [line({ cashable, cashableBasisPoints: share })];
        const refused = await t.request('PUT', `/api/v1/cases/${draft.id}`, { token: bradford, body: back });
        expect(refused.status).toBe(400);
        expect(pointers(refused.body)).toEqual(['/benefits/0/cashable']);
      }
    });

    it('gives the hand-worked figures of a small case with every new field, to the penny', async () => {
      // need 3 then 7 at 33.33% engagement, £100.01 a unit, impact 77.77%, deadweight 12.34%, displacement 5%,
      // lag 1, drop-off 25% a year over 3 years, 33.33% cashable; £10,000 of costs in the base year; 3.5% a year.
      // Worked with exact fractions: PV fiscal 45,814.5439… → 45,815; cashable 15,270.0…; years 0, 6,257,
      // 18,641, 13,508, 7,408; one grade worse 47,526.5… − 1,050,000 → −1,006,476 (rounded once).
      const body = {
        ...simpleCase(roundId, { title: 'Hand-worked' }),
        matchFundingPence: 0,
        costs: [{ year: '2026-27', kind: 'revenue', payerCode: 'BRADFORD', amountPence: 1_000_000, confidenceGrade: 1 }],
        benefits: [
          line({
            volumes: undefined,
            need: { '2026-27': 3, '2027-28': 7 },
            engagementBasisPoints: 3_333,
            cashable: undefined,
            cashableBasisPoints: 3_333,
            unitValuePence: 10_001,
            impactBasisPoints: 7_777,
            deadweightBasisPoints: 1_234,
            displacementBasisPoints: 500,
            lagYears: 1,
            dropOffBasisPoints: 2_500,
            persistenceYears: 3,
          }),
        ],
      };
      const r = await appraisal((await draftCase(t, bradford, body)).id);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ pvCostsPence: 1_000_000, fiscalNpvPence: -954_185, bcr: 0.0458, vfmBand: 'poor' });
      expect(r.body.pvBenefitsPence.fiscal).toBe(45_815);
      expect(r.body.whoBenefits).toEqual([{ organisationCode: 'WEST-YORKSHIRE-ICB', pvPence: 45_815, cashablePvPence: 15_270 }]);
      expect(r.body.years.map((y: { pvFiscalBenefitsPence: number }) => y.pvFiscalBenefitsPence)).toEqual([
        0, 6_257, 18_641, 13_508, 7_408,
      ]);
      expect(r.body.sensitivity.map((s: { fiscalNpvPence: number }) => s.fiscalNpvPence)).toEqual([
        -954_185, -1_006_476, -963_348, -955_735,
      ]);
      expect(r.body.switchingValues[0].switchingValue).toBe('45814.5439');
      // Half-even at the penny: half of one engaged person at 5p is exactly 2.5p → 2p; at 7p, 3.5p → 4p.
      for (const [unit, pence] of [
        [5, 2],
        [7, 4],
      ]) {
        const half = {
          ...body,
          title: `Half a penny at ${unit}p`,
          benefits: [line({ volumes: undefined, need: { '2026-27': 1 }, engagementBasisPoints: 5_000, unitValuePence: unit })],
        };
        const h = await appraisal((await draftCase(t, bradford, half)).id);
        expect(h.body.pvBenefitsPence.fiscal).toBe(pence);
      }
    });
  });

  describe('re-appraisal under another parameter vintage', () => {
    let a: string;
    let b: string;
    beforeAll(async () => {
      a = (await draftCase(t, bradford, caseWithBcr(roundId, 2, 'Case A'))).id;
      const caseB = caseWithBcr(roundId, 2.1, 'Case B');
      caseB.benefits[0].confidenceGrade = 2; // 2.1 × 95% = 1.995 under 2014.1; 2.1 under test-2
      b = (await draftCase(t, bradford, caseB)).id;
      await submit(t, bradford, a);
      await submit(t, bradford, b);
    });

    it('under the stored vintage: the same figures and a zero difference', async () => {
      const stored = (await appraisal(a)).body;
      const r = await appraisal(a, '?parameterSet=local-partnerships-cba@2014.1');
      expect(r.status).toBe(200);
      const { reappraisal, stored: _s, computedAt: _c, ...figures } = r.body;
      const { stored: _s2, computedAt: _c2, ...storedFigures } = stored;
      expect(figures).toEqual(storedFigures);
      expect(reappraisal).toEqual({
        parameterSet: { name: 'local-partnerships-cba', version: '2014.1', provisional: true },
        comparedWith: { parameterSet: stored.parameterSet, stored: true, computedAt: stored.computedAt },
        difference: {
          pvCostsPence: 0,
          pvBenefitsPence: { fiscal: 0, economic: 0, social: 0 },
          fiscalNpvPence: 0,
          publicValueNpvPence: 0,
          fiscalRoi: { from: 2, to: 2 },
          bcr: { from: 2, to: 2 },
          vfmBand: { from: 'high', to: 'high' },
          paybackYear: { from: '2026-27', to: '2026-27' },
        },
      });
    });

    it('under a later vintage: the difference, while the stored appraisal never changes', async () => {
      const before = (await appraisal(a)).body;
      const r = await appraisal(a, '?parameterSet=local-partnerships-cba@test-2', panel);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ stored: false, pvCostsPence: 1_100_000_00, bcr: 1.8182, vfmBand: 'medium' });
      expect(r.body.reappraisal.difference).toMatchObject({
        pvCostsPence: 100_000_00,
        fiscalNpvPence: -100_000_00,
        bcr: { from: 2, to: 1.8182 },
        vfmBand: { from: 'high', to: 'medium' },
      });
      expect((await appraisal(a)).body).toEqual(before);
    });

    it('compares a draft with its appraisal under its round’s set, computed now', async () => {
      const draft = await draftCase(t, bradford, caseWithBcr(roundId, 1, 'Draft C'));
      const r = await appraisal(draft.id, '?parameterSet=local-partnerships-cba@test-2');
      expect(r.body.reappraisal.comparedWith).toEqual({
        parameterSet: { name: 'local-partnerships-cba', version: '2014.1', provisional: true },
        stored: false,
        computedAt: null,
      });
      expect(r.body.reappraisal.difference.pvCostsPence).toBe(100_000_00);
    });

    it("lists every submitted case's change in NPV, BCR, band and rank for a round", async () => {
      const r = await t.request('GET', `/api/v1/rounds/${roundId}/reappraisal?parameterSet=local-partnerships-cba@test-2`, {
        token: panel,
      });
      expect(r.status).toBe(200);
      expect(r.body.parameterSet).toEqual({ name: 'local-partnerships-cba', version: 'test-2', provisional: true });
      const rows = Object.fromEntries(r.body.cases.map((c: { title: string }) => [c.title, c]));
      expect(Object.keys(rows).sort()).toEqual(['Case A', 'Case B']);
      expect(rows['Case A']).toMatchObject({
        stored: { bcr: 2, vfmBand: 'high', rank: 1, parameterSet: { name: 'local-partnerships-cba', version: '2014.1' } },
        reappraised: { bcr: 1.8182, vfmBand: 'medium', rank: 2 },
        change: { fiscalNpvPence: -100_000_00, rank: 1 },
      });
      expect(rows['Case B']).toMatchObject({
        stored: { bcr: 1.995, vfmBand: 'medium', rank: 2 },
        reappraised: { bcr: 1.9091, vfmBand: 'medium', rank: 1 },
        change: { rank: -1 },
      });
    });

    it('refuses a malformed, unknown or missing parameter set, naming the parameter; an unknown round is 404', async () => {
      for (const query of ['?parameterSet=nonsense', '?parameterSet=local-partnerships-cba@9999']) {
        const r = await appraisal(a, query);
        expect(r.status, query).toBe(400);
        expect(r.body.errors[0].parameter).toBe('parameterSet');
      }
      const missing = await t.request('GET', `/api/v1/rounds/${roundId}/reappraisal`, { token: panel });
      expect(missing.status).toBe(400);
      expect(missing.body.errors[0].parameter).toBe('parameterSet');
      const unknown = await t.request('GET', '/api/v1/rounds/no-such-round/reappraisal?parameterSet=local-partnerships-cba@test-2', {
        token: panel,
      });
      expect(unknown.status).toBe(404);
      // Another council still cannot see the case, re-appraised or not.
      expect((await appraisal(a, '?parameterSet=local-partnerships-cba@test-2', council2)).status).toBe(404);
    });
  });
});
