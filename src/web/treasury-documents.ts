import { BenefitsFilterQuery } from '../api/schemas.ts';
import { type BenefitsFilter, realisedBenefitsPage } from '../benefits/benefits.ts';
import {
  type BuiltDocument,
  buildBusinessCase,
  buildCreditsReport,
  buildDecisionLetter,
  buildFundStatement,
  buildRealisedBenefits,
  pdfHeaders,
  renderBuilt,
} from '../documents/documents.ts';
import { RendererError } from '../documents/renderer.ts';
import { createDocumentService, type DocumentService } from '../documents/service.ts';
import { readGrantsCsv, readGrantsPackage } from '../exports/grants.ts';
import { readRegisterCsv } from '../exports/register.ts';
import { getFinancialYear, listFinancialYears } from '../fund/fund.ts';
import { FUND_REFUSALS } from '../fund/refusals.ts';
import type { Deps } from '../http/context.ts';
import { zodFieldErrors } from '../http/problem.ts';
import { refuse } from '../lib/refusals.ts';
import { listOrganisations, listPlaces, listThemes } from '../reference/reference.ts';
import { formErrors, NO_ERRORS, render, signedIn, toSignIn, type WebApp, type WebContext } from './pages.ts';

/*
 * The documents and downloads behind the pages: every PDF (the same builders the API's document
 * routes call, so the same readers), the year's awards as 360Giving open data, the benefits
 * register as CSV, and the realised-benefits review they come from. Each is for the signed-in
 * user, read with their role's rules.
 */

const FY = /^\d{4}-\d{2}$/;
const fyOf = (c: WebContext) => {
  const fy = c.req.param('fy') ?? '';
  if (!FY.test(fy)) throw refuse(FUND_REFUSALS, 'financial-year-not-found', `There is no financial year ${fy}.`);
  return fy;
};

/** Builds (authorising and reading the data as the user) and renders a PDF, or says why it could not be made. */
export async function pdfResponse(c: WebContext, documents: DocumentService, build: () => Promise<BuiltDocument>): Promise<Response> {
  const built = await build();
  try {
    const bytes = await renderBuilt(documents.renderer, documents.templates, built);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, pdfHeaders(built));
  } catch (error) {
    if (!(error instanceof RendererError)) throw error;
    return render(
      c,
      'error',
      {
        title: 'The document could not be made just now',
        heading: 'The document could not be made just now',
        paragraphs: [error.message, 'Nothing has changed. Try again in a minute.'],
      },
      500,
    );
  }
}

/** The documents service the API uses, or one made once for the pages when none was given. */
export function documentsOf(deps: Deps): () => DocumentService {
  let own: DocumentService | null = null;
  return () => {
    if (deps.documents) return deps.documents;
    own ??= createDocumentService({ log: deps.log });
    return own;
  };
}

const RAG_TAGS = {
  green: { text: 'Green', colour: 'green' },
  amber: { text: 'Amber', colour: 'yellow' },
  red: { text: 'Red', colour: 'red' },
  'not-due': { text: 'Not due', colour: 'grey' },
} as const;

const FILTER_NAMES: Record<string, string> = { fy: 'Financial year', department: 'Department', place: 'Place', theme: 'Theme' };

/** The review's page size: a year's register runs to hundreds of rows. */
const REVIEW_PAGE = 100;

