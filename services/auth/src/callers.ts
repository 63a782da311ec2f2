/** Who is asking auth: the caller of a Bearer token, checked against auth's own sessions (not the feed). */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { bearerToken, loginRequired } from '@bookstore/shared/auth';
import { ProblemError } from '@bookstore/shared/errors';
import { verifyOwnToken } from './accounts.ts';
import type { AuthEnv } from './app.ts';

/** The caller, or null without a live session. */
export function currentCaller(c: Context<AuthEnv>) {
  const token = bearerToken(c.req.header('authorization'));
  return token ? verifyOwnToken(c.var.em, c.var.deps.key, token) : Promise.resolve(null);
}

/** The caller, or 401. */
export async function requireCaller(c: Context<AuthEnv>) {
  const caller = await currentCaller(c);
  if (!caller) throw loginRequired();
  return caller;
}

/** For routes of the signed-in user, before their input is read: 401 without a session; the caller in `c.var.caller`. */
export const signedIn = createMiddleware<AuthEnv>(async (c, next) => {
  c.set('caller', await requireCaller(c));
  await next();
});

/** For admin routes, before their input is read: 401 without a session, 403 for anyone but an admin; the admin in `c.var.admin`. */
export const adminOnly = createMiddleware<AuthEnv>(async (c, next) => {
  const caller = await requireCaller(c);
  if (caller.role !== 'admin') throw new ProblemError(403, 'Only administrators can do this');
  c.set('admin', caller);
  await next();
});
