import { z } from '@hono/zod-openapi';
import { inTransaction } from '../db/database.ts';
import type { Deps } from '../http/context.ts';
import { apiRoute, createRouter, jsonBody, jsonContent } from '../http/router.ts';
import { actorOf, createUser, listUsers, ROLES, type User } from '../users/users.ts';
import { OrganisationCode, says } from './schemas.ts';

const UserSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    organisationCode: z.string().nullable(),
    isChair: z.boolean(),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
  })
  .openapi('User');

const NewUserSchema = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1, { error: says('must not be empty') })
      .max(200),
    role: z.enum(ROLES, { error: says(`must be one of ${ROLES.join(', ')}`) }),
    organisationCode: OrganisationCode.optional().openapi({
      description: 'Required for department and council users: the one organisation they act for.',
    }),
    isChair: z.boolean().optional().openapi({ description: 'Panel members only: chairs the panel (may moderate scores).' }),
  })
  .openapi('NewUser');

const userJson = (u: User) => ({
  id: u.userId,
  name: u.name,
  role: u.role,
  organisationCode: u.organisationCode,
  isChair: u.isChair,
  createdAt: u.createdAt,
  createdBy: u.createdBy,
});

export function userRoutes(deps: Deps) {
  const db = deps.database.db;
  return createRouter()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/users',
        tags: ['Users'],
        summary: 'Create a user and issue their token (shown once)',
        roles: ['treasury'],
        problems: [],
        idempotent: true,
        request: { body: jsonBody(NewUserSchema) },
        responses: {
          201: jsonContent(
            UserSchema.extend({
              token: z.string().nullable().openapi({
                description: 'The bearer token. It is not stored and cannot be shown again: an Idempotency-Key replay returns null.',
              }),
            }),
            'The user, with their token',
          ),
        },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const { user, token } = await inTransaction(db, (trx) =>
          createUser(trx, body, actorOf(c.get('principal')), c.get('requestId'), deps.clock()),
        );
        // A token is shown once: a replay of this request returns the user without it.
        c.set('replayBody', JSON.stringify({ ...userJson(user), token: null }));
        return c.json({ ...userJson(user), token }, 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/users',
        tags: ['Users'],
        summary: 'List users (never their tokens)',
        roles: ['treasury', 'auditor'],
        problems: [],
        responses: { 200: jsonContent(z.array(UserSchema), 'The users') },
      }),
      async (c) => c.json((await listUsers(db)).map(userJson), 200),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/me',
        tags: ['Users'],
        summary: 'Who the token belongs to',
        roles: ROLES,
        problems: [],
        responses: { 200: jsonContent(UserSchema.omit({ createdAt: true, createdBy: true }), 'The signed-in user') },
      }),
      async (c) => {
        const p = c.get('principal');
        return c.json({ id: p.userId, name: p.name, role: p.role, organisationCode: p.organisationCode, isChair: p.isChair }, 200);
      },
    );
}
