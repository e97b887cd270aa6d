import { z } from '@hono/zod-openapi';
import {
  type DepartmentYear,
  financialYearOf,
  fundPosition,
  getFinancialYear,
  listFinancialYears,
  postContributions,
  readDepartmentTerms,
  readDepartmentTermsOf,
  readFund,
  setDepartmentTerms,
  setUpFinancialYear,
} from '../fund/fund.ts';
import type { Deps } from '../http/context.ts';
import { acting, apiRoute, createRouter, errorResponses, jsonBody, jsonContent } from '../http/router.ts';
import { penceToJson } from '../lib/money.ts';
import { ROLES } from '../users/users.ts';
import { BasisPoints, FinancialYearName, OrganisationCode, Pence, PenceInput } from './schemas.ts';

const FinancialYearSchema = z
  .object({
    name: z.string().openapi({ example: '2026-27' }),
    startsOn: z.string().openapi({ example: '2026-04-01' }),
    endsOn: z.string().openapi({ example: '2027-03-31' }),
    status: z.enum(['open', 'closed']),
    createdAt: z.string(),
  })
  .openapi('FinancialYear');

const DepartmentYearSchema = z
  .object({
    financialYear: z.string(),
    departmentCode: z.string(),
    baselinePence: Pence,
    topSliceBasisPoints: z.int(),
    savingsTargetPence: Pence,
    contributionDuePence: Pence.openapi({ description: 'baseline × rate, rounded half-even to the penny' }),
    revision: z.int(),
    updatedAt: z.string(),
  })
  .openapi('DepartmentYear');

const ContributionLine = z.object({ departmentCode: z.string(), amountPence: Pence, transferId: z.string() });

const FundSchema = z
  .object({
    financialYear: z.string(),
    accountId: z.string(),
    contributedPence: Pence,
    otherReceiptsPence: Pence,
    committedPence: Pence,
    releasedPence: Pence,
    balancePence: Pence,
    availablePence: Pence,
    contributions: z.array(z.object({ departmentCode: z.string(), amountPence: Pence })),
  })
  .openapi('FundPosition');

const ContributionRunSchema = z
  .object({
    financialYear: z.string(),
    posted: z.array(ContributionLine),
    alreadyPosted: z.array(ContributionLine),
    nothingDue: z.array(z.string()),
    fund: FundSchema,
  })
  .openapi('ContributionRun');

const FyParam = z.object({ fy: FinancialYearName });

const departmentYearJson = (d: DepartmentYear) => ({
  ...d,
  baselinePence: penceToJson(d.baselinePence),
  savingsTargetPence: penceToJson(d.savingsTargetPence),
  contributionDuePence: penceToJson(d.contributionDuePence),
});

/** A department's terms for a year, as the API and Treasury's terms page both take them. */
export const DepartmentTermsInput = z
  .strictObject({
    baselinePence: PenceInput,
    topSliceBasisPoints: BasisPoints,
    savingsTargetPence: PenceInput,
  })
  .openapi('DepartmentYearInput');

