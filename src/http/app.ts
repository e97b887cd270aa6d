import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { benefitRoutes } from '../api/benefits.routes.ts';
import { caseRoutes } from '../api/cases.routes.ts';
import { creditRoutes } from '../api/credits.routes.ts';
import { disposalRoutes } from '../api/disposals.routes.ts';
import { documentRoutes } from '../api/documents.routes.ts';
import { fundRoutes } from '../api/fund.routes.ts';
import { ledgerRoutes } from '../api/ledger.routes.ts';
import { openDataRoutes } from '../api/open-data.routes.ts';
import { panelRoutes } from '../api/panel.routes.ts';
import { reappraisalRoutes } from '../api/reappraisal.routes.ts';
import { referenceRoutes } from '../api/reference.routes.ts';
import { releaseRoutes } from '../api/releases.routes.ts';
import { roundRoutes } from '../api/rounds.routes.ts';
import { tokenRoutes } from '../api/tokens.routes.ts';
import { userRoutes } from '../api/users.routes.ts';
import { verificationRoutes } from '../api/verifications.routes.ts';
import { createDocumentService } from '../documents/service.ts';
import { createVerificationRunner } from '../verify/runner.ts';
import { isPagePath, mountPages, pageError, pageNotFound } from '../web/app.ts';
import { mountAssets } from '../web/assets.ts';
import { SECTIONS } from '../web/sections.ts';
import type { AppEnv, Deps } from './context.ts';
import { mountDocs, mountProblemPages } from './docs.ts';
import { idempotency, requestContext, requireAuthentication } from './middleware.ts';
import { handleError, problemResponse } from './problem.ts';
import { bodyLimit, requestContract } from './request-contract.ts';

export const API_VERSION = '0.1.0';

/** The whole HTTP service. Everything it needs comes in `deps`, so tests build it on any database. */
export function createApp(deps: Deps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();

  app.use('*', requestContext(deps));
  app.use('/api/*', bodyLimit());
  app.use('/api/v1/*', requireAuthentication(deps));
  app.use('/api/v1/*', requestContract());
  app.use('/api/v1/*', idempotency(deps));

  app.get('/healthz', async (c) => {
    const db = deps.database;
    await db.db.selectFrom('audit_head').select('id').executeTakeFirst();
    return c.json({ status: 'ok', engine: db.engine });
  });

  // Compiled here, at start-up: a broken template stops the service before it serves anything.
  const documents = deps.documents ?? createDocumentService({ log: deps.log });
  // One runner for the API and the pages, so a check started on either is the one both follow.
  const verifications =
    deps.verifications ??
    createVerificationRunner({
      database: deps.database,
      clock: deps.clock,
      log: deps.log,
      checkpointPath: deps.auditCheckpointPath ?? null,
    });

  const api = new OpenAPIHono<AppEnv>();
  api.route('/', userRoutes(deps));
  api.route('/', referenceRoutes(deps));
  api.route('/', fundRoutes(deps));
  api.route('/', ledgerRoutes(deps));
  api.route('/', verificationRoutes(deps, verifications));
  api.route('/', roundRoutes(deps));
  api.route('/', caseRoutes(deps));
  api.route('/', panelRoutes(deps));
  api.route('/', releaseRoutes(deps));
  api.route('/', benefitRoutes(deps));
  api.route('/', reappraisalRoutes(deps));
  api.route('/', documentRoutes(deps, documents));
  api.route('/', creditRoutes(deps));
  api.route('/', disposalRoutes(deps));
  api.route('/', tokenRoutes(deps));
  api.route('/', openDataRoutes(deps));
  app.route('/api/v1', api);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A token from `npm run cli -- bootstrap` (the first treasury user) or `POST /api/v1/users`.',
  });
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'topslice',
      version: API_VERSION,
      description:
        'A top-sliced, cross-departmental prevention fund. Money is integer pence in fields ending `Pence`; rates are basis points. Errors are RFC 9457 `application/problem+json`. State-changing requests accept `Idempotency-Key`.',
    },
  };
  app.doc31('/openapi.json', document);
  mountProblemPages(app);
  mountDocs(app, () => app.getOpenAPI31Document(document) as never);
  mountAssets(app as never);
  mountPages(app as never, { ...deps, documents, verifications }, SECTIONS);

  app.notFound((c) => (isPagePath(c.req.path) ? pageNotFound(c) : notFoundOrWrongMethod(app, c)));
  app.onError((error, c) => (isPagePath(c.req.path) ? pageError(error, c, deps.log) : handleError(error, c, deps.log)));
  return app;
}

/** 405 with `Allow` when the path exists under another method; 404 otherwise. Both problem+json. */
function notFoundOrWrongMethod(app: OpenAPIHono<AppEnv>, c: Context): Response {
  const allowed = new Set<string>();
  for (const r of app.routes) {
    if (r.method === 'ALL' || r.method === c.req.method) continue;
    const pattern = new RegExp(`^${r.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+')}$`);
    if (pattern.test(c.req.path)) allowed.add(r.method);
  }
  if (allowed.size > 0) {
    return problemResponse(
      c,
      {
        type: 'method-not-allowed',
        title: 'Method not allowed',
        status: 405,
        detail: `${c.req.method} is not supported here. Use ${[...allowed].join(', ')}.`,
      },
      { allow: [...allowed].join(', ') },
    );
  }
  return problemResponse(c, {
    type: 'not-found',
    title: 'Not found',
    status: 404,
    detail: `There is nothing at ${c.req.path}. The API is under /api/v1; see /docs.`,
  });
}
