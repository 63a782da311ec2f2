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
    'Books from readers, for readers',
    newBooks.then(
      (books) => html`<section class="hero">
          <h1>Books from readers, for readers</h1>
          <p>Find your next book in the catalog, or sell the ones you have read.</p>
          <p class="actions"><a class="button" href="/catalog">Browse the catalog</a> <a class="button secondary" href="/sell">Sell a book</a></p>
        </section>
        <ul class="promises" aria-label="How the shop works">
          <li><strong>Delivery shown before you pay</strong> <a href="/shipping">Carriers and prices</a></li>
          <li><strong>Cancel until you pay</strong> <a href="/returns">Returns and cancellations</a></li>
          <li><strong>Only the card's last four digits are kept</strong> <a href="/privacy">What we store</a></li>
        </ul>
        ${books.html}`,
    ),
  );
}
