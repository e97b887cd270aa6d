import { createRoute, OpenAPIHono, type RouteConfig, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { inTransaction } from '../db/database.ts';
import { type Act, assertRole } from '../lib/operation.ts';
import type { Role } from '../users/users.ts';
import type { AppEnv, Deps } from './context.ts';
import { IDEMPOTENCY_KEY } from './middleware.ts';
import { problemResponse, unknownFields, validationProblem, zodFieldErrors } from './problem.ts';
import { type ProblemName, problemType } from './problems.ts';

/**
 * Every feature's router: one validation hook, so every invalid request gets the same
 * problem+json, and every body is held to the same strict rule: a field the route's schema does
 * not keep is refused with a pointer to it, whether or not the schema was declared strict.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return problemResponse(c, validationProblem(zodFieldErrors(result.error, result.target)));
      if (result.target === 'json') {
        const unknown = unknownFields(c.get('body'), result.data);
        if (unknown.length > 0) return problemResponse(c, validationProblem(unknown));
      }
    },
  });
}

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: '/problems/validation-error' }),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z
      .array(
        z.object({
          pointer: z.string().optional().openapi({ description: 'JSON Pointer into the request body', example: '/baselinePence' }),
          parameter: z.string().optional().openapi({ description: 'Name of the query, path or header parameter' }),
          detail: z.string(),
        }),
      )
      .optional(),
  })
  .openapi('Problem');

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/**
 * Generic error responses for a route that does not list its `problems`. Prefer `problems`: it
 * documents the exact types with examples.
 */
export const errorResponses = {
  404: problem('The thing named in the path does not exist (or is not visible to you).'),
  409: problem('Refused because of the current state (it already exists, it is closed, ...).'),
  422: problem('Well-formed, but breaks a rule (insufficient funds, limits, ...).'),
} as const;

const GENERIC = new Set<unknown>(Object.values(errorResponses));

/** The error responses for a set of problem types: one per status, an example of each type. */
function problemResponses(names: readonly string[]) {
  const byStatus = new Map<number, string[]>();
  for (const name of new Set(names)) {
    const t = problemType(name);
    if (!t) throw new Error(`Unknown problem type ${name}: add it to src/http/problems.ts`);
    byStatus.set(t.status, [...(byStatus.get(t.status) ?? []), name]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, types]) => [
      status,
      {
        description: types.map((n) => `\`${n}\`: ${problemType(n)?.title}.`).join(' '),
        content: {
          'application/problem+json': {
            schema: ProblemSchema,
            examples: Object.fromEntries(
              types.map((n) => {
                const t = problemType(n) as NonNullable<ReturnType<typeof problemType>>;
                return [n, { summary: t.title, value: { type: `/problems/${n}`, title: t.title, status, detail: t.meaning } }];
              }),
            ),
          },
        },
      },
    ]),
  );
}

const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);

/** The problems any route can answer with, from what it takes: the request contract, sign-in, roles. */
function standardProblems(method: string, idempotent: boolean): ProblemName[] {
  const names: ProblemName[] = [
    'validation-error',
    'unauthenticated',
    'token-expired',
    'token-revoked',
    'user-deactivated',
    'forbidden',
    'internal-error',
  ];
  if (BODY_METHODS.has(method)) names.push('malformed-json', 'body-too-large', 'unsupported-media-type');
  if (idempotent) names.push('idempotency-key-reused', 'idempotency-key-in-use');
  return names;
}

/** An action that takes no input: an empty body, or `{}`; anything in it is an unknown field. */
const NoInput = z.strictObject({}).openapi('NoInput', { description: 'This action takes no input: send no body, or `{}`.' });

/** Enforces the route's roles before the handler runs. */
export function requireRole(roles: readonly Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    assertRole(c.get('principal'), roles);
    await next();
  };
}

/**
 * Runs a state-changing request's operations in one transaction, with the request's context built
 * once: who is asking, the request id and the time, read once from the clock.
 */
export function acting<T>(deps: Deps, c: Context<AppEnv>, run: (act: Act) => Promise<T>): Promise<T> {
  const principal = c.get('principal');
  const requestId = c.get('requestId');
  const now = deps.clock();
  return inTransaction(deps.database.db, (trx) => run({ trx, principal, requestId, now }));
}

type ApiRouteConfig = Omit<RouteConfig, 'middleware'> & {
  /** The roles that may call it (an operation's declaration: `roles: op.roles`); documented in the description and enforced. */
  roles: readonly Role[];
  /** Whether it changes state, so it accepts `Idempotency-Key`. */
  idempotent?: boolean;
  /** The named refusals its operation can return (see src/http/problems.ts); the standard ones are added. */
  problems?: readonly ProblemName[];
};

/** An API route: bearer auth, its roles, the standard errors, all documented in OpenAPI. */
export function apiRoute<const R extends ApiRouteConfig>(config: R) {
  const { roles, idempotent, problems, ...route } = config;
  const rolesNote = `Roles: ${roles.map((r) => `\`${r}\``).join(', ')}.`;
  const headers = idempotent
    ? z.object({
        'idempotency-key': z.string().regex(IDEMPOTENCY_KEY).optional().openapi({
          description:
            'Replaying a request with the same key and body returns the first response and changes nothing; the same key with a different body is refused (422). 1 to 255 visible ASCII characters, no comma, sent once.',
        }),
      })
    : undefined;
  return createRoute({
    ...route,
    description: [route.description, rolesNote].filter(Boolean).join('\n\n'),
    security: [{ bearer: [] }],
    middleware: [requireRole(roles)] as const,
    request: {
      ...(route.request ?? {}),
      ...(headers && !route.request?.headers ? { headers } : {}),
      ...(BODY_METHODS.has(route.method) && !route.request?.body
        ? { body: { required: false, description: 'No input.', content: { 'application/json': { schema: NoInput } } } }
        : {}),
    },
    responses: {
      ...(problems ? Object.fromEntries(Object.entries(route.responses).filter(([, r]) => !GENERIC.has(r))) : route.responses),
      ...problemResponses([...standardProblems(route.method, !!idempotent), ...(problems ?? [])]),
    },
  } as unknown as RouteConfig) as unknown as R;
}

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});
