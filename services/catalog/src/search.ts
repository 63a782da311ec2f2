/**
 * Catalog search: the matching rules, defined here once, and the word index that applies them the
 * same way on MariaDB, MySQL and SQLite.
 *
 * The rules. A text is folded (Unicode NFKD, combining marks removed, lower case: accents and case
 * never matter) and split into words at every character that is not a letter or a digit:
 * "O'Connor" → "o", "connor"; "snake_case" → "snake", "case"; "100%" → "100". A word counts by its
 * first 64 characters. A book matches a search when every word of the search starts a word of its
 * title or author: "lan" finds "Lantern", "war and pe" finds "War and Peace", "arbor" does not find
 * "Harbor". The author filter is the same test on the author alone. A search (or author filter)
 * without a single word, "%" say, matches no book: it is not read as "no search", the whole catalog.
 *
 * The index holds the folded words of every live book and is written in the same transaction as
 * the book (create, edit, remove, generate-books; a migration filled it for the books before it):
 * - MySQL/MariaDB: `book_words (word, book_id, field)`, words compared byte by byte (utf8mb4_bin);
 *   a prefix is the range `word >= 'lan' and word < 'lao'` of its primary key: no LIKE, no escaping.
 * - SQLite: the FTS5 table `book_search (title, author)`, rowid = book id, holding the same folded
 *   words joined by spaces. Its `ascii` tokenizer splits at the spaces and leaves every word as it
 *   is (it folds only A-Z, which folded words no longer have), so the prefix query `"lan"*` finds
 *   exactly the words the range finds on MySQL.
 */
import { dialectOfPlatform, type Dialect, type EntityManager, type ReadConnection } from '@bookstore/shared/db';
import type { BookQuery } from './schemas.ts';

const maxWordLength = 64;

/** The words of a text as search sees them: `searchWords("Les Misérables, vol. 2")` → ["les", "miserables", "vol", "2"]. */
export function searchWords(text: string): string[] {
  const folded = text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  return folded
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((word) => (word.length > maxWordLength ? Array.from(word).slice(0, maxWordLength).join('') : word));
}

/** One word of a listing query: the start of a word of the title or author, or (author filter) of the author. */
export interface WordTerm {
  prefix: string;
  authorOnly: boolean;
}

/**
 * What a listing query asks of a book's words; null when its search or author filter has text but
 * not a single word, and so matches nothing.
 */
export function wordTerms(query: Pick<BookQuery, 'q' | 'author'>): WordTerm[] | null {
  const terms = new Map<string, WordTerm>();
  for (const [text, authorOnly] of [[query.q, false], [query.author, true]] as const) {
    if (!text) continue;
    const words = searchWords(text);
    if (!words.length) return null;
    for (const prefix of words) terms.set(`${authorOnly}:${prefix}`, { prefix, authorOnly });
  }
  return [...terms.values()];
}

// --- keeping the index in step ------------------------------------------------------------------

/** Runs one SQL statement in the caller's transaction: an entity manager's or a migration's `execute`. */
export type RunSql = (sql: string, params?: unknown[]) => Promise<unknown>;

/** The statement runner of an entity manager (inside `transaction()`, its transaction). */
export const runnerOf = (em: EntityManager): RunSql => (sql, params) => em.execute(sql, params ?? []);

interface IndexedBook {
  id: number;
  title: string;
  author: string;
}

/** Writes (or rewrites) a book's words; call it in the transaction that changed its title or author. */
export async function indexBook(em: EntityManager, book: IndexedBook): Promise<void> {
  await unindexBook(em, book.id);
  await insertWords(runnerOf(em), dialectOfPlatform(em), [book]);
}

/** Takes a book out of the index: it was deleted or retired. */
export async function unindexBook(em: EntityManager, id: number): Promise<void> {
  const sql = dialectOfPlatform(em) === 'mysql' ? 'delete from book_words where book_id = ?' : 'delete from book_search where rowid = ?';
  await em.execute(sql, [id]);
}

/**
 * Indexes the live books after `afterId` that have no words yet, 1000 at a time: the migration that
 * created the index, and generate-books after each batch it inserts.
 */
