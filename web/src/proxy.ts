/**
 * Pages a service renders for a signed-in user: the web front asks the service's fragment at the
 * same path (GET), or forwards the browser's form to it (POST) with the user's token. The service
 * answers 303 when a form is done (the browser follows), HTML with errors otherwise.
 */
import type { Context } from 'hono';
import type { Problem } from '@bookstore/shared/errors';
import { ServiceUnavailableError, type HttpClient } from '@bookstore/shared/http';
import { html, raw, unavailableBox } from '@bookstore/shared/html';
import type { WebEnv } from './app.ts';
import { fragment, isHtmx, redirectTo, respond, pageLink } from './render.ts';
import { markWritten, safeNextPath } from './session.ts';

export interface ServicePage {
  client: (c: Context<WebEnv>) => HttpClient;
  /** The page's title, and what the retry box says is unavailable. */
  title: string;
  label: string;
  /** Where the retry box of a form that could not be sent leads. */
  home: string;
}

export function loginFirst(c: Context<WebEnv>, next = c.req.path) {
  return redirectTo(c, `/login?next=${encodeURIComponent(next)}`);
}

/** GET <path> → the service's /fragments<path> (same query), in the layout. */
export async function showServicePage(c: Context<WebEnv>, page: ServicePage, path: string) {
  if (!c.var.principal) return loginFirst(c);
  const search = new URL(c.req.url).search;
  const main = fragment(c, { client: page.client(c), path: `/fragments${path}${search}`, label: page.label, retryUrl: pageLink(c) });
  const answer = respond(c, page.title, main); // the account box and badge are fetched meanwhile
  if ((await main).status === 401) return loginFirst(c);
  return answer;
}

/** POST <path> → the same form body to the service's /fragments<path>. */
export async function submitServiceForm(c: Context<WebEnv>, page: ServicePage, path: string) {
  const { principal } = c.var;
  if (!principal) return loginFirst(c);
  const unavailable = html`<div class="card">${unavailableBox(page.label, page.home)}<p class="hint">Nothing was changed. Please try again shortly.</p></div>`;
  const unconfirmed = html`<div class="card">${unavailableBox(page.label, page.home)}<p class="hint">We could not confirm whether this went through. Check <a href="${page.home}">the page it would change</a> before trying again; sending the same form again will not do it twice.</p></div>`;
  let response: Response;
  try {
    response = await page.client(c).request(`/fragments${path}`, {
      method: 'POST',
      headers: {
        'content-type': c.req.header('content-type') ?? 'application/x-www-form-urlencoded',
        authorization: `Bearer ${principal.token}`,
        ...(isHtmx(c) ? { 'hx-request': 'true' } : {}),
      },
      body: await c.req.arrayBuffer(),
      redirect: 'manual',
      timeoutMs: 15_000,
    });
  } catch (error) {
    if (!(error instanceof ServiceUnavailableError)) throw error;
    // Sent but not answered: it may have been done (a payment, say). Say so, instead of "nothing changed".
    if (error.sent) return respond(c, page.title, unconfirmed, 503);
    return respond(c, page.title, unavailable, 503);
  }
  // Done (a 303, or htmx's fragment of the new state): this viewer reads fresh for a while.
  if (response.status < 400) markWritten(c, c.var.deps.config.COOKIE_SECURE);
  if (response.status === 303) return redirectTo(c, safeNextPath(response.headers.get('location')));
  if (response.status === 401) return loginFirst(c);
  const type = response.headers.get('content-type') ?? '';
  if (response.status < 500 && type.includes('application/problem+json')) {
    const problem = (await response.json()) as Problem;
    return respond(c, page.title, html`<div class="notice" role="alert"><p>${problem.detail ?? 'That did not work.'}</p></div>`, response.status);
  }
  if (response.status >= 500 || !type.startsWith('text/html')) {
    await response.body?.cancel();
    // The service took the form and failed or gave up waiting: it may have been done meanwhile.
    return respond(c, page.title, response.status >= 500 ? unconfirmed : unavailable, 503);
  }
  return respond(c, page.title, { html: raw(await response.text()), status: response.status, ok: true }, response.status);
}
