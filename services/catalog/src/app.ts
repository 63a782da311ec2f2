/**
 * The catalog service: books, stock, reservations, seller inventory, covers.
 *
 *   GET    /api/books                           search, filter, sort, page      → {items, page, pageSize, total}
 *   GET    /api/books/:id                       one book                        → book | 404
 *   POST   /api/books                           add a book, sold by the caller  → 201 book | 400 | 401
 *   PATCH  /api/books/:id                       change (seller or admin)        → book | 403 | 404
 *   DELETE /api/books/:id                       remove (seller or admin)        → 204 | 403 | 404
 *   PUT    /api/books/:id/cover                 upload a cover (multipart "cover") → book | 400 | 413 | 415 | 429
 *   GET    /api/sellers/me/books                the caller's books (primary)    → {items, page, pageSize, total}
 *   POST   /api/reservations                    reserve all or nothing (service) → 201 {orderId, items} | 409
 *   POST   /api/reservations/:orderId/commit    mark sold (service)             → 200 | 404 | 409
 *   DELETE /api/reservations/:orderId           give back to stock (service)    → 204 | 409
 *   GET    /covers/:file                        a cover image, cached for a year
 *
 * Fragments for the web front (paths after /fragments mirror the web's own):
 *   GET /fragments/catalog, /fragments/book-results, /fragments/new-books, /fragments/books/:id
 *   GET /fragments/sell, GET|POST /fragments/sell/new, GET|POST /fragments/sell/:id/edit,
 *   POST /fragments/sell/:id/delete, POST /fragments/sell/:id/cover
 */
import type { Context } from 'hono';
import { createFactory } from 'hono/factory';
import { acceptedServiceTokens, authenticate, requirePrincipal, requireServiceToken, tokenCheckReadiness, type AuthVariables, type Principal, type TokenVerifier } from '@bookstore/shared/auth';
import { pingPrimary, transaction, type EntityManager, type Orm } from '@bookstore/shared/db';
import { ProblemError } from '@bookstore/shared/errors';
import { readConsistencyHeader } from '@bookstore/shared/http';
import { idempotencyKeyPattern } from '@bookstore/shared/idempotency';
import { readForm, validJson, validParams, validQuery } from '@bookstore/shared/validation';
import type { Logger } from '@bookstore/shared/log';
import { createServiceApp } from '@bookstore/shared/service';
import { bookToChange, createBook, findBook, removeBook, searchBooks, sellerBooks, toBookJson, updateBook } from './books.ts';
import type { CatalogConfig } from './config.ts';
import { countCoverUpload, coverFileName, coverMimeTypes, encodeCover, replaceCover } from './covers.ts';
import { Book } from './entities.ts';
import { bookDetail, bookForm, bookGrid, bookResults, catalogSection, sellerList } from './fragments.ts';
import { html, notice } from '@bookstore/shared/html';
import { commitReservation, releaseReservation, reserveStock } from './reservations.ts';
import { bookFormFields, bookPatch, bookInput, bookQuery, catalogPageQuery, idParam, orderIdParam, parseBookForm, reservationInput, sellerQuery } from './schemas.ts';

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
    uploads: { path: /\/cover$/, maxBytes: deps.config.MAX_COVER_BYTES + 64 * 1024 },
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
    .get('/api/books', ...listBooks)
    .get('/api/books/:id', ...getBook)
    .post('/api/books', ...addBook)
    .patch('/api/books/:id', ...changeBook)
    .delete('/api/books/:id', ...deleteBook)
    .put('/api/books/:id/cover', ...uploadCover)
    .get('/api/sellers/me/books', ...myBooks)
    .post('/api/reservations', serviceOnly, ...reserve)
    .post('/api/reservations/:orderId/commit', serviceOnly, ...commit)
    .delete('/api/reservations/:orderId', serviceOnly, ...release)
    .get('/covers/:file', ...serveCover)
    .get('/fragments/catalog', ...catalogFragment)
    .get('/fragments/book-results', ...resultsFragment)
    .get('/fragments/new-books', ...newBooksFragment)
    .get('/fragments/books/:id', ...bookFragment)
    .get('/fragments/sell', ...sellFragment)
    .get('/fragments/sell/new', ...newBookForm)
    .post('/fragments/sell/new', ...submitNewBook)
    .get('/fragments/sell/:id/edit', ...editBookForm)
    .post('/fragments/sell/:id/edit', ...submitBookEdit)
    .post('/fragments/sell/:id/delete', ...submitDelete)
    .post('/fragments/sell/:id/cover', ...submitCover);
}
export type CatalogApp = ReturnType<typeof createApp>;

// --- API --------------------------------------------------------------------------------------

const listBooks = factory.createHandlers(validQuery(bookQuery), async (c) => {
  const { consistency, cacheControl, maxAgeMs } = listingReads(c);
  const listing = await searchBooks(c.var.deps.orm, c.req.valid('query'), c.var.deps.log, { consistency, maxAgeMs });
  c.header('cache-control', cacheControl);
  return c.json(listing);
});

const getBook = factory.createHandlers(validParams(idParam), async (c) => {
  return c.json(toBookJson(await findBook(c.var.deps.orm, c.req.valid('param').id, c.var.principal, c.var.deps.log)));
});

