import type { Database } from '../db/database.ts';
import type { Logger } from '../lib/log.ts';
import type { Principal } from '../users/users.ts';

/** What every handler may use: the database, the logger and the clock (tests move the clock). */
export interface Deps {
  database: Database;
  log: Logger;
  clock: () => Date;
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
