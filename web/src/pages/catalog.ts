/** Shopper pages: the catalog with search and filters, a book's page, and its cover images. */
import { Hono, type Context } from 'hono';
import { ServiceUnavailableError } from '@bookstore/shared/http';
import type { WebEnv } from '../app.ts';
import { html, notice } from '@bookstore/shared/html';
import type { Fragment } from '../compose.ts';
import { fragment, respond, pageLink } from '../render.ts';

export const catalogPages = new Hono<WebEnv>()
  .get('/catalog', showCatalog)
  .get('/books/:id{[0-9]{1,10}}', showBook)
  .get('/covers/:file{[a-f0-9]{40}\\.[a-z]{3,4}}', proxyCover);

/** The whole catalog page; to htmx (search as you type, pages) only the results it swaps. */
async function showCatalog(c: Context<WebEnv>) {
  const search = new URL(c.req.url).search;
  const resultsOnly = c.req.header('hx-target') === 'book-results';
  const path = resultsOnly ? `/fragments/book-results${search}` : `/fragments/catalog${search}`;
  return respond(c, 'Catalog', fragment(c, { client: c.var.deps.clients.catalog, path, label: 'The catalog', retryUrl: pageLink(c) }));
}

async function showBook(c: Context<WebEnv>) {
  const id = Number(c.req.param('id'));
  // The book from catalog and its buy box from purchase, side by side: either may be down alone.
  const book = fragment(c, { client: c.var.deps.clients.catalog, path: `/fragments/books/${id}`, label: 'This book', retryUrl: pageLink(c) });
  const buyBox = fragment(c, { client: c.var.deps.clients.purchase, path: `/fragments/buy-box/${id}`, label: 'Buying' });
  const main = Promise.all([book, buyBox]).then(([detail, box]): Fragment => ({
    ...detail,
    html: detail.ok && detail.status === 200 ? html`<div class="book-page">${detail.html}<aside>${box.ok ? box.html : html`<div class="buy-box card">${notice('Buying is unavailable right now. You can still browse; please try again shortly.')}</div>`}</aside></div>` : detail.html,
  }));
  return respond(c, 'Book', main);
}

/** Covers live with catalog (on the shared volume); the browser only ever talks to the web front. */
async function proxyCover(c: Context<WebEnv>) {
  try {
    const response = await c.var.deps.clients.catalog.request(`/covers/${c.req.param('file')}`);
    const headers = new Headers();
    for (const name of ['content-type', 'cache-control', 'content-length']) {
      const value = response.headers.get(name);
      if (value) headers.set(name, value);
    }
    return new Response(response.body, { status: response.status, headers });
  } catch (error) {
    if (!(error instanceof ServiceUnavailableError)) throw error;
    return c.body(null, 503);
  }
}