const addBook = factory.createHandlers(validJson(bookInput), async (c) => {
  const key = c.req.header('idempotency-key');
  if (key !== undefined && !idempotencyKeyPattern.test(key)) throw new ProblemError(400, 'Idempotency-Key must be 8 to 100 letters, digits or _:.-', { errors: { 'idempotency-key': 'is not a valid key' } });
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
    const parsed = catalogPageQuery.safeParse(c.req.query());
    if (!parsed.success) return c.html(notice(invalidSearch(parsed.error)), 400);
    const { consistency, cacheControl } = listingReads(c);
    const listing = await searchBooks(c.var.deps.orm, parsed.data, c.var.deps.log, { consistency });
    c.header('cache-control', cacheControl);
    return c.html(render(parsed.data, listing));
  });
const catalogFragment = listingFragment(catalogSection);
const resultsFragment = listingFragment(bookResults);

const newBooksFragment = factory.createHandlers(async (c) => {
  const { consistency, cacheControl } = listingReads(c);
  const listing = await searchBooks(c.var.deps.orm, { sort: 'newest', page: 1, pageSize: 8, inStock: true, minPrice: undefined, maxPrice: undefined }, c.var.deps.log, { consistency });
  c.header('cache-control', cacheControl);
  return c.html(html`<section class="new-books"><h2>New in the catalog</h2>${bookGrid(listing.items)}<p><a href="/catalog">See all books →</a></p></section>`);
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
  return c.html(bookForm({}));
});

const submitNewBook = factory.createHandlers(async (c) => {
  const seller = await sellerOrAnswer(c);
  if (seller instanceof Response) return seller;
  const fields = bookFormFields.parse(await readForm(c));
  const parsed = parseBookForm(fields);
  if (!parsed.ok) return c.html(bookForm({ values: fields, errors: parsed.errors }), 400);
  // A form without its key (an old page) still adds the book, once.
  await createBook(c.var.em, seller, parsed.input, { key: fields.key || undefined });
  return c.redirect('/sell?done=created', 303);
});

const editBookForm = factory.createHandlers(async (c) => {
  const found = await bookForChange(c);
  if (found instanceof Response) return found;
  return c.html(bookForm({ book: toBookJson(found) }));
});

const submitBookEdit = factory.createHandlers(async (c) => {
  const found = await bookForChange(c);
  if (found instanceof Response) return found;
  const fields = bookFormFields.parse(await readForm(c));
  const parsed = parseBookForm(fields);
  if (!parsed.ok) return c.html(bookForm({ book: toBookJson(found), values: fields, errors: parsed.errors }), 400);
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
  try {
    await saveCover(c, found.id);
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value); // Retry-After of a 429
    const { errors } = error.extra as { errors?: Record<string, string> };
    return c.html(bookForm({ book: toBookJson(found), errors: { cover: errors?.cover ?? error.detail } }), error.status);
  }
  return c.redirect(`/sell/${found.id}/edit`, 303);
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
 * Re-encodes the uploaded "cover" file for a book the caller may change (covers.ts), points the book
 * at it, and removes the cover it had unless another book shows that one too. Each attempt that gets
 * this far counts towards the caller's hourly limit, refused or not: decoding is the costly part.
 */
async function saveCover(c: Context<Env>, bookId: number): Promise<Book> {
  const caller = requirePrincipal(c.var);
  await bookToChange(c.var.em, bookId, caller);
  const type = c.req.header('content-type') ?? '';
  if (!type.startsWith('multipart/form-data')) {
    throw new ProblemError(415, 'Upload the cover as multipart/form-data with a "cover" file field', { errors: { cover: 'is missing' } });
  }
  const upload = (await readForm(c))['cover'];
  if (!(upload instanceof File)) throw new ProblemError(400, 'Choose an image file to upload', { errors: { cover: 'is missing' } });
  const { UPLOADS_DIR, MAX_COVER_BYTES, COVER_UPLOADS_PER_HOUR = 30 } = c.var.deps.config;
  if (upload.size === 0) throw new ProblemError(400, 'The cover file is empty', { errors: { cover: 'is empty' } });
  if (upload.size > MAX_COVER_BYTES) {
    throw new ProblemError(413, `The cover is too large: at most ${Math.floor(MAX_COVER_BYTES / 1024)} KiB`, { errors: { cover: 'is too large' } });
  }
  await countCoverUpload(c.var.em, caller.userId, COVER_UPLOADS_PER_HOUR);
  const cover = await encodeCover(new Uint8Array(await upload.arrayBuffer()));
  const { result: book } = await replaceCover(c.var.em, UPLOADS_DIR, cover, async (tx, file) => {
    const book = await bookToChange(tx, bookId, caller, { lock: true });
    const previous = book.coverFile;
    tx.assign(book, { coverFile: file, updatedAt: new Date() });
    return { result: book, released: [previous] };
  });
  return book;
}

function invalidSearch(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return `That search is not valid: ${error.issues.map((issue) => `${issue.path.map(String).join('.')} ${issue.message}`).join('; ')}.`;
}

function notFoundAsNull(error: unknown): null {
  if (error instanceof ProblemError && error.status === 404) return null;
  throw error;
}
