/** Books: search the catalog, read one, and let a seller (or an admin) add, change and remove theirs. */
import { LockMode, raw } from '@mikro-orm/core';
import type { Principal } from '@bookstore/shared/auth';
import { dialectOfPlatform, readWithFallback, transaction, type EntityManager, type Orm, type ReadConnection } from '@bookstore/shared/db';
import { ProblemError } from '@bookstore/shared/errors';
import type { Logger } from '@bookstore/shared/log';
import { Book, Reservation } from './entities.ts';
import { maxStock, type BookInput, type BookJson, type BookPage, type BookPatch, type BookQuery } from './schemas.ts';

export const coverPath = '/covers/';

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

const orderings: Record<BookQuery['sort'], Record<string, 'asc' | 'desc'>> = {
  newest: { createdAt: 'desc', id: 'desc' },
  price_asc: { priceCents: 'asc', id: 'asc' },
  price_desc: { priceCents: 'desc', id: 'desc' },
  title: { title: 'asc', id: 'asc' },
};

/**
 * A LIKE pattern matching `text` anywhere, with `%` and `_` matching themselves: the search is for
 * the text typed, not a pattern. `!` is the escape character (`escape '!'`): unlike the backslash,
 * it reads the same in MySQL and SQLite string literals.
 */
export function likePattern(text: string): string {
  return `%${text.replace(/[!%_]/g, (char) => `!${char}`)}%`;
}

// InnoDB's default fulltext stopwords: a required (+) stopword would match nothing.
const stopwords = new Set('a about an are as at be by com de en for from how i in is it la of on or that the this to was what when where who will with und www'.split(' '));

/**
 * Words the fulltext index can use to narrow the rows, as a boolean-mode query of prefixes:
 * "war and pe" → "+war*". Only plain words (letters and digits, 3 to 84 of them, not a stopword)
 * qualify: the index splits "snake_case", "O'Connor" or "100%" its own way, and a word it splits
 * differently would hide a match. The LIKE beside it keeps the match exact.
 */
export function fulltextTerms(text: string): string | null {
  const words = fulltextWords(text);
  return words.length ? words.map((word) => `+${word}*`).join(' ') : null;
}

function fulltextWords(text: string): string[] {
  return text.split(/\s+/).filter((word) => /^[\p{L}\p{N}]{3,84}$/u.test(word) && !stopwords.has(word.toLowerCase()));
}

const fold = (text: string) => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/**
 * Whether the fulltext index surely matches this book for these words: each starts a word of the
 * title or author (accents and case aside). Conservative: words are split only where InnoDB surely
 * splits them, so a "yes" is never wrong; a "no" sends the search down the fulltext path.
 */
