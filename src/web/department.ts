import { getReadableBenefitReport, realisedBenefits, reviewBenefitReport } from '../benefits/benefits.ts';
import { getReadableCase } from '../cases/visibility.ts';
import { readPosition } from '../credits/position.ts';
import { readDisposalsByPlace } from '../disposals/disposals.ts';
import type { Deps } from '../http/context.ts';
import { type FieldError, invalid } from '../lib/errors.ts';
import { parsePounds, penceAsPoundsInput } from '../lib/money.ts';
import { refuse } from '../lib/refusals.ts';
import { REFERENCE_REFUSALS } from '../reference/refusals.ts';
import type { Principal } from '../users/users.ts';
import type { PageSection } from './app.ts';
import { organisationNames, yearChoices, yearOf } from './department-kit.ts';
import {
  actingAsUser,
  type FormErrors,
  formFields,
  lookAs,
  NO_ERRORS,
  noticeOf,
  render,
  requireRole,
  requireUser,
  tryForm,
  type WebApp,
  type WebContext,
} from './pages.ts';

/*
 * A department's pages: its position for a year (target against verified savings, credits by
 * vintage, cash, obligations and their compliance status), the benefit reports attributed to it
 * that await its verification, with verify (in full or in part, with a reason for a part) and
 * reject-with-a-reason forms, and the disposals it recorded beside the places' pooled progress.
 * Every figure comes from the domain's reads and every change from its operations, as the
 * signed-in user: a department reading another's position is refused (403) by readPosition, and
 * another's benefit report is not found (404) by getReadableBenefitReport.
 */

const NOTICES: Record<string, string> = {
  verified: 'The report has been verified',
  'verified-part': 'Part of the claim has been verified',
  rejected: 'The report has been rejected',
};

const OBLIGATION_TAGS: Record<string, { text: string; colour: string }> = {
  'awaiting-compliance': { text: 'Awaiting compliance', colour: 'yellow' },
  'no-obligation': { text: 'No obligation', colour: 'grey' },
  compliant: { text: 'Compliant', colour: 'green' },
  'compliant-by-buy-out': { text: 'Compliant by buy-out', colour: 'turquoise' },
  outstanding: { text: 'Buy-out outstanding', colour: 'red' },
};

const REPORT_TAGS: Record<string, { text: string; colour: string }> = {
  pending: { text: 'Awaiting verification', colour: 'yellow' },
  verified: { text: 'Verified', colour: 'green' },
  rejected: { text: 'Rejected', colour: 'red' },
};

const RAG_TAGS: Record<string, { text: string; colour: string }> = {
  green: { text: 'Green', colour: 'green' },
  amber: { text: 'Amber', colour: 'yellow' },
  red: { text: 'Red', colour: 'red' },
  'not-due': { text: 'Not due', colour: 'grey' },
};

// ---------------------------------------------------------------------------------------------
// Position

