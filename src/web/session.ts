import { createHash, randomBytes } from 'node:crypto';
import Tokens from 'csrf';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Db } from '../db/database.ts';
import { authenticateToken, authenticateTokenId, type TokenRefusal } from '../users/tokens.ts';
import type { Principal } from '../users/users.ts';

/*
 * Web sessions. The rule: **a session is a random id in an HttpOnly, SameSite=Lax cookie (Secure
 * over HTTPS); only the id's SHA-256 is stored; it ends after SESSION_IDLE_MINUTES (30) without a
 * request, when its user signs out, or when the token that signed it in is revoked, expires or its
 * user is deactivated.** A browser gets a signed-out session on its first page, so the sign-in
 * form is protected against cross-site request forgery like every other form; signing in replaces
 * the session id (no fixation). Who the session signs in is decided by the same token rule as
 * the API's bearer tokens (src/users/tokens.ts).
 *
 * Every form carries a token made from the session's secret by the `csrf` package (the
 * synchroniser-token pattern); a POST without a valid one is refused before anything runs.
 */

export const SESSION_COOKIE = 'topslice_session';
export const SESSION_IDLE_MINUTES = 30;
/** The form field every POST carries its CSRF token in. */
export const CSRF_FIELD = '_csrf';
/** A session's last-seen time is written at most this often, so reading a page is not a write each time. */
const TOUCH_RESOLUTION_MS = 60_000;

const csrfTokens = new Tokens();

export interface WebSession {
  idHash: string;
  tokenId: string | null;
  csrfSecret: string;
  lastSeenAt: string;
}

export type SignedIn = { principal: Principal; tokenId: string };

const hashId = (id: string) => createHash('sha256').update(id).digest('hex');

/** Whether the request came over HTTPS (directly, or as a proxy in front of us says). */
function overHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

function setSessionCookie(c: Context, id: string): void {
  setCookie(c, SESSION_COOKIE, id, { httpOnly: true, sameSite: 'Lax', secure: overHttps(c), path: '/' });
}

/** The request's live session, if its cookie names one that has not gone idle. */
export async function findSession(db: Db, c: Context, now: Date, idleMinutes: number): Promise<WebSession | null> {
  const id = getCookie(c, SESSION_COOKIE);
  if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
  const row = await db.selectFrom('web_sessions').selectAll().where('id_hash', '=', hashId(id)).executeTakeFirst();
  if (!row) return null;
  if (Date.parse(row.last_seen_at) <= now.getTime() - idleMinutes * 60_000) {
    await db.deleteFrom('web_sessions').where('id_hash', '=', row.id_hash).execute();
    return null;
  }
  if (Date.parse(row.last_seen_at) <= now.getTime() - TOUCH_RESOLUTION_MS) {
    await db.updateTable('web_sessions').set({ last_seen_at: now.toISOString() }).where('id_hash', '=', row.id_hash).execute();
  }
  return { idHash: row.id_hash, tokenId: row.token_id, csrfSecret: row.csrf_secret, lastSeenAt: row.last_seen_at };
}

/** Starts a session (signed out, or signed in by `tokenId`) and sets its cookie. */
export async function startSession(db: Db, c: Context, now: Date, tokenId: string | null = null): Promise<WebSession> {
  const id = randomBytes(32).toString('base64url');
  const session: WebSession = {
    idHash: hashId(id),
    tokenId,
    csrfSecret: csrfTokens.secretSync(),
    lastSeenAt: now.toISOString(),
  };
  await db
    .insertInto('web_sessions')
    .values({
      id_hash: session.idHash,
      token_id: tokenId,
      csrf_secret: session.csrfSecret,
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
    })
    .execute();
  setSessionCookie(c, id);
  return session;
}

/** Who the session signs in, or why it no longer does (its token's refusal); null when signed out. */
export async function sessionUser(db: Db, session: WebSession, now: Date): Promise<SignedIn | TokenRefusal | null> {
  if (session.tokenId === null) return null;
  const signedIn = await authenticateTokenId(db, session.tokenId, now);
  if (!('principal' in signedIn)) {
    await db.updateTable('web_sessions').set({ token_id: null }).where('id_hash', '=', session.idHash).execute();
  }
  return signedIn;
}

/**
 * Signs a browser in with a bearer token: the old session ends and a new one, with a new id and
 * CSRF secret, belongs to the token. Returns the token's refusal when it does not sign in.
 */
export async function signIn(
  db: Db,
  c: Context,
  old: WebSession | null,
  token: string,
  now: Date,
): Promise<{ session: WebSession; signedIn: SignedIn } | TokenRefusal> {
  const signedIn = await authenticateToken(db, token, now);
  if (!('principal' in signedIn)) return signedIn;
  if (old) await db.deleteFrom('web_sessions').where('id_hash', '=', old.idHash).execute();
  const session = await startSession(db, c, now, signedIn.tokenId);
  return { session, signedIn };
}

/** Ends the session and clears its cookie. */
export async function signOut(db: Db, c: Context, session: WebSession): Promise<void> {
  await db.deleteFrom('web_sessions').where('id_hash', '=', session.idHash).execute();
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: overHttps(c) });
}

/** A CSRF token for the session's forms. */
export function csrfToken(session: WebSession): string {
  return csrfTokens.create(session.csrfSecret);
}

/** Whether a form's CSRF token was made from this session's secret. */
export function csrfValid(session: WebSession, token: unknown): boolean {
  return typeof token === 'string' && token.length > 0 && token.length < 200 && csrfTokens.verify(session.csrfSecret, token);
}
