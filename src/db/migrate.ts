import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ColumnDataType, type CreateTableBuilder, type Kysely, type Migration, Migrator, sql } from 'kysely';
import { isPostgres } from './database.ts';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

/** Column types that mean the same on both engines (SQLite STRICT tables accept only a few names). */
export function columnTypes(db: Kysely<unknown>): { int64: ColumnDataType; int32: ColumnDataType; text: ColumnDataType } {
  return isPostgres(db as never)
    ? { int64: 'bigint', int32: 'integer', text: 'text' }
    : { int64: 'integer', int32: 'integer', text: 'text' };
}

/** STRICT on SQLite: a non-STRICT table would silently turn an int64 overflow into a float. */
export function strict<T extends string, C extends string>(db: Kysely<unknown>, table: CreateTableBuilder<T, C>) {
  return isPostgres(db as never) ? table : table.modifyEnd(sql`strict`);
}

async function loadMigrations(dir: string): Promise<Record<string, Migration>> {
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.ts$/.test(f))
    .sort();
  const out: Record<string, Migration> = {};
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as Migration;
    out[file.replace(/\.ts$/, '')] = mod;
  }
  return out;
}

/**
 * Key of the PostgreSQL advisory lock held while the schema changes. The migrator first lists the
 * tables of every schema in the database, and that listing fails if another process alters or drops
 * a table in any schema at the same moment (two instances starting together, or test runs sharing one
 * database, each in its own schema). Anything that changes a schema takes this lock first.
 */
export const SCHEMA_CHANGE_LOCK = 7_402_113_001;

/** Runs every pending migration in `migrations/`. Throws with the failing migration's name. */
// biome-ignore lint/suspicious/noExplicitAny: the migrator works on any schema
export async function migrateToLatest(db: Kysely<any>, options: { schema?: string; dir?: string } = {}): Promise<string[]> {
  const migrations = await loadMigrations(options.dir ?? MIGRATIONS_DIR);
  if (!isPostgres(db as never)) return runMigrator(db, migrations, options.schema);
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${SCHEMA_CHANGE_LOCK})`.execute(conn);
    try {
      return await runMigrator(conn, migrations, options.schema);
    } finally {
      await sql`select pg_advisory_unlock(${SCHEMA_CHANGE_LOCK})`.execute(conn);
    }
  });
}

// biome-ignore lint/suspicious/noExplicitAny: the migrator works on any schema
async function runMigrator(db: Kysely<any>, migrations: Record<string, Migration>, schema: string | undefined): Promise<string[]> {
  // With a schema of its own, the migrator must look for its bookkeeping tables only there.
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${reason}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
