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
