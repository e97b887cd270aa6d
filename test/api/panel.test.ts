import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUpYear, type TestApp, testApp } from '../support/app.ts';
import { caseWithBcr, draftCase, openRound, simpleCase, submit } from '../support/cases.ts';
import { engines } from '../support/db.ts';

const CRITERIA = ['strategic-fit', 'value-for-money', 'evidence', 'deliverability', 'partnership'] as const;
type Criterion = (typeof CRITERIA)[number];

const pointers = (body: { errors?: { pointer?: string }[] }) => [...new Set((body.errors ?? []).map((e) => e.pointer))].sort();

/** A full set of scores: one number for every criterion, or one per criterion. */
function scores(s: number | Record<Criterion, number>) {
  return {
    scores: CRITERIA.map((criterion) => ({
      criterion,
      score: typeof s === 'number' ? s : s[criterion],
      justification: `Scored ${criterion} against the published guidance.`,
    })),
  };
}

describe.each(engines())('the panel on %s', (engine) => {
  let t: TestApp;
  let roundId: string;
  let bradford: string;
  let chair: string;
  let alice: string;
  let bob: string;
  let carol: string;
  let carolId: string;
  let chairId: string;
  /** Submitted cases: a high VfM case (BCR 3) and one asking £1,000,000.01. */
  let high: string;
  let million: string;
  beforeAll(async () => {
    t = await testApp(engine);
    await setUpYear(t);
    expect((await t.request('POST', '/api/v1/financial-years/2026-27/contributions')).status).toBe(201);
    roundId = (await openRound(t, { quorum: 2 })).id;
    bradford = await t.userToken({ name: 'Bradford case lead', role: 'council', organisationCode: 'BRADFORD' });
    chair = await t.userToken({ name: 'Chair', role: 'panel', isChair: true });
    alice = await t.userToken({ name: 'Alice', role: 'panel' });
    bob = await t.userToken({ name: 'Bob', role: 'panel' });
    carol = await t.userToken({ name: 'Carol', role: 'panel' });
    carolId = (await t.request('GET', '/api/v1/me', { token: carol })).body.id;
    chairId = (await t.request('GET', '/api/v1/me', { token: chair })).body.id;
    high = (await submit(t, bradford, (await draftCase(t, bradford, caseWithBcr(roundId, 3, 'High value'))).id)).case.id;
    const m = simpleCase(roundId, { leadPence: 1_000_000_01, matchPence: 111_111_12, volume: 30_000, title: 'Million and a penny' });
    million = (await submit(t, bradford, (await draftCase(t, bradford, m)).id)).case.id;
  });
  afterAll(() => t.destroy());

  const post = (token: string, id: string, what: string, body?: unknown) =>
    t.request('POST', `/api/v1/cases/${id}/${what}`, { token, body });
  const board = async (id: string, token = chair) => {
    const r = await t.request('GET', `/api/v1/cases/${id}/scores`, { token });
    expect(r.status).toBe(200);
    return r.body;
  };
  const auditActions = async (id: string) =>
    (await t.request('GET', `/api/v1/audit-log?subject=case/${id}&limit=500`)).body.entries.map(
      (e: { action: string }) => e.action,
    ) as string[];
  const newCase = async (bcr: number, title: string) =>
    (await submit(t, bradford, (await draftCase(t, bradford, caseWithBcr(roundId, bcr, title))).id)).case.id as string;

  describe('conflicts of interest', () => {
    it('records a declaration once; the member can then neither score nor decide', async () => {
      const r = await post(carol, high, 'conflicts', { reason: 'Formerly seconded to West Yorkshire ICB.' });
      expect(r.status).toBe(201);
      expect(r.body).toEqual({
        caseId: high,
        userId: carolId,
        reason: 'Formerly seconded to West Yorkshire ICB.',
        declaredAt: '2026-06-01T09:00:00.000Z',
      });
      const twice = await post(carol, high, 'conflicts', { reason: 'Again.' });
      expect(twice.status).toBe(409);
      expect(twice.body.type).toBe('/problems/conflict-already-declared');

      const before = await auditActions(high);
      const score = await post(carol, high, 'scores', scores(4));
      expect(score.status).toBe(403);
      expect(score.body.type).toBe('/problems/conflict-of-interest');
      const decision = await post(carol, high, 'decision', { outcome: 'reject', reasons: 'I should not be deciding this.' });
      expect(decision.status).toBe(403);
      expect(decision.body.type).toBe('/problems/conflict-of-interest');
      expect(await auditActions(high)).toEqual(before);

      const b = await board(high);
      expect(b.conflicts).toEqual([
        expect.objectContaining({ userId: carolId, name: 'Carol', reason: 'Formerly seconded to West Yorkshire ICB.' }),
      ]);
      expect(b.members).toEqual([]);
    });

    it('needs a reason, and a submitted case', async () => {
      const empty = await post(alice, high, 'conflicts', { reason: '  ' });
      expect(empty.status).toBe(400);
      expect(pointers(empty.body)).toEqual(['/reason']);
      const draft = await draftCase(t, bradford, simpleCase(roundId, { title: 'Still a draft' }));
      const r = await post(alice, draft.id, 'conflicts', { reason: 'Conflicted on a draft?' });
      expect(r.status).toBe(404);
      expect((await post(alice, draft.id, 'scores', scores(3))).status).toBe(404);
      expect((await t.request('GET', `/api/v1/cases/${draft.id}/scores`, { token: alice })).status).toBe(404);
    });

    it("drops a member's earlier scores from the quorum and mean once they declare a conflict", async () => {
      const id = await newCase(2.5, 'Conflict after scoring');
      expect((await post(alice, id, 'scores', scores(4))).status).toBe(200);
      expect((await post(bob, id, 'scores', scores(2))).status).toBe(200);
      expect(await board(id)).toMatchObject({ completeMembers: 2, quorumMet: true, meanScore: 3 });
      expect((await post(bob, id, 'conflicts', { reason: 'Realised my spouse runs the partner charity.' })).status).toBe(201);
      const after = await board(id);
      expect(after).toMatchObject({ completeMembers: 1, quorumMet: false, meanScore: 4 });
      expect(after.members.map((m: { name: string }) => m.name)).toEqual(['Alice']);
      const approve = await post(chair, id, 'decision', { outcome: 'approve', reasons: 'Would be approved but quorum fell.' });
      expect(approve.status).toBe(422);
      expect(approve.body.type).toBe('/problems/quorum-not-met');
    });

    it('stops a conflicted chair from moderating', async () => {
      const id = await newCase(2.2, 'Chair conflicted');
      expect((await post(chair, id, 'conflicts', { reason: 'Chair of the partnership board.' })).status).toBe(201);
      const r = await post(chair, id, 'moderation', { score: 4, reason: 'Trying anyway.' });
      expect(r.status).toBe(403);
      expect(r.body.type).toBe('/problems/conflict-of-interest');
    });
  });

  describe('scores', () => {
    it('takes 0–5 with a justification of at least 10 characters, pointing at each bad field', async () => {
      const six = await post(alice, high, 'scores', { scores: [{ criterion: 'evidence', score: 6, justification: 'Far too generous.' }] });
      expect(six.status).toBe(400);
      expect(six.body.errors).toEqual([{ pointer: '/scores/0/score', detail: 'must be from 0 to 5' }]);
      const bad = await post(alice, high, 'scores', {
        scores: [
          { criterion: 'evidence', score: -1, justification: 'Negative evidence.' },
          { criterion: 'partnership', score: 2.5, justification: 'Half a point.' },
          { criterion: 'deliverability', score: 3, justification: 'ok        ' },
        ],
      });
      expect(bad.status).toBe(400);
      expect(pointers(bad.body)).toEqual(['/scores/0/score', '/scores/1/score', '/scores/2/justification']);
      const unknown = await post(alice, high, 'scores', {
        scores: [{ criterion: 'charisma', score: 3, justification: 'A charismatic bid.' }],
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors).toEqual([
        { pointer: '/scores/0/criterion', detail: expect.stringContaining('has no criterion charisma') },
      ]);
      const twice = await post(alice, high, 'scores', {
        scores: [
          { criterion: 'evidence', score: 3, justification: 'Reasonable evidence.' },
          { criterion: 'evidence', score: 4, justification: 'Good evidence on reflection.' },
        ],
      });
      expect(twice.status).toBe(400);
      expect(pointers(twice.body)).toEqual(['/scores']);
      const none = await post(alice, high, 'scores', { scores: [] });
      expect(none.status).toBe(400);
      expect(pointers(none.body)).toEqual(['/scores']);
      expect((await board(high)).members).toEqual([]);
      expect(await auditActions(high)).not.toContain('panel.scored');
    });

    it("weights each member's scores and reports whether they are complete", async () => {
      const r = await post(
        alice,
        high,
        'scores',
        scores({ 'strategic-fit': 5, 'value-for-money': 4, evidence: 3, deliverability: 3, partnership: 4 }),
      );
      expect(r.status).toBe(200);
      // (20×5 + 30×4 + 15×3 + 15×3 + 20×4) / 100 = 3.9
      expect(r.body.members).toEqual([expect.objectContaining({ name: 'Alice', complete: true, weightedScore: 3.9 })]);
      expect(r.body).toMatchObject({
        quorum: 2,
        completeMembers: 1,
        quorumMet: false,
        meanScore: 3.9,
        moderatedScore: 3.9,
        vfmBand: 'high',
      });
      const partial = await post(bob, high, 'scores', {
        scores: [
          { criterion: 'strategic-fit', score: 3, justification: 'Fits the theme reasonably well.' },
          { criterion: 'evidence', score: 3, justification: 'Some evidence, mostly local.' },
        ],
      });
      expect(partial.status).toBe(200);
      const bobRow = partial.body.members.find((m: { name: string }) => m.name === 'Bob');
      expect(bobRow).toMatchObject({ complete: false, weightedScore: null });
      expect(partial.body).toMatchObject({ completeMembers: 1, quorumMet: false, meanScore: 3.9 });
    });

    it('replaces a re-scored criterion rather than adding to it', async () => {
      const r = await post(alice, high, 'scores', {
        scores: [{ criterion: 'value-for-money', score: 2, justification: 'Revisited the switching values.' }],
      });
      expect(r.status).toBe(200);
      const row = r.body.members.find((m: { name: string }) => m.name === 'Alice');
      const vfm = row.scores.filter((s: { criterion: string }) => s.criterion === 'value-for-money');
      expect(vfm).toEqual([expect.objectContaining({ score: 2, justification: 'Revisited the switching values.' })]);
      expect(row.scores).toHaveLength(5);
      // (100 + 60 + 45 + 45 + 80) / 100 = 3.3
      expect(row.weightedScore).toBe(3.3);
    });

    it("suggests the value-for-money score from the case's VfM band", async () => {
      const expected = [
        [0.5, 'poor', 1],
        [1.2, 'low', 2],
        [1.7, 'medium', 3],
        [3, 'high', 4],
        [5, 'very-high', 5],
      ] as const;
      for (const [bcr, band, suggested] of expected) {
        const id = await newCase(bcr, `Band ${band}`);
        const b = await board(id, alice);
        expect(b.vfmBand, band).toBe(band);
        const vfm = b.criteria.find((k: { key: string }) => k.key === 'value-for-money');
        expect(vfm, band).toMatchObject({ weight: 30, suggestedScore: suggested, meanScore: null });
        for (const k of b.criteria) if (k.key !== 'value-for-money') expect(k.suggestedScore).toBeNull();
      }
    });
  });

  describe('quorum, mean and moderation', () => {
    it('refuses to approve before a quorum has scored in full', async () => {
      const r = await post(chair, high, 'decision', { outcome: 'approve', reasons: 'Strong case, approve.' });
      expect(r.status).toBe(422);
      expect(r.body.type).toBe('/problems/quorum-not-met');
      expect(r.body.detail).toContain('needs 2');
      expect((await t.request('GET', `/api/v1/cases/${high}`, { token: chair })).body.status).toBe('submitted');
    });

    it("takes the mean of complete members' weighted scores once quorum is met", async () => {
      const r = await post(bob, high, 'scores', scores(3));
      expect(r.status).toBe(200);
      // Alice 3.3, Bob 3.0.
      expect(r.body).toMatchObject({ completeMembers: 2, quorumMet: true, meanScore: 3.15, moderation: null, moderatedScore: 3.15 });
      const vfm = r.body.criteria.find((k: { key: string }) => k.key === 'value-for-money');
      expect(vfm.meanScore).toBe(2.5);
      expect(r.body.criteria.find((k: { key: string }) => k.key === 'strategic-fit').meanScore).toBe(4);
    });

    it('rounds the mean half-even to 2 dp from the exact weighted scores', async () => {
      const id = await newCase(2.5, 'Half-even mean');
      expect((await post(alice, id, 'scores', scores(3))).status).toBe(200);
      // 20×2 + 30×4 + 15×4 + 15×3 + 20×3 = 325: Bob 3.25; the mean is 625 / 200 = 3.125 → 3.12.
      const r = await post(
        bob,
        id,
        'scores',
        scores({ 'strategic-fit': 2, 'value-for-money': 4, evidence: 4, deliverability: 3, partnership: 3 }),
      );
      expect(r.body.members.map((m: { weightedScore: number }) => m.weightedScore)).toEqual([3, 3.25]);
      expect(r.body).toMatchObject({ meanScore: 3.12, moderatedScore: 3.12 });
      // Bob's evidence 4 → 5 makes 640 / 200 = 3.2; evidence 5, deliverability 4 → 655 / 200 = 3.275 → 3.28.
      const up = await post(bob, id, 'scores', {
        scores: [
          { criterion: 'evidence', score: 5, justification: 'Evidence re-read: a randomised trial.' },
          { criterion: 'deliverability', score: 4, justification: 'The provider is already mobilised.' },
        ],
      });
      expect(up.body.meanScore).toBe(3.28);
    });

    it('lets only the chair moderate, with a reason, in place of the mean', async () => {
      const member = await post(alice, high, 'moderation', { score: 4, reason: 'I think it deserves more.' });
      expect(member.status).toBe(403);
      expect(member.body.type).toBe('/problems/forbidden');
      for (const body of [
        { score: 5.5, reason: 'Too high.' },
        { score: 3.333, reason: 'Too precise.' },
        { score: 4 },
        { score: '4', reason: 'A string.' },
      ]) {
        const bad = await post(chair, high, 'moderation', body);
        expect(bad.status, JSON.stringify(body)).toBe(400);
      }
      const r = await post(chair, high, 'moderation', { score: 3.75, reason: 'Deliverability risk is overstated by the members.' });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        meanScore: 3.15,
        moderatedScore: 3.75,
        moderation: { score: 3.75, reason: 'Deliverability risk is overstated by the members.', moderatedBy: chairId },
      });
      const again = await post(chair, high, 'moderation', { score: 3.8, reason: 'On reflection, a little higher.' });
      expect(again.body).toMatchObject({ moderatedScore: 3.8, moderation: { score: 3.8 } });
      expect((await board(high, t.treasury)).moderatedScore).toBe(3.8);
    });
  });

  describe('ranking', () => {
    it('ranks submitted cases by moderated score, unscored last by reference, against the envelope', async () => {
      const rr = await openRound(t, { name: 'Ranking round', envelopePence: 2_000_000_00, quorum: 2 });
      const make = async (bcr: number, title: string) =>
        (await submit(t, bradford, (await draftCase(t, bradford, caseWithBcr(rr.id, bcr, title))).id)).case as {
          id: string;
          reference: string;
        };
      const a = await make(3, 'A: mean 3');
      const b = await make(1.7, 'B: moderated to 4.5');
      const c = await make(5, 'C: mean 4');
      const d = await make(2, 'D: unscored');
      const e = await make(2, 'E: unscored');
      const draft = await draftCase(t, bradford, caseWithBcr(rr.id, 4, 'F: still a draft'));
      for (const token of [alice, bob]) {
        expect((await post(token, a.id, 'scores', scores(3))).status).toBe(200);
        expect((await post(token, b.id, 'scores', scores(2))).status).toBe(200);
        expect((await post(token, c.id, 'scores', scores(4))).status).toBe(200);
      }
      expect((await post(chair, b.id, 'moderation', { score: 4.5, reason: 'Best local fit in the round.' })).status).toBe(200);

      const r = await t.request('GET', `/api/v1/rounds/${rr.id}/ranking`, { token: alice });
      expect(r.status).toBe(200);
      expect(r.body.round).toMatchObject({ id: rr.id, envelopePence: 2_000_000_00 });
      const ids = r.body.cases.map((x: { caseId: string }) => x.caseId);
      expect(ids).not.toContain(draft.id);
      const [d2, e2] = [d, e].sort((x, y) => x.reference.localeCompare(y.reference));
      expect(ids).toEqual([b.id, c.id, a.id, d2?.id, e2?.id]);
      expect(r.body.cases.map((x: { rank: number }) => x.rank)).toEqual([1, 2, 3, 4, 5]);
      expect(r.body.cases.map((x: { moderatedScore: number | null }) => x.moderatedScore)).toEqual([4.5, 4, 3, null, null]);
      expect(r.body.cases.map((x: { quorumMet: boolean }) => x.quorumMet)).toEqual([true, true, true, false, false]);
      expect(r.body.cases.map((x: { cumulativeRequestedPence: number }) => x.cumulativeRequestedPence)).toEqual([
        900_000_00, 1_800_000_00, 2_700_000_00, 3_600_000_00, 4_500_000_00,
      ]);
      expect(r.body.cases.map((x: { withinEnvelope: boolean }) => x.withinEnvelope)).toEqual([true, true, false, false, false]);
      expect(r.body.cases[0]).toMatchObject({
        reference: b.reference,
        title: 'B: moderated to 4.5',
        leadCouncilCode: 'BRADFORD',
        status: 'submitted',
        requestedPence: 900_000_00,
        bcr: 1.7,
        vfmBand: 'medium',
      });
      expect(r.body.cases[1]).toMatchObject({ bcr: 5, vfmBand: 'very-high' });
      const unknown = await t.request('GET', '/api/v1/rounds/2026-27-r99/ranking', { token: alice });
      expect(unknown.status).toBe(404);
    });
  });

  describe('decisions', () => {
    beforeAll(async () => {
      for (const token of [alice, bob]) expect((await post(token, million, 'scores', scores(4))).status).toBe(200);
    });

    it('refuses an award above the request, and tranche schedules that do not add up', async () => {
      const over = await post(chair, million, 'decision', {
        outcome: 'approve',
        reasons: 'Approve generously.',
        amountPence: 1_000_000_02,
      });
      expect(over.status).toBe(422);
      expect(over.body.type).toBe('/problems/amount-exceeds-request');
      const zero = await post(chair, million, 'decision', { outcome: 'approve', reasons: 'Approve nothing.', amountPence: 0 });
      expect(zero.status).toBe(400);
      expect(pointers(zero.body)).toEqual(['/amountPence']);
      const tranche = (basisPoints: number, earliestOn = '2026-07-01') => ({ basisPoints, earliestOn, condition: 'Milestone met' });
      const short = await post(chair, million, 'decision', {
        outcome: 'approve',
        reasons: 'Approve in tranches.',
        tranches: [tranche(5000), tranche(4999)],
      });
      expect(short.status).toBe(400);
      expect(short.body.errors).toEqual([{ pointer: '/tranches', detail: 'the shares add up to 9999 basis points, not 10000' }]);
      const mixed = await post(chair, million, 'decision', {
        outcome: 'approve',
        reasons: 'Approve in tranches.',
        tranches: [tranche(5000), { amountPence: 500_000_00, earliestOn: '2026-08-01', condition: 'Second milestone' }],
      });
      expect(mixed.status).toBe(400);
      expect(pointers(mixed.body)).toEqual(['/tranches']);
      const amounts = await post(chair, million, 'decision', {
        outcome: 'approve',
        reasons: 'Approve in tranches.',
        tranches: [
          { amountPence: 500_000_00, earliestOn: '2026-07-01', condition: 'First milestone' },
          { amountPence: 500_000_00, earliestOn: '2026-08-01', condition: 'Second milestone' },
        ],
      });
      expect(amounts.status).toBe(400);
      expect(pointers(amounts.body)).toEqual(['/tranches']);
      const order = await post(chair, million, 'decision', {
        outcome: 'approve',
        reasons: 'Approve in tranches.',
        tranches: [tranche(5000, '2026-09-01'), tranche(5000, '2026-08-01')],
      });
      expect(order.status).toBe(400);
      expect(pointers(order.body)).toEqual(['/tranches/1/earliestOn']);
      const noReason = await post(chair, million, 'decision', { outcome: 'approve' });
      expect(noReason.status).toBe(400);
      expect(pointers(noReason.body)).toEqual(['/reasons']);
      const rejectWithMoney = await post(chair, million, 'decision', { outcome: 'reject', reasons: 'No.', amountPence: 100 });
      expect(rejectWithMoney.status).toBe(400);
      expect(pointers(rejectWithMoney.body)).toEqual(['/amountPence']);
      const maybe = await post(chair, million, 'decision', { outcome: 'maybe', reasons: 'Undecided.' });
      expect(maybe.status).toBe(400);
      expect(pointers(maybe.body)).toEqual(['/outcome']);
      expect((await t.request('GET', `/api/v1/cases/${million}/decisions`, { token: chair })).body).toEqual([]);
      expect(await auditActions(million)).not.toContain('case.approved');
    });

    it('refuses a tranche dated on a day that does not exist', async () => {
      const id = await newCase(2.5, 'Impossible tranche date');
      for (const token of [alice, bob]) expect((await post(token, id, 'scores', scores(4))).status).toBe(200);
      for (const earliestOn of ['2026-13-45', '2027-02-30']) {
        const r = await post(chair, id, 'decision', {
          outcome: 'approve',
          reasons: 'Approve in one tranche.',
          tranches: [{ basisPoints: 10_000, earliestOn, condition: 'Signed agreement' }],
        });
        expect(r.status, earliestOn).toBe(400);
        expect(pointers(r.body), earliestOn).toEqual(['/tranches/0/earliestOn']);
      }
      expect((await t.request('GET', `/api/v1/cases/${id}`, { token: chair })).body.status).toBe('submitted');
    });

    it('approves £1,000,000.01 in 33.33/33.33/33.34% tranches that add up to the award to the penny', async () => {
      t.setNow(new Date('2026-06-15T10:00:00Z'));
      let r: Awaited<ReturnType<TestApp['request']>>;
      try {
        r = await post(alice, million, 'decision', {
          outcome: 'approve',
          reasons: 'Within the envelope; high value for money.',
          conditions: ['Quarterly benefits reports', 'Independent evaluation'],
          tranches: [
            { basisPoints: 3333, earliestOn: '2026-07-01', condition: 'Signed partnership agreement' },
            { basisPoints: 3333, earliestOn: '2027-01-01', condition: 'Service live' },
            { basisPoints: 3334, earliestOn: '2027-07-01', condition: 'First-year outcomes verified' },
          ],
        });
      } finally {
        t.setNow(new Date('2026-06-01T09:00:00Z'));
      }
      expect(r.status).toBe(201);
      const award = 1_000_000_01;
      expect(r.body).toMatchObject({
        caseId: million,
        sequence: 1,
        outcome: 'approve',
        amountPence: award,
        conditions: ['Quarterly benefits reports', 'Independent evaluation'],
        decidedAt: '2026-06-15T10:00:00.000Z',
      });
      const tranches = r.body.tranches as { number: number; amountPence: number; earliestOn: string; condition: string }[];
      expect(tranches.map((x) => x.number)).toEqual([1, 2, 3]);
      expect(tranches.map((x) => x.earliestOn)).toEqual(['2026-07-01', '2027-01-01', '2027-07-01']);
      expect(tranches.map((x) => x.condition)).toEqual(['Signed partnership agreement', 'Service live', 'First-year outcomes verified']);
      expect(tranches.reduce((s, x) => s + x.amountPence, 0)).toBe(award);
      for (const [i, bp] of [3333, 3333, 3334].entries()) {
        const x = tranches[i] as { amountPence: number };
        expect(Number.isSafeInteger(x.amountPence)).toBe(true);
        expect(Math.abs(x.amountPence - (award * bp) / 10_000)).toBeLessThan(1);
      }
      const c = await t.request('GET', `/api/v1/cases/${million}`, { token: bradford });
      expect(c.body.status).toBe('approved');
      expect(c.body.decisions).toEqual([r.body]);
      expect((await t.request('GET', `/api/v1/cases/${million}/decisions`, { token: bradford })).body).toEqual([r.body]);
    });

    it('shows the decision to the council and to the departments the case names, and to no other', async () => {
      const lewisham = await t.userToken({ name: 'Lewisham', role: 'council', organisationCode: 'LEWISHAM' });
      const dhsc = await t.userToken({ name: 'DHSC analyst', role: 'department', organisationCode: 'DHSC' });
      const dfe = await t.userToken({ name: 'DfE analyst', role: 'department', organisationCode: 'DFE' });
      const path = `/api/v1/cases/${million}/decisions`;
      for (const token of [bradford, dhsc, t.treasury]) {
        const r = await t.request('GET', path, { token });
        expect(r.status).toBe(200);
        expect(r.body.map((d: { outcome: string }) => d.outcome)).toEqual(['approve']);
      }
      for (const token of [lewisham, dfe]) expect((await t.request('GET', path, { token })).status).toBe(404);
    });

    it('refuses to decide, score or moderate an approved case again', async () => {
      const again = await post(chair, million, 'decision', { outcome: 'reject', reasons: 'Changed our minds.' });
      expect(again.status).toBe(409);
      expect(again.body.type).toBe('/problems/case-decided');
      expect((await post(chair, million, 'decision', { outcome: 'approve', reasons: 'Approve twice.' })).status).toBe(409);
      expect((await post(alice, million, 'scores', scores(5))).status).toBe(409);
      expect((await post(chair, million, 'moderation', { score: 5, reason: 'After the fact.' })).status).toBe(409);
      expect((await t.request('GET', `/api/v1/cases/${million}/decisions`, { token: chair })).body).toHaveLength(1);
    });

    it('approves part of a request as one tranche on the decision date when no schedule is given', async () => {
      const id = await newCase(2.5, 'Partly funded');
      for (const token of [alice, chair]) expect((await post(token, id, 'scores', scores(3))).status).toBe(200);
      const r = await post(chair, id, 'decision', { outcome: 'approve', reasons: 'Fund the first phase only.', amountPence: 600_000_00 });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ amountPence: 600_000_00, conditions: [] });
      expect(r.body.tranches).toEqual([{ number: 1, amountPence: 600_000_00, earliestOn: '2026-06-01', condition: expect.any(String) }]);
    });

    it('rejects and defers with reasons; a deferred case can be scored and decided later', async () => {
      const rejected = await newCase(1.2, 'To be rejected');
      const no = await post(bob, rejected, 'decision', { outcome: 'reject', reasons: 'Weak evidence of cashable savings.' });
      expect(no.status).toBe(201);
      expect(no.body).toMatchObject({
        outcome: 'reject',
        reasons: 'Weak evidence of cashable savings.',
        amountPence: null,
        tranches: [],
        sequence: 1,
      });
      expect((await t.request('GET', `/api/v1/cases/${rejected}`, { token: bradford })).body.status).toBe('rejected');
      expect((await post(bob, rejected, 'decision', { outcome: 'defer', reasons: 'Second thoughts.' })).status).toBe(409);

      const deferred = await newCase(1.7, 'To be deferred');
      const later = await post(bob, deferred, 'decision', { outcome: 'defer', reasons: 'Come back with a comparison group.' });
      expect(later.status).toBe(201);
      expect(later.body).toMatchObject({ outcome: 'defer', amountPence: null, tranches: [] });
      expect((await t.request('GET', `/api/v1/cases/${deferred}`, { token: bradford })).body.status).toBe('deferred');
      for (const token of [alice, bob]) expect((await post(token, deferred, 'scores', scores(3))).status).toBe(200);
      const yes = await post(chair, deferred, 'decision', { outcome: 'approve', reasons: 'Comparison group now agreed.' });
      expect(yes.status).toBe(201);
      expect(yes.body).toMatchObject({ sequence: 2, outcome: 'approve', amountPence: 900_000_00 });
      const decisions = (await t.request('GET', `/api/v1/cases/${deferred}/decisions`, { token: bradford })).body;
      expect(decisions.map((d: { sequence: number; outcome: string }) => [d.sequence, d.outcome])).toEqual([
        [1, 'defer'],
        [2, 'approve'],
      ]);
    });
  });

  describe('poor value for money', () => {
    let poor: string;
    beforeAll(async () => {
      poor = await newCase(0.5, 'Poor value');
      for (const token of [alice, bob]) expect((await post(token, poor, 'scores', scores(2))).status).toBe(200);
    });

    it('cannot be approved without a treasury override', async () => {
      const r = await post(chair, poor, 'decision', { outcome: 'approve', reasons: 'Approve despite the BCR.' });
      expect(r.status).toBe(422);
      expect(r.body.type).toBe('/problems/vfm-override-required');
      expect((await t.request('GET', `/api/v1/cases/${poor}`, { token: chair })).body.status).toBe('submitted');
    });

    it('takes a treasury override only for a poor case, once', async () => {
      const notPoor = await post(t.treasury, high, 'vfm-override', { reason: 'Not needed.' });
      expect(notPoor.status).toBe(409);
      expect(notPoor.body.type).toBe('/problems/override-not-needed');
      const draft = await draftCase(t, bradford, caseWithBcr(roundId, 0.5, 'Poor draft'));
      expect((await post(t.treasury, draft.id, 'vfm-override', { reason: 'A draft.' })).status).toBe(404);
      const noReason = await post(t.treasury, poor, 'vfm-override', { reason: '' });
      expect(noReason.status).toBe(400);
      expect(pointers(noReason.body)).toEqual(['/reason']);

      const r = await post(t.treasury, poor, 'vfm-override', { reason: 'Strategic priority: no other provision in the area.' });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({
        caseId: poor,
        reason: 'Strategic priority: no other provision in the area.',
        grantedAt: '2026-06-01T09:00:00.000Z',
      });
      const twice = await post(t.treasury, poor, 'vfm-override', { reason: 'Again.' });
      expect(twice.status).toBe(409);
      expect(twice.body.type).toBe('/problems/override-exists');
    });

    it('can then be approved', async () => {
      const r = await post(chair, poor, 'decision', { outcome: 'approve', reasons: 'Approved under the treasury override.' });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ outcome: 'approve', amountPence: 900_000_00 });
      expect((await t.request('GET', `/api/v1/cases/${poor}`, { token: bradford })).body.status).toBe('approved');
    });
  });

  describe('the audit log', () => {
    it('records every step of a case, each by its actor', async () => {
      const log = (await t.request('GET', `/api/v1/audit-log?subject=case/${high}&limit=500`, { token: t.treasury })).body.entries;
      expect(log.map((e: { action: string }) => e.action)).toEqual([
        'case.drafted',
        'case.submitted',
        'panel.conflict-declared',
        'panel.scored', // Alice
        'panel.scored', // Bob, partial
        'panel.scored', // Alice re-scores
        'panel.scored', // Bob completes
        'panel.moderated',
        'panel.moderated',
      ]);
      expect(log.map((e: { actorRole: string }) => e.actorRole)).toEqual(['council', 'council', ...Array(7).fill('panel')]);
      const moderated = log.at(-1);
      expect(moderated.detail).toMatchObject({ score: 3.8, reason: 'On reflection, a little higher.' });

      const poorCase = (await t.request('GET', `/api/v1/cases?round=${roundId}&status=approved`, { token: t.treasury })).body.find(
        (c: { title: string }) => c.title === 'Poor value',
      );
      const poorLog = await auditActions(poorCase.id);
      expect(poorLog).toEqual(['case.drafted', 'case.submitted', 'panel.scored', 'panel.scored', 'case.vfm-overridden', 'case.approved']);
      expect(await auditActions(million)).toEqual(['case.drafted', 'case.submitted', 'panel.scored', 'panel.scored', 'case.approved']);
      const approved = (await t.request('GET', `/api/v1/audit-log?subject=case/${million}&action=case.approved`)).body.entries[0];
      expect(approved.detail.amountPence).toBe('100000001');
      const verify = await t.request('GET', '/api/v1/ledger/verify');
      expect(verify.body.ok).toBe(true);
    });
  });
});
