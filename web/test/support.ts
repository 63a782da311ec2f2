/** A web front in process, talking over HTTP to whatever service URLs a test gives it. */
import { serviceTokenHeader } from '@bookstore/shared/auth';
import { createHttpClient } from '@bookstore/shared/http';
import { createMemoryLogger } from '@bookstore/shared/log';
import { testServiceToken } from '@bookstore/shared/testing/http';
import { testVerifier } from '@bookstore/shared/testing/token-check';
import { resolve } from 'node:path';
import { expect } from 'bun:test';
import { serveTestAuth } from '../../services/auth/test/support.ts';
import { serveCatalogWithSeller } from '../../services/catalog/test/support.ts';
import { startTestPurchase } from '../../services/purchase/test/support.ts';
import { createApp } from '../src/app.ts';

export const webOrigin = 'http://shop.test';
/** A port nothing listens on: a service that is down. */
export const downUrl = 'http://127.0.0.1:1';

export function startTestWeb(urls: { auth: string; catalog?: string; purchase?: string }, options: { budgetMs?: number } = {}) {
  const headers = { [serviceTokenHeader]: testServiceToken };
  const client = (service: string, baseUrl: string) => createHttpClient({ service, baseUrl, timeoutMs: 2000, headers: service === 'auth' ? headers : {} });
  const { verifier } = testVerifier(urls.auth);
  const log = createMemoryLogger('web');
  const app = createApp({
    config: {
      STATIC_DIR: resolve(import.meta.dir, '../static'),
      FRAGMENT_BUDGET_MS: options.budgetMs ?? 1500,
      COOKIE_SECURE: false,
      ALLOWED_ORIGINS: [],
      TRUST_PROXY: false,
    },
    clients: { auth: client('auth', urls.auth), catalog: client('catalog', urls.catalog ?? downUrl), purchase: client('purchase', urls.purchase ?? downUrl) },
    verifier,
    log,
  });

  /** A request as a browser on the shop's own origin sends it. */
  const browse = (path: string, init: RequestInit & { cookie?: string; htmx?: boolean } = {}) => {
    const headers = new Headers(init.headers);
    if (init.cookie) headers.set('cookie', init.cookie);
    if (init.htmx) headers.set('hx-request', 'true');
    if (init.method && init.method !== 'GET') headers.set('origin', webOrigin);
    return app.request(`${webOrigin}${path}`, { ...init, headers });
  };
  const submit = (path: string, fields: Record<string, string>, init: { cookie?: string; htmx?: boolean } = {}) =>
    browse(path, { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' }, ...init });

  return { app, log, browse, submit, close: () => verifier.stop() };
}

/** Every cookie a response set, as a Cookie header value (added to `cookie`, replacing same names). */
export function cookiesFrom(response: Response, cookie = ''): string {
  const jar = new Map(cookie.split('; ').filter(Boolean).map((pair) => [pair.split('=')[0]!, pair] as const));
  for (const value of response.headers.getSetCookie()) {
    const pair = value.split(';')[0]!;
    jar.set(pair.split('=')[0]!, pair);
  }
  return [...jar.values()].join('; ');
}

/** The session cookie a response set, as a Cookie header value. */
export function sessionCookieFrom(response: Response): string {
  const setCookie = response.headers.getSetCookie().find((value) => value.startsWith('bookstore_session='));
  if (!setCookie) throw new Error('no session cookie was set');
  return setCookie.split(';')[0]!;
}

/** Auth over HTTP and a web front using it (catalog and purchase down): for the account pages. */
export async function startWebWithAuth() {
  const auth = await serveTestAuth();
  const web = startTestWeb({ auth: auth.url });
  return {
    auth,
    web,
    async close() {
      web.close();
      await auth.close();
    },
  };
}

/**
 * The whole shop in process: auth, catalog (with a seller) and purchase over real HTTP and MariaDB,
 * a web front in front of them, and what tests do through its pages: log in, place and pay an order.
 */
export async function startShopWithWeb() {
  const shop = await serveCatalogWithSeller();
  const purchase = await startTestPurchase(shop.auth.url, { catalogUrl: shop.catalogUrl });
  const web = startTestWeb({ auth: shop.auth.url, catalog: shop.catalogUrl, purchase: purchase.baseUrl });

  /** Signs `name` up and logs in through the web's form; answers the session cookie. */
  async function logIn(name: string, role: 'customer' | 'admin' = 'customer') {
    const user = await shop.auth.signUp(name, role);
    const response = await web.submit('/login', { email: user.email, password: user.password });
    expect(response.status).toBe(303);
    return sessionCookieFrom(response);
  }

  /** Adds one copy of `bookId` to the cart, checks out and pays with the approving test card, all through the web's forms; answers the order id. */
  async function placePaidOrder(cookie: string, bookId: number, holder = 'Test Buyer'): Promise<string> {
    expect((await web.submit('/cart/items', { bookId: String(bookId), quantity: '1' }, { cookie })).status).toBe(303);
    const key = formKey(await (await web.browse('/checkout', { cookie })).text());
    const placed = await web.submit('/checkout', { providerId: '1', key }, { cookie });
    const orderId = placed.headers.get('location')!.match(/ord_[a-z2-7]{24}/)![0];
    const payKey = formKey(await (await web.browse(`/orders/${orderId}/pay`, { cookie })).text());
    const card = { cardNumber: '4242 4242 4242 4242', expMonth: '12', expYear: String(new Date().getUTCFullYear() + 1), cvc: '123', holder };
    expect((await web.submit(`/orders/${orderId}/pay`, { ...card, key: payKey }, { cookie })).status).toBe(303);
    return orderId;
  }

  return {
    shop,
    purchase,
    web,
    logIn,
    placePaidOrder,
    async close() {
      web.close();
      await purchase.close();
      await shop.close();
    },
  };
}

/** The key a page's form carries (hidden field `key`). */
export function formKey(page: string): string {
  const key = page.match(/name="key" value="([^"]+)"/)?.[1];
  if (!key) throw new Error(`no form key in: ${page.slice(0, 300)}`);
  return key;
}
