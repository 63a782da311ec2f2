/** Shopper pages: the catalog with search and filters, a book's page, and its cover images. */
import { Hono, type Context } from 'hono';
import { ServiceUnavailableError } from '@bookstore/shared/http';
import type { WebEnv } from '../app.ts';
import { fragment, respond } from '../render.ts';

export const catalogPages = new Hono<WebEnv>()
  .get('/catalog', showCatalog)
  .get('/books/:id{[0-9]{1,10}}', showBook)
  .get('/covers/:file{[a-f0-9]{40}\\.[a-z]{3,4}}', proxyCover);

/** The whole catalog page; to htmx (search as you type, pages) only the results it swaps. */
async function showCatalog(c: Context<WebEnv>) {
  const search = new URL(c.req.url).search;
  const resultsOnly = c.req.header('hx-target') === 'book-results';
  const path = resultsOnly ? `/fragments/book-results${search}` : `/fragments/catalog${search}`;
  const main = await fragment(c, { client: c.var.deps.clients.catalog, path, label: 'The catalog', retryUrl: c.req.url });
  return respond(c, 'Catalog', main, main.ok ? main.status : 200);
}

async function showBook(c: Context<WebEnv>) {
  const id = Number(c.req.param('id'));
  const main = await fragment(c, { client: c.var.deps.clients.catalog, path: `/fragments/books/${id}`, label: 'This book', retryUrl: c.req.url });
  return respond(c, 'Book', main, main.ok ? main.status : 200);
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
