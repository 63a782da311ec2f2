/** Catalog's HTML fragments for the web front: the catalog with its filters, a book, the seller's pages. */
import { field, formAlert, formatPrice, html, pagination, queryString, textArea, type Html } from '@bookstore/shared/html';
import type { Principal } from '@bookstore/shared/auth';
import { cardFileOf } from './covers.ts';
import { bookSorts, type BookJson, type BookPage, type BookQuery } from './schemas.ts';
import { wordTerms } from './search.ts';

const sortLabels: Record<(typeof bookSorts)[number], string> = {
  newest: 'Newest',
  price_asc: 'Price: low to high',
  price_desc: 'Price: high to low',
  title: 'Title',
};

const dollars = (cents: number | undefined) => (cents === undefined ? '' : (cents / 100).toFixed(2).replace(/\.00$/, ''));

/** The query of a catalog page as the web's URL carries it (prices in dollars). */
function pageParams(query: BookQuery, page?: number) {
  return {
    q: query.q,
    author: query.author,
    minPrice: dollars(query.minPrice),
    maxPrice: dollars(query.maxPrice),
    inStock: query.inStock ? 'true' : undefined,
    sort: query.sort === 'newest' ? undefined : query.sort,
    page: page && page > 1 ? page : undefined,
  };
}

/** The catalog page's body: filters that search as you type, and the results beneath. */
export function catalogSection(query: BookQuery, listing: BookPage): Html {
  return html`<section class="catalog">
    <h1>Catalog</h1>
    <form class="filters" method="get" action="/catalog" role="search"
      hx-get="/catalog" hx-target="#book-results" hx-push-url="true" hx-trigger="submit, change">
      <div class="field search">
        <label for="field-q">Search title or author</label>
        <input id="field-q" type="search" name="q" value="${query.q ?? ''}" maxlength="200" placeholder="e.g. Austen, Misérables"
          hx-get="/catalog" hx-trigger="input changed delay:300ms, search" hx-target="#book-results" hx-push-url="true" hx-include="closest form">
      </div>
      <div class="field"><label for="field-author">Author</label><input id="field-author" name="author" value="${query.author ?? ''}" maxlength="200"></div>
      <div class="field"><label for="field-minPrice">Min $</label><input id="field-minPrice" name="minPrice" type="number" min="0" step="0.01" value="${dollars(query.minPrice)}"></div>
      <div class="field"><label for="field-maxPrice">Max $</label><input id="field-maxPrice" name="maxPrice" type="number" min="0" step="0.01" value="${dollars(query.maxPrice)}"></div>
      <div class="field"><label for="field-sort">Sort</label>
        <select id="field-sort" name="sort">
          ${bookSorts.map((sort) => html`<option value="${sort}"${sort === query.sort ? html` selected` : ''}>${sortLabels[sort]}</option>`)}
        </select>
      </div>
      <label class="check"><input type="checkbox" name="inStock" value="true"${query.inStock ? html` checked` : ''}> In stock only</label>
      <button type="submit">Search</button>
    </form>
    ${bookResults(query, listing)}
  </section>`;
}

/** The results: count, grid and pages. htmx swaps this alone as the shopper types or pages. */
export function bookResults(query: BookQuery, listing: BookPage): Html {
  const what = query.q ? html` for “${query.q}”` : '';
  return html`<div id="book-results" aria-live="polite">
    <p class="muted">${listing.total === 1 ? '1 book' : `${listing.total.toLocaleString('en-US')} books`}${what}</p>
    ${listing.items.length ? bookGrid(listing.items) : html`<p class="notice">${noMatchAdvice(query)}</p>`}
    ${pagination({ ...listing, hrefFor: (page) => `/catalog${queryString(pageParams(query, page))}`, target: '#book-results' })}
  </div>`;
}

/** Search matches words (search.ts): text without a letter or digit has none to match. */
function noMatchAdvice(query: BookQuery): string {
  if (wordTerms(query) === null) return 'Search matches words: type at least one letter or digit.';
  return 'No books match. Try fewer words or other filters.';
}

export function bookGrid(books: BookJson[]): Html {
  return html`<div class="book-grid">${books.map(bookCard)}</div>`;
}

function bookCard(book: BookJson): Html {
  return html`<article class="book-card">
    <a href="/books/${book.id}">${cover(book)}</a>
    <a class="title" href="/books/${book.id}">${book.title}</a>
    <span class="author">${book.author}</span>
    <span class="price">${formatPrice(book.priceCents)}</span>
    ${stockState(book.stock)}
    ${book.stock > 0
      ? html`<form method="post" action="/cart/items" class="add-to-cart" hx-post="/cart/items" hx-target="this" hx-swap="outerHTML">
          <input type="hidden" name="bookId" value="${book.id}"><input type="hidden" name="quantity" value="1">
          <button type="submit" class="secondary" aria-label="Add ${book.title} to cart">Add to cart</button>
        </form>`
      : ''}
  </article>`;
}

/** A book's cover: in a card, the card-size file (320 px wide); on its page, the full-size one. */
function cover(book: BookJson, size: 'card' | 'detail' = 'card'): Html {
  if (book.coverUrl && size === 'card') return html`<img class="cover" src="${cardUrlOf(book.coverUrl)}" alt="Cover of ${book.title}" loading="lazy">`;
  if (book.coverUrl) return html`<img class="cover" src="${book.coverUrl}" alt="Cover of ${book.title}" loading="eager">`;
  return html`<div class="cover" aria-hidden="true">${book.title.trim().charAt(0).toUpperCase()}</div>`;
}

