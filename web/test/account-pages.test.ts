/** The web shell: pages, login and logout through auth's fragments, cookies, CSRF, and auth outages. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eventually } from '@bookstore/shared/testing/http';
import type { ServedTestAuth } from '../../services/auth/test/support.ts';
import { downUrl, sessionCookieFrom, startTestWeb, startWebWithAuth, webOrigin } from './support.ts';

let auth: ServedTestAuth;
let web: ReturnType<typeof startTestWeb>;
let close: () => Promise<void>;
beforeAll(async () => ({ auth, web, close } = await startWebWithAuth()));
afterAll(() => close());

describe('pages', () => {
  test('home renders the full page with the account menu and secure headers', async () => {
    const response = await web.browse('/');
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toStartWith('<!doctype html>');
    expect(page).toContain('href="/login"');
    expect(page).toContain('/assets/htmx-2.0.11.min.js');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  test('login and register pages show auth forms that post to the web front', async () => {
    const login = await (await web.browse('/login')).text();
    expect(login).toContain('<form id="login-form"');
    expect(login).toContain('action="/login"');
    const register = await (await web.browse('/register')).text();
    expect(register).toContain('action="/register"');
    expect(register).toContain('name="password"');
  });

  test('favicon, stylesheet and htmx are served', async () => {
    const favicon = await web.browse('/favicon.ico');
    expect(favicon.status).toBe(200);
    expect((await favicon.arrayBuffer()).byteLength).toBeGreaterThan(50);
    const css = await web.browse('/static/style.css');
    expect(css.status).toBe(200);
    expect(await css.text()).toContain('.site-header');
    const htmx = await web.browse('/assets/htmx-2.0.11.min.js');
    expect(htmx.status).toBe(200);
    expect(await htmx.text()).toContain('htmx');
    // Encoded, so the dot segments reach the static handler instead of being resolved by the URL parser.
    for (const path of ['/static/..%2Fpackage.json', '/static/%2e%2e%2Fpackage.json']) expect((await web.browse(path)).status).toBe(404);
  });
});

describe('sessions', () => {
  test('login sets an HttpOnly SameSite=Lax cookie, and the menu then shows the user', async () => {
    const { email, password } = await auth.signUp('Cookie Monster');
    const response = await web.submit('/login', { email, password });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
    const setCookie = response.headers.getSetCookie().find((value) => value.startsWith('bookstore_session='))!;
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    const home = await (await web.browse('/', { cookie: sessionCookieFrom(response) })).text();
    expect(home).toContain('Signed in as <strong>Cookie Monster</strong>');
  });

  test('login goes back to a local next page, never to another site', async () => {
    const { email, password } = await auth.signUp('Traveller');
    const local = await web.submit('/login', { email, password, next: '/admin/users' });
    expect(local.headers.get('location')).toBe('/admin/users');
    const elsewhere = await web.submit('/login', { email, password, next: '//evil.example/steal' });
    expect(elsewhere.headers.get('location')).toBe('/');
  });

  test('a cross-origin POST is refused', async () => {
    const { email, password } = await auth.signUp('Victim');
    const response = await web.app.request(`${webOrigin}/login`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email, password }),
    });
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  test('a wrong password: htmx gets the form fragment with the error, a plain post the whole page', async () => {
    const { email } = await auth.signUp('Forgetful');
    const htmx = await web.submit('/login', { email, password: 'wrong-password' }, { htmx: true });
    expect(htmx.status).toBe(401);
    const fragment = await htmx.text();
    expect(fragment).toStartWith('<form id="login-form"');
    expect(fragment).not.toContain('<html');
    expect(fragment).toContain('Email or password is incorrect');
    expect(fragment).toContain(`value="${email}"`);

    const plain = await web.submit('/login', { email, password: 'wrong-password' });
    const page = await plain.text();
    expect(page).toStartWith('<!doctype html>');
    expect(page).toContain('Email or password is incorrect');
  });

  test('registering through the web shows field errors in place, then logs the new user in', async () => {
    const invalid = await web.submit('/register', { name: 'Newbie', email: 'not-an-email', password: 'short' }, { htmx: true });
    expect(invalid.status).toBe(400);
    const form = await invalid.text();
    expect(form).toStartWith('<form id="register-form"');
    expect(form).toContain('must be a valid email address');
    expect(form).toContain('at least 8 characters');
    expect(form).toContain('value="Newbie"');

    const created = await web.submit('/register', { name: 'Newbie', email: 'newbie@example.test', password: 'long-enough-pw' });
    expect(created.status).toBe(303);
    const home = await (await web.browse('/', { cookie: sessionCookieFrom(created) })).text();
    expect(home).toContain('Signed in as <strong>Newbie</strong>');

    const again = await web.submit('/register', { name: 'Copycat', email: 'newbie@example.test', password: 'long-enough-pw' }, { htmx: true });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('is already registered');
  });

  test('registering under a look-alike of another user\'s name is refused in place, with a sentence about the name', async () => {
    await auth.signUp('Famous Seller');
    const impostor = await web.submit('/register', { name: 'Fam\u043Eus  Seller', email: 'impostor@example.test', password: 'long-enough-pw' }, { htmx: true });
    expect(impostor.status).toBe(409);
    const form = await impostor.text();
    expect(form).toStartWith('<form id="register-form"');
    expect(form).toMatch(/Name [^<]+\./);
    expect(impostor.headers.getSetCookie()).toEqual([]);
    const hidden = await web.submit('/register', { name: 'Famous\u202E Seller', email: 'hidden@example.test', password: 'long-enough-pw' }, { htmx: true });
    expect(hidden.status).toBe(400);
    expect(await hidden.text()).toMatch(/Name [^<]+\./);
  });

  test('an overlong email or name gets "too long", not "is required"', async () => {
    const login = await (await web.submit('/login', { email: `${'x'.repeat(5000)}@example.test`, password: 'whatever' }, { htmx: true })).text();
    expect(login).toContain('must be at most 254 characters');
    const register = await (await web.submit('/register', { name: 'n'.repeat(5000), email: 'long-name@example.test', password: 'long enough pw' }, { htmx: true })).text();
    expect(register).toContain('must be at most 100 characters');
  });

  test('logout ends the session: the cookie is cleared and the old token no longer works anywhere', async () => {
    const { email, password } = await auth.signUp('Leaver');
    const cookie = sessionCookieFrom(await web.submit('/login', { email, password }));
    const token = decodeURIComponent(cookie.split('=')[1]!);
    const logout = await web.submit('/logout', {}, { cookie });
    expect(logout.status).toBe(303);
    expect(logout.headers.getSetCookie().join()).toMatch(/bookstore_session=;.*Max-Age=0/);
    expect((await fetch(`${auth.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    // Replaying the old cookie shows a signed-out page once the web front's revocation poll has seen the logout.
    let replay = '';
    const signedOut = await eventually(async () => {
      replay = await (await web.browse('/', { cookie })).text();
      return !replay.includes('Signed in as');
    }, 3000);
    expect(signedOut).not.toBeNull();
    expect(replay).toContain('href="/login"');
  });

  test('the admin user list: customers are told no, admins see users, htmx gets the table alone', async () => {
    const customer = sessionCookieFrom(await (async () => {
      const { email, password } = await auth.signUp('Nosy Customer');
      return web.submit('/login', { email, password });
    })());
    const denied = await web.browse('/admin/users', { cookie: customer });
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('Only administrators');

    const { email, password } = await auth.signUp('Boss', 'admin');
    const admin = sessionCookieFrom(await web.submit('/login', { email, password }));
    const page = await web.browse('/admin/users', { cookie: admin });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<table');
    expect(html).toContain(email);
    const fragment = await (await web.browse('/admin/users?page=1', { cookie: admin, htmx: true })).text();
    expect(fragment).toStartWith('<section id="user-list">');

    expect((await web.browse('/admin/users')).headers.get('location')).toBe('/login?next=%2Fadmin%2Fusers');
  });
});

test('a form body that cannot be read is a 400, not a server error', async () => {
  for (const path of ['/login', '/register']) {
    const response = await web.browse(path, { method: 'POST', body: 'x', headers: { 'content-type': 'multipart/form-data' } });
    expect(response.status).toBe(400);
  }
  expect(web.log.lines.filter((line) => line.includes('"level":"error"'))).toEqual([]);
});

test('a slow service gets one time budget for the whole call, retry included', async () => {
  let calls = 0;
  // The sleep is the service's slowness under test, not a wait for a condition.
  const slow = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: async () => (calls++, await Bun.sleep(3000), new Response('late')) });
  const impatient = startTestWeb({ auth: auth.url, catalog: `http://127.0.0.1:${slow.port}` }, { budgetMs: 300 });
  try {
    const page = await (await impatient.browse('/catalog')).text();
    expect(page).toContain('The catalog is unavailable right now');
    // Not a wait for a condition: a window in which a wrongful second attempt would still reach the
    // server (its absence cannot be polled for). The budget ran out on the first attempt.
    await Bun.sleep(300);
    expect(calls).toBe(1);
  } finally {
    impatient.close();
    await slow.stop(true);
  }
});

describe('when auth is down', () => {
  test('home still answers 200, and a visitor without a session gets the log-in links (the menu needs no call to auth)', async () => {
    const orphan = startTestWeb({ auth: downUrl });
    try {
      const response = await orphan.browse('/');
      expect(response.status).toBe(200);
      const page = await response.text();
      expect(page).toContain('<a href="/login">Log in</a>');
      expect(page).not.toContain('Your account is unavailable');
      expect(page).toContain('Books from readers');
    } finally {
      orphan.close();
    }
  });

  test('a web front started while auth is down keeps the visitor\'s session cookie', async () => {
    const { email, password } = await auth.signUp('Patient Visitor');
    const cookie = sessionCookieFrom(await web.submit('/login', { email, password }));
    const orphan = startTestWeb({ auth: downUrl });
    try {
      const response = await orphan.browse('/', { cookie });
      expect(response.status).toBe(200);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(await response.text()).toContain('Your account is unavailable right now');
    } finally {
      orphan.close();
    }
  });

  test('logging out while auth is down clears the cookie and says the session ended on this device only', async () => {
    const { email, password } = await auth.signUp('Worried Leaver');
    const cookie = sessionCookieFrom(await web.submit('/login', { email, password }));
    const orphan = startTestWeb({ auth: downUrl });
    try {
      const response = await orphan.submit('/logout', {}, { cookie });
      expect(response.status).toBe(503);
      expect(response.headers.getSetCookie().join()).toMatch(/bookstore_session=;.*Max-Age=0/);
      const page = await response.text();
      expect(page).toContain('Signed out on this device only');
      expect(page).toContain('could not reach our sign-in service');
    } finally {
      orphan.close();
    }
  });

  test('login says to try again shortly, quickly, instead of hanging', async () => {
    const orphan = startTestWeb({ auth: downUrl });
    try {
      const started = Date.now();
      const page = await orphan.browse('/login');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Please try again shortly');
      const post = await orphan.submit('/login', { email: 'a@example.test', password: 'whatever1' });
      expect(post.status).toBe(503);
      expect(await post.text()).toContain('try again shortly');
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      orphan.close();
    }
  });
});
