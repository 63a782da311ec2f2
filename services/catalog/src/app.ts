/**
 * The catalog service: books, stock, reservations, seller inventory, covers.
 *
 * Its routes are the table in `createApp`: each says what it does, who may call it and what it
 * answers (`describeRoute`), beside the validators of its input. The same table is served as an
 * OpenAPI 3.1 document at `GET /openapi.json` (shared/src/openapi.ts), so the documentation is what
 * runs. The fragments are for the web front; their paths after /fragments mirror the web's own.
 */
import type { Context } from 'hono';
import { createFactory } from 'hono/factory';
import { acceptedServiceTokens, authenticate, requirePrincipal, requireServiceToken, tokenCheckReadiness, type AuthVariables, type Principal, type TokenVerifier } from '@bookstore/shared/auth';
import { pingPrimary, type EntityManager, type Orm } from '@bookstore/shared/db';
import { ProblemError } from '@bookstore/shared/errors';
import { readConsistencyHeader } from '@bookstore/shared/http';
import { describeRoute, openApiRoute } from '@bookstore/shared/openapi';
import { readForm, validHeader, validJson, validParams, validQuery } from '@bookstore/shared/validation';
import type { Logger } from '@bookstore/shared/log';
import { createServiceApp } from '@bookstore/shared/service';
import { bookToChange, createBook, findBook, removeBook, searchBooks, sellerBooks, toBookJson, updateBook } from './books.ts';
import type { CatalogConfig } from './config.ts';
import { countCoverUpload, coverFileName, coverMimeTypes, encodeCover, replaceCover } from './covers.ts';
import { Book } from './entities.ts';
import { bookDetail, bookGrid, bookResults, catalogSection } from './fragments.ts';
import { bookForm, deleteConfirmation, sellerList } from './seller-fragments.ts';
import { coverErrorSentence, coverTooLarge, readBookForm, type BookFormErrors } from './book-form.ts';
import { readCatalogQuery } from './catalog-query.ts';
import { html, notice } from '@bookstore/shared/html';
import { commitReservation, releaseReservation, reserveStock } from './reservations.ts';
import {
  book,
  bookFormFields,
  bookInput,
  bookKeyHeader,
  bookPage,
  bookPatch,
  bookQuery,
  coverUpload,
  idParam,
  orderIdParam,
  reservationAnswer,
  reservationInput,
  sellerQuery,
} from './schemas.ts';

export interface CatalogDeps {
  orm: Orm;
  verifier: Pick<TokenVerifier, 'verify' | 'status' | 'refresh'>;
  log: Logger;
  config: Pick<CatalogConfig, 'SERVICE_TOKEN' | 'UPLOADS_DIR' | 'MAX_COVER_BYTES'> &
    Partial<Pick<CatalogConfig, 'SERVICE_TOKENS_ACCEPTED' | 'LISTING_MAX_AGE_SECONDS' | 'REQUEST_TIME_BUDGET_MS' | 'COVER_UPLOADS_PER_HOUR'>>;
}

type Env = { Variables: AuthVariables & { deps: CatalogDeps; em: EntityManager; requestId: string } };
const factory = createFactory<Env>();

