import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleCase } from '../support/cases.ts';
import { engines } from '../support/db.ts';
import { approve, approvedCase, claim, expectProblem, parameters, type World, world } from '../support/releases.ts';
import { webClient } from '../support/web.ts';

/*
 * One case's whole history in the audit log (`GET /api/v1/audit-log?case=`, and the Case filter of
 * the audit log page): the entries about the case itself, its tranches and its benefit reports,
 * oldest first, by the case's id or its reference, a page at a time, and nothing about any other
 * case.
 */

interface Entry {
  position: string;
  action: string;
  subject: string;
}

describe.each(engines())("a case's audit history on %s", (engine) => {
  let w: World;
  let id: string;
  let reference: string;
  let report: string;
  let other: string;
  beforeAll(async () => {
    w = await world(engine);
    id = await approvedCase(w);
    other = await approvedCase(w, {
      body: { ...simpleCase(w.roundId, { title: 'Lewisham pilot' }), placeCode: 'LEWISHAM' },
      token: w.tokens.lewisham,
    });
    reference = (await w.t.request('GET', `/api/v1/cases/${id}`)).body.reference;
    expect((await claim(w, id, 1)).status).toBe(200);
    expect((await approve(w, id, 1, w.tokens.alice)).status).toBe(200);
    expect((await claim(w, other, 1, w.tokens.lewisham)).status).toBe(200);
    const filed = await w.t.request('POST', `/api/v1/cases/${id}/benefit-reports`, {
      token: w.tokens.bradford,
      body: { benefitLineIndex: 0, year: '2026-27', claimedPence: 50_000, evidence: 'Cohort records, matched.' },
    });
    expect(filed.status, filed.text).toBe(201);
    report = filed.body.id;
    expect((await w.t.request('POST', `/api/v1/benefit-reports/${report}/verify`, { body: {} })).status).toBe(200);
  });
  afterAll(() => w?.t.destroy());

  const history = async (query: string, token?: string) => w.t.request('GET', `/api/v1/audit-log?${query}`, { token });

  it('gives the case, its tranches and its benefit reports, oldest first, and nothing of another case', async () => {
    const r = await history(`case=${id}&limit=500`, w.tokens.auditor);
    expect(r.status, r.text).toBe(200);
    const entries: Entry[] = r.body.entries;
    const positions = entries.map((e) => BigInt(e.position));
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(entries.map((e) => e.subject))).toEqual(new Set([`case/${id}`, `case/${id}/tranche/1`, `benefit-report/${report}`]));
    const actions = entries.map((e) => e.action);
    for (const action of [
      'case.drafted',
      'case.submitted',
      'panel.scored',
      'case.approved',
      'tranche.claimed',
      'tranche.released',
      'benefit.reported',
      'benefit.verified',
    ])
      expect(actions).toContain(action);
    // Every entry the log holds about these subjects, and only those.
    const all: Entry[] = (await history('limit=500')).body.entries;
    const mine = all.filter(
      (e) => e.subject === `case/${id}` || e.subject.startsWith(`case/${id}/`) || e.subject === `benefit-report/${report}`,
    );
    expect(entries).toEqual(mine);
    expect(all.some((e) => e.subject.startsWith(`case/${other}`))).toBe(true);
  });

  it('finds the case by its reference too, and pages through the history exactly once', async () => {
    const whole: Entry[] = (await history(`case=${reference}&limit=500`)).body.entries;
    expect(whole).toEqual((await history(`case=${id}&limit=500`)).body.entries);
    const paged: Entry[] = [];
    let after: string | null = null;
    do {
      const page = await history(`case=${reference}&limit=3${after ? `&after=${after}` : ''}`);
      expect(page.status, page.text).toBe(200);
      paged.push(...page.body.entries);
      after = page.body.nextAfter;
    } while (after);
    expect(paged).toEqual(whole);
  });

  it('refuses a case that does not exist by name, and a value that is neither an id nor a reference', async () => {
    expectProblem(await history('case=TP-2026-27-999'), 404, 'case-not-found');
    expectProblem(await history('case=00000000-0000-4000-8000-000000000000'), 404, 'case-not-found');
    for (const bad of ['case/1', 'TP-2026-27', "TP-2026-27-001' or 1=1"]) {
      const r = await history(`case=${encodeURIComponent(bad)}`);
      expect(r.status, bad).toBe(400);
      expect(parameters(r.body)).toEqual(['case']);
    }
  });

  it('is read by treasury and auditors only', async () => {
    for (const token of [w.tokens.bradford, w.tokens.dhsc, w.tokens.alice]) expect((await history(`case=${id}`, token)).status).toBe(403);
  });

  it("is one link from the panel's case page, for those who read the audit log, and filters the audit log page", async () => {
    const auditor = webClient(w.t);
    await auditor.signIn(w.tokens.auditor);
    const page = await auditor.get(`/panel/cases/${id}`);
    expect(page.status).toBe(200);
    const href = page.$('#history-link').attr('href');
    expect(href).toBe(`/audit-log?case=${reference}`);
    const log = await auditor.get(href as string);
    expect(log.status).toBe(200);
    // It says whose history it is, leads back to the case, and shows the transfers' amounts in pounds.
    expect(log.$('h1').text()).toBe(`Audit history of ${reference}`);
    expect(log.$('.govuk-back-link').attr('href')).toBe(`/panel/cases/${id}`);
    expect(log.$('#audit-entries').text()).toMatch(/GBP\/2026-27\/fund → GBP\/2026-27\/council\/BRADFORD, £[\d,]+\.\d\d\)/);
    const subjects = log
      .$('#audit-entries tbody tr th > span.govuk-body-s')
      .map((_, el) => log.$(el).text())
      .get();
    expect(new Set(subjects)).toEqual(new Set([`case/${id}`, `case/${id}/tranche/1`, `benefit-report/${report}`]));
    const missing = await auditor.get('/audit-log?case=TP-2026-27-999');
    expect(missing.status).toBe(404);
    expect(missing.$('#case-error').text()).toContain('There is no case TP-2026-27-999');
    const panel = webClient(w.t);
    await panel.signIn(w.tokens.alice);
    expect((await panel.get(`/panel/cases/${id}`)).$('#history-link')).toHaveLength(0);
  });
});
