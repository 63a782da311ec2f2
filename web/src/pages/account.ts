/**
 * Account pages: login, register, logout, the signed-in user's account page (delete my account), and
 * the admin's pages (user list with search, disable, enable, role, end all sessions, delete; the
 * record of admin actions), composed from auth's fragments; auth checks that the caller is an admin.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { Problem } from '@bookstore/shared/errors';
import { readForm } from '@bookstore/shared/validation';
import { ServiceUnavailableError } from '@bookstore/shared/http';
import { formAlert, html, unavailableBox } from '@bookstore/shared/html';
import { socketAddress } from '@bookstore/shared/service';
import type { WebEnv } from '../app.ts';
import { loginFirst, showServicePage, submitServiceForm, type ServicePage } from '../proxy.ts';
import { fragment, noticeForNextPage, redirectTo, respond } from '../render.ts';
import { endSession, readSessionToken, safeNextPath, startSession } from '../session.ts';
import { getCookie } from 'hono/cookie';
import { addPendingToCart, pendingAddCookie } from './purchase.ts';
import { authApi } from '@bookstore/shared/contracts/auth';
import { createServiceClient, type Endpoint } from '@bookstore/shared/client';

export const accountPages = new Hono<WebEnv>()
  .get('/login', showLogin)
  .post('/login', submitLogin)
  .get('/register', showRegister)
  .post('/register', submitRegister)
  .post('/logout', logout)
  .get('/account', showAccount)
  .post('/account/delete', deleteAccount)
  .get('/admin/users', (c) => showServicePage(c, administration('Users'), '/users'))
  .get('/admin/actions', (c) => showServicePage(c, administration('What admins did'), '/admin-actions'))
  // Ids are digits only; auth's path is built from the parsed number, never from the raw URL.
  .post('/admin/users/:id{[0-9]{1,10}}/disable', (c) => submitServiceForm(c, administration('Users'), `/users/${Number(c.req.param('id'))}/disable`))
  .post('/admin/users/:id{[0-9]{1,10}}/enable', (c) => submitServiceForm(c, administration('Users'), `/users/${Number(c.req.param('id'))}/enable`))
  .post('/admin/users/:id{[0-9]{1,10}}/role', (c) => submitServiceForm(c, administration('Users'), `/users/${Number(c.req.param('id'))}/role`))
  .post('/admin/users/:id{[0-9]{1,10}}/sessions/revoke', (c) => submitServiceForm(c, administration('Users'), `/users/${Number(c.req.param('id'))}/sessions/revoke`))
  .post('/admin/users/:id{[0-9]{1,10}}/delete', (c) => submitServiceForm(c, administration('Users'), `/users/${Number(c.req.param('id'))}/delete`));

const administration = (title: string): ServicePage => ({ client: (c) => c.var.deps.clients.auth, title, label: 'User administration', home: '/admin/users' });

const loginUnavailable = 'Sign-in is unavailable right now. Please try again shortly.';
// Cut one past any field's limit, not blanked: a value too long is still answered "too long", never "is required".
const formText = z
  .string()
  .catch('')
  .transform((text) => text.slice(0, 1001));

async function showLogin(c: Context<WebEnv>) {
  if (c.var.principal) return c.redirect('/', 303);
  const next = safeNextPath(c.req.query('next'));
  return respond(c, 'Log in', loginFormFragment(c, { next, notice: loginReason(c, next) }));
}

/**
 * Why a page sent the visitor here, told by where they were going (`next`): one of these fixed
 * sentences or none, never text from the request.
 */
