import { MarketPricesInput } from '../api/credits.routes.ts';
import { DepartmentTermsInput } from '../api/fund.routes.ts';
import { NewRoundSchema } from '../api/rounds.routes.ts';
import { type ComplianceResult, previewCompliance, readCompliance, runYearCompliance } from '../compliance/compliance.ts';
import { closeFinancialYear, previewYearClose, readYearClose } from '../credits/close.ts';
import { barChart, lineChart } from '../documents/charts.ts';
import { readFundDashboard } from '../fund/dashboard.ts';
import {
  financialYearOf,
  getFinancialYear,
  listDepartmentYears,
  listFinancialYears,
  postContributions,
  readDepartmentTerms,
  setDepartmentTerms,
  setUpFinancialYear,
} from '../fund/fund.ts';
import { FUND_REFUSALS } from '../fund/refusals.ts';
import type { Deps } from '../http/context.ts';
import { DomainError, type FieldError, invalid } from '../lib/errors.ts';
import { basisPointsAsPercentInput, parsePercent, parsePounds, penceAsPoundsInput } from '../lib/money.ts';
import { refuse } from '../lib/refusals.ts';
import { readMarket, setMarketPrices } from '../market/prices.ts';
import { listOrganisations, listThemes } from '../reference/reference.ts';
import { REFERENCE_REFUSALS } from '../reference/refusals.ts';
import { createRound, DEFAULT_CRITERIA, DEFAULT_TWO_APPROVER_THRESHOLD_PENCE } from '../rounds/rounds.ts';
import type { Principal } from '../users/users.ts';
import type { PageSection } from './app.ts';
import {
  actingAsUser,
  checkBody,
  type FormErrors,
  formErrors,
  formFields,
  formValues,
  lookAs,
  NO_ERRORS,
  noticeOf,
  render,
  requireRole,
  tryForm,
  type WebApp,
  type WebContext,
} from './pages.ts';
import { mountTreasuryDocuments } from './treasury-documents.ts';

/*
 * Treasury's pages: the fund for a year at a glance (the figures, contributions by department and
 * commitments and releases month by month, each chart with its table), setting up a year and its
 * departments' terms, posting the contributions, opening a round, and closing the year and running
 * compliance — each of those two behind a page that shows what will happen, worked out by the
 * operation itself and rolled back. Auditors read the same pages without the forms. Each form is
 * handed to the same domain operation the API calls, so a page refuses what the API refuses.
 */

type Fields = Record<string, string>;

/** The fund pages are Treasury's; auditors read them. The same roles as the dashboard read. */
const FUND_PAGE_ROLES = readFundDashboard.roles;

const FY = /^\d{4}-\d{2}$/;
/** The year in the path, or the 404 page for anything that cannot be one. */
function fyParam(c: WebContext): string {
  const fy = c.req.param('fy') ?? '';
  if (!FY.test(fy)) throw refuse(FUND_REFUSALS, 'financial-year-not-found', `There is no financial year ${fy}.`);
  return fy;
}

/** Success messages a redirect may ask for (never text from the request). */
const NOTICES: Record<string, string> = {
  year: 'The financial year has been set up. Set each department’s terms next',
  terms: 'The department’s terms have been saved',
  contributions: 'The contributions have been posted into the fund',
  closed: 'The year has been closed and its credits issued',
  compliance: 'Compliance has run for the year',
  market: 'The market’s prices have been set',
};

/** Money typed as pounds: pence, or a field error in the users' words. */
function pounds(fields: Fields, id: string, what: string, errors: FieldError[]): bigint {
  const text = (fields[id] ?? '').trim();
  const v = text === '' ? null : parsePounds(text);
  if (v === null) {
    errors.push({
      pointer: `/${id}`,
      detail: text === '' ? `Enter ${what}` : `${sentenceStart(what)} must be an amount in pounds, like £1,250,000 or 1250000.50`,
    });
    return 0n;
  }
  return v;
}

/** A percentage typed in: basis points, or a field error. */
function percent(fields: Fields, id: string, what: string, errors: FieldError[]): number {
  const text = (fields[id] ?? '').trim();
  const v = text === '' ? null : parsePercent(text);
  if (v === null) {
    errors.push({
      pointer: `/${id}`,
      detail: text === '' ? `Enter ${what}` : `${sentenceStart(what)} must be a percentage from 0 to 100, like 2.5`,
    });
    return 0;
  }
  return v;
}