function surelyMatchesWords(book: Book, words: string[]): boolean {
  const tokens = fold(`${book.title} ${book.author}`).split(/[\s\-.,;:!?()"[\]{}\/]+/);
  return words.every((word) => tokens.some((token) => token.startsWith(fold(word))));
}

const sortColumns: Record<BookQuery['sort'], [column: string, direction: 'asc' | 'desc', index: string]> = {
  newest: ['created_at', 'desc', 'books_created_at_id_index'],
  price_asc: ['price_cents', 'asc', 'books_price_cents_id_index'],
  price_desc: ['price_cents', 'desc', 'books_price_cents_id_index'],
  title: ['title', 'asc', 'books_title_id_index'],
};

/** A piece of WHERE clause with its parameters. */
type Condition = [sql: string, ...params: unknown[]];

/** The listing's conditions, written once for both search paths (the text match, filters, stock). */
function listingConditions(query: BookQuery): Condition[] {
  const conditions: Condition[] = [['deleted_at is null']];
  if (query.q) {
    const pattern = likePattern(query.q);
    conditions.push(["(title like ? escape '!' or author like ? escape '!')", pattern, pattern]);
  }
  if (query.author) conditions.push(["author like ? escape '!'", likePattern(query.author)]);
  if (query.minPrice !== undefined) conditions.push(['price_cents >= ?', query.minPrice]);
  if (query.maxPrice !== undefined) conditions.push(['price_cents <= ?', query.maxPrice]);
  if (query.inStock) conditions.push(['stock > 0']);
  return conditions;
}

/** How many rows of the listing a search walks, in the listing's own order, before asking the fulltext index. */
export const searchWalkRows = 1000;

/**
 * MariaDB: a search walked along the listing's sort index, stopping after `limit` rows
 * (`LIMIT … ROWS EXAMINED`). Rows come in the listing's order, so when the walk finds the whole page
 * (and each book on it matches as the fulltext path would) it is exactly the page, found without
 * sorting every match: the case of common words, where the fulltext index would hand over
 * thousands of rows to sort. Otherwise (rare words, deep pages, words inside words) null.
 */
async function searchByWalking(em: EntityManager, connectionType: ReadConnection, query: BookQuery & { q: string }, offset: number, limit: number): Promise<Book[] | null> {
  if (offset + query.pageSize > limit) return null;
  const conditions = listingConditions(query);
  const [column, direction, index] = sortColumns[query.sort];
  try {
    const rows = await em.execute(
      `select * from books force index for order by (${index}) where ${conditions.map(([sql]) => sql).join(' and ')}
       order by ${column} ${direction}, id ${direction} limit ?, ? rows examined ${Math.floor(limit)}`,
      [...conditions.flatMap(([, ...values]) => values), offset, query.pageSize],
      { connectionType },
    );
    if (rows.length < query.pageSize) return null;
    const books = rows.map((row) => em.map(Book, row));
    // The fulltext path matches words from their start; "harbor" inside "Reharbored" it does not. The
    // walk's page stands only if every book on it would match there too.
    const words = fulltextWords(query.q);
    return books.every((book) => surelyMatchesWords(book, words)) ? books : null;
  } catch (error) {
    // The planner chose to sort instead of walking the index, and the cap stopped the sort.
    if ((error as { code?: string }).code === 'ER_FILSORT_ABORT' || /ROWS EXAMINED/.test((error as Error).message)) return null;
    throw error;
  }
}

/** One page of the catalog for a query, from a read replica when there is one. */
export function searchBooks(orm: Orm, query: BookQuery, log?: Logger, options: { walkRows?: number } = {}): Promise<BookPage> {
  return readWithFallback(
    orm,
    async (em, connectionType) => {
      const offset = (query.page - 1) * query.pageSize;
      const mysql = dialectOfPlatform(em) === 'mysql';
      const mariadb = em.getPlatform().constructor.name === 'MariaDbPlatform';
      const walked = mariadb && query.q ? await searchByWalking(em, connectionType, { ...query, q: query.q }, offset, options.walkRows ?? searchWalkRows) : null;
      const qb = em.createQueryBuilder(Book, 'b', connectionType);
      for (const [sql, ...params] of listingConditions(query)) qb.andWhere(sql, params);
      const terms = mysql && query.q ? fulltextTerms(query.q) : null;
      if (terms) qb.andWhere('match(title, author) against (? in boolean mode)', [terms]);
      const items = walked ?? (await qb.clone().orderBy(orderings[query.sort]).limit(query.pageSize, offset).getResultList());
      // A page that is not full ends the listing, so it tells the total without counting.
      const total = items.length < query.pageSize && (items.length > 0 || offset === 0) ? offset + items.length : await countOnce(orm, query, () => qb.getCount());
      return { items: items.map(toBookJson), page: query.page, pageSize: query.pageSize, total };
    },
    log,
  );
}

/**
 * Totals of full listings, kept for 10 s per filter: counting 100,000 rows costs more than the page
 * itself (bench/RESULTS.md), and a shopper paging or typing asks for the same total again and again.
 */
const countTtlMs = 10_000;
const countsByDatabase = new WeakMap<Orm, Map<string, { total: number; until: number }>>();

async function countOnce(orm: Orm, query: BookQuery, count: () => Promise<number>): Promise<number> {
  let counts = countsByDatabase.get(orm);
  if (!counts) countsByDatabase.set(orm, (counts = new Map()));
  const key = JSON.stringify([query.q, query.author, query.minPrice, query.maxPrice, query.inStock]);
  const cached = counts.get(key);
  if (cached && cached.until > Date.now()) return cached.total;
  const total = await count();
  if (counts.size >= 1000) counts.clear();
  counts.set(key, { total, until: Date.now() + countTtlMs });
  return total;
}

/**
 * A book in the catalog, or 404. Read from a replica; but when the caller is its seller it is read
 * again from the primary, so a seller never sees their own edit "lost" to replica lag.
 */
export async function findBook(orm: Orm, id: number, caller: Principal | null, log?: Logger): Promise<Book> {
  let book = await readWithFallback(orm, (em, connectionType) => em.findOne(Book, { id, deletedAt: null }, { connectionType }), log);
  if (caller && (book === null || book.sellerId === caller.userId)) {
    book = await orm.em.fork().findOne(Book, { id, deletedAt: null }, { connectionType: 'write' });
  }
  if (!book) throw new ProblemError(404, `There is no book ${id} in the catalog`);
  return book;
}

/** The seller's own books, newest first, always from the primary. */
export async function sellerBooks(em: EntityManager, sellerId: number, page: number, pageSize: number): Promise<BookPage> {
  const [items, total] = await em.findAndCount(
    Book,
    { sellerId, deletedAt: null },
    { orderBy: { createdAt: 'desc', id: 'desc' }, limit: pageSize, offset: (page - 1) * pageSize, connectionType: 'write' },
  );
  return { items: items.map(toBookJson), page, pageSize, total };
}

/** Adds a book sold by the caller: the seller is whoever the token says, never a field of the body. */
export async function createBook(em: EntityManager, seller: Principal, input: BookInput): Promise<Book> {
  const now = new Date();
  const book = em.create(Book, {
    ...input,
    sellerId: seller.userId,
    sellerName: seller.name || `Seller ${seller.userId}`,
    coverFile: null,
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
  });
  await em.flush();
  return book;
}

/**
 * The book, if the caller may change it: its seller or an admin. 404 if gone, 403 if not theirs.
 * With `lock` (inside a transaction) its row is locked until the transaction ends.
 */
export async function bookToChange(em: EntityManager, id: number, caller: Principal, options: { lock?: boolean } = {}): Promise<Book> {
  const book = await em.findOne(Book, { id, deletedAt: null }, { connectionType: 'write', ...(options.lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}) });
  if (!book) throw new ProblemError(404, `There is no book ${id} in the catalog`);
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
 * never an older snapshot the transaction may hold.
 */
export async function removeBook(em: EntityManager, id: number, caller: Principal): Promise<'deleted' | 'retired'> {
  return transaction(em, async (tx) => {
    const book = await bookToChange(tx, id, caller, { lock: true });
    const ordered = await tx.findOne(Reservation, { bookId: id }, { fields: ['id'], lockMode: LockMode.PESSIMISTIC_READ });
    if (ordered) {
      book.deletedAt = new Date();
      await tx.flush();
      return 'retired';
    }
    tx.remove(book);
    await tx.flush();
    return 'deleted';
  });
}
