import type { Compilable, CompiledQuery, QueryResult, RawBuilder } from 'kysely';
import { type Db, isPostgres, type Tx } from './database.ts';

/*
 * Kysely builds and compiles every query afresh: tens of microseconds for a wide insert, which
 * is a third of a durable ledger commit. The ledger's hot statements have a fixed shape, so
 * `prepared` compiles each shape once per engine, with placeholder values standing in for the
 * arguments, notes which argument each SQL parameter came from, and on later calls only binds
 * the new values. A shape is the statement plus the lengths of any arrays among its arguments.
 */

type Path = (string | number)[];
type Slot = { kind: 'arg'; path: Path } | { kind: 'constant'; value: unknown };

const MARK = '\u0000prepared-argument:';

function stand(value: unknown, path: Path, marks: Map<string, Path>): unknown {
  if (Array.isArray(value)) return value.map((v, i) => stand(v, [...path, i], marks));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stand(v, [...path, k], marks)]));
  }
  const mark = `${MARK}${marks.size}`;
  marks.set(mark, path);
  return mark;
}

function shapeOf(value: unknown): string {
  if (Array.isArray(value)) return `[${value.length}:${value.map(shapeOf).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}:${shapeOf(v)}`)
      .join(',')}}`;
  return '';
}

function at(args: unknown, path: Path): unknown {
  // biome-ignore lint/suspicious/noExplicitAny: walking a path through plain data
  return path.reduce<any>((v, k) => v?.[k], args);
}

export function prepared<A extends unknown[], R>(
  build: (db: Db | Tx, ...args: A) => Compilable<R> | RawBuilder<R>,
): (db: Db | Tx, ...args: A) => Promise<QueryResult<R>> {
  const cache = new Map<string, { query: CompiledQuery<R>; slots: Slot[] }>();
  return (db, ...args) => {
    const key = `${isPostgres(db) ? 'pg' : 'sqlite'}${shapeOf(args)}`;
    let entry = cache.get(key);
    if (!entry) {
      const marks = new Map<string, Path>();
      const built = build(db, ...(stand(args, [], marks) as A));
      const query = 'isRawBuilder' in built ? built.compile(db) : built.compile();
      const slots: Slot[] = query.parameters.map((p) => {
        const path = typeof p === 'string' ? marks.get(p) : undefined;
        return path ? { kind: 'arg', path } : { kind: 'constant', value: p };
      });
      entry = { query, slots };
      cache.set(key, entry);
    }
    const parameters = entry.slots.map((s) => (s.kind === 'arg' ? at(args, s.path) : s.value));
    return db.executeQuery<R>({ ...entry.query, parameters });
  };
}
