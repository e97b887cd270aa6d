import { z } from '@hono/zod-openapi';
import type { Deps } from '../http/context.ts';
import { apiRoute, createRouter, errorResponses, jsonContent } from '../http/router.ts';
import { refuse } from '../lib/refusals.ts';
import { getOrganisation, listOrganisations, listPlaces, listThemes, ORGANISATION_KINDS } from '../reference/reference.ts';
import { REFERENCE_REFUSALS } from '../reference/refusals.ts';
import { ROLES } from '../users/users.ts';
import { OrganisationCode } from './schemas.ts';

const OrganisationSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    kind: z.enum(ORGANISATION_KINDS),
    placeCode: z.string().nullable(),
    departmentCode: z.string().nullable().openapi({ description: 'For partner bodies: the department they answer to.' }),
    gssCode: z.string().nullable().openapi({ description: 'ONS GSS code, for councils.' }),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi('Organisation');

const PlaceSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    region: z.string().nullable(),
    councilCodes: z.array(z.string()),
    themeCodes: z.array(z.string()),
  })
  .openapi('Place');

const ThemeSchema = z.object({ code: z.string(), name: z.string(), description: z.string().nullable() }).openapi('Theme');

export function referenceRoutes(deps: Deps) {
  const db = deps.database.db;
  return createRouter()
    .openapi(
      apiRoute({
        method: 'get',
        path: '/organisations',
        tags: ['Reference data'],
        summary: 'List organisations: departments, councils, partner bodies, the fund and the Exchequer',
        roles: ROLES,
        problems: [],
        request: {
          query: z.object({
            kind: z.enum(ORGANISATION_KINDS).optional(),
            place: OrganisationCode.optional().openapi({ description: 'Only organisations in this place' }),
          }),
        },
        responses: { 200: jsonContent(z.array(OrganisationSchema), 'The organisations, by kind then code') },
      }),
      async (c) => {
        const { kind, place } = c.req.valid('query');
        return c.json(await listOrganisations(db, { kind, placeCode: place }), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/organisations/{code}',
        tags: ['Reference data'],
        summary: 'One organisation',
        roles: ROLES,
        problems: ['organisation-not-found'],
        request: { params: z.object({ code: OrganisationCode }) },
        responses: { 200: jsonContent(OrganisationSchema, 'The organisation'), 404: errorResponses[404] },
      }),
      async (c) => {
        const { code } = c.req.valid('param');
        const org = await getOrganisation(db, code);
        if (!org) throw refuse(REFERENCE_REFUSALS, 'organisation-not-found', `There is no organisation with the code ${code}.`);
        return c.json(org, 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/places',
        tags: ['Reference data'],
        summary: 'The Total Place pilot places and their councils',
        roles: ROLES,
        problems: [],
        responses: { 200: jsonContent(z.array(PlaceSchema), 'The places') },
      }),
      async (c) => c.json(await listPlaces(db), 200),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/places/{code}',
        tags: ['Reference data'],
        summary: 'One place',
        roles: ROLES,
        problems: ['place-not-found'],
        request: { params: z.object({ code: OrganisationCode }) },
        responses: { 200: jsonContent(PlaceSchema, 'The place'), 404: errorResponses[404] },
      }),
      async (c) => {
        const { code } = c.req.valid('param');
        const place = (await listPlaces(db)).find((p) => p.code === code);
        if (!place) throw refuse(REFERENCE_REFUSALS, 'place-not-found', `There is no place with the code ${code}.`);
        return c.json(place, 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/themes',
        tags: ['Reference data'],
        summary: 'The Total Place pilot themes cases are filed under',
        roles: ROLES,
        problems: [],
        responses: { 200: jsonContent(z.array(ThemeSchema), 'The themes') },
      }),
      async (c) => c.json(await listThemes(db), 200),
    );
}
