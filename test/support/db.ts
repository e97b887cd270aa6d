import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/database.ts';
import { SCHEMA_CHANGE_LOCK } from '../../src/db/migrate.ts';
import { prepareDatabase } from '../../src/db/prepare.ts';

export type EngineName = 'sqlite' | 'postgres';

/** SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (as .ci/run does). */
export function engines(): EngineName[] {
  return process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

export interface TestDatabase {
  database: Database;
  config: DatabaseConfig;
  /** Drops the schema or deletes the file. */
  destroy(): Promise<void>;
}

/** A fresh, migrated database with reference data: a temp file, or a new schema on PostgreSQL. */
export async function freshDatabase(engine: EngineName): Promise<TestDatabase> {
  const config = await freshConfig(engine);
  const database = await prepareDatabase(config.config);
  return {
    database,
    config: config.config,
    destroy: async () => {
      await database.close();
      await config.drop();
    },
  };
}

/** A database location nobody has used yet, and how to remove it. */
export async function freshConfig(engine: EngineName): Promise<{ config: DatabaseConfig; drop(): Promise<void> }> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'topslice-test-'));
    return { config: { engine: 'sqlite', path: join(dir, 'test.db') }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set');
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await adminQuery(url, `create schema ${schema}`);
  return {
    config: { engine: 'postgres', url, schema },
    drop: () => adminQuery(url, `drop schema if exists ${schema} cascade`),
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Dropping a schema while another run's migrator lists the tables would break that listing.
    await client.query('select pg_advisory_lock($1)', [SCHEMA_CHANGE_LOCK]);
    await client.query(sql);
  } finally {
    await client.end();
  }
}
