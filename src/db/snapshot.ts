import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { DatabaseConfig } from '../config.ts';
import { type Database, type Db, isPostgres, openDatabase, refusingRootQueries, type Tx } from './database.ts';
import type { DB } from './schema.ts';

/*
 * A read of one consistent snapshot: every query of `work` sees the database as it was at the
 * snapshot's first read, whatever commits meanwhile, and no writer waits for it.
 *   - PostgreSQL: a pooled connection in one REPEATABLE READ READ ONLY transaction.
 *   - SQLite: a read-only connection of its own in one (deferred) read transaction; in WAL mode
 *     writers carry on beside it. Not the service's own connection: Kysely's SQLite driver has
 *     one connection behind a mutex, so a long read there would queue every writer behind it, and
 *     its transactions begin IMMEDIATE (the write lock).
 * While it lasts, the WAL (SQLite) or the row versions (PostgreSQL) it may still need are kept,
 * so a snapshot that lasts minutes holds back checkpointing and vacuum for those minutes.
 */

/** A read-only better-sqlite3 connection with the settings reads need (bigints, a busy timeout). */
export function openSqliteReader(path: string): Db {
  const sqlite = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  sqlite.pragma('busy_timeout = 15000');
  sqlite.defaultSafeIntegers(true);
  return new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
}

/** Runs `work` on one snapshot of `database`, beside the service's own connection. */
export async function inReadSnapshot<T>(database: Database, work: (trx: Tx) => Promise<T>): Promise<T> {
  if (database.engine === 'postgres') {
    const { db } = database;
    return db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute((trx) => refusingRootQueries(db, () => work(trx)));
  }
  const config = database.config;
  if (config.engine !== 'sqlite') throw new Error('a SQLite database opened from a PostgreSQL configuration');
  // An in-memory database has no second connection: its own transaction is its only snapshot.
  if (config.path === ':memory:') return database.db.transaction().execute(work);
  const reader = openSqliteReader(config.path);
  try {
    return await reader.transaction().execute((trx) => refusingRootQueries(database.db, () => work(trx)));
  } finally {
    await reader.destroy();
  }
}

/**
 * Runs `work` on one snapshot of the database `config` names, opening only what the read needs
 * (on SQLite, the read-only connection alone) and closing it after: for a process or thread
 * that does not hold the database open itself.
 */
export async function inReadSnapshotOf<T>(config: DatabaseConfig, work: (trx: Tx) => Promise<T>): Promise<T> {
  if (config.engine === 'sqlite') {
    const reader = openSqliteReader(config.path);
    try {
      return await reader.transaction().execute(work);
    } finally {
      await reader.destroy();
    }
  }
  const database = await openDatabase(config);
  try {
    return await inReadSnapshot(database, work);
  } finally {
    await database.close();
  }
}

/**
 * Runs a few short reads that must agree with each other (a page of rows and the totals beside
 * it) as one: within `db` when it is a transaction already; else in a transaction of their own —
 * on PostgreSQL REPEATABLE READ READ ONLY (one snapshot); on SQLite on the service's connection,
 * where no other request's statement runs until it ends (it holds the write lock for those few
 * milliseconds).
 */
export function readTogether<T>(db: Db | Tx, work: (trx: Tx) => Promise<T>): Promise<T> {
  if (db.isTransaction) return work(db as Tx);
  if (isPostgres(db)) return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(work);
  return db.transaction().execute(work);
}
