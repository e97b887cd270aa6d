import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CaseBody, draftCase, NARRATIVE, simpleCase } from '../support/cases.ts';
import { engines } from '../support/db.ts';
import {
  approvedCase,
  at,
  expectInvalid,
  expectProblem,
  get,
  START,
  submitted,
  terminate,
  type World,
  world,
} from '../support/releases.ts';

/*
 * The benefits register (src/benefits/benefits.ts) through the API: reports, verification and
 * rejection by the beneficiary department (or treasury), forecast revisions, the register's
 * values, variance and RAG, and the realised-benefits view with its filters and totals.
 *
 * Every line below is stated at base-year prices, grade 1, 100% impact, no deadweight and one
 * year's persistence, so its appraised value in a year is exactly volume × unit value.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON replies
type Json = any;

const line = (over: Record<string, unknown>) => ({
  type: 'fiscal',
  cashable: true,
  unitValuePence: 100_00,
  priceYear: '2026-27',
  source: 'Local tariff, stated at 2026-27 prices',
  impactBasisPoints: 10_000,
  deadweightBasisPoints: 0,
  persistenceYears: 1,
  confidenceGrade: 1,
  ...over,
});

/**
 * Bradford, offenders. Line 0: West Yorkshire ICB (→ DHSC), cashable, £1,000,000 in 2026-27.
 * Line 1: DWP itself, not cashable, £200,000 in 2026-27 and £300,000 in 2027-28.
 * Line 2: nobody in particular (economic), not cashable, £10,000 in 2026-27.
 */
function bradfordBody(roundId: string, title = 'Bradford benefits'): CaseBody {
  return {
    ...simpleCase(roundId, { leadPence: 500_000_00, matchPence: 60_000_00, title }),
    benefits: [
      line({ outcome: 'A&E attendances avoided', beneficiaryCode: 'WEST-YORKSHIRE-ICB', volumes: { '2026-27': 10_000 } }),
      line({
        outcome: 'Benefit claims avoided',
        beneficiaryCode: 'DWP',
        cashable: false,
        unitValuePence: 50_00,
        volumes: { '2026-27': 4_000, '2027-28': 6_000 },
      }),
      line({
        outcome: 'Wellbeing',
        beneficiaryCode: null,
        type: 'economic',
        cashable: false,
        unitValuePence: 10_00,
        volumes: { '2026-27': 1_000 },
      }),
    ],
  };
}

/** Lewisham, alcohol and drugs. Line 0: MoJ itself, £500,000; line 1: an NHS trust (→ DHSC), £200,000; both 2026-27. */
function lewishamBody(roundId: string): CaseBody {
  return {
    roundId,
    title: 'Lewisham rehab pathway',
    placeCode: 'LEWISHAM',
    theme: 'alcohol-and-drugs',
    partnerCodes: ['PROBATION-LONDON', 'LEWISHAM-GREENWICH-NHS'],
    matchFundingPence: 40_000_00,
    baseYear: '2026-27',
    narrative: { ...NARRATIVE },
    costs: [
      { year: '2026-27', kind: 'revenue', payerCode: 'LEWISHAM', amountPence: 300_000_00, confidenceGrade: 1 },
      { year: '2026-27', kind: 'revenue', payerCode: 'PROBATION-LONDON', amountPence: 40_000_00, confidenceGrade: 1 },
    ],
    benefits: [
      line({ outcome: 'Custody days avoided', beneficiaryCode: 'MOJ', volumes: { '2026-27': 5_000 } }),
      line({ outcome: 'Admissions avoided', beneficiaryCode: 'LEWISHAM-GREENWICH-NHS', volumes: { '2026-27': 2_000 } }),
    ],
  };
}

