/**
 * Search by words: one table of queries whose expected books are the same on every database
 * (MariaDB, MariaDB through the mysql:// scheme, SQLite, and MySQL 8 when TEST_MYSQL_URL is set),
 * read both ways (along the sort index, along the word index); then filters, sorts and pages.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { resolve } from 'node:path';
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from '@bookstore/shared/testing/database';
import { bearer, jsonInit } from '@bookstore/shared/testing/http';
import { serveTestAuth, type ServedTestAuth } from '../../auth/test/support.ts';
import { searchBooks } from '../src/books.ts';
import { bookQuery, type BookJson, type BookPage } from '../src/schemas.ts';
import { prefixEnd, searchWords, type ReadVia } from '../src/search.ts';
import { startTestCatalog, type TestCatalog } from './support.ts';

test('the rules: folded words, split at every character that is not a letter or digit', () => {
  expect(searchWords("Flannery O'Connor")).toEqual(['flannery', 'o', 'connor']);
  expect(searchWords('snake_case Stories')).toEqual(['snake', 'case', 'stories']);
  expect(searchWords('100% Pure')).toEqual(['100', 'pure']);
  expect(searchWords('LES MISÉRABLES')).toEqual(['les', 'miserables']);
  expect(searchWords('ＥＭＭＡ, the ﬁnal')).toEqual(['emma', 'the', 'final']); // NFKD: full width, ligatures
  expect(searchWords('Война и мир')).toEqual(['воина', 'и', 'мир']); // й is и with a breve, a combining mark
  expect(searchWords('%_\\"')).toEqual([]);
  expect(searchWords('x'.repeat(70))).toEqual(['x'.repeat(64)]);
  expect(prefixEnd('lan')).toBe('lao');
  expect(prefixEnd('caf')).toBe('cag');
});

const shelf = [
  { title: 'Les Misérables', author: 'Victor Hugo', priceCents: 1500, stock: 3 },
  { title: 'Miserable Monday', author: 'Plain Ascii', priceCents: 700, stock: 0 },
  { title: '100% Pure Poetry', author: 'Percy Bysshe Shelley', priceCents: 999, stock: 8 },
  { title: '1000 Pure Poems', author: 'Anthology Editors', priceCents: 1999, stock: 4 },
  { title: 'snake_case Stories', author: 'Underscore Jones', priceCents: 450, stock: 2 },
  { title: 'snakeXcase Tales', author: 'Wildcard Smith', priceCents: 460, stock: 2 },
  { title: 'The "Quoted" Tale', author: "Flannery O'Connor", priceCents: 1200, stock: 1 },
  { title: 'War and Peace', author: 'Leo Tolstoy', priceCents: 2500, stock: 10 },
  { title: 'Anna Karenina', author: 'Leo Tolstoy', priceCents: 1800, stock: 0 },
  { title: 'Emma', author: 'Jane Austen', priceCents: 650, stock: 6 },
  { title: 'Back\\slash Book', author: 'Escape Artist', priceCents: 300, stock: 1 },
  { title: 'Harbor Lights', author: 'Ada Moreau', priceCents: 820, stock: 5 },
  { title: 'Island of Lanterns', author: 'Miguel Lindqvist', priceCents: 1100, stock: 3 },
  { title: 'École des femmes', author: 'Molière', priceCents: 900, stock: 2 },
  { title: 'Война и мир', author: 'Лев Толстой', priceCents: 2600, stock: 1 },
  { title: '日本の本', author: '山田 太郎', priceCents: 1300, stock: 1 },
  { title: 'Final Chapter', author: 'Nora Roberts', priceCents: 550, stock: 3 },
];

/** Query string → the titles it finds, in any order: the same on every database. */
const cases: [query: string, titles: string[]][] = [
  // Case and accents do not matter, in the book or in the search.
  ['q=EMMA', ['Emma']],
  ['q=misérable', ['Les Misérables', 'Miserable Monday']],
  ['q=MISERABLES', ['Les Misérables']],
  ['q=ÉCOLE', ['École des femmes']],
  ['q=ecole', ['École des femmes']],
  ['q=moli', ['École des femmes']],
  ['q=ТОЛСТ', ['Война и мир']],
  ['q=ＥＭＭＡ', ['Emma']],
  ['q=ﬁnal', ['Final Chapter']],
  // Words match from their start, in title or author; never inside another word.
  ['q=tolstoy', ['War and Peace', 'Anna Karenina']],
  ['q=lan', ['Island of Lanterns']],
  ['q=land', []],
  ['q=harb', ['Harbor Lights']],
  ['q=arbor', []],
  ['q=tale', ['snakeXcase Tales', 'The "Quoted" Tale']],
  ['q=o', ['The "Quoted" Tale', 'Island of Lanterns']],
  ['q=日本', ['日本の本']],
  ['q=本', []],
  ['q=太', ['日本の本']],
  // Every word must match, in any order.
  ['q=war and pe', ['War and Peace']],
  ['q=pe war', ['War and Peace']],
  ['q=war tolstoy peace', ['War and Peace']],
  ['q=war karenina', []],
  // Punctuation separates words, and is nothing more.
  ["q=O'Connor", ['The "Quoted" Tale']],
  ['q=connor', ['The "Quoted" Tale']],
  ['q="Quoted"', ['The "Quoted" Tale']],
  ['q=100%', ['100% Pure Poetry', '1000 Pure Poems']],
  ['q=100% pure poetry', ['100% Pure Poetry']],
  ['q=snake_case', ['snake_case Stories']],
  ['q=snake', ['snake_case Stories', 'snakeXcase Tales']],
  ['q=case', ['snake_case Stories']],
  ['q=back\\slash', ['Back\\slash Book']],
  ["q=' or 1=1 --", []],
  // A search without a single word matches nothing (it is not "no search").
  ['q=%', []],
  ['q=_', []],
  ['q=\\', []],
  ['q=%%% --', []],
  // The author filter: the same rules, on the author alone.
  ['author=tolstoy', ['War and Peace', 'Anna Karenina']],
  ['author=leo&q=war', ['War and Peace']],
  ['author=peace', []],
  ['author=o', ['The "Quoted" Tale']],
  ['author=%', []],
  // Search and filters together.
  ['q=leo&inStock=true', ['War and Peace']],
  ['q=pure&minPrice=1000', ['1000 Pure Poems']],
  ['q=pure&maxPrice=999', ['100% Pure Poetry']],
  ['q=tale&maxPrice=460', ['snakeXcase Tales']],
  ['q=t&minPrice=1200&maxPrice=2500&inStock=true', ['The "Quoted" Tale', 'War and Peace']],
];