const sentenceStart = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

async function departmentNames(deps: Deps): Promise<Map<string, string>> {
  const orgs = await listOrganisations(deps.database.db, { kind: 'department' });
  return new Map(orgs.map((o) => [o.code, o.name]));
}

// ---------------------------------------------------------------------------------------------
// The fund dashboard

function mountDashboard(web: WebApp, deps: Deps) {
  web.get('/fund', async (c) => {
    const p = requireRole(c, FUND_PAGE_ROLES);
    if (p instanceof Response) return p;
    const years = await listFinancialYears(deps.database.db);
    if (years.length === 0) return render(c, 'treasury-no-years', { title: 'The prevention fund', canChange: p.role === 'treasury' });
    const current = financialYearOf(deps.clock());
    const fy = years.some((y) => y.name === current) ? current : (years.at(-1)?.name as string);
    return c.redirect(`/fund/${fy}`, 303);
  });

  web.get('/fund/:fy{\\d{4}-\\d{2}}', async (c) => {
    const p = requireRole(c, FUND_PAGE_ROLES);
    if (p instanceof Response) return p;
    const fy = fyParam(c);
    const db = deps.database.db;
    const dashboard = await readFundDashboard(lookAs(deps, p), fy);
    const [years, names] = await Promise.all([listFinancialYears(db), departmentNames(deps)]);
    const year = years.find((y) => y.name === fy);
    const contributions = dashboard.position.contributions.map((k) => ({
      ...k,
      department: names.get(k.departmentCode) ?? k.departmentCode,
    }));
    const bars = barChart(
      contributions.map((k) => ({ label: k.departmentCode, value: k.amountPence })),
      `Contributions to the ${fy} fund by department; the table beside it gives the figures.`,
      // Department codes label the bars; the table beside the chart names them.
      90,
    );
    const months = dashboard.months;
    const lines = lineChart(
      months.map((m) => m.month),
      [
        { label: 'Committed, not yet released', className: 'committed', values: months.map((m) => m.committedPence) },
        { label: 'Released', className: 'released', values: months.map((m) => m.releasedPence) },
      ],
      `Commitments and releases from the ${fy} fund at the end of each month; the table beside it gives the figures.`,
    );
    const close = await readYearClose(lookAs(deps, p), fy).catch(notFoundAsNull);
    const compliance = close ? await readCompliance(lookAs(deps, p), fy).catch(notFoundAsNull) : null;
    return render(c, 'treasury-fund', {
      title: `The prevention fund ${fy}`,
      notice: noticeOf(c, NOTICES),
      fyName: fy,
      year,
      years: years.map((y) => ({ name: y.name, current: y.name === fy })),
      d: dashboard,
      contributions,
      bars,
      lines: { ...lines, months },
      hasMonths: months.length > 0,
      closed: year?.status === 'closed',
      close,
      compliance,
      canChange: p.role === 'treasury',
    });
  });
}

/** A "not found" read as nothing there yet (a year not closed, compliance not run). */
function notFoundAsNull(error: unknown): null {
  if (error instanceof DomainError && error.kind === 'not-found') return null;
  throw error;
}

// ---------------------------------------------------------------------------------------------
// Setting up a year, its departments' terms and contributions

