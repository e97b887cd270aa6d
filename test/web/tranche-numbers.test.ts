import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../support/db.ts';
import { approvedCase, claim, type World, world } from '../support/releases.ts';
import { webClient } from '../support/web.ts';

/*
 * A tranche number in a page's address is digits only, as in the API (TrancheNumber): the
 * council's claim page and form and the panel's approval form refuse 0x1, 1e0, 1.0 and +1 rather
 * than reading them as tranche 1.
 */
const ODD = ['0x1', '1e0', '1.0', '+1', '%201'];

describe.each(engines())('tranche numbers in page addresses on %s', (engine) => {
  let w: World;
  beforeAll(async () => {
    w = await world(engine);
  });
  afterAll(() => w?.t.destroy());

  const firstTranche = async (id: string) => (await w.t.request('GET', `/api/v1/cases/${id}/tranches`)).body[0];

  it("are digits only on the council's claim page and form", async () => {
    const id = await approvedCase(w, { title: 'Web claim' });
    const council = webClient(w.t);
    await council.signIn(w.tokens.bradford);
    expect((await council.get(`/cases/${id}/tranches/1/claim`)).status).toBe(200);
    for (const n of ODD) expect((await council.get(`/cases/${id}/tranches/${n}/claim`)).status, n).toBe(404);
    await council.get(`/cases/${id}/tranches/1/claim`);
    await council.post(`/cases/${id}/tranches/0x1/claim`, { evidence: 'Signed partnership agreement, attached.' });
    expect((await firstTranche(id)).status).toBe('scheduled');
  });

  it("are digits only on the panel's approval form", async () => {
    const id = await approvedCase(w, { title: 'Web approval' });
    expect((await claim(w, id, 1)).status).toBe(200);
    const panel = webClient(w.t);
    await panel.signIn(w.tokens.alice);
    await panel.get('/approvals');
    for (const n of ODD) expect((await panel.post(`/approvals/${id}/${n}`, {})).status, n).toBe(422);
    expect((await firstTranche(id)).status).toBe('claimed');
  });
});
