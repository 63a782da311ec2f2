/** The home page. */
import type { Context } from 'hono';
import { html } from '@bookstore/shared/html';
import type { WebEnv } from '../app.ts';
import { respond } from '../render.ts';

export function homePage(c: Context<WebEnv>) {
  return respond(
    c,
    'Welcome',
    html`<section class="hero">
      <h1>Books from readers, for readers</h1>
      <p>Find your next book in the catalog, or sell the ones you have read.</p>
      <p><a class="button" href="/catalog">Browse the catalog</a> <a class="button secondary" href="/sell">Sell a book</a></p>
    </section>`,
  );
}
