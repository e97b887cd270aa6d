import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleCase } from '../support/cases.ts';
import { envInt } from '../support/child.ts';
import { engines } from '../support/db.ts';
import {
  approve,
  approvedCase,
  at,
  award,
  caseLedger,
  claim,
  clawback,
  councilAccount,
  decideApprove,
  expectInvalid,
  expectProblem,
  fund,
  get,
  lastSeq,
  ledgerOk,
  ledgerPosition,
  START,
  submitted,
  terminate,
  tranches,
  transfersOf,
  type World,
  world,
} from '../support/releases.ts';

/*
 * Releases in tranches and clawback (src/releases/releases.ts) through the API: the commitment
 * an approval makes in the fund, claims, four-eyes approvals, termination, refunds and offsets,
 * and a model-based property test of random command sequences on one award.
 */

const FUND = 'GBP/2026-27/fund';
const PROPERTY_RUNS = envInt('RELEASES_PROPERTY_RUNS', 30);
const PROPERTY_STEPS = envInt('RELEASES_PROPERTY_STEPS', 20);

// biome-ignore lint/suspicious/noExplicitAny: JSON replies
type Json = any;

describe.each(engines())('releases on %s', (engine) => {
  let w: World;
  beforeAll(async () => {
    w = await world(engine);
  });
  afterAll(() => w.t.destroy());

  describe('commitment on approval', () => {
    it('reserves the whole award as linked pending transfers fund → council, one per tranche', async () => {
      const before = await fund(w);
      const councilBefore = await councilAccount(w);
      expect(councilBefore).toBeNull();
      const id = await approvedCase(w, {
        leadPence: 900_000_00,
        tranches: [
          { basisPoints: 3333, condition: 'Signed partnership agreement' },
          { basisPoints: 3333, earliestOn: '2026-09-01', condition: 'Service live' },
          { basisPoints: 3334, earliestOn: '2027-01-01', condition: 'First outcomes verified' },
        ],
      });
      const ts = await tranches(w, id);
      expect(ts.map((x: Json) => x.amountPence)).toEqual([29_997_000, 29_997_000, 30_006_000]);
      expect(ts.map((x: Json) => x.status)).toEqual(['scheduled', 'scheduled', 'scheduled']);
      expect(ts.map((x: Json) => x.earliestOn)).toEqual(['2026-06-01', '2026-09-01', '2027-01-01']);
      expect(ts.map((x: Json) => x.condition)).toEqual(['Signed partnership agreement', 'Service live', 'First outcomes verified']);
      for (const x of ts) {
        expect(x).toMatchObject({
          caseId: id,
          offsetPence: 0,
          claimedBy: null,
          evidence: null,
          approvals: [],
          approvalsNeeded: 1,
          releasedPence: null,
          voidedAt: null,
        });
        expect(x.pendingTransferId).toBe(`tranche/${id}/${x.number}`);
      }

      const commitments = (await transfersOf(w, FUND)).filter((x: Json) => x.code === 'commitment' && x.id.includes(id));
      expect(commitments.map((x: Json) => x.id)).toEqual([1, 2, 3].map((n) => `tranche/${id}/${n}`));
      for (const [i, x] of commitments.entries()) {
        expect(x).toMatchObject({
          debitAccountId: FUND,
          creditAccountId: 'GBP/2026-27/council/BRADFORD',
          amount: ts[i].amountPence,
          pending: true,
          postPendingTransfer: false,
          voidPendingTransfer: false,
          ledger: 'GBP',
          code: 'commitment',
        });
      }
      expect(commitments.map((x: Json) => x.linked)).toEqual([true, true, false]);

      const after = await fund(w);
      expect(after.committedPence).toBe(before.committedPence + 900_000_00);
      expect(after.availablePence).toBe(before.availablePence - 900_000_00);
      expect(after.balancePence).toBe(before.balancePence);
      expect(after.releasedPence).toBe(before.releasedPence);
      const council = await councilAccount(w);
      expect(council).toMatchObject({ kind: 'council', creditsPending: 900_000_00, creditsPosted: 0, balance: 0 });
      expect(await award(w, id)).toEqual({
        awardPence: 900_000_00,
        releasedPence: 0,
        committedPence: 900_000_00,
        voidedPence: 0,
        clawedBackPence: 0,
        refundedPence: 0,
      });
      await ledgerOk(w);
    });

    it('splits an odd award by basis points so the tranches add up to it to the penny', async () => {
      for (const [lead, bps] of [
        [777_777_77, [1, 3333, 6666]],
        [100_000_01, [2500, 2500, 2500, 2500]],
        [333_333_34, [7001, 2999]],
      ] as const) {
        const id = await approvedCase(w, { leadPence: lead, tranches: bps.map((basisPoints) => ({ basisPoints })) });
        const ts = await tranches(w, id);
        const amounts = ts.map((x: Json) => x.amountPence as number);
        expect(
          amounts.reduce((s: number, a: number) => s + a, 0),
          `${lead}`,
        ).toBe(lead);
        for (const [i, bp] of bps.entries()) expect(Math.abs((amounts[i] as number) - (lead * bp) / 10_000)).toBeLessThan(1);
        expect((await award(w, id)).committedPence).toBe(lead);
      }
    });

    it('splits an award by largest remainder, ties to the earlier tranche', async () => {
      // Exact shares 25,000,005 / 13,000,002.6 / 12,000,002.4: the leftover penny goes to the 0.6.
      const id = await approvedCase(w, {
        leadPence: 50_000_010,
        tranches: [{ basisPoints: 5000 }, { basisPoints: 2600 }, { basisPoints: 2400 }],
      });
      expect((await tranches(w, id)).map((x: Json) => x.amountPence)).toEqual([25_000_005, 13_000_003, 12_000_002]);
    });

    describe('when the fund is short', () => {
      let roundId: string;
      let id: string;
      // biome-ignore lint/suspicious/noExplicitAny: JSON
      let before: any;
      // biome-ignore lint/suspicious/noExplicitAny: JSON
      let refused: any;
      beforeAll(async () => {
        // 2027-28: only DWP contributes, 0.5% of £10m = £50,000.
        expect((await w.t.request('POST', '/api/v1/financial-years', { body: { name: '2027-28' } })).status).toBe(201);
        const dept = await w.t.request('PUT', '/api/v1/financial-years/2027-28/departments/DWP', {
          body: { baselinePence: 10_000_000_00, topSliceBasisPoints: 50, savingsTargetPence: 0 },
        });
        expect(dept.status).toBe(201);
        expect((await w.t.request('POST', '/api/v1/financial-years/2027-28/contributions')).status).toBe(201);
        const round = await w.t.request('POST', '/api/v1/rounds', {
          body: {
            financialYear: '2027-28',
            name: 'Prevention Fund 2027-28: early round',
            envelopePence: 5_000_000_00,
            opensOn: '2026-05-01',
            closesOn: '2026-07-31',
            minMatchFundingBasisPoints: 1000,
            themes: [],
            quorum: 2,
          },
        });
        expect(round.status, round.text).toBe(201);
        roundId = round.body.id;
        before = await fund(w, '2027-28');
        id = await submitted(w, simpleCase(roundId, { title: 'Too big for 2027-28' }));
        refused = await decideApprove(w, id, { tranches: [{ basisPoints: 5000 }, { basisPoints: 5000 }] });
      });

      it('refuses the approval with 422 insufficient-funds, saying what is available', () => {
        expect(before).toMatchObject({ contributedPence: 50_000_00, availablePence: 50_000_00, committedPence: 0 });
        expectProblem(refused, 422, 'insufficient-funds');
        expect(refused.body).toMatchObject({ availablePence: 50_000_00, awardPence: 900_000_00 });
      });

      it('records nothing: no decision, no tranches, no transfers, no council account', async () => {
        expect(refused.status).not.toBe(201);
        expect((await get(w, `/cases/${id}`)).status).toBe('submitted');
        expect(await get(w, `/cases/${id}/decisions`)).toEqual([]);
        expect(await get(w, `/cases/${id}/tranches`)).toEqual([]);
        expect((await transfersOf(w, 'GBP/2027-28/fund')).map((x: Json) => x.code)).toEqual(['contribution']);
        expect(await councilAccount(w, 'BRADFORD', '2027-28')).toBeNull();
        expect(await fund(w, '2027-28')).toEqual(before);
        const log = (await get(w, `/audit-log?subject=case/${id}&limit=500`)).entries.map((e: Json) => e.action);
        expect(log).not.toContain('case.approved');
        await ledgerOk(w);
      });

      it('commits exactly what is available, and then refuses a penny more', async () => {
        const exact = await w.t.request('POST', `/api/v1/cases/${id}/decision`, {
          token: w.tokens.chair,
          body: { outcome: 'approve', reasons: 'Fund what the year can cover.', amountPence: 50_000_00 },
        });
        expect(exact.status, exact.text).toBe(201);
        expect(await fund(w, '2027-28')).toMatchObject({ committedPence: 50_000_00, availablePence: 0 });
        const next = await submitted(w, simpleCase(roundId, { title: 'A penny too far' }));
        const penny = await decideApprove(w, next, { amountPence: 1 });
        expect(penny.status).not.toBe(201);
        expect((await get(w, `/cases/${next}`)).status).toBe('submitted');
        expect((await fund(w, '2027-28')).committedPence).toBe(50_000_00);
        expectProblem(penny, 422, 'insufficient-funds');
        await ledgerOk(w);
      });
    });
  });

  describe('claims', () => {
    let id: string;
    beforeAll(async () => {
      id = await approvedCase(w, {
        leadPence: 600_000_00,
        tranches: [
          { basisPoints: 5000, earliestOn: '2026-06-01' },
          { basisPoints: 3000, earliestOn: '2026-09-01' },
          { basisPoints: 2000, earliestOn: '2027-01-01' },
        ],
      });
    });

    it('refuses a claim out of order, from another council, or with too little evidence', async () => {
      const early = await claim(w, id, 2);
      expectProblem(early, 409, 'tranche-out-of-order');
      expect(early.body.detail).toContain('Tranche 1');
      expectProblem(await claim(w, id, 1, w.tokens.lewisham), 404, 'case-not-found');
      expectInvalid(await claim(w, id, 1, undefined, 'see file'), ['/evidence']);
      expectInvalid(await claim(w, id, 1, undefined, '          x'), ['/evidence']);
      expectProblem(await claim(w, id, 4), 404, 'tranche-not-found');
      expect((await tranches(w, id)).map((x: Json) => x.status)).toEqual(['scheduled', 'scheduled', 'scheduled']);
    });

    it('takes a claim with evidence once; a second claim is refused', async () => {
      const r = await claim(w, id, 1, undefined, '  Signed partnership agreement, dated 28 May 2026.  ');
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({
        number: 1,
        status: 'claimed',
        claimedBy: w.ids.bradford,
        claimedAt: START.toISOString(),
        evidence: 'Signed partnership agreement, dated 28 May 2026.',
        approvals: [],
      });
      const again = await claim(w, id, 1, w.tokens.bradford2);
      expectProblem(again, 409, 'tranche-already-claimed');
      // Tranche 2 still waits for tranche 1 to be released.
      expectProblem(await claim(w, id, 2), 409, 'tranche-out-of-order');
      expect((await tranches(w, id))[0].claimedBy).toBe(w.ids.bradford);
    });

    it('refuses a claim before its earliest date, and takes it from that day', async () => {
      expect((await approve(w, id, 1, w.tokens.alice)).status).toBe(200);
      const r = await claim(w, id, 2);
      expectProblem(r, 409, 'tranche-not-due');
      expect(r.body.detail).toContain('2026-09-01');
      expectProblem(await at(w, '2026-08-31T23:59:59Z', () => claim(w, id, 2)), 409, 'tranche-not-due');
      const due = await at(w, '2026-09-01T00:00:00Z', () => claim(w, id, 2));
      expect(due.status, due.text).toBe(200);
      expect(due.body).toMatchObject({ status: 'claimed', claimedAt: '2026-09-01T00:00:00.000Z' });
      // Tranche 3 is not due either, but it is out of order first.
      expectProblem(await at(w, '2027-02-01T00:00:00Z', () => claim(w, id, 3)), 409, 'tranche-out-of-order');
      expectProblem(await claim(w, id, 2), 409, 'tranche-already-claimed');
    });
  });

  describe('approvals (four eyes)', () => {
    it('lets a panel member, not the council or a department, approve; the money then moves', async () => {
      const id = await approvedCase(w, { leadPence: 600_000_00, tranches: [{ basisPoints: 5000 }, { basisPoints: 5000 }] });
      expectProblem(await approve(w, id, 1, w.tokens.alice), 409, 'tranche-not-claimed');
      expect((await claim(w, id, 1)).status).toBe(200);
      expectProblem(await approve(w, id, 1, w.tokens.bradford), 403, 'forbidden');
      expectProblem(await approve(w, id, 1, w.tokens.bradford2), 403, 'forbidden');
      expectProblem(await approve(w, id, 1, w.tokens.dhsc), 403, 'forbidden');
      expectProblem(await approve(w, id, 1, w.tokens.auditor), 403, 'forbidden');
      expect((await tranches(w, id))[0]).toMatchObject({ status: 'claimed', approvals: [] });

      const fundBefore = await fund(w);
      const councilBefore = await councilAccount(w);
      const r = await approve(w, id, 1, w.tokens.alice);
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({
        number: 1,
        status: 'released',
        releasedPence: 300_000_00,
        releasedAt: START.toISOString(),
        approvals: [{ userId: w.ids.alice, approvedAt: START.toISOString() }],
        approvalsNeeded: 1,
      });
      const fundAfter = await fund(w);
      expect(fundAfter.releasedPence).toBe(fundBefore.releasedPence + 300_000_00);
      expect(fundAfter.committedPence).toBe(fundBefore.committedPence - 300_000_00);
      expect(fundAfter.balancePence).toBe(fundBefore.balancePence - 300_000_00);
      expect(fundAfter.availablePence).toBe(fundBefore.availablePence);
      const councilAfter = await councilAccount(w);
      expect(councilAfter.balance).toBe(councilBefore.balance + 300_000_00);
      expect(councilAfter.creditsPending).toBe(councilBefore.creditsPending - 300_000_00);
      const release = (await transfersOf(w, FUND)).find((x: Json) => x.id === `release/${id}/1`);
      expect(release).toMatchObject({ postPendingTransfer: true, pendingId: `tranche/${id}/1`, amount: 300_000_00 });

      expectProblem(await approve(w, id, 1, w.tokens.bob), 409, 'tranche-already-released');
      expectProblem(await approve(w, id, 1, w.tokens.alice), 409, 'tranche-already-released');
      expect((await fund(w)).releasedPence).toBe(fundAfter.releasedPence);

      // Treasury approves too.
      expect((await claim(w, id, 2)).status).toBe(200);
      const second = await approve(w, id, 2, w.t.treasury);
      expect(second.status, second.text).toBe(200);
      expect(second.body).toMatchObject({ status: 'released', approvals: [{ userId: w.ids.treasury }] });
      expect(await award(w, id)).toMatchObject({ awardPence: 600_000_00, releasedPence: 600_000_00, committedPence: 0 });
      expectProblem(await approve(w, id, 3, w.tokens.alice), 404, 'tranche-not-found');
      await ledgerOk(w);
    });

    it('needs two distinct approvers above the £1,000,000 default threshold, one at it', async () => {
      const id = await approvedCase(w, {
        leadPence: 3_000_000_01,
        tranches: [{ amountPence: 1_000_000_00 }, { amountPence: 2_000_000_01 }],
      });
      expect((await tranches(w, id)).map((x: Json) => x.approvalsNeeded)).toEqual([1, 2]);
      expect((await claim(w, id, 1)).status).toBe(200);
      expect((await approve(w, id, 1, w.tokens.alice)).body.status).toBe('released');

      expect((await claim(w, id, 2)).status).toBe(200);
      const before = await fund(w);
      const first = await approve(w, id, 2, w.tokens.alice);
      expect(first.status, first.text).toBe(200);
      expect(first.body).toMatchObject({
        status: 'claimed',
        releasedPence: null,
        approvals: [{ userId: w.ids.alice }],
        approvalsNeeded: 2,
      });
      expect(await fund(w)).toEqual(before);
      const twice = await approve(w, id, 2, w.tokens.alice);
      expectProblem(twice, 409, 'already-approved-by-you');
      expect((await tranches(w, id))[1].approvals).toHaveLength(1);
      expect(await fund(w)).toEqual(before);

      const second = await approve(w, id, 2, w.tokens.bob);
      expect(second.status, second.text).toBe(200);
      expect(second.body).toMatchObject({ status: 'released', releasedPence: 2_000_000_01 });
      // Both approvals carry the same instant (the clock stands still), so their order is not asserted.
      expect(second.body.approvals.map((a: Json) => a.userId).sort()).toEqual([w.ids.alice, w.ids.bob].sort());
      const after = await fund(w);
      expect(after.releasedPence).toBe(before.releasedPence + 2_000_000_01);
      expect(after.committedPence).toBe(before.committedPence - 2_000_000_01);
      expectProblem(await approve(w, id, 2, w.t.treasury), 409, 'tranche-already-released');
      await ledgerOk(w);
    });

    it("uses the round's own threshold, and takes panel and treasury as the two approvers", async () => {
      const round = await w.t.request('POST', '/api/v1/rounds', {
        body: {
          financialYear: '2026-27',
          name: 'Small grants round',
          envelopePence: 5_000_000_00,
          opensOn: '2026-05-01',
          closesOn: '2026-07-31',
          minMatchFundingBasisPoints: 1000,
          themes: [],
          quorum: 2,
          twoApproverThresholdPence: 100_000_00,
        },
      });
      expect(round.status, round.text).toBe(201);
      const body = simpleCase(round.body.id, { leadPence: 200_000_01, matchPence: 30_000_00, volume: 10_000, title: 'Small grant' });
      const id = await submitted(w, body);
      const r = await decideApprove(w, id, { tranches: [{ amountPence: 100_000_00 }, { amountPence: 100_000_01 }] });
      expect(r.status, r.text).toBe(201);
      expect((await tranches(w, id)).map((x: Json) => x.approvalsNeeded)).toEqual([1, 2]);
      expect((await claim(w, id, 1)).status).toBe(200);
      expect((await approve(w, id, 1, w.t.treasury)).body.status).toBe('released');
      expect((await claim(w, id, 2)).status).toBe(200);
      expect((await approve(w, id, 2, w.t.treasury)).body.status).toBe('claimed');
      expectProblem(await approve(w, id, 2, w.t.treasury), 409, 'already-approved-by-you');
      const done = await approve(w, id, 2, w.tokens.alice);
      expect(done.body).toMatchObject({ status: 'released', releasedPence: 100_000_01 });
    });
  });

  describe('termination', () => {
    it('voids every scheduled and claimed tranche, returns the commitment to the fund, once', async () => {
      const id = await approvedCase(w, {
        leadPence: 600_000_00,
        tranches: [{ basisPoints: 5000 }, { basisPoints: 3000 }, { basisPoints: 2000 }],
      });
      expect((await claim(w, id, 1)).status).toBe(200);
      expect((await approve(w, id, 1, w.tokens.alice)).status).toBe(200);
      expect((await claim(w, id, 2)).status).toBe(200);

      expectProblem(await terminate(w, id, w.tokens.bradford), 403, 'forbidden');
      expectProblem(await terminate(w, id, w.tokens.dhsc), 403, 'forbidden');
      expectInvalid(await w.t.request('POST', `/api/v1/cases/${id}/terminate`, { body: {} }), ['/reason']);
      expectInvalid(await terminate(w, id, undefined, '   '), ['/reason']);

      const before = await fund(w);
      const r = await terminate(w, id);
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({ caseId: id, voidedPence: 300_000_00 });
      expect(r.body.tranches.map((x: Json) => x.status)).toEqual(['released', 'voided', 'voided']);
      expect(r.body.tranches.map((x: Json) => x.voidedAt)).toEqual([null, START.toISOString(), START.toISOString()]);
      const after = await fund(w);
      expect(after.committedPence).toBe(before.committedPence - 300_000_00);
      expect(after.availablePence).toBe(before.availablePence + 300_000_00);
      expect(after.releasedPence).toBe(before.releasedPence);
      expect(after.balancePence).toBe(before.balancePence);
      expect((await get(w, `/cases/${id}`)).status).toBe('terminated');
      const voids = (await transfersOf(w, FUND)).filter((x: Json) => x.id.startsWith(`terminate/${id}/`));
      expect(voids.map((x: Json) => [x.id, x.voidPendingTransfer, x.pendingId])).toEqual([
        [`terminate/${id}/2`, true, `tranche/${id}/2`],
        [`terminate/${id}/3`, true, `tranche/${id}/3`],
      ]);
      const a = await award(w, id);
      expect(a).toMatchObject({ awardPence: 600_000_00, releasedPence: 300_000_00, committedPence: 0, voidedPence: 300_000_00 });

      expectProblem(await terminate(w, id), 409, 'case-not-approved');
      expectProblem(await terminate(w, id, w.tokens.chair), 409, 'case-not-approved');
      expectProblem(await claim(w, id, 3), 409, 'case-not-approved');
      expectProblem(await approve(w, id, 2, w.tokens.alice), 409, 'tranche-not-claimed');
      expect(await fund(w)).toEqual(after);
      await ledgerOk(w);
    });

    it('terminates only approved awards', async () => {
      const sub = await submitted(w, simpleCase(w.roundId, { title: 'Submitted only' }));
      expectProblem(await terminate(w, sub), 409, 'case-not-approved');
      const draft = await w.t.request('POST', '/api/v1/cases', {
        token: w.tokens.bradford,
        body: simpleCase(w.roundId, { title: 'Only a draft' }),
      });
      expectProblem(await terminate(w, draft.body.id), 404, 'case-not-found');
      expectProblem(await terminate(w, '00000000-0000-4000-8000-000000000000'), 404, 'case-not-found');
    });

    it('voids a fully scheduled award in full', async () => {
      const id = await approvedCase(w, { leadPence: 250_000_00, tranches: [{ basisPoints: 4000 }, { basisPoints: 6000 }] });
      const before = await fund(w);
      const r = await terminate(w, id, w.tokens.bob);
      expect(r.body).toMatchObject({ voidedPence: 250_000_00 });
      expect((await fund(w)).availablePence).toBe(before.availablePence + 250_000_00);
      expect(await award(w, id)).toMatchObject({ releasedPence: 0, committedPence: 0, voidedPence: 250_000_00 });
    });
  });

  describe('clawbacks', () => {
    let id: string;
    beforeAll(async () => {
      id = await approvedCase(w, { leadPence: 600_000_00, tranches: [{ basisPoints: 5000 }, { basisPoints: 5000 }] });
    });

    it('refuses any clawback before money is released', async () => {
      expectProblem(await clawback(w, id, { kind: 'refund', amountPence: 1 }), 422, 'clawback-exceeds-released');
      expectProblem(await clawback(w, id, { kind: 'offset', amountPence: 1, trancheNumber: 2 }), 422, 'clawback-exceeds-released');
      expect(await get(w, `/cases/${id}/clawbacks`)).toEqual([]);
    });

    it('refunds council → fund, never more than was released', async () => {
      expect((await claim(w, id, 1)).status).toBe(200);
      expect((await approve(w, id, 1, w.tokens.alice)).status).toBe(200);
      const over = await clawback(w, id, { kind: 'refund', amountPence: 300_000_01 });
      expectProblem(over, 422, 'clawback-exceeds-released');
      const fundBefore = await fund(w);
      const councilBefore = await councilAccount(w);
      const r = await clawback(w, id, { kind: 'refund', amountPence: 100_000_00, reason: 'Staff posts left vacant.' });
      expect(r.status, r.text).toBe(201);
      expect(r.body).toMatchObject({
        caseId: id,
        kind: 'refund',
        amountPence: 100_000_00,
        reason: 'Staff posts left vacant.',
        trancheNumber: null,
        recordedBy: w.ids.treasury,
        recordedAt: START.toISOString(),
      });
      expect(r.body.transferId).toBe(`clawback/${id}/${r.body.id}`);
      const fundAfter = await fund(w);
      expect(fundAfter.otherReceiptsPence).toBe(fundBefore.otherReceiptsPence + 100_000_00);
      expect(fundAfter.balancePence).toBe(fundBefore.balancePence + 100_000_00);
      expect(fundAfter.availablePence).toBe(fundBefore.availablePence + 100_000_00);
      expect(fundAfter.releasedPence).toBe(fundBefore.releasedPence);
      expect((await councilAccount(w)).balance).toBe(councilBefore.balance - 100_000_00);
      const transfer = (await transfersOf(w, FUND)).find((x: Json) => x.id === r.body.transferId);
      expect(transfer).toMatchObject({
        debitAccountId: 'GBP/2026-27/council/BRADFORD',
        creditAccountId: FUND,
        amount: 100_000_00,
        code: 'clawback',
        pending: false,
      });
    });

    it('offsets against a later tranche, which then releases less', async () => {
      expectInvalid(await clawback(w, id, { kind: 'offset', amountPence: 1 }), ['/trancheNumber']);
      expectInvalid(await clawback(w, id, { kind: 'offset', amountPence: 1, trancheNumber: 3 }), ['/trancheNumber']);
      expectInvalid(await clawback(w, id, { kind: 'refund', amountPence: 1, trancheNumber: 2 }), ['/trancheNumber']);
      expectProblem(await clawback(w, id, { kind: 'offset', amountPence: 1, trancheNumber: 1 }), 409, 'tranche-closed');
      const r = await clawback(w, id, { kind: 'offset', amountPence: 150_000_00, trancheNumber: 2 });
      expect(r.status, r.text).toBe(201);
      expect(r.body).toMatchObject({ kind: 'offset', amountPence: 150_000_00, trancheNumber: 2, transferId: null });
      // 100,000 refunded + 150,000 offset of 300,000 released: 50,000 left to claw back.
      expectProblem(await clawback(w, id, { kind: 'offset', amountPence: 50_000_01, trancheNumber: 2 }), 422, 'clawback-exceeds-released');
      expect((await tranches(w, id))[1]).toMatchObject({ status: 'scheduled', offsetPence: 150_000_00 });

      const fundBefore = await fund(w);
      const councilBefore = await councilAccount(w);
      expect((await claim(w, id, 2)).status).toBe(200);
      const released = await approve(w, id, 2, w.tokens.bob);
      expect(released.body).toMatchObject({ status: 'released', releasedPence: 150_000_00, offsetPence: 150_000_00 });
      const fundAfter = await fund(w);
      expect(fundAfter.releasedPence).toBe(fundBefore.releasedPence + 150_000_00);
      expect(fundAfter.committedPence).toBe(fundBefore.committedPence - 300_000_00);
      expect(fundAfter.availablePence).toBe(fundBefore.availablePence + 150_000_00);
      expect((await councilAccount(w)).balance).toBe(councilBefore.balance + 150_000_00);

      const a = await award(w, id);
      expect(a).toEqual({
        awardPence: 600_000_00,
        releasedPence: 450_000_00,
        committedPence: 0,
        voidedPence: 150_000_00,
        clawedBackPence: 250_000_00,
        refundedPence: 100_000_00,
      });
      expect(a.releasedPence + a.committedPence + a.voidedPence).toBe(a.awardPence);
      expect(a.clawedBackPence).toBeLessThanOrEqual(a.releasedPence);
      const list = await get(w, `/cases/${id}/clawbacks`, w.tokens.bradford);
      // Both were recorded at the same instant (the test clock stands still), so their order is not asserted.
      expect(list.map((k: Json) => [k.kind, k.amountPence]).sort()).toEqual([
        ['offset', 150_000_00],
        ['refund', 100_000_00],
      ]);
      // What is left of what was released can still be refunded, and no more.
      expect((await clawback(w, id, { kind: 'refund', amountPence: 200_000_00 })).status).toBe(201);
      expectProblem(await clawback(w, id, { kind: 'refund', amountPence: 1 }), 422, 'clawback-exceeds-released');
      await ledgerOk(w);
    });

    it('withholds a whole tranche by offset, voiding its transfer; never more than the tranche', async () => {
      const other = await approvedCase(w, { leadPence: 600_000_00, tranches: [{ basisPoints: 9000 }, { basisPoints: 1000 }] });
      expect((await claim(w, other, 1)).status).toBe(200);
      expect((await approve(w, other, 1, w.tokens.alice)).status).toBe(200);
      expectProblem(await clawback(w, other, { kind: 'offset', amountPence: 60_000_01, trancheNumber: 2 }), 422, 'offset-exceeds-tranche');
      expect((await clawback(w, other, { kind: 'offset', amountPence: 60_000_00, trancheNumber: 2 })).status).toBe(201);
      const before = await fund(w);
      expect((await claim(w, other, 2)).status).toBe(200);
      const r = await approve(w, other, 2, w.tokens.alice);
      expect(r.body).toMatchObject({ status: 'released', releasedPence: 0 });
      const after = await fund(w);
      expect(after.releasedPence).toBe(before.releasedPence);
      expect(after.committedPence).toBe(before.committedPence - 60_000_00);
      expect(after.availablePence).toBe(before.availablePence + 60_000_00);
      expect((await transfersOf(w, FUND)).find((x: Json) => x.id === `release/${other}/2`)).toMatchObject({
        voidPendingTransfer: true,
      });
      expect(await award(w, other)).toMatchObject({
        releasedPence: 540_000_00,
        committedPence: 0,
        voidedPence: 60_000_00,
        clawedBackPence: 60_000_00,
      });
      await ledgerOk(w);
    });

    it('still lets treasury recover all that was released when termination voids the tranche an offset was against', async () => {
      // An offset recovers money only when its tranche is released less the offset. If the tranche
      // is voided instead, nothing released has come back, so the offset must stop counting
      // against what may still be refunded.
      const c = await approvedCase(w, { leadPence: 600_000_00, tranches: [{ basisPoints: 5000 }, { basisPoints: 5000 }] });
      expect((await claim(w, c, 1)).status).toBe(200);
      expect((await approve(w, c, 1, w.tokens.alice)).status).toBe(200);
      expect((await clawback(w, c, { kind: 'offset', amountPence: 100_000_00, trancheNumber: 2 })).status).toBe(201);
      expect((await terminate(w, c)).status).toBe(200);
      const a = await award(w, c);
      expect(a).toMatchObject({ releasedPence: 300_000_00, committedPence: 0, voidedPence: 300_000_00 });
      const fundBefore = await fund(w);
      const refund = await clawback(w, c, { kind: 'refund', amountPence: 300_000_00, reason: 'Award terminated: repay in full.' });
      expect(refund.status, refund.text).toBe(201);
      expect((await fund(w)).otherReceiptsPence).toBe(fundBefore.otherReceiptsPence + 300_000_00);
      const after = await award(w, c);
      expect(after.refundedPence).toBe(300_000_00);
      expect(after.clawedBackPence).toBe(300_000_00);
      expect(after.clawedBackPence).toBeLessThanOrEqual(after.releasedPence);
    });

    it('validates the body, pointing at each field', async () => {
      const post = (body: unknown) => w.t.request('POST', `/api/v1/cases/${id}/clawbacks`, { body });
      const ok = { kind: 'refund', amountPence: 1, reason: 'Testing validation.' };
      expectInvalid(await post({ ...ok, kind: 'fine' }), ['/kind']);
      expectInvalid(await post({ ...ok, amountPence: -1 }), ['/amountPence']);
      expectInvalid(await post({ ...ok, amountPence: 1.5 }), ['/amountPence']);
      expectInvalid(await post({ ...ok, amountPence: '100' }), ['/amountPence']);
      expectInvalid(await post({ ...ok, amountPence: 0 }), ['/amountPence']);
      expectInvalid(await post({ ...ok, reason: '' }), ['/reason']);
      expectInvalid(await post({ ...ok, kind: 'offset', trancheNumber: 0 }), ['/trancheNumber']);
      expectInvalid(await post({ kind: 'refund' }), ['/amountPence', '/reason']);
      const extra = await post({ ...ok, penalty: true });
      expectInvalid(extra, ['/penalty']);
      expectProblem(await w.t.request('POST', '/api/v1/cases/not-a-uuid/clawbacks', { body: ok }), 400, 'validation-error');
    });
  });

  describe('validation of the tranche routes', () => {
    it('answers problem+json with pointers for bodies and names for parameters', async () => {
      const id = await approvedCase(w, { leadPence: 100_000_00 });
      const post = (path: string, body: unknown) => w.t.request('POST', `/api/v1/cases/${path}`, { token: w.tokens.bradford, body });
      expectInvalid(await post(`${id}/tranches/1/claim`, {}), ['/evidence']);
      expectInvalid(await post(`${id}/tranches/1/claim`, { evidence: 42 }), ['/evidence']);
      expectInvalid(await post(`${id}/tranches/1/claim`, { evidence: 'Invoice pack for quarter one.', extra: 1 }), ['/extra']);
      expectInvalid(await post(`${id}/tranches/0/claim`, { evidence: 'Invoice pack for quarter one.' }), ['n']);
      expectInvalid(await post(`${id}/tranches/one/claim`, { evidence: 'Invoice pack for quarter one.' }), ['n']);
      expectInvalid(await post('nope/tranches/1/claim', { evidence: 'Invoice pack for quarter one.' }), ['id']);
      expectInvalid(await w.t.request('POST', `/api/v1/cases/${id}/tranches/101/approve`, { token: w.tokens.alice }), ['n']);
      expectInvalid(await w.t.request('GET', '/api/v1/cases/nope/tranches'), ['id']);
      expectInvalid(await w.t.request('GET', '/api/v1/cases/nope/award'), ['id']);
      expectInvalid(await w.t.request('GET', '/api/v1/cases/nope/clawbacks'), ['id']);
      const malformed = await w.t.request('POST', `/api/v1/cases/${id}/terminate`, {
        raw: '{"reason": ',
        headers: { 'content-type': 'application/json' },
      });
      expectProblem(malformed, 400, 'malformed-json');
      expect((await tranches(w, id))[0].status).toBe('scheduled');
    });

    it("shows a case's tranches, clawbacks and award to its council and named departments only", async () => {
      const id = await approvedCase(w, { leadPence: 100_000_00, title: 'Visibility' });
      for (const path of ['tranches', 'clawbacks', 'award']) {
        for (const token of [w.tokens.bradford, w.tokens.alice, w.tokens.auditor, w.tokens.dhsc]) {
          expect((await w.t.request('GET', `/api/v1/cases/${id}/${path}`, { token })).status, path).toBe(200);
        }
        expectProblem(await w.t.request('GET', `/api/v1/cases/${id}/${path}`, { token: w.tokens.lewisham }), 404, 'case-not-found');
        expectProblem(await w.t.request('GET', `/api/v1/cases/${id}/${path}`, { token: w.tokens.dwp }), 404, 'case-not-found');
      }
    });
  });
});

