/**
 * Admin pages (search, disable, enable, role, end sessions, delete, the record) through the web
 * front, and their reach: a user an admin disables, demotes or deletes (or who deletes their own
 * account) is refused by catalog, purchase and the web within the same seconds as a logout.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { bearer, eventually } from '@bookstore/shared/testing/http';
import { serveTestAuth, type ServedTestAuth } from '../../services/auth/test/support.ts';
import { startTestCatalog, type TestCatalog } from '../../services/catalog/test/support.ts';
import { startTestPurchase, type TestPurchase } from '../../services/purchase/test/support.ts';
import { sessionCookieFrom, startTestWeb, webOrigin } from './support.ts';

let auth: ServedTestAuth;
let catalog: TestCatalog;
let purchase: TestPurchase;
let web: ReturnType<typeof startTestWeb>;
let adminCookie: string;
let admin: Awaited<ReturnType<ServedTestAuth['signUp']>>;

beforeAll(async () => {
  auth = await serveTestAuth();
  [catalog, purchase] = await Promise.all([startTestCatalog(auth.url), startTestPurchase(auth.url)]);
  web = startTestWeb({ auth: auth.url });
  admin = await auth.signUp('Page Admin', 'admin');
  adminCookie = await webLogin(admin.email, admin.password);
});
afterAll(async () => {
  web?.close();
  await purchase?.close();
  await catalog?.close();
  await auth?.close();
});

async function webLogin(email: string, password: string) {
  const response = await web.submit('/login', { email, password });
  expect(response.status).toBe(303);
  return sessionCookieFrom(response);
}

const signedIn = async (cookie: string, name: string) => (await (await web.browse('/', { cookie })).text()).includes(`Signed in as <strong>${name}</strong>`);
const catalogStatus = async (token: string) => (await catalog.app.request('/api/sellers/me/books', { headers: bearer(token) })).status;
const purchaseStatus = async (token: string) => (await purchase.call('/api/orders', 'GET', undefined, token)).status;

/** Waits (polling, no fixed sleep) until catalog, purchase and the web all refuse this session. */
async function refusedEverywhere(token: string, cookie: string, name: string) {
  const took = await eventually(async () => (await catalogStatus(token)) === 401 && (await purchaseStatus(token)) === 401 && !(await signedIn(cookie, name)), 2500);
  expect(took).not.toBeNull();
}

describe('reach', () => {
  test('a user the admin disables through the web is refused by catalog, purchase and the web within seconds, and cannot log in', async () => {
    const user = await auth.signUp('Disabled Dora');
    const cookie = await webLogin(user.email, user.password);
    expect(await catalogStatus(user.token)).toBe(200);
    expect(await purchaseStatus(user.token)).toBe(200);
    expect(await signedIn(cookie, 'Disabled Dora')).toBe(true);

    const done = await web.submit(`/admin/users/${user.userId}/disable`, {}, { cookie: adminCookie });
    expect(done.status).toBe(303);
    await refusedEverywhere(user.token, cookie, 'Disabled Dora');

    const again = await web.submit('/login', { email: user.email, password: user.password });
    expect(again.status).toBe(403);
    expect(await again.text()).toContain('This account is disabled');

    expect((await web.submit(`/admin/users/${user.userId}/enable`, {}, { cookie: adminCookie })).status).toBe(303);
    expect((await web.submit('/login', { email: user.email, password: user.password })).status).toBe(303);
  });

  test('a demoted admin loses the admin pages and every session at once', async () => {
    const deputy = await auth.signUp('Deputy Dan', 'admin');
    const cookie = await webLogin(deputy.email, deputy.password);
    expect(await (await web.browse('/admin/users', { cookie })).text()).toContain('id="user-list"');

    const done = await web.submit(`/admin/users/${deputy.userId}/role`, { role: 'customer' }, { cookie: adminCookie });
    expect(done.status).toBe(303);
    await refusedEverywhere(deputy.token, cookie, 'Deputy Dan');
    const page = await web.browse('/admin/users', { cookie });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toStartWith('/login');
  });

  test('"end all sessions" signs the user out everywhere, and nobody else', async () => {
    const user = await auth.signUp('Ended Eve');
    const bystander = await auth.signUp('Bystander Bo');
    const cookie = await webLogin(user.email, user.password);
    expect((await web.submit(`/admin/users/${user.userId}/sessions/revoke`, {}, { cookie: adminCookie })).status).toBe(303);
    await refusedEverywhere(user.token, cookie, 'Ended Eve');
    expect(await catalogStatus(bystander.token)).toBe(200);
    expect(await purchaseStatus(bystander.token)).toBe(200);
    expect(await signedIn(adminCookie, 'Page Admin')).toBe(true);
  });
});

