/** Catalog's HTML fragments for shoppers: the catalog with its filters and pages, the book cards, a book's page. */
import { formatPrice, html, queryString, raw, type Html } from '@bookstore/shared/html';
import type { Principal } from '@bookstore/shared/auth';
import { bookPageBuyBoxSlot } from '@bookstore/shared/contracts/catalog';
import { defaultPageSize, type CatalogRequest, type FilterField } from './catalog-query.ts';
import { cardFileOf } from './covers.ts';
import { generatedCover } from './generated-cover.ts';
import { bookSorts, type BookJson, type BookPage, type BookQuery } from './schemas.ts';
import { wordTerms } from './search.ts';

const sortLabels: Record<(typeof bookSorts)[number], string> = {
  newest: 'Newest',
  price_asc: 'Price: low to high',
  price_desc: 'Price: high to low',
  title: 'Title',
};

export const dollars = (cents: number | undefined) => (cents === undefined ? '' : (cents / 100).toFixed(2).replace(/\.00$/, ''));

/**
 * A catalog page's address: only the values that differ from the defaults, so a link (and the address
 * htmx shows) never carries `?q=&minPrice=`.
 */
function catalogHref(query: BookQuery, page = query.page): string {
  return `/catalog${queryString({
    q: query.q,
    author: query.author,
    minPrice: dollars(query.minPrice),
    maxPrice: dollars(query.maxPrice),
    inStock: query.inStock ? 'true' : undefined,
    sort: query.sort === 'newest' ? undefined : query.sort,
    pageSize: query.pageSize === defaultPageSize ? undefined : query.pageSize,
    page: page > 1 ? page : undefined,
  })}`;
}

/**
 * The catalog page's body: the search box, the other filters folded away (a phone sees books first),
 * one live region saying how many books were found, and the results. Without JavaScript the form is
 * a plain GET; with htmx each field swaps the results as it changes.
 */
export function catalogSection(request: CatalogRequest, listing: BookPage): Html {
  const { query, typed, errors } = request;
  const filtersOn = [query.author, query.minPrice, query.maxPrice].filter((value) => value !== undefined).length + (query.inStock ? 1 : 0) + (query.sort === 'newest' ? 0 : 1);
  const open = errors.author || errors.minPrice || errors.maxPrice || errors.sort;
  return html`<section class="catalog">
    <h1>Catalog</h1>
    <form class="filters" method="get" action="/catalog" role="search" aria-label="Books"
      hx-target="#book-results" hx-swap="outerHTML" hx-include="closest form" hx-sync="closest form:replace">
      <div class="field search${errors.q ? ' has-error' : ''}">
        <label for="field-q">Search title or author</label>
        <div class="search-row">
          <input id="field-q" type="search" name="q" value="${typed.q}" maxlength="200" placeholder="e.g. Austen, Misérables"${describedBy('q', errors)}
            hx-get="/catalog" hx-trigger="input changed delay:300ms">
          <button type="submit">Search</button>
        </div>
        ${errorSlot('q', errors)}
      </div>
      <details class="more-filters"${open ? raw(' open') : ''}>
        <summary>Filters and sort${filtersOn ? html` <span class="filters-on">(${filtersOn} on)</span>` : ''}</summary>
        <div class="filter-fields">
          ${textFilter('author', 'Author', typed.author, errors, html` maxlength="200" hx-trigger="input changed delay:300ms"`)}
          ${textFilter('minPrice', 'Min price ($)', typed.minPrice, errors, html` inputmode="decimal" autocomplete="off" size="8"`)}
          ${textFilter('maxPrice', 'Max price ($)', typed.maxPrice, errors, html` inputmode="decimal" autocomplete="off" size="8"`)}
          <div class="field${errors.sort ? ' has-error' : ''}"><label for="field-sort">Sort by</label>
            <select id="field-sort" name="sort" hx-get="/catalog"${describedBy('sort', errors)}>
              ${bookSorts.map((sort) => html`<option value="${sort}"${sort === query.sort ? raw(' selected') : ''}>${sortLabels[sort]}</option>`)}
            </select>
            ${errorSlot('sort', errors)}
          </div>
          <label class="check"><input type="checkbox" name="inStock" value="true" hx-get="/catalog"${query.inStock ? raw(' checked') : ''}> In stock only</label>
          <button type="submit" class="secondary">Apply filters</button>
        </div>
      </details>
    </form>
    ${resultsStatus(request, listing)}
    ${resultsList(request, listing)}
  </section>`;
}