function cardUrlOf(coverUrl: string): string {
  const file = coverUrl.slice(coverUrl.lastIndexOf('/') + 1);
  return `${coverUrl.slice(0, coverUrl.length - file.length)}${cardFileOf(file)}`;
}

function stockState(stock: number): Html {
  if (stock <= 0) return html`<span class="stock out">Out of stock</span>`;
  if (stock <= 3) return html`<span class="stock low">Only ${stock} left</span>`;
  return html`<span class="stock in">In stock</span>`;
}

/** A book's page; its seller and admins also get the edit link. */
export function bookDetail(book: BookJson, viewer: Principal | null): Html {
  const canEdit = viewer !== null && (viewer.userId === book.sellerId || viewer.role === 'admin');
  return html`<article class="book-detail" id="book-${book.id}">
    <div>${cover(book, 'detail')}</div>
    <div>
      <h1>${book.title}</h1>
      <p class="author">by ${book.author}</p>
      <p class="price">${formatPrice(book.priceCents)}</p>
      <p>${stockState(book.stock)}${book.stock > 3 ? html` <span class="muted">(${book.stock} available)</span>` : ''}</p>
      <p class="muted">Sold by ${book.sellerName}</p>
      <div class="description">${book.description.split(/\n{2,}/).map((paragraph) => html`<p>${paragraph}</p>`)}</div>
      ${canEdit ? html`<p class="actions"><a class="button secondary" href="/sell/${book.id}/edit">Edit this book</a></p>` : ''}
    </div>
  </article>`;
}

/** The seller's own books, with what they can do to each. */
export function sellerList(listing: BookPage, notice?: string): Html {
  return html`<section id="seller-books">
    <div class="actions"><h1>My books</h1><a class="button" href="/sell/new">Add a book</a></div>
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
    ${listing.items.length === 0
      ? html`<p class="notice">You are not selling any books yet. <a href="/sell/new">Add your first one</a>.</p>`
      : html`<table class="table">
          <thead><tr><th>Title</th><th>Price</th><th>Stock</th><th></th></tr></thead>
          <tbody>
            ${listing.items.map(
              (book) => html`<tr id="seller-book-${book.id}">
                <td><a href="/books/${book.id}">${book.title}</a><br><span class="muted">${book.author}</span></td>
                <td>${formatPrice(book.priceCents)}</td>
                <td>${book.stock}</td>
                <td class="actions">
                  <a href="/sell/${book.id}/edit">Edit</a>
                  <form method="post" action="/sell/${book.id}/delete" class="inline" hx-post="/sell/${book.id}/delete" hx-confirm="Remove “${book.title}” from the catalog?" hx-target="#seller-books" hx-swap="outerHTML">
                    <button type="submit" class="link">Delete</button>
                  </form>
                </td>
              </tr>`,
            )}
          </tbody>
        </table>`}
    ${pagination({ ...listing, hrefFor: (page) => `/sell?page=${page}` })}
  </section>`;
}

export interface BookFormView {
  book?: BookJson;
  values?: Partial<Record<'title' | 'author' | 'description' | 'price' | 'stock' | 'stockWas' | 'key', string>>;
  errors?: Record<string, string>;
  error?: string;
}

/** The add or edit form; on the edit page, the cover upload beneath it. */
export function bookForm(view: BookFormView): Html {
  const { book, errors = {} } = view;
  const values = view.values ?? (book ? { title: book.title, author: book.author, description: book.description, price: dollars(book.priceCents), stock: String(book.stock) } : {});
  const action = book ? `/sell/${book.id}/edit` : '/sell/new';
  return html`<div id="book-editor">
    <form id="book-form" class="card form wide" method="post" action="${action}" hx-post="${action}" hx-target="#book-editor" hx-swap="outerHTML">
      <h1>${book ? html`Edit “${book.title}”` : 'Add a book'}</h1>
      ${formAlert(view.error)}
      ${field({ label: 'Title', name: 'title', value: values.title ?? '', error: errors.title, required: true, maxlength: 300 })}
      ${field({ label: 'Author', name: 'author', value: values.author ?? '', error: errors.author, required: true, maxlength: 200 })}
      ${textArea({ label: 'Description', name: 'description', value: values.description ?? '', error: errors.description, maxlength: 5000 })}
      ${field({ label: 'Price ($)', name: 'price', type: 'text', value: values.price ?? '', error: errors.price, required: true, maxlength: 12 })}
      ${field({ label: 'Copies in stock', name: 'stock', type: 'number', value: values.stock ?? '', error: errors.stock, required: true, min: 0, max: 100000 })}
      ${book ? html`<input type="hidden" name="stockWas" value="${values.stockWas ?? String(book.stock)}">` : html`<input type="hidden" name="key" value="${values.key || crypto.randomUUID()}">`}
      <div class="actions"><button type="submit">${book ? 'Save changes' : 'Add book'}</button><a href="/sell">Cancel</a></div>
    </form>
    ${book ? coverForm(book, errors.cover) : ''}
  </div>`;
}

function coverForm(book: BookJson, error?: string): Html {
  return html`<form class="card form wide" method="post" action="/sell/${book.id}/cover" enctype="multipart/form-data">
    <h2>Cover</h2>
    ${book.coverUrl ? html`<img class="cover small" src="${cardUrlOf(book.coverUrl)}" alt="Current cover">` : html`<p class="muted">No cover yet.</p>`}
    ${field({ label: 'JPEG, PNG or WebP image', name: 'cover', type: 'file', accept: 'image/jpeg,image/png,image/webp', error, required: true })}
    <div class="actions"><button type="submit">Upload cover</button></div>
  </form>`;
}