interface DatabaseUnderTest {
  name: string;
  kind: TestDatabaseKind;
  /** Connect through this URL scheme instead of the kind's own. */
  scheme?: 'mysql';
}
const databases: DatabaseUnderTest[] = [
  { name: 'MariaDB', kind: 'mariadb' },
  { name: 'MariaDB through mysql:// (MySqlDriver)', kind: 'mariadb', scheme: 'mysql' },
  { name: 'SQLite', kind: 'sqlite' },
  ...(process.env.TEST_MYSQL_URL ? [{ name: 'MySQL 8', kind: 'mysql' as const }] : []),
];
const readsVia: ReadVia[] = ['sort index', 'word index'];

describe.each(databases)('catalog search on $name', (database) => {
  let auth: ServedTestAuth;
  let db: TestDatabase | undefined;
  let catalog: TestCatalog;
  beforeAll(async () => {
    auth = await serveTestAuth();
    if (database.scheme) db = await createTestDatabase(database.kind);
    catalog = await startTestCatalog(auth.url, db ? { databaseUrl: db.url.replace(/^[a-z]+:/, `${database.scheme}:`) } : { kind: database.kind });
    const { token } = await auth.signUp('Shelf Keeper');
    for (const book of shelf) await catalog.addBook(token, book);
  });
  afterAll(async () => {
    await catalog?.close();
    await db?.drop();
    await auth.close();
  });

  async function listing(query: string): Promise<BookPage> {
    const response = await catalog.app.request(`/api/books?${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as BookPage;
  }
  const titles = async (query: string) => (await listing(query)).items.map((book) => book.title);

  test.each(cases)('%s', async (text, expected) => {
    const query = `${text.replace(/[^=&]+/g, (part) => encodeURIComponent(part))}&pageSize=60`;
    expect((await titles(query)).sort()).toEqual([...expected].sort());
    // Read along either index, the matches are the same; and counted, so is the total.
    const parsed = bookQuery.parse(Object.fromEntries(new URLSearchParams(query)));
    for (const via of readsVia) {
      const page = await searchBooks(catalog.orm, parsed, undefined, { via });
      expect({ via, titles: page.items.map((book) => book.title).sort() }).toEqual({ via, titles: [...expected].sort() });
    }
    expect((await listing(query.replace('pageSize=60', 'pageSize=1'))).total).toBe(expected.length);
  });

  test('a listing reads each book exactly as the book itself reads', async () => {
    for (const item of (await listing('pageSize=60')).items) {
      const book = (await (await catalog.app.request(`/api/books/${item.id}`)).json()) as BookJson;
      expect(item).toEqual(book);
    }
  });

  test('filters: price range (inclusive) and in stock combine', async () => {
    expect(await titles('minPrice=650&maxPrice=820&sort=price_asc')).toEqual(['Emma', 'Miserable Monday', 'Harbor Lights']);
    expect(await titles('minPrice=1999&maxPrice=1999')).toEqual(['1000 Pure Poems']);
    expect((await titles('inStock=true&pageSize=60')).length).toBe(shelf.filter((book) => book.stock > 0).length);
  });

  test('sorts: newest first by default, price both ways, title', async () => {
    const all = shelf.map((book) => book.title);
    expect(await titles('pageSize=60')).toEqual([...all].reverse());
    expect(await titles('pageSize=60&sort=price_asc')).toEqual([...shelf].sort((a, b) => a.priceCents - b.priceCents).map((b) => b.title));
    expect(await titles('pageSize=60&sort=price_desc')).toEqual([...shelf].sort((a, b) => b.priceCents - a.priceCents).map((b) => b.title));
    const byTitle = await titles('pageSize=60&sort=title');
    expect(byTitle).toHaveLength(shelf.length);
    // '%' sorts before '0'.
    expect(byTitle.slice(0, 2)).toEqual(['100% Pure Poetry', '1000 Pure Poems']);
  });

  test('pages split the listing without gaps or repeats, and report the total', async () => {
    const seen: string[] = [];
    for (let page = 1; page <= Math.ceil(shelf.length / 3); page++) {
      const listed = await listing(`sort=price_asc&pageSize=3&page=${page}`);
      expect(listed.total).toBe(shelf.length);
      expect(listed.pageSize).toBe(3);
      seen.push(...listed.items.map((book) => book.title));
    }
    expect(seen).toEqual([...shelf].sort((a, b) => a.priceCents - b.priceCents).map((b) => b.title));
    const beyond = await listing('page=50&pageSize=3');
    expect(beyond.items).toEqual([]);
    expect(beyond.total).toBe(shelf.length);
  });

  test('a page size over the cap is capped (BRIEF), and the answer says which size it used', async () => {
    const capped = await listing('pageSize=1000');
    expect(capped.pageSize).toBe(60);
    expect(capped.items.length).toBe(Math.min(60, shelf.length));
  });

  test('a search page by page: the same pages along either index, and the total', async () => {
    for (const text of ['q=t', 'q=t&sort=price_desc', 'q=s&inStock=true&sort=price_asc', 'q=a&minPrice=500']) {
      const query = bookQuery.parse(Object.fromEntries(new URLSearchParams(`${text}&pageSize=2`)));
      const all = (await searchBooks(catalog.orm, { ...query, pageSize: 60 })).items.map((book) => book.id);
      expect(all.length).toBeGreaterThan(3);
      for (const via of readsVia) {
        const paged: number[] = [];
        for (let page = 1; page <= Math.ceil(all.length / 2); page++) {
          const listed = await searchBooks(catalog.orm, { ...query, page }, undefined, { via });
          expect(listed.total).toBe(all.length);
          paged.push(...listed.items.map((book) => book.id));
        }
        expect({ text, via, paged }).toEqual({ text, via, paged: all });
      }
    }
  });
});

/** The books of `books` (newest first) that the rules match for a query, in the query's order. */
function matching(books: BookJson[], text: string): number[] {
  const query = bookQuery.parse(Object.fromEntries(new URLSearchParams(text)));
  const starts = (prefixes: string[], words: string[]) => prefixes.every((prefix) => words.some((word) => word.startsWith(prefix)));
  const found = books.filter(
    (book) =>
      starts(searchWords(query.q ?? ''), searchWords(`${book.title} ${book.author}`)) &&
      starts(searchWords(query.author ?? ''), searchWords(book.author)) &&
      (query.minPrice === undefined || book.priceCents >= query.minPrice) &&
      (query.maxPrice === undefined || book.priceCents <= query.maxPrice) &&
      (!query.inStock || book.stock > 0),
  );
  if (query.sort === 'price_asc') found.sort((a, b) => a.priceCents - b.priceCents || a.id - b.id);
  if (query.sort === 'price_desc') found.sort((a, b) => b.priceCents - a.priceCents || b.id - a.id);
  return found.map((book) => book.id);
}

describe.each(databases)('400 generated books on $name: every way of reading agrees with the rules', (database) => {
  let auth: ServedTestAuth;
  let db: TestDatabase | undefined;
  let catalog: TestCatalog;
  let books: BookJson[] = [];
  beforeAll(async () => {
    auth = await serveTestAuth();
    if (database.scheme) db = await createTestDatabase(database.kind);
    catalog = await startTestCatalog(auth.url, db ? { databaseUrl: db.url.replace(/^[a-z]+:/, `${database.scheme}:`) } : { kind: database.kind });
    const cli = resolve(import.meta.dir, '../src/cli.ts');
    const run = Bun.spawnSync(['bun', cli, 'generate-books', '--count', '400'], { env: { ...process.env, DATABASE_URL: catalog.url, LOG_LEVEL: 'warn' } });
    if (run.exitCode !== 0) throw new Error(run.stderr.toString());
    for (let page = 1; books.length < 400; page++) books.push(...(await searchBooks(catalog.orm, bookQuery.parse({ pageSize: '60', page: String(page) }))).items);
  });
  afterAll(async () => {
    await catalog?.close();
    await db?.drop();
    await auth.close();
  });

  // "1" is in every title, "l" and "a" in most books, "zeph" in none; the rest in 5% to 20% of them.
  const searches = ['q=1', 'q=l', 'q=l a', 'q=silent', 'q=1 silent', 'q=golden lan', 'q=ada', 'q=mor 1', 'q=s&author=o', 'q=zeph', 'q=1&author=zeph', 'q=1&inStock=true', 'q=r&minPrice=1000&maxPrice=3000'];
  test.each(searches.flatMap((text) => ['newest', 'price_asc', 'price_desc'].map((sort) => `${text}&sort=${sort}`)))('%s', async (text) => {
    const expected = matching(books, text);
    for (const pageSize of [7, 60]) {
      for (const page of [1, 2, 5]) {
        const query = bookQuery.parse(Object.fromEntries(new URLSearchParams(`${text}&pageSize=${pageSize}&page=${page}`)));
        const wanted = expected.slice((page - 1) * pageSize, page * pageSize);
        for (const via of [undefined, ...readsVia]) {
          const listed = await searchBooks(catalog.orm, query, undefined, { via, consistency: 'primary' });
          expect({ via, page, pageSize, ids: listed.items.map((book) => book.id), total: listed.total }).toEqual({ via, page, pageSize, ids: wanted, total: expected.length });
        }
      }
    }
  });
});

test('a NUL character in a search or a title is a 400 on the embedded database, never a 500', async () => {
  const auth = await serveTestAuth();
  const catalog = await startTestCatalog(auth.url, { kind: 'sqlite' });
  try {
    const { token } = await auth.signUp('Nul Seller');
    expect((await catalog.app.request('/api/books?q=%00')).status).toBe(400);
    expect((await catalog.app.request('/api/books', jsonInit('POST', { title: 'A\u0000B', author: 'X', priceCents: 100, stock: 1 }, bearer(token)))).status).toBe(400);
    expect((await catalog.app.request('/api/books?q=ok')).status).toBe(200);
  } finally {
    await catalog.close();
    await auth.close();
  }
});
