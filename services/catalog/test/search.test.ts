/** Search, filters, sort and pagination return exactly the right books, on MariaDB and on SQLite. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { bearer, jsonInit } from '@bookstore/shared/testing/http';
import { serveTestAuth, type ServedTestAuth } from '../../auth/test/support.ts';
import type { BookPage } from '../src/schemas.ts';
import { startTestCatalog, type TestCatalog } from './support.ts';

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
];

describe.each(['mariadb', 'sqlite'] as const)('catalog search on %s', (kind) => {
  let auth: ServedTestAuth;
  let catalog: TestCatalog;
  beforeAll(async () => {
    auth = await serveTestAuth();
    catalog = await startTestCatalog(auth.url, { kind });
    const { token } = await auth.signUp('Shelf Keeper');
    for (const book of shelf) await catalog.addBook(token, book);
  });
  afterAll(async () => {
    await catalog.close();
    await auth.close();
  });

  async function titles(query: string): Promise<string[]> {
    const response = await catalog.app.request(`/api/books?${query}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as BookPage).items.map((book) => book.title);
  }

  test('words match title or author, in any letter case', async () => {
    expect((await titles('q=tolstoy&sort=title')).sort()).toEqual(['Anna Karenina', 'War and Peace']);
    expect(await titles('q=EMMA')).toEqual(['Emma']);
    expect(await titles('q=war%20and%20pe')).toEqual(['War and Peace']);
  });

  test('accents are kept: "Misérables" finds the accented title', async () => {
    expect(await titles(`q=${encodeURIComponent('Misérables')}`)).toEqual(['Les Misérables']);
  });

  test('% and _ match themselves, not any text', async () => {
    expect(await titles(`q=${encodeURIComponent('100%')}`)).toEqual(['100% Pure Poetry']);
    expect(await titles(`q=${encodeURIComponent('snake_case')}`)).toEqual(['snake_case Stories']);
    expect(await titles(`q=${encodeURIComponent('%')}`)).toEqual(['100% Pure Poetry']);
    expect(await titles(`q=${encodeURIComponent('_')}`)).toEqual(['snake_case Stories']);
    expect(await titles(`q=${encodeURIComponent('\\')}`)).toEqual(['Back\\slash Book']);
  });

  test('quotes and apostrophes are plain text', async () => {
    expect(await titles(`q=${encodeURIComponent('"Quoted"')}`)).toEqual(['The "Quoted" Tale']);
    expect(await titles(`q=${encodeURIComponent("O'Connor")}`)).toEqual(['The "Quoted" Tale']);
    expect(await titles(`q=${encodeURIComponent("' or 1=1 --")}`)).toEqual([]);
  });

  test('filters: author, price range (inclusive) and in stock combine', async () => {
    expect((await titles('author=tolstoy&sort=title'))).toEqual(['Anna Karenina', 'War and Peace']);
    expect(await titles('author=tolstoy&inStock=true')).toEqual(['War and Peace']);
    expect(await titles('minPrice=650&maxPrice=999&sort=price_asc')).toEqual(['Emma', 'Miserable Monday', '100% Pure Poetry'].sort((a, b) => price(a) - price(b)));
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
    for (let page = 1; page <= 4; page++) {
      const response = await catalog.app.request(`/api/books?sort=price_asc&pageSize=3&page=${page}`);
      const listing = (await response.json()) as BookPage;
      expect(listing.total).toBe(shelf.length);
      expect(listing.pageSize).toBe(3);
      seen.push(...listing.items.map((book) => book.title));
    }
    expect(seen).toEqual([...shelf].sort((a, b) => a.priceCents - b.priceCents).map((b) => b.title));
    const beyond = (await (await catalog.app.request('/api/books?page=50&pageSize=3')).json()) as BookPage;
    expect(beyond.items).toEqual([]);
    expect(beyond.total).toBe(shelf.length);
  });
});

function price(title: string) {
  return shelf.find((book) => book.title === title)!.priceCents;
}

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

describe('the index walk on MariaDB', () => {
  let auth: ServedTestAuth;
  let catalog: TestCatalog;
  beforeAll(async () => {
    auth = await serveTestAuth();
    catalog = await startTestCatalog(auth.url);
    const { token } = await auth.signUp('Window Keeper');
    const words = ['Harbor', 'Lantern', 'Golden', 'Winter'];
    for (let i = 0; i < 40; i++) {
      await catalog.addBook(token, { title: `${words[i % 4]} ${words[(i >> 2) % 4]} ${i}`, author: i % 3 ? 'Ada Moreau' : 'Ben Okafor', priceCents: 100 + ((i * 37) % 900), stock: i % 5 });
      // Words inside other words: LIKE finds them, the fulltext index does not; both paths must agree.
      if (i % 10 === 0) await catalog.addBook(token, { title: `Reharbored Goldenrod ${i}`, author: 'Wintermoreau Okafors', priceCents: 500, stock: 1 });
    }
    await catalog.addBook(token, { title: 'Reharbored Lanterns', author: 'The Newest Writer', priceCents: 450, stock: 3 });
  });
  afterAll(async () => {
    await catalog.close();
    await auth.close();
  });

  test('gives exactly the pages of the full search, whether the walk finds them or not', async () => {
    const { searchBooks } = await import('../src/books.ts');
    const { bookQuery } = await import('../src/schemas.ts');
    const queries = ['q=harbor', 'q=harbor&sort=price_asc', 'q=lantern%20gold&sort=title', 'q=moreau&inStock=true', 'q=okafor&minPrice=300&maxPrice=700', 'q=winter&page=2', 'q=1&sort=price_desc&page=2'];
    let walks = 0;
    for (const text of queries) {
      const query = bookQuery.parse(Object.fromEntries(new URLSearchParams(`${text}&pageSize=4`)));
      const full = await searchBooks(catalog.orm, query, undefined, { walkRows: 0 });
      for (const walkRows of [4, 8, 20, 3000]) {
        if ((query.page - 1) * query.pageSize + query.pageSize <= walkRows) walks++;
        const walked = await searchBooks(catalog.orm, query, undefined, { walkRows });
        expect({ text, walkRows, items: walked.items.map((book) => book.id) }).toEqual({ text, walkRows, items: full.items.map((book) => book.id) });
      }
      expect(full.items.length).toBeGreaterThan(0);
    }
    expect(walks).toBeGreaterThan(10);
  });
});