export async function indexMissingBooks(run: RunSql, dialect: Dialect, afterId = 0): Promise<void> {
  const indexed = dialect === 'mysql' ? 'select 1 from book_words w where w.book_id = b.id' : 'select 1 from book_search s where s.rowid = b.id';
  for (let cursor = afterId; ; ) {
    const books = (await run(`select b.id, b.title, b.author from books b where b.id > ? and b.deleted_at is null and not exists (${indexed}) order by b.id limit 1000`, [cursor])) as IndexedBook[];
    if (!books.length) return;
    await insertWords(run, dialect, books);
    cursor = Number(books.at(-1)!.id);
  }
}

async function insertWords(run: RunSql, dialect: Dialect, books: IndexedBook[]): Promise<void> {
  if (dialect === 'sqlite') {
    const params = books.flatMap((book) => [book.id, searchWords(book.title).join(' '), searchWords(book.author).join(' ')]);
    await run(`insert into book_search (rowid, title, author) values ${books.map(() => '(?, ?, ?)').join(', ')}`, params);
    return;
  }
  const rows = books.flatMap((book) => [
    ...[...new Set(searchWords(book.title))].map((word) => [word, book.id, 'title']),
    ...[...new Set(searchWords(book.author))].map((word) => [word, book.id, 'author']),
  ]);
  if (rows.length) await run(`insert into book_words (word, book_id, field) values ${rows.map(() => '(?, ?, ?)').join(', ')}`, rows.flat());
}

// --- reading a page of the listing --------------------------------------------------------------

/** A row of `books` as the listing reads it, columns named as in the table. */
export interface BookRow {
  id: number;
  title: string;
  author: string;
  description: string;
  price_cents: number;
  stock: number;
  seller_id: number;
  seller_name: string;
  cover_file: string | null;
  created_at: string | number | Date;
  updated_at: string | number | Date;
}
export const bookColumns = 'b.id, b.title, b.author, b.description, b.price_cents, b.stock, b.seller_id, b.seller_name, b.cover_file, b.created_at, b.updated_at';

/** Each sort with the index that hands live books over in its order (migration …_search_words). */
const sorts: Record<BookQuery['sort'], { order: string; index: string }> = {
  newest: { order: 'b.created_at desc, b.id desc', index: 'books_live_created_at_id_index' },
  price_asc: { order: 'b.price_cents asc, b.id asc', index: 'books_live_price_cents_id_index' },
  price_desc: { order: 'b.price_cents desc, b.id desc', index: 'books_live_price_cents_id_index' },
  title: { order: 'b.title asc, b.id asc', index: 'books_live_title_id_index' },
};

/** A piece of WHERE clause with its parameters. */
type Condition = [sql: string, ...params: unknown[]];

function filterConditions(query: BookQuery): Condition[] {
  const conditions: Condition[] = [['b.deleted_at is null']];
  if (query.minPrice !== undefined) conditions.push(['b.price_cents >= ?', query.minPrice]);
  if (query.maxPrice !== undefined) conditions.push(['b.price_cents <= ?', query.maxPrice]);
  if (query.inStock) conditions.push(['b.stock > 0']);
  return conditions;
}

const where = (conditions: Condition[]) => conditions.map(([sql]) => sql).join(' and ');
const paramsOf = (conditions: Condition[]) => conditions.flatMap(([, ...params]) => params);

/**
 * Where a listing's matches are read from (`from`, a table expression naming the book `b`) and what
 * each must pass besides the filters (`tests`). `ids`, when set, reads the same matches without the
 * rows of `books`: enough to count them when there is no filter, since the index holds live books only.
 */
interface Read {
  from: Condition;
  ids?: Condition;
  tests: Condition[];
}

/** Which index a listing reads its matches along; chosen by estimate unless a test or benchmark forces one. */
export type ReadVia = 'sort index' | 'word index';

