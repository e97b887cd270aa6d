import { z } from '@hono/zod-openapi';
import {
  BENEFITS_PAGE_DEFAULT,
  BENEFITS_PAGE_MAX,
  getReadableBenefitReport,
  readableRegister,
  realisedBenefitsPage,
  reportBenefit,
  reviewBenefitReport,
  reviseForecast,
} from '../benefits/benefits.ts';
import type { Deps } from '../http/context.ts';
import { acting, apiRoute, createRouter, errorResponses, jsonBody, jsonContent } from '../http/router.ts';
import { toJson } from '../lib/money.ts';
import { ROLES } from '../users/users.ts';
import {
  asPence,
  BenefitsFilterQuery,
  FinancialYearName,
  IdParam,
  PageLimit,
  Pence,
  PenceInput,
  PenceInputNumber,
  says,
} from './schemas.ts';

const LineIndex = z
  .int({ error: says('must be the index of a benefit line (0 is the first)') })
  .min(0)
  .max(199);

const RowSchema = z
  .object({
    caseId: z.string(),
    reference: z.string(),
    placeCode: z.string(),
    theme: z.string(),
    benefitLineIndex: z.int(),
    outcome: z.string(),
    type: z.string(),
    cashable: z.boolean(),
    beneficiaryCode: z.string().nullable(),
    departmentCode: z.string().nullable(),
    year: z.string(),
    appraisedPence: Pence,
    forecastPence: Pence,
    forecastReason: z.string().nullable(),
    claimedPence: Pence.openapi({ description: "The open report's claim (0 if none, or if the latest was rejected)" }),
    verifiedPence: Pence.openapi({ description: 'What was verified of the claim: all of it, or a part' }),
    verificationReason: z.string().nullable().openapi({ description: 'Why less than the claim was verified' }),
    variancePence: Pence.openapi({ description: 'verified − forecast' }),
    rag: z.enum(['green', 'amber', 'red', 'not-due']),
    reportId: z.string().nullable(),
    reportStatus: z.enum(['pending', 'verified', 'rejected']).nullable(),
  })
  .openapi('BenefitRegisterRow');

const TotalsSchema = z.object({ appraisedPence: Pence, forecastPence: Pence, claimedPence: Pence, verifiedPence: Pence });

const ReportSchema = z
  .object({
    id: z.string(),
    caseId: z.string(),
    benefitLineIndex: z.int(),
    year: z.string(),
    beneficiaryCode: z.string().nullable(),
    claimedPence: Pence,
    evidence: z.string(),
    status: z.enum(['pending', 'verified', 'rejected']),
    reportedBy: z.string(),
    reportedAt: z.string(),
    verifiedPence: Pence.nullable(),
    reviewedBy: z.string().nullable(),
    reviewedAt: z.string().nullable(),
    rejectionReason: z.string().nullable(),
    verificationReason: z.string().nullable().openapi({ description: 'Why less than the claim was verified' }),
  })
  .openapi('BenefitReport');

