/** The session cookie: the auth token, HttpOnly and SameSite=Lax, Secure behind TLS. */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

export const sessionCookie = 'bookstore_session';

/**
 * Set for a while after the visitor changed something through a form (a book, the cart): while it
 * lasts their pages skip the shared fragment cache and read the services' primaries, so replica lag
 * and cached listings never hide their own change.
 */
export const wroteCookie = 'bookstore_wrote';
const readYourWritesSeconds = 30;

export function readSessionToken(c: Context): string | undefined {
  return getCookie(c, sessionCookie);
}

export function startSession(c: Context, token: string, expiresAt: string, secure: boolean) {
  setCookie(c, sessionCookie, token, {
    httpOnly: true,
    sameSite: 'Lax',
    secure,
    path: '/',
    expires: new Date(expiresAt),
  });
}

export function markWritten(c: Context, secure: boolean) {
  setCookie(c, wroteCookie, '1', { httpOnly: true, sameSite: 'Lax', secure, path: '/', maxAge: readYourWritesSeconds });
}

export function hasWrittenRecently(c: Context): boolean {
  return getCookie(c, wroteCookie) === '1';
}

export function endSession(c: Context, secure: boolean) {
  deleteCookie(c, sessionCookie, { path: '/', secure, httpOnly: true, sameSite: 'Lax' });
}

/** A local path to go back to after login; anything else (other hosts, `//evil`) becomes "/". */
export function safeNextPath(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/';
}