export function createApp(deps: CatalogDeps) {
  const app = createServiceApp<Env>({
    service: 'catalog',
    log: deps.log,
    timeBudgetMs: deps.config.REQUEST_TIME_BUDGET_MS,
    readiness: { database: () => pingPrimary(deps.orm), 'auth-token-check': tokenCheckReadiness(deps.verifier) },
    // The cover forms read more than a cover may be, up to what the web front forwards (6 MiB): a file
    // too large is then answered by the form, kept filled in, not by the body limit.
    uploads: { path: /\/cover$|^\/fragments\/sell\/new$/, maxBytes: Math.max(deps.config.MAX_COVER_BYTES, formUploadBytes) + 64 * 1024 },
  });
  app.use(async (c, next) => {
    c.set('deps', deps);
    c.set('em', deps.orm.em.fork());
    await next();
  });
  app.use('/api/*', authenticate(deps.verifier));
  app.use('/fragments/*', authenticate(deps.verifier));
  const serviceOnly = requireServiceToken(acceptedServiceTokens(deps.config));

  return app
    .get('/api/books', describeRoute({ summary: 'Search, filter, sort and page the books', access: 'public', description: searchRules, responses: { 200: bookPage } }), ...listBooks)
    .get('/api/books/:id', describeRoute({ summary: 'One book', access: 'public', responses: { 200: book, 404: 'no such book (or it was removed)' } }), ...getBook)
    .post('/api/books', describeRoute({ summary: 'Add a book, sold by the caller', access: 'signed-in', description: 'With an Idempotency-Key, sending it again adds no second book.', responses: { 201: book, 409: 'the Idempotency-Key was used for another book, or one since removed' } }), ...addBook)
    .patch('/api/books/:id', describeRoute({ summary: 'Change a book: any of its fields (stock is set to the number given)', access: 'signed-in', responses: { 200: book, 403: 'only its seller or an admin', 404: 'no such book' } }), ...changeBook)
    .delete('/api/books/:id', describeRoute({ summary: 'Remove a book (one ever reserved is retired: hidden, kept for orders)', access: 'signed-in', responses: { 204: 'removed', 403: 'only its seller or an admin', 404: 'no such book' } }), ...deleteBook)
    .put('/api/books/:id/cover', describeRoute({ summary: 'Upload a cover (JPEG, PNG or WebP), stored re-encoded as WebP', access: 'signed-in', upload: coverUpload, responses: coverAnswers }), ...uploadCover)
    .get('/api/sellers/me/books', describeRoute({ summary: "The caller's own books, read from the primary", access: 'signed-in', responses: { 200: bookPage } }), ...myBooks)
    .post('/api/reservations', describeRoute({ summary: "Reserve an order's books: all or none; idempotent by order id", access: 'service', responses: { 201: reservationAnswer, 409: 'a book is short of stock (named), or the order id was used for other items or released' } }), serviceOnly, ...reserve)
    .post('/api/reservations/:orderId/commit', describeRoute({ summary: "Mark an order's reserved books sold; idempotent", access: 'service', responses: { 200: reservationAnswer, 404: 'no reservation for this order', 409: 'the reservation was released' } }), serviceOnly, ...commit)
    .delete('/api/reservations/:orderId', describeRoute({ summary: "Give an order's reserved books back to stock; idempotent", access: 'service', responses: { 204: 'released (or there was nothing to release)', 409: 'the order was sold' } }), serviceOnly, ...release)
    .get('/covers/:file', describeRoute({ summary: 'A cover image, cached for a year (its name is its content hash)', access: 'public', content: 'image/*', responses: { 200: 'the image', 404: 'no such cover' } }), ...serveCover)
    .get('/openapi.json', ...openApiRoute(app, { title: 'Bookstore catalog', description: 'Books, search, stock, the reservations purchase makes, seller inventory and covers.' }))
    .get('/fragments/catalog', describeRoute({ summary: 'The catalog page: filters and results', access: 'public', content: 'text/html', responses: { 200: 'the section', 400: 'a value was not used: the page says which, beside its field', 404: 'a page past the last: the page says so and links to the last' } }), ...catalogFragment)
    .get('/fragments/book-results', describeRoute({ summary: 'The results alone, which htmx swaps as one types', access: 'public', content: 'text/html', responses: { 200: 'the results', 400: 'a value was not used: the fields\' messages come out of band', 404: 'a page past the last, linking to the last' } }), ...resultsFragment)
    .get('/fragments/new-books', describeRoute({ summary: 'The newest books in stock, for the home page', access: 'public', content: 'text/html', responses: { 200: 'the section' } }), ...newBooksFragment)
    .get('/fragments/books/:id', describeRoute({ summary: "A book's page", access: 'public', content: 'text/html', responses: { 200: 'the book', 404: 'no such book' } }), ...bookFragment)
    .get('/fragments/sell', describeRoute({ summary: "The seller's books", access: 'signed-in', content: 'text/html', responses: { 200: 'the list' } }), ...sellFragment)
    .get('/fragments/sell/new', describeRoute({ summary: 'The form to add a book', access: 'signed-in', content: 'text/html', responses: { 200: 'the form' } }), ...newBookForm)
    .post('/fragments/sell/new', describeRoute({ summary: 'Form: add a book (once per form key)', access: 'signed-in', content: 'text/html', form: bookFormFields, responses: { 303: 'added: to the seller page', 400: 'the form again, with what is wrong' } }), ...submitNewBook)
    .get('/fragments/sell/:id/edit', describeRoute({ summary: 'The form to change a book', access: 'signed-in', content: 'text/html', responses: { 200: 'the form', 403: 'only its seller or an admin', 404: 'no such book' } }), ...editBookForm)
    .post('/fragments/sell/:id/edit', describeRoute({ summary: "Form: change a book (stock moves by the seller's change)", access: 'signed-in', content: 'text/html', form: bookFormFields, responses: { 303: 'saved: to the seller page', 400: 'the form again, with what is wrong', 403: 'only its seller or an admin', 404: 'no such book' } }), ...submitBookEdit)
    .post('/fragments/sell/:id/delete', describeRoute({ summary: 'Form: remove a book', access: 'signed-in', content: 'text/html', responses: { 303: 'removed: to the seller page', 403: 'only its seller or an admin', 404: 'no such book' } }), ...submitDelete)
    .post('/fragments/sell/:id/cover', describeRoute({ summary: 'Form: upload a cover', access: 'signed-in', content: 'text/html', upload: coverUpload, responses: { 303: 'stored: back to the edit form', 400: 'the form again, saying why', 403: 'only its seller or an admin', 404: 'no such book', 413: 'the file is too large', 415: 'not a JPEG, PNG or WebP image', 429: 'too many uploads this hour (Retry-After)' } }), ...submitCover)
    .get('/fragments/sell/:id/delete', describeRoute({ summary: 'The question before a book is removed (works without JavaScript)', access: 'signed-in', content: 'text/html', responses: { 200: 'the question, with the form that removes it', 403: 'only its seller or an admin', 404: 'no such book' } }), ...deleteQuestion);
}
export type CatalogApp = ReturnType<typeof createApp>;

