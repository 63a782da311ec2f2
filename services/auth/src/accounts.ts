/** What auth does: register, log in (not to a disabled account), log out, and answer who a token belongs to. */
import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@bookstore/shared/db';
import { Jwt } from 'hono/utils/jwt';
import { ProblemError, type Problem } from '@bookstore/shared/errors';
import { sessionAudience, signingAlgorithm, tokenClaims, tokenIssuer, type Principal } from '@bookstore/shared/auth';
import { KnownAddress, LoginThrottle, Revocation, Session, User, type Role } from './entities.ts';
import { nameProblem, nameSkeleton, normaliseName } from './names.ts';
import type { SigningKey } from './keys.ts';
import { changeAccount, type OpenSaleItems } from './administration.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import type { LoginInput, PublicUser, RegisterInput, SessionCreated } from './schemas.ts';
import {
  accountAtAddressKey,
  accountKey,
  addressKey,
  admitAttempt,
  isKnownAddress,
  recordFailure,
  releaseAttempt,
  registrationKey,
  takenEmailKey,
  rememberAddress,
  spendAttempt,
  type Budget,
  type ThrottlePolicy,
} from './throttle.ts';

export function toPublicUser(user: User): PublicUser {
  return { id: user.id, name: user.name, email: user.email, role: user.role, createdAt: user.createdAt.toISOString() };
}

/**
 * Creates a user with the name in its stored form (names.ts); 400 for a name that hides characters,
 * 409 naming the field when the email is taken or the name passes for another user's, also when two
 * sign-ups race for either (the unique indexes decide).
 */
export async function registerUser(em: EntityManager, input: RegisterInput, role: Role = 'customer'): Promise<User> {
  const problem = nameProblem(input.name);
  if (problem) throw new ProblemError(400, problem, { errors: { name: problem } });
  // The hash comes before the checks, so a refusal takes as long as a sign-up.
  const passwordHash = await hashPassword(input.password);
  const name = normaliseName(input.name);
  const skeleton = nameSkeleton(name);
  const clashes = await em.find(User, { $or: [{ email: input.email }, { nameSkeleton: skeleton }] }, { connectionType: 'write' });
  if (clashes.length) {
    throw taken({ email: clashes.some((user) => user.email === input.email), name: clashes.some((user) => user.nameSkeleton === skeleton) });
  }
  const user = em.create(User, { name, nameSkeleton: skeleton, email: input.email, passwordHash, role });
  try {
    await em.flush();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) {
      const name = /name_skeleton/.test(error.message);
      throw taken({ email: !name, name });
    }
    throw error;
  }
  return user;
}

const nameTaken = "Name looks too much like another user's name; add something that tells yours apart, such as an initial or your town.";

function taken(which: { email: boolean; name: boolean }) {
  const errors: Record<string, string> = {};
  if (which.email) errors.email = 'is already registered';
  if (which.name) errors.name = nameTaken;
  return new ProblemError(409, which.email ? 'An account with this email already exists' : 'Another user already has a name that looks like this one', { errors });
}

export interface Limits extends ThrottlePolicy {
  /** Failures of one address against one account: stops one guesser outright. */
  maxFailuresPerAccountAddress: number;
  /** Failures against one account from addresses it never logged in from: bounds guessers who spread out. */
  maxFailuresPerAccount: number;
  /** Failures from one address against any accounts (an office or proxy is many people: keep it large). */
  maxFailuresPerAddress: number;
  maxRegistrationsPerAddress: number;
  /** Sign-ups from one address refused because the email has an account: bounds probing for who has one. */
  maxTakenEmailsPerAddress: number;
  /** How long an address an account logged in from stays exempt from the account's own budget. */
  knownAddressDays: number;
}

export interface LoginContext {
  key: SigningKey;
  ttlSeconds: number;
  limits: Limits;
  clientAddress: string;
}

function tooMany(what: string, seconds: number) {
  const when = seconds === 1 ? 'a second' : `${seconds} seconds`;
  return new ProblemError(429, `Too many ${what}. Try again in ${when}.`, {}, { 'retry-after': String(seconds) });
}

/**
 * A sign-up from `clientAddress`, within two budgets of that address (429 past either): every
 * sign-up (each costs an argon2 hash), and sign-ups refused because the email has an account. The
 * contract answers 409 for a taken email, so each refusal tells whether an email has an account:
 * the second budget keeps that to a few per address, and a refusal takes as long as a sign-up.
 */
