import { TrancheNumber } from '../api/schemas.ts';
import { type Rag, readableRegister, reportBenefit } from '../benefits/benefits.ts';
import { createCase, submitCase, updateCase } from '../cases/cases.ts';
import { eligibility, SUBMISSION_GATES } from '../cases/eligibility.ts';
import { type BenefitLine, type Case, type CaseInput, NARRATIVE_SECTIONS, type NarrativeSection } from '../cases/records.ts';
import { CASES_REFUSALS } from '../cases/refusals.ts';
import { getReadableCase, isLeadCouncil, listCases, lockOwnCase } from '../cases/visibility.ts';
import type { Deps } from '../http/context.ts';
import type { DomainError, FieldError } from '../lib/errors.ts';
import { parsePounds } from '../lib/money.ts';
import type { Act } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { listOrganisations, listPlaces, listThemes } from '../reference/reference.ts';
import { RELEASES_REFUSALS } from '../releases/refusals.ts';
import { claimTranche, listTranches, type TrancheState } from '../releases/releases.ts';
import { getRound, listRounds, roundStatus } from '../rounds/rounds.ts';
import { searchUnitCosts } from '../unit-costs/unit-costs.ts';
import type { PageSection } from './app.ts';
import { caseAppraisalModel } from './council/appraisal.ts';
import {
  aboutField,
  aboutFromForm,
  aboutValues,
  benefitField,
  benefitFromForm,
  benefitValues,
  costField,
  costFromForm,
  costValues,
  type Fields,
  formYears,
  inputOf,
  pageErrors,
} from './council/forms.ts';
import {
  actingAsUser,
  attemptForm,
  type FormErrors,
  formFields,
  NO_ERRORS,
  render,
  signedIn,
  toSignIn,
  type WebApp,
  type WebContext,
} from './pages.ts';

/*
 * The council's journey through a business case: its list of cases; starting one; the case as a
 * GOV.UK task list (about the case, the five cases' narrative one page each, costs, benefit lines)
 * beside its live appraisal; check your answers and submit, each failed gate linked to the page
 * that fixes it; and, once approved, the tranche schedule, claiming a tranche with evidence and
 * reporting benefits by line and year. Every read and change is the domain's own operation, as
 * the signed-in user, so the API's role, organisation and draft-privacy rules apply unchanged.
 */

const NARRATIVE_TITLES: Record<NarrativeSection, { title: string; hint: string }> = {
  strategic: { title: 'The strategic case', hint: 'Why the change is needed, what it will achieve and how it fits the partners’ plans.' },
  economic: { title: 'The economic case', hint: 'The options considered and why this one gives the best value for money.' },
  commercial: { title: 'The commercial case', hint: 'How the service will be bought or delivered, and by whom.' },
  financial: { title: 'The financial case', hint: 'What it costs, who pays, and how the match funding is secured.' },
  management: { title: 'The management case', hint: 'Who runs it, how progress and benefits are tracked, and the main risks.' },
};

const STATUS_TAGS: Record<string, { text: string; colour: string }> = {
  draft: { text: 'Draft', colour: 'grey' },
  submitted: { text: 'Submitted', colour: 'blue' },
  approved: { text: 'Approved', colour: 'green' },
  rejected: { text: 'Rejected', colour: 'red' },
  deferred: { text: 'Deferred', colour: 'yellow' },
  terminated: { text: 'Terminated', colour: 'red' },
};

const TRANCHE_TAGS: Record<string, { text: string; colour: string }> = {
  scheduled: { text: 'Scheduled', colour: 'grey' },
  claimed: { text: 'Claimed', colour: 'blue' },
  released: { text: 'Released', colour: 'green' },
  voided: { text: 'Voided', colour: 'red' },
};

const RAG_TAGS: Record<Rag, { text: string; colour: string }> = {
  green: { text: 'Green', colour: 'green' },
  amber: { text: 'Amber', colour: 'orange' },
  red: { text: 'Red', colour: 'red' },
  'not-due': { text: 'Not due', colour: 'grey' },
};

const REPORT_TAGS: Record<string, { text: string; colour: string }> = {
  pending: { text: 'Awaiting verification', colour: 'blue' },
  verified: { text: 'Verified', colour: 'green' },
  rejected: { text: 'Rejected', colour: 'red' },
};