/** One page of the listing for a query (its word terms from `wordTerms`), in the query's order. */
export async function listingPage(em: EntityManager, connectionType: ReadConnection, query: BookQuery, terms: WordTerm[], via?: ReadVia): Promise<BookRow[]> {
  const sort = sorts[query.sort];
  const read = await planRead(em, connectionType, query, terms, query.page * query.pageSize, via);
  const [from, ...fromParams] = read.from;
  const conditions = [...filterConditions(query), ...read.tests];
  // The page's ids first, along an index and touching few rows; then the rows of those ids alone.
  const ids = `select b.id from ${from} where ${where(conditions)} order by ${sort.order} limit ? offset ?`;
  return em.execute(
    `select ${bookColumns} from books b join (${ids}) page on page.id = b.id order by ${sort.order}`,
    [...fromParams, ...paramsOf(conditions), query.pageSize, (query.page - 1) * query.pageSize],
    { connectionType },
  );
}

/** How many books match the query, all pages together. */
export async function countListing(em: EntityManager, connectionType: ReadConnection, query: BookQuery, terms: WordTerm[], via?: ReadVia): Promise<number> {
  const filters = filterConditions(query);
  const unfiltered = filters.length === 1; // "live" alone
  if (!terms.length && unfiltered) return catalogSize(em, connectionType, { fresh: true });
  const read = await planRead(em, connectionType, query, terms, Infinity, via);
  // Without the word index, a count reads every live book, in no order: a plain scan of the table,
  // never a walk through a sort index that reads each row through it (on 100,000 books 80 ms instead
  // of 20 on MariaDB; 120 instead of 10 on SQLite, whose planner takes `deleted_at is null` for selective).
  const scan: Condition = [dialectOfPlatform(em) === 'sqlite' ? 'books b not indexed' : 'books b'];
  const [from, conditions] = !read.ids ? [scan, [...filters, ...read.tests]] : unfiltered ? [read.ids, read.tests] : [read.from, [...filters, ...read.tests]];
  const [row] = await em.execute<{ n: number | string }[]>(
    `select count(*) as n from ${from[0]}${conditions.length ? ` where ${where(conditions)}` : ''}`,
    [...from.slice(1), ...paramsOf(conditions)],
    { connectionType },
  );
  return Number(row!.n);
}

/**
 * Two ways to find the matches. Walking the listing's sort index, testing each book's words, stops
 * once it has the page: it reads (offset + page size) / share-of-books-matching rows, few for common
 * words, most of the catalog for rare ones. Starting from the word index and sorting what it finds
 * reads every match whatever the page: few for a rare word, many for a common one. An estimate of
 * the rows each reads decides. The share of matching books comes from counts in the word index
 * (remembered for a minute) and the catalog's size; a filter other than the sort's own range counts
 * as halving it, which leans towards the word index, whose cost is known.
 */
async function planRead(em: EntityManager, connectionType: ReadConnection, query: BookQuery, terms: WordTerm[], rowsWanted: number, via?: ReadVia): Promise<Read> {
  const sqlite = dialectOfPlatform(em) === 'sqlite';
  const walk: Condition = [sqlite ? 'books b' : `books b force index (${sorts[query.sort].index})`];
  if (!terms.length) return { from: walk, tests: [] };
  const books = Math.max(1, await catalogSize(em, connectionType));
  const priceSort = query.sort === 'price_asc' || query.sort === 'price_desc';
  const rowFilters = (query.inStock ? 1 : 0) + (!priceSort && (query.minPrice !== undefined || query.maxPrice !== undefined) ? 1 : 0);
  const walked = (share: number) => Math.min(books, rowsWanted / Math.max(share * 0.5 ** rowFilters, 1 / books));
  if (!sqlite) return planMySqlRead(em, connectionType, terms, { walk, books, walked, rowFilters: rowFilters > 0, via });
  // SQLite: FTS5 hands over all the matches at once, cheaply; walking or sorting costs alike per row.
  const match = terms.map((term) => `${term.authorOnly ? 'author : ' : ''}"${term.prefix}"*`).join(' AND ');
  const matches = await indexRows(em, connectionType, `fts:${match}`, 50_000, 'select rowid from book_search where book_search match ?', [match]);
  if (via ? via === 'sort index' : matches >= walked(matches / books)) return { from: walk, tests: [['b.id in (select rowid from book_search where book_search match ?)', match]] };
  return { from: ['book_search s cross join books b on b.id = s.rowid'], ids: ['book_search s'], tests: [['s.book_search match ?', match]] };
}

