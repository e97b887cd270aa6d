import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/db/database.ts';
import { formatPence } from '../../src/lib/money.ts';
import { wholeNumber } from '../../src/lib/templates.ts';
import { authenticateToken } from '../../src/users/tokens.ts';
import { LEASE_SECONDS, renewLease, startVerification } from '../../src/verify/verifications.ts';
import { type CreditsWorld, creditsWorld } from '../support/credits.ts';
import { engines } from '../support/db.ts';
import { type Page, webClient } from '../support/web.ts';

/*
 * Treasury's, the auditor's and the place pages over HTTP, from a year with verified savings to
 * close (test/support/credits.ts): the fund's figures against GET /fund, setting up a year and a
 * round through the forms, closing the year and running compliance through their confirmation
 * pages and comparing the outcome with the API's, the auditor reading without any form that
 * changes anything, and others refused.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON replies
type Json = Record<string, any>;
const fy = '2026-27';
const text = (page: Page, selector: string) => page.$(selector).text().replace(/\s+/g, ' ').trim();

describe.each(engines())('Treasury, auditor and place pages (%s)', (engine) => {
  let w: CreditsWorld;
  const as = async (token: string) => {
    const web = webClient(w.t);
    await web.signIn(token);
    await web.get('/');
    return web;
  };
  const api = async (path: string, token?: string) => {
    const r = await w.t.request('GET', `/api/v1${path}`, token === undefined ? {} : { token });
    expect(r.status, r.text).toBe(200);
    return r.body as Json;
  };
  /** Every chart on a page has a data table beside it (the chart's id + "-table"). */
  const chartsHaveTables = (page: Page) => {
    const charts = page
      .$('svg.app-chart')
      .map((_, s) => page.$(s).attr('id'))
      .get();
    for (const id of charts) expect(page.$(`#${id}-table`).length, `table for ${id}`).toBe(1);
    for (const id of charts) expect(page.$(`#${id}`).closest('[aria-hidden="true"]').length, `${id} hidden from screen readers`).toBe(1);
    return charts;
  };

  beforeAll(async () => {
    w = await creditsWorld(engine);
  });
  afterAll(() => w.t.destroy());

  it('shows the fund for a year with the figures GET /fund gives, and each chart with its table', async () => {
    const treasury = await as(w.t.treasury);
    const first = await treasury.get('/fund');
    expect(first.status).toBe(303);
    expect(first.location).toBe(`/fund/${fy}`);
    const page = await treasury.get(`/fund/${fy}`);
    expect(page.status).toBe(200);
    expect(page.title).toBe(`The prevention fund ${fy} – topslice`);
    expect(page.$('h1').length).toBe(1);
    const fund = await api(`/fund?fy=${fy}`);
    expect(text(page, '#contributed')).toBe(formatPence(BigInt(fund.contributedPence)));
    expect(text(page, '#committed')).toBe(formatPence(BigInt(fund.committedPence)));
    expect(text(page, '#released')).toBe(formatPence(BigInt(fund.releasedPence)));
    expect(text(page, '#available')).toBe(formatPence(BigInt(fund.availablePence)));
    expect(text(page, '#balance')).toBe(formatPence(BigInt(fund.balancePence)));
    // Nothing came back yet: other receipts are clawbacks and buy-outs.
    expect(fund.otherReceiptsPence).toBe(0);
    expect(text(page, '#clawed-back')).toBe('£0.00');
    expect(text(page, '#bought-out')).toBe('£0.00');
    expect(chartsHaveTables(page).sort()).toEqual(['contributions-chart', 'timeline-chart']);
    const rows = page.$('#contributions-chart-table tbody tr');
    expect(rows.length).toBe(fund.contributions.length);
    for (const k of fund.contributions) {
      expect(page.$(`#contributions-chart-table tr[data-department="${k.departmentCode}"] td`).text()).toBe(
        formatPence(BigInt(k.amountPence)),
      );
    }
    // The month's committed and released at the last month are the position's.
    const last = page.$('#timeline-chart-table tbody tr').last().find('td');
    expect(last.eq(0).text()).toBe(formatPence(BigInt(fund.committedPence)));
    expect(last.eq(1).text()).toBe(formatPence(BigInt(fund.releasedPence)));
    expect(page.$('.govuk-table__cell--numeric').length).toBeGreaterThan(0);
    for (const href of [
      `/reports/${fy}/fund-statement.pdf`,
      `/reports/${fy}/realised-benefits.pdf`,
      `/open-data/${fy}/grants.json`,
      `/open-data/${fy}/grants.csv`,
    ]) {
      expect(page.$(`#documents a[href="${href}"]`).length, href).toBe(1);
    }
  });

  it('sets up a year, a department’s terms and a round through the forms, with errors beside their fields', async () => {
    const treasury = await as(w.t.treasury);
    const bad = await treasury.post('/fund/years/new', { name: '2027' });
    expect(bad.status).toBe(400);
    expect(bad.title).toBe('Error: Set up a financial year – topslice');
    expect(bad.errorSummary).toEqual(['Enter the year as its first year and the next two digits, like 2027-28']);
    expect(bad.$('#name').attr('value')).toBe('2027');
    const made = await treasury.post('/fund/years/new', { name: '2027-28' });
    expect(made.status).toBe(303);
    expect(made.location).toBe('/fund/2027-28/departments?done=year');
    expect((await api('/financial-years/2027-28')).status).toBe('open');
    // The same form sent again gets its first answer; the year is set up once.
    const resent = await treasury.post('/fund/years/new', { name: '2027-28' });
    expect([resent.status, resent.location]).toEqual([303, made.location]);
    await treasury.get('/fund/years/new');
    const again = await treasury.post('/fund/years/new', { name: '2027-28' });
    expect(again.status).toBe(409);

    const form = await treasury.get('/fund/2027-28/departments/DHSC');
    expect(form.status).toBe(200);
    for (const id of ['baselinePence', 'topSliceBasisPoints', 'savingsTargetPence']) expect(form.$(`label[for="${id}"]`).length).toBe(1);
    const wrong = await treasury.post('/fund/2027-28/departments/DHSC', {
      baselinePence: '12.345',
      topSliceBasisPoints: '101',
      savingsTargetPence: '',
    });
    expect(wrong.status).toBe(400);
    expect(wrong.errorSummary).toEqual([
      'The baseline budget must be an amount in pounds, like £1,250,000 or 1250000.50',
      'The top-slice rate must be a percentage from 0 to 100, like 2.5',
      'Enter the savings target',
    ]);
    expect(wrong.$('#baselinePence').attr('value')).toBe('12.345');
    const saved = await treasury.post('/fund/2027-28/departments/DHSC', {
      baselinePence: '£1,000,000,000',
      topSliceBasisPoints: '2.5',
      savingsTargetPence: '30,000,000.01',
    });
    expect(saved.status).toBe(303);
    expect(await api('/financial-years/2027-28/departments/DHSC')).toMatchObject({
      baselinePence: 1_000_000_000_00,
      topSliceBasisPoints: 250,
      savingsTargetPence: 30_000_000_01,
      contributionDuePence: 25_000_000_00,
    });

    const confirm = await treasury.get('/fund/2027-28/contributions');
    expect(text(confirm, '#total-to-post')).toBe('£25,000,000.00');
    const posted = await treasury.post('/fund/2027-28/contributions');
    expect(posted.status).toBe(303);
    expect((await api('/fund?fy=2027-28')).contributedPence).toBe(25_000_000_00);

    const roundForm = await treasury.get('/fund/rounds/new');
    expect(roundForm.status).toBe(200);
    // Each field posts under the name the handler reads (a partial once took a criterion's own name).
    const roundFields = roundForm
      .$('main form[action="/fund/rounds/new"] :input[name]')
      .map((_, el) => roundForm.$(el).attr('name'))
      .get();
    for (const n of [
      'name',
      'envelopePence',
      'opensOn',
      'closesOn',
      'quorum',
      'criteria-0-weight',
      'criteria-4-weight',
      'twoApproverThresholdPence',
    ]) {
      expect(roundFields).toContain(n);
    }
    const fields = {
      financialYear: '2027-28',
      name: 'Prevention round <b>two</b>',
      envelopePence: '£2,500,000.50',
      opensOn: '2026-07-01',
      closesOn: '2026-06-01',
      minMatchFundingBasisPoints: '12.5',
      themes: ['no-such-theme'],
      quorum: '2',
      'criteria-0-weight': '20',
      'criteria-1-weight': '40',
      'criteria-2-weight': '10',
      'criteria-3-weight': '10',
      'criteria-4-weight': '20',
      twoApproverThresholdPence: '500000',
    };
    const refused = await treasury.post('/fund/rounds/new', fields);
    expect(refused.status).toBe(400);
    expect(refused.errorSummary.length).toBe(2);
    expect(refused.$('#closesOn-error').text()).toContain('must not be before');
    expect(refused.$('.govuk-error-summary a[href="#closesOn"]').length).toBe(1);
    const ok = await treasury.post('/fund/rounds/new', { ...fields, closesOn: '2026-09-30', themes: [] });
    expect(ok.status, ok.errorSummary.join('; ')).toBe(303);
    const id = decodeURIComponent(ok.location?.replace('/rounds/', '') ?? '');
    const round = await api(`/rounds/${id}`);
    expect(round).toMatchObject({
      financialYear: '2027-28',
      name: 'Prevention round <b>two</b>',
      envelopePence: 2_500_000_50,
      minMatchFundingBasisPoints: 1250,
      quorum: 2,
      twoApproverThresholdPence: 500_000_00,
    });
    expect(round.criteria.find((k: Json) => k.key === 'value-for-money').weight).toBe(40);
    const shown = await treasury.get(ok.location as string);
    expect(shown.html).not.toContain('<b>two</b>');
    expect(shown.html).toContain('&lt;b&gt;two&lt;/b&gt;');
  });

  it('closes the year behind a confirmation page that shows who earns credits and who owes, then shows the credits issued', async () => {
    const treasury = await as(w.t.treasury);
    const before = (await api('/audit-log?limit=500')).entries.length;
    const confirm = await treasury.get(`/fund/${fy}/close`);
    expect(confirm.status).toBe(200);
    expect(confirm.title).toBe(`Close the ${fy} year – topslice`);
    const row = (code: string) => confirm.$(`#close-preview tr[data-department="${code}"]`);
    expect(row('DHSC').find('.app-credits-issued').text()).toBe('123');
    expect(row('DWP').find('.app-obligation').text()).toBe('1,000');
    expect(row('MOJ').find('.app-obligation').text()).toBe('1');
    // The preview changed nothing.
    expect((await api(`/financial-years/${fy}`)).status).toBe('open');
    expect((await api('/audit-log?limit=500')).entries.length).toBe(before);
    expect(confirm.$(`form[action="/fund/${fy}/close"] button#confirm-close`).length).toBe(1);

    const closed = await treasury.post(`/fund/${fy}/close`);
    expect(closed.status).toBe(303);
    expect(closed.location).toBe(`/fund/${fy}/outcome?done=closed`);
    const outcome = await treasury.get(closed.location as string);
    expect(outcome.$('.govuk-notification-banner').text()).toContain('credits issued');
    const close = await api(`/financial-years/${fy}/close`);
    for (const d of close.departments) {
      const r = outcome.$(`#credits-issued tr[data-department="${d.departmentCode}"]`);
      expect(r.find('.app-credits-issued').text()).toBe(wholeNumber(d.creditsIssued));
      expect(r.find('.app-obligation').text()).toBe(wholeNumber(d.obligationCredits));
    }
    expect(outcome.$('#credits-issued .app-total-credits').text()).toBe(
      wholeNumber(close.departments.reduce((s: number, d: Json) => s + d.creditsIssued, 0)),
    );
    const fund = await treasury.get(`/fund/${fy}`);
    expect(text(fund, '#credits-issued')).toBe('123');
    // Closing is done: the confirmation page sends you to the outcome.
    expect((await treasury.get(`/fund/${fy}/close`)).location).toBe(`/fund/${fy}/outcome`);
    // A closed year's terms are fixed: shown as they stand, with no form the service would refuse.
    const terms = await treasury.get(`/fund/${fy}/departments/DHSC`);
    const dhsc = await api(`/financial-years/${fy}/departments/DHSC`);
    expect(terms.$('#terms-fixed').text()).toContain('is closed');
    expect(terms.$('main form[method="post"]').length).toBe(0);
    expect(text(terms, '#terms')).toContain(formatPence(BigInt(dhsc.baselinePence)));
    expect(text(terms, '#terms')).toContain(formatPence(BigInt(dhsc.savingsTargetPence)));
  });

  it('runs compliance behind a confirmation page showing the buy-outs, and the fund then shows what was bought out', async () => {
    const treasury = await as(w.t.treasury);
    const unpriced = await treasury.get(`/fund/${fy}/compliance`);
    expect(unpriced.status).toBe(422);
    expect(unpriced.errorSummary.join(' ')).toMatch(/price/i);
    // The market's prices, set on their page: each field's error beside it, then the band the API reads.
    const form = await treasury.get(`/fund/${fy}/market`);
    expect(form.status).toBe(200);
    expect(form.title).toBe(`Set the market’s prices for ${fy} – topslice`);
    const empty = await treasury.post(`/fund/${fy}/market`, { floorPence: '', ceilingPence: 'two pounds' });
    expect(empty.status).toBe(400);
    expect(empty.errorSummary).toEqual([
      'Enter the floor price',
      'The ceiling price must be an amount in pounds, like £1,250,000 or 1250000.50',
    ]);
    expect(empty.$('#ceilingPence').val()).toBe('two pounds');
    const crossed = await treasury.post(`/fund/${fy}/market`, { floorPence: '3', ceilingPence: '2' });
    expect(crossed.status).toBe(400);
    expect(crossed.errorSummary).toEqual(['The floor price must not be above the ceiling']);
    // The API's limits hold on the page: a free ceiling would make every shortfall compliant for nothing.
    const free = await treasury.post(`/fund/${fy}/market`, { floorPence: '0', ceilingPence: '1000000.01' });
    expect(free.status).toBe(400);
    expect(free.errorSummary).toEqual(['The floor price must be at least 1p', 'The ceiling price must be at most £1,000,000 per credit']);
    // A baseline past the API's £1,000,000,000,000 would fill the year's Exchequer account for every department.
    const huge = await treasury.post(`/fund/${fy}/departments/DWP`, {
      baselinePence: '90071992547409.91',
      topSliceBasisPoints: '1',
      savingsTargetPence: '1',
    });
    expect(huge.status).toBe(400);
    expect(huge.errorSummary).toEqual(['The baseline must be at most £1,000,000,000,000.00 (100000000000000 pence)']);
    expect((await w.t.request('GET', `/api/v1/financial-years/${fy}/credit-market`)).body).toMatchObject({ prices: null });
    const set = await treasury.post(`/fund/${fy}/market`, { floorPence: '0.50', ceilingPence: '£2' });
    expect(set.status).toBe(303);
    expect(set.location).toBe(`/fund/${fy}?done=market`);
    const market = await api(`/financial-years/${fy}/credit-market`);
    expect(market.prices).toMatchObject({ floorPence: 50, ceilingPence: 200 });
    expect((await treasury.get(`/fund/${fy}/market`)).$('#ceilingPence').val()).toBe('2.00');

    const confirm = await treasury.get(`/fund/${fy}/compliance`);
    expect(confirm.status).toBe(200);
    const dwp = confirm.$('#compliance-preview tr[data-department="DWP"]');
    expect(dwp.find('.app-buy-out-due').text()).toBe('£2,000.00');
    expect(confirm.$('#compliance-preview tr[data-department="HO"] .app-buy-out-outstanding').text()).toBe('£1,900.00');
    expect((await w.t.request('GET', `/api/v1/financial-years/${fy}/compliance`)).status).toBe(404);

    const ran = await treasury.post(`/fund/${fy}/compliance`);
    expect(ran.status).toBe(303);
    const run = await api(`/financial-years/${fy}/compliance`);
    const outcome = await treasury.get(ran.location as string);
    for (const r of run.results) {
      const tr = outcome.$(`#compliance-results tr[data-department="${r.departmentCode}"]`);
      expect(tr.find('.app-buy-out-paid').text()).toBe(formatPence(BigInt(r.buyOutPaidPence)));
      expect(tr.find('.app-buy-out-outstanding').text()).toBe(formatPence(BigInt(r.buyOutOutstandingPence)));
    }
    // The totals row: the API's totals, and the sum of the column it does not total.
    const totals = outcome.$('#compliance-results tfoot');
    expect(totals.find('.app-buy-out-paid').text()).toBe(formatPence(BigInt(run.totals.buyOutPaidPence)));
    expect(totals.find('.app-buy-out-outstanding').text()).toBe(formatPence(BigInt(run.totals.buyOutOutstandingPence)));
    expect(totals.find('.app-surrendered').text()).toBe(wholeNumber(run.totals.surrenderedCredits));
    expect(totals.find('.app-buy-out-due').text()).toBe(
      formatPence(BigInt(run.results.reduce((s: number, r: Json) => s + r.buyOutDuePence, 0))),
    );
    const fund = await api(`/fund?fy=${fy}`);
    const page = await treasury.get(`/fund/${fy}`);
    const paid = run.results.reduce((s: number, r: Json) => s + r.buyOutPaidPence, 0);
    expect(paid).toBeGreaterThan(0);
    expect(text(page, '#bought-out')).toBe(formatPence(BigInt(paid)));
    expect(fund.otherReceiptsPence).toBe(paid);
    expect(text(page, '#balance')).toBe(formatPence(BigInt(fund.balancePence)));
    // Compliance ran at the ceiling, which is now fixed.
    const late = await treasury.post(`/fund/${fy}/market`, { floorPence: '0.50', ceilingPence: '3' });
    expect(late.status).toBe(409);
    expect(late.errorSummary.join(' ')).toMatch(/ceiling price, which is now fixed/);
    const fixed = await treasury.get(`/fund/${fy}/market`);
    expect(fixed.$('#prices-fixed').text()).toContain('now fixed');
    expect(fixed.$('main form[method="post"]').length).toBe(0);
    // Its market is closed: a department is told so instead of being given order and proposal forms.
    const dhscWeb = await as(w.tokens.dhsc);
    for (const path of [`/market/orders/new?fy=${fy}`, `/market/proposals/new?fy=${fy}`]) {
      const page = await dhscWeb.get(path);
      expect(page.status).toBe(200);
      expect(page.$('#market-closed').text()).toContain('market is closed');
      expect(page.$('main form[method="post"]').length).toBe(0);
    }
    // 2027-28, set up above, is still open: its market has not opened.
    const early = await dhscWeb.get('/market/orders/new?fy=2027-28');
    expect(early.$('#market-not-open').text()).toContain('opens when Treasury closes the year');
    expect(early.$('main form[method="post"]').length).toBe(0);
  });

  it('lets an auditor read the ledger, the audit log and the check of the books, with no form that changes anything', async () => {
    const auditor = await as(w.tokens.auditor);
    // The start page offers an auditor what an auditor can do: read.
    const home = text(await auditor.get('/'), 'main');
    expect(home).toContain('The fund for a year at a glance');
    expect(home).not.toMatch(/close the year and run compliance|score them|your orders|Approve tranches/);
    const pages: Page[] = [];
    for (const path of [
      `/fund/${fy}`,
      `/fund/${fy}/departments`,
      `/fund/${fy}/outcome`,
      '/ledger',
      '/ledger/accounts',
      '/ledger/transfers',
      '/audit-log',
      '/ledger/verification',
      '/benefits/review',
      '/places/BRADFORD',
    ]) {
      const page = await auditor.get(path);
      expect(page.status, path).toBe(200);
      expect(page.$('h1').length, path).toBe(1);
      // Nothing here changes the books; the one form starts a check of them.
      expect(
        page.$('form[method="post"]').not('.app-sign-out, form[action="/sign-out"], form[action="/ledger/verification"]').length,
        path,
      ).toBe(0);
      pages.push(page);
    }
    for (const path of [
      `/fund/${fy}/close`,
      `/fund/${fy}/compliance`,
      '/fund/years/new',
      '/fund/rounds/new',
      `/fund/${fy}/departments/DHSC`,
    ]) {
      expect((await auditor.get(path)).status, path).toBe(403);
    }
    // Each department with terms links to its position, which the auditor may read.
    const link = pages[1]?.$('tr[data-department="DHSC"] th a').attr('href');
    expect(link).toBe(`/departments/DHSC?fy=${fy}`);
    expect((await auditor.get(link as string)).status).toBe(200);
    expect((await auditor.post('/fund/years/new', { name: '2028-29' })).status).toBe(403);
    expect((await auditor.post(`/fund/${fy}/market`, { floorPence: '1', ceilingPence: '2' })).status).toBe(403);
    expect((await auditor.post(`/fund/${fy}/compliance`)).status).toBe(403);

    const accounts = await auditor.get(`/ledger/accounts?fy=${fy}&ledger=GBP`);
    const fundAccount = (await api(`/ledger/accounts?fy=${fy}&kind=fund`, w.tokens.auditor))[0];
    expect(text(accounts, `tr[data-account="${fundAccount.id}"] .app-balance`)).toBe(formatPence(BigInt(fundAccount.balance)));
    const badFilter = await auditor.get('/ledger/accounts?fy=2026');
    expect(badFilter.status).toBe(400);
    expect(badFilter.$('#fy-error').length).toBe(1);
    // A page number is digits only: 0x2, 1e0 or -1 is refused, not read as another page.
    for (const page of ['0x2', '1e0', '-1', '0']) {
      const odd = await auditor.get(`/ledger/accounts?fy=${fy}&page=${page}`);
      expect(odd.status, page).toBe(400);
      expect(odd.errorSummary.join(' '), page).toContain('Page must be a page number');
    }

    const transfers = await auditor.get('/ledger/transfers?limit=5');
    const apiTransfers = await api('/ledger/transfers?limit=5', w.tokens.auditor);
    expect(
      transfers
        .$('#transfers tbody tr')
        .map((_, tr) => transfers.$(tr).attr('data-transfer'))
        .get(),
    ).toEqual(apiTransfers.transfers.map((t: Json) => t.id));
    const next = transfers.$('#next-page').attr('href');
    expect(next).toBe(`/ledger/transfers?limit=5&after=${apiTransfers.nextAfter}`);
    const page2 = await auditor.get(next as string);
    const api2 = await api(`/ledger/transfers?limit=5&after=${apiTransfers.nextAfter}`, w.tokens.auditor);
    expect(
      page2
        .$('#transfers tbody tr')
        .map((_, tr) => page2.$(tr).attr('data-transfer'))
        .get(),
    ).toEqual(api2.transfers.map((t: Json) => t.id));
    const logPage = await auditor.get('/audit-log?limit=3');
    expect(logPage.$('#audit-entries tbody tr').length).toBe(3);
    const logNext = await auditor.get(logPage.$('#next-page').attr('href') as string);
    expect(logNext.$('#audit-entries tbody tr').first().attr('data-position')).toBe('4');

    const log = await auditor.get('/audit-log?action=financial-year.closed');
    expect(log.$('#audit-entries tbody tr').length).toBe(1);
    expect(log.$('.app-action').text()).toBe('financial-year.closed');
    // Who closed it, by name and role, and when to the millisecond as the chain holds it.
    const [closing] = (await api('/audit-log?action=financial-year.closed', w.tokens.auditor)).entries;
    const closer = (await api('/users')).find((u: Json) => u.id === closing.actorUserId);
    expect(text(log, '.app-actor')).toBe(`${closer.name}, treasury`);
    expect(log.$('#audit-entries time').attr('datetime')).toBe(closing.at);

    // The check of the books runs in the background: the page starts one and follows it.
    const before = await auditor.get('/ledger/verification');
    expect(before.$('#start-check').text().trim()).toBe('Check the books now');
    const started = await auditor.post('/ledger/verification');
    expect(started.status).toBe(303);
    expect(started.location).toMatch(/^\/ledger\/verification\/[0-9a-f-]{36}$/);
    await w.t.verifications.idle();
    const verification = await auditor.get(started.location as string);
    const v = await api('/ledger/verify', w.tokens.auditor);
    expect(v.ok).toBe(true);
    expect(text(verification, '#check-status')).toBe('Passed');
    expect(text(verification, '#verification-result')).toBe('Every check passed');
    expect(text(verification, '#audit-entries-count')).toBe(wholeNumber(v.audit.entries));
    const job = (await api('/ledger/verifications?limit=1', w.tokens.auditor)).verifications[0];
    expect(started.location).toBe(`/ledger/verification/${job.id}`);
    expect(job.report.audit.entries).toBe(v.audit.entries);
    // The latest check leads the page, and the recent ones are listed with who asked.
    const latest = await auditor.get('/ledger/verification');
    expect(text(latest, '#verification-result')).toBe('Every check passed');
    expect(latest.$(`#recent-checks tr[data-check="${job.id}"] a`).attr('href')).toBe(started.location);
    expect(text(latest, `#recent-checks tr[data-check="${job.id}"]`)).toContain(', auditor');
  });

  it('spells out what is wrong when the books do not check', async () => {
    const db = w.t.database.db;
    const account = `GBP/${fy}/fund`;
    const row = await db.selectFrom('accounts').select('credits_posted').where('id', '=', account).executeTakeFirstOrThrow();
    await db
      .updateTable('accounts')
      .set({ credits_posted: BigInt(row.credits_posted) + 1n })
      .where('id', '=', account)
      .execute();
    try {
      const auditor = await as(w.tokens.auditor);
      const started = await auditor.post('/ledger/verification');
      await w.t.verifications.idle();
      const page = await auditor.get(started.location as string);
      const problems = page
        .$('#verification-problems li')
        .map((_, li) => page.$(li).text())
        .get();
      expect(problems.some((p) => p.startsWith(`Account ${account}:`))).toBe(true);
      expect(text(page, '#verification-result')).toMatch(/wrong/);
      expect(text(page, '#check-status')).toBe('Found problems');
    } finally {
      await db
        .updateTable('accounts')
        .set({ credits_posted: BigInt(row.credits_posted) })
        .where('id', '=', account)
        .execute();
    }
  });

  it('follows a check still running, and says so when one was cut off before it finished', async () => {
    const db = w.t.database.db;
    const at = w.t.now();
    const signedIn = await authenticateToken(db, w.tokens.auditor, at);
    if (!('principal' in signedIn)) throw new Error('the auditor cannot sign in');
    // Another instance of the service has started a check and not finished it.
    const { verification } = await inTransaction(db, (trx) =>
      startVerification({ trx, principal: signedIn.principal, requestId: null, now: at }, []),
    );
    try {
      const treasury = await as(w.t.treasury);
      // One check at a time: asking for another while it runs leads to the one running.
      const again = await treasury.post('/ledger/verification');
      expect(again.location).toBe(`/ledger/verification/${verification.id}`);
      const running = await treasury.get(again.location as string);
      expect(text(running, '#check-status')).toBe('Running');
      expect(text(running, '#check-running')).toContain('This check is still running.');
      expect(running.$('#check-refresh').attr('href')).toBe(again.location);
      expect(running.$('#verification-result').length).toBe(0);
      // Its runner reports how far it has got with each heartbeat; the page counts it out.
      const progress = { asOf: { auditPosition: '1200', lastTransferSeq: '400' }, auditEntriesChecked: 600, transfersChecked: 0 };
      await inTransaction(db, (trx) => renewLease(trx, verification.id, at, progress));
      expect(text(await treasury.get(again.location as string), '#check-running')).toContain(
        'So far it has checked 600 of 1,200 audit entries and 0 of 400 transfers.',
      );
      // Its lease lapses with nobody renewing it: it was cut off, and the page says it did not finish.
      w.t.setNow(new Date(at.getTime() + (LEASE_SECONDS + 1) * 1000));
      const lapsed = await treasury.get(again.location as string);
      expect(text(lapsed, '#check-status')).toBe('Did not finish');
      expect(text(lapsed, '#check-error')).toContain('Interrupted');
      expect(lapsed.$('#check-running').length).toBe(0);
      expect((await treasury.get('/ledger/verification/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    } finally {
      w.t.setNow(at);
    }
  });

  it('refuses departments and councils the Treasury and ledger pages', async () => {
    for (const token of [w.tokens.dhsc, w.tokens.bradford]) {
      const web = await as(token);
      for (const path of [
        `/fund/${fy}`,
        `/fund/${fy}/close`,
        `/fund/${fy}/outcome`,
        '/fund/years/new',
        '/fund/rounds/new',
        '/audit-log',
        '/ledger/verification',
        '/ledger',
      ]) {
        expect((await web.get(path)).status, path).toBe(403);
      }
      expect((await web.post(`/fund/${fy}/compliance`)).status).toBe(403);
      expect((await web.post('/ledger/verification')).status).toBe(403);
      const nav = (await web.get('/')).$('a[href="/fund"]');
      expect(nav.length).toBe(0);
    }
    const signedOut = webClient(w.t);
    const page = await signedOut.get(`/fund/${fy}`);
    expect(page.status).toBe(303);
    expect(page.location).toContain('/sign-in');
  });

  it('refuses a form post without the CSRF token, changing nothing', async () => {
    const treasury = await as(w.t.treasury);
    const page = await treasury.post('/fund/years/new', { _csrf: null, name: '2029-30' });
    expect(page.status).toBe(403);
    expect(page.title).toBe('This form has expired – topslice');
    expect((await w.t.request('GET', '/api/v1/financial-years/2029-30')).status).toBe(404);
  });

  it('refuses a form whose text has control characters, as the API does, changing nothing', async () => {
    const treasury = await as(w.t.treasury);
    const before = (await api('/audit-log?limit=500')).entries.length;
    const page = await treasury.post('/fund/rounds/new', { name: 'Round a\u0000b', envelopePence: '1000' });
    expect(page.status).toBe(400);
    expect(page.title).toBe('The form sent text this service cannot take – topslice');
    expect(page.$('main').text()).toContain('must not contain control characters (it has U+0000)');
    expect((await api('/audit-log?limit=500')).entries.length).toBe(before);
    // And in an address: a filter or cursor with a control character is refused before it reaches the database.
    for (const path of [
      '/audit-log?action=%00',
      '/audit-log?subject=a%01b',
      '/benefits/review?theme=%00',
      '/ledger/transfers?account=%00',
    ]) {
      const refused = await treasury.get(path);
      expect(refused.status, path).toBe(400);
      expect(refused.title, path).toBe('The address has text this service cannot take – topslice');
    }
    expect((await treasury.get('/benefits/register.csv?theme=%00')).status).toBe(400);
  });

  it('reviews realised benefits with filters and RAG tags, with the same rows as the CSV', async () => {
    const treasury = await as(w.t.treasury);
    const page = await treasury.get(`/benefits/review?fy=${fy}&department=DWP`);
    expect(page.status).toBe(200);
    const api = await w.t.request('GET', `/api/v1/benefits?fy=${fy}&department=DWP`);
    expect(page.$('#benefits tbody tr').length).toBe(api.body.rows.length);
    expect(page.$('#benefits .govuk-tag').length).toBe(api.body.rows.length);
    expect(page.$('#register-csv').attr('href')).toBe(`/benefits/register.csv?fy=${fy}&department=DWP`);
    const csv = await w.t.app.request(page.$('#register-csv').attr('href') as string, { headers: { cookie: treasury.cookie } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const apiCsv = await w.t.request('GET', `/api/v1/open-data/benefits.csv?fy=${fy}&department=DWP`);
    expect(await csv.text()).toBe(apiCsv.text);
    const bad = await treasury.get('/benefits/review?fy=20');
    expect(bad.status).toBe(400);
    expect(bad.$('#fy-error').length).toBe(1);

    const grants = await w.t.app.request(`/open-data/${fy}/grants.json`, { headers: { cookie: treasury.cookie } });
    const apiGrants = await w.t.request('GET', `/api/v1/open-data/${fy}/grants.json`);
    const body = (await grants.json()) as Json;
    expect(body.grants).toEqual(apiGrants.body.grants);
  });

  it('shows a place for a year: cases, releases, savings by department, and the flow chart with its table', async () => {
    const dhsc = await as(w.tokens.dhsc);
    const page = await dhsc.get(`/places/BRADFORD?fy=${fy}`);
    expect(page.status).toBe(200);
    expect(page.$('h1').length).toBe(1);
    expect(chartsHaveTables(page)).toEqual(['flow-chart']);
    expect(page.$('#place-cases tbody tr').length).toBeGreaterThan(0);
    expect(page.$('#flow-chart-table .app-flow-in').length).toBe(page.$('#flow-chart path[fill="#1d70b8"]').length);
    expect(page.$('#place-report-pdf').attr('href')).toBe(`/places/BRADFORD/report.pdf?fy=${fy}`);
    expect((await dhsc.get('/places/NOWHERE')).status).toBe(404);
    const council = await as(w.tokens.bradford);
    expect((await council.get(`/places/BRADFORD?fy=${fy}`)).status).toBe(200);
  });
});
