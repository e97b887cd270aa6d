import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basisPointsAsPercentInput, parsePercent } from '../../src/lib/money.ts';
import { money, ratio } from '../../src/lib/templates.ts';
import { NARRATIVE } from '../support/cases.ts';
import { engines } from '../support/db.ts';
import { approvedCase, decideApprove, type World, world } from '../support/releases.ts';
import { type Page, webClient } from '../support/web.ts';

describe('percentages typed into a form', () => {
  it.each([
    ['35', 3500],
    ['12.5', 1250],
    ['12.75%', 1275],
    [' 0 ', 0],
    ['100', 10_000],
    ['100.00', 10_000],
    ['0.01', 1],
    ['62.5 %', 6250],
  ])('%s is %s basis points exactly', (text, bp) => {
    expect(parsePercent(text)).toBe(bp);
    expect(parsePercent(basisPointsAsPercentInput(bp))).toBe(bp);
  });
  it.each(['', '%', '12.345', '100.01', '101', '-5', '1e2', '.5', '5.', '1,000', '0x10', '٣٥'])('refuses %j', (text) => {
    expect(parsePercent(text)).toBeNull();
  });
});

const FIRST_LINE = {
  outcome: 'A&E attendances avoided',
  type: 'fiscal',
  beneficiaryCode: 'WEST-YORKSHIRE-ICB',
  cashable: 'yes',
  unitValue: '£100',
  priceYear: '2026-27',
  source: 'Local tariff, stated at 2026-27 prices',
  'volumes-2026-27': '30,000',
  impact: '100',
  deadweight: '0',
  persistence: '1',
  grade: '1',
};

