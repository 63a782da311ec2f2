/** Books: search the catalog, read one, and let a seller (or an admin) add, change and remove theirs. */
import { LockMode, raw, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Principal } from '@bookstore/shared/auth';
import { dialectOfPlatform, readWithFallback, transaction, type EntityManager, type Orm, type ReadConnection } from '@bookstore/shared/db';
import { ProblemError } from '@bookstore/shared/errors';
import type { Logger } from '@bookstore/shared/log';
import { removeUnusedCover } from './covers.ts';
import { Book, Reservation } from './entities.ts';
import { maxStock, type BookInput, type BookJson, type BookPage, type BookPatch, type BookQuery } from './schemas.ts';
import { bookColumns, countListing, indexBook, listingPage, recall, remember, unindexBook, wordTerms, type BookRow, type ReadVia } from './search.ts';

const coverPath = '/covers/';

export function toBookJson(book: Book): BookJson {
  return {
    id: book.id,
    title: book.title,
    author: book.author,
    description: book.description,
    priceCents: book.priceCents,
    stock: book.stock,
    sellerId: book.sellerId,
    sellerName: book.sellerName,
    coverUrl: book.coverFile ? `${coverPath}${book.coverFile}` : null,
    createdAt: book.createdAt.toISOString(),
    updatedAt: book.updatedAt.toISOString(),
  };
}

/** A book as a listing reads it: a row of `books` (see `bookColumns`), never an entity. */
function bookJsonFromRow(row: BookRow): BookJson {
  return {
    id: Number(row.id),
    title: row.title,
    author: row.author,
    description: row.description,
    priceCents: Number(row.price_cents),
    stock: Number(row.stock),
    sellerId: Number(row.seller_id),
    sellerName: row.seller_name,
    coverUrl: row.cover_file ? `${coverPath}${row.cover_file}` : null,
    createdAt: dateOfColumn(row.created_at).toISOString(),
    updatedAt: dateOfColumn(row.updated_at).toISOString(),
  };
}

/** A datetime column as the drivers hand it over: "2026-11-25 10:00:00" (MySQL, in UTC), milliseconds (SQLite), or a Date. */
function dateOfColumn(value: string | number | Date): Date {
  if (value instanceof Date) return value;
  return new Date(typeof value === 'number' ? value : `${value.replace(' ', 'T')}Z`);
}

export interface SearchOptions {
  /** 'primary': read the primary, not a replica, and count afresh: for a caller who has just written. */
  consistency?: 'replica' | 'primary';
  /** For tests and benchmarks: read (and count, afresh) along this index whatever the estimate says. */
  via?: ReadVia;
  /**
   * Share a replica read with identical queries for this long (LISTING_MAX_AGE_SECONDS): queries
   * arriving together wait for one read, and later ones reuse it until it is this old.
   */
  maxAgeMs?: number;
}

/**
 * Pages kept for `maxAgeMs`, per database and query: at most 100, the oldest going first (a page of
 * 60 books with long descriptions can reach ~300 KB). A page's age counts from when its read ended.
 */
const sharedPages = new WeakMap<Orm, Map<string, { page: Promise<BookPage>; until: number }>>();
const sharedPagesKept = 100;

function sharedPage(orm: Orm, query: BookQuery, maxAgeMs: number, read: () => Promise<BookPage>): Promise<BookPage> {
  let pages = sharedPages.get(orm);
  if (!pages) sharedPages.set(orm, (pages = new Map()));
  const key = JSON.stringify(query);
  const kept = pages.get(key);
  if (kept && kept.until > Date.now()) return kept.page;
  pages.delete(key);
  while (pages.size >= sharedPagesKept) pages.delete(pages.keys().next().value!);
  const page = read();
  const entry = { page, until: Number.POSITIVE_INFINITY }; // while the read runs, others wait for it
  pages.set(key, entry);
  page.then(
    () => (entry.until = Date.now() + maxAgeMs),
    () => pages.get(key) === entry && pages.delete(key), // a failed read is not kept: the next query tries again
  );
  return page;
}

/**
 * One page of the catalog for a query, with its total: matching books by the rules of search.ts,
 * filtered, sorted and paged. A search or author filter without a single word ("%") matches no
 * book. Read from a read replica when there is one; `consistency: 'primary'` reads the primary
 * (a seller who has just changed a book sees it at once, total included).
 *
 * @example
 * const listing = await searchBooks(orm, bookQuery.parse({ q: 'war and pe' }), log);
 */
