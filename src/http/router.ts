import { createRoute, OpenAPIHono, type RouteConfig, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { forbidden } from '../lib/errors.ts';
import type { Role } from '../users/users.ts';
import type { AppEnv } from './context.ts';
import { problemResponse, validationProblem, zodFieldErrors } from './problem.ts';

/** Every feature's router: one validation hook, so every invalid request gets the same problem+json. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return problemResponse(c, validationProblem(zodFieldErrors(result.error, result.target)));
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

const STANDARD_ERRORS = {
  400: problem('The request is malformed or has invalid fields (see `errors`).'),
  401: problem('No bearer token, or one that is not recognised.'),
  403: problem('The token is valid but its role or organisation may not do this.'),
  415: problem('The body is not `application/json`.'),
  500: problem('An unexpected error; nothing was changed.'),
};

export const errorResponses = {
  404: problem('The thing named in the path does not exist (or is not visible to you).'),
  409: problem('Refused because of the current state (it already exists, it is closed, ...).'),
  422: problem('Well-formed, but breaks a rule (insufficient funds, limits, ...).'),
} as const;

/** Enforces the route's roles before the handler runs. */
export function requireRole(roles: readonly Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const p = c.get('principal');
    if (!roles.includes(p.role)) {
      throw forbidden(`This needs the ${roles.join(' or ')} role; you are signed in as ${p.role}.`);
    }
    await next();
  };
}

type ApiRouteConfig = Omit<RouteConfig, 'middleware'> & {
  /** The roles that may call it; documented in the description and enforced. */
  roles: readonly Role[];
  /** Whether it changes state, so it accepts `Idempotency-Key`. */
  idempotent?: boolean;
};

/** An API route: bearer auth, its roles, the standard errors, all documented in OpenAPI. */
export function apiRoute<const R extends ApiRouteConfig>(config: R) {
  const { roles, idempotent, ...route } = config;
  const rolesNote = `Roles: ${roles.map((r) => `\`${r}\``).join(', ')}.`;
  const headers = idempotent
    ? z.object({
        'idempotency-key': z.string().min(1).max(255).optional().openapi({
          description:
            'Replaying a request with the same key and body returns the first response and changes nothing; the same key with a different body is refused (422).',
        }),
      })
    : undefined;
  return createRoute({
    ...route,
    description: [route.description, rolesNote].filter(Boolean).join('\n\n'),
    security: [{ bearer: [] }],
    middleware: [requireRole(roles)] as const,
    request: { ...(route.request ?? {}), ...(headers && !route.request?.headers ? { headers } : {}) },
    responses: { ...STANDARD_ERRORS, ...route.responses },
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