describe.each(engines())('the council’s journey through a case (%s)', (engine) => {
  let w: World;
  beforeAll(async () => {
    w = await world(engine);
  });
  afterAll(async () => {
    await w.t.destroy();
  });

  const ok = (page: Page, label: string) => {
    expect(page.status, `${label}: ${page.errorSummary.join('; ')}`).toBe(303);
    return page;
  };

  it('drafts, fills in, checks and submits a case through the pages only; the case page shows the API’s figures; then claims a tranche and reports a benefit', async () => {
    const web = webClient(w.t);
    await web.signIn(w.tokens.bradford);

    const list = await web.get('/cases');
    expect(list.status).toBe(200);
    expect(list.title).toBe('Your cases – topslice');
    expect(list.$('#start-case').attr('href')).toBe('/cases/new');

    // Starting: a missing title is an error linked to its field, with the other entries kept.
    const start = await web.get('/cases/new');
    expect(
      start
        .$('select#roundId option')
        .map((_, o) => start.$(o).attr('value'))
        .get(),
    ).toContain(w.roundId);
    const noTitle = await web.post('/cases/new', { roundId: w.roundId, title: ' ', theme: 'offenders' });
    expect(noTitle.status).toBe(400);
    expect(noTitle.title).toBe('Error: Start a new business case – topslice');
    expect(noTitle.errorSummary).toEqual(['Enter a title for the case']);
    expect(noTitle.$('.govuk-error-summary a').attr('href')).toBe('#title');
    expect(noTitle.$('#title-error').text()).toContain('Enter a title for the case');
    expect(noTitle.$('#theme option[selected]').attr('value')).toBe('offenders');

    const created = ok(
      await web.post('/cases/new', { roundId: w.roundId, title: 'Resettlement <script>alert(1)</script> pilot', theme: 'offenders' }),
      'start',
    );
    const id = /^\/cases\/([0-9a-f-]{36})$/.exec(created.location ?? '')?.[1] as string;
    expect(id).toBeTruthy();

    // The task list, with the title as text.
    let casePage = await web.follow(created);
    expect(casePage.status).toBe(200);
    expect(casePage.html).not.toContain('<script>alert(1)</script>');
    expect(casePage.$('h1').text()).toBe('Resettlement <script>alert(1)</script> pilot');
    expect(
      casePage
        .$('#tasks .govuk-task-list__link')
        .map((_, a) => casePage.$(a).attr('href'))
        .get(),
    ).toEqual([
      `/cases/${id}/about`,
      ...['strategic', 'economic', 'commercial', 'financial', 'management'].map((s) => `/cases/${id}/narrative/${s}`),
      `/cases/${id}/costs`,
      `/cases/${id}/benefits`,
      `/cases/${id}/check`,
    ]);
    expect(casePage.$('#appraisal-not-possible').length + casePage.$('#appraisal-pv-costs').length).toBe(1);

    // About the case: match funding above the costs (none yet) is refused beside its field.
    const about = {
      title: 'Resettlement <script>alert(1)</script> pilot',
      placeCode: 'BRADFORD',
      theme: 'offenders',
      partnerCodes: 'WEST-YORKSHIRE-POLICE\nWEST-YORKSHIRE-ICB',
      matchFunding: '£100,000',
      baseYear: '2026-27',
      discountSchedule: 'standard',
    };
    const tooMuch = await web.post(`/cases/${id}/about`, about);
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.errorSummary).toEqual(['Cannot be more than the total of the cost lines']);
    expect(tooMuch.$('.govuk-error-summary a').attr('href')).toBe('#matchFunding');
    expect(tooMuch.$('#matchFunding').attr('value')).toBe('£100,000');
    expect(tooMuch.$('#partnerCodes').text()).toBe('WEST-YORKSHIRE-POLICE\nWEST-YORKSHIRE-ICB');

    // Costs by year, in pounds.
    const noAmount = await web.post(`/cases/${id}/costs/new`, {
      year: '2026-27',
      kind: 'revenue',
      payerCode: 'BRADFORD',
      amount: '9OO',
      grade: '1',
    });
    expect(noAmount.status).toBe(400);
    expect(noAmount.$('.govuk-error-summary a').attr('href')).toBe('#amount');
    ok(
      await web.post(`/cases/${id}/costs/new`, { year: '2026-27', kind: 'revenue', payerCode: 'BRADFORD', amount: '£900,000', grade: '1' }),
      'cost 1',
    );
    ok(
      await web.post(`/cases/${id}/costs/new`, {
        year: '2026-27',
        kind: 'revenue',
        payerCode: 'WEST-YORKSHIRE-POLICE',
        amount: '100000.00',
        grade: '1',
      }),
      'cost 2',
    );
    ok(await web.post(`/cases/${id}/about`, about), 'about');

    // Four of the five cases' narrative.
    for (const s of ['strategic', 'economic', 'commercial', 'financial'] as const) {
      ok(await web.post(`/cases/${id}/narrative/${s}`, { narrative: NARRATIVE[s] }), s);
    }

    // A benefit line with a missing field: the summary links to it and the other entries are kept.
    const missing = await web.post(`/cases/${id}/benefits/new`, { ...FIRST_LINE, outcome: '' });
    expect(missing.status).toBe(400);
    expect(missing.title).toMatch(/^Error: Add a benefit line/);
    expect(missing.errorSummary).toEqual(['Enter the outcome this line counts']);
    expect(missing.$('.govuk-error-summary a').attr('href')).toBe('#outcome');
    expect(missing.$('#outcome-error').text()).toContain('Enter the outcome this line counts');
    expect(missing.$('#unitValue').attr('value')).toBe('£100');
    expect(missing.$('#volumes-2026-27').attr('value')).toBe('30,000');
    expect(missing.$('input[name=type][value=fiscal]').attr('checked')).toBeDefined();
    ok(await web.post(`/cases/${id}/benefits/new`, FIRST_LINE), 'benefit 1');

    // The second line picks a unit cost by a plain GET search, and uses the newer fields.
    const search = await web.get(`/cases/${id}/benefits/new?q=${encodeURIComponent('A&E attendance')}`);
    const use = search.$('#unit-cost-results a').filter((_, a) => search.$(a).text().includes('HE4.0'));
    expect(use.attr('href')).toBe(`/cases/${id}/benefits/new?unitCostCode=HE4.0`);
    const picked = await web.get(use.attr('href') as string);
    expect(picked.$('#unitCostCode').attr('value')).toBe('HE4.0');
    ok(
      await web.post(`/cases/${id}/benefits/new`, {
        outcome: 'Repeat attendances avoided',
        type: 'fiscal',
        beneficiaryCode: '',
        cashable: 'partly',
        cashableShare: '62.5',
        unitCostCode: 'HE4.0',
        'need-2026-27': '2000',
        'need-2027-28': '2000',
        engagement: '40',
        impact: '35',
        deadweight: '12.25',
        displacement: '5',
        lag: '1',
        dropOff: '10',
        persistence: '3',
        grade: '3',
      }),
      'benefit 2',
    );
    const stored = (await w.t.request('GET', `/api/v1/cases/${id}`, { token: w.tokens.bradford })).body;
    expect(stored.matchFundingPence).toBe(100_000_00);
    expect(stored.costs.map((l: { amountPence: number }) => l.amountPence)).toEqual([900_000_00, 100_000_00]);
    expect(stored.benefits[0]).toMatchObject({ unitValuePence: 100_00, volumes: { '2026-27': 30_000 }, impactBasisPoints: 10_000 });
    expect(stored.benefits[1]).toMatchObject({
      unitCostCode: 'HE4.0',
      beneficiaryCode: 'DHSC',
      cashable: false,
      cashableBasisPoints: 6250,
      need: { '2026-27': 2000, '2027-28': 2000 },
      engagementBasisPoints: 4000,
      deadweightBasisPoints: 1225,
      displacementBasisPoints: 500,
      lagYears: 1,
      dropOffBasisPoints: 1000,
    });

    // A line's change page shows what was entered.
    const change = await web.get(`/cases/${id}/benefits/1`);
    expect(change.$('#cashableShare').attr('value')).toBe('62.5');
    expect(change.$('#deadweight').attr('value')).toBe('12.25');
    expect(change.$('#need-2027-28').attr('value')).toBe('2000');

    // Every page of the draft: one h1, its own title, a label for every field, numbers right-aligned.
    const titles = new Set<string>();
    for (const path of [
      '/cases',
      '/cases/new',
      ...[
        '',
        '/about',
        '/narrative/strategic',
        '/costs',
        '/costs/new',
        '/costs/1',
        '/benefits',
        '/benefits/new',
        '/benefits/1',
        '/check',
      ].map((p) => `/cases/${id}${p}`),
    ]) {
      const page = await web.get(path);
      expect(page.status, path).toBe(200);
      expect(page.$('h1').length, path).toBe(1);
      expect(titles.has(page.title), `${path}: ${page.title}`).toBe(false);
      titles.add(page.title);
      page.$('main input:not([type=hidden]), main select, main textarea').each((_, el) => {
        const fieldId = page.$(el).attr('id');
        expect(page.$(`label[for="${fieldId}"]`).length, `${path} #${fieldId}`).toBe(1);
      });
      page.$('td.govuk-table__cell').each((_, td) => {
        if (/^−?£[\d,]+\.\d\d$/.test(page.$(td).text().trim())) expect(page.$(td).hasClass('govuk-table__cell--numeric'), path).toBe(true);
      });
    }

    // Check your answers, with Change links; submitting with the management case missing is refused, linked to its page.
    const check = await web.get(`/cases/${id}/check`);
    expect(check.status).toBe(200);
    expect(check.$('#check-about a').first().attr('href')).toBe(`/cases/${id}/about#title`);
    expect(check.$('#check-benefit-1').text()).toContain('62.5% cashable');
    const refused = await web.post(`/cases/${id}/submit`);
    expect(refused.status).toBe(422);
    expect(refused.errorSummary).toEqual(['The management case is missing.']);
    expect(refused.$('.govuk-error-summary a').attr('href')).toBe(`/cases/${id}/narrative/management#narrative`);
    const fix = await web.get(`/cases/${id}/narrative/management`);
    expect(fix.$('textarea#narrative').length).toBe(1);
    const empty = await web.post(`/cases/${id}/narrative/management`, { narrative: '' });
    expect(empty.errorSummary).toEqual(['Enter the management case']);
    expect(empty.$('.govuk-error-summary a').attr('href')).toBe('#narrative');
    ok(await web.post(`/cases/${id}/narrative/management`, { narrative: NARRATIVE.management }), 'management');
    const submitted = ok(await web.post(`/cases/${id}/submit`), 'submit');
    expect(submitted.location).toBe(`/cases/${id}?done=submitted`);

    // The case page's figures are the API's.
    casePage = await web.follow(submitted);
    expect(casePage.$('.govuk-notification-banner').text()).toContain('submitted');
    const api = (await w.t.request('GET', `/api/v1/cases/${id}/appraisal`, { token: w.tokens.bradford })).body;
    const text = (sel: string) => casePage.$(sel).text().trim();
    expect(text('#appraisal-pv-costs')).toBe(money(api.pvCostsPence));
    expect(text('#appraisal-pv-fiscal')).toBe(money(api.pvBenefitsPence.fiscal));
    expect(text('#appraisal-pv-economic')).toBe(money(api.pvBenefitsPence.economic));
    expect(text('#appraisal-pv-social')).toBe(money(api.pvBenefitsPence.social));
    expect(text('#appraisal-fiscal-npv')).toBe(money(api.fiscalNpvPence));
    expect(text('#appraisal-public-value-npv')).toBe(money(api.publicValueNpvPence));
    expect(text('#appraisal-fiscal-roi')).toBe(ratio(api.fiscalRoi));
    expect(text('#appraisal-bcr')).toBe(ratio(api.bcr));
    expect(text('#appraisal-payback')).toBe(api.paybackYear ?? 'Does not pay back');
    expect(text('#appraisal-vfm')).toBe(api.vfmBand.replace(/-/g, ' '));
    const who = casePage.$('#appraisal-who-benefits tbody tr');
    expect(who.length).toBe(api.whoBenefits.length);
    expect(who.first().find('td').first().text()).toBe(money(api.whoBenefits[0].pvPence));
    const rows = casePage.$('#appraisal-chart-table tbody tr');
    expect(rows.length).toBe(api.years.length);
    expect(rows.last().find('td').first().text()).toBe(money(api.years.at(-1).cumulativePvCostsPence));
    expect(casePage.$('svg#appraisal-chart polyline').length).toBe(2);
    expect(casePage.$('#tasks').length).toBe(0);

    // A decision made by the panel; then the council claims tranche 1 and reports a benefit.
    expect(
      (await decideApprove(w, id, { tranches: [{ basisPoints: 5000 }, { basisPoints: 5000, earliestOn: '2027-04-01' }] })).status,
    ).toBe(201);
    casePage = await web.get(`/cases/${id}`);
    expect(casePage.$('#tranches tbody tr').length).toBe(2);
    expect(casePage.$('#tranches a').attr('href')).toBe(`/cases/${id}/tranches/1/claim`);
    const claimForm = await web.get(`/cases/${id}/tranches/1/claim`);
    expect(claimForm.$('h1').text()).toBe('Claim tranche 1');
    const noEvidence = await web.post(`/cases/${id}/tranches/1/claim`, { evidence: 'short' });
    expect(noEvidence.status).toBe(400);
    expect(noEvidence.$('.govuk-error-summary a').attr('href')).toBe('#evidence');
    expect(noEvidence.$('#evidence').text()).toBe('short');
    ok(
      await web.post(`/cases/${id}/tranches/1/claim`, { evidence: 'Programme board minutes of 28 May 2026 record milestone 1 met.' }),
      'claim',
    );
    const tranches = (await w.t.request('GET', `/api/v1/cases/${id}/tranches`, { token: w.tokens.bradford })).body;
    expect(tranches[0].status).toBe('claimed');
    casePage = await web.get(`/cases/${id}`);
    expect(casePage.$('#tranches tbody tr').first().text()).toContain('Claimed');
    const early = await web.post(`/cases/${id}/tranches/2/claim`, { evidence: 'Trying tranche two before its date.' });
    expect(early.status).toBe(409);
    expect(early.errorSummary.length).toBe(1);

    const report = casePage.$('#register a').first().attr('href') as string;
    expect(report).toBe(`/cases/${id}/reports/new?line=0&year=2026-27`);
    const reportForm = await web.get(report);
    expect(reportForm.$('#line option[selected]').attr('value')).toBe('0');
    const noClaim = await web.post(`/cases/${id}/reports/new`, {
      line: '0',
      year: '2026-27',
      claimed: '',
      evidence: 'Hospital episode statistics, April to May.',
    });
    expect(noClaim.status).toBe(400);
    expect(noClaim.$('.govuk-error-summary a').attr('href')).toBe('#claimed');
    ok(
      await web.post(`/cases/${id}/reports/new`, {
        line: '0',
        year: '2026-27',
        claimed: '£12,345.67',
        evidence: 'Hospital episode statistics, April to May.',
      }),
      'report',
    );
    const register = (await w.t.request('GET', `/api/v1/cases/${id}/benefits`, { token: w.tokens.bradford })).body;
    const row = register.find((r: { benefitLineIndex: number; year: string }) => r.benefitLineIndex === 0 && r.year === '2026-27');
    expect(row).toMatchObject({ claimedPence: 1_234_567, reportStatus: 'pending' });
    casePage = await web.get(`/cases/${id}`);
    const first = casePage.$('#register tbody tr').first();
    expect(first.text()).toContain('£12,345.67');
    expect(first.text()).toContain('Awaiting verification');
    expect(first.find('.govuk-tag').last().text()).toBe(
      row.rag === 'not-due' ? 'Not due' : row.rag.replace(/^./, (x: string) => x.toUpperCase()),
    );
    const again = await web.post(`/cases/${id}/reports/new`, {
      line: '0',
      year: '2026-27',
      claimed: '1',
      evidence: 'A second report for the same year.',
    });
    expect(again.status).toBe(409);
  });

  it('a council cannot open another council’s draft through any page, nor an unknown case', async () => {
    const bradford = webClient(w.t);
    await bradford.signIn(w.tokens.bradford);
    await bradford.get('/cases/new');
    ok(await bradford.post('/cases/new', { roundId: w.roundId, title: 'Bradford’s private draft', theme: 'offenders' }), 'draft');
    const id = (await w.t.request('GET', '/api/v1/cases', { token: w.tokens.bradford })).body.find(
      (c: { title: string }) => c.title === 'Bradford’s private draft',
    ).id as string;
    const lewisham = webClient(w.t);
    await lewisham.signIn(w.tokens.lewisham);
    const paths = [
      '',
      '/about',
      '/narrative/strategic',
      '/costs',
      '/costs/new',
      '/benefits',
      '/benefits/new',
      '/check',
      '/tranches/1/claim',
      '/reports/new',
    ];
    for (const path of paths) {
      const page = await lewisham.get(`/cases/${id}${path}`);
      expect(page.status, path).toBe(404);
      expect(page.title, path).toBe('Page not found – topslice');
      expect(page.html, path).not.toContain('Bradford’s private draft');
    }
    await lewisham.get('/cases');
    for (const path of ['/about', '/narrative/strategic', '/costs/new', '/benefits/new', '/submit', '/tranches/1/claim', '/reports/new']) {
      const page = await lewisham.post(`/cases/${id}${path}`, { title: 'Taken over', narrative: 'Taken over' });
      expect(page.status, path).toBe(404);
    }
    expect((await w.t.request('GET', `/api/v1/cases/${id}`, { token: w.tokens.bradford })).body.revision).toBe(1);
    expect((await lewisham.get('/cases')).html).not.toContain('Bradford’s private draft');

    for (const path of [
      '/cases/00000000-0000-0000-0000-000000000000',
      '/cases/not-a-case/about',
      `/cases/${id}/narrative/poetic`,
      `/cases/${id}/costs/0`,
      `/cases/${id}/benefits/7`,
      `/cases/${id}/tranches/1/claim`,
    ]) {
      const page = await bradford.get(path);
      expect(page.status, path).toBe(404);
    }
  });

  it('refuses a form post without the CSRF token, and changes nothing', async () => {
    const web = webClient(w.t);
    await web.signIn(w.tokens.bradford);
    const before = (await w.t.request('GET', '/api/v1/cases', { token: w.tokens.bradford })).body.length;
    const page = await web.post('/cases/new', { _csrf: null, roundId: w.roundId, title: 'Forged', theme: 'offenders' });
    expect(page.status).toBe(403);
    expect((await w.t.request('GET', '/api/v1/cases', { token: w.tokens.bradford })).body.length).toBe(before);
  });

  it('sends a signed-out visitor to sign in, and back to the page afterwards', async () => {
    const web = webClient(w.t);
    const page = await web.get('/cases');
    expect(page.status).toBe(303);
    expect(page.location).toBe('/sign-in?next=%2Fcases');
  });

  it('shows an approved case’s tranches to its council, with its status tags', async () => {
    const id = await approvedCase(w, { title: 'Approved through the API' });
    const web = webClient(w.t);
    await web.signIn(w.tokens.bradford);
    const list = await web.get('/cases');
    const row = list.$('#cases tbody tr').filter((_, tr) => list.$(tr).text().includes('Approved through the API'));
    expect(row.find('.govuk-tag').text()).toBe('Approved');
    const page = await web.get(`/cases/${id}`);
    expect(page.$('#tranches tbody tr').length).toBeGreaterThan(0);
    const api = (await w.t.request('GET', `/api/v1/cases/${id}/appraisal`, { token: w.tokens.bradford })).body;
    expect(page.$('#appraisal-pv-costs').text()).toBe(money(api.pvCostsPence));
    expect(page.$('#appraisal-bcr').text()).toBe(ratio(api.bcr));
  });
});