/* ------------------------------------------------------------------------------------------ */

type Who = 'alice' | 'bob' | 'treasury';
/**
 * `n` 0 means "the tranche that would come next" (the first scheduled one to claim, the first
 * claimed one to approve, the first open one to offset against), so that runs get somewhere;
 * 1–5 name a tranche outright, which may not exist. A clawback's `share` is in basis points of
 * what is left to claw back, up to 120% so that some ask for too much.
 */
type Command =
  | { kind: 'claim'; n: number }
  | { kind: 'approve'; n: number; who: Who }
  | { kind: 'terminate'; who: Who }
  | { kind: 'refund'; share: number }
  | { kind: 'offset'; n: number; share: number }
  | { kind: 'advance'; days: number };

const who = fc.constantFrom<Who>('alice', 'bob', 'treasury');
const trancheNo = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }) });
const share = fc.integer({ min: 1, max: 12_000 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('claim' as const), n: trancheNo }) },
  { weight: 24, arbitrary: fc.record({ kind: fc.constant('approve' as const), n: trancheNo, who }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('terminate' as const), who }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('refund' as const), share }) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('offset' as const), n: trancheNo, share }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('advance' as const), days: fc.integer({ min: 1, max: 120 }) }) },
);

const THRESHOLD = 50_000_00;