/** The first string after every string that starts with `prefix`: "lan" → "lao". */
export function prefixEnd(prefix: string): string {
  const chars = Array.from(prefix);
  const last = chars.pop()!.codePointAt(0)! + 1;
  return chars.join('') + String.fromCodePoint(last === 0xd800 ? 0xe000 : last); // never a surrogate half
}

/** MySQL: the entries of `book_words` (as `alias`) for the words starting with the term. */
const wordRange = (term: WordTerm, alias = 'w'): Condition => [
  `${alias}.word >= ? and ${alias}.word < ?${term.authorOnly ? ` and ${alias}.field = 'author'` : ''}`,
  term.prefix,
  prefixEnd(term.prefix),
];

/** A test of a book's words, on the book whose id is `id` (a column of the query around it). */
type WordTest = (id: string) => Condition;

/**
 * MySQL: the books with a word starting with the term and passing the other words' tests, each once,
 * as `b`: with their rows (`b.id`) or their ids alone (`id`). The tests run on the word index before
 * any row of `books` is read: "golden lantern" reads the rows of its 250 matches, not of 5,000 golden books.
 */
function wordBooks(term: WordTerm, tests: WordTest[], columns: 'b.id' | 'id'): Condition {
  const conditions = [wordRange(term, 'x'), ...tests.map((test) => test('x.book_id'))];
  const matches = `select distinct x.book_id${columns === 'id' ? ' as id' : ''} from book_words x where ${where(conditions)}`;
  const table = columns === 'id' ? `(${matches}) b` : `(${matches}) r straight_join books b on b.id = r.book_id`;
  return [table, ...paramsOf(conditions)];
}

/**
 * MySQL: does the book have a word starting with the term? Looked up per book in `(book_id, word)`.
 * A scalar subquery, because the planner turns EXISTS into a semi-join that first reads the word's
 * whole range (38,000 rows for "l"): right for `wordHash`, not here.
 */
const wordProbe =
  (term: WordTerm): WordTest =>
  (id) => {
    const [range, ...params] = wordRange(term);
    return [`(select 1 from book_words w where w.book_id = ${id} and ${range} limit 1) is not null`, ...params];
  };

/** MySQL: the same test as a semi-join: the planner reads the word's range once into a hash table. */
const wordHash =
  (term: WordTerm): WordTest =>
  (id) => {
    const [range, ...params] = wordRange(term);
    return [`exists (select 1 from book_words w where w.book_id = ${id} and ${range})`, ...params];
  };

// --- choosing how to read, on MySQL ---------------------------------------------------------------

/** What reading one row costs, in µs, measured on MariaDB 10.11 with 100,000 books (bench/catalog-search.ts). */
const cost = { walk: 0.3, row: 1.5, probe: 3.5, hash: 0.5 };

interface Walk {
  walk: Condition;
  books: number;
  /** The rows a walk reads when this share of books has the words. */
  walked: (share: number) => number;
  /** Whether the walk must read each row for a filter. */
  rowFilters: boolean;
  via?: ReadVia;
}

/**
 * MySQL: walk the sort index, or start from the books of the rarest word, whichever costs less (in
 * µs, by `cost`). Each other word is tested per book by a lookup, or in a hash of its range when
 * that range is small next to the books tested.
 */