export function mountTreasuryDocuments(web: WebApp, deps: Deps) {
  const db = deps.database.db;
  const documents = documentsOf(deps);
  const user = (c: WebContext) => signedIn(c);

  web.get('/reports/:fy/fund-statement.pdf', async (c) => {
    const p = user(c);
    if (!p) return toSignIn(c);
    return pdfResponse(c, documents(), () => buildFundStatement(db, p, fyOf(c), deps.clock()));
  });
  web.get('/reports/:fy/realised-benefits.pdf', async (c) => {
    const p = user(c);
    if (!p) return toSignIn(c);
    return pdfResponse(c, documents(), () => buildRealisedBenefits(db, p, fyOf(c), deps.clock()));
  });
  web.get('/reports/:fy/credits.pdf', async (c) => {
    const p = user(c);
    if (!p) return toSignIn(c);
    return pdfResponse(c, documents(), () => buildCreditsReport(db, p, fyOf(c), deps.clock()));
  });
  web.get('/cases/:id/business-case.pdf', async (c) => {
    const p = user(c);
    if (!p) return toSignIn(c);
    return pdfResponse(c, documents(), () => buildBusinessCase(db, p, c.req.param('id'), deps.clock()));
  });
  web.get('/cases/:id/decision-letter.pdf', async (c) => {
    const p = user(c);
    if (!p) return toSignIn(c);
    return pdfResponse(c, documents(), () => buildDecisionLetter(db, p, c.req.param('id'), deps.clock()));
  });

  web.get('/open-data/:fy/grants.json', async (c) => {
    const p = user(c);
    if (!p) return toSignIn(c);
    const fy = fyOf(c);
    c.header('content-disposition', `attachment; filename="grants-360giving-${fy}.json"`);
    return c.json(await readGrantsPackage({ db, principal: p }, fy, deps.clock()));
  });
  web.get('/open-data/:fy/grants.csv', async (c) => {
    const p = user(c);
    if (!p) return toSignIn(c);
    const fy = fyOf(c);
    return c.body(await readGrantsCsv({ db, principal: p }, fy), 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="grants-360giving-${fy}.csv"`,
    });
  });

  /** The review's filters from the query, checked by the API's own schema. */
  const filterOf = (c: WebContext) => {
    const raw = Object.fromEntries(
      ['fy', 'department', 'place', 'theme'].flatMap((k) => {
        const v = c.req.query(k);
        return v ? [[k, v]] : [];
      }),
    );
    const parsed = BenefitsFilterQuery.safeParse(raw);
    return { raw: raw as Record<string, string>, parsed };
  };
  const query = (f: BenefitsFilter) =>
    new URLSearchParams(Object.entries(f).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '')).toString();

  web.get('/benefits/register.csv', async (c) => {
    const p = user(c);
    if (!p) return toSignIn(c);
    const { parsed } = filterOf(c);
    if (!parsed.success) return c.redirect('/benefits/review', 303);
    const f = parsed.data;
    const csv = await readRegisterCsv(
      { db, principal: p },
      { fy: f.fy, department: f.department, place: f.place, theme: f.theme },
      deps.clock().toISOString().slice(0, 10),
    );
    return c.body(csv, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="benefits-register${f.fy ? `-${f.fy}` : ''}.csv"`,
    });
  });

  web.get('/benefits/review', async (c) => {
    const p = user(c);
    if (!p) return toSignIn(c);
    const { raw, parsed } = filterOf(c);
    const [years, departments, places, themes] = await Promise.all([
      listFinancialYears(db),
      listOrganisations(db, { kind: 'department' }),
      listPlaces(db),
      listThemes(db),
    ]);
    const options = (items: { value: string; text: string }[], selected: string | undefined, any: string) => [
      { value: '', text: any, selected: !selected },
      ...items.map((i) => ({ ...i, selected: i.value === selected })),
    ];
    const model = {
      title: 'Realised benefits',
      filters: {
        fy: options(
          years.map((y) => ({ value: y.name, text: y.name })),
          raw.fy,
          'All years',
        ),
        department: options(
          departments.map((d) => ({ value: d.code, text: d.name })),
          raw.department,
          'All departments',
        ),
        place: options(
          places.map((pl) => ({ value: pl.code, text: pl.name })),
          raw.place,
          'All places',
        ),
        theme: options(
          themes.map((t) => ({ value: t.code, text: t.name })),
          raw.theme,
          'All themes',
        ),
      },
    };
    if (!parsed.success) {
      const errors = formErrors(zodFieldErrors(parsed.error, 'query'), (ptr) => ptr.replace(/^\//, ''));
      errors.errorList = errors.errorList.map((e) => ({ ...e, text: `${FILTER_NAMES[e.href?.slice(1) ?? ''] ?? 'A filter'}: ${e.text}` }));
      return render(c, 'treasury-benefits', { ...model, ...errors, rows: [] }, 400);
    }
    const f = parsed.data;
    const filter: BenefitsFilter = { fy: f.fy, department: f.department, place: f.place, theme: f.theme };
    if (filter.fy) await getFinancialYear(db, filter.fy);
    const after = c.req.query('after') || undefined;
    const page = await realisedBenefitsPage(db, p, filter, deps.clock().toISOString().slice(0, 10), { after, limit: REVIEW_PAGE });
    const names = new Map(departments.map((d) => [d.code, d.name]));
    const placeNames = new Map(places.map((pl) => [pl.code, pl.name]));
    const themeNames = new Map(themes.map((t) => [t.code, t.name]));
    const q = query(filter);
    return render(c, 'treasury-benefits', {
      ...model,
      ...NO_ERRORS,
      rows: page.rows.map((r) => ({
        ...r,
        line: r.benefitLineIndex + 1,
        department: r.departmentCode ? (names.get(r.departmentCode) ?? r.departmentCode) : 'Not attributed',
        place: placeNames.get(r.placeCode) ?? r.placeCode,
        themeName: themeNames.get(r.theme) ?? r.theme,
        ragTag: RAG_TAGS[r.rag],
      })),
      totals: page.totals,
      csvHref: `/benefits/register.csv${q ? `?${q}` : ''}`,
      pdfHref: filter.fy ? `/reports/${filter.fy}/realised-benefits.pdf` : null,
      nextHref: page.nextCursor
        ? `/benefits/review?${new URLSearchParams({ ...Object.fromEntries(new URLSearchParams(q)), after: page.nextCursor })}`
        : null,
      firstHref: after ? `/benefits/review${q ? `?${q}` : ''}` : null,
    });
  });
}
