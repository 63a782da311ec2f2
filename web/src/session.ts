/** The session cookie: the auth token, HttpOnly and SameSite=Lax, Secure behind TLS. */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

export const sessionCookie = 'bookstore_session';

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

export function endSession(c: Context, secure: boolean) {
  deleteCookie(c, sessionCookie, { path: '/', secure, httpOnly: true, sameSite: 'Lax' });
}

/** A local path to go back to after login; anything else (other hosts, `//evil`) becomes "/". */
export function safeNextPath(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/';
}