function mountYearSetUp(web: WebApp, deps: Deps) {
  const newYearPage = (c: WebContext, name: string, errors: FormErrors, status: 200 | 400 | 409 = 200) =>
    render(c, 'treasury-year-new', { title: 'Set up a financial year', backLink: '/fund', name, ...errors }, status);

  web.get('/fund/years/new', async (c) => {
    const p = requireRole(c, setUpFinancialYear.roles);
    if (p instanceof Response) return p;
    const next = Number(financialYearOf(deps.clock()).slice(0, 4)) + 1;
    const suggested = `${next}-${String((next + 1) % 100).padStart(2, '0')}`;
    return newYearPage(c, suggested, NO_ERRORS);
  });

  web.post('/fund/years/new', async (c) => {
    const p = requireRole(c, setUpFinancialYear.roles);
    if (p instanceof Response) return p;
    const name = ((await formFields(c)).name ?? '').trim();
    const r = await tryForm(
      async () => {
        if (!FY.test(name))
          throw invalid([{ pointer: '/name', detail: 'Enter the year as its first year and the next two digits, like 2027-28' }]);
        return actingAsUser(deps, c, (act) => setUpFinancialYear(act, name));
      },
      { names: { name: 'The year' } },
    );
    if ('failed' in r) return newYearPage(c, name, r.failed, r.failed.errors.name ? 400 : 409);
    return c.redirect(`/fund/${r.ok.name}/departments?done=year`, 303);
  });

  web.get('/fund/:fy{\\d{4}-\\d{2}}/departments', async (c) => {
    const p = requireRole(c, FUND_PAGE_ROLES);
    if (p instanceof Response) return p;
    const fy = fyParam(c);
    const terms = await readDepartmentTerms(lookAs(deps, p), fy);
    const byCode = new Map(terms.map((t) => [t.departmentCode, t]));
    const departments = (await listOrganisations(deps.database.db, { kind: 'department' })).map((o) => ({
      code: o.code,
      name: o.name,
      terms: byCode.get(o.code) ?? null,
    }));
    const year = (await listFinancialYears(deps.database.db)).find((y) => y.name === fy);
    return render(c, 'treasury-departments', {
      title: `Departments’ terms for ${fy}`,
      backLink: `/fund/${fy}`,
      notice: noticeOf(c, NOTICES),
      fyName: fy,
      departments,
      open: year?.status === 'open',
      canChange: p.role === 'treasury',
      anySet: terms.length > 0,
    });
  });

  const TERMS_NAMES = {
    baselinePence: 'The baseline',
    topSliceBasisPoints: 'The top-slice rate',
    savingsTargetPence: 'The savings target',
  };

  async function termsPage(
    c: WebContext,
    fy: string,
    code: string,
    values: Fields | null,
    errors: FormErrors,
    status: 200 | 400 | 404 | 409 | 422 = 200,
  ) {
    const name = (await departmentNames(deps)).get(code);
    if (!name) throw refuse(REFERENCE_REFUSALS, 'department-not-found', `There is no department ${code}.`);
    const [t, year] = await Promise.all([
      listDepartmentYears(deps.database.db, fy, code).then((rows) => rows[0]),
      getFinancialYear(deps.database.db, fy),
    ]);
    let v = values;
    if (!v) {
      v = t
        ? {
            baselinePence: penceAsPoundsInput(t.baselinePence),
            topSliceBasisPoints: basisPointsAsPercentInput(t.topSliceBasisPoints),
            savingsTargetPence: penceAsPoundsInput(t.savingsTargetPence),
          }
        : { baselinePence: '', topSliceBasisPoints: '', savingsTargetPence: '' };
    }
    return render(
      c,
      'treasury-terms',
      {
        title: `${name}: terms for ${fy}`,
        backLink: `/fund/${fy}/departments`,
        fyName: fy,
        code,
        name,
        values: v,
        // A closed year's terms are fixed (setDepartmentTerms refuses them): shown, not offered as a form.
        open: year.status === 'open',
        terms: t ?? null,
        ...errors,
      },
      status,
    );
  }

  web.get('/fund/:fy{\\d{4}-\\d{2}}/departments/:code', async (c) => {
    const p = requireRole(c, setDepartmentTerms.roles);
    if (p instanceof Response) return p;
    return termsPage(c, fyParam(c), c.req.param('code'), null, NO_ERRORS);
  });

  web.post('/fund/:fy{\\d{4}-\\d{2}}/departments/:code', async (c) => {
    const p = requireRole(c, setDepartmentTerms.roles);
    if (p instanceof Response) return p;
    const fy = fyParam(c);
    const code = c.req.param('code');
    const fields = await formFields(c);
    const r = await tryForm(
      async () => {
        const errors: FieldError[] = [];
        const baselinePence = pounds(fields, 'baselinePence', 'the baseline budget', errors);
        const topSliceBasisPoints = percent(fields, 'topSliceBasisPoints', 'the top-slice rate', errors);
        const savingsTargetPence = pounds(fields, 'savingsTargetPence', 'the savings target', errors);
        if (errors.length > 0) throw invalid(errors);
        // The API's limits, so a page can set nothing the API would refuse.
        const terms = checkBody(DepartmentTermsInput, {
          baselinePence: Number(baselinePence),
          topSliceBasisPoints,
          savingsTargetPence: Number(savingsTargetPence),
        });
        return actingAsUser(deps, c, (act) => setDepartmentTerms(act, fy, code, terms));
      },
      { names: TERMS_NAMES },
    );
    if ('failed' in r) {
      const fieldErrors = Object.keys(r.failed.errors).length > 0;
      return termsPage(c, fy, code, fields, r.failed, fieldErrors ? 400 : 409);
    }
    return c.redirect(`/fund/${fy}/departments?done=terms`, 303);
  });

  web.get('/fund/:fy{\\d{4}-\\d{2}}/contributions', async (c) => {
    const p = requireRole(c, postContributions.roles);
    if (p instanceof Response) return p;
    const fy = fyParam(c);
    const [terms, names, dashboard] = await Promise.all([
      readDepartmentTerms(lookAs(deps, p), fy),
      departmentNames(deps),
      readFundDashboard(lookAs(deps, p), fy),
    ]);
    const posted = new Set(dashboard.position.contributions.map((k) => k.departmentCode));
    const rows = terms.map((t) => ({ ...t, name: names.get(t.departmentCode) ?? t.departmentCode, posted: posted.has(t.departmentCode) }));
    const toPost = rows.filter((r) => !r.posted && r.contributionDuePence > 0n);
    return render(c, 'treasury-contributions', {
      title: `Post the contributions for ${fy}`,
      backLink: `/fund/${fy}/departments`,
      fyName: fy,
      rows,
      toPost: toPost.length,
      totalPence: toPost.reduce((s, r) => s + r.contributionDuePence, 0n),
    });
  });

  web.post('/fund/:fy{\\d{4}-\\d{2}}/contributions', async (c) => {
    const p = requireRole(c, postContributions.roles);
    if (p instanceof Response) return p;
    const fy = fyParam(c);
    const r = await tryForm(() => actingAsUser(deps, c, (act) => postContributions(act, fy)));
    if ('failed' in r)
      return render(
        c,
        'treasury-refused',
        { title: 'The contributions were not posted', backLink: `/fund/${fy}/departments`, ...r.failed },
        409,
      );
    return c.redirect(`/fund/${fy}?done=contributions`, 303);
  });
}

