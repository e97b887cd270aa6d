import type { Socket } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { configureAuditKey } from './audit/audit.ts';
import { type Config, loadConfig } from './config.ts';
import { inTransaction } from './db/database.ts';
import { prepareDatabase } from './db/prepare.ts';
import { createDocumentService } from './documents/service.ts';
import { createApp } from './http/app.ts';
import { malformedRequestResponse } from './http/problem.ts';
import { createLogger } from './lib/log.ts';
import { createVerificationRunner } from './verify/runner.ts';
import { endInterrupted } from './verify/verifications.ts';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the API on the configured port; `close` closes the PDF browser at once (a render in flight answers 503), stops taking requests, lets in-flight ones finish, then closes the database. */
export async function startServer(config = loadConfig()): Promise<RunningServer> {
  const log = createLogger(config.logLevel);
  configureAuditKey(config.auditKey);
  if (config.auditKeyIsDevelopment) log.warn('AUDIT_KEY is not set: the audit chain is keyed with the public development key');
  const database = await prepareDatabase(config.database);
  const documents = createDocumentService({ browserPath: config.browserPath, log });
  // A verification left running by a service that stopped is over: recorded as interrupted.
  const interrupted = await inTransaction(database.db, (trx) => endInterrupted(trx, new Date()));
  if (interrupted > 0) log.warn('verifications interrupted when the service last stopped', { count: interrupted });
  const verifications = createVerificationRunner({ database, clock: () => new Date(), log, checkpointPath: config.auditCheckpointPath });
  const app = createApp({
    database,
    log,
    clock: () => new Date(),
    documents,
    tokenLifetimeDays: config.tokenLifetimeDays,
    sessionIdleMinutes: config.sessionIdleMinutes,
    auditCheckpointPath: config.auditCheckpointPath,
    verifications,
  });
  let server: ServerType;
  try {
    server = await new Promise((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
      s.once('error', reject);
    });
  } catch (error) {
    await database.close();
    throw listenError(error, config);
  }
  // A request Node's parser refuses (a control character in a header, headers too large) still gets problem+json.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    socket.end(malformedRequestResponse(error.code));
  });
  const users = await database.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (!users) {
    log.warn('no users yet', {
      hint: 'This database has no users. Create the first treasury user and its token with: npm run cli -- bootstrap',
    });
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  log.info('listening', { url, engine: database.engine });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        // The browser goes first: a render still running would hold the server open past the
        // shutdown deadline, and the browser would outlive the service. Its request gets 503.
        const rendererClosed = documents.renderer.close();
        // Verifications still running stop and are recorded as errors before the database closes.
        const verificationsStopped = verifications.close();
        server.close(() => {
          Promise.allSettled([rendererClosed, verificationsStopped.then(() => database.close())]).then(() => resolve());
        });
        // Idle keep-alive connections would hold close() open.
        (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      }),
  };
}

/** Start-up failures an operator can fix, as one plain line. */
export class StartupError extends Error {}

function listenError(error: unknown, config: Config): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE')
    return new StartupError(`Port ${config.port} on ${config.host} is already in use. Set PORT to a free port (PORT=0 picks one).`);
  if (code === 'EACCES')
    return new StartupError(`Port ${config.port} on ${config.host} needs privileges this process lacks. Set PORT to 1024 or above.`);
  if (code === 'EADDRNOTAVAIL')
    return new StartupError(`HOST ${config.host} is not an address of this machine. Set HOST (default 127.0.0.1).`);
  return error instanceof Error ? error : new Error(String(error));
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
  try {
    const server = await startServer();
    closeOnSignals(server);
  } catch (error) {
    if (!(error instanceof StartupError) && !/^Invalid configuration/.test((error as Error).message)) throw error;
    console.error((error as Error).message);
    process.exit(1);
  }
}
