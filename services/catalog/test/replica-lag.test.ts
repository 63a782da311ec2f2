/**
 * A lagging replica: the read URL points at a copy of the catalog that receives no writes. Shoppers
 * read from it; the seller's own pages read from the primary, so their edit is never "lost".
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { openDatabase } from '@bookstore/shared/db';
import { createTestDatabase, type TestDatabase } from '@bookstore/shared/testing/database';
import { bearer, jsonInit } from '@bookstore/shared/testing/http';
import { serveTestAuth, type ServedTestAuth } from '../../auth/test/support.ts';
import { sessionCookieFrom, startTestWeb } from '../../../web/test/support.ts';
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
  catalog = await startTestCatalog(auth.url, { readUrls: [replica.url] });
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

/** Copies the primary's book rows to the replica, as replication would have before it fell behind. */
async function replicateBooks() {
  const rows = (await catalog.db!.query('select * from books')) as Record<string, unknown>[];
  await replica.query('delete from books');
  for (const row of rows) {
    const columns = Object.keys(row);
    await replica.query(`insert into books (${columns.map((c) => `\`${c}\``).join(', ')}) values (${columns.map(() => '?').join(', ')})`, Object.values(row));
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

test('a book the replica does not have yet is found on the primary by its seller', async () => {
  const seller = await auth.signUp('Fresh Seller');
  const created = await catalog.app.request('/api/books', jsonInit('POST', { title: 'Brand New', author: 'A', priceCents: 500, stock: 1 }, bearer(seller.token)));
  const book = (await created.json()) as BookJson;
  expect((await catalog.app.request(`/api/books/${book.id}`, { headers: bearer(seller.token) })).status).toBe(200);
  expect((await catalog.app.request(`/api/books/${book.id}`)).status).toBe(404);
});
