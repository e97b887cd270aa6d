import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  type PostgresDialectConfig,
  PostgresDriver,
  SqliteAdapter,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.ts';
import type { DB } from './schema.ts';

export type Engine = 'sqlite' | 'postgres';
export type Db = Kysely<DB>;
export type Tx = Transaction<DB>;

export interface Database {
  readonly db: Db;
  readonly engine: Engine;
  /** Where it was opened from: another connection to the same database opens from it. */
  readonly config: DatabaseConfig;
  /** PostgreSQL only: the schema every connection works in, when not the default. */
  readonly schema?: string;
  close(): Promise<void>;
}

/**
 * SQLite writers must take the write lock when they begin (`BEGIN IMMEDIATE`): a deferred
 * transaction that reads and then writes can fail with SQLITE_BUSY half-way instead of waiting.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async acquireConnection(): Promise<DatabaseConnection> {
    refuseQueryBesideTransaction(this);
    return super.acquireConnection();
  }
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** SQLite runs DDL inside transactions, so each migration is atomic with its bookkeeping. */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class TopsliceSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  driver: Driver | undefined;
  override createDriver(): Driver {
    this.driver = new ImmediateSqliteDriver(this.#config);
    return this.driver;
  }
  override createAdapter(): SqliteAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/**
 * A query sent to the database itself while the same async flow holds one of its transactions
 * open is a mistake: on SQLite it waits for ever for the one connection the transaction holds,
 * and on PostgreSQL it reads beside the transaction, without its writes or locks. Inside a
 * transaction every query goes through the transaction (`trx`). This makes the mistake an error
 * the first time it runs instead of a hang.
 */
const transactionOpen = new AsyncLocalStorage<Driver>();

function refuseQueryBesideTransaction(driver: Driver): void {
  if (transactionOpen.getStore() === driver) {
    throw new Error('A query was sent to the database, not the open transaction, from inside that transaction: use the transaction.');
  }
}

class GuardedPostgresDriver extends PostgresDriver {
  override async acquireConnection(): Promise<DatabaseConnection> {
    refuseQueryBesideTransaction(this);
    return super.acquireConnection();
  }
}

class TopslicePostgresDialect extends PostgresDialect {
  readonly #config: PostgresDialectConfig;
  constructor(config: PostgresDialectConfig) {
    super(config);
    this.#config = config;
  }
  driver: Driver | undefined;
  override createDriver(): Driver {
    this.driver = new GuardedPostgresDriver(this.#config);
    return this.driver;
  }
}

/** The driver each opened database's queries go through, to mark its transactions with. */
const drivers = new WeakMap<Db, Driver>();

/** Runs a transaction's work marked as inside it, so `refuseQueryBesideTransaction` can see it. */
function executeMarked<T>(db: Db, work: (trx: Tx) => Promise<T>): Promise<T> {
  const driver = drivers.get(db);
  return db.transaction().execute((trx) => (driver ? transactionOpen.run(driver, () => work(trx)) : work(trx)));
}

/** Opens a better-sqlite3 handle with the durability settings a ledger needs (see STACK.md). */
export function openSqliteFile(path: string): BetterSqlite3.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('journal_mode = WAL');
  // Set on every open: this build reopens WAL databases as NORMAL, which can lose commits.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 15000');
  sqlite.pragma('foreign_keys = ON');
  // Every integer comes back as a bigint, so money never passes through a float.
  sqlite.defaultSafeIntegers(true);
  return sqlite;
}

/**
 * Kysely prepares every query afresh; better-sqlite3 statements are reusable, so keep the
 * prepared statement per SQL text. The set of distinct SQL texts is small and fixed by the code.
 */
function withStatementCache(sqlite: BetterSqlite3.Database) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = sqlite.prepare(sql);
        if (cache.size > 2000) cache.clear();
        cache.set(sql, stmt);
      }
      return stmt;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.engine === 'sqlite') {
    const sqlite = openSqliteFile(config.path);
    const dialect = new TopsliceSqliteDialect({ database: withStatementCache(sqlite) });
    const db = new Kysely<DB>({ dialect });
    if (dialect.driver) drivers.set(db, dialect.driver);
    return { db, engine: 'sqlite', config, close: () => db.destroy() };
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: 10,
    ...(config.schema ? { options: `-c search_path=${config.schema}` } : {}),
    types: {
      getTypeParser: (oid: number, format?: string) => {
        if (oid === 20) return (v: string) => BigInt(v); // int8
        // biome-ignore lint/suspicious/noExplicitAny: pg's overloads do not accept a widened format
        return pg.types.getTypeParser(oid, format as any);
      },
    },
  });
  const dialect = new TopslicePostgresDialect({ pool });
  const db = new Kysely<DB>({ dialect });
  if (dialect.driver) drivers.set(db, dialect.driver);
  return { db, engine: 'postgres', config, schema: config.schema, close: () => db.destroy() };
}

/**
 * Runs `work` (which reads through a transaction of its own, on another connection) marked as
 * inside a transaction of `db`: a query sent to `db` itself from inside it is refused, as in
 * `inTransaction`, instead of reading beside the snapshot `work` reads.
 */
export function refusingRootQueries<T>(db: Db, work: () => Promise<T>): Promise<T> {
  const driver = drivers.get(db);
  return driver ? transactionOpen.run(driver, work) : work();
}

export function isPostgres(db: Db | Tx): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * PostgreSQL's codes for a transaction that lost a race and may simply be run again: a
 * serialisation failure, a deadlock, or a unique key another transaction took first (operations
 * look before they insert, so on the retry they see the winner's row and answer accordingly).
 */
const RETRYABLE = new Set(['40001', '40P01', '23505']);

function isRetryable(error: unknown): boolean {
  const e = error as { code?: unknown } | null;
  if (!e || typeof e.code !== 'string') return false;
  return RETRYABLE.has(e.code) || e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_BUSY_SNAPSHOT';
}

/**
 * Runs `work` in one transaction (BEGIN IMMEDIATE on SQLite) and retries it when the engine
 * reports a lost race (deadlock, serialization failure, busy). `work` must be safe to re-run:
 * it must not have effects outside the transaction.
 */
export async function inTransaction<T>(db: Db, work: (trx: Tx) => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await executeMarked(db, work);
    } catch (error) {
      if (attempt >= attempts || !isRetryable(error)) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
    }
  }
}

const ROLLED_BACK = Symbol('rolled back');

/**
 * Runs `work` in a transaction and rolls it back whatever happens: what an operation would do,
 * computed by the operation itself, with nothing kept (a confirmation page's "this will happen").
 */
export async function dryRun<T>(db: Db, work: (trx: Tx) => Promise<T>): Promise<T> {
  let result: { value: T } | null = null;
  try {
    await executeMarked(db, async (trx) => {
      result = { value: await work(trx) };
      throw ROLLED_BACK;
    });
  } catch (error) {
    if (error !== ROLLED_BACK) throw error;
  }
  if (!result) throw new Error('dry run finished without a result');
  return (result as { value: T }).value;
}
