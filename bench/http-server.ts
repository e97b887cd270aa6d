import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { openDatabase } from '../src/db/database.ts';
import { createApp } from '../src/http/app.ts';
import { createLogger } from '../src/lib/log.ts';

/**
 * A server for the HTTP benchmark, in its own process so the load generator does not share its
 * event loop: `topslice <sqlite path>` serves the real app on a prepared database; `bare` serves
 * a plain Hono JSON route, the baseline. Either also answers GET /bench/cpu-usage.
 */
const [mode, path] = process.argv.slice(2);
let fetch: (req: Request) => Response | Promise<Response>;
if (mode === 'bare') {
  const app = new Hono();
  app.get('/api/v1/fund', (c) => c.json({ contributedPence: 1, committedPence: 0, releasedPence: 0, availablePence: 1, balancePence: 1 }));
  fetch = app.fetch;
} else {
  const database = await openDatabase({ engine: 'sqlite', path: path as string });
  fetch = createApp({ database, log: createLogger('silent'), clock: () => new Date('2026-06-01T09:00:00Z') }).fetch;
}
// The server's own CPU time so far (user + system, µs), so a benchmark can set work against the
// CPU it took rather than the wall clock a busy machine stretches.
const served = fetch;
fetch = (req) => (new URL(req.url).pathname === '/bench/cpu-usage' ? Response.json(process.cpuUsage()) : served(req));
const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`${info.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