interface ModelTranche {
  amount: number;
  earliestOn: string;
  status: 'scheduled' | 'claimed' | 'released' | 'voided';
  offset: number;
  approvals: Set<Who>;
  released: number;
}

const addDays = (iso: string, days: number) => new Date(Date.parse(iso) + days * 86_400_000).toISOString();

describe.each(engines())('releases: random command sequences on %s', (engine) => {
  let w: World;
  beforeAll(async () => {
    w = await world(engine, { twoApproverThresholdPence: THRESHOLD, envelopePence: 50_000_000_00 });
  });
  afterAll(() => w.t.destroy());

  // Thirty random sequences take a minute on a quiet machine and more than two when the cores are shared.
  it(`keeps every award, the fund and the ledger consistent (${PROPERTY_RUNS} runs of up to ${PROPERTY_STEPS} steps)`, async () => {
    // Every case this test approves, with its last known position (only the current one moves).
    const positions = new Map<string, { committed: number; released: number; refunded: number }>();
    const sum = (k: 'committed' | 'released' | 'refunded') => [...positions.values()].reduce((s, p) => s + p[k], 0);
    const fund0 = await fund(w);
    const seen = new Map<string, number>();
    const tally = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);
    const maxAward = Math.min(600_000_00, Math.floor(30_000_000_00 / Math.max(PROPERTY_RUNS * 2, 1)));

    const schedule = fc
      .record({
        award: fc.integer({ min: 1_000_00, max: maxAward }),
        weights: fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 4 }),
        gaps: fc.array(fc.integer({ min: 0, max: 45 }), { minLength: 4, maxLength: 4 }),
      })
      .map(({ award, weights, gaps }) => {
        const total = weights.reduce((s, x) => s + x, 0);
        const bps = weights.map((x) => Math.max(1, Math.floor((x * 10_000) / total)));
        bps[bps.length - 1] = 10_000 - bps.slice(0, -1).reduce((s, x) => s + x, 0);
        let day = 0;
        const dates = bps.map((_, i) => {
          day += gaps[i] ?? 0;
          return addDays(START.toISOString(), i === 0 ? 0 : day).slice(0, 10);
        });
        return { award, bps, dates };
      });

    // Runs that always happen, since random ones seldom get there: an offset against a tranche
    // that termination then voids (it stops counting, so all that was released can be refunded),
    // and one against a tranche released less it (it keeps counting).
    const halves = { award: 60_000_00, bps: [5000, 5000], dates: ['2026-06-01', '2026-06-01'] };
    const examples: [typeof halves, Command[]][] = [
      [
        halves,
        [
          { kind: 'claim', n: 0 },
          { kind: 'approve', n: 0, who: 'alice' },
          { kind: 'offset', n: 0, share: 5000 },
          { kind: 'terminate', who: 'treasury' },
          { kind: 'refund', share: 10_000 },
          { kind: 'refund', share: 1 },
        ],
      ],
      [
        halves,
        [
          { kind: 'claim', n: 0 },
          { kind: 'approve', n: 0, who: 'alice' },
          { kind: 'offset', n: 0, share: 5000 },
          { kind: 'claim', n: 0 },
          { kind: 'approve', n: 0, who: 'bob' },
          { kind: 'terminate', who: 'treasury' },
          { kind: 'refund', share: 10_000 },
          { kind: 'refund', share: 1 },
        ],
      ],
    ];

    await fc.assert(
      fc.asyncProperty(schedule, fc.array(command, { minLength: 1, maxLength: PROPERTY_STEPS, size: 'max' }), async (plan, commands) => {
        w.t.setNow(START);
        const since = await lastSeq(w);
        const id = await approvedCase(w, {
          leadPence: plan.award,
          title: 'Property case',
          tranches: plan.bps.map((basisPoints, i) => ({ basisPoints, earliestOn: plan.dates[i] })),
        });
        const model: ModelTranche[] = (await tranches(w, id)).map((x: Json) => ({
          amount: x.amountPence,
          earliestOn: x.earliestOn,
          status: 'scheduled',
          offset: 0,
          approvals: new Set<Who>(),
          released: 0,
        }));
        expect(model.reduce((s, x) => s + x.amount, 0)).toBe(plan.award);
        let caseStatus: 'approved' | 'terminated' = 'approved';
        let refunded = 0;
        let now = START.toISOString();
        const token = (x: Who) => (x === 'treasury' ? w.t.treasury : w.tokens[x]);
        const releasedTotal = () => model.reduce((s, x) => s + x.released, 0);
        // Clawed back: every refund, and every offset except those against a tranche that
        // termination voided (they recovered nothing).
        const clawedBack = () => refunded + model.reduce((s, x) => s + (x.status === 'voided' ? 0 : x.offset), 0);

        const check = async (label: string) => {
          // The ledger alone, read from the database: what was reserved, posted, voided and refunded.
          const { transfers, reservations } = await caseLedger(w, id, since);
          const l = ledgerPosition(id, transfers, reservations, label);
          // ... agrees with the model, tranche by tranche: an open tranche is still reserved; a
          // released one was posted less its offset (or voided, if offset in full); a voided one
          // was voided whole.
          expect(l.tranches, label).toEqual(
            model.map((x, i) => {
              const state =
                x.status === 'voided' || (x.status === 'released' && x.released === 0)
                  ? 'voided'
                  : x.status === 'released'
                    ? 'posted'
                    : 'pending';
              return {
                number: i + 1,
                amount: x.amount,
                state,
                released: x.released,
                voided: state === 'voided' ? x.amount : state === 'posted' ? x.amount - x.released : 0,
              };
            }),
          );
          expect(l.award, label).toBe(plan.award);
          expect(l.released, label).toBe(releasedTotal());
          expect(l.committed, label).toBe(
            model.reduce((s, x) => s + (x.status === 'scheduled' || x.status === 'claimed' ? x.amount : 0), 0),
          );
          expect(l.released + l.committed + l.voided, label).toBe(l.award);
          expect(l.refunded, label).toBe(refunded);
          // ... and the award's position reports exactly that.
          const a = await award(w, id);
          expect(a, label).toEqual({
            awardPence: l.award,
            releasedPence: l.released,
            committedPence: l.committed,
            voidedPence: l.voided,
            clawedBackPence: clawedBack(),
            refundedPence: l.refunded,
          });
          expect(a.clawedBackPence, label).toBeLessThanOrEqual(l.released);
          positions.set(id, { committed: l.committed, released: l.released, refunded: l.refunded });
          const f = await fund(w);
          expect(f.committedPence, label).toBe(fund0.committedPence + sum('committed'));
          expect(f.releasedPence, label).toBe(fund0.releasedPence + sum('released'));
          expect(f.otherReceiptsPence, label).toBe(fund0.otherReceiptsPence + sum('refunded'));
          expect((await get(w, '/ledger/verify')).ok, label).toBe(true);
        };
        await check('approved');

        for (let [step, c] of commands.entries()) {
          if (c.kind === 'claim' || c.kind === 'approve' || c.kind === 'offset') {
            if (c.n === 0) {
              const want = c.kind === 'claim' ? ['scheduled'] : c.kind === 'approve' ? ['claimed'] : ['scheduled', 'claimed'];
              const i = model.findIndex((x) => want.includes(x.status));
              c = { ...c, n: i < 0 ? 1 : i + 1 };
            }
          }
          const label = `step ${step} ${JSON.stringify(c)}`;
          const t = model[c.kind === 'claim' || c.kind === 'approve' || c.kind === 'offset' ? c.n - 1 : 0];
          if (c.kind === 'advance') {
            now = addDays(now, c.days);
            w.t.setNow(new Date(now));
            continue;
          }
          if (c.kind === 'claim') {
            let expected = 200;
            if (!t) expected = 404;
            else if (caseStatus !== 'approved') expected = 409;
            else if (t.status !== 'scheduled') expected = 409;
            else if (model.slice(0, c.n - 1).some((x) => x.status !== 'released' && x.status !== 'voided')) expected = 409;
            else if (now.slice(0, 10) < t.earliestOn) expected = 409;
            const r = await claim(w, id, c.n);
            expect(r.status, `${label}: ${r.text}`).toBe(expected);
            tally(`claim ${expected === 200 ? 'ok' : (r.body.type ?? expected)}`);
            if (t && expected === 200) t.status = 'claimed';
          } else if (c.kind === 'approve') {
            let expected = 200;
            if (!t) expected = 404;
            else if (t.status !== 'claimed') expected = 409;
            else if (t.approvals.has(c.who)) expected = 409;
            const r = await approve(w, id, c.n, token(c.who));
            expect(r.status, `${label}: ${r.text}`).toBe(expected);
            tally(`approve ${expected === 200 ? 'ok' : (r.body.type ?? expected)}`);
            if (t && expected === 200) {
              t.approvals.add(c.who);
              // Four eyes counts the award's cumulative releases: what earlier tranches paid, plus this payment.
              const paidBefore = model.slice(0, c.n - 1).reduce((sum, x) => sum + (x.status === 'released' ? x.released : 0), 0);
              if (t.approvals.size >= (paidBefore + (t.amount - t.offset) > THRESHOLD ? 2 : 1)) {
                tally(`release${t.approvals.size === 2 ? ' (two approvers)' : ''}${t.offset > 0 ? ' (offset)' : ''}`);
                t.status = 'released';
                t.released = t.amount - t.offset;
              }
              expect(r.body.status, label).toBe(t.status);
            }
          } else if (c.kind === 'terminate') {
            const expected = caseStatus === 'approved' ? 200 : 409;
            const r = await terminate(w, id, token(c.who));
            expect(r.status, `${label}: ${r.text}`).toBe(expected);
            tally(`terminate ${expected === 200 ? 'ok' : r.body.type}`);
            if (expected === 200 && model.some((x) => (x.status === 'scheduled' || x.status === 'claimed') && x.offset > 0)) {
              tally('terminate ok (voids an offset)');
            }
            if (expected === 200) {
              caseStatus = 'terminated';
              for (const x of model) if (x.status === 'scheduled' || x.status === 'claimed') x.status = 'voided';
            }
          } else {
            const amount = Math.max(1, Math.floor(((releasedTotal() - clawedBack()) * c.share) / 10_000));
            let expected = 201;
            if (clawedBack() + amount > releasedTotal()) expected = 422;
            else if (c.kind === 'offset') {
              if (!t) expected = 400;
              else if (t.status === 'released' || t.status === 'voided') expected = 409;
              else if (t.offset + amount > t.amount) expected = 422;
            }
            const body =
              c.kind === 'refund' ? { kind: 'refund', amountPence: amount } : { kind: 'offset', amountPence: amount, trancheNumber: c.n };
            const r = await clawback(w, id, body);
            expect(r.status, `${label}: ${r.text}`).toBe(expected);
            tally(`${c.kind} ${expected === 201 ? 'ok' : r.body.type}`);
            if (expected === 201) {
              if (c.kind === 'refund') refunded += amount;
              else if (t) t.offset += amount;
            }
          }
          await check(label);
        }
        w.t.setNow(START);
      }),
      {
        numRuns: PROPERTY_RUNS,
        examples,
        seed: process.env.RELEASES_PROPERTY_SEED ? Number(process.env.RELEASES_PROPERTY_SEED) : undefined,
        endOnFailure: !process.env.RELEASES_PROPERTY_SHRINK,
      },
    );
    w.t.setNow(START);
    if (process.env.RELEASES_PROPERTY_VERBOSE) console.log(engine, Object.fromEntries([...seen].sort()));

    // Every award this test made, read afresh, against the fund's transfers as GET /ledger/transfers
    // lists them (all pages): each award's position is what its own transfers add up to, and the
    // fund's commitments are exactly theirs.
    const fundTransfers = await transfersOf(w, FUND);
    let committed = 0;
    for (const [id, last] of positions) {
      const l = ledgerPosition(
        id,
        fundTransfers.filter((x: Json) => x.id.includes(`/${id}/`) || x.pendingId?.startsWith(`tranche/${id}/`)),
        undefined,
        `case ${id}`,
      );
      const a = await award(w, id);
      expect(a, id).toMatchObject({
        awardPence: l.award,
        releasedPence: l.released,
        committedPence: l.committed,
        voidedPence: l.voided,
        refundedPence: l.refunded,
      });
      expect(a.clawedBackPence, id).toBeLessThanOrEqual(l.released);
      expect({ committed: l.committed, released: l.released, refunded: l.refunded }, id).toEqual(last);
      committed += l.committed;
    }
    expect((await fund(w)).committedPence).toBe(fund0.committedPence + committed);
    await ledgerOk(w);
  }, 360_000);
});