/**
 * What htmx swaps as the shopper types or pages: the results, and out of band the sentence of the
 * live region (its element stays, so it is announced once) and each field's message.
 */
export function bookResults(request: CatalogRequest, listing: BookPage): Html {
  const fields: FilterField[] = ['q', 'author', 'minPrice', 'maxPrice', 'sort'];
  return html`${resultsList(request, listing)}${resultsStatus(request, listing, true)}${fields.map((name) => errorSlot(name, request.errors, true))}`;
}

function textFilter(name: 'author' | 'minPrice' | 'maxPrice', label: string, value: string, errors: CatalogRequest['errors'], extra: Html): Html {
  return html`<div class="field${errors[name] ? ' has-error' : ''}">
    <label for="field-${name}">${label}</label>
    <input id="field-${name}" name="${name}" value="${value}" hx-get="/catalog"${extra}${describedBy(name, errors)}>
    ${errorSlot(name, errors)}
  </div>`;
}

/** Always there, empty when the field is fine: htmx fills or empties it in place. */
function errorSlot(name: FilterField, errors: CatalogRequest['errors'], oob = false): Html {
  return html`<p class="field-error" id="field-${name}-error"${oob ? raw(' hx-swap-oob="true"') : ''}>${errors[name] ?? ''}</p>`;
}

function describedBy(name: FilterField, errors: CatalogRequest['errors']): Html {
  return html` aria-describedby="field-${name}-error"${errors[name] ? raw(' aria-invalid="true"') : ''}`;
}

const pagesOf = (listing: BookPage) => Math.max(1, Math.ceil(listing.total / listing.pageSize));
// Built once: toLocaleString builds a formatter per call.
const counts = new Intl.NumberFormat('en-US');

/** The one live region of the page: "12 books for “emma” · page 2 of 3", and what was left out of the search. */
function resultsStatus(request: CatalogRequest, listing: BookPage, oob = false): Html {
  const { query } = request;
  const count = listing.total === 1 ? '1 book' : `${counts.format(listing.total)} books`;
  const pages = pagesOf(listing);
  const where = request.askedPage > pages && listing.total > 0 ? ` · there is no page ${request.askedPage}` : pages > 1 ? ` · page ${query.page} of ${pages}` : '';
  const problems = Object.values(request.errors);
  return html`<p id="results-status" class="results-status" role="status"${oob ? raw(' hx-swap-oob="innerHTML"') : ''}>${count}${query.q ? html` for “${query.q}”` : ''}${where}${problems.length ? html`<span class="visually-hidden">. ${problems.join(' ')}</span>` : ''}</p>`;
}

function resultsList(request: CatalogRequest, listing: BookPage): Html {
  const { query } = request;
  const pages = pagesOf(listing);
  const pastTheEnd = listing.items.length === 0 && listing.total > 0 && request.askedPage > pages;
  return html`<div id="book-results" class="book-results">
    ${request.pageNotice ? html`<p class="notice">${request.pageNotice}</p>` : ''}
    ${listing.items.length
      ? bookGrid(listing.items, 2)
      : pastTheEnd
        ? html`<p class="notice">There is no page ${request.askedPage}: these results end at page ${pages}. ${pageLink(query, pages, `Go to page ${pages}, the last one`)}.</p>`
        : html`<p class="notice">${noMatchAdvice(query)}</p>`}
    ${pastTheEnd ? '' : pager(query, pages)}
  </div>`;
}

/** Previous and next; htmx brings the new page in at the top of the results, not where "Next" was. */
function pager(query: BookQuery, pages: number): Html | string {
  if (pages <= 1) return '';
  return html`<nav class="pagination" aria-label="Pages of results">
    ${query.page > 1 ? pageLink(query, query.page - 1, 'Previous page', 'prev') : ''}
    <span>Page ${query.page} of ${pages}</span>
    ${query.page < pages ? pageLink(query, query.page + 1, 'Next page', 'next') : ''}
  </nav>`;
}

function pageLink(query: BookQuery, page: number, label: string, rel?: 'prev' | 'next'): Html {
  const href = catalogHref(query, page);
  // An id per direction: htmx gives the focus back to the link of the same id on the new page.
  // Without JavaScript the new page opens at its results too (#results-status), not above the filters.
  return html`<a href="${href}#results-status"${rel ? html` rel="${rel}" id="results-${rel}"` : ''} hx-get="${href}" hx-target="#book-results" hx-swap="outerHTML show:#results-status:top">${label}</a>`;
}

