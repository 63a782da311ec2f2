/** Answering with a page or, to an htmx request, with just its main fragment. */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html, htmlContentType, type Html } from '@bookstore/shared/html';
import type { WebEnv } from './app.ts';
import { fetchFragment, type Fragment, type FragmentRequest } from './compose.ts';
import { accountMenu, adminNav, page } from './layout.ts';

/**
 * This page's address as a link: path and query only. Never `c.req.url`, whose host comes from the
 * request's Host header and would let a crafted request put another site into the page.
 */
export function pageLink(c: Context): string {
  return `${c.req.path}${new URL(c.req.url).search}`;
}

export function isHtmx(c: Context) {
  return c.req.header('hx-request') === 'true' && c.req.header('hx-boosted') !== 'true';
}

/**
 * One fragment with the request's budget, token and logger. A GET may come from the fragment cache
 * (as long as its service allows), except for a viewer who has just written: their pages are read
 * from the services' primaries, so they see their change at once.
 */
export function fragment(c: Context<WebEnv>, request: Omit<FragmentRequest, 'token'> & { token?: string | null }): Promise<Fragment> {
  const { deps, principal, fragmentCache, readPrimary } = c.var;
  const load = () => fetchFragment(deps.config.FRAGMENT_BUDGET_MS, deps.log, { token: principal?.token, readPrimary, ...request });
  if (readPrimary || (request.method ?? 'GET') !== 'GET' || request.json !== undefined) return load();
  return fragmentCache.get(`${request.client.service} ${request.path}`, principal ? `user ${principal.userId}` : null, load);
}

/** The header's cart link with its count, from purchase; nothing when purchase does not answer. */
export async function cartBadge(c: Context<WebEnv>): Promise<Html | string> {
  if (!c.var.principal) return '';
  const badge = await fragment(c, { client: c.var.deps.clients.purchase, path: '/fragments/cart-badge', label: 'Cart' });
  return badge.ok ? badge.html : '';
}

/**
 * Answers with the full page, or with `main` alone for htmx. `main` is fetched together with the
 * cart badge, so the slower service bounds the page, not their sum; the account box is drawn here. Without a
 * `status`, a fragment's own status is the page's (a fragment that is down still makes a 200 page).
 */
export async function respond(c: Context<WebEnv>, title: string, main: Promise<Html | Fragment> | Html | Fragment, status?: number): Promise<Response> {
  const htmx = isHtmx(c);
  const [badge, body] = await Promise.all([htmx ? '' : cartBadge(c), main]);
  const content = isFragment(body) ? body.html : body;
  const code = status ?? (isFragment(body) && body.ok ? body.status : 200);
  c.header('content-type', htmlContentType);
  c.header('vary', 'HX-Request');
  if (htmx) return c.body(String(await content), code as 200);
  const { principal } = c.var;
  const menu = accountMenu(c.var.sessionUnknown ? 'unknown' : principal);
  const subNav = principal?.role === 'admin' && c.req.path.startsWith('/admin/') ? adminNav(c.req.path) : '';
  return c.body(String(await page({ title, accountMenu: menu, cartBadge: badge, notice: takeNotice(c), subNav, main: content })), code as 200);
}

/**
 * A message for the next page the visitor sees, by key: only the fixed sentences below are ever
 * shown, filled with what the web front knows itself (the signed-in user's name), never with text
 * from the request.
 */
const noticeCookie = 'bookstore_notice';
const notices = {
  welcome: (name: string) => `Welcome, ${name} — your account is ready.`,
};

/** Shows `key`'s message on the next full page (a cookie for a minute, read once). */
export function noticeForNextPage(c: Context<WebEnv>, key: keyof typeof notices) {
  setCookie(c, noticeCookie, key, { httpOnly: true, sameSite: 'Lax', secure: c.var.deps.config.COOKIE_SECURE, path: '/', maxAge: 60 });
}

function takeNotice(c: Context<WebEnv>): Html | string {
  const key = getCookie(c, noticeCookie);
  if (key === undefined) return '';
  deleteCookie(c, noticeCookie, { path: '/', secure: c.var.deps.config.COOKIE_SECURE, httpOnly: true, sameSite: 'Lax' });
  const principal = c.var.principal;
  if (!principal || !Object.hasOwn(notices, key)) return '';
  return html`<p class="notice success" role="status">${notices[key as keyof typeof notices](principal.name)}</p>`;
}

function isFragment(value: Html | Fragment): value is Fragment {
  return typeof value === 'object' && value !== null && 'ok' in value && 'html' in value;
}

/** Sends the browser elsewhere after a form: 303 for a plain form, HX-Redirect for htmx. */
export function redirectTo(c: Context, location: string) {
  if (isHtmx(c)) {
    c.header('hx-redirect', location);
    return c.body(null, 204);
  }
  return c.redirect(location, 303);
}

const errorTexts: Record<number, [title: string, text: string]> = {
  400: ['Bad request', 'That request could not be understood.'],
  403: ['Not allowed', 'You are not allowed to do that. If this was a form, reload the page and try again.'],
  404: ['Page not found', 'There is nothing at this address.'],
  413: ['Too large', 'What you sent is larger than the shop accepts (6 MB). If it was a cover image, go back and choose a smaller one: the form says how large a cover may be.'],
  500: ['Something went wrong', 'Something went wrong on our side. Please try again.'],
  503: ['Unavailable', 'A part of the shop is not answering. Please try again shortly.'],
};

/** An error as a page in the layout, for a browser (htmx gets the message alone). */
export async function errorPage(c: Context<WebEnv>, status: number): Promise<Response> {
  const [title, text] = errorTexts[status] ?? errorTexts[status >= 500 ? 500 : 400]!;
  const body = html`<section class="error-page"><h1>${title}</h1><p>${text}</p><p><a href="/">Home</a> · <a href="/catalog">Catalog</a></p></section>`;
  if (!c.var.deps) {
    c.header('content-type', htmlContentType);
    return c.body(String(await page({ title, accountMenu: '', main: body })), status as 200);
  }
  return respond(c, title, body, status);
}
