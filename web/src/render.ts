/** Answering with a page or, to an htmx request, with just its main fragment. */
import type { Context } from 'hono';
import { htmlContentType, type Html } from '@bookstore/shared/html';
import type { WebEnv } from './app.ts';
import { fetchFragment, type Fragment, type FragmentRequest } from './compose.ts';
import { page } from './layout.ts';

export function isHtmx(c: Context) {
  return c.req.header('hx-request') === 'true' && c.req.header('hx-boosted') !== 'true';
}

/** One fragment with the request's budget, token and logger. */
export function fragment(c: Context<WebEnv>, request: Omit<FragmentRequest, 'token'> & { token?: string | null }): Promise<Fragment> {
  const { deps, principal } = c.var;
  return fetchFragment(deps.config.FRAGMENT_BUDGET_MS, deps.log, { token: principal?.token, ...request });
}

/** The account box, from auth; "unavailable" when auth does not answer. */
export function accountMenu(c: Context<WebEnv>): Promise<Fragment> {
  return fragment(c, { client: c.var.deps.clients.auth, path: '/fragments/account-menu', label: 'Your account' });
}

/**
 * Answers with the full page, or with `main` alone for htmx. `main` is awaited together with the
 * account box, so the slowest service bounds the page, not their sum.
 */
export async function respond(c: Context<WebEnv>, title: string, main: Promise<Html | Fragment> | Html | Fragment, status = 200): Promise<Response> {
  const htmx = isHtmx(c);
  const [menu, body] = await Promise.all([htmx ? null : accountMenu(c), main]);
  const content = isFragment(body) ? body.html : body;
  c.header('content-type', htmlContentType);
  c.header('vary', 'HX-Request');
  if (htmx) return c.body(String(await content), status as 200);
  return c.body(String(await page({ title, accountMenu: menu!.html, main: content })), status as 200);
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
