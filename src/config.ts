import { z } from 'zod';

/**
 * DEVELOPMENT ONLY. The audit chain's key when AUDIT_KEY is not set: it is public (it is in this
 * file), so a chain keyed with it proves nothing. Refused when NODE_ENV=production.
 */
export const DEVELOPMENT_AUDIT_KEY = 'INSECURE-development-only-audit-key-set-AUDIT_KEY';

/** Everything the process reads from its environment, parsed and checked once at start-up. */
const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL')
    .optional(),
  /** PostgreSQL only: the schema to work in, when not the default (several services on one database). */
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'DATABASE_SCHEMA must be a lower-case SQL name')
    .optional(),
  DATABASE_PATH: z.string().min(1).default('data/topslice.db'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  BROWSER_PATH: z.string().min(1).default('/usr/bin/chromium'),
  /** How long a newly issued token lasts, in days (see src/users/tokens.ts). */
  TOKEN_LIFETIME_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** A web session ends after this many minutes without a request (see src/web/session.ts). */
  SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(1440).default(30),
  AUDIT_KEY: z.string().min(32, 'AUDIT_KEY must be at least 32 characters').default(DEVELOPMENT_AUDIT_KEY),
  AUDIT_CHECKPOINT_PATH: z.string().min(1).optional(),
  NODE_ENV: z.string().optional(),
});

export interface Config {
  port: number;
  host: string;
  database: DatabaseConfig;
  logLevel: LogLevel;
  browserPath: string;
  tokenLifetimeDays: number;
  /** Minutes of inactivity after which a web session ends. */
  sessionIdleMinutes: number;
  /** The secret that keys the audit chain's hashes and signs its checkpoints; never stored in the database. */
  auditKey: string;
  /** True while the public development key is in use (start-up warns). */
  auditKeyIsDevelopment: boolean;
  /** The append-only file signed checkpoints of the audit chain's head are written to. */
  auditCheckpointPath: string;
}

export type LogLevel = z.infer<typeof ConfigSchema>['LOG_LEVEL'];

export type DatabaseConfig = { engine: 'sqlite'; path: string } | { engine: 'postgres'; url: string; schema?: string };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && e.AUDIT_KEY === DEVELOPMENT_AUDIT_KEY) {
    throw new Error('Invalid configuration:\n  AUDIT_KEY: must be set to a secret of your own in production');
  }
  return {
    port: e.PORT,
    host: e.HOST,
    database: e.DATABASE_URL
      ? { engine: 'postgres', url: e.DATABASE_URL, ...(e.DATABASE_SCHEMA ? { schema: e.DATABASE_SCHEMA } : {}) }
      : { engine: 'sqlite', path: e.DATABASE_PATH },
    logLevel: e.LOG_LEVEL,
    browserPath: e.BROWSER_PATH,
    tokenLifetimeDays: e.TOKEN_LIFETIME_DAYS,
    sessionIdleMinutes: e.SESSION_IDLE_MINUTES,
    auditKey: e.AUDIT_KEY,
    auditKeyIsDevelopment: e.AUDIT_KEY === DEVELOPMENT_AUDIT_KEY,
    auditCheckpointPath: e.AUDIT_CHECKPOINT_PATH ?? checkpointPathFor(e.DATABASE_URL, e.DATABASE_SCHEMA, e.DATABASE_PATH),
  };
}

/**
 * Where a database's checkpoints go when AUDIT_CHECKPOINT_PATH is not set: a file of its own, so
 * a checkpoint of one database is never checked against another's chain (which would read as
 * tampering). Beside a SQLite file (`data/demo.db` → `data/demo.db.audit-checkpoints.jsonl`);
 * for PostgreSQL under data/, named by database and schema.
 */
export function checkpointPathFor(url: string | undefined, schema: string | undefined, path: string): string {
  if (!url) return `${path}.audit-checkpoints.jsonl`;
  let name = 'postgres';
  try {
    name = decodeURIComponent(new URL(url).pathname.slice(1)) || name;
  } catch {
    // An unparsable URL fails when the database is opened; the name only labels the file.
  }
  const label = `${name}${schema ? `.${schema}` : ''}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  return `data/audit-checkpoints-${label}.jsonl`;
}
