/**
 * The auth service: users, passwords, sessions and tokens.
 *
 *   POST   /api/users                 register                     → 201 user | 400 | 409
 *   POST   /api/sessions              log in                       → 201 {token, expiresAt, user} | 401 | 429
 *   DELETE /api/sessions/current      log out (Bearer)             → 204
 *   GET    /api/me                    the caller (Bearer)          → user | 401
 *   GET    /api/users                 all users, paginated (admin) → {items, page, pageSize, total} | 403
 *   GET    /api/revocations           revoked sessions (service)   → {items, serverTime}
 *   GET    /.well-known/jwks.json     public signing keys
 *   POST   /fragments/login-form      login form with its state
 *   POST   /fragments/register-form   registration form with its state
 *   GET    /fragments/users           user table (admin)
 */
import type { EntityManager } from '@bookstore/shared/db';
import type { Context } from 'hono';
import { createFactory } from 'hono/factory';
import { acceptedServiceTokens, bearerToken, hasServiceToken, loginRequired, requireServiceToken } from '@bookstore/shared/auth';
import { pingPrimary, readWithFallback, type Orm } from '@bookstore/shared/db';
import { ProblemError } from '@bookstore/shared/errors';
import { validJson, validQuery } from '@bookstore/shared/validation';
import { notice } from '@bookstore/shared/html';
import type { Logger } from '@bookstore/shared/log';
import { createServiceApp, socketAddress } from '@bookstore/shared/service';
import { admitRegistration, logIn, registerUser, revocationsSince, revokeSession, toPublicUser, verifyOwnToken, type Limits } from './accounts.ts';
import type { AuthConfig } from './config.ts';
import { User } from './entities.ts';
import { loginForm, registerForm, userTable } from './fragments.ts';
import type { SigningKey } from './keys.ts';
import { loginFormState, loginInput, pageQuery, registerFormState, registerInput, revocationQuery } from './schemas.ts';

export interface AuthDeps {
  orm: Orm;
  key: SigningKey;
  log: Logger;
  config: Pick<
    AuthConfig,
    | 'SERVICE_TOKEN'
    | 'TOKEN_TTL_SECONDS'
    | 'LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS'
    | 'LOGIN_MAX_FAILURES_PER_ACCOUNT'
    | 'LOGIN_MAX_FAILURES_PER_ADDRESS'
    | 'LOGIN_LOCK_SECONDS'
    | 'LOGIN_WINDOW_SECONDS'
    | 'LOGIN_KNOWN_ADDRESS_DAYS'
    | 'REGISTRATIONS_PER_ADDRESS'
  > &
    Partial<Pick<AuthConfig, 'SERVICE_TOKENS_ACCEPTED'>>;
}

type Env = { Variables: { deps: AuthDeps; em: EntityManager; requestId: string } };
const factory = createFactory<Env>();

export function createApp(deps: AuthDeps) {
  const app = createServiceApp<Env>({
    service: 'auth',
    log: deps.log,
    readiness: { database: () => pingPrimary(deps.orm) },
    quietPaths: ['/api/revocations', '/.well-known/'],
  });
  app.use(async (c, next) => {
    c.set('deps', deps);
    c.set('em', deps.orm.em.fork());
    await next();
  });
  const serviceOnly = requireServiceToken(acceptedServiceTokens(deps.config));

  return app
    .post('/api/users', ...register)
    .post('/api/sessions', ...login)
    .delete('/api/sessions/current', ...logout)
    .get('/api/me', ...me)
    .get('/api/users', ...listUsers)
    .get('/api/revocations', serviceOnly, ...revocations)
    .get('/.well-known/jwks.json', ...jwks)
    .post('/fragments/login-form', ...loginFormFragment)
    .post('/fragments/register-form', ...registerFormFragment)
    .get('/fragments/users', ...usersFragment);
}
export type AuthApp = ReturnType<typeof createApp>;

const register = factory.createHandlers(validJson(registerInput), async (c) => {
  await admitRegistration(c.var.em, clientAddress(c), limits(c.var.deps.config));
  const user = await registerUser(c.var.em, c.req.valid('json'));
  return c.json(toPublicUser(user), 201);
});