/** The largest body the web front forwards (its own limit): what the cover forms read before answering. */
const formUploadBytes = 6 * 1024 * 1024;

// --- API --------------------------------------------------------------------------------------

const searchRules =
  'Every word typed must start a word of the title or author; accents and case are ignored. Prices are in cents. Shared by caches for LISTING_MAX_AGE_SECONDS.';
const coverAnswers = {
  200: book,
  400: 'no file, an empty one, or an image too small or too large in pixels',
  403: 'only its seller or an admin',
  404: 'no such book',
  413: 'the file is too large (MAX_COVER_BYTES)',
  415: 'not a JPEG, PNG or WebP image, or not sent as multipart/form-data',
  429: 'too many uploads this hour (Retry-After)',
};

const listBooks = factory.createHandlers(validQuery(bookQuery), async (c) => {
  const { consistency, cacheControl, maxAgeMs } = listingReads(c);
  const listing = await searchBooks(c.var.deps.orm, c.req.valid('query'), c.var.deps.log, { consistency, maxAgeMs });
  c.header('cache-control', cacheControl);
  return c.json(listing);
});

const getBook = factory.createHandlers(validParams(idParam), async (c) => {
  return c.json(toBookJson(await findBook(c.var.deps.orm, c.req.valid('param').id, c.var.principal, c.var.deps.log)));
});

const addBook = factory.createHandlers(validJson(bookInput), validHeader(bookKeyHeader), async (c) => {
  const key = c.req.valid('header')['idempotency-key'];
  const book = await createBook(c.var.em, requirePrincipal(c.var), c.req.valid('json'), { key });
  c.header('location', `/api/books/${book.id}`);
  return c.json(toBookJson(book), 201);
});

const changeBook = factory.createHandlers(validParams(idParam), validJson(bookPatch), async (c) => {
  const book = await updateBook(c.var.em, c.req.valid('param').id, requirePrincipal(c.var), c.req.valid('json'));
  return c.json(toBookJson(book));
});

const deleteBook = factory.createHandlers(validParams(idParam), async (c) => {
  await removeBook(c.var.em, c.req.valid('param').id, requirePrincipal(c.var), { uploadsDir: c.var.deps.config.UPLOADS_DIR });
  return c.body(null, 204);
});

const uploadCover = factory.createHandlers(validParams(idParam), async (c) => {
  const book = await saveCover(c, c.req.valid('param').id);
  return c.json(toBookJson(book));
});

const myBooks = factory.createHandlers(validQuery(sellerQuery), async (c) => {
  const { page, pageSize } = c.req.valid('query');
  return c.json(await sellerBooks(c.var.em, requirePrincipal(c.var).userId, page, pageSize));
});

const reserve = factory.createHandlers(validJson(reservationInput), async (c) => {
  const input = c.req.valid('json');
  return c.json({ orderId: input.orderId, items: await reserveStock(c.var.em, input) }, 201);
});

