import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Handlebars from 'handlebars';
import type { Hono } from 'hono';

/** The interactive reference (Swagger UI, served from our own assets: no CDN) at /docs. */

const require = createRequire(import.meta.url);
const SWAGGER_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

interface OpenApiDoc {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, { summary?: string; description?: string }>>;
}

const TEMPLATES_DIR = join(import.meta.dirname, '..', '..', 'templates');

/** The page: Swagger UI, and below it every route as plain HTML, so it reads without JavaScript too. */
export function docsPage(doc: OpenApiDoc): string {
  const template = Handlebars.compile(readFileSync(join(TEMPLATES_DIR, 'docs.hbs'), 'utf8'));
  const routes = Object.entries(doc.paths ?? {}).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      summary: op.summary ?? '',
      roles: /Roles: (.*)\./.exec(op.description ?? '')?.[1]?.replaceAll('`', '') ?? 'anyone',
    })),
  );
  return template({ title: doc.info.title, routes });
}

// biome-ignore lint/suspicious/noExplicitAny: any app, whatever its variables
export function mountDocs(app: Hono<any>, getDoc: () => OpenApiDoc): void {
  let page: string | undefined;
  app.get('/docs', (c) => {
    page ??= docsPage(getDoc());
    return c.html(page);
  });
  app.get('/docs/assets/:file', (c) => {
    const file = c.req.param('file');
    const type = ASSETS[file];
    if (!type) return c.notFound();
    return c.body(readFileSync(join(SWAGGER_DIR, file)), 200, {
      'content-type': type,
      'cache-control': 'public, max-age=86400',
    });
  });
}