const GRADE_ITEMS = ['1', '2', '3', '4', '5', '6'].map((g) => ({
  value: g,
  text: g === '1' ? '1 (best evidence)' : g === '6' ? '6 (weakest evidence)' : g,
}));

/** A select's items with one chosen, and an empty first choice when nothing is. */
function choose(items: { value: string; text: string }[], value: string | undefined, empty = 'Select') {
  return [{ value: '', text: empty }, ...items].map((i) => ({ ...i, selected: i.value === (value ?? '') }));
}

function radios(items: { value: string; text: string; hint?: string }[], value: string | undefined) {
  return items.map((i) => ({ ...i, checked: i.value === value }));
}

const today = (deps: Deps) => deps.clock().toISOString().slice(0, 10);

/** The signed-in user, or a redirect to sign in and come back. */
type Handler = (c: WebContext) => Promise<Response> | Response;
function signedInOnly(run: Handler): Handler {
  return (c) => (signedIn(c) ? run(c) : toSignIn(c));
}

const read = (deps: Deps, c: WebContext) =>
  getReadableCase(deps.database.db, signedIn(c) as NonNullable<ReturnType<typeof signedIn>>, c.req.param('id') as string);

/** Changes the signed-in council's draft in one transaction: read it under its lock, change its input, save it as a new revision. */
function changeCase(deps: Deps, c: WebContext, id: string, change: (input: CaseInput, current: Case) => CaseInput) {
  return actingAsUser(deps, c, async (act: Act) => {
    const current = await lockOwnCase(act.trx, id, act.principal);
    return updateCase(act, id, change(inputOf(current), current));
  });
}

const statusOf = (e: DomainError): 400 | 409 | 422 => (e.kind === 'invalid' ? 400 : e.kind === 'conflict' ? 409 : 422);

function lineIndex(c: WebContext, cs: Case, lines: 'costs' | 'benefits'): number {
  const raw = c.req.param('i') as string;
  const i = /^\d{1,3}$/.test(raw) ? Number(raw) : -1;
  if (i < 0 || i >= cs[lines].length) throw refuse(CASES_REFUSALS, 'case-not-found', `There is no line ${raw}.`);
  return i;
}

async function organisationItems(deps: Deps) {
  return (await listOrganisations(deps.database.db)).map((o) => ({ value: o.code, text: `${o.name} (${o.code})` }));
}

// ---------------------------------------------------------------------------------------------
// The case page

function taskStatus(done: boolean, id: string) {
  return { done, id };
}

async function casePage(deps: Deps, c: WebContext, cs: Case, extra: { notice?: string } = {}) {
  const db = deps.database.db;
  const p = signedIn(c) as NonNullable<ReturnType<typeof signedIn>>;
  const own = isLeadCouncil(p, cs);
  const editable = own && cs.status === 'draft';
  const appraisal = await caseAppraisalModel(db, cs);
  let tasks = null;
  if (editable) {
    const round = await getRound(db, cs.roundId);
    const failures = eligibility(cs, round, today(deps));
    const failed = (prefix: string) => failures.some((f) => f.pointer === prefix || f.pointer.startsWith(`${prefix}/`));
    tasks = {
      about: taskStatus(!['/partnerCodes', '/matchFundingPence', '/theme'].some(failed), 'task-about'),
      narrative: NARRATIVE_SECTIONS.map((s) => ({
        section: s,
        title: NARRATIVE_TITLES[s].title,
        ...taskStatus(cs.narrative[s].trim().length > 0, `task-narrative-${s}`),
      })),
      costs: taskStatus(cs.costs.length > 0, 'task-costs'),
      benefits: taskStatus(cs.benefits.length > 0 && !failed('/benefits'), 'task-benefits'),
      ready: failures.length === 0,
    };
  }
  let tranches: (TrancheState & { tag: { text: string; colour: string }; claimable: boolean })[] = [];
  let register: unknown[] = [];
  if (cs.status !== 'draft') {
    const all = await listTranches(db, cs.id);
    tranches = all.map((t) => ({
      ...t,
      tag: TRANCHE_TAGS[t.status] ?? { text: t.status, colour: 'grey' },
      claimable:
        own &&
        cs.status === 'approved' &&
        t.status === 'scheduled' &&
        all.every((x) => x.number >= t.number || x.status === 'released' || x.status === 'voided'),
    }));
    register = (await readableRegister(db, p, cs.id, today(deps))).map((r) => ({
      ...r,
      ragTag: RAG_TAGS[r.rag],
      reportTag: r.reportStatus ? REPORT_TAGS[r.reportStatus] : null,
      reportable: own && cs.status === 'approved' && (r.reportStatus === null || r.reportStatus === 'rejected'),
    }));
  }
  return render(c, 'case-view', {
    title: `${cs.title} (${cs.reference})`,
    backLink: '/cases',
    notice: extra.notice,
    case: cs,
    statusTag: STATUS_TAGS[cs.status],
    own,
    editable,
    tasks,
    appraisal,
    tranches,
    register,
  });
}

