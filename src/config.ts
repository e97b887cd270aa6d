import { z } from 'zod';

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
});

export interface Config {
  port: number;
  host: string;
  database: DatabaseConfig;
  logLevel: LogLevel;
  browserPath: string;
  tokenLifetimeDays: number;
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
  return {
    port: e.PORT,
    host: e.HOST,
    database: e.DATABASE_URL
      ? { engine: 'postgres', url: e.DATABASE_URL, ...(e.DATABASE_SCHEMA ? { schema: e.DATABASE_SCHEMA } : {}) }
      : { engine: 'sqlite', path: e.DATABASE_PATH },
    logLevel: e.LOG_LEVEL,
    browserPath: e.BROWSER_PATH,
    tokenLifetimeDays: e.TOKEN_LIFETIME_DAYS,
  };
}
