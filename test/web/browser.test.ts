import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { money, ratio } from '../../src/lib/templates.ts';
import { type BrowserHarness, type BrowserTab, describeViolations, openBrowser } from '../support/browser.ts';
import { draftCase, simpleCase } from '../support/cases.ts';
import { type World, world } from '../support/releases.ts';

/*
 * The pages in a real browser (the project's Chromium, through puppeteer-core), served on a
 * loopback port from a fresh database: the council's and the panel's journeys typed and clicked
 * through as people would, what they show checked against the API's JSON for the same case,
 * every page checked with axe-core against the WCAG 2.0–2.2 A and AA rules, every asset
 * answering, and the council's journey again with JavaScript off. One browser serves the file;
 * each user is a browser context with its own cookies, and a tab is reused from page to page.
 */

// A journey is many pages, each checked by axe: minutes on a busy machine, not the suite's usual two.
describe('the pages in a real browser (sqlite)', { timeout: 600_000 }, () => {
  let w: World;
  let h: BrowserHarness;
  const dialogs: string[] = [];

  beforeAll(async () => {
    w = await world('sqlite');
    h = await openBrowser(w.t.app);
  }, 180_000);
  afterAll(async () => {
    await h?.close();
    await w?.t.destroy();
  });

  /** A user's tab, signed in through the sign-in page with their token. */
  async function signedIn(token: string, opts: { javascript?: boolean } = {}): Promise<BrowserTab> {
    const tab = await h.newTab(opts);
    tab.page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    expect(await tab.go('/sign-in')).toBe(200);
    await tab.fill('Sign in with your token', token);
    expect(await tab.press('Sign in')).toBe(200);
    expect(await tab.text('.app-signed-in')).toMatch(/^Signed in as /);
    return tab;
  }

  /** axe-core on the page as it stands: every WCAG A and AA rule ran, and none is broken. */
  async function accessible(tab: BrowserTab): Promise<void> {
    const report = await tab.axe();
    expect(report.rulesRun, `axe ran on ${report.url}`).toBeGreaterThan(20);
    expect(report.violations, describeViolations(report)).toEqual([]);
  }

  it('signs in, shows the error summary with focus when the token is missing, and a signed-out session is dead', async () => {
    const tab = await h.newTab();
    expect(await tab.go('/')).toBe(200);
    await accessible(tab);
    expect(await tab.follow('Sign in')).toBe(200);
    expect(await tab.press('Sign in')).toBe(400);
    expect(await tab.title()).toBe('Error: Sign in – topslice');
    expect(await tab.texts('.govuk-error-summary__list li')).toEqual(['Enter your token']);
    // GOV.UK Frontend's JavaScript ran: it moves focus to the summary.
    expect(await tab.focused()).toContain('govuk-error-summary');
    expect(await tab.bodyClasses()).toContain('govuk-frontend-supported');
    await accessible(tab);

    await tab.fill('Sign in with your token', w.tokens.bradford);
    expect(await tab.press('Sign in')).toBe(200);
    expect(await tab.text('.app-signed-in')).toContain('Bradford case lead (council, BRADFORD)');
    await accessible(tab);
    const kept = await tab.page.cookies();

    expect(await tab.press('Sign out')).toBe(200);
    expect(await tab.title()).toBe('You have signed out – topslice');
    await accessible(tab);

    // The cookie the browser had while signed in opens nothing now.
    await tab.page.setCookie(...kept);
    expect(await tab.go('/')).toBe(200);
    expect(await tab.text('.app-signed-in')).toBe('');
    expect(await tab.text('h1')).toBe('Prevention fund');
    await tab.context.close();
  });

  it('refuses a form whose CSRF token was taken out, and signs no one in', async () => {
    const tab = await h.newTab();
    await tab.go('/sign-in');
    await tab.page.$eval('form[action="/sign-in"] input[name=_csrf]', (el) => el.remove());
    await tab.fill('Sign in with your token', w.tokens.bradford);
    expect(await tab.press('Sign in')).toBe(403);
    expect(await tab.title()).toBe('This form has expired – topslice');
    await accessible(tab);
    await tab.go('/');
    expect(await tab.text('.app-signed-in')).toBe('');
    await tab.context.close();
  });

  it('answers an unknown page with an accessible GOV.UK 404 page', async () => {
    const tab = await signedIn(w.tokens.chair);
    expect(await tab.go('/no-such-page')).toBe(404);
    expect(await tab.text('h1')).toBe('Page not found');
    await accessible(tab);
    await tab.context.close();
  });

  /** The pages every journey went through, by title: each title belongs to one page. */
  const titles = new Map<string, string>();

  /** The kinds of page checked with JavaScript off: their route, with ids as `:id`, and whether they showed errors. */
  const seenWithoutScripts = new Set<string>();

  /**
   * What every page must be: one h1, a skip link to the main content, a title of its own, and
   * accessible by axe-core's WCAG A and AA rules. With JavaScript off, axe checks each kind of
   * page once (the same pages were each checked with it on), to keep the run short.
   */
  async function look(tab: BrowserTab): Promise<void> {
    const route = tab.path().split('?')[0] as string;
    const title = (await tab.title()).replace(/^Error: /, '');
    expect(titles.get(title) ?? route, `the title “${title}” of ${route}`).toBe(route);
    titles.set(title, route);
    expect(await tab.texts('h1'), `${route} has one h1: ${(await tab.texts('h1')).join(' / ')}`).toHaveLength(1);
    expect(await tab.texts('a.govuk-skip-link[href="#main-content"]')).toEqual(['Skip to main content']);
    if (!tab.javascript) {
      const kind = `${route.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, ':id')} ${(await tab.texts('.govuk-error-summary')).length > 0}`;
      if (seenWithoutScripts.has(kind)) return;
      seenWithoutScripts.add(kind);
    }
    await accessible(tab);
  }

  const TITLE = 'Resettlement hub <script>alert("xss")</script> for short-sentence prisoners';
  const NARRATIVE: Record<string, string> = {
    'The strategic case': 'Reoffending by short-sentence prisoners drives demand on police, health and housing across the district.',
    'The economic case': 'Three options were compared with the statutory minimum; benefits are priced from the Unit Cost Database.',
    'The commercial case': 'Delivered in house with a voluntary-sector partner under the council’s existing framework agreement.',
    'The financial case': 'West Yorkshire Police pays a tenth of the cost in seconded officers; the fund pays the rest.',
    'The management case': 'A programme board with a named senior responsible owner meets monthly and reports quarterly.',
  };

  /**
   * A council officer writes a case through the pages only, as far as submitting it: typing into
   * labelled fields and pressing buttons. With JavaScript on, GOV.UK Frontend moves focus to the
   * error summary and its links to their fields; with it off, the same pages work without.
   */
  async function writeCase(tab: BrowserTab, title: string, javascript: boolean): Promise<string> {
    expect(await tab.follow('Your cases')).toBe(200);
    await look(tab);
    expect(await tab.follow('Start a new business case')).toBe(200);
    await look(tab);
    expect(await tab.bodyClasses()).toEqual(javascript ? expect.arrayContaining(['js-enabled']) : ['govuk-template__body']);
    await tab.select('Funding round', w.roundId);
    await tab.select('Theme', 'offenders');
    // The title left out: the GOV.UK error pattern, the other entries kept.
    expect(await tab.press('Start the case')).toBe(400);
    expect(await tab.title()).toBe('Error: Start a new business case – topslice');
    expect(await tab.texts('.govuk-error-summary__list a')).toEqual(['Enter a title for the case']);
    expect(await tab.text('#title-error')).toBe('Error: Enter a title for the case');
    expect(await tab.page.$eval('#theme', (el) => (el as unknown as { value: string }).value)).toBe('offenders');
    if (javascript) expect(await tab.focused()).toContain('govuk-error-summary');
    await look(tab);
    await tab.fill('Title of the case', title);
    expect(await tab.press('Start the case')).toBe(200);
    const id = /^\/cases\/([0-9a-f-]{36})$/.exec(tab.path())?.[1] as string;
    expect(id, tab.path()).toBeTruthy();
    expect(await tab.text('#case-title')).toBe(title);
    await look(tab);

    // Costs by year, in pounds.
    expect(await tab.follow('Costs by year')).toBe(200);
    await look(tab);
    for (const [payer, amount] of [
      ['BRADFORD', '£900,000'],
      ['WEST-YORKSHIRE-POLICE', '100000.00'],
    ] as const) {
      expect(await tab.follow('Add a cost line')).toBe(200);
      await look(tab);
      await tab.fill('Financial year', '2026-27');
      await tab.choose('Revenue', 'Kind of cost');
      await tab.select('Paid by', payer);
      await tab.fill('Amount', amount);
      await tab.select('Confidence grade', '1 (best evidence)');
      expect(await tab.press('Save cost line')).toBe(200);
    }
    expect(await tab.texts('#cost-lines tbody td.govuk-table__cell--numeric')).toEqual(['£900,000.00', '1', '£100,000.00', '1']);
    await look(tab);
    expect(await tab.follow('Back to the case')).toBe(200);

    // About the case: partners and match funding.
    expect(await tab.follow('About the case')).toBe(200);
    await look(tab);
    await tab.select('Place', 'BRADFORD');
    await tab.fill('Partner bodies', 'WEST-YORKSHIRE-POLICE\nWEST-YORKSHIRE-ICB');
    await tab.fill('Match funding', '100,000');
    await tab.fill('Base year', '2026-27');
    await tab.choose('Standard', 'Discount rate');
    expect(await tab.press('Save and continue')).toBe(200);
    expect(tab.path()).toBe(`/cases/${id}`);

    // The five cases, a page each.
    for (const [section, text] of Object.entries(NARRATIVE)) {
      expect(await tab.follow(section)).toBe(200);
      await look(tab);
      await tab.fill(section, text);
      expect(await tab.press('Save and continue')).toBe(200);
    }

    // Two benefit lines: one at a stated value, one priced from the Unit Cost Database by search.
    expect(await tab.follow('Benefit lines')).toBe(200);
    await look(tab);
    expect(await tab.follow('Add a benefit line')).toBe(200);
    await look(tab);
    await tab.choose('Fiscal', 'Type of benefit');
    await tab.select('Who saves', 'WEST-YORKSHIRE-ICB');
    await tab.choose('Yes, wholly cashable', 'Is the saving cashable?');
    await tab.fill('Or a stated unit value', '100');
    await tab.fill('Price year of the stated value', '2026-27');
    await tab.fill('Source of the stated value', 'Local tariff, stated at 2026-27 prices');
    await tab.fill('2026-27', '30,000', 'People engaged by year');
    await tab.fill('Impact (%)', '100');
    await tab.fill('Deadweight (%)', '0');
    await tab.fill('Persistence (years)', '1');
    await tab.select('Confidence grade', '1 (best evidence)');
    // The outcome left out: the summary links to its field, the entries are kept.
    expect(await tab.press('Save benefit line')).toBe(400);
    expect(await tab.title()).toMatch(/^Error: Add a benefit line: /);
    expect(await tab.texts('.govuk-error-summary__list a')).toEqual(['Enter the outcome this line counts']);
    expect(await tab.page.$eval('.govuk-error-summary__list a', (a) => a.getAttribute('href'))).toBe('#outcome');
    expect(await tab.page.$eval('#unitValue', (el) => (el as unknown as { value: string }).value)).toBe('100');
    expect(await tab.page.$eval('#volumes-2026-27', (el) => (el as unknown as { value: string }).value)).toBe('30,000');
    await look(tab);
    if (javascript) {
      expect(await tab.focused()).toContain('govuk-error-summary');
      // GOV.UK Frontend takes the summary's link to the field itself.
      await tab.page.click('.govuk-error-summary__list a');
      expect(
        await tab.page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id),
      ).toBe('outcome');
    }
    await tab.fill('Outcome', 'A&E attendances avoided');
    expect(await tab.press('Save benefit line')).toBe(200);
    expect(tab.path()).toBe(`/cases/${id}/benefits`);

    expect(await tab.follow('Add a benefit line')).toBe(200);
    await tab.fill('Search the Unit Cost Database', 'A&E attendance');
    expect(await tab.press('Search')).toBe(200);
    await look(tab);
    expect(await tab.follow('Use HE4.0')).toBe(200);
    expect(await tab.page.$eval('#unitCostCode', (el) => (el as unknown as { value: string }).value)).toBe('HE4.0');
    await tab.fill('Outcome', 'Repeat attendances avoided');
    await tab.choose('Fiscal', 'Type of benefit');
    await tab.choose('No', 'Is the saving cashable?');
    await tab.fill('2026-27', '2,000', 'People engaged by year');
    await tab.fill('2027-28', '2,000', 'People engaged by year');
    await tab.fill('Impact (%)', '35');
    await tab.fill('Deadweight (%)', '12.5');
    await tab.fill('Persistence (years)', '2');
    await tab.select('Confidence grade', '3');
    expect(await tab.press('Save benefit line')).toBe(200);
    expect(await tab.texts('#benefit-lines tbody td:nth-of-type(1)')).toEqual(['A&E attendances avoided', 'Repeat attendances avoided']);
    await look(tab);
    expect(await tab.follow('Back to the case')).toBe(200);
    await look(tab);

    // Check your answers, then submit.
    expect(await tab.follow('Check your answers and submit')).toBe(200);
    await look(tab);
    expect(await tab.text('#check-about .govuk-summary-list__row:first-child dd')).toBe(title);
    expect(await tab.texts('#check-costs dd.govuk-summary-list__value')).toEqual([
      `£900,000.00 paid by ${await orgName('BRADFORD')} (BRADFORD), grade 1`,
      `£100,000.00 paid by ${await orgName('WEST-YORKSHIRE-POLICE')} (WEST-YORKSHIRE-POLICE), grade 1`,
    ]);
    expect(await tab.press('Submit the case')).toBe(200);
    expect(tab.path()).toBe(`/cases/${id}?done=submitted`);
    expect(await tab.text('.govuk-notification-banner')).toMatch(/^Success Case TP-2026-27-\d{3} submitted$/);
    await look(tab);
    return id;
  }

  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read field by field
  const api = async (path: string, token: string): Promise<any> => {
    const r = await w.t.request('GET', `/api/v1${path}`, { token });
    expect(r.status, `${path}: ${r.text}`).toBe(200);
    return r.body;
  };
  const orgName = async (code: string) =>
    ((await w.t.request('GET', '/api/v1/organisations')).body as { code: string; name: string }[]).find((o) => o.code === code)?.name ??
    code;

  let caseId = '';

  it('a council officer writes, checks and submits a case with two benefit lines through the pages; they show the API’s figures', async () => {
    const tab = await signedIn(w.tokens.bradford);
    await look(tab);
    caseId = await writeCase(tab, TITLE, true);

    const c = await api(`/cases/${caseId}`, w.tokens.bradford);
    const a = await api(`/cases/${caseId}/appraisal`, w.tokens.bradford);
    expect(c).toMatchObject({
      status: 'submitted',
      title: TITLE,
      matchFundingPence: 100_000_00,
      partnerCodes: ['WEST-YORKSHIRE-POLICE', 'WEST-YORKSHIRE-ICB'],
    });
    expect(c.costs.map((l: { amountPence: number }) => l.amountPence)).toEqual([900_000_00, 100_000_00]);
    expect(c.benefits).toHaveLength(2);
    expect(c.benefits[0]).toMatchObject({ outcome: 'A&E attendances avoided', unitValuePence: 100_00, volumes: { '2026-27': 30_000 } });
    expect(c.benefits[1]).toMatchObject({
      outcome: 'Repeat attendances avoided',
      unitCostCode: 'HE4.0',
      impactBasisPoints: 3500,
      deadweightBasisPoints: 1250,
    });

    expect(await tab.text('.govuk-caption-l')).toBe(c.reference);
    expect(await tab.text('#case-title')).toBe(TITLE);
    expect(await tab.text('#case-requested')).toBe(money(c.requestedPence));
    expect(await tab.text('#appraisal-pv-costs')).toBe(money(a.pvCostsPence));
    expect(await tab.text('#appraisal-pv-fiscal')).toBe(money(a.pvBenefitsPence.fiscal));
    expect(await tab.text('#appraisal-fiscal-npv')).toBe(money(a.fiscalNpvPence));
    expect(await tab.text('#appraisal-public-value-npv')).toBe(money(a.publicValueNpvPence));
    expect(await tab.text('#appraisal-bcr')).toBe(ratio(a.bcr));
    expect(await tab.text('#appraisal-vfm')).toBe(a.vfmBand.replace(/-/g, ' '));
    expect(await tab.page.$$eval('svg#appraisal-chart polyline', (l) => l.length)).toBe(2);
    await tab.context.close();
  });

  /** A panel member scores every criterion of the case through the scoring page. */
  async function score(token: string, score: string, reference: string): Promise<void> {
    const tab = await signedIn(token);
    expect(await tab.follow('Funding rounds')).toBe(200);
    await look(tab);
    expect(await tab.follow('Prevention Fund 2026-27: round 1')).toBe(200);
    await look(tab);
    expect(await tab.follow(reference)).toBe(200);
    await look(tab);
    expect(await tab.follow('Score this case')).toBe(200);
    await look(tab);
    const criteria = (await tab.texts('legend'))
      .filter((l) => l.startsWith('Your score for '))
      .map((l) => l.slice('Your score for '.length));
    expect(criteria).toHaveLength(5);
    for (const criterion of criteria) {
      await tab.choose(score, `Your score for ${criterion}`);
      await tab.fill(`Why this score for ${criterion}?`, `${criterion}: the case’s evidence supports this score.`);
    }
    expect(await tab.press('Save your scores')).toBe(200);
    expect(tab.path()).toMatch(/\?done=scored$/);
    expect(await tab.texts('#criteria td.app-your-score')).toEqual(criteria.map(() => score.slice(0, 1)));
    await look(tab);
    await tab.context.close();
  }

  it('two panel members score the case from the round’s list, which shows the API’s appraisal; the chair approves it in two tranches', async () => {
    const c = await api(`/cases/${caseId}`, w.tokens.alice);
    const a = await api(`/cases/${caseId}/appraisal`, w.tokens.alice);

    const alice = await signedIn(w.tokens.alice);
    await alice.go(`/rounds/${w.roundId}`);
    const row = `#round-cases tr[data-case-id="${caseId}"]`;
    expect(await alice.text(`${row} th a`)).toBe(c.reference);
    expect(await alice.text(`${row} th .govuk-body-s`)).toBe(`${TITLE} (BRADFORD)`);
    expect(await alice.texts(`${row} td.govuk-table__cell--numeric`)).toEqual([
      money(c.requestedPence),
      money(a.pvCostsPence),
      money(a.pvBenefitsPence.fiscal + a.pvBenefitsPence.economic + a.pvBenefitsPence.social),
      ratio(a.bcr),
      '0 of 2 scored',
    ]);
    await alice.context.close();

    await score(w.tokens.alice, '4 – good', c.reference);
    await score(w.tokens.bob, '3 – adequate', c.reference);
    const board = await api(`/cases/${caseId}/scores`, w.tokens.chair);
    expect(board).toMatchObject({ completeMembers: 2, quorumMet: true });

    const chair = await signedIn(w.tokens.chair);
    expect(await chair.go(`/panel/cases/${caseId}`)).toBe(200);
    await look(chair);
    expect(await chair.text('#quorum')).toMatch(/^2 of the 2 members needed have scored in full: quorum met\./);
    expect(await chair.text('#quorum')).toContain(`Mean score ${ratio(board.meanScore)}.`);
    expect(await chair.texts('#criteria tbody td:nth-of-type(2)')).toEqual(
      board.criteria.map((k: { meanScore: number | null }) => (k.meanScore === null ? '–' : ratio(k.meanScore))),
    );
    expect(await chair.text('#appraisal-bcr')).toBe(ratio(a.bcr));
    expect(await chair.follow('Record the decision')).toBe(200);
    await look(chair);
    await chair.choose('Approve', "What is the panel's decision?");
    await chair.fill('Reasons for the decision', 'Strong value for money and a credible delivery plan with committed partners.');
    await chair.fill('Amount awarded', '900,000');
    await chair.fill('Conditions of the award (optional)', 'Quarterly reports to the programme board');
    for (const [n, amount, [day, month, year], condition] of [
      [1, '£450,000.00', ['1', '6', '2026'], 'Programme board in place'],
      [2, '450000', ['1', '4', '2027'], 'First year’s outcomes reported'],
    ] as const) {
      await chair.fill(`Amount of tranche ${n}`, amount);
      const legend = `Earliest date tranche ${n} can be claimed`;
      await chair.fill('Day', day, legend);
      await chair.fill('Month', month, legend);
      await chair.fill('Year', year, legend);
      await chair.fill(`What unlocks tranche ${n}`, condition);
    }
    expect(await chair.press('Record the decision')).toBe(200);
    expect(chair.path()).toBe(`/panel/cases/${caseId}?done=decided`);
    await look(chair);

    const decided = await api(`/cases/${caseId}`, w.tokens.chair);
    expect(decided.status).toBe('approved');
    const tranches = await api(`/cases/${caseId}/tranches`, w.tokens.chair);
    expect(
      tranches.map((t: { amountPence: number; earliestOn: string; condition: string }) => [t.amountPence, t.earliestOn, t.condition]),
    ).toEqual([
      [450_000_00, '2026-06-01', 'Programme board in place'],
      [450_000_00, '2027-04-01', 'First year’s outcomes reported'],
    ]);
    expect(await chair.text('.app-award')).toBe(money(900_000_00));
    expect(await chair.texts('#tranches tbody td.app-nowrap')).toEqual(
      tranches.flatMap((t: { amountPence: number }) => [money(t.amountPence), expect.any(String)]),
    );
    await chair.context.close();
  });

  it('the council claims tranche 1 with evidence and a panel member who did not decide approves it; the pages show the API’s tranches', async () => {
    const council = await signedIn(w.tokens.bradford);
    expect(await council.go(`/cases/${caseId}`)).toBe(200);
    await look(council);
    let tranches = await api(`/cases/${caseId}/tranches`, w.tokens.bradford);
    expect(await council.texts('#tranches tbody td.govuk-table__cell--numeric')).toEqual(
      tranches.map((t: { amountPence: number }) => money(t.amountPence)),
    );
    expect(await council.follow('Claim tranche 1')).toBe(200);
    await look(council);
    await council.fill('Evidence that the condition is met', 'Programme board minutes of 28 May 2026 record the board in place.');
    expect(await council.press('Claim tranche 1')).toBe(200);
    expect(council.path()).toBe(`/cases/${caseId}?done=claimed`);
    await look(council);
    tranches = await api(`/cases/${caseId}/tranches`, w.tokens.bradford);
    expect(tranches.map((t: { status: string }) => t.status)).toEqual(['claimed', 'scheduled']);
    expect(await council.text('#tranches tbody tr:first-child')).toContain('Claimed');
    await council.context.close();

    const reference = (await api(`/cases/${caseId}`, w.tokens.alice)).reference as string;
    const alice = await signedIn(w.tokens.alice);
    expect(await alice.follow('Tranche approvals')).toBe(200);
    await look(alice);
    expect(await alice.text('.app-approval .govuk-summary-card__title')).toBe(`${reference} tranche 1: ${TITLE}`);
    expect(await alice.text('.app-approval .app-needed')).toMatch(/^1 /);
    expect(await alice.press(`Approve ${reference} tranche 1`)).toBe(200);
    expect(alice.path()).toBe('/approvals?done=released');
    await look(alice);
    await alice.context.close();
    tranches = await api(`/cases/${caseId}/tranches`, w.tokens.bradford);
    expect(tranches[0]).toMatchObject({ status: 'released', approvals: [expect.objectContaining({ userId: w.ids.alice })] });

    const after = await signedIn(w.tokens.bradford);
    await after.go(`/cases/${caseId}`);
    expect(await after.text('#tranches tbody tr:first-child')).toContain('Released');
    await after.context.close();
  });

  it('with JavaScript off, a council officer writes and submits a case all the same', async () => {
    const tab = await signedIn(w.tokens.bradford2, { javascript: false });
    const id = await writeCase(tab, 'Housing first for prison leavers', false);
    expect(await tab.bodyClasses()).toEqual(['govuk-template__body']);
    expect((await api(`/cases/${id}`, w.tokens.bradford2)).status).toBe('submitted');
    await tab.context.close();
  });

  it('a council’s session cannot open another council’s draft: the GOV.UK 404 page', async () => {
    const draft = await draftCase(w.t, w.tokens.bradford, simpleCase(w.roundId, { title: 'Bradford’s unfinished draft' }));
    const lewisham = await signedIn(w.tokens.lewisham);
    for (const path of [`/cases/${draft.id}`, `/cases/${draft.id}/about`, `/cases/${draft.id}/check`]) {
      expect(await lewisham.go(path), path).toBe(404);
      expect(await lewisham.text('h1')).toBe('Page not found');
      expect(await lewisham.text('main')).not.toContain('Bradford’s unfinished draft');
    }
    await accessible(lewisham);
    expect(await lewisham.follow('Your cases')).toBe(200);
    expect(await lewisham.text('main')).not.toContain('Bradford’s unfinished draft');
    await lewisham.context.close();
  });

  it('every page loaded every asset it asked for, ran its scripts without error, and opened no dialog', () => {
    expect(h.badResponses).toEqual([]);
    expect(h.scriptErrors).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(h.axeReports.length).toBeGreaterThan(0);
    const rules = Math.min(...h.axeReports.map((r) => r.rulesRun));
    const ms = h.axeReports.reduce((sum, r) => sum + r.ms, 0);
    console.log(`axe: ${h.axeReports.length} pages checked, at least ${rules} WCAG A/AA rules each, ${(ms / 1000).toFixed(1)} s in all`);
  });
});
