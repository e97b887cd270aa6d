import { z } from '@hono/zod-openapi';
import { grantsCsv, grantsPackage } from '../exports/grants.ts';
import { registerCsv } from '../exports/register.ts';
import { tradesCsv } from '../exports/trades.ts';
import type { Deps } from '../http/context.ts';
import { apiRoute, createRouter, jsonContent } from '../http/router.ts';
import { readTrades } from '../market/trades.ts';
import { ROLES } from '../users/users.ts';
import { BenefitsFilterQuery, FinancialYearName } from './schemas.ts';

const Organisation = z.object({ id: z.string(), name: z.string() });

const GrantSchema = z
  .object({
    id: z.string().openapi({ example: '360G-topslice-TP-2026-27-001' }),
    title: z.string(),
    description: z.string(),
    currency: z.literal('GBP'),
    amountAppliedFor: z
      .number()
      .openapi({ description: 'Pounds (the 360Giving standard takes pounds): what the case asked of the fund, exact to the penny' }),
    amountAwarded: z.number().openapi({ description: 'Pounds: the amount the panel approved, exact to the penny' }),
    amountDisbursed: z.number().openapi({ description: 'Pounds: released so far, less anything clawed back' }),
    awardDate: z.string().openapi({ example: '2026-07-14' }),
    recipientOrganization: z.array(Organisation),
    fundingOrganization: z.array(Organisation),
    grantProgramme: z.array(z.object({ code: z.string(), title: z.string() })),
    beneficiaryLocation: z.array(z.object({ name: z.string() })),
  })
  .openapi('Grant360');

const PackageSchema = z
  .object({
    version: z.literal('1.4'),
    title: z.string(),
    description: z.string(),
    issued: z.string(),
    grants: z.array(GrantSchema),
  })
  .openapi('GrantsPackage360', {
    description: 'A 360Giving Data Standard (1.4) grants package: every award of the year. See https://standard.threesixtygiving.org/.',
  });

const FyParam = z.object({ fy: FinancialYearName });

/** Open data: the year's awards in the 360Giving Data Standard, as JSON and as its flat CSV. */
export function openDataRoutes(deps: Deps) {
  const db = deps.database.db;
  return createRouter()
    .openapi(
      apiRoute({
        method: 'get',
        path: '/open-data/{fy}/grants.json',
        tags: ['Open data'],
        summary: "The year's awards as a 360Giving grants package (JSON)",
        description:
          'Every case the panel approved in the rounds of the year, with the amount approved, its award date and what has been released. Amounts are pounds, as the standard requires, written exactly from integer pence.',
        roles: ROLES,
        problems: ['financial-year-not-found'],
        request: { params: FyParam },
        responses: { 200: jsonContent(PackageSchema, 'The grants package') },
      }),
      async (c) => c.json(await grantsPackage(db, c.req.valid('param').fy, deps.clock()), 200),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/open-data/{fy}/grants.csv',
        tags: ['Open data'],
        summary: "The year's awards as 360Giving's flat CSV",
        description: 'The same grants as the JSON package, one row each, with the column titles of the 360Giving spreadsheet template.',
        roles: ROLES,
        problems: ['financial-year-not-found'],
        request: { params: FyParam },
        responses: { 200: { description: 'The grants, as CSV (UTF-8)', content: { 'text/csv': { schema: z.string() } } } },
      }),
      async (c) => {
        const fy = c.req.valid('param').fy;
        return c.body(await grantsCsv(db, fy), 200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="grants-360giving-${fy}.csv"`,
        });
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/open-data/benefits.csv',
        tags: ['Open data'],
        summary: 'The benefits register as CSV: forecast against claimed and verified, by case, line and year',
        description:
          'Every row `GET /benefits` gives you for the same filters, in the same order (departments see the benefits attributed to them; councils their own cases’). Money columns are pounds, written exactly from pence.',
        roles: ROLES,
        problems: [],
        request: { query: BenefitsFilterQuery },
        responses: { 200: { description: 'The register, as CSV (UTF-8)', content: { 'text/csv': { schema: z.string() } } } },
      }),
      async (c) => {
        const q = c.req.valid('query');
        const csv = await registerCsv(
          db,
          c.get('principal'),
          { fy: q.fy, department: q.department, place: q.place, theme: q.theme, caseId: q.case },
          deps.clock().toISOString().slice(0, 10),
        );
        return c.body(csv, 200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="benefits-register${q.fy ? `-${q.fy}` : ''}.csv"`,
        });
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/open-data/trades.csv',
        tags: ['Open data'],
        summary: "A year's credit trades as CSV: vintage, seller, buyer, quantity, price and value",
        description:
          'Every trade `GET /credits/trades` gives you for the year, oldest first (a department sees the trades it bought or sold). Prices and values are pounds, written exactly from pence; quantities whole credits.',
        roles: readTrades.roles,
        problems: readTrades.refuses,
        request: { query: z.object({ fy: FinancialYearName }) },
        responses: { 200: { description: 'The trades, as CSV (UTF-8)', content: { 'text/csv': { schema: z.string() } } } },
      }),
      async (c) => {
        const { fy } = c.req.valid('query');
        return c.body(await tradesCsv({ db, principal: c.get('principal') }, fy), 200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="credit-trades-${fy}.csv"`,
        });
      },
    );
}