// ---------------------------------------------------------------------------------------------
// Opening a round

const ROUND_NAMES: Record<string, string> = {
  financialYear: 'The financial year',
  name: 'The round’s name',
  envelopePence: 'The envelope',
  opensOn: 'The opening date',
  closesOn: 'The closing date',
  minMatchFundingBasisPoints: 'The match funding',
  themes: 'The themes',
  quorum: 'The quorum',
  criteria: 'The criteria weights',
  twoApproverThresholdPence: 'The two-approver threshold',
};

function mountRounds(web: WebApp, deps: Deps) {
  async function roundPage(c: WebContext, values: Fields, themes: string[], errors: FormErrors, status: 200 | 400 | 404 | 409 | 422 = 200) {
    const db = deps.database.db;
    const [years, allThemes] = await Promise.all([listFinancialYears(db), listThemes(db)]);
    return render(
      c,
      'treasury-round-new',
      {
        title: 'Open a funding round',
        backLink: '/rounds',
        values,
        years: years
          .filter((y) => y.status === 'open')
          .map((y) => ({ value: y.name, text: y.name, selected: y.name === values.financialYear })),
        themes: allThemes.map((t) => ({ ...t, checked: themes.includes(t.code) })),
        criteria: DEFAULT_CRITERIA.map((k, i) => ({
          ...k,
          id: `criteria-${i}-weight`,
          value: values[`criteria-${i}-weight`] ?? '',
          error: errors.errors[`criteria-${i}-weight`],
        })),
        criteriaError: errors.errors.criteria,
        ...errors,
      },
      status,
    );
  }

  web.get('/fund/rounds/new', async (c) => {
    const p = requireRole(c, createRound.roles);
    if (p instanceof Response) return p;
    const values: Fields = {
      financialYear: financialYearOf(deps.clock()),
      name: '',
      envelopePence: '',
      opensOn: '',
      closesOn: '',
      minMatchFundingBasisPoints: '0',
      quorum: '3',
      twoApproverThresholdPence: penceAsPoundsInput(DEFAULT_TWO_APPROVER_THRESHOLD_PENCE),
    };
    DEFAULT_CRITERIA.forEach((k, i) => {
      values[`criteria-${i}-weight`] = String(k.weight);
    });
    return roundPage(c, values, [], NO_ERRORS);
  });

  web.post('/fund/rounds/new', async (c) => {
    const p = requireRole(c, createRound.roles);
    if (p instanceof Response) return p;
    const fields = await formFields(c);
    const themes = await formValues(c, 'themes');
    const r = await tryForm(
      async () => {
        const errors: FieldError[] = [];
        const envelope = pounds(fields, 'envelopePence', 'the envelope', errors);
        const threshold = pounds(fields, 'twoApproverThresholdPence', 'the two-approver threshold', errors);
        const match = percent(fields, 'minMatchFundingBasisPoints', 'the match funding', errors);
        const whole = (id: string, what: string) => {
          const text = (fields[id] ?? '').trim();
          if (!/^\d{1,9}$/.test(text)) {
            errors.push({ pointer: `/${id.replace(/-/g, '/')}`, detail: `${what} must be a whole number, like 3` });
            return 0;
          }
          return Number(text);
        };
        const quorum = whole('quorum', 'The quorum');
        const criteria = DEFAULT_CRITERIA.map((k, i) => ({
          key: k.key,
          weight: whole(`criteria-${i}-weight`, `The weight for ${k.name}`),
        }));
        if (errors.length > 0) throw invalid(errors);
        const body = checkBody(NewRoundSchema, {
          financialYear: fields.financialYear ?? '',
          name: fields.name ?? '',
          envelopePence: Number(envelope),
          opensOn: (fields.opensOn ?? '').trim(),
          closesOn: (fields.closesOn ?? '').trim(),
          minMatchFundingBasisPoints: match,
          themes,
          quorum,
          criteria,
          twoApproverThresholdPence: Number(threshold),
        });
        return actingAsUser(deps, c, (act) =>
          createRound(act, {
            ...body,
            envelopePence: envelope,
            twoApproverThresholdPence: threshold,
          }),
        );
      },
      { names: ROUND_NAMES },
    );
    if ('failed' in r) {
      const failed = { ...r.failed, errors: { ...r.failed.errors } };
      // Any theme's error shows on the themes' fieldset; a criteria-wide one on the first weight.
      for (const id of Object.keys(failed.errors)) if (id.startsWith('themes-')) failed.errors.themes ??= failed.errors[id] as string;
      failed.errorList = failed.errorList.map((e) =>
        e.href?.startsWith('#themes-') ? { ...e, href: '#themes' } : e.href === '#criteria' ? { ...e, href: '#criteria-0-weight' } : e,
      );
      const status = Object.keys(failed.errors).length > 0 ? 400 : 404;
      return roundPage(c, fields, themes, failed, status);
    }
    return c.redirect(`/rounds/${encodeURIComponent(r.ok.id)}`, 303);
  });
}

