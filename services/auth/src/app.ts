/**
 * The auth service: users, passwords, sessions and tokens.
 *
 * Its routes are the table in `createApp`: each says what it does, who may call it and what it
 * answers (`describeRoute`), beside the validators of its input. The same table is served as an
 * OpenAPI 3.1 document at `GET /openapi.json` (shared/src/openapi.ts), so the documentation is what
 * runs. Admin handlers are in admin-routes.ts, which checks authorization before reading any input;
 * every admin change is recorded, and disabling, a role change or deletion end the user's sessions
 * everywhere (revocation feed).
 */
import type { EntityManager } from '@bookstore/shared/db';
import type { Context } from 'hono';
import { createFactory } from 'hono/factory';
import { acceptedServiceTokens, hasServiceToken, requireServiceToken, revocationFeed, type Principal } from '@bookstore/shared/auth';
import { pingPrimary, type Orm } from '@bookstore/shared/db';
import { deletedUsersFeed } from '@bookstore/shared/contracts/auth';
import { describeRoute, openApiRoute, type RouteAnswer } from '@bookstore/shared/openapi';
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
import type { OpenSaleItems } from './administration.ts';
import { loginForm, registerForm } from './fragments.ts';
import type { SigningKey } from './keys.ts';
import {
  adminActionPage,
  adminUserPage,
  adminUserView,
  deleteOwnInput,
  loginFormState,
  loginInput,
  publicUser,
  publishedKeys,
  registerFormState,
  registerInput,
  revocationQuery,
  revokedSessions,
  sessionCreated,
} from './schemas.ts';

export interface AuthDeps {
  orm: Orm;
  key: SigningKey;
  log: Logger;
  /** Purchase's count of a seller's items still owed to buyers, asked before an account is deleted (main.ts). */
  openSaleItems?: OpenSaleItems;
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

  const adminChange = (summary: string, answer: RouteAnswer, refused: string) =>
    describeRoute({ summary, access: 'admin', responses: { 200: answer, 404: 'there is no such user', 409: refused } });
  const adminForm = (summary: string) =>
    describeRoute({ summary, access: 'admin', content: 'text/html', responses: { 303: 'done: back to the user list, saying so', 400: 'the form misses its choice', 404: 'there is no such user', 409: 'refused: own account, the last admin, a deleted account' } });

  return app
    .post('/api/users', describeRoute({ summary: 'Register a customer account', access: 'public', responses: { 201: publicUser, 409: "the email has an account, or the name looks like another user's", 429: 'too many sign-ups from this address (Retry-After)' } }), ...register)
    .post('/api/sessions', describeRoute({ summary: 'Log in: a session token', access: 'public', description: loginThrottling, responses: { 201: sessionCreated, 401: 'wrong email or password', 403: 'the account is disabled', 429: 'too many wrong passwords (Retry-After)' } }), ...login)
    .delete('/api/sessions/current', describeRoute({ summary: 'Log out: auth refuses the token at once, the other services within 2 s', access: 'signed-in', responses: { 204: 'logged out' } }), ...logout)
    .get('/api/me', describeRoute({ summary: 'The caller', access: 'signed-in', responses: { 200: publicUser } }), ...me)
    .delete('/api/me', describeRoute({ summary: "Delete the caller's own account (its password again)", access: 'signed-in', responses: { 204: 'deleted: sessions ended, books leave the catalog', 400: 'the password is wrong', 409: 'the only enabled administrator', 429: 'too many wrong passwords (Retry-After)' } }), ...deleteMe)
    .get('/api/revocations', describeRoute({ summary: 'Sessions revoked since `since` (ms since epoch): the feed the other services poll', access: 'service', responses: { 200: revocationFeed } }), serviceOnly, ...revocations)
    .get('/api/deleted-users', describeRoute({ summary: 'Accounts deleted since `since` (ms since epoch): the feed catalog polls', access: 'service', responses: { 200: deletedUsersFeed } }), serviceOnly, ...deletedUsers)
    .get('/.well-known/jwks.json', describeRoute({ summary: 'The public keys that check session tokens (JWKS)', access: 'public', responses: { 200: publishedKeys } }), ...jwks)
    .get('/openapi.json', ...openApiRoute(app, { title: 'Bookstore auth', description: 'Users, passwords, sessions and the tokens the other services check.' }))
    .post('/fragments/login-form', describeRoute({ summary: 'The login form, with the state the web front gives', access: 'public', content: 'text/html', responses: { 200: 'the form' } }), ...loginFormFragment)
    .post('/fragments/register-form', describeRoute({ summary: 'The sign-up form, with the state the web front gives', access: 'public', content: 'text/html', responses: { 200: 'the form' } }), ...registerFormFragment)
    .get('/api/users', describeRoute({ summary: 'Users, newest first; `q` searches name and email', access: 'admin', responses: { 200: adminUserPage } }), ...listUsersApi)
    .post('/api/users/:id/disable', adminChange('Disable an account: no login, sessions ended', adminUserView, 'own account, the last admin, or deleted'), ...disableUserApi)
    .post('/api/users/:id/enable', adminChange('Enable an account again', adminUserView, 'the account was deleted'), ...enableUserApi)
    .put('/api/users/:id/role', adminChange('Change the role; sessions ended', adminUserView, 'own account, the last admin, or deleted'), ...setRoleApi)
    .delete('/api/users/:id', describeRoute({ summary: 'Delete an account: wiped, sessions ended, books leave the catalog', access: 'admin', responses: { 204: 'deleted', 404: 'there is no such user', 409: 'own account, or the last admin' } }), ...deleteUserApi)
    .delete('/api/users/:id/sessions', adminChange("End all the user's sessions", revokedSessions, 'the account was deleted'), ...revokeSessionsApi)
    .get('/api/admin-actions', describeRoute({ summary: 'The record of admin changes: who did what to whom, when', access: 'admin', responses: { 200: adminActionPage } }), ...listAdminActionsApi)
    .get('/fragments/users', describeRoute({ summary: 'The user list with its search and forms', access: 'admin', content: 'text/html', responses: { 200: 'the list' } }), ...usersFragment)
    .post('/fragments/users/:id/disable', adminForm('Form: disable an account'), ...disableForm)
    .post('/fragments/users/:id/enable', adminForm('Form: enable an account'), ...enableForm)
    .post('/fragments/users/:id/role', adminForm('Form: change the role'), ...roleForm)
    .post('/fragments/users/:id/sessions/revoke', adminForm("Form: end the user's sessions"), ...revokeSessionsForm)
    .post('/fragments/users/:id/delete', adminForm('Form: delete an account (a box to tick)'), ...deleteForm)
    .get('/fragments/admin-actions', describeRoute({ summary: 'The record of admin changes as a table', access: 'admin', content: 'text/html', responses: { 200: 'the table' } }), ...adminActionsFragment);
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
  await deleteOwnAccount(c.var.em, c.var.caller!.user, password, { clientAddress: clientAddress(c), limits: limits(c.var.deps.config), openSaleItems: c.var.deps.openSaleItems });
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

const loginThrottling =
  'Wrong passwords are counted per account and address, per address and per account (README: LOGIN_* settings). The web front, which sends X-Service-Token, passes the browser\'s address in X-Client-Address.';

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