export function searchBooks(orm: Orm, query: BookQuery, log?: Logger, options: SearchOptions = {}): Promise<BookPage> {
  const terms = wordTerms(query);
  if (!terms) return Promise.resolve({ items: [], page: query.page, pageSize: query.pageSize, total: 0 });
  const primary = options.consistency === 'primary';
  const read = async (em: EntityManager, connectionType: ReadConnection): Promise<BookPage> => {
    const offset = (query.page - 1) * query.pageSize;
    const items = (await listingPage(em, connectionType, query, terms, options.via)).map(bookJsonFromRow);
    // A page that is not full ends the listing, so it tells the total without counting.
    const total =
      items.length < query.pageSize && (items.length > 0 || offset === 0)
        ? offset + items.length
        : await countOnce(em, query, () => countListing(em, connectionType, query, terms, options.via), { fresh: primary || options.via !== undefined });
    return { items, page: query.page, pageSize: query.pageSize, total };
  };
  if (primary) return read(orm.em.fork(), 'write');
  if (options.maxAgeMs && options.via === undefined) return sharedPage(orm, query, options.maxAgeMs, () => readWithFallback(orm, read, log));
  return readWithFallback(orm, read, log);
}

/**
 * Totals of full listings, kept for 10 s per filter: counting 100,000 rows costs more than the page
 * itself (bench/RESULTS.md), and a shopper paging or typing asks for the same total again and again.
 * A read from the primary counts afresh (and leaves its count for the others).
 */
async function countOnce(em: EntityManager, query: BookQuery, count: () => Promise<number>, options: { fresh: boolean }): Promise<number> {
  const key = `total:${JSON.stringify([query.q, query.author, query.minPrice, query.maxPrice, query.inStock])}`;
  const known = options.fresh ? undefined : recall<number>(em, key);
  return known ?? remember(em, key, await count(), 10_000);
}

/**
 * A book in the catalog, or 404. Read from a replica; but read again from the primary when the
 * replica has no such book (it may not have it yet: purchase asks for a book the moment a seller
 * added it) or when the caller is its seller, so a seller never sees their own edit "lost" to lag.
 */
export async function findBook(orm: Orm, id: number, caller: Principal | null, log?: Logger): Promise<Book> {
  let book = await readWithFallback(orm, (em, connectionType) => em.findOne(Book, { id, deletedAt: null }, { connectionType }), log);
  if (book === null || (caller && book.sellerId === caller.userId)) {
    book = await orm.em.fork().findOne(Book, { id, deletedAt: null }, { connectionType: 'write' });
  }
  if (!book) throw new ProblemError(404, `There is no book ${id} in the catalog`);
  return book;
}

/**
 * The seller's own books, newest first, always from the primary. The total comes from the seller's
 * count (`seller_book_counts`, changed in the same transaction as their books), not from counting.
 */
export async function sellerBooks(em: EntityManager, sellerId: number, page: number, pageSize: number): Promise<BookPage> {
  const offset = (page - 1) * pageSize;
  const order = 'b.created_at desc, b.id desc';
  const ids = `select b.id from books b where b.seller_id = ? and b.deleted_at is null order by ${order} limit ? offset ?`;
  const rows = await em.execute<BookRow[]>(`select ${bookColumns} from books b join (${ids}) page on page.id = b.id order by ${order}`, [sellerId, pageSize, offset], { connectionType: 'write' });
  const items = rows.map(bookJsonFromRow);
  if (items.length < pageSize && (items.length > 0 || offset === 0)) return { items, page, pageSize, total: offset + items.length };
  const [count] = await em.execute<{ books: number | string }[]>('select books from seller_book_counts where seller_id = ?', [sellerId], { connectionType: 'write' });
  return { items, page, pageSize, total: Number(count?.books ?? 0) };
}

/** Adds `delta` to the seller's count of live books; in the transaction that adds or removes them. */
export async function countSellerBooks(em: EntityManager, sellerId: number, delta: number): Promise<void> {
  const upsert =
    dialectOfPlatform(em) === 'mysql'
      ? 'insert into seller_book_counts (seller_id, books) values (?, ?) on duplicate key update books = books + ?'
      : 'insert into seller_book_counts (seller_id, books) values (?, ?) on conflict (seller_id) do update set books = books + ?';
  await em.execute(upsert, [sellerId, delta, delta]);
}

/**
 * Adds a book sold by the caller: the seller is whoever the token says, never a field of the body.
 * With `key` (the form's or the API request's), a repeat of the same request (a retry after an
 * answer that never arrived, a double click) finds the book the first one added instead of adding
 * another: the key is unique per seller in the table, so even two at once add one.
 */
export async function createBook(em: EntityManager, seller: Principal, input: BookInput, options: { key?: string } = {}): Promise<Book> {
  const creationKey = options.key ?? null;
  try {
    return await transaction(em, async (tx) => {
      // The seller's count row first: one seller's books added at once (two tabs, an API client in
      // parallel) queue on it before taking any other lock, instead of deadlocking on the indexes.
      await countSellerBooks(tx, seller.userId, 1);
      const now = new Date();
      const book = tx.create(Book, {
        ...input,
        sellerId: seller.userId,
        sellerName: seller.name || `Seller ${seller.userId}`,
        coverFile: null,
        createdAt: now,
        updatedAt: now,
        deletedAt: null,
        creationKey,
      });
      await tx.flush();
      await indexBook(tx, book);
      return book;
    });
  } catch (error) {
    if (!(error instanceof UniqueConstraintViolationException) || creationKey === null) throw error;
    const earlier = await em.fork().findOne(Book, { sellerId: seller.userId, creationKey }, { connectionType: 'write' });
    if (!earlier) throw error;
    // The key answers only the request it was made for, and only while that book is in the catalog.
    const same = (['title', 'author', 'description', 'priceCents'] as const).every((field) => earlier[field] === input[field]);
    if (!same) throw new ProblemError(409, 'This key was already used to add another book; send a new key (a fresh form) for a new book', { errors: { 'idempotency-key': 'was used for another book' } });
    if (earlier.deletedAt) throw new ProblemError(409, 'The book this key added has since been removed from the catalog; send a new key (a fresh form) to add it again', { errors: { 'idempotency-key': 'was used for a removed book' } });
    return earlier;
  }
}

