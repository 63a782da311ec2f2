/** A web front in process, talking over HTTP to whatever service URLs a test gives it. */
import { serviceTokenHeader } from '@bookstore/shared/auth';
import { createHttpClient } from '@bookstore/shared/http';
import { createMemoryLogger } from '@bookstore/shared/log';
import { testServiceToken } from '@bookstore/shared/testing/http';
import { testVerifier } from '@bookstore/shared/testing/token-check';
import { resolve } from 'node:path';
import { serveTestAuth } from '../../services/auth/test/support.ts';
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
