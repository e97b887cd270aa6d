import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPence } from '../../src/lib/money.ts';
import { ratio } from '../../src/lib/templates.ts';
import { caseWithBcr } from '../support/cases.ts';
import { engines } from '../support/db.ts';
import { claim, submitted, type World, world } from '../support/releases.ts';
import { type Page, webClient } from '../support/web.ts';

const CRITERIA = ['strategic-fit', 'value-for-money', 'evidence', 'deliverability', 'partnership'] as const;

/** The score form's fields: one score and one justification per criterion. */
function scoreFields(score: number | Record<string, string>, justification = 'Scored against the published guidance.') {
  const out: Record<string, string> = {};
  for (const k of CRITERIA) {
    const s = typeof score === 'number' ? String(score) : score[k];
    if (s !== undefined) out[`score-${k}`] = s;
    out[`justification-${k}`] = justification;
  }
  return out;
}

const text = (page: Page, selector: string) => page.$(selector).text().replace(/\s+/g, ' ').trim();
const rowIds = (page: Page, table: string) =>
  page
    .$(`${table} tbody tr`)
    .map((_, tr) => page.$(tr).attr('data-case-id'))
    .get();

describe.each(engines())('the panel’s pages (%s)', (engine) => {
  let w: World;
  let carol: string;
  let strong: string;
  let weak: string;
  let scripted: string;
  const as = async (token: string) => {
    const web = webClient(w.t);
    await web.signIn(token);
    await web.get('/'); // the signed-in session's form token
    return web;
  };
  const api = async (path: string, token = w.tokens.chair) => {
    const r = await w.t.request('GET', `/api/v1${path}`, { token });
    expect(r.status, r.text).toBe(200);
    return r.body;
  };

  beforeAll(async () => {
    // Every tranche needs two approvers, so the four-eyes rule shows on the approvals page.
    w = await world(engine, { twoApproverThresholdPence: 1_00 });
    carol = await w.t.userToken({ name: 'Carol', role: 'panel' });
    weak = await submitted(w, caseWithBcr(w.roundId, 1.5, 'Weaker resettlement pilot'));
    strong = await submitted(w, caseWithBcr(w.roundId, 3, 'Stronger resettlement pilot'));
    scripted = await submitted(w, caseWithBcr(w.roundId, 2, '<script>alert("owned")</script> pilot'));
  });
  afterAll(() => w.t.destroy());

  it('lists the rounds and a round’s submitted cases with their appraisal, sortable by BCR with plain links', async () => {
    const alice = await as(w.tokens.alice);
    const rounds = await alice.get('/rounds');
    expect(rounds.status).toBe(200);
    expect(rounds.title).toBe('Funding rounds – topslice');
    expect(rounds.$(`a[href="/rounds/${w.roundId}"]`).length).toBe(1);

    const round = await alice.get(`/rounds/${w.roundId}`);
    expect(round.status).toBe(200);
    expect(round.$('h1').length).toBe(1);
    expect(round.$(`a[href="/rounds/${w.roundId}?sort=bcr"]`).length).toBe(1);
    const byBcr = await alice.get(`/rounds/${w.roundId}?sort=bcr`);
    expect(rowIds(byBcr, '#round-cases')).toEqual([strong, scripted, weak]);
    const row = byBcr.$(`#round-cases tr[data-case-id="${strong}"]`);
    const appraisal = await api(`/cases/${strong}/appraisal`);
    expect(row.find('.app-bcr').text()).toBe(ratio(appraisal.bcr));
    expect(row.text()).toContain('Not scored');
    expect(byBcr.$('.govuk-table__cell--numeric').length).toBeGreaterThan(0);
  });

  it('two panel members score a case through the pages; a score without a justification points at its field', async () => {
    const alice = await as(w.tokens.alice);
    const form = await alice.get(`/panel/cases/${strong}/scores`);
    expect(form.status).toBe(200);
    expect(form.$('input[name="score-evidence"]').length).toBe(6);
    expect(form.$('label[for="scores-2-justification"]').length).toBe(1);

    const bad = await alice.post(`/panel/cases/${strong}/scores`, {
      ...scoreFields({ 'strategic-fit': '4', 'value-for-money': '4', evidence: '3', deliverability: '4' }),
      'justification-evidence': 'Thin.',
    });
    expect(bad.status).toBe(400);
    expect(bad.title).toMatch(/^Error: Score TP-\S+ – topslice$/);
    expect(bad.errorSummary).toEqual([
      'The justification for Evidence strength must explain the score in at least 10 characters',
      'Select a score for Partnership',
    ]);
    expect(
      bad
        .$('.govuk-error-summary a')
        .map((_, a) => bad.$(a).attr('href'))
        .get(),
    ).toEqual(['#scores-2-justification', '#scores-4-score']);
    expect(text(bad, '#scores-2-justification-error')).toContain('must explain the score');
    expect(bad.$('#scores-2-justification').text()).toBe('Thin.');
    expect(bad.$('input[name="score-evidence"][value="3"]').attr('checked')).toBeDefined();
    expect((await api(`/cases/${strong}/scores`)).members).toEqual([]);

    const ok = await alice.post(`/panel/cases/${strong}/scores`, scoreFields(4));
    expect(ok.status).toBe(303);
    expect(ok.location).toBe(`/panel/cases/${strong}?done=scored`);
    const page = await alice.follow(ok);
    expect(text(page, '.govuk-notification-banner')).toContain('Your scores have been saved');
    expect(
      page
        .$('#criteria .app-your-score')
        .map((_, td) => page.$(td).text())
        .get(),
    ).toEqual(['4', '4', '4', '4', '4']);

    const bob = await as(w.tokens.bob);
    expect((await bob.post(`/panel/cases/${strong}/scores`, scoreFields(3))).status).toBe(303);
    const board = await api(`/cases/${strong}/scores`);
    expect(board).toMatchObject({ completeMembers: 2, quorumMet: true, meanScore: 3.5 });
    expect(text(await bob.get(`/rounds/${w.roundId}`), `#round-cases tr[data-case-id="${strong}"]`)).toContain('Scored');
    // The weak case too, so the ranking has two scored cases.
    for (const token of [w.tokens.alice, w.tokens.bob]) {
      const r = await w.t.request('POST', `/api/v1/cases/${weak}/scores`, {
        token,
        body: { scores: CRITERIA.map((criterion) => ({ criterion, score: 2, justification: 'Weak evidence of impact.' })) },
      });
      expect(r.status).toBe(200);
    }
  });

  it('refuses a conflicted member the GOV.UK way: the declaration is kept, scoring is refused', async () => {
    const web = await as(carol);
    const empty = await web.post(`/panel/cases/${strong}/conflict`, { reason: '  ' });
    expect(empty.status).toBe(400);
    expect(empty.errorSummary).toEqual(['Reason must not be empty']);
    expect(empty.$('.govuk-error-summary a').attr('href')).toBe('#reason');

    const declared = await web.post(`/panel/cases/${strong}/conflict`, { reason: 'Formerly seconded to West Yorkshire ICB.' });
    expect(declared.status).toBe(303);
    const page = await web.follow(declared);
    expect(text(page, '#conflict-notice')).toContain('You declared a conflict of interest');
    expect(page.$('#score-link').length).toBe(0);

    const form = await web.get(`/panel/cases/${strong}/scores`);
    expect(form.status).toBe(403);
    expect(form.title).toBe('You cannot do this – topslice');
    expect(text(form, 'main')).toContain('You declared a conflict of interest in');
    const post = await web.post(`/panel/cases/${strong}/scores`, scoreFields(5));
    expect(post.status).toBe(403);
    expect(text(post, 'main')).toContain('so you can neither score nor decide it');
    const board = await api(`/cases/${strong}/scores`);
    expect(board.completeMembers).toBe(2);
    expect(board.conflicts.map((x: { reason: string }) => x.reason)).toEqual(['Formerly seconded to West Yorkshire ICB.']);
  });

  it('keeps moderation to the chair (403), and lets any member record the decision, as the API does', async () => {
    const alice = await as(w.tokens.alice);
    const moderation = await alice.get(`/panel/cases/${strong}/moderation`);
    expect(moderation.status).toBe(403);
    expect(moderation.title).toBe('You cannot do this – topslice');
    expect((await alice.post(`/panel/cases/${strong}/moderation`, { score: '3', reason: 'Not mine to moderate.' })).status).toBe(403);
    const form = await alice.get(`/panel/cases/${strong}/decision`);
    expect(form.status).toBe(200);
    expect((await alice.get(`/panel/cases/${strong}`)).$('#moderation-link').length).toBe(0);
    expect((await api(`/cases/${strong}/decisions`)).length).toBe(0);
  });

  it('the chair moderates and approves with a tranche schedule; the ranking and decision shown are the API’s', async () => {
    const chair = await as(w.tokens.chair);
    const badScore = await chair.post(`/panel/cases/${strong}/moderation`, { score: 'high', reason: 'Strong partnership.' });
    expect(badScore.status).toBe(400);
    expect(badScore.$('.govuk-error-summary a').attr('href')).toBe('#score');
    expect(badScore.$('#reason').text()).toBe('Strong partnership.');
    const moderated = await chair.post(`/panel/cases/${strong}/moderation`, { score: '3.75', reason: 'Strong partnership evidence.' });
    expect(moderated.status).toBe(303);
    expect((await api(`/cases/${strong}/scores`)).moderatedScore).toBe(3.75);

    const requested = (await api(`/cases/${strong}`)).requestedPence as number;
    const first = Math.floor(requested / 2);
    const form = await chair.get(`/panel/cases/${strong}/decision`);
    expect(form.status).toBe(200);
    expect(form.$('#amount').attr('value')).toBe(`${Math.floor(requested / 100)}.${String(requested % 100).padStart(2, '0')}`);

    const wrong = await chair.post(`/panel/cases/${strong}/decision`, {
      reasons: 'Strong case.',
      amount: '1.234',
      'tranches-0-amount': 'lots',
      'tranches-0-day': '31',
      'tranches-0-month': '2',
      'tranches-0-year': '2027',
      'tranches-0-condition': 'Signed agreement',
    });
    expect(wrong.status).toBe(400);
    const hrefs = wrong
      .$('.govuk-error-summary a')
      .map((_, a) => wrong.$(a).attr('href'))
      .get();
    expect(hrefs).toEqual(expect.arrayContaining(['#outcome', '#amount', '#tranches-0-amountPence']));
    expect(wrong.$('#tranches-0-amountPence').attr('value')).toBe('lots');
    expect(wrong.$('#tranches-0-condition').attr('value')).toBe('Signed agreement');
    expect((await api(`/cases/${strong}/decisions`)).length).toBe(0);

    const tooMuch = await chair.post(`/panel/cases/${strong}/decision`, {
      outcome: 'approve',
      reasons: 'Strong case.',
      amount: formatPence(BigInt(requested + 1)),
    });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.$('.govuk-error-summary a').attr('href')).toBe('#amount');
    const reference = (await api(`/cases/${strong}`)).reference;
    expect(tooMuch.errorSummary).toEqual([
      `${formatPence(BigInt(requested + 1))} is more than the ${formatPence(BigInt(requested))} ${reference} asked for.`,
    ]);
    expect(tooMuch.$('#amount').attr('value')).toBe(formatPence(BigInt(requested + 1)));

    const badDate = await chair.post(`/panel/cases/${strong}/decision`, {
      outcome: 'approve',
      reasons: 'Strong case.',
      amount: formatPence(BigInt(requested)),
      'tranches-0-amount': formatPence(BigInt(first)),
      'tranches-0-day': '31',
      'tranches-0-month': '2',
      'tranches-0-year': '2027',
      'tranches-0-condition': 'Signed agreement',
      'tranches-1-amount': formatPence(BigInt(requested - first)),
      'tranches-1-day': '1',
      'tranches-1-month': '12',
      'tranches-1-year': '2026',
      'tranches-1-condition': 'Service live',
    });
    expect(badDate.status).toBe(400);
    expect(
      badDate
        .$('.govuk-error-summary a')
        .map((_, a) => badDate.$(a).attr('href'))
        .get(),
    ).toEqual(['#tranches-0-earliestOn']);
    expect(badDate.errorSummary[0]).toMatch(/^The earliest date of tranche 1 is not a real date/);

    const decided = await chair.post(`/panel/cases/${strong}/decision`, {
      outcome: 'approve',
      reasons: 'Strong case with committed partners.',
      amount: formatPence(BigInt(requested)),
      conditions: 'Quarterly benefits reports\r\nIndependent evaluation',
      'tranches-0-amount': formatPence(BigInt(first)),
      'tranches-0-day': '1',
      'tranches-0-month': '6',
      'tranches-0-year': '2026',
      'tranches-0-condition': 'Signed partnership agreement',
      'tranches-1-amount': String((requested - first) / 100),
      'tranches-1-day': '1',
      'tranches-1-month': '12',
      'tranches-1-year': '2026',
      'tranches-1-condition': 'Service live with the first cohort',
    });
    expect(decided.status, decided.errorSummary.join('; ')).toBe(303);
    const page = await chair.follow(decided);
    const [decision] = await api(`/cases/${strong}/decisions`);
    expect(decision).toMatchObject({
      outcome: 'approve',
      amountPence: requested,
      conditions: ['Quarterly benefits reports', 'Independent evaluation'],
    });
    expect(decision.tranches.map((t: { amountPence: number; earliestOn: string }) => [t.amountPence, t.earliestOn])).toEqual([
      [first, '2026-06-01'],
      [requested - first, '2026-12-01'],
    ]);
    expect(text(page, '#decision-1 .app-award')).toBe(formatPence(BigInt(decision.amountPence)));
    expect(text(page, '#decision-1')).toContain('Strong case with committed partners.');
    const trancheCells = page
      .$('#tranches tbody tr')
      .map((_, tr) => page.$(tr).find('td').eq(1).text())
      .get();
    expect(trancheCells).toEqual(decision.tranches.map((t: { amountPence: number }) => formatPence(BigInt(t.amountPence))));

    const shown = await chair.get(`/rounds/${w.roundId}/ranking`);
    const ranking = await api(`/rounds/${w.roundId}/ranking`);
    expect(rowIds(shown, '#ranking')).toEqual(ranking.cases.map((x: { caseId: string }) => x.caseId));
    for (const x of ranking.cases) {
      const row = shown.$(`#ranking tr[data-case-id="${x.caseId}"]`);
      expect(row.find('.app-rank').text()).toBe(String(x.rank));
      expect(row.find('.app-cumulative').text()).toBe(formatPence(BigInt(x.cumulativeRequestedPence)));
      expect(row.find('.app-score').text()).toContain(x.moderatedScore === null ? '–' : ratio(x.moderatedScore));
      expect(row.find('.app-bcr').text()).toBe(ratio(x.bcr));
    }
    expect(ranking.cases[0].caseId).toBe(strong);
  });

  it('shows a tranche claim to approvers with the four-eyes rule, and releases it with two independent approvals', async () => {
    expect((await claim(w, strong, 1)).status).toBe(200);
    const chair = await as(w.tokens.chair);
    const chairs = await chair.get('/approvals');
    const card = `#approve-${strong}-1-card`;
    expect(text(chairs, card)).toContain('You cannot approve this tranche: you decided to approve this case');
    expect(text(await (await as(carol)).get('/approvals'), card)).toContain('you declared a conflict of interest in this case');

    const alice = await as(w.tokens.alice);
    const before = await alice.get('/approvals');
    expect(text(before, `${card} .app-needed`)).toMatch(/^2 /);
    expect(text(before, `${card} .app-approvers`)).toBe('Nobody yet');
    const first = await alice.post(`/approvals/${strong}/1`);
    expect(first.status).toBe(303);
    // Her form sent again (a double click) gets its first answer.
    const resent = await alice.post(`/approvals/${strong}/1`);
    expect([resent.status, resent.location]).toEqual([303, first.location]);
    const after = await alice.follow(first);
    expect(text(after, '.govuk-notification-banner')).toContain('Your approval has been recorded');
    expect(text(after, `${card} .app-approvers`)).toContain('Alice');
    expect(text(after, card)).toContain('you have already approved it');
    // A new approval from her is refused.
    const again = await alice.post(`/approvals/${strong}/1`);
    expect(again.status).toBe(409);
    expect(again.errorSummary[0]).toContain('needs a second, different approver');

    const bob = await as(w.tokens.bob);
    const released = await bob.post(`/approvals/${strong}/1`);
    expect(released.location).toBe('/approvals?done=released');
    const [t1] = await api(`/cases/${strong}/tranches`);
    expect(t1.status).toBe('released');
    expect(t1.approvals.length).toBe(2);
    expect((await bob.get('/approvals')).$(card).length).toBe(0);
  });

  it('refuses a form post without the CSRF token, and changes nothing', async () => {
    const bob = await as(w.tokens.bob);
    const before = await api(`/cases/${weak}/scores`);
    const r = await bob.post(`/panel/cases/${weak}/scores`, { _csrf: null, ...scoreFields(5) });
    expect(r.status).toBe(403);
    expect(r.title).toBe('This form has expired – topslice');
    expect(await api(`/cases/${weak}/scores`)).toEqual(before);
  });

  it('renders a case title with <script> as text', async () => {
    const alice = await as(w.tokens.alice);
    for (const path of [`/rounds/${w.roundId}`, `/panel/cases/${scripted}`, `/rounds/${w.roundId}/ranking`]) {
      const page = await alice.get(path);
      expect(page.status).toBe(200);
      expect(page.html).not.toContain('<script>alert');
      expect(page.html).toContain('&lt;script&gt;alert');
    }
    const page = await alice.get(`/panel/cases/${scripted}`);
    expect(page.$('h1').text()).toBe('<script>alert("owned")</script> pilot');
  });

  it('sends a council away: the panel’s pages answer 403, and signed-out users go to sign in', async () => {
    const council = await as(w.tokens.bradford);
    expect((await council.get(`/rounds/${w.roundId}`)).status).toBe(403);
    expect((await council.get(`/panel/cases/${strong}`)).status).toBe(403);
    expect((await council.get('/approvals')).status).toBe(403);
    const out = await webClient(w.t).get(`/rounds/${w.roundId}`);
    expect(out.status).toBe(303);
    expect(out.location).toBe(`/sign-in?next=${encodeURIComponent(`/rounds/${w.roundId}`)}`);
  });
});