// ---------------------------------------------------------------------------------------------
// Check your answers

async function checkPage(deps: Deps, c: WebContext, cs: Case, errors: FormErrors = NO_ERRORS, status: 200 | 409 | 422 = 200) {
  const orgs = new Map((await listOrganisations(deps.database.db)).map((o) => [o.code, o.name]));
  const name = (code: string | null) => (code ? `${orgs.get(code) ?? code} (${code})` : 'Wider society');
  return render(
    c,
    'case-check',
    {
      title: `Check your answers: ${cs.title}`,
      backLink: `/cases/${cs.id}`,
      case: cs,
      partners: cs.partnerCodes.map(name),
      place: cs.placeCode,
      narrative: NARRATIVE_SECTIONS.map((s) => ({ section: s, title: NARRATIVE_TITLES[s].title, text: cs.narrative[s] })),
      costs: cs.costs.map((l, i) => ({ ...l, index: i, payer: name(l.payerCode) })),
      benefits: cs.benefits.map((b, i) => ({ ...b, index: i, beneficiary: name(b.beneficiaryCode) })),
      gates: Object.values(SUBMISSION_GATES),
      ...errors,
    },
    status,
  );
}

// ---------------------------------------------------------------------------------------------
// The forms' pages

async function aboutPage(
  deps: Deps,
  c: WebContext,
  cs: Case,
  values: Fields,
  errors: FormErrors = NO_ERRORS,
  status: 200 | 400 | 409 | 422 = 200,
) {
  const db = deps.database.db;
  const [places, themes] = await Promise.all([listPlaces(db), listThemes(db)]);
  return render(
    c,
    'case-about',
    {
      title: `About the case: ${cs.title}`,
      backLink: `/cases/${cs.id}`,
      case: cs,
      values,
      places: choose(
        places.map((pl) => ({ value: pl.code, text: pl.name })),
        values.placeCode,
      ),
      themes: choose(
        themes.map((t) => ({ value: t.code, text: t.name })),
        values.theme,
      ),
      schedules: radios(
        [
          { value: 'standard', text: 'Standard', hint: 'The Green Book’s standard discount rate (3.5%, falling over time).' },
          { value: 'health', text: 'Health', hint: 'The Green Book’s rate for health outcomes (1.5%).' },
        ],
        values.discountSchedule,
      ),
      ...errors,
    },
    status,
  );
}

async function costPage(
  deps: Deps,
  c: WebContext,
  cs: Case,
  index: number | null,
  values: Fields,
  errors: FormErrors = NO_ERRORS,
  status: 200 | 400 | 409 | 422 = 200,
) {
  return render(
    c,
    'case-cost',
    {
      title: `${index === null ? 'Add a cost line' : `Change cost line ${index + 1}`}: ${cs.title}`,
      pageHeading: index === null ? 'Add a cost line' : `Change cost line ${index + 1}`,
      backLink: `/cases/${cs.id}/costs`,
      action: index === null ? `/cases/${cs.id}/costs/new` : `/cases/${cs.id}/costs/${index}`,
      case: cs,
      values,
      kinds: radios(
        [
          { value: 'revenue', text: 'Revenue' },
          { value: 'capital', text: 'Capital' },
        ],
        values.kind,
      ),
      payers: choose(await organisationItems(deps), values.payerCode),
      grades: choose(GRADE_ITEMS, values.grade),
      ...errors,
    },
    status,
  );
}

