/**
 * The word index and the sellers' counts follow every change to the catalog, in the same
 * transaction: adding, renaming, removing and retiring a book, generate-books, and the migration
 * that filled them for the books already there. And a listing read from the primary sees a change
 * the replica has not.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { resolve } from 'node:path';
import { openDatabase } from '@bookstore/shared/db';
import { createTestDatabase, type TestDatabaseKind } from '@bookstore/shared/testing/database';
import { bearer, jsonInit } from '@bookstore/shared/testing/http';
import { serveTestAuth, type ServedTestAuth } from '../../auth/test/support.ts';
import { searchBooks, sellerBooks } from '../src/books.ts';
import { entities } from '../src/entities.ts';
import { migrations } from '../src/migrations/index.ts';
import { Migration20261127000000_search_words } from '../src/migrations/Migration20261127000000_search_words.ts';
import { bookQuery, type BookPage } from '../src/schemas.ts';
import { startTestCatalog, type TestCatalog } from './support.ts';

const kinds: TestDatabaseKind[] = ['mariadb', 'sqlite', ...(process.env.TEST_MYSQL_URL ? (['mysql'] as const) : [])];
const query = (text: string) => bookQuery.parse(Object.fromEntries(new URLSearchParams(text)));

describe.each(kinds)('on %s', (kind) => {
  let auth: ServedTestAuth;
  let catalog: TestCatalog;
  let seller: Awaited<ReturnType<ServedTestAuth['signUp']>>;
  beforeAll(async () => {
    auth = await serveTestAuth();
    catalog = await startTestCatalog(auth.url, { kind });
    seller = await auth.signUp('Index Seller');
  });
  afterAll(async () => {
    await catalog.close();
    await auth.close();
  });

  const found = async (text: string) => (await searchBooks(catalog.orm, query(text))).items.map((book) => book.id);
  const change = (id: number, patch: object) => catalog.app.request(`/api/books/${id}`, jsonInit('PATCH', patch, bearer(seller.token)));
  const remove = (id: number) => catalog.app.request(`/api/books/${id}`, { method: 'DELETE', headers: bearer(seller.token) });
  const sellersTotal = async () => ((await (await catalog.app.request('/api/sellers/me/books?pageSize=1', { headers: bearer(seller.token) })).json()) as BookPage).total;

  test('a renamed book: the old words no longer find it, the new ones do, title and author alike', async () => {
    const book = await catalog.addBook(seller.token, { title: 'Obsidian Quill', author: 'Perpetua Vane' });
    expect(await found('q=obsid')).toEqual([book.id]);
    expect((await change(book.id, { title: 'Velvet Harp' })).status).toBe(200);
    expect(await found('q=obsid')).toEqual([]);
    expect(await found('q=harp vane')).toEqual([book.id]);
    expect((await change(book.id, { author: 'Cassius Lowe' })).status).toBe(200);
    expect(await found('author=vane')).toEqual([]);
    expect(await found('author=lowe&q=velvet')).toEqual([book.id]);
    expect((await change(book.id, { priceCents: 4321 })).status).toBe(200);
    expect(await found('q=velvet harp lowe')).toEqual([book.id]);
  });

  test("a removed book is gone from search, and from its seller's count; a retired one (with orders) too", async () => {
    const before = await sellersTotal();
    const deleted = await catalog.addBook(seller.token, { title: 'Quartzite Almanac' });
    const retired = await catalog.addBook(seller.token, { title: 'Quartzite Ledger' });
    const kept = await catalog.addBook(seller.token, { title: 'Quartzite Atlas' });
    expect(await sellersTotal()).toBe(before + 3);
    expect((await found('q=quartz')).sort()).toEqual([deleted.id, retired.id, kept.id].sort());
    expect((await catalog.asService('/api/reservations', 'POST', { orderId: `order-${kind}`, items: [{ bookId: retired.id, quantity: 1 }] })).status).toBe(201);
    expect((await remove(deleted.id)).status).toBe(204);
    expect((await remove(retired.id)).status).toBe(204);
    expect(await found('q=quartz')).toEqual([kept.id]);
    expect(await found('q=ledger')).toEqual([]);
    // Counted (a full page of one) from the word index alone: it holds the words of live books only.
    for (const via of ['word index', 'sort index'] as const) expect((await searchBooks(catalog.orm, query('q=quartz&pageSize=1'), undefined, { via })).total).toBe(1);
    expect(await sellersTotal()).toBe(before + 1);
  });

  test("generate-books: its books are found, and counted on their seller's page", async () => {
    const before = await sellersTotal();
    const cli = resolve(import.meta.dir, '../src/cli.ts');
    const run = Bun.spawnSync(['bun', cli, 'generate-books', '--count', '30', '--seller-id', String(seller.userId)], { env: { ...process.env, DATABASE_URL: catalog.url, LOG_LEVEL: 'warn' } });
    expect(run.stderr.toString()).toBe('');
    expect(run.exitCode).toBe(0);
    // Books 0-19 are "<adjective> River 1", 20-29 "<adjective> Garden 1": "Silent" is the first adjective.
    expect((await searchBooks(catalog.orm, query('q=silent'))).items.map((book) => book.title).sort()).toEqual(['Silent Garden 1', 'Silent River 1']);
    expect((await searchBooks(catalog.orm, query('q=river'))).total).toBe(20);
    expect((await sellerBooks(catalog.orm.em.fork(), seller.userId, 1, 5)).total).toBe(before + 30);
  });
});

test.each(kinds)('on %s, the migration indexes and counts the books that were there before it', async (kind) => {
  const db = await createTestDatabase(kind);
  try {
    const before = await openDatabase({ url: db.url, entities, migrations: migrations.slice(0, migrations.indexOf(Migration20261127000000_search_words)) });
    const insert = 'insert into books (title, author, description, price_cents, stock, seller_id, seller_name, created_at, updated_at, deleted_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
    const now = new Date();
    for (const [title, deletedAt] of [['Ancient Lighthouse', null], ['Ancient Mariner', null], ['Ancient Retired', now]] as const) {
      await before.em.fork().execute(insert, [title, 'Old Author', '', 100, 1, 7, 'Seller 7', now, now, deletedAt]);
    }
    await before.close();

    const after = await openDatabase({ url: db.url, entities, migrations });
    try {
      expect((await searchBooks(after, query('q=ancient'))).items.map((book) => book.title).sort()).toEqual(['Ancient Lighthouse', 'Ancient Mariner']);
      expect((await searchBooks(after, query('q=old light'))).items.map((book) => book.title)).toEqual(['Ancient Lighthouse']);
      expect((await sellerBooks(after.em.fork(), 7, 1, 1)).total).toBe(2);
    } finally {
      await after.close();
    }
  } finally {
    await db.drop();
  }
});

test("a listing read from the primary sees the seller's new book, a lagging replica's does not", async () => {
  const auth = await serveTestAuth();
  const replica = await createTestDatabase('mariadb');
  await (await openDatabase({ url: replica.url, entities, migrations })).close();
  const catalog = await startTestCatalog(auth.url, { readUrls: [replica.url] });
  try {
    const { token } = await auth.signUp('Fresh Seller');
    const book = await catalog.addBook(token, { title: 'Quince Preserves' });
    const lagging = await searchBooks(catalog.orm, query('q=quince'));
    expect(lagging.items).toEqual([]);
    const primary = await searchBooks(catalog.orm, query('q=quince'), undefined, { consistency: 'primary' });
    expect(primary.items.map((item) => item.id)).toEqual([book.id]);
    // Totals too: the replica's count may be remembered, the primary counts afresh.
    expect((await searchBooks(catalog.orm, query('pageSize=1&page=2'))).total).toBe(0);
    await catalog.addBook(token, { title: 'Quince Jelly' });
    expect((await searchBooks(catalog.orm, query('pageSize=1&page=2'), undefined, { consistency: 'primary' })).total).toBe(2);
  } finally {
    await catalog.close();
    await replica.drop();
    await auth.close();
  }
});