function mountPosition(web: WebApp, deps: Deps) {
  // A department user's own position; everyone else chooses a department from the fund's pages.
  web.get('/department', (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    if (p.role !== 'department' || !p.organisationCode)
      throw refuse(REFERENCE_REFUSALS, 'department-not-found', 'Only a department user has a position of their own.');
    const fy = c.req.query('fy');
    return c.redirect(`/departments/${encodeURIComponent(p.organisationCode)}${fy ? `?fy=${encodeURIComponent(fy)}` : ''}`, 303);
  });

  web.get('/departments/:code', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const fy = yearOf(c, deps);
    const code = c.req.param('code');
    const position = await readPosition(lookAs(deps, p), code, fy, deps.clock());
    const db = deps.database.db;
    const [names, years] = await Promise.all([organisationNames(db), yearChoices(db, fy)]);
    const target = position.savingsTargetPence;
    const cashable = position.verifiedSavings.cashablePence;
    const own = p.role === 'department' && p.organisationCode === code;
    return render(c, 'department-position', {
      title: `${names.get(code) ?? code}: position for ${fy}`,
      year: fy,
      code,
      name: names.get(code) ?? code,
      own,
      years,
      pickerAction: `/departments/${encodeURIComponent(code)}`,
      fyQuery: `?fy=${encodeURIComponent(fy)}`,
      position,
      surplusPence: cashable > target ? cashable - target : null,
      shortfallPence: cashable < target ? target - cashable : null,
      credits: position.credits,
      creditsTotal: position.credits.reduce(
        (t, h) => ({ held: t.held + h.held, reserved: t.reserved + h.reserved, available: t.available + h.available }),
        { held: 0n, reserved: 0n, available: 0n },
      ),
      obligations: position.obligations.map((o) => ({
        ...o,
        tag: OBLIGATION_TAGS[o.status] ?? { text: o.status, colour: 'grey' },
        detail: 'surrenderedCredits' in o ? o : null,
      })),
      openOrders: position.openOrders,
      offers: position.bilateralOffers.map((b) => ({
        ...b,
        incoming: b.counterpartyCode === code,
        otherName: names.get(b.counterpartyCode === code ? b.proposerCode : b.counterpartyCode),
      })),
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Benefit reports

/** The verify form's fields by the operation's pointers. */
const verifyFieldOf = (ptr: string) => (ptr === '/verifiedPence' ? 'verifiedAmount' : ptr === '/reason' ? 'verificationReason' : 'extent');

function mountReports(web: WebApp, deps: Deps) {
  web.get('/benefit-reports', async (c) => {
    const p = requireRole(c, reviewBenefitReport.roles);
    if (p instanceof Response) return p;
    const today = deps.clock().toISOString().slice(0, 10);
    const { rows } = await realisedBenefits(deps.database.db, p, {}, today);
    const reported = rows.filter((r) => r.reportStatus !== null);
    const view = (r: (typeof rows)[number]) => ({
      ...r,
      line: r.benefitLineIndex + 1,
      tag: REPORT_TAGS[r.reportStatus ?? 'pending'],
      ragTag: RAG_TAGS[r.rag],
    });
    return render(c, 'department-reports', {
      title: 'Benefit reports to verify',
      awaiting: reported.filter((r) => r.reportStatus === 'pending').map(view),
      reviewed: reported.filter((r) => r.reportStatus !== 'pending').map(view),
    });
  });

  const reportPage = async (
    c: WebContext,
    p: Principal,
    fields: Record<string, string>,
    errors: FormErrors,
    status: 200 | 400 | 409 | 422 = 200,
  ) => {
    const db = deps.database.db;
    const report = await getReadableBenefitReport(db, p, c.req.param('id') as string);
    const kase = await getReadableCase(db, p, report.caseId);
    const line = kase.benefits[report.benefitLineIndex];
    const names = await organisationNames(db);
    const mayReview = reviewBenefitReport.roles.includes(p.role) && report.status === 'pending';
    return render(
      c,
      'department-report',
      {
        title: `Benefit report: ${kase.reference}, line ${report.benefitLineIndex + 1}, ${report.year}`,
        backLink: '/benefit-reports',
        notice: noticeOf(c, NOTICES),
        report,
        kase,
        line,
        lineNumber: report.benefitLineIndex + 1,
        beneficiaryName: report.beneficiaryCode ? (names.get(report.beneficiaryCode) ?? report.beneficiaryCode) : null,
        tag: REPORT_TAGS[report.status],
        part: report.verifiedPence !== null && report.verifiedPence < report.claimedPence,
        mayReview,
        claimedPounds: penceAsPoundsInput(report.claimedPence),
        extentItems: [
          { value: 'full', text: 'Verify the whole claim', checked: fields.extent === 'full' },
          { value: 'part', text: 'Verify part of the claim', checked: fields.extent === 'part' },
        ],
        fields,
        ...errors,
      },
      status,
    );
  };

  web.get('/benefit-reports/:id', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    return reportPage(c, p, {}, NO_ERRORS);
  });

  web.post('/benefit-reports/:id/verify', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const id = c.req.param('id');
    const fields = await formFields(c);
    const extent = fields.extent ?? '';
    const r = await tryForm(
      () =>
        actingAsUser(deps, c, async (act) => {
          const errors: FieldError[] = [];
          let verifiedPence: bigint | undefined;
          if (extent !== 'full' && extent !== 'part')
            errors.push({ pointer: '/extent', detail: 'Select whether you verify the whole claim or part of it' });
          if (extent === 'part') {
            const text = fields.verifiedAmount ?? '';
            const pence = text.trim() === '' ? null : parsePounds(text);
            if (text.trim() === '') errors.push({ pointer: '/verifiedPence', detail: 'Enter the amount you verify' });
            else if (pence === null)
              errors.push({ pointer: '/verifiedPence', detail: 'Enter the amount you verify in pounds, like 1250.50' });
            else verifiedPence = pence;
            if (!(fields.verificationReason ?? '').trim())
              errors.push({ pointer: '/reason', detail: 'Enter why you verify less than the claim' });
          }
          if (errors.length > 0) throw invalid(errors);
          const reason = (fields.verificationReason ?? '').trim() || undefined;
          if ((reason?.length ?? 0) > 5000) throw invalid([{ pointer: '/reason', detail: 'The reason must be 5,000 characters or fewer' }]);
          return reviewBenefitReport(act, id, { verify: true, verifiedPence, reason });
        }),
      { fieldOf: verifyFieldOf },
    );
    if ('failed' in r) return reportPage(c, p, fields, withWords(r.failed), Object.keys(r.failed.errors).length ? 400 : 409);
    const part = r.ok.verifiedPence !== null && r.ok.verifiedPence < r.ok.claimedPence;
    return c.redirect(`/benefit-reports/${encodeURIComponent(id)}?done=${part ? 'verified-part' : 'verified'}`, 303);
  });

  web.post('/benefit-reports/:id/reject', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const id = c.req.param('id');
    const fields = await formFields(c);
    const r = await tryForm(
      () =>
        actingAsUser(deps, c, (act) => {
          const reason = (fields.rejectionReason ?? '').trim();
          if (!reason) throw invalid([{ pointer: '/rejectionReason', detail: 'Enter why you reject the report' }]);
          if (reason.length > 5000)
            throw invalid([{ pointer: '/rejectionReason', detail: 'The reason must be 5,000 characters or fewer' }]);
          return reviewBenefitReport(act, id, { verify: false, reason });
        }),
      { fieldOf: (ptr) => (ptr === '/rejectionReason' ? 'rejectionReason' : 'extent') },
    );
    if ('failed' in r) return reportPage(c, p, fields, r.failed, Object.keys(r.failed.errors).length ? 400 : 409);
    return c.redirect(`/benefit-reports/${encodeURIComponent(id)}?done=rejected`, 303);
  });
}

/** The operation's messages in the page's words (it speaks in pence, the form in pounds). */
function withWords(e: FormErrors): FormErrors {
  const words = (t: string) =>
    t
      .replace(
        /^Must be at least 1 pence; reject the report instead$/,
        'The amount you verify must be at least £0.01; reject the report instead',
      )
      .replace(
        /^Must be at most the claim, (\d+) pence$/,
        (_m, pence: string) => `The amount you verify must be no more than the claim, £${penceAsPoundsInput(BigInt(pence))}`,
      )
      .replace(/^Must say why less than the claim is verified$/, 'Enter why you verify less than the claim');
  return {
    errors: Object.fromEntries(Object.entries(e.errors).map(([k, v]) => [k, words(v)])),
    errorList: e.errorList.map((x) => ({ ...x, text: words(x.text) })),
  };
}

// ---------------------------------------------------------------------------------------------
// Disposals

function mountDisposals(web: WebApp, deps: Deps) {
  web.get('/disposals', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const fy = yearOf(c, deps);
    const places = await readDisposalsByPlace(lookAs(deps, p), fy);
    const db = deps.database.db;
    const [names, years] = await Promise.all([organisationNames(db), yearChoices(db, fy)]);
    const placeNames = new Map((await db.selectFrom('places').select(['code', 'name']).execute()).map((r) => [r.code, r.name]));
    const mine = p.role === 'department' ? p.organisationCode : null;
    return render(c, 'department-disposals', {
      title: `Asset disposals, ${fy}`,
      year: fy,
      years,
      department: mine ? { code: mine, name: names.get(mine) ?? mine } : null,
      recorded: mine
        ? places.flatMap((pl) =>
            pl.disposals.filter((d) => d.departmentCode === mine).map((d) => ({ ...d, placeName: placeNames.get(d.placeCode) })),
          )
        : [],
      places: places.map((pl) => {
        const part = mine ? pl.departments.find((d) => d.departmentCode === mine) : undefined;
        return {
          ...pl,
          placeName: placeNames.get(pl.placeCode) ?? pl.placeCode,
          stillToGoPence: pl.receiptsPence < pl.pooledTargetPence ? pl.pooledTargetPence - pl.receiptsPence : 0n,
          part: part ?? null,
          tag: pl.met
            ? { text: 'Met', colour: 'green' }
            : pl.pooledTargetPence === 0n
              ? { text: 'No target', colour: 'grey' }
              : { text: 'Not met', colour: 'yellow' },
        };
      }),
    });
  });
}

/** The department's pages: position, benefit reports, disposals. */
export const departmentPages: PageSection = {
  navigation: [
    {
      href: '/department',
      text: 'Your position',
      description: 'Your target, verified savings, credits and obligations.',
      roles: ['department'],
    },
    {
      href: '/benefit-reports',
      text: 'Benefit reports',
      description: 'Verify or reject the benefits councils report against your budget.',
      roles: ['department', 'treasury'],
    },
    {
      href: '/disposals',
      text: 'Disposals',
      description: 'Asset disposals and each place’s pooled progress.',
      roles: ['department'],
    },
  ],
  mount(web, deps) {
    mountPosition(web, deps);
    mountReports(web, deps);
    mountDisposals(web, deps);
  },
};
