import type { Database } from '../db/database.ts';
import type { DocumentService } from '../documents/service.ts';
import type { Logger } from '../lib/log.ts';
import type { Principal } from '../users/users.ts';
import type { VerificationRunner } from '../verify/runner.ts';

/** What every handler may use: the database, the logger and the clock (tests move the clock). */
export interface Deps {
  database: Database;
  log: Logger;
  clock: () => Date;
  /** Templates and the PDF renderer; a default one (Chromium at /usr/bin/chromium) when absent. */
  documents?: DocumentService;
  /** How long a token issued through the API lasts (default TOKEN_LIFETIME_DAYS, src/users/token-store.ts). */
  tokenLifetimeDays?: number;
  /** Minutes without a request after which a web session ends (default SESSION_IDLE_MINUTES, src/web/session.ts). */
  sessionIdleMinutes?: number;
  /** The append-only file signed checkpoints of the audit chain are written to (AUDIT_CHECKPOINT_PATH). */
  auditCheckpointPath?: string | null;
  /** Runs verifications of the books in the background for the API and the pages; createApp makes one (src/verify/runner.ts) when absent. */
  verifications?: VerificationRunner;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal;
    /** What an Idempotency-Key replay returns instead of the response, when that holds a secret. */
    replayBody?: string;
    /** The request's parsed JSON body (`{}` when it sent none), checked against the request contract. */
    body?: unknown;
  };
}
