/**
 * The auth service: users, passwords, sessions and tokens.
 *
 *   POST   /api/users                 register                     → 201 user | 400 | 409
 *   POST   /api/sessions              log in                       → 201 {token, expiresAt, user} | 401 | 429
 *   DELETE /api/sessions/current      log out (Bearer)             → 204
 *   GET    /api/me                    the caller (Bearer)          → user | 401
 *   DELETE /api/me        {password}  delete the caller's account  → 204 | 400 wrong password | 401 | 409 last admin | 429
 *   GET    /api/revocations           revoked sessions (service)   → {items, serverTime, more}
 *   GET    /api/deleted-users?since=  deleted accounts (service)   → {items: [{userId, deletedAt}], serverTime, more}
 *   GET    /.well-known/jwks.json     public signing keys
 *   POST   /fragments/login-form      login form with its state
 *   POST   /fragments/register-form   registration form with its state
 *
 * Admin only (401 without a session, 403 for others; handlers in admin-routes.ts). Disabling and a
 * role change end the user's sessions everywhere (revocation feed); every change is recorded:
 *   GET    /api/users?q=&page=&pageSize=      users, newest first, q in name or email → {items, page, pageSize, total}
 *   POST   /api/users/:id/disable             disable: no login, sessions ended → user | 404 | 409
 *   POST   /api/users/:id/enable              enable again                      → user | 404
 *   PUT    /api/users/:id/role      {role}    change the role, sessions ended   → user | 400 | 404 | 409
 *   DELETE /api/users/:id                     delete: wiped, sessions ended     → 204 | 404 | 409 own account, last admin
 *   DELETE /api/users/:id/sessions            end all the user's sessions       → {revoked} | 404
 *   GET    /api/admin-actions?targetId=&page= the record: who did what to whom, when → {items, page, pageSize, total}
 *   GET    /fragments/users?q=&page=&done=    user list with search and the forms below
 *   POST   /fragments/users/:id/disable, /enable, /role, /sessions/revoke, /delete   the forms (303 back to the list)
 *   GET    /fragments/admin-actions?page=     the record as a table
 */
import type { EntityManager } from '@bookstore/shared/db';
import type { Context } from 'hono';
import { createFactory } from 'hono/factory';
import { acceptedServiceTokens, hasServiceToken, requireServiceToken, type Principal } from '@bookstore/shared/auth';
import { pingPrimary, type Orm } from '@bookstore/shared/db';
import { validJson, validQuery } from '@bookstore/shared/validation';
import type { Logger } from '@bookstore/shared/log';
import { createServiceApp, socketAddress } from '@bookstore/shared/service';
import { deletedUsersSince, deleteOwnAccount, logIn, revocationsSince, revokeSession, signUp, toPublicUser, type Limits } from './accounts.ts';
import {
  adminActionsFragment,
  deleteForm,
  deleteUserApi,
  disableForm,
  disableUserApi,
  enableForm,
  enableUserApi,
  listAdminActionsApi,
  listUsersApi,
  revokeSessionsApi,
  revokeSessionsForm,
  roleForm,
  setRoleApi,
  usersFragment,
} from './admin-routes.ts';
import { requireCaller, signedIn } from './callers.ts';
import type { AuthConfig } from './config.ts';
import type { User } from './entities.ts';
import { loginForm, registerForm } from './fragments.ts';
import type { SigningKey } from './keys.ts';
import { deleteOwnInput, loginFormState, loginInput, registerFormState, registerInput, revocationQuery } from './schemas.ts';

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
    | 'REGISTRATION_TAKEN_EMAILS_PER_ADDRESS'
  > &
    Partial<Pick<AuthConfig, 'SERVICE_TOKENS_ACCEPTED' | 'REQUEST_TIME_BUDGET_MS'>>;
}

export type AuthEnv = {
  Variables: { deps: AuthDeps; em: EntityManager; requestId: string; caller?: Principal & { user: User }; admin?: Principal & { user: User } };
};
const factory = createFactory<AuthEnv>();

export function createApp(deps: AuthDeps) {
  const app = createServiceApp<AuthEnv>({
    service: 'auth',
    log: deps.log,
    timeBudgetMs: deps.config.REQUEST_TIME_BUDGET_MS,
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
    .delete('/api/me', ...deleteMe)
    .get('/api/revocations', serviceOnly, ...revocations)
    .get('/api/deleted-users', serviceOnly, ...deletedUsers)
    .get('/.well-known/jwks.json', ...jwks)
    .post('/fragments/login-form', ...loginFormFragment)
    .post('/fragments/register-form', ...registerFormFragment)
    .get('/api/users', ...listUsersApi)
    .post('/api/users/:id/disable', ...disableUserApi)
    .post('/api/users/:id/enable', ...enableUserApi)
    .put('/api/users/:id/role', ...setRoleApi)
    .delete('/api/users/:id', ...deleteUserApi)
    .delete('/api/users/:id/sessions', ...revokeSessionsApi)
    .get('/api/admin-actions', ...listAdminActionsApi)
    .get('/fragments/users', ...usersFragment)
    .post('/fragments/users/:id/disable', ...disableForm)
    .post('/fragments/users/:id/enable', ...enableForm)
    .post('/fragments/users/:id/role', ...roleForm)
    .post('/fragments/users/:id/sessions/revoke', ...revokeSessionsForm)
    .post('/fragments/users/:id/delete', ...deleteForm)
    .get('/fragments/admin-actions', ...adminActionsFragment);
}
export type AuthApp = ReturnType<typeof createApp>;

const register = factory.createHandlers(validJson(registerInput), async (c) => {
  const user = await signUp(c.var.em, c.req.valid('json'), { clientAddress: clientAddress(c), limits: limits(c.var.deps.config) });
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

const deleteMe = factory.createHandlers(signedIn, validJson(deleteOwnInput), async (c) => {
  const { password } = c.req.valid('json');
  await deleteOwnAccount(c.var.em, c.var.caller!.user, password, { clientAddress: clientAddress(c), limits: limits(c.var.deps.config) });
  return c.body(null, 204);
});

const deletedUsers = factory.createHandlers(validQuery(revocationQuery), async (c) => {
  return c.json(await deletedUsersSince(c.var.em, c.req.valid('query').since));
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

// --- helpers of this file -------------------------------------------------------------------

function limits(config: AuthDeps['config']): Limits {
  return {
    maxFailuresPerAccountAddress: config.LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS,
    maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    maxFailuresPerAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
    maxRegistrationsPerAddress: config.REGISTRATIONS_PER_ADDRESS,
    maxTakenEmailsPerAddress: config.REGISTRATION_TAKEN_EMAILS_PER_ADDRESS,
    knownAddressDays: config.LOGIN_KNOWN_ADDRESS_DAYS,
    lockSeconds: config.LOGIN_LOCK_SECONDS,
    windowSeconds: config.LOGIN_WINDOW_SECONDS,
  };
}

/**
 * The client's address for throttling: the web front, which holds the service token, tells us the
 * browser's address; anyone else is throttled by the address they connect from.
 */
function clientAddress(c: Context<AuthEnv>): string {
  const forwarded = c.req.header('x-client-address');
  if (forwarded && hasServiceToken(c.req.header('x-service-token'), acceptedServiceTokens(c.var.deps.config))) return forwarded.slice(0, 100);
  return socketAddress(c);
}
