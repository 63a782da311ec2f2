/** Shopper pages: the catalog with search and filters, a book's page, and its cover images. */
import { Hono, type Context } from 'hono';
import { bookPageBuyBoxSlot } from '@bookstore/shared/contracts/catalog';
import { ServiceUnavailableError } from '@bookstore/shared/http';
import type { WebEnv } from '../app.ts';
import { html, notice, raw } from '@bookstore/shared/html';
import type { Fragment } from '../compose.ts';
import { fragment, isHtmx, respond, pageLink } from '../render.ts';

export const catalogPages = new Hono<WebEnv>()
  .get('/catalog', showCatalog)
  .get('/books/:id{[0-9]{1,10}}', showBook)
  .get('/covers/:file{[a-f0-9]{40}\\.[a-z]{3,4}}', proxyCover);

/**
 * The whole catalog page; to htmx (search as you type, pages) only the results it swaps, with the
 * page's title and the address to show. Addresses never keep empty fields: a plain form sends them
 * all (`?q=emma&author=&minPrice=`), so the browser is sent on to the address without them.
 */
async function showCatalog(c: Context<WebEnv>) {
  const asked = new URL(c.req.url).searchParams;
  const search = withoutEmptyValues(asked);
  const resultsOnly = isHtmx(c) && c.req.header('hx-target') === 'book-results';
  if (!isHtmx(c) && search.size !== asked.size) return c.redirect(`/catalog${queryOf(search)}`, 303);
  const title = catalogTitle(search);
  const path = `/fragments/${resultsOnly ? 'book-results' : 'catalog'}${queryOf(search)}`;
  const main = fragment(c, { client: c.var.deps.clients.catalog, path, label: 'The catalog', retryUrl: pageLink(c) });
  if (!resultsOnly) return respond(c, title, main);
  // Typing in a field replaces the history entry; a page link (no name) adds one.
  c.header(c.req.header('hx-trigger-name') ? 'hx-replace-url' : 'hx-push-url', `/catalog${queryOf(search)}`);
  return respond(c, title, main.then((results): Fragment => ({ ...results, html: html`<title>${title} · Bookstore</title>${results.html}` })));
}

/** The defaults a plain form sends as well as the empty fields: an address names only what was chosen. */
const defaultValues: Record<string, string> = { sort: 'newest', page: '1' };

function withoutEmptyValues(params: URLSearchParams): URLSearchParams {
  const kept = new URLSearchParams();
  for (const [name, value] of params) {
    if (value.trim() !== '' && defaultValues[name] !== value && !kept.has(name)) kept.append(name, value);
  }
  return kept;
}

const queryOf = (params: URLSearchParams) => (params.size ? `?${params}` : '');

/** "Search: emma", "Catalog, page 2": the tab and the history say what the page shows. */
function catalogTitle(search: URLSearchParams): string {
  const q = search.get('q')?.trim();
  const page = Number(search.get('page'));
  return `${q ? `Search: ${q}` : 'Catalog'}${Number.isInteger(page) && page > 1 ? `, page ${page}` : ''}`;
}

/**
 * The book from catalog and its buy box from purchase, fetched side by side (either may be down
 * alone). The buy box goes where catalog marks it, after the price; the title is the book's.
 */
async function showBook(c: Context<WebEnv>) {
  const id = Number(c.req.param('id'));
  const [detail, box] = await Promise.all([
    fragment(c, { client: c.var.deps.clients.catalog, path: `/fragments/books/${id}`, label: 'This book', retryUrl: pageLink(c) }),
    fragment(c, { client: c.var.deps.clients.purchase, path: `/fragments/buy-box/${id}`, label: 'Buying' }),
  ]);
  if (!detail.ok || detail.status !== 200) return respond(c, detail.status === 404 ? 'Book not found' : 'Book', detail);
  const text = String(await detail.html);
  const about = bookAttributesOf(text);
  const buyBox = about?.stock === '0'
    ? html`<div class="buy-box card"><p class="stock out" role="status">Out of stock: this book cannot be bought right now.</p></div>`
    : box.ok
      ? box.html
      : html`<div class="buy-box card">${notice('Buying is unavailable right now. You can still browse; please try again shortly.')}</div>`;
  const buy = html`<div class="book-buy">${buyBox}</div>`;
  const slot = text.indexOf(bookPageBuyBoxSlot);
  const page = slot < 0 ? html`${raw(text)}${buy}` : html`${raw(text.slice(0, slot))}${buy}${raw(text.slice(slot + bookPageBuyBoxSlot.length))}`;
  return respond(c, about ? `${about.title} — ${about.author}` : 'Book', { ...detail, html: html`<div class="book-page">${page}</div>` });
}

const bookAttributes = /^\s*<article class="book-detail"[^>]*?\sdata-title="([^"]*)" data-author="([^"]*)" data-stock="([^"]*)"/;
const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const unescapeHtml = (text: string) => text.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => entities[entity]!);

/**
 * What catalog's book fragment says of itself in its data attributes: title and author for the
 * page's <title> (escaped again when the page is drawn), and the stock ("0": no buy box to offer;
 * purchase would refuse the add anyway).
 */
function bookAttributesOf(fragmentHtml: string): { title: string; author: string; stock: string } | undefined {
  const match = bookAttributes.exec(fragmentHtml);
  return match ? { title: unescapeHtml(match[1]!), author: unescapeHtml(match[2]!), stock: match[3]! } : undefined;
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