/** Search matches words (search.ts): text without a letter or digit has none to match. */
function noMatchAdvice(query: BookQuery): string {
  if (wordTerms(query) === null) return 'Search matches words: type at least one letter or digit.';
  return 'No books match. Try fewer words or other filters.';
}

/** Book cards; `level` is their titles' heading level under the section they are listed in. */
export function bookGrid(books: BookJson[], level: 2 | 3): Html {
  return html`<ul class="book-grid" role="list">${books.map((book) => bookCard(book, level))}</ul>`;
}

/**
 * One card, one tab stop: the title is the card's only link (its accessible name), and CSS stretches
 * it over the whole card so a tap anywhere opens the book. The cover beside it is decorative.
 */
function bookCard(book: BookJson, level: 2 | 3): Html {
  return html`<li class="book-card">
    ${cover(book, 'card')}
    ${raw(`<h${level} class="book-card-title">`)}<a class="title" href="/books/${book.id}">${book.title}</a>${raw(`</h${level}>`)}
    <p class="author">${book.author}</p>
    <p class="price">${formatPrice(book.priceCents)}</p>
    <p>${stockState(book.stock)}</p>
  </li>`;
}

/**
 * A book's cover. Uploaded: in a card the card-size file (320 px wide), decorative beside the title;
 * on its page the full-size one, described. Not uploaded: the generated one (generated-cover.ts).
 */
export function cover(book: BookJson, size: 'card' | 'detail' | 'thumbnail'): Html {
  if (!book.coverUrl) return generatedCover(book, size === 'thumbnail' ? 'cover small generated' : 'cover generated');
  if (size === 'detail') return html`<img class="cover" src="${book.coverUrl}" alt="Cover of ${book.title}">`;
  return html`<img class="cover${size === 'thumbnail' ? ' small' : ''}" src="${cardUrlOf(book.coverUrl)}" alt="" loading="lazy" width="320" height="480">`;
}

/** The card-size file's address of a cover (covers.ts names it from the full-size file). */
export function cardUrlOf(coverUrl: string): string {
  const file = coverUrl.slice(coverUrl.lastIndexOf('/') + 1);
  return `${coverUrl.slice(0, coverUrl.length - file.length)}${cardFileOf(file)}`;
}

function stockState(stock: number): Html {
  if (stock <= 0) return html`<span class="stock out">Out of stock</span>`;
  if (stock <= 3) return html`<span class="stock low">Only ${stock} left</span>`;
  return html`<span class="stock in">In stock</span>`;
}

/**
 * A book's page. What a shopper decides on comes first (title, price, and where the web front puts
 * the buy box: `bookPageBuyBoxSlot`), then the cover and the description; wide screens show the
 * cover beside them. `data-title` and `data-author` give the web front the page's <title>, and
 * `data-stock` lets it show "out of stock" instead of purchase's buy box.
 */
export function bookDetail(book: BookJson, viewer: Principal | null): Html {
  const canEdit = viewer !== null && (viewer.userId === book.sellerId || viewer.role === 'admin');
  const paragraphs = book.description.split(/\n{2,}/).filter((paragraph) => paragraph.trim());
  return html`<article class="book-detail" id="book-${book.id}" data-title="${book.title}" data-author="${book.author}" data-stock="${book.stock}">
    <header class="book-summary">
      <h1>${book.title}</h1>
      <p class="author">by ${book.author}</p>
      <p class="price">${formatPrice(book.priceCents)}</p>
      <p>${stockState(book.stock)}${book.stock > 3 ? html` <span class="muted">(${book.stock} available)</span>` : ''}</p>
      <p class="muted">Sold by ${book.sellerName}</p>
    </header>
    ${raw(bookPageBuyBoxSlot)}
    <div class="book-cover">${cover(book, 'detail')}</div>
    <div class="book-about">
      ${paragraphs.length ? html`<h2>About this book</h2><div class="description">${paragraphs.map((paragraph) => html`<p>${paragraph}</p>`)}</div>` : ''}
      ${canEdit ? html`<p class="actions"><a class="button secondary" href="/sell/${book.id}/edit">Edit this book</a></p>` : ''}
    </div>
  </article>`;
}