describe('deleting accounts', () => {
  test('an admin deletes an account only with the box ticked; then the user is refused everywhere and cannot log in', async () => {
    const user = await auth.signUp('Deleted Dave');
    const cookie = await webLogin(user.email, user.password);
    const list = await (await web.browse('/admin/users?q=dave', { cookie: adminCookie })).text();
    expect(list).toContain(`action="/admin/users/${user.userId}/delete"`);
    expect(list).toContain('name="confirm"');

    const unconfirmed = await web.submit(`/admin/users/${user.userId}/delete`, {}, { cookie: adminCookie });
    expect(unconfirmed.status).toBe(400);
    expect(await unconfirmed.text()).toContain('Nothing was deleted');
    expect(await signedIn(cookie, 'Deleted Dave')).toBe(true);

    const done = await web.submit(`/admin/users/${user.userId}/delete`, { confirm: 'yes' }, { cookie: adminCookie });
    expect(done.status).toBe(303);
    expect(await (await web.browse(done.headers.get('location')!, { cookie: adminCookie })).text()).toContain('The account is deleted');
    await refusedEverywhere(user.token, cookie, 'Deleted Dave');
    expect((await web.submit('/login', { email: user.email, password: user.password })).status).toBe(401);
    const record = await (await web.browse('/admin/actions', { cookie: adminCookie })).text();
    expect(record).not.toContain(user.email);
  });

  test('a user deletes their own account on /account: a wrong password or no tick keeps it, the right one signs them out everywhere', async () => {
    const user = await auth.signUp('Leaving Lena');
    const cookie = await webLogin(user.email, user.password);
    const page = await web.browse('/account', { cookie });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('action="/account/delete"');
    expect((await web.browse('/account')).headers.get('location')).toBe('/login?next=%2Faccount');

    const unticked = await web.submit('/account/delete', { password: user.password }, { cookie });
    expect(unticked.status).toBe(400);
    const untickedPage = await unticked.text();
    expect(untickedPage).toContain('Tick this box');
    // The cursor goes to what to fix, which names its message.
    expect(untickedPage).toContain('<input type="checkbox" name="confirm" value="yes" required aria-invalid="true" aria-describedby="delete-confirm-error" autofocus>');
    const wrong = await web.submit('/account/delete', { password: 'not the password', confirm: 'yes' }, { cookie });
    expect(wrong.status).toBe(400);
    const wrongPage = await wrong.text();
    expect(wrongPage).toContain('That password is wrong.');
    expect(wrongPage).toMatch(/<input id="delete-password"[^>]* aria-invalid="true" aria-describedby="delete-password-error" autofocus>/);
    expect(await signedIn(cookie, 'Leaving Lena')).toBe(true);

    const done = await web.submit('/account/delete', { password: user.password, confirm: 'yes' }, { cookie });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Your account is deleted');
    expect(done.headers.get('set-cookie')).toContain('bookstore_session=;');
    await refusedEverywhere(user.token, cookie, 'Leaving Lena');
    expect((await web.submit('/login', { email: user.email, password: user.password })).status).toBe(401);
  });
});

describe('pages', () => {
  test('the user list searches by name or email and offers the forms for each user', async () => {
    const user = await auth.signUp('Searchable Quokka');
    await auth.signUp('Someone Else');
    const page = await (await web.browse('/admin/users?q=quokka', { cookie: adminCookie })).text();
    expect(page).toContain('<form');
    expect(page).toContain('name="q"');
    expect(page).toContain('value="quokka"');
    expect(page).toContain('Searchable Quokka');
    expect(page).not.toContain('Someone Else');
    for (const action of ['disable', 'role', 'sessions/revoke']) expect(page).toContain(`action="/admin/users/${user.userId}/${action}"`);

    const byEmail = await (await web.browse(`/admin/users?q=${encodeURIComponent(user.email)}`, { cookie: adminCookie })).text();
    expect(byEmail).toContain('Searchable Quokka');

    await web.submit(`/admin/users/${user.userId}/disable`, {}, { cookie: adminCookie });
    const after = await (await web.browse('/admin/users?q=quokka', { cookie: adminCookie })).text();
    expect(after).toContain('disabled');
    expect(after).toContain(`action="/admin/users/${user.userId}/enable"`);
  });

  test('the record page lists who did what to whom', async () => {
    const user = await auth.signUp('Recorded Rita');
    await web.submit(`/admin/users/${user.userId}/role`, { role: 'admin' }, { cookie: adminCookie });
    const page = await (await web.browse('/admin/actions', { cookie: adminCookie })).text();
    expect(page).toContain('id="admin-actions"');
    expect(page).toContain('Page Admin');
    expect(page).toContain(user.email);
    expect(page).toContain('customer → admin');
  });

  test('an admin cannot disable themselves: the page says why', async () => {
    const response = await web.submit(`/admin/users/${admin.userId}/disable`, {}, { cookie: adminCookie });
    expect(response.status).toBe(409);
    const page = await response.text();
    expect(page).toContain('<div class="notice" role="alert" tabindex="-1" autofocus><p>You cannot disable your own account.</p>');
    expect(await signedIn(adminCookie, 'Page Admin')).toBe(true);
  });

  test('a customer cannot use the admin pages or forms', async () => {
    const customer = await auth.signUp('Nosy Ned');
    const target = await auth.signUp('Target Tom');
    const cookie = await webLogin(customer.email, customer.password);
    const list = await web.browse('/admin/users', { cookie });
    expect(list.status).toBe(403);
    expect((await web.browse('/admin/actions', { cookie })).status).toBe(403);
    for (const path of ['disable', 'enable', 'sessions/revoke']) expect((await web.submit(`/admin/users/${target.userId}/${path}`, {}, { cookie })).status).toBe(403);
    expect((await web.submit(`/admin/users/${target.userId}/role`, { role: 'admin' }, { cookie })).status).toBe(403);
    expect(await catalogStatus(target.token)).toBe(200);
    expect(await signedIn(cookie, 'Nosy Ned')).toBe(true);
  });

  test('a cross-site form cannot act for the admin', async () => {
    const target = await auth.signUp('Csrf Target');
    const response = await web.app.request(`${webOrigin}/admin/users/${target.userId}/disable`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', cookie: adminCookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(response.status).toBe(403);
    expect(await catalogStatus(target.token)).toBe(200);
  });
});
