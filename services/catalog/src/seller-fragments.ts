/** Catalog's HTML fragments for sellers: their books, the add and edit forms with the cover, the question before a removal. */
import { field, formAlert, formatPrice, html, pagination, raw, textArea, type Html } from '@bookstore/shared/html';
import { bookFormOrder, formatBytes, type BookFormErrors } from './book-form.ts';
import { cardUrlOf, cover, dollars } from './fragments.ts';
import type { BookJson, BookPage } from './schemas.ts';

/** The seller's own books, with what they can do to each. */
export function sellerList(listing: BookPage, notice?: string): Html {
  return html`<section id="seller-books">
    <div class="actions"><h1>My books</h1><a class="button" href="/sell/new">Add a book</a></div>
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
    ${listing.items.length === 0
      ? html`<p class="notice">You are not selling any books yet. <a href="/sell/new">Add your first one</a>.</p>`
      : html`<table class="table">
          <thead><tr><th scope="col">Title</th><th scope="col">Price</th><th scope="col">Stock</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            ${listing.items.map(
              (book) => html`<tr id="seller-book-${book.id}">
                <td data-label=""><a href="/books/${book.id}">${book.title}</a><br><span class="muted">${book.author}</span></td>
                <td data-label="Price">${formatPrice(book.priceCents)}</td>
                <td data-label="Stock">${book.stock}</td>
                <td data-label="" class="actions">
                  <a href="/sell/${book.id}/edit">Edit<span class="visually-hidden"> ${book.title}</span></a>
                  <a href="/sell/${book.id}/delete">Delete<span class="visually-hidden"> ${book.title}</span></a>
                </td>
              </tr>`,
            )}
          </tbody>
        </table>`}
    ${pagination({ ...listing, hrefFor: (page) => `/sell?page=${page}` })}
  </section>`;
}

/** Asked before a book leaves the catalog, with or without JavaScript: "Delete" only leads here. */
export function deleteConfirmation(book: BookJson): Html {
  return html`<section class="card form confirm-delete" id="confirm-delete">
    <h1>Remove “${book.title}” from the catalog?</h1>
    ${cover(book, 'thumbnail')}
    <p>Shoppers will no longer find it or buy it. Orders already placed for it are kept.</p>
    <form method="post" action="/sell/${book.id}/delete" class="actions">
      <button type="submit" class="danger">Remove the book</button>
      <a href="/sell">Keep it</a>
    </form>
  </section>`;
}

export interface BookFormView {
  book?: BookJson;
  values?: Partial<Record<'title' | 'author' | 'description' | 'price' | 'stock' | 'stockWas' | 'key', string>>;
  errors?: BookFormErrors;
  error?: string;
  /** The largest cover upload (MAX_COVER_BYTES), stated beside the field. */
  maxCoverBytes: number;
  /** Said beside the cover field when the form comes back: the file chosen is not kept. */
  coverNote?: string;
}

/**
 * The add form (with an optional cover) or the edit form (with the cover's own form beneath). A form
 * that comes back keeps what was typed, says beside each field what to change, and puts the cursor
 * in the first of those fields.
 */
export function bookForm(view: BookFormView): Html {
  const { book, errors = {} } = view;
  const values = view.values ?? (book ? { title: book.title, author: book.author, description: book.description, price: dollars(book.priceCents), stock: String(book.stock) } : {});
  const action = book ? `/sell/${book.id}/edit` : '/sell/new';
  const first = bookFormOrder.find((name) => errors[name] && !(book && name === 'cover'));
  const focus = (name: string) => first === name;
  return html`<div id="book-editor">
    <form id="book-form" class="card form wide" method="post" action="${action}"${book ? '' : raw(' enctype="multipart/form-data"')} hx-post="${action}" hx-target="#book-editor" hx-swap="outerHTML">
      <h1>${book ? html`Edit “${book.title}”` : 'Add a book'}</h1>
      ${formAlert(view.error, { focus: first === undefined })}
      ${field({ label: 'Title', name: 'title', value: values.title ?? '', error: errors.title, required: true, maxlength: 300, autofocus: focus('title') })}
      ${field({ label: 'Author', name: 'author', value: values.author ?? '', error: errors.author, required: true, maxlength: 200, autofocus: focus('author') })}
      ${textArea({ label: 'Description', name: 'description', value: values.description ?? '', error: errors.description, maxlength: 5000 })}
      ${field({ label: 'Price ($)', name: 'price', type: 'text', value: values.price ?? '', error: errors.price, required: true, maxlength: 12, autofocus: focus('price') })}
      ${field({ label: 'Copies in stock', name: 'stock', type: 'number', value: values.stock ?? '', error: errors.stock, required: true, min: 0, max: 100000, autofocus: focus('stock') })}
      ${book
        ? html`<input type="hidden" name="stockWas" value="${values.stockWas ?? String(book.stock)}">`
        : html`<input type="hidden" name="key" value="${values.key || crypto.randomUUID()}">
          ${coverField({ label: 'Cover (optional): a JPEG, PNG or WebP image', maxBytes: view.maxCoverBytes, error: errors.cover, note: view.coverNote ?? 'Without one, shoppers see a cover made of the title and author.', autofocus: focus('cover') })}`}
      <div class="actions"><button type="submit">${book ? 'Save changes' : 'Add book'}</button><a href="/sell">Cancel</a></div>
    </form>
    ${book ? coverForm(book, view) : ''}
    ${book ? html`<p class="actions"><a href="/sell/${book.id}/delete">Remove this book from the catalog…</a></p>` : ''}
  </div>`;
}

function coverForm(book: BookJson, view: BookFormView): Html {
  const action = `/sell/${book.id}/cover`;
  return html`<form class="card form wide" method="post" action="${action}" enctype="multipart/form-data" hx-post="${action}" hx-target="#book-editor" hx-swap="outerHTML">
    <h2>Cover</h2>
    ${book.coverUrl ? html`<img class="cover small" src="${cardUrlOf(book.coverUrl)}" alt="Current cover">` : html`${cover(book, 'thumbnail')}<p class="muted">No cover uploaded: shoppers see this one, made of the title and author.</p>`}
    ${coverField({ label: 'New cover: a JPEG, PNG or WebP image', maxBytes: view.maxCoverBytes, error: view.errors?.cover, required: true, autofocus: Boolean(view.errors?.cover) })}
    <div class="actions"><button type="submit">Upload cover</button></div>
  </form>`;
}

/** A file field with its limit stated beneath the label, before anyone picks a file too large. */
function coverField(options: { label: string; maxBytes: number; error?: string; note?: string; required?: boolean; autofocus?: boolean }): Html {
  const described = options.error ? 'field-cover-hint field-cover-error' : 'field-cover-hint';
  return html`<div class="field${options.error ? ' has-error' : ''}">
    <label for="field-cover">${options.label}</label>
    <p class="hint" id="field-cover-hint">At most ${formatBytes(options.maxBytes)}.${options.note ? ` ${options.note}` : ''}</p>
    <input id="field-cover" name="cover" type="file" accept="image/jpeg,image/png,image/webp" aria-describedby="${described}"${options.error ? raw(' aria-invalid="true"') : ''}${options.required ? raw(' required') : ''}${options.autofocus ? raw(' autofocus') : ''}>
    ${options.error ? html`<p class="field-error" id="field-cover-error">${options.error}</p>` : ''}
  </div>`;
}
