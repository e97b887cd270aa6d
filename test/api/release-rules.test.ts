import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleCase } from '../support/cases.ts';
import { engines } from '../support/db.ts';
import { approve, approvedCase, claim, scoreToQuorum, submitted, tranches, type World, world } from '../support/releases.ts';

/** Rules that join the panel and releases: conflicts reach releases, and decisions do not race. */
describe.each(engines())('panel rules on releases on %s', (engine) => {
  let w: World;
  beforeAll(async () => {
    w = await world(engine);
  });
  afterAll(() => w.t.destroy());

  it('refuses a release approval from a panel member with a declared conflict', async () => {
    const id = await approvedCase(w, { leadPence: 300_000_00 });
    expect(
      (
        await w.t.request('POST', `/api/v1/cases/${id}/conflicts`, {
          token: w.tokens.bob,
          body: { reason: 'A former employer of mine delivers it.' },
        })
      ).status,
    ).toBe(201);
    expect((await claim(w, id, 1)).status).toBe(200);
    const refused = await approve(w, id, 1, w.tokens.bob);
    expect(refused.status).toBe(403);
    expect(refused.body.type).toBe('/problems/conflict-of-interest');
    expect((await tranches(w, id))[0].status).toBe('claimed');
    expect((await approve(w, id, 1, w.tokens.alice)).body.status).toBe('released');
  });

  it('refuses termination and clawback from a panel member with a declared conflict', async () => {
    const id = await approvedCase(w, { leadPence: 200_000_00 });
    await w.t.request('POST', `/api/v1/cases/${id}/conflicts`, {
      token: w.tokens.alice,
      body: { reason: 'My partner works for the provider.' },
    });
    const terminate = await w.t.request('POST', `/api/v1/cases/${id}/terminate`, {
      token: w.tokens.alice,
      body: { reason: 'Stopping it.' },
    });
    expect(terminate.status).toBe(403);
    expect(terminate.body.type).toBe('/problems/conflict-of-interest');
    const claw = await w.t.request('POST', `/api/v1/cases/${id}/clawbacks`, {
      token: w.tokens.alice,
      body: { kind: 'refund', amountPence: 1, reason: 'Test' },
    });
    expect(claw.status).toBe(403);
    expect((await w.t.request('GET', `/api/v1/cases/${id}`)).body.status).toBe('approved');
  });

  it('refuses a basis-point split that would leave a tranche at £0, and reports a termination at the full reservation', async () => {
    const tiny = await submitted(w, simpleCase(w.roundId, { leadPence: 1, matchPence: 1, volume: 1, title: 'Tiny' }));
    await scoreToQuorum(w, tiny);
    const split = await w.t.request('POST', `/api/v1/cases/${tiny}/decision`, {
      token: w.tokens.chair,
      body: {
        outcome: 'approve',
        reasons: 'Tiny award.',
        amountPence: 1,
        tranches: [
          { basisPoints: 5000, earliestOn: '2026-06-01', condition: 'First half' },
          { basisPoints: 5000, earliestOn: '2026-06-01', condition: 'Second half' },
        ],
      },
    });
    expect(split.status).toBe(400);
    expect(split.body.errors[0].pointer).toBe('/tranches');

    const id = await approvedCase(w, {
      leadPence: 900_000_00,
      tranches: [
        { basisPoints: 5000, earliestOn: '2026-06-01' },
        { basisPoints: 5000, earliestOn: '2026-06-01' },
      ],
    });
    expect((await claim(w, id, 1)).status).toBe(200);
    expect((await approve(w, id, 1, w.tokens.alice)).body.status).toBe('released');
    await w.t.request('POST', `/api/v1/cases/${id}/clawbacks`, {
      body: { kind: 'offset', amountPence: 100_00, reason: 'Overpaid', trancheNumber: 2 },
    });
    const ended = await w.t.request('POST', `/api/v1/cases/${id}/terminate`, { body: { reason: 'Stopped delivering.' } });
    const award = (await w.t.request('GET', `/api/v1/cases/${id}/award`)).body;
    expect(ended.body.voidedPence).toBe(award.voidedPence);
    expect(award.releasedPence + award.committedPence + award.voidedPence).toBe(award.awardPence);
  });

  it('refuses line amounts and volumes that no real case has, rather than failing to answer', async () => {
    const body = simpleCase(w.roundId, { title: 'Huge' });
    body.costs[0].amountPence = 2 ** 52;
    body.benefits[0].volumes = { '2026-27': 2 ** 40 };
    const r = await w.t.request('POST', '/api/v1/cases', { token: w.tokens.bradford, body });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual([
      '/benefits/0/volumes/2026-27',
      '/costs/0/amountPence',
    ]);
  });

  it('shows a department only the benefit rows and reports attributed to it', async () => {
    const body = simpleCase(w.roundId, { title: 'Two beneficiaries' });
    body.benefits.push({ ...body.benefits[0], outcome: 'Benefit claims avoided', beneficiaryCode: 'DWP', cashable: false });
    const id = await approvedCase(w, { body });
    const report = async (line: number) =>
      (
        await w.t.request('POST', `/api/v1/cases/${id}/benefit-reports`, {
          token: w.tokens.bradford,
          body: { benefitLineIndex: line, year: '2026-27', claimedPence: 1_000_00, evidence: 'Matched activity data for the year.' },
        })
      ).body.id as string;
    const icbReport = await report(0);
    const dwpReport = await report(1);
    expect((await w.t.request('GET', `/api/v1/benefit-reports/${icbReport}`, { token: w.tokens.dwp })).status).toBe(404);
    expect((await w.t.request('GET', `/api/v1/benefit-reports/${dwpReport}`, { token: w.tokens.dwp })).status).toBe(200);
    expect((await w.t.request('GET', `/api/v1/benefit-reports/${icbReport}`, { token: w.tokens.dhsc })).status).toBe(200);
    const rows = (await w.t.request('GET', `/api/v1/cases/${id}/benefits`, { token: w.tokens.dwp })).body;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r: { departmentCode: string }) => r.departmentCode === 'DWP')).toBe(true);
    const all = (await w.t.request('GET', `/api/v1/cases/${id}/benefits`, { token: w.tokens.bradford })).body;
    expect(new Set(all.map((r: { departmentCode: string }) => r.departmentCode))).toEqual(new Set(['DHSC', 'DWP']));
  });

  it('keeps each council to its own ledger accounts and transfers', async () => {
    await approvedCase(w, { leadPence: 150_000_00, title: 'Bradford ledger' });
    const base = simpleCase(w.roundId, { title: 'Lewisham ledger' });
    const lewisham = {
      ...base,
      placeCode: 'LEWISHAM',
      theme: 'alcohol-and-drugs',
      partnerCodes: ['PROBATION-LONDON', 'LEWISHAM-GREENWICH-NHS'],
      costs: base.costs.map((c: { payerCode: string }, i: number) => ({ ...c, payerCode: i === 0 ? 'LEWISHAM' : 'PROBATION-LONDON' })),
      benefits: base.benefits.map((b: object) => ({ ...b, beneficiaryCode: 'LEWISHAM-GREENWICH-NHS' })),
    };
    await approvedCase(w, { body: lewisham, token: w.tokens.lewisham });
    const mine = await w.t.request('GET', '/api/v1/ledger/accounts', { token: w.tokens.lewisham });
    expect(mine.body.map((a: { id: string }) => a.id)).toEqual(['GBP/2026-27/council/LEWISHAM']);
    const transfers = (await w.t.request('GET', '/api/v1/ledger/transfers', { token: w.tokens.lewisham })).body.transfers;
    expect(transfers.map((x: { code: string; pending: boolean }) => [x.code, x.pending])).toEqual([['commitment', true]]);
    expect(transfers.every((x: { creditAccountId: string }) => x.creditAccountId === 'GBP/2026-27/council/LEWISHAM')).toBe(true);
    const other = await w.t.request('GET', '/api/v1/ledger/transfers?account=GBP/2026-27/council/BRADFORD', { token: w.tokens.lewisham });
    expect(other.status).toBe(403);
    expect((await w.t.request('GET', '/api/v1/ledger/accounts?organisation=BRADFORD', { token: w.tokens.lewisham })).status).toBe(403);
  });

  it('lets exactly one decision win when an approval and a rejection race, and leaves no reservation behind a rejection', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = await submitted(
        w,
        simpleCase(w.roundId, { leadPence: 100_000_00, matchPence: 11_200_00, volume: 3_000, title: `Race ${i}` }),
      );
      await scoreToQuorum(w, id);
      ids.push(id);
    }
    await Promise.all(
      ids.flatMap((id) => [
        w.t.request('POST', `/api/v1/cases/${id}/decision`, {
          token: w.tokens.chair,
          body: { outcome: 'approve', reasons: 'Within the envelope.' },
        }),
        w.t.request('POST', `/api/v1/cases/${id}/decision`, {
          token: w.tokens.alice,
          body: { outcome: 'reject', reasons: 'Weak evidence.' },
        }),
      ]),
    );
    for (const id of ids) {
      const c = (await w.t.request('GET', `/api/v1/cases/${id}`)).body;
      expect(c.decisions, id).toHaveLength(1);
      const pending = (await tranches(w, id)).filter((t: { status: string }) => t.status === 'scheduled');
      expect(c.status === 'approved' ? pending.length > 0 : pending.length === 0, `${id} ${c.status}`).toBe(true);
    }
    expect((await w.t.request('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });
});