async function planMySqlRead(em: EntityManager, connectionType: ReadConnection, terms: WordTerm[], { walk, books, walked, rowFilters, via }: Walk): Promise<Read> {
  const rows = await wordRangeCounts(em, connectionType, terms);
  const byRarity = [...terms].sort((a, b) => rows.get(a)! - rows.get(b)!);
  const hashing = (term: WordTerm, tested: number) => rows.get(term)! * cost.hash + tested * cost.walk;
  const hashCheaper = (term: WordTerm, tested: number) => hashing(term, tested) < tested * cost.probe;
  const testCost = (tested: number, terms: WordTerm[]) => terms.reduce((sum, term) => sum + Math.min(hashing(term, tested), tested * cost.probe), 0);
  const tests = (tested: number, terms: WordTerm[]) => terms.map((term) => (hashCheaper(term, tested) ? wordHash(term) : wordProbe(term)));

  const [rarest, ...others] = byRarity as [WordTerm, ...WordTerm[]];
  const share = terms.reduce((product, term) => product * Math.min(1, rows.get(term)! / books), 1);
  const walkRows = walked(share);
  const walkCost = walkRows * (cost.walk + (rowFilters ? cost.row : 0)) + testCost(walkRows, byRarity);
  const fromRows = rows.get(rarest)!;
  const matches = Math.min(fromRows, share * books);
  const fromCost = fromRows * cost.walk + matches * cost.row + testCost(fromRows, others);
  if (via ? via === 'sort index' : walkCost <= fromCost) return { from: walk, tests: tests(walkRows, byRarity).map((test) => test('b.id')) };
  const otherTests = tests(fromRows, others);
  return { from: wordBooks(rarest, otherTests, 'b.id'), ids: wordBooks(rarest, otherTests, 'id'), tests: [] };
}

/**
 * How many entries each term's range has in `book_words`: first counted up to 1000; the words past
 * that are counted further only as far as the choice needs (up to 50,000).
 */
async function wordRangeCounts(em: EntityManager, connectionType: ReadConnection, terms: WordTerm[]): Promise<Map<WordTerm, number>> {
  const count = (term: WordTerm, cap: number) => {
    const [range, ...params] = wordRange(term);
    return indexRows(em, connectionType, `words:${term.authorOnly}:${term.prefix}`, cap, `select 1 from book_words w where ${range}`, params);
  };
  const rows = new Map<WordTerm, number>();
  for (const term of terms) rows.set(term, await count(term, 1000));
  const fewest = Math.min(...rows.values());
  // Next to a rare word, another matters only up to the count where hashing it beats looking it up.
  const cap = fewest < 1000 ? Math.ceil((fewest * (cost.probe - cost.walk)) / cost.hash) + 1 : 50_000;
  for (const term of terms) if (rows.get(term)! >= 1000 && cap > 1000) rows.set(term, await count(term, cap));
  return rows;
}

/** How many rows a query of the word index returns, counted up to `cap`; remembered for a minute under `key`. */
async function indexRows(em: EntityManager, connectionType: ReadConnection, key: string, cap: number, sql: string, params: unknown[]): Promise<number> {
  const known = recall<{ rows: number; cap: number }>(em, key);
  if (known && (known.rows < known.cap || known.cap >= cap)) return Math.min(known.rows, cap);
  const [row] = await em.execute<{ n: number | string }[]>(`select count(*) as n from (${sql} limit ?) t`, [...params, cap], { connectionType });
  return remember(em, key, { rows: Number(row!.n), cap }, 60_000).rows;
}

/** Live books in the catalog: the sum of the per-seller counts, remembered for a minute unless `fresh`. */
async function catalogSize(em: EntityManager, connectionType: ReadConnection, options: { fresh?: boolean } = {}): Promise<number> {
  const known = options.fresh ? undefined : recall<number>(em, 'catalog size');
  if (known !== undefined) return known;
  const [row] = await em.execute<{ n: number | string }[]>('select coalesce(sum(books), 0) as n from seller_book_counts', [], { connectionType });
  return remember(em, 'catalog size', Number(row!.n), 60_000);
}

// --- remembered figures -------------------------------------------------------------------------

/** Figures kept for a while per database: keyed by the driver, which every fork of one ORM shares. */
const memories = new WeakMap<object, Map<string, { value: unknown; until: number }>>();

/** A figure remembered for this database and not yet expired, if any. */
export function recall<T>(em: EntityManager, key: string): T | undefined {
  const memory = memories.get(em.getDriver())?.get(key);
  return memory && memory.until > Date.now() ? (memory.value as T) : undefined;
}

/** Remembers a figure for `ttlMs`; returns it. At most 1000 are kept: past that, all are forgotten. */
export function remember<T>(em: EntityManager, key: string, value: T, ttlMs: number): T {
  let memory = memories.get(em.getDriver());
  if (!memory) memories.set(em.getDriver(), (memory = new Map()));
  if (memory.size >= 1000) memory.clear();
  memory.set(key, { value, until: Date.now() + ttlMs });
  return value;
}
