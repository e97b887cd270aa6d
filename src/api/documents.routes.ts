import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import {
  type BuiltDocument,
  buildBusinessCase,
  buildCreditsReport,
  buildDecisionLetter,
  buildFundStatement,
  buildPlaceReport,
  buildRealisedBenefits,
  CREDITS_REPORT_READERS,
  FUND_STATEMENT_READERS,
  pdfHeaders,
  renderBuilt,
} from '../documents/documents.ts';
import { RendererError } from '../documents/renderer.ts';
import type { DocumentService } from '../documents/service.ts';
import type { AppEnv, Deps } from '../http/context.ts';
import { problemResponse } from '../http/problem.ts';
import { problemType } from '../http/problems.ts';
import { apiRoute, createRouter, errorResponses } from '../http/router.ts';
import { ROLES } from '../users/users.ts';
import { FinancialYearName, IdParam, OrganisationCode } from './schemas.ts';

const pdf = (description: string) => ({
  description,
  content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } },
});

const FyQuery = z.object({ fy: FinancialYearName });

/** What rendering itself can refuse, on every PDF route: each a 503 (see src/documents/renderer.ts). */
const RENDER_PROBLEMS = [
  'browser-unavailable',
  'renderer-busy',
  'render-timed-out',
  'render-failed',
  'renderer-closed',
] as const satisfies readonly RendererError['code'][];

/** Builds (authorising and reading the data), renders, and answers the PDF, or a 503 that says why not. */
async function respondWithPdf(c: Context<AppEnv>, documents: DocumentService, build: () => Promise<BuiltDocument>): Promise<Response> {
  const built = await build();
  try {
    const bytes = await renderBuilt(documents.renderer, documents.templates, built);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, pdfHeaders(built));
  } catch (error) {
    if (!(error instanceof RendererError)) throw error;
    return problemResponse(
      c,
      { type: error.code, title: problemType(error.code)?.title ?? error.code, status: 503, detail: error.message },
      error.retryAfterSeconds === null ? {} : { 'retry-after': String(error.retryAfterSeconds) },
    );
  }
}

export function documentRoutes(deps: Deps, documents: DocumentService) {
  const db = deps.database.db;
  return createRouter()
    .openapi(
      apiRoute({
        method: 'get',
        path: '/cases/{id}/pdf',
        tags: ['Documents'],
        summary:
          'The business case as a PDF: narrative, partners, profiles, appraisal, who benefits, switching values, parameters, the panel outcome',
        description: 'For whoever may read the case.',
        roles: ROLES,
        problems: ['case-not-found', ...RENDER_PROBLEMS],
        request: { params: IdParam },
        responses: { 200: pdf('The business case (A4, tagged, with an outline)'), 404: errorResponses[404] },
      }),
      (c) => respondWithPdf(c, documents, () => buildBusinessCase(db, c.get('principal'), c.req.valid('param').id, deps.clock())) as never,
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/cases/{id}/decision-letter.pdf',
        tags: ['Documents'],
        summary: "The panel's decision letter: award, tranche schedule, conditions, clawback terms, who decided and when, reasons",
        description: 'For whoever may read the case. 409 before the case is decided.',
        roles: ROLES,
        problems: ['case-not-found', 'no-decision', ...RENDER_PROBLEMS],
        request: { params: IdParam },
        responses: { 200: pdf('The decision letter'), 404: errorResponses[404], 409: errorResponses[409] },
      }),
      (c) =>
        respondWithPdf(c, documents, () => buildDecisionLetter(db, c.get('principal'), c.req.valid('param').id, deps.clock())) as never,
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/reports/fund-statement.pdf',
        tags: ['Documents'],
        summary:
          "The fund's statement for a year: contributions, commitments, releases by place and theme, clawbacks, buy-outs, balance, verification",
        roles: FUND_STATEMENT_READERS,
        problems: ['financial-year-not-found', ...RENDER_PROBLEMS],
        request: { query: FyQuery },
        responses: { 200: pdf('The fund statement'), 404: errorResponses[404] },
      }),
      (c) => respondWithPdf(c, documents, () => buildFundStatement(db, c.get('principal'), c.req.valid('query').fy, deps.clock())) as never,
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/reports/realised-benefits.pdf',
        tags: ['Documents'],
        summary: "Treasury's realised-benefits review for a year: forecast against verified by department, place and theme, variance, RAG",
        description: 'Each reader sees the rows `GET /api/v1/benefits` shows them: departments their own, councils their own cases.',
        roles: ROLES,
        problems: ['financial-year-not-found', ...RENDER_PROBLEMS],
        request: { query: FyQuery },
        responses: { 200: pdf('The realised-benefits review'), 404: errorResponses[404] },
      }),
      (c) =>
        respondWithPdf(c, documents, () => buildRealisedBenefits(db, c.get('principal'), c.req.valid('query').fy, deps.clock())) as never,
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/reports/credits.pdf',
        tags: ['Documents'],
        summary:
          'The credits and compliance report for a closed year: targets, achievement, credits issued with provenance, prices and trades, surrenders, buy-outs, compliance status',
        description:
          'A department sees its own rows (and the market totals), as in the credits API; the trades are shown to treasury, auditors and departments, who may read them. 404 until the year is closed.',
        roles: CREDITS_REPORT_READERS,
        problems: ['financial-year-not-found', 'year-close-not-found', 'department-outcome-not-found', ...RENDER_PROBLEMS],
        request: { query: FyQuery },
        responses: { 200: pdf('The credits and compliance report'), 404: errorResponses[404] },
      }),
      (c) => respondWithPdf(c, documents, () => buildCreditsReport(db, c.get('principal'), c.req.valid('query').fy, deps.clock())) as never,
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/places/{code}/report.pdf',
        tags: ['Documents'],
        summary:
          'A place report for a year: every case, release and saving by department in one place, with a flow chart, and disposals against the pooled target',
        description: "The disposals are shown to those who may read a place's disposals (treasury, auditors, the panel, departments).",
        roles: ROLES,
        problems: ['financial-year-not-found', 'place-not-found', ...RENDER_PROBLEMS],
        request: { params: z.object({ code: OrganisationCode }), query: FyQuery },
        responses: { 200: pdf('The place report'), 404: errorResponses[404] },
      }),
      (c) =>
        respondWithPdf(c, documents, () =>
          buildPlaceReport(db, c.get('principal'), c.req.valid('param').code, c.req.valid('query').fy, deps.clock()),
        ) as never,
    );
}
