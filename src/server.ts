import { type ServerType, serve } from '@hono/node-server';
import { configureAuditKey } from './audit/audit.ts';
import { loadConfig } from './config.ts';
import { prepareDatabase } from './db/prepare.ts';
import { createDocumentService } from './documents/service.ts';
import { createApp } from './http/app.ts';
import { createLogger } from './lib/log.ts';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the API on the configured port; `close` stops taking requests, lets in-flight ones finish, then closes the database. */
export async function startServer(config = loadConfig()): Promise<RunningServer> {
  const log = createLogger(config.logLevel);
  configureAuditKey(config.auditKey);
  if (config.auditKeyIsDevelopment) log.warn('AUDIT_KEY is not set: the audit chain is keyed with the public development key');
  const database = await prepareDatabase(config.database);
  const documents = createDocumentService({ browserPath: config.browserPath, log });
  const app = createApp({
    database,
    log,
    clock: () => new Date(),
    documents,
    tokenLifetimeDays: config.tokenLifetimeDays,
    auditCheckpointPath: config.auditCheckpointPath,
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  log.info('listening', { url, engine: database.engine });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          Promise.allSettled([documents.renderer.close(), database.close()]).then(() => resolve());
        });
        // Idle keep-alive connections would hold close() open.
        (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      }),
  };
}

export function closeOnSignals(server: RunningServer, log = createLogger('info')): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info('shutting down', { signal });
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await startServer();
  closeOnSignals(server);
}