export async function signUp(em: EntityManager, input: RegisterInput, context: Pick<LoginContext, 'limits' | 'clientAddress'>): Promise<User> {
  const { limits, clientAddress } = context;
  const wait = await spendAttempt(em, { key: registrationKey(clientAddress), limit: limits.maxRegistrationsPerAddress }, limits);
  if (wait > 0) throw tooMany('sign-ups from your network', wait);
  const probes: Budget[] = [{ key: takenEmailKey(clientAddress), limit: limits.maxTakenEmailsPerAddress }];
  const probeWait = await admitAttempt(em, probes, limits);
  if (probeWait > 0) throw tooMany('sign-ups with emails that already have an account', probeWait);
  let user: User;
  try {
    user = await registerUser(em, input);
  } catch (error) {
    if (error instanceof ProblemError && (error.extra as Pick<Problem, 'errors'>).errors?.email) await recordFailure(em, probes, limits);
    else await releaseAttempt(em, probes).catch(() => {});
    throw error;
  }
  await releaseAttempt(em, probes);
  return user;
}

const badCredentials = 'Email or password is incorrect';

/**
 * Checks the password and opens a session; 401 for any wrong pair, 403 for the right password of a
 * disabled account, 429 while throttled. Three budgets (README, "Login throttling"): the account at
 * this address (small: stops one guesser), the address (large: an office is many people), and the
 * account from addresses it never logged in from (larger than the first: bounds guessers who spread
 * out, and cannot lock the owner out of where they log in).
 */