const commit = factory.createHandlers(validParams(orderIdParam), async (c) => {
  const { orderId } = c.req.valid('param');
  return c.json({ orderId, items: await commitReservation(c.var.em, orderId) });
});

const release = factory.createHandlers(validParams(orderIdParam), async (c) => {
  await releaseReservation(c.var.em, c.req.valid('param').orderId);
  return c.body(null, 204);
});

const serveCover = factory.createHandlers(async (c) => {
  const name = c.req.param('file') ?? '';
  const file = coverFileName.test(name) ? Bun.file(`${c.var.deps.config.UPLOADS_DIR}/${name}`) : null;
  if (!file || !(await file.exists())) throw new ProblemError(404, 'No such cover');
  return new Response(file, {
    headers: { 'content-type': coverMimeTypes[name.split('.').pop()!]!, 'cache-control': 'public, max-age=31536000, immutable' },
  });
});

// --- fragments ----------------------------------------------------------------------------------

/**
 * How a listing is read. A signed-in caller who asks (the web front does, for a while after that
 * user changed something) reads the primary, and the answer is theirs alone. Everyone else reads a
 * replica, and the answer may be shared for LISTING_MAX_AGE_SECONDS: the listing's stated staleness.
 * The API shares it here (`maxAgeMs`); fragments are shared by the web front, which caches them for
 * that long, so catalog does not keep them too (that would double the staleness).
 */
function listingReads(c: Context<Env>): { consistency: 'primary' | 'replica'; cacheControl: string; maxAgeMs?: number } {
  if (c.var.principal && c.req.header(readConsistencyHeader) === 'primary') return { consistency: 'primary', cacheControl: 'private, no-store' };
  const maxAge = c.var.deps.config.LISTING_MAX_AGE_SECONDS ?? 0;
  if (maxAge === 0) return { consistency: 'replica', cacheControl: 'no-store' };
  return { consistency: 'replica', cacheControl: `public, max-age=${maxAge}`, maxAgeMs: maxAge * 1000 };
}

/** The catalog page's body (filters and results), or the results alone that htmx swaps. */
const listingFragment = (render: typeof catalogSection) =>
  factory.createHandlers(async (c) => {
    // A bad value costs only itself: the others are searched, and the page says what was left out.
    const request = readCatalogQuery(c.req.query());
    const { consistency, cacheControl } = listingReads(c);
    const listing = await searchBooks(c.var.deps.orm, request.query, c.var.deps.log, { consistency });
    const invalid = Object.keys(request.errors).length > 0 || request.pageNotice !== undefined;
    const pastTheEnd = listing.items.length === 0 && listing.total > 0 && request.askedPage > 1;
    c.header('cache-control', cacheControl);
    return c.html(render(request, listing), invalid ? 400 : pastTheEnd ? 404 : 200);
  });
const catalogFragment = listingFragment(catalogSection);
const resultsFragment = listingFragment(bookResults);

const newBooksFragment = factory.createHandlers(async (c) => {
  const { consistency, cacheControl } = listingReads(c);
  const listing = await searchBooks(c.var.deps.orm, { sort: 'newest', page: 1, pageSize: 8, inStock: true, minPrice: undefined, maxPrice: undefined }, c.var.deps.log, { consistency });
  c.header('cache-control', cacheControl);
  return c.html(html`<section class="new-books"><h2>New in the catalog</h2>${bookGrid(listing.items, 3)}<p><a href="/catalog">See all books →</a></p></section>`);
});

const bookFragment = factory.createHandlers(async (c) => {
  const id = idParam.safeParse(c.req.param());
  if (!id.success) return c.html(notice('There is no such book.'), 404);
  const book = await findBook(c.var.deps.orm, id.data.id, c.var.principal, c.var.deps.log).catch(notFoundAsNull);
  if (!book) return c.html(notice('This book is not in the catalog (any more).'), 404);
  return c.html(bookDetail(toBookJson(book), c.var.principal));
});

// Built once: a zod schema compiles itself on first use, which would otherwise happen on every page.
const sellerPageQuery = sellerQuery.catch({ page: 1, pageSize: 60 });
const doneNotices: Record<string, string> = { created: 'Your book is in the catalog.', saved: 'Changes saved.', deleted: 'The book was removed from the catalog.' };