describe.each(engines())('the benefits register on %s', (engine) => {
  let w: World;
  let bradford: string;
  let lewisham: string;
  let submittedId: string;
  let draftId: string;
  beforeAll(async () => {
    w = await world(engine);
    bradford = await approvedCase(w, { body: bradfordBody(w.roundId) });
    lewisham = await approvedCase(w, { body: lewishamBody(w.roundId), token: w.tokens.lewisham });
    submittedId = await submitted(w, bradfordBody(w.roundId, 'Submitted, not decided'));
    draftId = (await draftCase(w.t, w.tokens.bradford, bradfordBody(w.roundId, 'Still a draft'))).id;
  });
  afterAll(() => w.t.destroy());

  const report = (id: string, body: Record<string, unknown>, token = w.tokens.bradford) =>
    w.t.request('POST', `/api/v1/cases/${id}/benefit-reports`, {
      token,
      body: { benefitLineIndex: 0, year: '2026-27', claimedPence: 1_000_00, evidence: 'Hospital episode statistics extract.', ...body },
    });
  const verify = (id: string, token?: string) => w.t.request('POST', `/api/v1/benefit-reports/${id}/verify`, { token, body: {} });
  const reject = (id: string, token?: string, body: unknown = { reason: 'The extract does not cover the cohort.' }) =>
    w.t.request('POST', `/api/v1/benefit-reports/${id}/reject`, { token, body });
  const forecast = (id: string, body: Record<string, unknown>, token = w.tokens.bradford) =>
    w.t.request('POST', `/api/v1/cases/${id}/benefit-forecasts`, {
      token,
      body: { benefitLineIndex: 0, year: '2026-27', reason: 'Slower mobilisation than planned.', ...body },
    });
  const register = (id: string, token?: string) => get(w, `/cases/${id}/benefits`, token);
  const row = async (id: string, lineIndex: number, year = '2026-27', token?: string) =>
    (await register(id, token)).find((r: Json) => r.benefitLineIndex === lineIndex && r.year === year);

  describe('the register of an approved case', () => {
    it('holds each line and year the appraisal expects, with the forecast equal to it and nothing reported', async () => {
      const rows = await register(bradford);
      expect(rows.map((r: Json) => [r.benefitLineIndex, r.year, r.appraisedPence, r.forecastPence])).toEqual([
        [0, '2026-27', 1_000_000_00, 1_000_000_00],
        [1, '2026-27', 200_000_00, 200_000_00],
        [1, '2027-28', 300_000_00, 300_000_00],
        [2, '2026-27', 10_000_00, 10_000_00],
      ]);
      expect(rows[0]).toEqual({
        caseId: bradford,
        reference: expect.stringMatching(/^TP-2026-27-/),
        placeCode: 'BRADFORD',
        theme: 'offenders',
        benefitLineIndex: 0,
        outcome: 'A&E attendances avoided',
        type: 'fiscal',
        cashable: true,
        beneficiaryCode: 'WEST-YORKSHIRE-ICB',
        departmentCode: 'DHSC',
        year: '2026-27',
        appraisedPence: 1_000_000_00,
        forecastPence: 1_000_000_00,
        forecastReason: null,
        claimedPence: 0,
        verifiedPence: 0,
        verificationReason: null,
        variancePence: -1_000_000_00,
        rag: 'not-due',
        reportId: null,
        reportStatus: null,
      });
      expect(rows.map((r: Json) => [r.departmentCode, r.cashable])).toEqual([
        ['DHSC', true],
        ['DWP', false],
        ['DWP', false],
        [null, false],
      ]);
      // The council, treasury and the departments the case names read it; another council does not.
      for (const token of [w.tokens.bradford, w.tokens.dhsc, w.tokens.dwp, w.tokens.alice, w.tokens.auditor]) {
        expect((await w.t.request('GET', `/api/v1/cases/${bradford}/benefits`, { token })).status).toBe(200);
      }
      expectProblem(await w.t.request('GET', `/api/v1/cases/${bradford}/benefits`, { token: w.tokens.lewisham }), 404, 'case-not-found');
      expectProblem(await w.t.request('GET', `/api/v1/cases/${bradford}/benefits`, { token: w.tokens.ho }), 404, 'case-not-found');
    });
  });

  describe('reports', () => {
    it('are taken only from the lead council, on an approved case', async () => {
      expectProblem(await report(bradford, {}, w.tokens.lewisham), 404, 'case-not-found');
      expectProblem(await report(submittedId, {}), 409, 'case-not-approved');
      expectProblem(await report(draftId, {}), 409, 'case-not-approved');
      expectProblem(await report('00000000-0000-4000-8000-000000000000', {}), 404, 'case-not-found');
      expect((await register(bradford)).every((r: Json) => r.reportId === null)).toBe(true);
    });

    it('refuse a year not yet started, before the base year or not a year, and a line the case lacks', async () => {
      const future = await report(bradford, { year: '2027-28' });
      expectInvalid(future, ['/year']);
      expect(future.body.errors[0].detail).toContain('not started');
      expectInvalid(await report(bradford, { year: '2025-26' }), ['/year']);
      expectInvalid(await report(bradford, { year: '2026-28' }), ['/year']);
      expectInvalid(await report(bradford, { year: '26-27' }), ['/year']);
      const noLine = await report(bradford, { benefitLineIndex: 3 });
      expectInvalid(noLine, ['/benefitLineIndex']);
      expect(noLine.body.errors[0].detail).toContain('0 to 2');
      expectInvalid(await report(bradford, { benefitLineIndex: 7, year: '2030-31' }), ['/benefitLineIndex', '/year']);
      // From the day 2027-28 starts, it can be reported (tested on a line nobody else uses).
      expect((await at(w, '2027-04-01T00:00:00Z', () => report(lewisham, { year: '2027-28' }, w.tokens.lewisham))).status).toBe(201);
    });

    it('validate their body, pointing at each field', async () => {
      expectInvalid(await report(bradford, { claimedPence: -1 }), ['/claimedPence']);
      expectInvalid(await report(bradford, { claimedPence: 10.5 }), ['/claimedPence']);
      expectInvalid(await report(bradford, { claimedPence: '100' }), ['/claimedPence']);
      expectInvalid(await report(bradford, { evidence: 'trust me' }), ['/evidence']);
      expectInvalid(await report(bradford, { benefitLineIndex: -1 }), ['/benefitLineIndex']);
      expectInvalid(await report(bradford, { benefitLineIndex: 0.5 }), ['/benefitLineIndex']);
      expectInvalid(await report(bradford, { year: 2026 }), ['/year']);
      expectInvalid(await report(bradford, { verifiedPence: 5 }), ['/verifiedPence']);
      expectInvalid(await w.t.request('POST', `/api/v1/cases/${bradford}/benefit-reports`, { token: w.tokens.bradford, body: {} }), [
        '/benefitLineIndex',
        '/claimedPence',
        '/evidence',
        '/year',
      ]);
      expectInvalid(await report('nope', {}), ['id']);
      expect((await register(bradford)).every((r: Json) => r.reportId === null)).toBe(true);
    });

    it('are verified by the department a partner body answers to, once; another department cannot', async () => {
      const r = await report(bradford, { claimedPence: 950_000_00, evidence: '  SUS extract for the cohort, Apr–Sep.  ' });
      expect(r.status, r.text).toBe(201);
      expect(r.body).toEqual({
        id: expect.any(String),
        caseId: bradford,
        benefitLineIndex: 0,
        year: '2026-27',
        beneficiaryCode: 'WEST-YORKSHIRE-ICB',
        claimedPence: 950_000_00,
        evidence: 'SUS extract for the cohort, Apr–Sep.',
        status: 'pending',
        reportedBy: w.ids.bradford,
        reportedAt: START.toISOString(),
        verifiedPence: null,
        reviewedBy: null,
        reviewedAt: null,
        rejectionReason: null,
        verificationReason: null,
      });
      const id = r.body.id;
      expectProblem(await report(bradford, { claimedPence: 1 }, w.tokens.bradford2), 409, 'benefit-already-reported');
      expect(await row(bradford, 0)).toMatchObject({
        claimedPence: 950_000_00,
        verifiedPence: 0,
        rag: 'amber',
        reportId: id,
        reportStatus: 'pending',
      });
      for (const token of [w.tokens.bradford, w.tokens.dhsc, w.tokens.auditor]) {
        expect((await w.t.request('GET', `/api/v1/benefit-reports/${id}`, { token })).body).toMatchObject({ id, status: 'pending' });
      }
      expectProblem(await w.t.request('GET', `/api/v1/benefit-reports/${id}`, { token: w.tokens.lewisham }), 404, 'case-not-found');

      for (const token of [w.tokens.dwp, w.tokens.moj, w.tokens.ho]) {
        expectProblem(await verify(id, token), 403, 'forbidden');
        expectProblem(await reject(id, token), 403, 'forbidden');
      }
      for (const token of [w.tokens.bradford, w.tokens.alice]) expectProblem(await verify(id, token), 403, 'forbidden');
      const v = await verify(id, w.tokens.dhsc);
      expect(v.status, v.text).toBe(200);
      expect(v.body).toMatchObject({
        id,
        status: 'verified',
        verifiedPence: 950_000_00,
        reviewedBy: w.ids.dhsc,
        reviewedAt: START.toISOString(),
      });
      expectProblem(await verify(id, w.tokens.dhsc), 409, 'benefit-report-reviewed');
      expectProblem(await verify(id), 409, 'benefit-report-reviewed');
      expectProblem(await reject(id, w.tokens.dhsc), 409, 'benefit-report-reviewed');
      expectProblem(await report(bradford, { claimedPence: 1 }), 409, 'benefit-already-reported');
      // 950,000 of 1,000,000 is 95%: green.
      expect(await row(bradford, 0)).toMatchObject({
        appraisedPence: 1_000_000_00,
        forecastPence: 1_000_000_00,
        claimedPence: 950_000_00,
        verifiedPence: 950_000_00,
        variancePence: -50_000_00,
        rag: 'green',
        reportStatus: 'verified',
      });
      expectProblem(await verify('00000000-0000-4000-8000-000000000000'), 404, 'benefit-report-not-found');
    });

    it('are verified by the beneficiary department itself, and by treasury where no department is named', async () => {
      const dwpLine = await report(bradford, { benefitLineIndex: 1, claimedPence: 140_000_00 });
      expect(dwpLine.status, dwpLine.text).toBe(201);
      expect(dwpLine.body.beneficiaryCode).toBe('DWP');
      expectProblem(await verify(dwpLine.body.id, w.tokens.dhsc), 403, 'forbidden');
      expect((await verify(dwpLine.body.id, w.tokens.dwp)).body).toMatchObject({ status: 'verified', reviewedBy: w.ids.dwp });
      // Exactly 70% of forecast: amber.
      expect(await row(bradford, 1)).toMatchObject({ verifiedPence: 140_000_00, variancePence: -60_000_00, rag: 'amber' });

      const economic = await report(bradford, { benefitLineIndex: 2, claimedPence: 6_999_99 });
      expect(economic.status, economic.text).toBe(201);
      expect(economic.body.beneficiaryCode).toBeNull();
      for (const token of [w.tokens.dhsc, w.tokens.dwp]) expectProblem(await verify(economic.body.id, token), 403, 'forbidden');
      expect((await verify(economic.body.id)).body).toMatchObject({ status: 'verified', reviewedBy: w.ids.treasury });
      // Just under 70%: red.
      expect(await row(bradford, 2)).toMatchObject({ verifiedPence: 6_999_99, variancePence: -3_000_01, rag: 'red' });
    });

    it('can be rejected with a reason, after which a new report may be filed', async () => {
      const r = await report(lewisham, { claimedPence: 100_000_00 }, w.tokens.lewisham);
      expect(r.status, r.text).toBe(201);
      const id = r.body.id;
      expectInvalid(await reject(id, w.tokens.moj, {}), ['/reason']);
      expectInvalid(await reject(id, w.tokens.moj, { reason: '   ' }), ['/reason']);
      expectInvalid(await reject(id, w.tokens.moj, { reason: 'No.', extra: 1 }), ['/extra']);
      expectInvalid(await reject('nope', w.tokens.moj), ['id']);
      expectProblem(await reject(id, w.tokens.dhsc), 403, 'forbidden');
      const no = await reject(id, w.tokens.moj, { reason: 'Custody figures are not for the cohort.' });
      expect(no.status, no.text).toBe(200);
      expect(no.body).toMatchObject({
        status: 'rejected',
        rejectionReason: 'Custody figures are not for the cohort.',
        verifiedPence: null,
        reviewedBy: w.ids.moj,
      });
      expectProblem(await verify(id, w.tokens.moj), 409, 'benefit-report-reviewed');
      expectProblem(await reject(id, w.tokens.moj), 409, 'benefit-report-reviewed');
      expect(await row(lewisham, 0, '2026-27', w.tokens.lewisham)).toMatchObject({
        claimedPence: 0,
        verifiedPence: 0,
        rag: 'red',
        reportId: id,
        reportStatus: 'rejected',
      });

      const again = await at(w, '2026-06-01T09:05:00Z', () =>
        report(lewisham, { claimedPence: 460_000_00, evidence: 'Custody records matched to the cohort.' }, w.tokens.lewisham),
      );
      expect(again.status, again.text).toBe(201);
      expect(await row(lewisham, 0, '2026-27', w.tokens.moj)).toMatchObject({
        claimedPence: 460_000_00,
        verifiedPence: 0,
        reportId: again.body.id,
        reportStatus: 'pending',
        rag: 'amber',
      });
      expectProblem(await report(lewisham, {}, w.tokens.lewisham), 409, 'benefit-already-reported');
      expect((await verify(again.body.id, w.tokens.moj)).status).toBe(200);
      // 460,000 of 500,000 is 92%: green.
      expect(await row(lewisham, 0)).toMatchObject({ verifiedPence: 460_000_00, variancePence: -40_000_00, rag: 'green' });
    });

    it('are verified in part: an amount up to the claim with a reason, shown against the claim; never corrected afterwards', async () => {
      // A £7,000.00 claim on line 0 (West Yorkshire ICB, answering to DHSC; £1,000,000 appraised).
      const partCase = await approvedCase(w, { body: bradfordBody(w.roundId, 'Verified in part') });
      const r = await report(partCase, { claimedPence: 700_000 });
      expect(r.status, r.text).toBe(201);
      const id = r.body.id;
      const partly = (body: unknown, token = w.tokens.dhsc) => w.t.request('POST', `/api/v1/benefit-reports/${id}/verify`, { token, body });
      // The body is read, not ignored: £5,000.00 of £7,000.00 needs a reason.
      expectInvalid(await partly({ verifiedPence: 500_000 }), ['/reason']);
      expectInvalid(await partly({ verifiedPence: 5000.5, reason: 'Part.' }), ['/verifiedPence']);
      expectInvalid(await partly({ verifiedPence: '500000', reason: 'Part.' }), ['/verifiedPence']);
      expectInvalid(await partly({ verifiedPence: 700_001, reason: 'More than claimed.' }), ['/verifiedPence']);
      expectInvalid(await partly({ verifiedPence: 0, reason: 'Nothing.' }), ['/verifiedPence']);
      expectInvalid(await partly({ verifiedPence: 2 ** 53, reason: 'Unsafe.' }), ['/verifiedPence']);
      expectInvalid(await partly({ verifiedPence: 500_000, reason: 'Part.', approved: true }), ['/approved']);
      expectInvalid(await partly({ verifiedPence: 500_000, reason: '   ' }), ['/reason']);
      expect((await w.t.request('GET', `/api/v1/benefit-reports/${id}`)).body.status).toBe('pending');

      const reason = 'Two of the seven months are outside the cohort period.';
      const v = await partly({ verifiedPence: 500_000, reason });
      expect(v.status, v.text).toBe(200);
      expect(v.body).toMatchObject({
        status: 'verified',
        claimedPence: 700_000,
        verifiedPence: 500_000,
        verificationReason: reason,
        reviewedBy: w.ids.dhsc,
      });
      expect(await row(partCase, 0)).toMatchObject({
        claimedPence: 700_000,
        verifiedPence: 500_000,
        verificationReason: reason,
        variancePence: 500_000 - 1_000_000_00,
        rag: 'red',
        reportStatus: 'verified',
      });
      const audit = (await w.t.request('GET', '/api/v1/audit-log?limit=500')).body.entries as Json[];
      expect(audit.find((e) => e.subject === `benefit-report/${id}` && e.action === 'benefit.verified')?.detail).toEqual({
        claimedPence: '700000',
        verifiedPence: '500000',
        reason,
      });
      // A review is final: neither a second verification nor a correction of the amount.
      expectProblem(await partly({ verifiedPence: 600_000, reason: 'Corrected.' }), 409, 'benefit-report-reviewed');
      expectProblem(await partly({}), 409, 'benefit-report-reviewed');
      expect((await w.t.request('GET', `/api/v1/benefit-reports/${id}`)).body.verifiedPence).toBe(500_000);
    });

    it('are verified in full by a bare POST with no body, and by the whole claim stated without a reason', async () => {
      const fullCase = await approvedCase(w, { body: bradfordBody(w.roundId, 'Verified in full') });
      const bare = await report(fullCase, { benefitLineIndex: 1, claimedPence: 150_000_00 });
      expect(bare.status, bare.text).toBe(201);
      // No Content-Type, no body at all: the action takes no required input.
      const v = await w.t.request('POST', `/api/v1/benefit-reports/${bare.body.id}/verify`, { token: w.tokens.dwp });
      expect(v.status, v.text).toBe(200);
      expect(v.body).toMatchObject({ verifiedPence: 150_000_00, verificationReason: null });
      const whole = await report(fullCase, { claimedPence: 3_00 });
      expect(whole.status, whole.text).toBe(201);
      const stated = await w.t.request('POST', `/api/v1/benefit-reports/${whole.body.id}/verify`, {
        token: w.tokens.dhsc,
        body: { verifiedPence: 3_00 },
      });
      expect(stated.status, stated.text).toBe(200);
      expect(stated.body).toMatchObject({ claimedPence: 3_00, verifiedPence: 3_00, verificationReason: null });
    });

    it('show a claim awaiting verification as amber, however small', async () => {
      // The documented rule: amber when "a claim awaits verification"; red only when verified is
      // under 70%, the latest report was rejected, or the year ended with nothing reported.
      const r = await report(lewisham, { benefitLineIndex: 1, claimedPence: 20_000_00 }, w.tokens.lewisham);
      expect(r.status, r.text).toBe(201);
      expect(await row(lewisham, 1)).toMatchObject({ claimedPence: 20_000_00, verifiedPence: 0, reportStatus: 'pending', rag: 'amber' });
    });

    it('decide the row by the latest report, even when a rejection and the next report share an instant', async () => {
      // The test clock stands still: reject and re-file each line several times at the same instant.
      const id = await approvedCase(w, { body: bradfordBody(w.roundId, 'Same-instant reports') });
      const finals: Record<number, string> = {};
      for (const lineIndex of [0, 1, 2]) {
        for (let i = 0; i < 4; i++) {
          const r = await report(id, { benefitLineIndex: lineIndex, claimedPence: 1_00 + i });
          expect(r.status, r.text).toBe(201);
          expect((await reject(r.body.id)).status).toBe(200);
        }
        const last = await report(id, { benefitLineIndex: lineIndex, claimedPence: 5_000_00 });
        expect(last.status, last.text).toBe(201);
        finals[lineIndex] = last.body.id;
      }
      const rows = (await register(id)).filter((r: Json) => r.year === '2026-27');
      expect(rows.map((r: Json) => [r.benefitLineIndex, r.reportId, r.reportStatus, r.claimedPence])).toEqual([
        [0, finals[0], 'pending', 5_000_00],
        [1, finals[1], 'pending', 5_000_00],
        [2, finals[2], 'pending', 5_000_00],
      ]);
    });
  });

  describe('forecasts and RAG', () => {
    it('take a revision with a reason, which changes the forecast, the variance and the RAG', async () => {
      // Verified 950,000 on line 0 (see above).
      const up = await forecast(bradford, { forecastPence: 1_200_000_00 });
      expect(up.status, up.text).toBe(200);
      expect(up.body).toMatchObject({
        benefitLineIndex: 0,
        year: '2026-27',
        appraisedPence: 1_000_000_00,
        forecastPence: 1_200_000_00,
        forecastReason: 'Slower mobilisation than planned.',
        verifiedPence: 950_000_00,
        variancePence: -250_000_00,
        rag: 'amber',
      });
      expect(await row(bradford, 0, '2026-27', w.tokens.dhsc)).toMatchObject({ forecastPence: 1_200_000_00, rag: 'amber' });
      // Green at exactly 90%: 950,000 ≥ 90% of 1,055,555.55; not of 1,055,555.56.
      expect((await forecast(bradford, { forecastPence: 1_055_555_55 })).body.rag).toBe('green');
      expect((await forecast(bradford, { forecastPence: 1_055_555_56 })).body.rag).toBe('amber');
      // Amber down to 70%: 950,000 ≥ 70% of 1,357,142.85; not of 1,357,142.86.
      expect((await forecast(bradford, { forecastPence: 1_357_142_85 })).body.rag).toBe('amber');
      expect((await forecast(bradford, { forecastPence: 1_357_142_86 })).body).toMatchObject({ rag: 'red', variancePence: -407_142_86 });
      // A zero forecast is green once something is verified.
      expect((await forecast(bradford, { forecastPence: 0, reason: 'Service withdrawn.' })).body).toMatchObject({
        forecastPence: 0,
        forecastReason: 'Service withdrawn.',
        variancePence: 950_000_00,
        rag: 'green',
      });
      const back = await forecast(bradford, { forecastPence: 1_000_000_00, reason: 'Back on plan.' });
      expect(back.body).toMatchObject({ forecastPence: 1_000_000_00, rag: 'green' });
      const rows = await register(bradford);
      expect(rows.filter((r: Json) => r.benefitLineIndex === 0 && r.year === '2026-27')).toHaveLength(1);
    });

    it('take a forecast for a later year the appraisal did not expect, as a new row not yet due', async () => {
      const r = await forecast(bradford, { benefitLineIndex: 1, year: '2028-29', forecastPence: 75_000_00, reason: 'Cohort two.' });
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({ appraisedPence: 0, forecastPence: 75_000_00, claimedPence: 0, rag: 'not-due' });
      const years = (await register(bradford)).filter((x: Json) => x.benefitLineIndex === 1).map((x: Json) => x.year);
      expect(years).toEqual(['2026-27', '2027-28', '2028-29']);
    });

    it('refuse bad revisions, pointing at each field', async () => {
      expectInvalid(await forecast(bradford, { forecastPence: 1, reason: '' }), ['/reason']);
      expectInvalid(await forecast(bradford, { forecastPence: -1 }), ['/forecastPence']);
      expectInvalid(await forecast(bradford, { forecastPence: 1.5 }), ['/forecastPence']);
      expectInvalid(await forecast(bradford, { forecastPence: 1, benefitLineIndex: 9 }), ['/benefitLineIndex']);
      expectInvalid(await forecast(bradford, { forecastPence: 1, year: '2020-21' }), ['/year']);
      expectInvalid(await forecast(bradford, { forecastPence: 1, year: 'next' }), ['/year']);
      expectInvalid(await forecast(bradford, { forecastPence: 1, colour: 'green' }), ['/colour']);
      expectProblem(await forecast(bradford, { forecastPence: 1 }, w.tokens.lewisham), 404, 'case-not-found');
      expectProblem(await forecast(submittedId, { forecastPence: 1 }), 409, 'case-not-approved');
      expect((await row(bradford, 0)).forecastPence).toBe(1_000_000_00);
    });

    it('turn an unreported year red once it has ended, and leave it not due until then', async () => {
      expect((await row(bradford, 1, '2027-28')).rag).toBe('not-due');
      expect((await at(w, '2028-03-31T12:00:00Z', () => row(bradford, 1, '2027-28'))).rag).toBe('not-due');
      expect((await at(w, '2028-04-01T00:00:00Z', () => row(bradford, 1, '2027-28'))).rag).toBe('red');
      // A verified year keeps its colour after it ends.
      expect((await at(w, '2028-04-01T00:00:00Z', () => row(bradford, 0))).rag).toBe('green');
    });
  });

  describe('realised benefits (GET /benefits)', () => {
    const sums = (rows: Json[]) => ({
      appraisedPence: rows.reduce((s, r) => s + r.appraisedPence, 0),
      forecastPence: rows.reduce((s, r) => s + r.forecastPence, 0),
      claimedPence: rows.reduce((s, r) => s + r.claimedPence, 0),
      verifiedPence: rows.reduce((s, r) => s + r.verifiedPence, 0),
    });
    const view = async (query = '', token?: string) => {
      const r = await get(w, `/benefits${query}`, token);
      expect(r.totals, query).toEqual(sums(r.rows));
      expect(r.cashable, query).toEqual(sums(r.rows.filter((x: Json) => x.cashable)));
      expect(r.nonCashable, query).toEqual(sums(r.rows.filter((x: Json) => !x.cashable)));
      for (const k of ['appraisedPence', 'forecastPence', 'claimedPence', 'verifiedPence'] as const) {
        expect(r.cashable[k] + r.nonCashable[k], `${query} ${k}`).toBe(r.totals[k]);
      }
      return r;
    };
    const caseIds = (rows: Json[]) => [...new Set(rows.map((r: Json) => r.caseId))].sort();

    it('covers approved and terminated cases, not submitted ones, with totals that are the sums of the rows', async () => {
      const all = await view();
      expect(caseIds(all.rows)).toContain(bradford);
      expect(caseIds(all.rows)).toContain(lewisham);
      expect(caseIds(all.rows)).not.toContain(submittedId);
      expect(caseIds(all.rows)).not.toContain(draftId);
      expect(all.rows.filter((r: Json) => r.caseId === bradford)).toEqual(await register(bradford));
      expect(all.totals.verifiedPence).toBeGreaterThan(0);
      expect(all.cashable.verifiedPence).toBeGreaterThan(0);
      expect(all.nonCashable.verifiedPence).toBeGreaterThan(0);

      const ended = await approvedCase(w, { body: bradfordBody(w.roundId, 'Terminated but reported') });
      expect((await terminate(w, ended)).status).toBe(200);
      expect(caseIds((await view()).rows)).toContain(ended);
      const r = await report(ended, { claimedPence: 10_00 });
      expect(r.status, r.text).toBe(201);
    });

    it('filters by year, department, place, theme and case', async () => {
      const all = (await view()).rows as Json[];
      const fy = await view('?fy=2027-28');
      expect(fy.rows.length).toBeGreaterThan(0);
      expect(fy.rows).toEqual(all.filter((r) => r.year === '2027-28'));
      const dhsc = await view('?department=DHSC');
      expect(dhsc.rows.length).toBeGreaterThan(0);
      expect(dhsc.rows).toEqual(all.filter((r) => r.departmentCode === 'DHSC'));
      expect(new Set(dhsc.rows.map((r: Json) => r.beneficiaryCode))).toEqual(new Set(['WEST-YORKSHIRE-ICB', 'LEWISHAM-GREENWICH-NHS']));
      const place = await view('?place=LEWISHAM');
      expect(caseIds(place.rows)).toEqual([lewisham]);
      expect(place.rows).toEqual(all.filter((r) => r.placeCode === 'LEWISHAM'));
      const theme = await view('?theme=offenders');
      expect(caseIds(theme.rows)).not.toContain(lewisham);
      expect(theme.rows).toEqual(all.filter((r) => r.theme === 'offenders'));
      const one = await view(`?case=${bradford}`);
      expect(one.rows).toEqual(await register(bradford));
      const both = await view('?fy=2026-27&department=MOJ&place=LEWISHAM&theme=alcohol-and-drugs');
      expect(both.rows.map((r: Json) => [r.caseId, r.benefitLineIndex])).toEqual([[lewisham, 0]]);
      expect(both.totals).toMatchObject({ appraisedPence: 500_000_00, verifiedPence: 460_000_00 });
      const none = await view('?theme=housing');
      expect(none.rows).toEqual([]);
      expect(none.totals).toEqual({ appraisedPence: 0, forecastPence: 0, claimedPence: 0, verifiedPence: 0 });
    });

    it('shows a department only the rows attributed to it, and a council only its own cases', async () => {
      const all = (await view()).rows as Json[];
      for (const [token, code] of [
        [w.tokens.dhsc, 'DHSC'],
        [w.tokens.dwp, 'DWP'],
        [w.tokens.moj, 'MOJ'],
        [w.tokens.ho, 'HO'],
      ] as const) {
        const mine = await view('', token);
        expect(mine.rows, code).toEqual(all.filter((r) => r.departmentCode === code));
        expect((await view('?department=MHCLG', token)).rows, code).toEqual([]);
      }
      expect((await view('', w.tokens.ho)).rows).toEqual([]);
      const lew = await view('', w.tokens.lewisham);
      expect(caseIds(lew.rows)).toEqual([lewisham]);
      expect((await view(`?case=${bradford}`, w.tokens.lewisham)).rows).toEqual([]);
      const brad = await view('', w.tokens.bradford2);
      expect(brad.rows).toEqual(all.filter((r) => r.placeCode === 'BRADFORD'));
      expect(caseIds(brad.rows)).not.toContain(lewisham);
      expect((await view('', w.tokens.auditor)).rows).toEqual(all);
      expect((await view('', w.tokens.alice)).rows).toEqual(all);
    });

    it('pages through every row exactly once with a small limit, each page carrying the totals of the whole set', async () => {
      for (const [query, token] of [
        ['', undefined],
        ['?department=DHSC', undefined],
        ['', w.tokens.dwp],
      ] as const) {
        const all = await view(query, token);
        expect(all.nextCursor, query).toBeNull();
        expect(all.rows.length, query).toBeGreaterThan(3);
        const seen: Json[] = [];
        let after: string | null = null;
        let pages = 0;
        do {
          const sep = query ? '&' : '?';
          const r: Json = await get(w, `/benefits${query}${sep}limit=2${after ? `&after=${after}` : ''}`, token);
          expect(r.rows.length, query).toBeLessThanOrEqual(2);
          expect(r.totals, query).toEqual(all.totals);
          expect(r.cashable, query).toEqual(all.cashable);
          expect(r.nonCashable, query).toEqual(all.nonCashable);
          seen.push(...r.rows);
          after = r.nextCursor;
          pages++;
        } while (after !== null && pages < 1000);
        expect(seen, query).toEqual(all.rows);
        expect(pages, query).toBe(Math.ceil(all.rows.length / 2));
        expect(sums(seen), query).toEqual(all.totals);
      }
      const exact = await view();
      const whole = await get(w, `/benefits?limit=${exact.rows.length}`);
      expect(whole.rows).toEqual(exact.rows);
      expect(whole.nextCursor).toBeNull();
    });

    it('refuses a cursor it did not issue, and a limit outside 1 to 5,000, naming the parameter', async () => {
      for (const after of [
        'x',
        'not%20base64',
        Buffer.from('[1,2,3]').toString('base64url'),
        Buffer.from('{}').toString('base64url'),
        'e'.repeat(401),
        // Well formed but not a key of the register: a line beyond 32 bits, a reference with a NUL, or not a reference.
        Buffer.from(JSON.stringify(['A', 2147483648, '2026-27'])).toString('base64url'),
        Buffer.from(JSON.stringify(['\u0000', 0, '2026-27'])).toString('base64url'),
        Buffer.from(JSON.stringify(['TP-2026-27-001\u0000', 0, '2026-27'])).toString('base64url'),
        Buffer.from(JSON.stringify(['TP-2026-27-001', -1, '2026-27'])).toString('base64url'),
      ]) {
        expectInvalid(await w.t.request('GET', `/api/v1/benefits?after=${after}`), ['after'], after);
      }
      for (const limit of ['0', '5001', '-1', '1.5', 'ten']) {
        expectInvalid(await w.t.request('GET', `/api/v1/benefits?limit=${limit}`), ['limit'], limit);
      }
      expect((await get(w, '/benefits?limit=5000')).nextCursor).toBeNull();
      expect((await get(w, '/benefits?limit=1')).rows).toHaveLength(1);
    });

    it('validates its query, naming each parameter', async () => {
      expectInvalid(await w.t.request('GET', '/api/v1/benefits?fy=2026'), ['fy']);
      expectInvalid(await w.t.request('GET', '/api/v1/benefits?case=nope'), ['case']);
      expectInvalid(await w.t.request('GET', '/api/v1/benefits?fy=x&case=y'), ['case', 'fy']);
      expectInvalid(await w.t.request('GET', `/api/v1/benefits?theme=${'x'.repeat(51)}`), ['theme']);
      expectInvalid(await w.t.request('GET', '/api/v1/cases/nope/benefits'), ['id']);
      expectInvalid(await w.t.request('GET', '/api/v1/benefit-reports/nope'), ['id']);
    });
  });
});