// ---------------------------------------------------------------------------------------------
// Closing the year and running compliance, each behind a confirmation page

function mountYearEnd(web: WebApp, deps: Deps) {
  const refusedPage = (c: WebContext, fy: string, what: string, error: DomainError) => {
    const status = error.kind === 'conflict' ? 409 : error.kind === 'unprocessable' ? 422 : error.kind === 'not-found' ? 404 : 400;
    return render(c, 'treasury-refused', { title: what, backLink: `/fund/${fy}`, ...formErrors(error) }, status);
  };

  web.get('/fund/:fy{\\d{4}-\\d{2}}/close', async (c) => {
    const p = requireRole(c, closeFinancialYear.roles);
    if (p instanceof Response) return p;
    const fy = fyParam(c);
    try {
      const { close, created } = await previewYearClose({ db: deps.database.db, principal: p }, fy, deps.clock());
      if (!created) return c.redirect(`/fund/${fy}/outcome`, 303);
      const names = await departmentNames(deps);
      return render(c, 'treasury-close', {
        title: `Close the ${fy} year`,
        backLink: `/fund/${fy}`,
        fyName: fy,
        close,
        departments: close.departments.map((d) => ({ ...d, name: names.get(d.departmentCode) ?? d.departmentCode })),
      });
    } catch (error) {
      if (error instanceof DomainError && error.kind !== 'forbidden' && error.kind !== 'not-found')
        return refusedPage(c, fy, `The ${fy} year cannot be closed`, error);
      throw error;
    }
  });

  web.post('/fund/:fy{\\d{4}-\\d{2}}/close', async (c) => {
    const p = requireRole(c, closeFinancialYear.roles);
    if (p instanceof Response) return p;
    const fy = fyParam(c);
    try {
      await actingAsUser(deps, c, (act) => closeFinancialYear(act, fy));
    } catch (error) {
      if (error instanceof DomainError && error.kind !== 'forbidden' && error.kind !== 'not-found')
        return refusedPage(c, fy, `The ${fy} year was not closed`, error);
      throw error;
    }
    return c.redirect(`/fund/${fy}/outcome?done=closed`, 303);
  });

  web.get('/fund/:fy{\\d{4}-\\d{2}}/compliance', async (c) => {
    const p = requireRole(c, runYearCompliance.roles);
    if (p instanceof Response) return p;
    const fy = fyParam(c);
    try {
      const { run, created } = await previewCompliance({ db: deps.database.db, principal: p }, fy, deps.clock());
      if (!created) return c.redirect(`/fund/${fy}/outcome`, 303);
      const names = await departmentNames(deps);
      return render(c, 'treasury-compliance', {
        title: `Run compliance for ${fy}`,
        backLink: `/fund/${fy}`,
        fyName: fy,
        run,
        ...complianceTable(run.results, names),
      });
    } catch (error) {
      if (error instanceof DomainError && error.kind !== 'forbidden' && error.kind !== 'not-found')
        return refusedPage(c, fy, `Compliance cannot run for ${fy} yet`, error);
      throw error;
    }
  });

  web.post('/fund/:fy{\\d{4}-\\d{2}}/compliance', async (c) => {
    const p = requireRole(c, runYearCompliance.roles);
    if (p instanceof Response) return p;
    const fy = fyParam(c);
    try {
      await actingAsUser(deps, c, (act) => runYearCompliance(act, fy));
    } catch (error) {
      if (error instanceof DomainError && error.kind !== 'forbidden' && error.kind !== 'not-found')
        return refusedPage(c, fy, `Compliance did not run for ${fy}`, error);
      throw error;
    }
    return c.redirect(`/fund/${fy}/outcome?done=compliance`, 303);
  });

  web.get('/fund/:fy{\\d{4}-\\d{2}}/outcome', async (c) => {
    const p = requireRole(c, FUND_PAGE_ROLES);
    if (p instanceof Response) return p;
    const fy = fyParam(c);
    const close = await readYearClose(lookAs(deps, p), fy);
    const compliance = await readCompliance(lookAs(deps, p), fy).catch(notFoundAsNull);
    const names = await departmentNames(deps);
    return render(c, 'treasury-outcome', {
      title: `Credits and compliance for ${fy}`,
      backLink: `/fund/${fy}`,
      notice: noticeOf(c, NOTICES),
      fyName: fy,
      close,
      departments: close.departments.map((d) => ({ ...d, name: names.get(d.departmentCode) ?? d.departmentCode })),
      compliance: compliance && { ...compliance, ...complianceTable(compliance.results, names) },
      canRunCompliance: p.role === 'treasury' && !compliance,
    });
  });
}

