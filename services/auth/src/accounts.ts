/** What auth does: register, log in, log out, and answer who a token belongs to. */
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@bookstore/shared/db';
import { Jwt } from 'hono/utils/jwt';
import { ProblemError } from '@bookstore/shared/errors';
import { signingAlgorithm, tokenClaims, type Principal } from '@bookstore/shared/auth';
import { LoginThrottle, Revocation, Session, User, type Role } from './entities.ts';
import type { SigningKey } from './keys.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import type { LoginInput, PublicUser, RegisterInput, SessionCreated } from './schemas.ts';
import { accountKey, addressKey, countAttempt, forgiveAttempt, registrationKey, type ThrottlePolicy } from './throttle.ts';

export function toPublicUser(user: User): PublicUser {
  return { id: user.id, name: user.name, email: user.email, role: user.role, createdAt: user.createdAt.toISOString() };
}

/** Creates a user; 409 when the email is taken (also when two sign-ups race for it). */
export async function registerUser(em: EntityManager, input: RegisterInput, role: Role = 'customer'): Promise<User> {
  const user = em.create(User, { name: input.name, email: input.email, passwordHash: await hashPassword(input.password), role });
  try {
    await em.flush();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) {
      throw new ProblemError(409, 'An account with this email already exists', { errors: { email: 'is already registered' } });
    }
    throw error;
  }
  return user;
}

export interface Limits extends ThrottlePolicy {
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  maxRegistrationsPerAddress: number;
}

export interface LoginContext {
  key: SigningKey;
  ttlSeconds: number;
  limits: Limits;
  clientAddress: string;
}

function tooMany(what: string, seconds: number) {
  return new ProblemError(429, `Too many ${what}. Try again in ${seconds} seconds.`, {}, { 'retry-after': String(seconds) });
}

/** Counts a sign-up against the client's address; 429 past the limit (each one costs an argon2 hash). */
export async function admitRegistration(em: EntityManager, clientAddress: string, limits: Limits): Promise<void> {
  const wait = await countAttempt(em, registrationKey(clientAddress), limits.maxRegistrationsPerAddress, limits);
  if (wait > 0) throw tooMany('sign-ups from your network', wait);
}

const badCredentials = 'Email or password is incorrect';

/** Checks the password and opens a session; 401 for any wrong pair, 429 while throttled. */
export async function logIn(em: EntityManager, input: LoginInput, context: LoginContext): Promise<SessionCreated> {
  const { limits } = context;
  const account = accountKey(input.email);
  const address = addressKey(context.clientAddress);
  // The attempt is counted before the password is checked, so parallel guesses cannot outrun the
  // count. The address goes first: a locked address adds nothing to any account's count.
  const addressWait = await countAttempt(em, address, limits.maxFailuresPerAddress, limits);
  if (addressWait > 0) throw tooMany('failed logins', addressWait);
  const accountWait = await countAttempt(em, account, limits.maxFailuresPerAccount, limits);
  if (accountWait > 0) throw tooMany('failed logins', accountWait);
  const user = await em.findOne(User, { email: input.email }, { connectionType: 'write' });
  if (!(await verifyPassword(user?.passwordHash, input.password)) || !user) throw new ProblemError(401, badCredentials);
  await forgiveAttempt(em, account, address);
  const now = new Date();
  const session = em.create(Session, {
    id: crypto.randomUUID(),
    user,
    createdAt: now,
    expiresAt: new Date(now.getTime() + context.ttlSeconds * 1000),
  });
  await em.flush();
  const token = await Jwt.sign(
    {
      sub: String(user.id),
      role: user.role,
      name: user.name,
      sid: session.id,
      iat: Math.floor(now.getTime() / 1000),
      exp: Math.floor(session.expiresAt.getTime() / 1000),
    },
    context.key.privateJwk,
    signingAlgorithm,
  );
  return { token, expiresAt: session.expiresAt.toISOString(), user: toPublicUser(user) };
}

/**
 * Auth's own token check: the signature with its own key, then the session row on the primary, so a
 * revoked token is refused here at once (other services learn of it from the revocation feed).
 */
export async function verifyOwnToken(em: EntityManager, key: SigningKey, token: string): Promise<(Principal & { user: User }) | null> {
  try {
    const claims = tokenClaims.parse(await Jwt.verifyWithJwks(token, { keys: key.published, allowedAlgorithms: [signingAlgorithm] }));
    const session = await em.findOne(Session, { id: claims.sid }, { populate: ['user'], connectionType: 'write' });
    if (!session || session.revokedAt || session.expiresAt <= new Date()) return null;
    const user = session.user;
    return { userId: user.id, role: user.role, name: user.name, sessionId: session.id, expiresAt: claims.exp, token, user };
  } catch {
    return null;
  }
}

/** Ends a session and publishes it on the revocation feed. Ending it twice does nothing more. */
export async function revokeSession(em: EntityManager, sessionId: string): Promise<void> {
  await em.transactional(async (tx) => {
    const session = await tx.findOne(Session, { id: sessionId, revokedAt: null });
    if (!session) return;
    session.revokedAt = new Date();
    tx.create(Revocation, { sessionId, revokedAt: session.revokedAt, expiresAt: session.expiresAt });
  });
}

/** Sessions revoked since `since` (ms since epoch) that have not expired yet, and auth's clock now. */
export async function revocationsSince(em: EntityManager, since: number, limit = 10_000) {
  const now = new Date();
  const rows = await em.find(
    Revocation,
    { revokedAt: { $gte: new Date(since) }, expiresAt: { $gt: now } },
    { orderBy: { revokedAt: 'asc' }, limit, connectionType: 'write' },
  );
  const more = rows.length === limit;
  return {
    items: rows.map((row) => ({ sessionId: row.sessionId, expiresAt: Math.floor(row.expiresAt.getTime() / 1000) })),
    // A full page: there may be more, and the poller continues from the last row it got.
    serverTime: more ? rows.at(-1)!.revokedAt.getTime() : now.getTime(),
    more,
  };
}

/** Deletes sessions and revocations past their expiry: nothing can use them any more. */
/** Deletes what nothing can use any more: expired sessions and revocations, throttles past their window. */
export async function purgeExpired(em: EntityManager, windowSeconds: number, now = new Date()): Promise<void> {
  await em.nativeDelete(Revocation, { expiresAt: { $lt: now } });
  await em.nativeDelete(Session, { expiresAt: { $lt: now } });
  const windowStart = new Date(now.getTime() - windowSeconds * 1000);
  await em.nativeDelete(LoginThrottle, { windowStartedAt: { $lt: windowStart }, $or: [{ lockedUntil: null }, { lockedUntil: { $lt: now } }] });
}