const sellFragment = factory.createHandlers(async (c) => {
  const seller = await sellerOrAnswer(c);
  if (seller instanceof Response) return seller;
  const page = sellerPageQuery.parse(c.req.query());
  const listing = await sellerBooks(c.var.em, seller.userId, page.page, page.pageSize);
  // Theirs alone, read from the primary; kept by the web front for the listing's staleness (stock sold
  // meanwhile), except right after the seller's own change, when it asks for the primary.
  const maxAge = c.var.deps.config.LISTING_MAX_AGE_SECONDS ?? 0;
  c.header('cache-control', maxAge > 0 && c.req.header(readConsistencyHeader) !== 'primary' ? `private, max-age=${maxAge}` : 'private, no-store');
  return c.html(sellerList(listing, doneNotices[c.req.query('done') ?? '']));
});

const newBookForm = factory.createHandlers(async (c) => {
  const seller = await sellerOrAnswer(c);
  if (seller instanceof Response) return seller;
  return c.html(bookForm({ maxCoverBytes: c.var.deps.config.MAX_COVER_BYTES }));
});

const submitNewBook = factory.createHandlers(async (c) => {
  const seller = await sellerOrAnswer(c);
  if (seller instanceof Response) return seller;
  const form = await readForm(c);
  const fields = bookFormFields.parse(form);
  const upload = form['cover'] instanceof File && form['cover'].size > 0 ? form['cover'] : undefined;
  const maxCoverBytes = c.var.deps.config.MAX_COVER_BYTES;
  // The form comes back with what was typed; a browser cannot be given back the file it sent.
  const again = (errors: BookFormErrors, status: ProblemError['status']) =>
    c.html(bookForm({ values: fields, errors, maxCoverBytes, coverNote: upload && !errors.cover ? 'Choose the image again: a form that comes back cannot keep a file.' : undefined }), status);
  const parsed = readBookForm(fields);
  if (!parsed.ok) return again({ ...parsed.errors, ...(upload && upload.size > maxCoverBytes ? { cover: coverTooLarge(upload.size, maxCoverBytes) } : {}) }, 400);
  let cover: Awaited<ReturnType<typeof checkedCover>> | undefined;
  if (upload) {
    try {
      cover = await checkedCover(c, seller, upload);
    } catch (error) {
      if (!(error instanceof ProblemError)) throw error;
      for (const [name, value] of Object.entries(error.headers)) c.header(name, value); // Retry-After of a 429
      return again({ cover: coverErrorSentence(error, upload.size, maxCoverBytes) }, error.status);
    }
  }
  // A form without its key (an old page) still adds the book, once.
  const book = await createBook(c.var.em, seller, parsed.input, { key: fields.key || undefined });
  if (cover) await pointAtCover(c, book.id, seller, cover);
  return c.redirect('/sell?done=created', 303);
});

const editBookForm = factory.createHandlers(async (c) => {
  const found = await bookForChange(c);
  if (found instanceof Response) return found;
  return c.html(bookForm({ book: toBookJson(found), maxCoverBytes: c.var.deps.config.MAX_COVER_BYTES }));
});

const submitBookEdit = factory.createHandlers(async (c) => {
  const found = await bookForChange(c);
  if (found instanceof Response) return found;
  const fields = bookFormFields.parse(await readForm(c));
  const parsed = readBookForm(fields);
  if (!parsed.ok) return c.html(bookForm({ book: toBookJson(found), values: fields, errors: parsed.errors, maxCoverBytes: c.var.deps.config.MAX_COVER_BYTES }), 400);
  const stockWas = /^\d{1,9}$/.test(fields.stockWas) ? Number(fields.stockWas) : undefined;
  await updateBook(c.var.em, found.id, c.var.principal!, parsed.input, { stockWas });
  return c.redirect('/sell?done=saved', 303);
});

const submitDelete = factory.createHandlers(async (c) => {
  const found = await bookForChange(c);
  if (found instanceof Response) return found;
  await removeBook(c.var.em, found.id, c.var.principal!, { uploadsDir: c.var.deps.config.UPLOADS_DIR });
  return c.redirect('/sell?done=deleted', 303);
});