/** The compliance table: each department's row, named and tagged, and each column's total. */
function complianceTable(results: ComplianceResult[], names: Map<string, string>) {
  const sum = (pick: (r: ComplianceResult) => bigint) => results.reduce((s, r) => s + pick(r), 0n);
  return {
    results: results.map((r) => ({ ...r, name: names.get(r.departmentCode) ?? r.departmentCode, tag: COMPLIANCE_TAGS[r.status] })),
    totals: {
      obligationCredits: sum((r) => r.obligationCredits),
      surrenderedCredits: sum((r) => r.surrenderedCredits),
      buyOutDuePence: sum((r) => r.buyOutDuePence),
      buyOutPaidPence: sum((r) => r.buyOutPaidPence),
      buyOutOutstandingPence: sum((r) => r.buyOutOutstandingPence),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The market's floor and ceiling prices

const PRICE_NAMES = { floorPence: 'The floor price', ceilingPence: 'The ceiling price' };

function mountMarketPrices(web: WebApp, deps: Deps) {
  const pricesPage = async (
    c: WebContext,
    p: Principal,
    fy: string,
    fields: Fields | null,
    errors: FormErrors,
    status: 200 | 400 | 409 | 422 = 200,
  ) => {
    const market = await readMarket(lookAs(deps, p), fy);
    const values = fields ?? {
      floorPence: market.prices ? penceAsPoundsInput(market.prices.floorPence) : '',
      ceilingPence: market.prices ? penceAsPoundsInput(market.prices.ceilingPence) : '',
    };
    return render(
      c,
      'treasury-market',
      { title: `Set the market’s prices for ${fy}`, backLink: `/fund/${fy}`, fyName: fy, market, values, ...errors },
      status,
    );
  };

  web.get('/fund/:fy{\\d{4}-\\d{2}}/market', async (c) => {
    const p = requireRole(c, setMarketPrices.roles);
    if (p instanceof Response) return p;
    return pricesPage(c, p, fyParam(c), null, NO_ERRORS);
  });

  web.post('/fund/:fy{\\d{4}-\\d{2}}/market', async (c) => {
    const p = requireRole(c, setMarketPrices.roles);
    if (p instanceof Response) return p;
    const fy = fyParam(c);
    const fields = await formFields(c);
    const r = await tryForm(
      async () => {
        const errors: FieldError[] = [];
        const floorPence = pounds(fields, 'floorPence', 'the floor price', errors);
        const ceilingPence = pounds(fields, 'ceilingPence', 'the ceiling price', errors);
        if (errors.length > 0) throw invalid(errors);
        // The API's limits (1p to £1,000,000 a credit), so a page can set nothing the API would refuse.
        const prices = checkBody(MarketPricesInput, { floorPence: Number(floorPence), ceilingPence: Number(ceilingPence) });
        return actingAsUser(deps, c, (act) =>
          setMarketPrices(act, fy, { floorPence: BigInt(prices.floorPence), ceilingPence: BigInt(prices.ceilingPence) }),
        );
      },
      { names: PRICE_NAMES },
    );
    if ('failed' in r) return pricesPage(c, p, fy, fields, r.failed, r.failed.status);
    return c.redirect(`/fund/${fy}?done=market`, 303);
  });
}

const COMPLIANCE_TAGS = {
  'no-obligation': { text: 'No obligation', colour: 'green' },
  compliant: { text: 'Compliant', colour: 'green' },
  'compliant-by-buy-out': { text: 'Compliant by buy-out', colour: 'yellow' },
  outstanding: { text: 'Buy-out outstanding', colour: 'red' },
} as const;

export const treasuryPages: PageSection = {
  navigation: [
    {
      href: '/fund',
      text: 'The fund',
      description: 'The fund for a year at a glance; set up a year, its contributions and rounds; close the year and run compliance',
      descriptionFor: { auditor: 'The fund for a year at a glance: departments’ terms, rounds, the year’s close and compliance' },
      roles: ['treasury', 'auditor'],
    },
    {
      href: '/benefits/review',
      text: 'Realised benefits',
      description: 'Forecast against verified savings by department, place and theme, with RAG ratings',
      roles: ['treasury', 'auditor', 'panel'],
    },
  ],
  mount(web, deps) {
    mountYearSetUp(web, deps);
    mountDashboard(web, deps);
    mountRounds(web, deps);
    mountYearEnd(web, deps);
    mountMarketPrices(web, deps);
    mountTreasuryDocuments(web, deps);
  },
};
