import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Hono } from 'hono';

/*
 * The pages' static files, served from the service itself (no CDN): GOV.UK Frontend's
 * precompiled CSS and JavaScript from the `govuk-frontend` package, and the service's own few.
 * This service is not on GOV.UK, so it may not use the GDS Transport typeface or the crown: the
 * CSS is served with Transport's @font-face rules removed and Arial in its place, as the
 * Design System's own setting for such services does (`$govuk-font-family: arial, sans-serif`),
 * and none of the package's crown images or fonts are served.
 */

const GOVUK = join(dirname(createRequire(import.meta.url).resolve('govuk-frontend/package.json')), 'dist', 'govuk');
const OWN = join(import.meta.dirname, 'assets');

function withoutTransport(css: string): string {
  return css.replace(/@font-face\{font-family:GDS Transport;[^}]*\}/g, '').replace(/font-family:GDS Transport,?/g, 'font-family:');
}

interface Asset {
  body: string;
  type: string;
}

const ASSETS: Record<string, Asset> = {
  '/assets/govuk-frontend.min.css': {
    body: withoutTransport(readFileSync(join(GOVUK, 'govuk-frontend.min.css'), 'utf8')),
    type: 'text/css; charset=utf-8',
  },
  '/assets/govuk-frontend.min.js': {
    body: readFileSync(join(GOVUK, 'govuk-frontend.min.js'), 'utf8'),
    type: 'text/javascript; charset=utf-8',
  },
  '/assets/app/app.css': { body: readFileSync(join(OWN, 'app.css'), 'utf8'), type: 'text/css; charset=utf-8' },
  '/assets/app/init.js': { body: readFileSync(join(OWN, 'init.js'), 'utf8'), type: 'text/javascript; charset=utf-8' },
  '/assets/app/favicon.svg': { body: readFileSync(join(OWN, 'favicon.svg'), 'utf8'), type: 'image/svg+xml' },
};

/** Serves every asset at its path, cacheable for a day. */
export function mountAssets(app: Hono<never>): void {
  for (const [path, asset] of Object.entries(ASSETS)) {
    app.get(path, (c) => c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' }));
  }
  // Browsers ask for /favicon.ico whatever the page says.
  app.get('/favicon.ico', (c) => c.redirect('/assets/app/favicon.svg', 301));
}
