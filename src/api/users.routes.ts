import { z } from '@hono/zod-openapi';
import type { Deps } from '../http/context.ts';
import { acting, apiRoute, createRouter, jsonBody, jsonContent } from '../http/router.ts';
import { addUser, approveUserRequest, listUserRequests, type UserRequest } from '../users/requests.ts';
import { listUsers, ROLES, type User } from '../users/users.ts';
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

const UserRequestSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    isChair: z.boolean(),
    requestedBy: z.string(),
    requestedAt: z.string(),
    status: z.enum(['awaiting-approval', 'approved']),
    approvedBy: z.string().nullable(),
    approvedAt: z.string().nullable(),
    userId: z.string().nullable().openapi({ description: 'The account, once a second treasury user approved it.' }),
  })
  .openapi('UserRequest');

const requestJson = (r: UserRequest) => ({ ...r });

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
        summary: 'Create a user and issue their token (shown once); treasury and panel accounts wait for a second treasury user',
        description:
          'Department, council and auditor accounts are created at once (201, with the token). A treasury or panel account is only requested (202): it exists, and its token is issued to the approver, when a different treasury user approves it with POST /user-requests/{id}/approve.',
        roles: addUser.roles,
        problems: addUser.refuses,
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
          202: jsonContent(UserRequestSchema, 'A treasury or panel account, awaiting a second treasury user’s approval'),
        },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const added = await acting(deps, c, (act) => addUser(act, body, deps.tokenLifetimeDays));
        if ('requested' in added) return c.json(requestJson(added.requested), 202);
        const { user, token } = added;
        // A token is shown once: a replay of this request returns the user without it.
        c.set('replayBody', JSON.stringify({ ...userJson(user), token: null }));
        return c.json({ ...userJson(user), token }, 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/user-requests',
        tags: ['Users'],
        summary: 'Treasury and panel accounts asked for, and who approved them',
        roles: ['treasury', 'auditor'],
        problems: [],
        responses: { 200: jsonContent(z.array(UserRequestSchema), 'The requests, oldest first') },
      }),
      async (c) => c.json((await listUserRequests(db)).map(requestJson), 200),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/user-requests/{id}/approve',
        tags: ['Users'],
        summary: 'A second treasury user approves a treasury or panel account; its token is returned once',
        description: 'Refused (403 `second-treasury-user-needed`) to the treasury user who asked for it; 409 once decided.',
        roles: approveUserRequest.roles,
        problems: approveUserRequest.refuses,
        idempotent: true,
        request: { params: z.object({ id: z.string().max(100) }) },
        responses: {
          201: jsonContent(
            UserSchema.extend({
              token: z.string().nullable().openapi({ description: 'The new user’s bearer token, shown once (null on a replay).' }),
            }),
            'The new user, with their token',
          ),
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const { user, token } = await acting(deps, c, (act) => approveUserRequest(act, id));
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
