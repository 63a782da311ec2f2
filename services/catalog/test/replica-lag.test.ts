/**
 * A lagging replica: the read URL points at a copy of the catalog that receives no writes. Shoppers
 * read from it, and the web front shares their listings for a minute here; the seller's own pages
 * read from the primary and skip the shared copies, so their edit is never "lost".
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { openDatabase } from '@bookstore/shared/db';
import { createTestDatabase, type TestDatabase } from '@bookstore/shared/testing/database';
import { bearer, jsonInit } from '@bookstore/shared/testing/http';
import { serveTestAuth, type ServedTestAuth } from '../../auth/test/support.ts';
import { cookiesFrom, sessionCookieFrom, startTestWeb } from '../../../web/test/support.ts';
import { entities } from '../src/entities.ts';
import { migrations } from '../src/migrations/index.ts';
import type { BookJson } from '../src/schemas.ts';
import { startTestCatalog, type TestCatalog } from './support.ts';

let auth: ServedTestAuth;
let replica: TestDatabase;
let catalog: TestCatalog;
let server: ReturnType<typeof Bun.serve>;
let web: ReturnType<typeof startTestWeb>;

beforeAll(async () => {
  auth = await serveTestAuth();
  replica = await createTestDatabase('mariadb');
  await (await openDatabase({ url: replica.url, entities, migrations })).close();
  catalog = await startTestCatalog(auth.url, { readUrls: [replica.url], listingMaxAgeSeconds: 60 });
  server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: catalog.app.fetch });
  web = startTestWeb({ auth: auth.url, catalog: `http://127.0.0.1:${server.port}` });
});
afterAll(async () => {
  web.close();
  await server.stop(true);
  await catalog.close();
  await replica.drop();
  await auth.close();
});

/** Copies the primary's catalog rows (books, their search words) to the replica, as replication would have before it fell behind. */
async function replicateBooks() {
  const tables = ((await catalog.db!.query('show tables')) as Record<string, string>[]).map((row) => Object.values(row)[0]!);
  for (const table of tables.filter((name) => !name.startsWith('mikro_orm'))) {
    const rows = (await catalog.db!.query(`select * from \`${table}\``)) as Record<string, unknown>[];
    await replica.query(`delete from \`${table}\``);
    for (const row of rows) {
      const columns = Object.keys(row);
      await replica.query(`insert into \`${table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) values (${columns.map(() => '?').join(', ')})`, Object.values(row));
    }
  }
}

test("the seller sees their edit at once, on the page and in the API, while shoppers see the replica's copy", async () => {
  const seller = await auth.signUp('Lagged Seller');
  const book = await catalog.addBook(seller.token, { title: 'Before the Edit', priceCents: 1000 });
  await replicateBooks();

  const cookie = sessionCookieFrom(await web.submit('/login', { email: seller.email, password: seller.password }));
  const saved = await web.submit(`/sell/${book.id}/edit`, { title: 'After the Edit', author: 'An Author', description: '', price: '15.00', stock: '5' }, { cookie });
  expect(saved.status).toBe(303);

  // The seller's pages right after saving: the list, the edit form, the book page.
  expect(await (await web.browse('/sell', { cookie })).text()).toContain('After the Edit');
  expect(await (await web.browse(`/sell/${book.id}/edit`, { cookie })).text()).toContain('value="After the Edit"');
  const ownPage = await (await web.browse(`/books/${book.id}`, { cookie })).text();
  expect(ownPage).toContain('After the Edit');
  expect(ownPage).toContain('$15.00');
  const ownApi = (await (await catalog.app.request(`/api/books/${book.id}`, { headers: bearer(seller.token) })).json()) as BookJson;
  expect(ownApi.title).toBe('After the Edit');

  // A shopper reads the replica, which has not caught up: proof that reads really go there.
  const shopper = (await (await catalog.app.request(`/api/books/${book.id}`)).json()) as BookJson;
  expect(shopper.title).toBe('Before the Edit');
  const listing = (await (await catalog.app.request('/api/books?q=Edit')).json()) as { items: BookJson[] };
  expect(listing.items.map((item) => item.title)).toEqual(['Before the Edit']);
});

test('a book the replica does not have yet is found on the primary, by its seller and by anyone (purchase asks the moment it is added)', async () => {
  const seller = await auth.signUp('Fresh Seller');
  const created = await catalog.app.request('/api/books', jsonInit('POST', { title: 'Brand New', author: 'A', priceCents: 500, stock: 1 }, bearer(seller.token)));
  const book = (await created.json()) as BookJson;
  expect((await catalog.app.request(`/api/books/${book.id}`, { headers: bearer(seller.token) })).status).toBe(200);
  expect((await catalog.app.request(`/api/books/${book.id}`)).status).toBe(200);
  expect((await catalog.app.request('/api/books/999999')).status).toBe(404);
});

test('a seller sees their edit at once on every page, while shoppers keep the shared, lagging copy', async () => {
  const seller = await auth.signUp('Every Page Seller');
  const book = await catalog.addBook(seller.token, { title: 'Quillon Before', stock: 7 });
  await replicateBooks();
  const pages = ['/', '/catalog', '/catalog?q=Quillon', `/books/${book.id}`];
  // A shopper's visit puts the listings in the web front's shared copies.
  for (const path of pages) expect(await (await web.browse(path)).text()).toContain('Quillon Before');

  let cookie = sessionCookieFrom(await web.submit('/login', { email: seller.email, password: seller.password }));
  const saved = await web.submit(`/sell/${book.id}/edit`, { title: 'Quillon After', author: 'An Author', description: '', price: '10.00', stock: '7' }, { cookie });
  expect(saved.status).toBe(303);
  cookie = cookiesFrom(saved, cookie);

  for (const path of [...pages, '/sell']) {
    const own = await (await web.browse(path, { cookie })).text();
    expect(own).toContain('Quillon After');
    expect(own).not.toContain('Quillon Before');
  }
  const ownResults = await (await web.browse('/catalog?q=Quillon', { cookie, htmx: true, headers: { 'hx-target': 'book-results' } })).text();
  expect(ownResults).toContain('Quillon After');

  // Shoppers: the replica has not caught up and the listing is shared for a minute.
  for (const path of ['/', '/catalog', '/catalog?q=Quillon']) expect(await (await web.browse(path)).text()).toContain('Quillon Before');
});
