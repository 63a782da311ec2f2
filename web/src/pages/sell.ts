/** Seller pages: my books, add, edit, delete, cover; catalog renders the forms and checks ownership. */
import { Hono, type Context } from 'hono';
import { ServiceUnavailableError } from '@bookstore/shared/http';
import { html, raw, unavailableBox } from '@bookstore/shared/html';
import type { Problem } from '@bookstore/shared/errors';
import type { WebEnv } from '../app.ts';
import { fragment, redirectTo, respond } from '../render.ts';
import { safeNextPath } from '../session.ts';

// Ids are digits only; the catalog path is built from the parsed number, never from the raw URL.
export const sellPages = new Hono<WebEnv>()
  .get('/sell', (c) => showSellerPage(c, 'My books', '/sell'))
  .get('/sell/new', (c) => showSellerPage(c, 'Add a book', '/sell/new'))
  .get('/sell/:id{[0-9]{1,10}}/edit', (c) => showSellerPage(c, 'Edit a book', `/sell/${Number(c.req.param('id'))}/edit`))
  .post('/sell/new', (c) => submitSellerForm(c, '/sell/new'))
  .post('/sell/:id{[0-9]{1,10}}/edit', (c) => submitSellerForm(c, `/sell/${Number(c.req.param('id'))}/edit`))
  .post('/sell/:id{[0-9]{1,10}}/delete', (c) => submitSellerForm(c, `/sell/${Number(c.req.param('id'))}/delete`))
  .post('/sell/:id{[0-9]{1,10}}/cover', (c) => submitSellerForm(c, `/sell/${Number(c.req.param('id'))}/cover`));

const sellingUnavailable = html`<div class="card">${unavailableBox('Selling', '/sell')}<p class="hint">Nothing was changed. Please try again shortly.</p></div>`;

function loginFirst(c: Context<WebEnv>) {
  return redirectTo(c, `/login?next=${encodeURIComponent(c.req.path)}`);
}

/** GET /sell… → catalog's /fragments/sell…, with the seller's token. */
async function showSellerPage(c: Context<WebEnv>, title: string, path: string) {
  if (!c.var.principal) return loginFirst(c);
  const search = new URL(c.req.url).search;
  const main = await fragment(c, { client: c.var.deps.clients.catalog, path: `/fragments${path}${search}`, label: 'Your books', retryUrl: c.req.url });
  if (main.status === 401) return loginFirst(c);
  return respond(c, title, main, main.ok ? main.status : 200);
}

/**
 * POST /sell… → the same form body to catalog's /fragments/sell…. Catalog answers 303 when it is
 * done (the browser follows) or the form again with its errors.
 */
async function submitSellerForm(c: Context<WebEnv>, path: string) {
  const { deps, principal } = c.var;
  if (!principal) return loginFirst(c);
  let response: Response;
  try {
    response = await deps.clients.catalog.request(`/fragments${path}`, {
      method: 'POST',
      headers: { 'content-type': c.req.header('content-type') ?? 'application/x-www-form-urlencoded', authorization: `Bearer ${principal.token}` },
      body: await c.req.arrayBuffer(),
      redirect: 'manual',
      timeoutMs: 10_000,
    });
  } catch (error) {
    if (!(error instanceof ServiceUnavailableError)) throw error;
    return respond(c, 'Sell', sellingUnavailable, 503);
  }
  if (response.status === 303) return redirectTo(c, safeNextPath(response.headers.get('location')));
  if (response.status === 401) return loginFirst(c);
  const type = response.headers.get('content-type') ?? '';
  if (response.status < 500 && type.includes('application/problem+json')) {
    const problem = (await response.json()) as Problem;
    return respond(c, 'Sell', html`<div class="notice" role="alert"><p>${problem.detail ?? 'That did not work.'}</p><p><a href="/sell">Back to my books</a></p></div>`, response.status);
  }
  if (response.status >= 500 || !type.startsWith('text/html')) {
    await response.body?.cancel();
    return respond(c, 'Sell', sellingUnavailable, 503);
  }
  return respond(c, 'Sell', { html: raw(await response.text()), status: response.status, ok: true }, response.status);
}