/** Catalog itself, removing the books of a seller whose account was deleted (deleted-sellers.ts). */
export const sellerDeleted = Symbol('seller deleted');
/** Who changes a book: a signed-in user, or catalog itself for a deleted seller. */
export type Changer = Principal | typeof sellerDeleted;

/**
 * The book, if the caller may change it: its seller or an admin (or catalog, for a deleted seller).
 * 404 if gone, 403 if not theirs. With `lock` (inside a transaction) its row is locked until the
 * transaction ends.
 */
export async function bookToChange(em: EntityManager, id: number, caller: Changer, options: { lock?: boolean } = {}): Promise<Book> {
  const book = await em.findOne(Book, { id, deletedAt: null }, { connectionType: 'write', ...(options.lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}) });
  if (!book) throw new ProblemError(404, `There is no book ${id} in the catalog`);
  if (caller === sellerDeleted) return book;
  if (book.sellerId !== caller.userId && caller.role !== 'admin') {
    throw new ProblemError(403, 'Only the seller of this book or an administrator can change it');
  }
  return book;
}

/**
 * Changes a book. With `stockWas` (the stock the seller saw when they opened the form), stock moves
 * by the difference instead of being overwritten: copies reserved or sold meanwhile stay taken.
 * One transaction, run again if the database picks it as a deadlock victim.
 */
export async function updateBook(em: EntityManager, id: number, caller: Principal, patch: BookPatch, options: { stockWas?: number } = {}): Promise<Book> {
  return transaction(em, async (tx) => {
    const book = await bookToChange(tx, id, caller, { lock: true });
    const { stock, ...rest } = patch;
    const delta = stock !== undefined && options.stockWas !== undefined ? stock - options.stockWas : undefined;
    tx.assign(book, { ...rest, ...(stock !== undefined && delta === undefined ? { stock } : {}), updatedAt: new Date() });
    await tx.flush();
    if (rest.title !== undefined || rest.author !== undefined) await indexBook(tx, book);
    if (delta) {
      await tx.nativeUpdate(Book, { id }, { stock: raw('case when stock + ? < 0 then 0 when stock + ? > ? then ? else stock + ? end', [delta, delta, maxStock, maxStock, delta]) });
      await tx.refresh(book);
    }
    return book;
  });
}

/**
 * Removes a book. One that was ever reserved keeps its row (marked deleted) so orders can still be
 * committed, released and shown; a book nobody ordered is deleted outright.
 *
 * The book's row is locked first: a reserve takes stock by updating that row, so one still running
 * has committed its reservation by the time the lock is ours, and one coming later finds the book
 * gone or retired. The reservations are then read with a locking read: it sees the latest commit,
 * never an older snapshot the transaction may hold. With `uploadsDir`, its cover's files are removed
 * afterwards unless another book shows the same image.
 */
export async function removeBook(em: EntityManager, id: number, caller: Changer, options: { uploadsDir?: string } = {}): Promise<'deleted' | 'retired'> {
  const { outcome, coverFile } = await transaction(em, async (tx) => {
    // The seller's count row first, as adding a book takes it first: one seller's adds and removes
    // queue there instead of locking in opposite orders (a refusal below rolls the count back).
    const [seller] = await tx.execute<{ seller_id: number }[]>('select seller_id from books where id = ? and deleted_at is null', [id]);
    if (seller) await countSellerBooks(tx, Number(seller.seller_id), -1);
    const book = await bookToChange(tx, id, caller, { lock: true });
    const coverFile = book.coverFile;
    const ordered = await tx.findOne(Reservation, { bookId: id }, { fields: ['id'], lockMode: LockMode.PESSIMISTIC_READ });
    await unindexBook(tx, id);
    if (ordered) {
      // Orders show a retired book's title, never its cover: the cover may go.
      Object.assign(book, { deletedAt: new Date(), coverFile: null });
      await tx.flush();
      return { outcome: 'retired' as const, coverFile };
    }
    tx.remove(book);
    await tx.flush();
    return { outcome: 'deleted' as const, coverFile };
  });
  if (options.uploadsDir) await removeUnusedCover(em, options.uploadsDir, coverFile);
  return outcome;
}