async function benefitPage(
  deps: Deps,
  c: WebContext,
  cs: Case,
  index: number | null,
  values: Fields,
  errors: FormErrors = NO_ERRORS,
  status: 200 | 400 | 409 | 422 = 200,
) {
  const q = (c.req.query('q') ?? '').slice(0, 200);
  const picked = c.req.query('unitCostCode');
  if (picked && status === 200) values.unitCostCode = picked.slice(0, 20);
  const results = q.trim() ? await searchUnitCosts(deps.database.db, { q, limit: 20 }) : null;
  const base = index === null ? `/cases/${cs.id}/benefits/new` : `/cases/${cs.id}/benefits/${index}`;
  const used = [...Object.keys(values)].flatMap((k) => (/^(volumes|need)-\d{4}-\d{2}$/.test(k) ? [k.replace(/^(volumes|need)-/, '')] : []));
  const years = formYears(cs.baseYear, used).map((y) => ({
    year: y,
    volumes: values[`volumes-${y}`] ?? '',
    need: values[`need-${y}`] ?? '',
    volumesError: errors.errors[`volumes-${y}`],
    needError: errors.errors[`need-${y}`],
  }));
  const needOpen = !!values.engagement || years.some((y) => y.need !== '' || y.needError) || !!errors.errors.engagement;
  return render(
    c,
    'case-benefit',
    {
      title: `${index === null ? 'Add a benefit line' : `Change benefit line ${index + 1}`}: ${cs.title}`,
      pageHeading: index === null ? 'Add a benefit line' : `Change benefit line ${index + 1}`,
      backLink: `/cases/${cs.id}/benefits`,
      action: base,
      case: cs,
      values,
      q,
      results: results?.map((u) => ({ ...u, href: `${base}?unitCostCode=${encodeURIComponent(u.code)}` })) ?? null,
      searched: results !== null,
      years,
      needOpen,
      types: radios(
        [
          { value: 'fiscal', text: 'Fiscal', hint: 'A saving to a public body’s budget.' },
          { value: 'economic', text: 'Economic', hint: 'Wider economic gains, such as people in work.' },
          { value: 'social', text: 'Social', hint: 'Gains to wellbeing and society.' },
        ],
        values.type,
      ),
      cashables: radios(
        [
          { value: 'yes', text: 'Yes, wholly cashable' },
          { value: 'partly', text: 'Partly cashable' },
          { value: 'no', text: 'No' },
        ],
        values.cashable,
      ),
      beneficiaries: choose(
        await organisationItems(deps),
        values.beneficiaryCode,
        'None (wider society), or the unit cost’s paying department',
      ),
      grades: choose(GRADE_ITEMS, values.grade),
      ...errors,
    },
    status,
  );
}

// ---------------------------------------------------------------------------------------------