function loginReason(c: Context<WebEnv>, next: string): string | undefined {
  if (next === '/cart' && getCookie(c, pendingAddCookie)) return 'Log in to add this book to your cart — it will be added right after.';
  return loginReasons.get(next.split(/[/?#]/)[1] ?? '');
}

const loginReasons = new Map([
  ['sell', 'Log in to sell books.'],
  ['cart', 'Log in to see your cart.'],
  ['checkout', 'Log in to check out.'],
  ['orders', 'Log in to see your orders.'],
  ['sales', 'Log in to see your sales.'],
  ['account', 'Log in to see your account.'],
  ['admin', 'Log in with an administrator account to manage the shop.'],
]);

async function submitLogin(c: Context<WebEnv>) {
  const form = await readForm(c);
  const email = formText.parse(form.email);
  const next = safeNextPath(form.next);
  const outcome = await callAuth(c, authApi.logIn, { email, password: formText.parse(form.password) });
  if (outcome.kind === 'ok') {
    const session = outcome.body;
    startSession(c, session.token, session.expiresAt, c.var.deps.config.COOKIE_SECURE);
    await addPendingToCart(c, session.token);
    return redirectTo(c, next);
  }
  const error = outcome.kind === 'unavailable' ? loginUnavailable : outcome.problem.detail;
  return respond(c, 'Log in', loginFormFragment(c, { email, error, next }), outcome.status);
}

async function showRegister(c: Context<WebEnv>) {
  if (c.var.principal) return c.redirect('/', 303);
  return respond(c, 'Create your account', registerFormFragment(c, { next: safeNextPath(c.req.query('next')) }));
}

/** Creates the account and logs the new user in; the page they land on (where they were going) welcomes them. */
async function submitRegister(c: Context<WebEnv>) {
  const form = await readForm(c);
  const input = { name: formText.parse(form.name), email: formText.parse(form.email), password: formText.parse(form.password) };
  const next = safeNextPath(form.next);
  const created = await callAuth(c, authApi.register, input);
  if (created.kind !== 'ok') {
    const state = { name: input.name, email: input.email, next };
    if (created.kind === 'unavailable') return respond(c, 'Create your account', registerFormFragment(c, { ...state, error: 'Registration is unavailable right now. Please try again shortly.' }), 503);
    const errors = created.problem.errors;
    return respond(c, 'Create your account', registerFormFragment(c, { ...state, errors, error: errors ? undefined : created.problem.detail }), created.status);
  }
  const session = await callAuth(c, authApi.logIn, { email: input.email, password: input.password });
  if (session.kind !== 'ok') return redirectTo(c, '/login');
  const body = session.body;
  startSession(c, body.token, body.expiresAt, c.var.deps.config.COOKIE_SECURE);
  noticeForNextPage(c, 'welcome');
  await addPendingToCart(c, body.token);
  return redirectTo(c, getCookie(c, pendingAddCookie) ? '/cart' : next);
}

/**
 * Ends the session everywhere (auth revokes it; every service sees that within seconds) and clears
 * the cookie. When auth cannot be reached the cookie is still cleared, and the visitor is told that
 * the session is only closed on this device, never shown a plain "signed out".
 */
async function logout(c: Context<WebEnv>) {
  const { deps } = c.var;
  const token = c.var.principal?.token ?? (c.var.sessionUnknown ? readSessionToken(c) : undefined);
  let ended = token === undefined;
  if (token !== undefined) {
    try {
      const response = await deps.clients.auth.request('/api/sessions/current', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      await response.body?.cancel();
      ended = response.ok || response.status === 401; // 401: already ended or expired
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError)) throw error;
    }
  }
  endSession(c, deps.config.COOKIE_SECURE);
  if (ended) return redirectTo(c, '/');
  deps.log.warn('logout could not reach auth: the session was ended on this device only');
  const until = c.var.principal ? new Date(c.var.principal.expiresAt * 1000).toUTCString() : null;
  return respond(
    c,
    'Signed out on this device',
    html`<section class="card" role="alert">
      <h1>Signed out on this device only</h1>
      <p>We could not reach our sign-in service to end your session everywhere.${until ? html` Elsewhere it ends by itself on ${until}.` : ''}</p>
      <p>If you are worried someone else has this session (a shared or lost device), <a href="/login">log in</a> again in a few minutes and log out: that ends it everywhere.</p>
    </section>`,
    503,
  );
}

async function showAccount(c: Context<WebEnv>) {
  if (!c.var.principal) return loginFirst(c);
  return respond(c, 'Your account', accountPage(c.var.principal.name, {}));
}

/**
 * Deletes the signed-in user's account once they give their password and tick the box (auth checks
 * both the password and who asks), then ends the session here. An answer that never came says so:
 * the account may or may not be gone.
 */
async function deleteAccount(c: Context<WebEnv>) {
  const principal = c.var.principal;
  if (!principal) return loginFirst(c, '/account');
  const form = await readForm(c);
  if (form.confirm !== 'yes') {
    return respond(c, 'Your account', accountPage(principal.name, { confirm: 'Tick this box to confirm that your account should go for good.' }), 400);
  }
  const outcome = await callAuth(c, authApi.deleteOwnAccount, { password: formText.parse(form.password) }, principal.token);
  if (outcome.kind === 'ok') {
    endSession(c, c.var.deps.config.COOKIE_SECURE);
    return respond(
      c,
      'Account deleted',
      html`<section class="card" role="status"><h1>Your account is deleted</h1><p>Your name, email and password are gone, you are signed out everywhere, and the books you were selling have left the catalog. Orders already placed are kept, with the name they were placed under, for the buyers, the sellers who ship them and our accounts.</p><p><a href="/">Back to the shop</a></p></section>`,
    );
  }
  if (outcome.kind === 'unavailable') {
    return respond(c, 'Your account', accountPage(principal.name, { error: 'We could not confirm that your account was deleted. Please try again in a moment: if it was, you will be asked to log in.' }), 503);
  }
  if (outcome.status === 401) return loginFirst(c, '/account');
  const errors = outcome.problem.errors ?? {};
  return respond(c, 'Your account', accountPage(principal.name, { password: errors.password, error: errors.password ? undefined : outcome.problem.detail }), outcome.status);
}

/** The signed-in user's page: who they are, and deleting the account (password and a box to tick; works without JavaScript). */
function accountPage(name: string, problems: { password?: string; confirm?: string; error?: string }) {
  const fieldError = (id: string, message?: string) => (message ? html`<p class="field-error" id="${id}-error">${message}</p>` : '');
  // The cursor goes to the first thing to fix: the password, else the box.
  const focusConfirm = problems.confirm && !problems.password;
  return html`<section class="account-page">
    <h1>Your account</h1>
    <p>Signed in as <strong>${name}</strong>.</p>
    <ul class="link-list">
      <li><a href="/orders">My orders</a>: what you bought, and where it is.</li>
      <li><a href="/sell">My books</a>: the books you sell, and a form to add one.</li>
      <li><a href="/sales">My sales</a>: what you sold, and marking it shipped.</li>
    </ul>
    <p class="hint">What the shop keeps about you, and for how long: <a href="/privacy">Privacy</a>.</p>
    <section class="card danger-zone" aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete my account</h2>
      <p>This cannot be undone. Your name, email and password are wiped, you are signed out everywhere and the books you sell leave the catalog. Books you sold must be shipped first. Orders already placed are kept, with the name they were placed under, for the buyers, the sellers who ship them and our accounts.</p>
      ${formAlert(problems.error)}
      <form method="post" action="/account/delete" class="form">
        <div class="field${problems.password ? ' has-error' : ''}">
          <label for="delete-password">Your password</label>
          <input id="delete-password" type="password" name="password" autocomplete="current-password" required maxlength="256"${problems.password ? html` aria-invalid="true" aria-describedby="delete-password-error" autofocus` : ''}>
          ${problems.password ? fieldError('delete-password', `That password ${problems.password}.`) : ''}
        </div>
        <div class="field${problems.confirm ? ' has-error' : ''}">
          <label class="check"><input type="checkbox" name="confirm" value="yes" required${problems.confirm ? html` aria-invalid="true" aria-describedby="delete-confirm-error"` : ''}${focusConfirm ? html` autofocus` : ''}> Yes, delete my account for good</label>
          ${fieldError('delete-confirm', problems.confirm)}
        </div>
        <button type="submit" class="danger">Delete my account</button>
      </form>
    </section>
  </section>`;
}

// --- helpers of this file -------------------------------------------------------------------

function loginFormFragment(c: Context<WebEnv>, state: { email?: string; error?: string; next?: string; notice?: string }) {
  return formFragment(c, '/fragments/login-form', state, loginUnavailable);
}

function registerFormFragment(c: Context<WebEnv>, state: { name?: string; email?: string; error?: string; errors?: Record<string, string>; next?: string }) {
  return formFragment(c, '/fragments/register-form', state, 'Registration is unavailable right now. Please try again shortly.');
}

async function formFragment(c: Context<WebEnv>, path: string, state: object, unavailableMessage: string) {
  const form = await fragment(c, { client: c.var.deps.clients.auth, path, method: 'POST', json: state, label: 'Sign-in' });
  if (form.ok) return form;
  return { ...form, html: html`<div class="card">${unavailableBox('Sign-in', c.req.path)}<p class="hint">${unavailableMessage}</p></div>` };
}

type AuthOutcome<A> =
  | { kind: 'ok'; status: number; body: A }
  | { kind: 'problem'; status: number; problem: Problem }
  | { kind: 'unavailable'; status: 503 };

/** A call to auth on the user's behalf (its answer parsed with auth's contract), telling auth the browser's address for throttling. */
async function callAuth<B, A>(c: Context<WebEnv>, endpoint: Endpoint<void, B, A>, body: B, token?: string): Promise<AuthOutcome<A>> {
  const outcome = await createServiceClient(c.var.deps.clients.auth).call(endpoint, { body, token, headers: { 'x-client-address': clientAddress(c) } });
  if (outcome.kind === 'ok') return { kind: 'ok', status: outcome.status, body: outcome.value };
  if (outcome.kind === 'problem') return { kind: 'problem', status: outcome.status, problem: outcome.problem };
  return { kind: 'unavailable', status: 503 };
}

function clientAddress(c: Context<WebEnv>): string {
  if (c.var.deps.config.TRUST_PROXY) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  return socketAddress(c);
}