export function benefitRoutes(deps: Deps) {
  const db = deps.database.db;
  const today = () => deps.clock().toISOString().slice(0, 10);
  return createRouter()
    .openapi(
      apiRoute({
        method: 'get',
        path: '/cases/{id}/benefits',
        tags: ['Benefits'],
        summary: "A case's benefits register: appraised, forecast, claimed and verified by line and year, with variance and RAG",
        roles: ROLES,
        problems: ['case-not-found'],
        request: { params: IdParam },
        responses: { 200: jsonContent(z.array(RowSchema), 'The register'), 404: errorResponses[404] },
      }),
      async (c) => c.json(toJson(await readableRegister(db, c.get('principal'), c.req.valid('param').id, today())), 200),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/cases/{id}/benefit-forecasts',
        tags: ['Benefits'],
        summary: 'The council revises its forecast for a benefit line and year, with a reason',
        roles: reviseForecast.roles,
        problems: reviseForecast.refuses,
        idempotent: true,
        request: {
          params: IdParam,
          body: jsonBody(
            z.strictObject({
              benefitLineIndex: LineIndex,
              year: FinancialYearName,
              forecastPence: PenceInput,
              reason: z
                .string()
                .trim()
                .min(1, { error: says('must say why the forecast changed') })
                .max(5000),
            }),
          ),
        },
        responses: { 200: jsonContent(RowSchema, 'The register row'), 404: errorResponses[404], 409: errorResponses[409] },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const row = await acting(deps, c, (act) => reviseForecast(act, c.req.valid('param').id, body));
        return c.json(toJson(row as NonNullable<typeof row>), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/cases/{id}/benefit-reports',
        tags: ['Benefits'],
        summary: 'The council reports the benefit a line achieved in a year, with evidence',
        roles: reportBenefit.roles,
        problems: reportBenefit.refuses,
        idempotent: true,
        request: {
          params: IdParam,
          body: jsonBody(
            z.strictObject({
              benefitLineIndex: LineIndex,
              year: FinancialYearName,
              claimedPence: PenceInput,
              evidence: z
                .string()
                .trim()
                .min(10, { error: says('must describe the evidence in at least 10 characters') })
                .max(10_000),
            }),
          ),
        },
        responses: {
          201: jsonContent(ReportSchema, 'The report, awaiting verification'),
          404: errorResponses[404],
          409: errorResponses[409],
        },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const report = await acting(deps, c, (act) => reportBenefit(act, c.req.valid('param').id, body));
        return c.json(toJson(report), 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/benefit-reports/{id}',
        tags: ['Benefits'],
        summary: 'One benefit report',
        roles: ROLES,
        problems: ['benefit-report-not-found', 'case-not-found'],
        request: { params: IdParam },
        responses: { 200: jsonContent(ReportSchema, 'The report'), 404: errorResponses[404] },
      }),
      async (c) => c.json(toJson(await getReadableBenefitReport(db, c.get('principal'), c.req.valid('param').id)), 200),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/benefit-reports/{id}/verify',
        tags: ['Benefits'],
        summary: 'The beneficiary department (or treasury) verifies a reported benefit, in full or in part',
        description:
          'With no body (or `{}`) the whole claim is verified. `verifiedPence` verifies part of it (1 up to the claim), with a `reason` whenever it is less than the claim. A review is final: a verified or rejected report cannot be reviewed again (409 `benefit-report-reviewed`).',
        roles: reviewBenefitReport.roles,
        idempotent: true,
        problems: ['benefit-report-not-found', 'case-not-found', 'benefit-report-reviewed', 'financial-year-closed-for-verification'],
        request: {
          params: IdParam,
          body: {
            required: false,
            content: {
              'application/json': {
                schema: z
                  .strictObject({
                    verifiedPence: asPence(PenceInputNumber.min(1, { error: says('must be at least 1 pence; reject the report instead') }))
                      .optional()
                      .openapi({ description: 'The part of the claim verified, in pence; the whole claim if absent.', example: 500_000 }),
                    reason: z
                      .string()
                      .trim()
                      .min(1, { error: says('must not be empty') })
                      .max(5000)
                      .optional()
                      .openapi({ description: 'Why less than the claim is verified (required then).' }),
                  })
                  .openapi('Verification'),
              },
            },
          },
        },
        responses: { 200: jsonContent(ReportSchema, 'Verified') },
      }),
      async (c) => {
        const body = c.req.valid('json') ?? {};
        const decision = {
          verify: true as const,
          verifiedPence: body.verifiedPence,
          reason: body.reason,
        };
        const report = await acting(deps, c, (act) => reviewBenefitReport(act, c.req.valid('param').id, decision));
        return c.json(toJson(report), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/benefit-reports/{id}/reject',
        tags: ['Benefits'],
        summary: 'The beneficiary department (or treasury) rejects a reported benefit, with a reason',
        roles: reviewBenefitReport.roles,
        problems: reviewBenefitReport.refuses,
        idempotent: true,
        request: {
          params: IdParam,
          body: jsonBody(
            z.strictObject({
              reason: z
                .string()
                .trim()
                .min(1, { error: says('must say why') })
                .max(5000),
            }),
          ),
        },
        responses: { 200: jsonContent(ReportSchema, 'Rejected'), 404: errorResponses[404], 409: errorResponses[409] },
      }),
      async (c) => {
        const { reason } = c.req.valid('json');
        const report = await acting(deps, c, (act) => reviewBenefitReport(act, c.req.valid('param').id, { verify: false, reason }));
        return c.json(toJson(report), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/benefits',
        tags: ['Benefits'],
        summary: 'Realised benefits: forecast against verified, cashable and not, by year, department, place, theme or case',
        description: `Departments see the benefits attributed to them; councils their own cases’. Rows come a page at a time, in the order case reference, benefit line, year: at most \`limit\` rows (default ${BENEFITS_PAGE_DEFAULT}, at most ${BENEFITS_PAGE_MAX}); pass the \`nextCursor\` you received as \`after\` to get the next page (it is null on the last). The totals (all, cashable, non-cashable) are those of every row the filters select, not of the page.`,
        roles: ROLES,
        problems: [],
        request: {
          query: BenefitsFilterQuery.extend({
            after: z.string().max(400).optional().openapi({ description: 'The `nextCursor` of the previous page' }),
            limit: PageLimit(BENEFITS_PAGE_MAX, BENEFITS_PAGE_DEFAULT),
          }),
        },
        responses: {
          200: jsonContent(
            z
              .object({
                rows: z.array(RowSchema),
                totals: TotalsSchema.openapi({ description: 'Of every row the filters select, not only this page' }),
                cashable: TotalsSchema,
                nonCashable: TotalsSchema,
                nextCursor: z.string().nullable().openapi({ description: 'Pass as `after` for the next page; null on the last' }),
              })
              .openapi('RealisedBenefits'),
            'A page of rows and the totals of all of them',
          ),
        },
      }),
      async (c) => {
        const q = c.req.valid('query');
        const out = await realisedBenefitsPage(
          db,
          c.get('principal'),
          { fy: q.fy, department: q.department, place: q.place, theme: q.theme, caseId: q.case },
          today(),
          { after: q.after, limit: q.limit },
        );
        return c.json(toJson(out), 200);
      },
    );
}
