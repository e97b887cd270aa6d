import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../support/app.ts';
import { caseWithBcr, simpleCase } from '../support/cases.ts';
import { creditsWorld } from '../support/credits.ts';
import { engines } from '../support/db.ts';
import {
  approve,
  approvedCase,
  claim,
  clawback,
  lastSeq,
  START,
  scores,
  submitted,
  terminate,
  type World,
  world,
} from '../support/releases.ts';

/*
 * Every state-changing operation appends exactly its audit entry, in its own transaction: the
 * action, the subject, the actor (user and role), and for money moves the ledger transfers it
 * caused. The table below names the entries each POST/PUT route appends when it succeeds; the
 * walk over /openapi.json fails for a state-changing route the table does not name, so a new
 * route cannot land without its audit expectation.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON replies
type Json = any;

const FUND = 'GBP/2026-27/fund';
const BRADFORD = 'GBP/2026-27/council/BRADFORD';

/**
 * The actions each state-changing route appends on success, in order. An empty list: the route
 * changes nothing in the database (verification; a checkpoint goes to a file outside it).
 * Alternatives are separated by `|` (a decision approves or rejects; a clawback refunds or offsets).
 */
const AUDITED: Record<string, string[]> = {
  'POST /api/v1/users': ['user.created|user.requested'],
  'POST /api/v1/user-requests/{id}/approve': ['user.created', 'user.request-approved'],
  'POST /api/v1/financial-years': ['financial-year.created'],
  'PUT /api/v1/financial-years/{fy}/departments/{code}': ['department-year.set'],
  'POST /api/v1/financial-years/{fy}/contributions': ['contributions.posted'],
  'POST /api/v1/ledger/verify': [],
  'POST /api/v1/ledger/verifications': ['ledger.verification-started'],
  'POST /api/v1/audit-log/checkpoints': [],
  'POST /api/v1/rounds': ['round.created'],
  'POST /api/v1/cases': ['case.drafted'],
  'PUT /api/v1/cases/{id}': ['case.edited'],
  'POST /api/v1/cases/{id}/submit': ['case.submitted'],
  'POST /api/v1/cases/{id}/conflicts': ['panel.conflict-declared'],
  'POST /api/v1/cases/{id}/scores': ['panel.scored'],
  'POST /api/v1/cases/{id}/moderation': ['panel.moderated'],
  'POST /api/v1/cases/{id}/vfm-override': ['case.vfm-overridden'],
  'POST /api/v1/cases/{id}/decision': ['case.approved|case.rejected'],
  'POST /api/v1/cases/{id}/tranches/{n}/claim': ['tranche.claimed'],
  'POST /api/v1/cases/{id}/tranches/{n}/approve': ['tranche.approved', 'tranche.released'],
  'POST /api/v1/cases/{id}/terminate': ['case.terminated'],
  'POST /api/v1/cases/{id}/clawbacks': ['clawback.refund|clawback.offset'],
  'POST /api/v1/cases/{id}/benefit-forecasts': ['benefit.forecast-revised'],
  'POST /api/v1/cases/{id}/benefit-reports': ['benefit.reported'],
  'POST /api/v1/benefit-reports/{id}/verify': ['benefit.verified'],
  'POST /api/v1/benefit-reports/{id}/reject': ['benefit.rejected'],
  'POST /api/v1/financial-years/{fy}/close': ['financial-year.closed'],
  'PUT /api/v1/financial-years/{fy}/credit-market': ['credit-market.prices-set'],
  'POST /api/v1/credits/orders': ['credit-order.placed'],
  'POST /api/v1/credits/orders/{id}/cancel': ['credit-order.cancelled'],
  'POST /api/v1/credits/bilateral-trades': ['bilateral-trade.proposed'],
  'POST /api/v1/credits/bilateral-trades/{id}/accept': ['bilateral-trade.accepted'],
  'POST /api/v1/credits/bilateral-trades/{id}/decline': ['bilateral-trade.declined'],
  'POST /api/v1/credits/bilateral-trades/{id}/withdraw': ['bilateral-trade.withdrawn'],
  'POST /api/v1/financial-years/{fy}/compliance': ['compliance.run'],
  'PUT /api/v1/places/{code}/disposal-targets': ['disposal-target.set'],
  'POST /api/v1/places/{code}/disposals': ['disposal.recorded'],
  'POST /api/v1/me/token': ['user.token-rotated'],
  'POST /api/v1/users/{id}/tokens': ['user.token-issued'],
  'POST /api/v1/users/{id}/tokens/revoke': ['user.tokens-revoked'],
  'POST /api/v1/users/{id}/deactivate': ['user.deactivated'],
};