export function fundRoutes(deps: Deps) {
  const db = deps.database.db;
  return createRouter()
    .openapi(
      apiRoute({
        method: 'get',
        path: '/financial-years',
        tags: ['Financial years'],
        summary: 'List financial years',
        roles: ROLES,
        problems: [],
        responses: { 200: jsonContent(z.array(FinancialYearSchema), 'The years') },
      }),
      async (c) => c.json(await listFinancialYears(db), 200),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/financial-years',
        tags: ['Financial years'],
        summary: 'Set up a financial year (April–March) and open its fund',
        roles: setUpFinancialYear.roles,
        problems: setUpFinancialYear.refuses,
        idempotent: true,
        request: { body: jsonBody(z.strictObject({ name: FinancialYearName }).openapi('NewFinancialYear')) },
        responses: { 201: jsonContent(FinancialYearSchema, 'The year'), 409: errorResponses[409] },
      }),
      async (c) => {
        const { name } = c.req.valid('json');
        const year = await acting(deps, c, (act) => setUpFinancialYear(act, name));
        return c.json(year, 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/financial-years/{fy}',
        tags: ['Financial years'],
        summary: 'One financial year',
        roles: ROLES,
        problems: ['financial-year-not-found'],
        request: { params: FyParam },
        responses: { 200: jsonContent(FinancialYearSchema, 'The year'), 404: errorResponses[404] },
      }),
      async (c) => c.json(await getFinancialYear(db, c.req.valid('param').fy), 200),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/financial-years/{fy}/departments',
        tags: ['Financial years'],
        summary: "Departments' baselines, top-slice rates and savings targets for a year",
        description:
          'Public within the scheme: every department’s terms are visible to every signed-in user (the rule in src/fund/visibility.ts).',
        roles: readDepartmentTerms.roles,
        problems: readDepartmentTerms.refuses,
        request: { params: FyParam },
        responses: { 200: jsonContent(z.array(DepartmentYearSchema), 'The settings'), 404: errorResponses[404] },
      }),
      async (c) => {
        const rows = await readDepartmentTerms({ db, principal: c.get('principal') }, c.req.valid('param').fy);
        return c.json(rows.map(departmentYearJson), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/financial-years/{fy}/departments/{code}',
        tags: ['Financial years'],
        summary: "One department's settings for a year",
        description: 'Public within the scheme (src/fund/visibility.ts).',
        roles: readDepartmentTermsOf.roles,
        problems: readDepartmentTermsOf.refuses,
        request: { params: FyParam.extend({ code: OrganisationCode }) },
        responses: { 200: jsonContent(DepartmentYearSchema, 'The settings'), 404: errorResponses[404] },
      }),
      async (c) => {
        const { fy, code } = c.req.valid('param');
        return c.json(departmentYearJson(await readDepartmentTermsOf({ db, principal: c.get('principal') }, fy, code)), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'put',
        path: '/financial-years/{fy}/departments/{code}',
        tags: ['Financial years'],
        summary: "Set a department's baseline budget, top-slice rate and savings target for a year",
        description:
          'The baseline is voted to the department from the Exchequer; a changed baseline posts the difference. Once the contribution is posted, baseline and rate are fixed (409); the savings target can still change.',
        roles: setDepartmentTerms.roles,
        problems: setDepartmentTerms.refuses,
        idempotent: true,
        request: {
          params: FyParam.extend({ code: OrganisationCode }),
          body: jsonBody(DepartmentTermsInput),
        },
        responses: {
          200: jsonContent(DepartmentYearSchema, 'Updated (or unchanged)'),
          201: jsonContent(DepartmentYearSchema, 'Set for the first time'),
          404: errorResponses[404],
          409: errorResponses[409],
          422: errorResponses[422],
        },
      }),
      async (c) => {
        const { fy, code } = c.req.valid('param');
        const body = c.req.valid('json');
        const { departmentYear, created } = await acting(deps, c, (act) => setDepartmentTerms(act, fy, code, body));
        return c.json(departmentYearJson(departmentYear), created ? 201 : 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/financial-years/{fy}/contributions',
        tags: ['Fund'],
        summary: "Post every department's top-slice into the fund (all or nothing; running it again posts nothing new)",
        roles: postContributions.roles,
        problems: postContributions.refuses,
        idempotent: true,
        request: { params: FyParam },
        responses: {
          200: jsonContent(ContributionRunSchema, 'Nothing new was posted'),
          201: jsonContent(ContributionRunSchema, 'At least one contribution was posted'),
          404: errorResponses[404],
          409: errorResponses[409],
          422: errorResponses[422],
        },
      }),
      async (c) => {
        const { fy } = c.req.valid('param');
        const { run, fund } = await acting(deps, c, async (act) => {
          const run = await postContributions(act, fy);
          return { run, fund: await fundPosition(act.trx, fy) };
        });
        const line = (l: { departmentCode: string; amountPence: bigint; transferId: string }) => ({
          ...l,
          amountPence: penceToJson(l.amountPence),
        });
        const body = {
          financialYear: run.financialYear,
          posted: run.posted.map(line),
          alreadyPosted: run.alreadyPosted.map(line),
          nothingDue: run.nothingDue,
          fund: fundJson(fund),
        };
        return run.posted.length > 0 ? c.json(body, 201) : c.json(body, 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/fund',
        tags: ['Fund'],
        summary: "The fund's position for a year: contributed, committed, released, available, balance",
        description:
          "Read from the ledger: `balancePence` is the fund account's posted balance and `availablePence` is that less commitments. Each department's contribution is public within the scheme (src/fund/visibility.ts).",
        roles: readFund.roles,
        problems: readFund.refuses,
        request: {
          query: z.object({
            fy: FinancialYearName.optional().openapi({ description: 'Defaults to the current financial year' }),
          }),
        },
        responses: { 200: jsonContent(FundSchema, 'The position'), 404: errorResponses[404] },
      }),
      async (c) => {
        const fy = c.req.valid('query').fy ?? financialYearOf(deps.clock());
        return c.json(fundJson(await readFund({ db, principal: c.get('principal') }, fy)), 200);
      },
    );
}

function fundJson(f: Awaited<ReturnType<typeof fundPosition>>) {
  return {
    financialYear: f.financialYear,
    accountId: f.accountId,
    contributedPence: penceToJson(f.contributedPence),
    otherReceiptsPence: penceToJson(f.otherReceiptsPence),
    committedPence: penceToJson(f.committedPence),
    releasedPence: penceToJson(f.releasedPence),
    balancePence: penceToJson(f.balancePence),
    availablePence: penceToJson(f.availablePence),
    contributions: f.contributions.map((x) => ({ departmentCode: x.departmentCode, amountPence: penceToJson(x.amountPence) })),
  };
}
