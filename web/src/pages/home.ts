/** The home page. */
import type { Context } from 'hono';
import { html } from '@bookstore/shared/html';
import type { WebEnv } from '../app.ts';
import { fragment, respond } from '../render.ts';

/** Welcome, and the newest books from catalog (a retry box if catalog is down). */
export async function homePage(c: Context<WebEnv>) {
  const newBooks = fragment(c, { client: c.var.deps.clients.catalog, path: '/fragments/new-books', label: 'The newest books', retryUrl: '/' });
  return respond(
    c,
    'Welcome',
    newBooks.then(
      (books) => html`<section class="hero">
          <h1>Books from readers, for readers</h1>
          <p>Find your next book in the catalog, or sell the ones you have read.</p>
          <p><a class="button" href="/catalog">Browse the catalog</a> <a class="button secondary" href="/sell">Sell a book</a></p>
        </section>
        ${books.html}`,
    ),
  );
}