const submitCover = factory.createHandlers(async (c) => {
  const found = await bookForChange(c);
  if (found instanceof Response) return found;
  const maxCoverBytes = c.var.deps.config.MAX_COVER_BYTES;
  let upload: File | undefined;
  try {
    upload = await uploadedCover(c);
    await saveCover(c, found.id, upload);
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    const cover = coverErrorSentence(error, upload?.size ?? 0, maxCoverBytes);
    return c.html(bookForm({ book: toBookJson(found), errors: { cover }, maxCoverBytes }), error.status, error.headers); // Retry-After of a 429
  }
  return c.redirect(`/sell/${found.id}/edit`, 303);
});

const deleteQuestion = factory.createHandlers(async (c) => {
  const found = await bookForChange(c);
  if (found instanceof Response) return found;
  return c.html(deleteConfirmation(toBookJson(found)));
});

// --- helpers of this file -------------------------------------------------------------------

/** For fragments: the signed-in caller, or the HTML answer saying why there is none. */
async function sellerOrAnswer(c: Context<Env>): Promise<Principal | Response> {
  if (c.var.tokenUnchecked) return c.html(notice('Selling is unavailable right now. Please try again shortly.'), 503);
  return c.var.principal ?? c.html(notice('Log in to sell books.'), 401);
}

/** For fragments: the book the caller may change, or the HTML answer saying why not. */
async function bookForChange(c: Context<Env>): Promise<Book | Response> {
  const caller = await sellerOrAnswer(c);
  if (caller instanceof Response) return caller;
  const id = idParam.safeParse(c.req.param());
  if (!id.success) return c.html(notice('There is no such book.'), 404);
  try {
    return await bookToChange(c.var.em, id.data.id, caller);
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    const message = error.status === 403 ? 'You can only change books you sell.' : 'This book is not in the catalog (any more).';
    return c.html(notice(message), error.status);
  }
}

/**
 * Re-encodes the uploaded "cover" file (read from the request unless given) for a book the caller may
 * change, points the book at it, and removes the cover it had unless another book shows that one too.
 */
async function saveCover(c: Context<Env>, bookId: number, upload?: File): Promise<Book> {
  const caller = requirePrincipal(c.var);
  await bookToChange(c.var.em, bookId, caller);
  const cover = await checkedCover(c, caller, upload ?? (await uploadedCover(c)));
  return pointAtCover(c, bookId, caller, cover);
}

/** The request's "cover" file: the body must be multipart/form-data with one. */
async function uploadedCover(c: Context<Env>): Promise<File> {
  const type = c.req.header('content-type') ?? '';
  if (!type.startsWith('multipart/form-data')) {
    throw new ProblemError(415, 'Upload the cover as multipart/form-data with a "cover" file field', { errors: { cover: 'is missing' } });
  }
  const upload = (await readForm(c))['cover'];
  if (!(upload instanceof File)) throw new ProblemError(400, 'Choose an image file to upload', { errors: { cover: 'is missing' } });
  return upload;
}

/**
 * An upload checked and re-encoded (covers.ts), or the ProblemError saying why not. Each attempt that
 * gets past the size counts towards the caller's hourly limit, refused or not: decoding is the costly part.
 */
async function checkedCover(c: Context<Env>, caller: Principal, upload: File) {
  const { MAX_COVER_BYTES, COVER_UPLOADS_PER_HOUR = 30 } = c.var.deps.config;
  if (upload.size === 0) throw new ProblemError(400, 'The cover file is empty', { errors: { cover: 'is empty' } });
  if (upload.size > MAX_COVER_BYTES) {
    throw new ProblemError(413, `The cover is too large: at most ${Math.floor(MAX_COVER_BYTES / 1024)} KiB`, { errors: { cover: 'is too large' } });
  }
  await countCoverUpload(c.var.em, caller.userId, COVER_UPLOADS_PER_HOUR);
  return encodeCover(new Uint8Array(await upload.arrayBuffer()));
}

/** Points the book at the cover (stored first), letting go of the one it had. */
async function pointAtCover(c: Context<Env>, bookId: number, caller: Principal, cover: Awaited<ReturnType<typeof encodeCover>>): Promise<Book> {
  const { result: book } = await replaceCover(c.var.em, c.var.deps.config.UPLOADS_DIR, cover, async (tx, file) => {
    const book = await bookToChange(tx, bookId, caller, { lock: true });
    const previous = book.coverFile;
    tx.assign(book, { coverFile: file, updatedAt: new Date() });
    return { result: book, released: [previous] };
  });
  return book;
}

function notFoundAsNull(error: unknown): null {
  if (error instanceof ProblemError && error.status === 404) return null;
  throw error;
}