interface Expected {
  action: string;
  subject: string;
  /** The acting user's id (null for the system) and role. */
  actorUserId: string | null;
  actorRole: string;
  /** The ledger transfers the entry records: none unless stated. */
  transfers?: {
    id: string;
    debitAccountId: string;
    creditAccountId: string;
    amount: string;
    ledger: string;
    code: string;
    flags: number;
    pendingId: string | null;
  }[];
  detail?: Record<string, unknown>;
}

describe.each(engines())('the audit entry of every state-changing operation on %s', (engine) => {
  let w: World;
  let seen = '0';
  const driven = new Set<string>();

  beforeAll(async () => {
    w = await world(engine);
    seen = await headPosition();
  });
  afterAll(() => w.t.destroy());

  async function headPosition(): Promise<string> {
    let after = '0';
    for (;;) {
      const page = (await w.t.request('GET', `/api/v1/audit-log?after=${after}&limit=500`)).body;
      if (page.entries.length === 0) return after;
      after = page.entries.at(-1).position;
    }
  }

  /**
   * Asserts `reply` succeeded and that exactly `expected` was appended since the last check (no
   * more, no fewer), each stamped with the test clock's time; checks the actions against the table.
   */
  async function expectAppended(route: string, reply: Reply, expected: Expected[]): Promise<Json[]> {
    expect(reply.status, `${route}: ${reply.text}`).toBeLessThan(300);
    const table = AUDITED[route];
    expect(table, `${route} has no audit expectation`).toBeDefined();
    expect(expected.length, route).toBe(table?.length);
    for (const [i, e] of expected.entries()) expect(table?.[i]?.split('|'), route).toContain(e.action);
    const entries = (await w.t.request('GET', `/api/v1/audit-log?after=${seen}&limit=500`)).body.entries as Json[];
    expect(
      entries.map((e) => ({
        action: e.action,
        subject: e.subject,
        actorUserId: e.actorUserId,
        actorRole: e.actorRole,
        transfers: e.transfers,
      })),
      route,
    ).toEqual(
      expected.map((e) => ({
        action: e.action,
        subject: e.subject,
        actorUserId: e.actorUserId,
        actorRole: e.actorRole,
        transfers: e.transfers ?? [],
      })),
    );
    for (const [i, e] of entries.entries()) {
      expect(e.at, route).toBe(START.toISOString());
      const detail = expected[i]?.detail;
      if (detail) expect(e.detail, route).toMatchObject(detail);
    }
    if (entries.length > 0) seen = entries.at(-1).position;
    driven.add(route);
    return entries;
  }

  /** Moves the cursor past entries made while setting a scene (each checked in its own test). */
  async function skipSetUp(): Promise<void> {
    seen = await headPosition();
  }

  const as = (key: keyof World['tokens'], role: string) => ({ actorUserId: w.ids[key] ?? null, actorRole: role });
  const treasury = () => ({ actorUserId: w.ids.treasury ?? null, actorRole: 'treasury' });

  describe('clawbacks', () => {
    let id: string;
    beforeAll(async () => {
      id = await approvedCase(w, { leadPence: 600_000_00, tranches: [{ basisPoints: 5000 }, { basisPoints: 5000 }] });
      expect((await claim(w, id, 1)).status).toBe(200);
      expect((await approve(w, id, 1, w.tokens.alice)).status).toBe(200);
      await skipSetUp();
    });

    it('a refund appends clawback.refund by treasury on the case, recording the council → fund transfer', async () => {
      const r = await clawback(w, id, { kind: 'refund', amountPence: 100_000_00, reason: 'Staff posts left vacant.' });
      expect(r.status, r.text).toBe(201);
      await expectAppended('POST /api/v1/cases/{id}/clawbacks', r, [
        {
          action: 'clawback.refund',
          subject: `case/${id}`,
          ...treasury(),
          transfers: [
            {
              id: `clawback/${id}/${r.body.id}`,
              debitAccountId: BRADFORD,
              creditAccountId: FUND,
              amount: '10000000',
              ledger: 'GBP',
              code: 'clawback',
              flags: 0,
              pendingId: null,
            },
          ],
          detail: { kind: 'refund', reason: 'Staff posts left vacant.' },
        },
      ]);
    });

    it('an offset appends clawback.offset by treasury on the case, with no transfer (the later tranche releases less)', async () => {
      const r = await clawback(w, id, { kind: 'offset', amountPence: 150_000_00, trancheNumber: 2 });
      expect(r.status, r.text).toBe(201);
      expect(r.body.transferId).toBeNull();
      await expectAppended('POST /api/v1/cases/{id}/clawbacks', r, [
        { action: 'clawback.offset', subject: `case/${id}`, ...treasury(), transfers: [], detail: { kind: 'offset' } },
      ]);
    });
  });

  describe('benefit reports', () => {
    let caseId: string;
    /** A report on a case of its own (a line's year holds one open report at a time). */
    const report = async (claimedPence: number, title?: string) => {
      if (title) caseId = await approvedCase(w, { title });
      return w.t.request('POST', `/api/v1/cases/${caseId}/benefit-reports`, {
        token: w.tokens.bradford,
        body: { benefitLineIndex: 0, year: '2026-27', claimedPence, evidence: 'Hospital episode statistics extract.' },
      });
    };
    beforeAll(async () => {
      caseId = await approvedCase(w, { title: 'Benefits reported' });
      await skipSetUp();
    });

    it('a report appends benefit.reported by the council on the report', async () => {
      const r = await report(3_000_00);
      await expectAppended('POST /api/v1/cases/{id}/benefit-reports', r, [
        { action: 'benefit.reported', subject: `benefit-report/${r.body.id}`, ...as('bradford', 'council'), detail: { caseId } },
      ]);
    });

    it('a verification in full appends benefit.verified by the beneficiary department', async () => {
      const r = await report(2_000_00, 'Verified in full');
      await skipSetUp();
      const v = await w.t.request('POST', `/api/v1/benefit-reports/${r.body.id}/verify`, { token: w.tokens.dhsc });
      expect(v.status, v.text).toBe(200);
      await expectAppended('POST /api/v1/benefit-reports/{id}/verify', v, [
        {
          action: 'benefit.verified',
          subject: `benefit-report/${r.body.id}`,
          ...as('dhsc', 'department'),
          detail: { claimedPence: '200000', verifiedPence: '200000', reason: null },
        },
      ]);
    });

    it('a verification in part appends benefit.verified with the part and its reason', async () => {
      const r = await report(7_000_00, 'Verified in part');
      await skipSetUp();
      const reason = 'Two of the seven months are outside the cohort period.';
      const v = await w.t.request('POST', `/api/v1/benefit-reports/${r.body.id}/verify`, {
        token: w.tokens.dhsc,
        body: { verifiedPence: 5_000_00, reason },
      });
      expect(v.status, v.text).toBe(200);
      await expectAppended('POST /api/v1/benefit-reports/{id}/verify', v, [
        {
          action: 'benefit.verified',
          subject: `benefit-report/${r.body.id}`,
          ...as('dhsc', 'department'),
          detail: { claimedPence: '700000', verifiedPence: '500000', reason },
        },
      ]);
    });

    it('a rejection appends benefit.rejected by the reviewer with the reason', async () => {
      const r = await report(1_000_00, 'Rejected');
      await skipSetUp();
      const reason = 'The extract does not cover the cohort.';
      const v = await w.t.request('POST', `/api/v1/benefit-reports/${r.body.id}/reject`, { token: w.tokens.dhsc, body: { reason } });
      expect(v.status, v.text).toBe(200);
      await expectAppended('POST /api/v1/benefit-reports/{id}/reject', v, [
        { action: 'benefit.rejected', subject: `benefit-report/${r.body.id}`, ...as('dhsc', 'department'), detail: { reason } },
      ]);
    });
  });

  /** The ledger transfers made since `seq`, as an audit entry records them. */
  async function transfersSince(seq: number) {
    const rows = await w.t.database.db.selectFrom('transfers').selectAll().where('seq', '>', BigInt(seq)).orderBy('seq').execute();
    return rows.map((r) => ({
      id: r.id,
      debitAccountId: r.debit_account_id,
      creditAccountId: r.credit_account_id,
      amount: String(r.amount),
      ledger: r.ledger,
      code: r.code,
      flags: Number(r.flags),
      pendingId: r.pending_id,
    }));
  }

  describe('users and tokens', () => {
    it('creates, asks for and approves users, and issues, rotates and revokes tokens, each with its entry', async () => {
      await skipSetUp();
      const created = await w.t.request('POST', '/api/v1/users', {
        body: { name: 'Leicester finance', role: 'council', organisationCode: 'LEICESTER' },
      });
      await expectAppended('POST /api/v1/users', created, [{ action: 'user.created', subject: `user/${created.body.id}`, ...treasury() }]);

      const asked = await w.t.request('POST', '/api/v1/users', { body: { name: 'Panel member Dee', role: 'panel' } });
      expect(asked.status).toBe(202);
      await expectAppended('POST /api/v1/users', asked, [
        { action: 'user.requested', subject: `user-request/${asked.body.id}`, ...treasury() },
      ]);
      const second = await w.t.userToken({ name: 'Second treasury official', role: 'treasury' });
      const secondId = (await w.t.request('GET', '/api/v1/me', { token: second })).body.id;
      await skipSetUp();
      const approved = await w.t.request('POST', `/api/v1/user-requests/${asked.body.id}/approve`, { token: second });
      await expectAppended('POST /api/v1/user-requests/{id}/approve', approved, [
        // The account is created by the one who asked for it; the approval is the second official's.
        { action: 'user.created', subject: `user/${approved.body.id}`, ...treasury() },
        { action: 'user.request-approved', subject: `user-request/${asked.body.id}`, actorUserId: secondId, actorRole: 'treasury' },
      ]);

      const rotated = await w.t.request('POST', '/api/v1/me/token', { token: created.body.token });
      await expectAppended('POST /api/v1/me/token', rotated, [
        { action: 'user.token-rotated', subject: `user/${created.body.id}`, actorUserId: created.body.id, actorRole: 'council' },
      ]);
      const issued = await w.t.request('POST', `/api/v1/users/${created.body.id}/tokens`);
      await expectAppended('POST /api/v1/users/{id}/tokens', issued, [
        { action: 'user.token-issued', subject: `user/${created.body.id}`, ...treasury() },
      ]);
      const revoked = await w.t.request('POST', `/api/v1/users/${created.body.id}/tokens/revoke`, {
        body: { reason: 'Token seen in an email' },
      });
      await expectAppended('POST /api/v1/users/{id}/tokens/revoke', revoked, [
        { action: 'user.tokens-revoked', subject: `user/${created.body.id}`, ...treasury(), detail: { reason: 'Token seen in an email' } },
      ]);
      const gone = await w.t.request('POST', `/api/v1/users/${created.body.id}/deactivate`, { body: { reason: 'Left Leicester' } });
      await expectAppended('POST /api/v1/users/{id}/deactivate', gone, [
        { action: 'user.deactivated', subject: `user/${created.body.id}`, ...treasury(), detail: { reason: 'Left Leicester' } },
      ]);
    });
  });

  describe('the fund', () => {
    it('sets up a year, its departments and its contributions, recording the contribution transfers', async () => {
      await skipSetUp();
      const year = await w.t.request('POST', '/api/v1/financial-years', { body: { name: '2027-28' } });
      await expectAppended('POST /api/v1/financial-years', year, [
        { action: 'financial-year.created', subject: 'financial-year/2027-28', ...treasury() },
      ]);
      const dept = await w.t.request('PUT', '/api/v1/financial-years/2027-28/departments/DWP', {
        body: { baselinePence: 800_000_000_00, topSliceBasisPoints: 150, savingsTargetPence: 3_000_000_00 },
      });
      await expectAppended('PUT /api/v1/financial-years/{fy}/departments/{code}', dept, [
        {
          action: 'department-year.set',
          subject: 'financial-year/2027-28/department/DWP',
          ...treasury(),
          // The department's baseline, from the Exchequer: £800m.
          transfers: [
            {
              id: 'budget/2027-28/DWP/1',
              debitAccountId: 'GBP/2027-28/exchequer',
              creditAccountId: 'GBP/2027-28/department/DWP',
              amount: '80000000000',
              ledger: 'GBP',
              code: 'budget',
              flags: 0,
              pendingId: null,
            },
          ],
        },
      ]);
      const seq = await lastSeq(w);
      const posted = await w.t.request('POST', '/api/v1/financial-years/2027-28/contributions');
      const transfers = await transfersSince(seq);
      // 1.5% of £800m from DWP into the 2027-28 fund: one transfer, recorded on the entry.
      expect(transfers.map((x) => x.amount)).toEqual(['1200000000']);
      await expectAppended('POST /api/v1/financial-years/{fy}/contributions', posted, [
        { action: 'contributions.posted', subject: 'financial-year/2027-28/contributions', ...treasury(), transfers },
      ]);
      await expectAppended(
        'POST /api/v1/ledger/verify',
        await w.t.request('POST', '/api/v1/ledger/verify', { body: { checkpoints: [] } }),
        [],
      );
      await expectAppended('POST /api/v1/audit-log/checkpoints', await w.t.request('POST', '/api/v1/audit-log/checkpoints'), []);
      const started = await w.t.request('POST', '/api/v1/ledger/verifications');
      await expectAppended('POST /api/v1/ledger/verifications', started, [
        { action: 'ledger.verification-started', subject: `ledger-verification/${started.body.id}`, ...treasury() },
      ]);
    });
  });

  describe('a case from draft to release and termination', () => {
    it('drafts, edits, submits, scores, moderates, decides, claims and releases, each with its entry and transfers', async () => {
      await skipSetUp();
      const round = await w.t.request('POST', '/api/v1/rounds', {
        body: {
          financialYear: '2026-27',
          name: 'Prevention Fund 2026-27: round 2',
          envelopePence: 5_000_000_00,
          opensOn: '2026-05-15',
          closesOn: '2026-08-31',
          minMatchFundingBasisPoints: 1000,
          themes: [],
          quorum: 2,
        },
      });
      await expectAppended('POST /api/v1/rounds', round, [{ action: 'round.created', subject: `round/${round.body.id}`, ...treasury() }]);

      const draft = await w.t.request('POST', '/api/v1/cases', {
        token: w.tokens.bradford,
        body: simpleCase(w.roundId, { title: 'Audited case' }),
      });
      const id = draft.body.id;
      const bradford = as('bradford', 'council');
      await expectAppended('POST /api/v1/cases', draft, [{ action: 'case.drafted', subject: `case/${id}`, ...bradford }]);
      const edited = await w.t.request('PUT', `/api/v1/cases/${id}`, {
        token: w.tokens.bradford,
        body: simpleCase(w.roundId, { title: 'Audited case, edited' }),
      });
      await expectAppended('PUT /api/v1/cases/{id}', edited, [{ action: 'case.edited', subject: `case/${id}`, ...bradford }]);
      const sub = await w.t.request('POST', `/api/v1/cases/${id}/submit`, { token: w.tokens.bradford });
      await expectAppended('POST /api/v1/cases/{id}/submit', sub, [{ action: 'case.submitted', subject: `case/${id}`, ...bradford }]);

      const conflict = await w.t.request('POST', `/api/v1/cases/${id}/conflicts`, {
        token: w.tokens.bob,
        body: { reason: 'Formerly seconded to West Yorkshire ICB.' },
      });
      await expectAppended('POST /api/v1/cases/{id}/conflicts', conflict, [
        { action: 'panel.conflict-declared', subject: `case/${id}`, ...as('bob', 'panel') },
      ]);
      for (const key of ['alice', 'chair'] as const) {
        const scored = await w.t.request('POST', `/api/v1/cases/${id}/scores`, { token: w.tokens[key], body: scores(4) });
        await expectAppended('POST /api/v1/cases/{id}/scores', scored, [
          { action: 'panel.scored', subject: `case/${id}`, ...as(key, 'panel') },
        ]);
      }
      const moderated = await w.t.request('POST', `/api/v1/cases/${id}/moderation`, {
        token: w.tokens.chair,
        body: { score: 4.5, reason: 'Strong partnership evidence.' },
      });
      await expectAppended('POST /api/v1/cases/{id}/moderation', moderated, [
        { action: 'panel.moderated', subject: `case/${id}`, ...as('chair', 'panel') },
      ]);
      const seq = await lastSeq(w);
      const decided = await w.t.request('POST', `/api/v1/cases/${id}/decision`, {
        token: w.tokens.chair,
        body: { outcome: 'approve', reasons: 'Good value for money and a credible delivery plan.' },
      });
      await expectAppended('POST /api/v1/cases/{id}/decision', decided, [
        { action: 'case.approved', subject: `case/${id}`, ...as('chair', 'panel'), transfers: await transfersSince(seq) },
      ]);

      const claimed = await claim(w, id, 1);
      await expectAppended('POST /api/v1/cases/{id}/tranches/{n}/claim', claimed, [
        { action: 'tranche.claimed', subject: `case/${id}/tranche/1`, ...bradford },
      ]);
      const before = await lastSeq(w);
      const released = await approve(w, id, 1, w.tokens.alice);
      const releaseTransfers = await transfersSince(before);
      expect(releaseTransfers.length).toBeGreaterThan(0);
      await expectAppended('POST /api/v1/cases/{id}/tranches/{n}/approve', released, [
        { action: 'tranche.approved', subject: `case/${id}/tranche/1`, ...as('alice', 'panel') },
        { action: 'tranche.released', subject: `case/${id}/tranche/1`, ...as('alice', 'panel'), transfers: releaseTransfers },
      ]);

      const forecast = await w.t.request('POST', `/api/v1/cases/${id}/benefit-forecasts`, {
        token: w.tokens.bradford,
        body: { benefitLineIndex: 0, year: '2026-27', forecastPence: 1_500_000_00, reason: 'Slower mobilisation than planned.' },
      });
      await expectAppended('POST /api/v1/cases/{id}/benefit-forecasts', forecast, [
        { action: 'benefit.forecast-revised', subject: `case/${id}`, ...bradford },
      ]);

      const other = await approvedCase(w, { title: 'Terminated', tranches: [{ basisPoints: 5000 }, { basisPoints: 5000 }] });
      await skipSetUp();
      const seq2 = await lastSeq(w);
      const ended = await terminate(w, other, w.tokens.bob);
      await expectAppended('POST /api/v1/cases/{id}/terminate', ended, [
        { action: 'case.terminated', subject: `case/${other}`, ...as('bob', 'panel'), transfers: await transfersSince(seq2) },
      ]);
    });

    it('records a value-for-money override by treasury', async () => {
      const id = await submitted(w, caseWithBcr(w.roundId, 0.8, 'Poor value, overridden'));
      await skipSetUp();
      const r = await w.t.request('POST', `/api/v1/cases/${id}/vfm-override`, { body: { reason: 'Wider social value justifies it.' } });
      await expectAppended('POST /api/v1/cases/{id}/vfm-override', r, [
        { action: 'case.vfm-overridden', subject: `case/${id}`, ...treasury() },
      ]);
    });
  });

  describe('disposals', () => {
    it('sets a target and records a disposal', async () => {
      await skipSetUp();
      const target = await w.t.request('PUT', '/api/v1/places/BRADFORD/disposal-targets', {
        body: { financialYear: '2026-27', departmentCode: 'DHSC', targetPence: 1_000_000_00 },
      });
      await expectAppended('PUT /api/v1/places/{code}/disposal-targets', target, [
        { action: 'disposal-target.set', subject: 'place/BRADFORD/disposal-targets', ...treasury() },
      ]);
      const d = await w.t.request('POST', '/api/v1/places/BRADFORD/disposals', {
        token: w.tokens.dhsc,
        body: { disposedOn: '2026-05-20', asset: 'Former health centre, Manningham Lane', receiptPence: 1_200_000_00 },
      });
      await expectAppended('POST /api/v1/places/{code}/disposals', d, [
        { action: 'disposal.recorded', subject: `disposal/${d.body.id}`, ...as('dhsc', 'department') },
      ]);
    });
  });

  describe('the savings-credits year end and market', () => {
    // A world of its own: a year with verified savings (test/support/credits.ts), replacing the one above.
    beforeAll(async () => {
      await w.t.destroy();
      w = await creditsWorld(engine);
      seen = await headPosition();
    }, 120_000);

    const req = (method: string, path: string, token?: string, body?: unknown) => w.t.request(method, `/api/v1${path}`, { token, body });
    const propose = (token: string, body: Record<string, unknown>) =>
      req('POST', '/credits/bilateral-trades', token, { financialYear: '2026-27', vintage: '2026-27', ...body });

    it('closes the year, sets prices, places, cancels and trades, and runs compliance, each with its entry and transfers', async () => {
      let seq = await lastSeq(w);
      const closed = await req('POST', '/financial-years/2026-27/close');
      const issued = await transfersSince(seq);
      expect(issued.map((x) => x.id)).toContain('credit-issue/2026-27/DHSC');
      await expectAppended('POST /api/v1/financial-years/{fy}/close', closed, [
        { action: 'financial-year.closed', subject: 'financial-year/2026-27', ...treasury(), transfers: issued },
      ]);
      const prices = await req('PUT', '/financial-years/2026-27/credit-market', undefined, { floorPence: 50, ceilingPence: 200 });
      await expectAppended('PUT /api/v1/financial-years/{fy}/credit-market', prices, [
        { action: 'credit-market.prices-set', subject: 'financial-year/2026-27/credit-market', ...treasury() },
      ]);

      seq = await lastSeq(w);
      const buy = await req('POST', '/credits/orders', w.tokens.dwp, {
        financialYear: '2026-27',
        side: 'buy',
        quantity: 10,
        limitPricePence: 150,
      });
      await expectAppended('POST /api/v1/credits/orders', buy, [
        {
          action: 'credit-order.placed',
          subject: `credit-order/${buy.body.order.id}`,
          ...as('dwp', 'department'),
          transfers: await transfersSince(seq),
        },
      ]);
      seq = await lastSeq(w);
      const cancelled = await req('POST', `/credits/orders/${buy.body.order.id}/cancel`, w.tokens.dwp, {});
      await expectAppended('POST /api/v1/credits/orders/{id}/cancel', cancelled, [
        {
          action: 'credit-order.cancelled',
          subject: `credit-order/${buy.body.order.id}`,
          ...as('dwp', 'department'),
          transfers: await transfersSince(seq),
        },
      ]);

      seq = await lastSeq(w);
      const p = await propose(w.tokens.dhsc, { counterpartyCode: 'MOJ', side: 'sell', quantity: 10, pricePence: 120 });
      await expectAppended('POST /api/v1/credits/bilateral-trades', p, [
        {
          action: 'bilateral-trade.proposed',
          subject: `bilateral-trade/${p.body.id}`,
          ...as('dhsc', 'department'),
          transfers: await transfersSince(seq),
        },
      ]);
      seq = await lastSeq(w);
      const accepted = await req('POST', `/credits/bilateral-trades/${p.body.id}/accept`, w.tokens.moj, {});
      const legs = await transfersSince(seq);
      expect(legs.map((x) => x.id)).toContain(`trade/${accepted.body.tradeId}/cash`);
      await expectAppended('POST /api/v1/credits/bilateral-trades/{id}/accept', accepted, [
        { action: 'bilateral-trade.accepted', subject: `bilateral-trade/${p.body.id}`, ...as('moj', 'department'), transfers: legs },
      ]);
      const d = await propose(w.tokens.dhsc, { counterpartyCode: 'DWP', side: 'sell', quantity: 5, pricePence: 110 });
      await skipSetUp();
      seq = await lastSeq(w);
      const declined = await req('POST', `/credits/bilateral-trades/${d.body.id}/decline`, w.tokens.dwp, {});
      await expectAppended('POST /api/v1/credits/bilateral-trades/{id}/decline', declined, [
        {
          action: 'bilateral-trade.declined',
          subject: `bilateral-trade/${d.body.id}`,
          ...as('dwp', 'department'),
          transfers: await transfersSince(seq),
        },
      ]);
      const x = await propose(w.tokens.moj, { counterpartyCode: 'DWP', side: 'buy', quantity: 5, pricePence: 110 });
      await skipSetUp();
      seq = await lastSeq(w);
      const withdrawn = await req('POST', `/credits/bilateral-trades/${x.body.id}/withdraw`, w.tokens.moj, {});
      await expectAppended('POST /api/v1/credits/bilateral-trades/{id}/withdraw', withdrawn, [
        {
          action: 'bilateral-trade.withdrawn',
          subject: `bilateral-trade/${x.body.id}`,
          ...as('moj', 'department'),
          transfers: await transfersSince(seq),
        },
      ]);

      seq = await lastSeq(w);
      const compliance = await req('POST', '/financial-years/2026-27/compliance');
      const surrendered = await transfersSince(seq);
      expect(surrendered.length).toBeGreaterThan(0);
      await expectAppended('POST /api/v1/financial-years/{fy}/compliance', compliance, [
        { action: 'compliance.run', subject: 'financial-year/2026-27/compliance', ...treasury(), transfers: surrendered },
      ]);
    });
  });

  describe('the routes, walked from the OpenAPI document', () => {
    it('names the audit entries of every state-changing route, and no route that is not one', async () => {
      const doc = (await w.t.request('GET', '/openapi.json')).body;
      const routes: string[] = [];
      for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>))
        for (const method of Object.keys(ops))
          if (['post', 'put', 'patch', 'delete'].includes(method)) routes.push(`${method.toUpperCase()} ${path}`);
      expect(routes.length).toBeGreaterThan(30);
      expect(
        routes.filter((r) => !(r in AUDITED)),
        'state-changing routes with no audit expectation',
      ).toEqual([]);
      expect(
        Object.keys(AUDITED).filter((r) => !routes.includes(r)),
        'expectations for routes that do not exist',
      ).toEqual([]);
    });
  });
});
