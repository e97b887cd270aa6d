import { z } from '@hono/zod-openapi';
import { DISPOSAL_READERS, placeDisposals, recordDisposal, setDisposalTarget } from '../disposals/disposals.ts';
import { financialYearOf } from '../fund/fund.ts';
import type { Deps } from '../http/context.ts';
import { acting, apiRoute, createRouter, errorResponses, jsonBody, jsonContent } from '../http/router.ts';
import { toJson } from '../lib/money.ts';
import { FinancialYearName, IsoDate, OrganisationCode, Pence, PenceInput, says } from './schemas.ts';

const READERS = DISPOSAL_READERS;
const PlaceParam = z.object({
  code: z.string().regex(/^[A-Z0-9][A-Z0-9-]{0,63}$/, { error: says('must be a place code such as BRADFORD') }),
});

const DisposalSchema = z
  .object({
    id: z.string(),
    placeCode: z.string(),
    financialYear: z.string(),
    departmentCode: z.string(),
    asset: z.string(),
    receiptPence: Pence,
    disposedOn: z.string(),
    recordedBy: z.string(),
    recordedAt: z.string(),
  })
  .openapi('Disposal');

const PlaceDisposalsSchema = z
  .object({
    placeCode: z.string(),
    financialYear: z.string(),
    pooledTargetPence: Pence.openapi({ description: "Σ the departments' targets at this place" }),
    receiptsPence: Pence,
    met: z.boolean().openapi({ description: 'receipts ≥ pooled target (and a target is set)' }),
    departments: z.array(z.object({ departmentCode: z.string(), targetPence: Pence, receiptsPence: Pence })),
    disposals: z.array(DisposalSchema),
  })
  .openapi('PlaceDisposals');

export function disposalRoutes(deps: Deps) {
  const db = deps.database.db;
  return createRouter()
    .openapi(
      apiRoute({
        method: 'put',
        path: '/places/{code}/disposal-targets',
        tags: ['Asset disposals'],
        summary: "Set a department's capital-receipts target at a place for a year",
        roles: setDisposalTarget.roles,
        problems: setDisposalTarget.refuses,
        idempotent: true,
        request: {
          params: PlaceParam,
          body: jsonBody(
            z
              .strictObject({ financialYear: FinancialYearName, departmentCode: OrganisationCode, targetPence: PenceInput })
              .openapi('DisposalTargetInput'),
          ),
        },
        responses: {
          200: jsonContent(PlaceDisposalsSchema, "The place's pooled position"),
          404: errorResponses[404],
          422: errorResponses[422],
        },
      }),
      async (c) => {
        const { code } = c.req.valid('param');
        const body = c.req.valid('json');
        const place = await acting(deps, c, async (act) => {
          await setDisposalTarget(act, code, body);
          return placeDisposals(act.trx, code, body.financialYear);
        });
        return c.json(toJson(place), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/places/{code}/disposals',
        tags: ['Asset disposals'],
        summary: 'Record a disposal your department made at a place (its year is the financial year of its date)',
        roles: recordDisposal.roles,
        problems: recordDisposal.refuses,
        idempotent: true,
        request: {
          params: PlaceParam,
          body: jsonBody(
            z
              .strictObject({
                asset: z
                  .string()
                  .trim()
                  .min(1, { error: says('must not be empty') })
                  .max(500),
                receiptPence: PenceInput,
                disposedOn: IsoDate,
              })
              .openapi('DisposalInput'),
          ),
        },
        responses: { 201: jsonContent(DisposalSchema, 'Recorded'), 404: errorResponses[404], 422: errorResponses[422] },
      }),
      async (c) => {
        const { code } = c.req.valid('param');
        const body = c.req.valid('json');
        const d = await acting(deps, c, (act) => recordDisposal(act, code, body));
        return c.json(toJson(d), 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/places/{code}/disposals',
        tags: ['Asset disposals'],
        summary: "A place's pooled disposal target, receipts to date, whether it is met, and each department's part",
        roles: READERS,
        problems: ['place-not-found'],
        request: {
          params: PlaceParam,
          query: z.object({ fy: FinancialYearName.optional().openapi({ description: 'Defaults to the current year' }) }),
        },
        responses: { 200: jsonContent(PlaceDisposalsSchema, 'The position'), 404: errorResponses[404] },
      }),
      async (c) => {
        const { code } = c.req.valid('param');
        const fy = c.req.valid('query').fy ?? financialYearOf(deps.clock());
        return c.json(toJson(await placeDisposals(db, code, fy)), 200);
      },
    );
}
