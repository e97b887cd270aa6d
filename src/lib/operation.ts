import type { Db, Tx } from '../db/database.ts';
import type { Principal, Role } from '../users/users.ts';
import { forbidden } from './errors.ts';

/*
 * Who may call an operation lives with the operation. Each state-changing domain operation is
 * declared with `operation({ roles, organisation }, run)`: the roles are checked here before it
 * runs, whoever calls it (an API route, a page, the CLI, a test), and the API route takes the same
 * declaration for its check and its OpenAPI description (`apiRoute({ roles: op.roles })`). The
 * organisation rule (a council acts on its own cases, a department on its own reports) is checked
 * by the operation itself, where it has loaded what it acts on; `organisation` states it in words.
 */

/** One request's context, built once and passed to every operation it calls. */
export interface Act {
  /** The transaction the whole request runs in: a refusal leaves no partial write. */
  trx: Tx;
  /** Who is asking. */
  principal: Principal;
  /** The request's id, recorded in the audit log (null outside a request). */
  requestId: string | null;
  /** The time the request acts at, read once from the clock. */
  now: Date;
}

/** A read's context: the database (or a transaction) and who is asking. */
export interface Look {
  db: Db | Tx;
  principal: Principal;
}

/**
 * Who may call an operation: the roles, and the organisation rule in words (if any); and what it
 * can refuse: the `type` of each named refusal (from the modules' catalogues, `src/<module>/refusals.ts`)
 * beyond the role check, so that its docstring, its API route's error responses and its pages
 * read the one list.
 */
export interface May {
  readonly roles: readonly Role[];
  readonly organisation?: string;
  readonly refuses?: readonly string[];
}

/** Refuses (`forbidden`, 403) a principal whose role is not one of `roles`. */
export function assertRole(p: Pick<Principal, 'role'>, roles: readonly Role[]): void {
  if (!roles.includes(p.role)) throw forbidden(`This needs the ${roles.join(' or ')} role; you are signed in as ${p.role}.`);
}

export type Operation<C extends { principal: Principal }, A extends unknown[], R> = ((ctx: C, ...args: A) => Promise<R>) & May;

/**
 * Declares an operation with who may call it and what it can refuse; the returned function checks
 * the roles first. The declaration's literal types are kept (`op.refuses` is a tuple of names), so
 * a route's `problems: op.refuses` is checked against the catalogue when it is compiled.
 */
export function operation<const M extends May, C extends { principal: Principal }, A extends unknown[], R>(
  may: M,
  run: (ctx: C, ...args: A) => Promise<R>,
): Operation<C, A, R> & M {
  const op = async (ctx: C, ...args: A): Promise<R> => {
    assertRole(ctx.principal, may.roles);
    return run(ctx, ...args);
  };
  return Object.assign(op, {
    roles: may.roles,
    ...(may.organisation ? { organisation: may.organisation } : {}),
    ...(may.refuses ? { refuses: may.refuses } : {}),
  }) as Operation<C, A, R> & M;
}