export const councilPages: PageSection = {
  navigation: [
    {
      href: '/cases',
      text: 'Your cases',
      description: 'Write and submit business cases, claim tranches and report the benefits delivered.',
      roles: ['council'],
    },
  ],
  mount(web: WebApp, deps: Deps) {
    const db = deps.database.db;

    web.get(
      '/cases',
      signedInOnly(async (c) => {
        const p = signedIn(c) as NonNullable<ReturnType<typeof signedIn>>;
        const cases = await listCases(db, p);
        return render(c, 'case-list', {
          title: 'Your cases',
          mayStart: p.role === 'council',
          cases: cases.map((cs) => ({ ...cs, statusTag: STATUS_TAGS[cs.status] })),
        });
      }),
    );

    // Starting a case
    const newPage = async (c: WebContext, values: Fields, errors: FormErrors = NO_ERRORS, status: 200 | 400 = 200) => {
      const rounds = (await listRounds(db)).filter((r) => roundStatus(r, today(deps)) === 'open');
      const themes = await listThemes(db);
      return render(
        c,
        'case-new',
        {
          title: 'Start a new business case',
          backLink: '/cases',
          values,
          rounds: choose(
            rounds.map((r) => ({ value: r.id, text: `${r.name} (closes ${r.closesOn})` })),
            values.roundId,
          ),
          themes: choose(
            themes.map((t) => ({ value: t.code, text: t.name })),
            values.theme,
          ),
          noRounds: rounds.length === 0,
          ...errors,
        },
        status,
      );
    };
    web.get(
      '/cases/new',
      signedInOnly((c) => newPage(c, { baseYear: '' })),
    );
    web.post(
      '/cases/new',
      signedInOnly(async (c) => {
        const f = await formFields(c);
        const p = signedIn(c) as NonNullable<ReturnType<typeof signedIn>>;
        const errors: FieldError[] = [];
        if (!f.roundId) errors.push({ pointer: '/roundId', detail: 'Select the funding round' });
        if (!(f.title ?? '').trim()) errors.push({ pointer: '/title', detail: 'Enter a title for the case' });
        if (!f.theme) errors.push({ pointer: '/theme', detail: 'Select the theme' });
        const local = (ptr: string) =>
          ({ '/roundId': 'roundId', '/title': 'title', '/theme': 'theme', '/baseYear': 'baseYear' })[ptr] ?? null;
        if (errors.length > 0) return newPage(c, f, pageErrors(errors, local, null, ''), 400);
        const round = await getRound(db, f.roundId as string).catch(() => null);
        const place = p.organisationCode ? ((await listOrganisations(db)).find((o) => o.code === p.organisationCode)?.placeCode ?? '') : '';
        const input: CaseInput = {
          roundId: f.roundId as string,
          title: (f.title as string).trim(),
          placeCode: place,
          theme: f.theme as string,
          partnerCodes: [],
          matchFundingPence: 0n,
          baseYear: (f.baseYear ?? '').trim() || round?.financialYear || '',
          narrative: { strategic: '', economic: '', commercial: '', financial: '', management: '' },
          costs: [],
          benefits: [],
        };
        const done = await attemptForm(() => actingAsUser(deps, c, (act) => createCase(act, input)));
        if ('refused' in done) {
          return newPage(c, f, pageErrors(done.refused.errors, local, null, '', done.refused.message), 400);
        }
        return c.redirect(`/cases/${done.ok.id}`, 303);
      }),
    );

    web.get(
      '/cases/:id',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        const notice = c.req.query('done');
        const notices: Record<string, string> = {
          submitted: `Case ${cs.reference} submitted`,
          claimed: 'Tranche claimed: it now waits for the panel’s approval',
          reported: 'Benefit reported: it now waits for verification',
        };
        return casePage(deps, c, cs, { notice: notice ? notices[notice] : undefined });
      }),
    );

    // About the case
    web.get(
      '/cases/:id/about',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        return aboutPage(deps, c, cs, aboutValues(inputOf(cs)));
      }),
    );
    web.post(
      '/cases/:id/about',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        const f = await formFields(c);
        const { input, errors } = aboutFromForm(f, inputOf(cs));
        if (errors.length > 0) return aboutPage(deps, c, cs, f, pageErrors(errors, aboutField, cs.id, cs.baseYear), 400);
        const done = await attemptForm(() =>
          changeCase(deps, c, cs.id, (cur) => ({ ...input, narrative: cur.narrative, costs: cur.costs, benefits: cur.benefits })),
        );
        if ('refused' in done)
          return aboutPage(
            deps,
            c,
            cs,
            f,
            pageErrors(done.refused.errors, aboutField, cs.id, cs.baseYear, done.refused.message),
            statusOf(done.refused),
          );
        return c.redirect(`/cases/${cs.id}`, 303);
      }),
    );

    // The five cases' narrative, one page each
    const narrativePage = (
      c: WebContext,
      cs: Case,
      section: NarrativeSection,
      value: string,
      errors: FormErrors = NO_ERRORS,
      status: 200 | 400 | 409 = 200,
    ) =>
      render(
        c,
        'case-narrative',
        {
          title: `${NARRATIVE_TITLES[section].title}: ${cs.title}`,
          backLink: `/cases/${cs.id}`,
          case: cs,
          section,
          label: NARRATIVE_TITLES[section].title,
          hint: NARRATIVE_TITLES[section].hint,
          value,
          ...errors,
        },
        status,
      );
    const sectionOf = (c: WebContext): NarrativeSection => {
      const s = c.req.param('section') as NarrativeSection;
      if (!NARRATIVE_SECTIONS.includes(s)) throw refuse(CASES_REFUSALS, 'case-not-found', `There is no section ${s}.`);
      return s;
    };
    web.get(
      '/cases/:id/narrative/:section',
      signedInOnly(async (c) => {
        const section = sectionOf(c);
        const cs = await read(deps, c);
        return narrativePage(c, cs, section, cs.narrative[section]);
      }),
    );
    web.post(
      '/cases/:id/narrative/:section',
      signedInOnly(async (c) => {
        const section = sectionOf(c);
        const cs = await read(deps, c);
        const f = await formFields(c);
        const text = (f.narrative ?? '').trim();
        if (!text) {
          const e = pageErrors(
            [{ pointer: '/narrative', detail: `Enter ${NARRATIVE_TITLES[section].title.toLowerCase()}` }],
            () => 'narrative',
            cs.id,
            cs.baseYear,
          );
          return narrativePage(c, cs, section, f.narrative ?? '', e, 400);
        }
        const done = await attemptForm(() =>
          changeCase(deps, c, cs.id, (cur) => ({ ...cur, narrative: { ...cur.narrative, [section]: text } })),
        );
        if ('refused' in done) {
          const local = (ptr: string) => (ptr === `/narrative/${section}` ? 'narrative' : null);
          return narrativePage(
            c,
            cs,
            section,
            f.narrative ?? '',
            pageErrors(done.refused.errors, local, cs.id, cs.baseYear, done.refused.message),
            400,
          );
        }
        return c.redirect(`/cases/${cs.id}`, 303);
      }),
    );

    // Costs
    web.get(
      '/cases/:id/costs',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        const orgs = new Map((await listOrganisations(db)).map((o) => [o.code, o.name]));
        return render(c, 'case-costs', {
          title: `Costs: ${cs.title}`,
          backLink: `/cases/${cs.id}`,
          case: cs,
          editable: cs.status === 'draft',
          lines: cs.costs.map((l, i) => ({ ...l, index: i, number: i + 1, payer: orgs.get(l.payerCode) ?? l.payerCode })),
        });
      }),
    );
    web.get(
      '/cases/:id/costs/new',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        return costPage(deps, c, cs, null, costValues(undefined, cs.baseYear));
      }),
    );
    web.get(
      '/cases/:id/costs/:i',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        const i = lineIndex(c, cs, 'costs');
        return costPage(deps, c, cs, i, costValues(cs.costs[i], cs.baseYear));
      }),
    );
    const saveCost = async (c: WebContext, adding: boolean) => {
      const cs = await read(deps, c);
      const i = adding ? cs.costs.length : lineIndex(c, cs, 'costs');
      const f = await formFields(c);
      const { line, errors } = costFromForm(f, i);
      const index = adding ? null : i;
      if (!line) return costPage(deps, c, cs, index, f, pageErrors(errors, costField(i), cs.id, cs.baseYear), 400);
      const done = await attemptForm(() =>
        changeCase(deps, c, cs.id, (cur) => {
          const costs = [...cur.costs];
          if (adding) costs.push(line);
          else costs[i] = line;
          return { ...cur, costs };
        }),
      );
      if ('refused' in done)
        return costPage(
          deps,
          c,
          cs,
          index,
          f,
          pageErrors(done.refused.errors, costField(i), cs.id, cs.baseYear, done.refused.message),
          statusOf(done.refused),
        );
      return c.redirect(`/cases/${cs.id}/costs`, 303);
    };
    web.post(
      '/cases/:id/costs/new',
      signedInOnly((c) => saveCost(c, true)),
    );
    web.post(
      '/cases/:id/costs/:i',
      signedInOnly((c) => saveCost(c, false)),
    );
    web.post(
      '/cases/:id/costs/:i/remove',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        const i = lineIndex(c, cs, 'costs');
        const done = await attemptForm(() => changeCase(deps, c, cs.id, (cur) => ({ ...cur, costs: cur.costs.filter((_, j) => j !== i) })));
        if ('refused' in done) {
          const orgs = new Map((await listOrganisations(db)).map((o) => [o.code, o.name]));
          return render(
            c,
            'case-costs',
            {
              title: `Costs: ${cs.title}`,
              backLink: `/cases/${cs.id}`,
              case: cs,
              editable: cs.status === 'draft',
              lines: cs.costs.map((l, j) => ({ ...l, index: j, number: j + 1, payer: orgs.get(l.payerCode) ?? l.payerCode })),
              ...pageErrors(done.refused.errors, () => null, cs.id, cs.baseYear, done.refused.message),
            },
            statusOf(done.refused),
          );
        }
        return c.redirect(`/cases/${cs.id}/costs`, 303);
      }),
    );

    // Benefit lines
    const benefitsList = async (c: WebContext, cs: Case, errors: FormErrors = NO_ERRORS, status: 200 | 400 | 409 | 422 = 200) => {
      const orgs = new Map((await listOrganisations(db)).map((o) => [o.code, o.name]));
      return render(
        c,
        'case-benefits',
        {
          title: `Benefit lines: ${cs.title}`,
          backLink: `/cases/${cs.id}`,
          case: cs,
          editable: cs.status === 'draft',
          lines: cs.benefits.map((b: BenefitLine, i) => ({
            ...b,
            index: i,
            number: i + 1,
            beneficiary: b.beneficiaryCode ? (orgs.get(b.beneficiaryCode) ?? b.beneficiaryCode) : 'Wider society',
          })),
          ...errors,
        },
        status,
      );
    };
    web.get(
      '/cases/:id/benefits',
      signedInOnly(async (c) => benefitsList(c, await read(deps, c))),
    );
    web.get(
      '/cases/:id/benefits/new',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        return benefitPage(deps, c, cs, null, benefitValues(undefined));
      }),
    );
    web.get(
      '/cases/:id/benefits/:i',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        const i = lineIndex(c, cs, 'benefits');
        return benefitPage(deps, c, cs, i, benefitValues(cs.benefits[i]));
      }),
    );
    const saveBenefit = async (c: WebContext, adding: boolean) => {
      const cs = await read(deps, c);
      const i = adding ? cs.benefits.length : lineIndex(c, cs, 'benefits');
      const f = await formFields(c);
      const { line, errors } = benefitFromForm(f, i);
      const index = adding ? null : i;
      const local = benefitField(i, cs.baseYear);
      if (!line) return benefitPage(deps, c, cs, index, f, pageErrors(errors, local, cs.id, cs.baseYear), 400);
      const done = await attemptForm(() =>
        changeCase(deps, c, cs.id, (cur) => {
          const benefits = [...cur.benefits];
          if (adding) benefits.push(line);
          else benefits[i] = line;
          return { ...cur, benefits };
        }),
      );
      if ('refused' in done)
        return benefitPage(
          deps,
          c,
          cs,
          index,
          f,
          pageErrors(done.refused.errors, local, cs.id, cs.baseYear, done.refused.message),
          statusOf(done.refused),
        );
      return c.redirect(`/cases/${cs.id}/benefits`, 303);
    };
    web.post(
      '/cases/:id/benefits/new',
      signedInOnly((c) => saveBenefit(c, true)),
    );
    web.post(
      '/cases/:id/benefits/:i',
      signedInOnly((c) => saveBenefit(c, false)),
    );
    web.post(
      '/cases/:id/benefits/:i/remove',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        const i = lineIndex(c, cs, 'benefits');
        const done = await attemptForm(() =>
          changeCase(deps, c, cs.id, (cur) => ({ ...cur, benefits: cur.benefits.filter((_, j) => j !== i) })),
        );
        if ('refused' in done)
          return benefitsList(
            c,
            cs,
            pageErrors(done.refused.errors, () => null, cs.id, cs.baseYear, done.refused.message),
            statusOf(done.refused),
          );
        return c.redirect(`/cases/${cs.id}/benefits`, 303);
      }),
    );

    // Check your answers, and submit
    web.get(
      '/cases/:id/check',
      signedInOnly(async (c) => checkPage(deps, c, await read(deps, c))),
    );
    web.post(
      '/cases/:id/submit',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        const done = await attemptForm(() => actingAsUser(deps, c, (act) => submitCase(act, cs.id)));
        if ('refused' in done) {
          const e = done.refused;
          return checkPage(
            deps,
            c,
            cs,
            pageErrors(e.errors, () => null, cs.id, cs.baseYear, e.message),
            e.kind === 'conflict' ? 409 : 422,
          );
        }
        return c.redirect(`/cases/${cs.id}?done=submitted`, 303);
      }),
    );

    // After approval: claim a tranche
    const trancheOf = async (c: WebContext, cs: Case) => {
      const n = TrancheNumber.safeParse(c.req.param('n'));
      const t = n.success ? (await listTranches(db, cs.id)).find((x) => x.number === n.data) : undefined;
      if (!t) throw refuse(RELEASES_REFUSALS, 'tranche-not-found', `There is no tranche ${c.req.param('n')}.`);
      return t;
    };
    const claimPage = (
      c: WebContext,
      cs: Case,
      t: TrancheState,
      evidence: string,
      errors: FormErrors = NO_ERRORS,
      status: 200 | 400 | 409 = 200,
    ) =>
      render(
        c,
        'case-claim',
        { title: `Claim tranche ${t.number}: ${cs.title}`, backLink: `/cases/${cs.id}`, case: cs, tranche: t, evidence, ...errors },
        status,
      );
    web.get(
      '/cases/:id/tranches/:n/claim',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        return claimPage(c, cs, await trancheOf(c, cs), '');
      }),
    );
    web.post(
      '/cases/:id/tranches/:n/claim',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        const t = await trancheOf(c, cs);
        const f = await formFields(c);
        const evidence = (f.evidence ?? '').trim();
        // The API's rule for a claim's evidence (src/api/releases.routes.ts).
        if (evidence.length < 10 || evidence.length > 10_000) {
          const detail = evidence
            ? 'Describe the evidence in at least 10 characters (and at most 10,000)'
            : 'Enter the evidence that the tranche’s condition is met';
          return claimPage(
            c,
            cs,
            t,
            f.evidence ?? '',
            pageErrors([{ pointer: '/evidence', detail }], () => 'evidence', cs.id, cs.baseYear),
            400,
          );
        }
        const done = await attemptForm(() => actingAsUser(deps, c, (act) => claimTranche(act, cs.id, t.number, evidence)));
        if ('refused' in done)
          return claimPage(
            c,
            cs,
            t,
            f.evidence ?? '',
            pageErrors(done.refused.errors, () => 'evidence', cs.id, cs.baseYear, done.refused.message),
            409,
          );
        return c.redirect(`/cases/${cs.id}?done=claimed`, 303);
      }),
    );

    // After approval: report a benefit for a line and year
    const reportPage = async (c: WebContext, cs: Case, values: Fields, errors: FormErrors = NO_ERRORS, status: 200 | 400 | 409 = 200) => {
      const p = signedIn(c) as NonNullable<ReturnType<typeof signedIn>>;
      const rows = await readableRegister(db, p, cs.id, today(deps));
      const years = [...new Set(rows.map((r) => r.year))].sort();
      return render(
        c,
        'case-report',
        {
          title: `Report a benefit: ${cs.title}`,
          backLink: `/cases/${cs.id}`,
          case: cs,
          values,
          lines: choose(
            cs.benefits.map((b, i) => ({ value: String(i), text: `${i + 1}. ${b.outcome}` })),
            values.line,
          ),
          years: choose(
            years.map((y) => ({ value: y, text: y })),
            values.year,
          ),
          ...errors,
        },
        status,
      );
    };
    web.get(
      '/cases/:id/reports/new',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        return reportPage(c, cs, { line: c.req.query('line') ?? '', year: c.req.query('year') ?? '' });
      }),
    );
    web.post(
      '/cases/:id/reports/new',
      signedInOnly(async (c) => {
        const cs = await read(deps, c);
        const f = await formFields(c);
        const errors: FieldError[] = [];
        const line = /^\d{1,3}$/.test(f.line ?? '') ? Number(f.line) : null;
        if (line === null || line >= cs.benefits.length) errors.push({ pointer: '/benefitLineIndex', detail: 'Select the benefit line' });
        if (!/^\d{4}-\d{2}$/.test(f.year ?? '')) errors.push({ pointer: '/year', detail: 'Select the financial year' });
        const claimed = parsePounds(f.claimed ?? '');
        if (claimed === null)
          errors.push({ pointer: '/claimedPence', detail: 'Enter the benefit achieved in pounds, like 12500 or £1,234.56' });
        const evidence = (f.evidence ?? '').trim();
        if (evidence.length < 10 || evidence.length > 10_000)
          errors.push({
            pointer: '/evidence',
            detail: evidence
              ? 'Describe the evidence in at least 10 characters (and at most 10,000)'
              : 'Enter the evidence for the benefit',
          });
        const local = (ptr: string) =>
          ({ '/benefitLineIndex': 'line', '/year': 'year', '/claimedPence': 'claimed', '/evidence': 'evidence' })[
            ptr.replace(/^\/benefits\/\d+.*$/, '/benefitLineIndex')
          ] ?? 'line';
        if (errors.length > 0) return reportPage(c, cs, f, pageErrors(errors, local, cs.id, cs.baseYear), 400);
        const done = await attemptForm(() =>
          actingAsUser(deps, c, (act) =>
            reportBenefit(act, cs.id, {
              benefitLineIndex: line as number,
              year: f.year as string,
              claimedPence: claimed as bigint,
              evidence,
            }),
          ),
        );
        if ('refused' in done)
          return reportPage(
            c,
            cs,
            f,
            pageErrors(done.refused.errors, local, cs.id, cs.baseYear, done.refused.message),
            statusOf(done.refused) === 400 ? 400 : 409,
          );
        return c.redirect(`/cases/${cs.id}?done=reported`, 303);
      }),
    );
  },
};
