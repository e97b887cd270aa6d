import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Handlebars from 'handlebars';
import type { Hono } from 'hono';
import { PROBLEM_TYPES, problemType } from './problems.ts';

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
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!type) return c.notFound();
    return c.body(readFileSync(join(SWAGGER_DIR, file)), 200, {
      'content-type': type,
      'cache-control': 'public, max-age=86400',
    });
  });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
/** `code` spans in the catalogue's plain text. */
const inline = (s: string) => escapeHtml(s).replace(/`([^`]+)`/g, '<code>$1</code>');

/** /problems/<name>: what each problem type means and what to do, and /problems lists them all. */
// biome-ignore lint/suspicious/noExplicitAny: any app, whatever its variables
export function mountProblemPages(app: Hono<any>): void {
  const page = (title: string, body: string) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} – topslice</title></head><body><main>${body}<p><a href="/problems">Every problem type</a> · <a href="/docs">The API</a></p></main></body></html>`;
  app.get('/problems', (c) =>
    c.html(
      page(
        'Problem types',
        `<h1>Problem types</h1><p>Every error from the API is <code>application/problem+json</code> with one of these types.</p><dl>${Object.entries(
          PROBLEM_TYPES,
        )
          .map(([name, t]) => `<dt><a href="/problems/${name}">${name}</a> (${t.status})</dt><dd>${inline(t.title)}</dd>`)
          .join('')}</dl>`,
      ),
    ),
  );
  app.get('/problems/:name', (c) => {
    const name = c.req.param('name');
    const t = problemType(name);
    if (!t) return c.notFound();
    return c.html(
      page(
        t.title,
        `<h1>${inline(t.title)}</h1><p>Type <code>/problems/${escapeHtml(name)}</code>, HTTP status ${t.status}.</p><h2>What it means</h2><p>${inline(t.meaning)}</p><h2>What to do</h2><p>${inline(t.action)}</p>`,
      ),
    );
  });
}