const login = factory.createHandlers(validJson(loginInput), async (c) => {
  const { config, key } = c.var.deps;
  const session = await logIn(c.var.em, c.req.valid('json'), { key, ttlSeconds: config.TOKEN_TTL_SECONDS, clientAddress: clientAddress(c), limits: limits(config) });
  return c.json(session, 201);
});

const logout = factory.createHandlers(async (c) => {
  const caller = await requireCaller(c);
  await revokeSession(c.var.em, caller.sessionId);
  return c.body(null, 204);
});

const me = factory.createHandlers(async (c) => {
  const caller = await requireCaller(c);
  return c.json(toPublicUser(caller.user));
});

const listUsers = factory.createHandlers(validQuery(pageQuery), async (c) => {
  await requireAdmin(c);
  return c.json(await usersPage(c.var.deps, c.req.valid('query')));
});

const revocations = factory.createHandlers(validQuery(revocationQuery), async (c) => {
  return c.json(await revocationsSince(c.var.em, c.req.valid('query').since));
});

const jwks = factory.createHandlers((c) => {
  c.header('cache-control', 'public, max-age=300');
  return c.json({ keys: c.var.deps.key.published });
});

const loginFormFragment = factory.createHandlers(validJson(loginFormState), (c) => c.html(loginForm(c.req.valid('json'))));

const registerFormFragment = factory.createHandlers(validJson(registerFormState), (c) => c.html(registerForm(c.req.valid('json'))));

const usersFragment = factory.createHandlers(validQuery(pageQuery), async (c) => {
  const caller = await currentCaller(c);
  if (caller?.role !== 'admin') {
    return c.html(notice(caller ? 'Only administrators can see the user list.' : 'Log in as an administrator to see the user list.'), caller ? 403 : 401);
  }
  return c.html(userTable(await usersPage(c.var.deps, c.req.valid('query'))));
});

// --- helpers of this file -------------------------------------------------------------------

function limits(config: AuthDeps['config']): Limits {
  return {
    maxFailuresPerAccountAddress: config.LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS,
    maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    maxFailuresPerAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
    maxRegistrationsPerAddress: config.REGISTRATIONS_PER_ADDRESS,
    knownAddressDays: config.LOGIN_KNOWN_ADDRESS_DAYS,
    lockSeconds: config.LOGIN_LOCK_SECONDS,
    windowSeconds: config.LOGIN_WINDOW_SECONDS,
  };
}

function currentCaller(c: Context<Env>) {
  const token = bearerToken(c.req.header('authorization'));
  return token ? verifyOwnToken(c.var.em, c.var.deps.key, token) : Promise.resolve(null);
}

async function requireCaller(c: Context<Env>) {
  const caller = await currentCaller(c);
  if (!caller) throw loginRequired();
  return caller;
}

async function requireAdmin(c: Context<Env>) {
  const caller = await requireCaller(c);
  if (caller.role !== 'admin') throw new ProblemError(403, 'Only administrators can list users');
  return caller;
}

/** Users, newest first, from a read replica when there is one. */
function usersPage(deps: AuthDeps, { page, pageSize }: { page: number; pageSize: number }) {
  return readWithFallback(
    deps.orm,
    async (em, connectionType) => {
      const [items, total] = await em.findAndCount(User, {}, { orderBy: { id: 'desc' }, limit: pageSize, offset: (page - 1) * pageSize, connectionType });
      return { items: items.map(toPublicUser), page, pageSize, total };
    },
    deps.log,
  );
}

/**
 * The client's address for throttling: the web front, which holds the service token, tells us the
 * browser's address; anyone else is throttled by the address they connect from.
 */
function clientAddress(c: Context<Env>): string {
  const forwarded = c.req.header('x-client-address');
  if (forwarded && hasServiceToken(c.req.header('x-service-token'), acceptedServiceTokens(c.var.deps.config))) return forwarded.slice(0, 100);
  return socketAddress(c);
}