export async function logIn(em: EntityManager, input: LoginInput, context: LoginContext): Promise<SessionCreated> {
  const { limits, clientAddress } = context;
  const atAddress = accountAtAddressKey(input.email, clientAddress);
  const budgets = await passwordBudgets(em, input.email, context);
  const wait = await admitAttempt(em, budgets, limits);
  if (wait > 0) throw tooMany('login attempts', wait);
  const checked = await checkPassword(em, input, budgets, limits);
  if (checked.disabledAt) {
    // Said only to whoever knows the password: to a guesser a disabled account looks like any other.
    await releaseAttempt(em, budgets);
    throw accountDisabled();
  }
  await releaseAttempt(em, budgets, [atAddress]);
  await rememberAddress(em, input.email, clientAddress, limits.knownAddressDays);
  const now = new Date();
  const { user, session } = await openSession(em, checked.id, now, context.ttlSeconds);
  const token = await Jwt.sign(
    {
      iss: tokenIssuer,
      aud: sessionAudience,
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

/** The budgets a password check is weighed against (README, "Login throttling"): the same for a login and for "delete my account". */
async function passwordBudgets(em: EntityManager, email: string, { limits, clientAddress }: Pick<LoginContext, 'limits' | 'clientAddress'>): Promise<Budget[]> {
  const budgets: Budget[] = [
    { key: accountAtAddressKey(email, clientAddress), limit: limits.maxFailuresPerAccountAddress },
    { key: addressKey(clientAddress), limit: limits.maxFailuresPerAddress },
  ];
  if (!(await isKnownAddress(em, email, clientAddress))) budgets.push({ key: accountKey(email), limit: limits.maxFailuresPerAccount });
  return budgets;
}

function accountDisabled() {
  return new ProblemError(403, 'This account is disabled. Please contact the shop if you think this is a mistake.');
}

/**
 * Opens a session on the user's row as it is now, locked: an admin who disables or demotes the user
 * (administration.ts) locks it too, so the session either exists before the change (and is ended by
 * it) or is opened after it (and sees it). The token carries the role read here.
 */
async function openSession(em: EntityManager, userId: number, now: Date, ttlSeconds: number): Promise<{ user: User; session: Session }> {
  return em.transactional(async (tx) => {
    const user = await tx.findOneOrFail(User, { id: userId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
    if (user.disabledAt) throw accountDisabled();
    const session = tx.create(Session, { id: crypto.randomUUID(), user, createdAt: now, expiresAt: new Date(now.getTime() + ttlSeconds * 1000) });
    return { user, session };
  });
}

/** The user this email and password belong to, or 401 (counted as a failure in every budget). */
async function checkPassword(em: EntityManager, input: LoginInput, budgets: Budget[], limits: Limits): Promise<User> {
  let user: User | null;
  let matches: boolean;
  try {
    user = await em.findOne(User, { email: input.email }, { connectionType: 'write' });
    matches = await verifyPassword(user?.passwordHash, input.password);
  } catch (error) {
    // No answer (the database failed mid-way): the slots go back, nothing was learnt.
    await releaseAttempt(em, budgets).catch(() => {});
    throw error;
  }
  if (!matches || !user) {
    await recordFailure(em, budgets, limits);
    throw new ProblemError(401, badCredentials);
  }
  return user;
}

/**
 * Auth's own token check: the signature with its own key, then the session row on the primary, so a
 * revoked token is refused here at once (other services learn of it from the revocation feed).
 */
export async function verifyOwnToken(em: EntityManager, key: SigningKey, token: string): Promise<(Principal & { user: User }) | null> {
  try {
    const claims = tokenClaims.parse(await Jwt.verifyWithJwks(token, { keys: key.published, allowedAlgorithms: [signingAlgorithm] }));
    const session = await em.findOne(Session, { id: claims.sid }, { populate: ['user'], connectionType: 'write' });
    if (!session || session.revokedAt || session.expiresAt <= new Date() || session.user.disabledAt) return null;
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


/**
 * The signed-in user deletes their own account, giving its password again (a token left on a shared
 * computer is not enough). Wrong passwords count against the same budgets as a login's.
 */
export async function deleteOwnAccount(em: EntityManager, user: User, password: string, context: Pick<LoginContext, 'limits' | 'clientAddress'> & { openSaleItems?: OpenSaleItems }): Promise<void> {
  const budgets = await passwordBudgets(em, user.email, context);
  const wait = await admitAttempt(em, budgets, context.limits);
  if (wait > 0) throw tooMany('password attempts', wait);
  let matches: boolean;
  try {
    matches = await verifyPassword(user.passwordHash, password);
  } catch (error) {
    await releaseAttempt(em, budgets).catch(() => {});
    throw error;
  }
  if (!matches) {
    await recordFailure(em, budgets, context.limits);
    throw new ProblemError(400, 'That password is wrong', { errors: { password: 'is wrong' } });
  }
  await releaseAttempt(em, budgets);
  await changeAccount(em, { id: user.id, name: "the account's owner" }, user.id, { kind: 'delete', own: true }, { openSaleItems: context.openSaleItems });
}

/** Accounts deleted since `since` (ms since epoch), oldest first, and auth's clock now: the feed catalog polls to retire their books. */
export async function deletedUsersSince(em: EntityManager, since: number, limit = 1000) {
  const now = new Date();
  const read = (where: object, pageLimit?: number) =>
    em.find(User, where, { fields: ['id', 'deletedAt'], orderBy: { deletedAt: 'asc', id: 'asc' }, limit: pageLimit, connectionType: 'write' });
  const rows = await read({ deletedAt: { $gte: new Date(since) } }, limit);
  const more = rows.length === limit;
  if (more) {
    // A full page ends with every row of its last time (MySQL stores whole seconds: many rows may
    // share one), so the next page, from just after it, neither repeats them nor stalls on them.
    const last = rows.at(-1)!.deletedAt!;
    rows.push(...(await read({ deletedAt: last, id: { $gt: rows.at(-1)!.id } })));
  }
  return {
    items: rows.map((row) => ({ userId: row.id, deletedAt: row.deletedAt!.getTime() })),
    serverTime: more ? rows.at(-1)!.deletedAt!.getTime() + 1 : now.getTime(),
    more,
  };
}

/** Deletes what nothing can use any more: expired sessions, revocations and known addresses, throttles past their window. */
export async function purgeExpired(em: EntityManager, windowSeconds: number, now = new Date()): Promise<void> {
  await em.nativeDelete(Revocation, { expiresAt: { $lt: now } });
  await em.nativeDelete(Session, { expiresAt: { $lt: now } });
  await em.nativeDelete(KnownAddress, { expiresAt: { $lt: now } });
  const windowStart = new Date(now.getTime() - windowSeconds * 1000);
  await em.nativeDelete(LoginThrottle, { windowStartedAt: { $lt: windowStart }, $or: [{ lockedUntil: null }, { lockedUntil: { $lt: now } }] });
}
