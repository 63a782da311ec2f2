/**
 * A deleted account's books leave the catalog: catalog follows auth's feed of deleted accounts (real
 * auth over HTTP, real MariaDB) and removes each of the seller's live books as the seller's own
 * "delete" would: a book with orders is retired (its reservations still commit), any other goes.
 * Other sellers' books stay.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createHttpClient } from '@bookstore/shared/http';
import { bearer, jsonInit, testServiceToken } from '@bookstore/shared/testing/http';
import { followDeletedSellers } from '../src/deleted-sellers.ts';
import { Book } from '../src/entities.ts';
import { startCatalogWithSeller } from './support.ts';

let shop: Awaited<ReturnType<typeof startCatalogWithSeller>>;
beforeAll(async () => (shop = await startCatalogWithSeller()));
afterAll(() => shop.close());

const liveIds = async () => {
  const response = await shop.catalog.app.request('/api/books?pageSize=48');
  return ((await response.json()) as { items: { id: number }[] }).items.map((book) => book.id);
};

test("a deleted seller's books leave the catalog; an ordered one is retired and its order still commits", async () => {
  const leaving = await shop.auth.signUp('Leaving Seller');
  const admin = await shop.auth.signUp('Catalog Admin', 'admin');
  const ordered = await shop.catalog.addBook(leaving.token, { title: 'Ordered Before The End', stock: 3 });
  const plain = await shop.catalog.addBook(leaving.token, { title: 'Never Ordered' });
  const staying = await shop.catalog.addBook(shop.seller, { title: 'Another Seller Keeps This' });
  expect((await shop.catalog.asService('/api/reservations', 'POST', { orderId: 'order-before-deletion', items: [{ bookId: ordered.id, quantity: 1 }] })).status).toBe(201);

  const deleted = await shop.auth.app.request(`/api/users/${leaving.userId}`, jsonInit('DELETE', undefined, bearer(admin.token)));
  expect(deleted.status).toBe(204);

  const auth = createHttpClient({ service: 'auth', baseUrl: shop.auth.url, timeoutMs: 2000, headers: { 'x-service-token': testServiceToken } });
  const follower = followDeletedSellers({ orm: shop.catalog.orm, auth, uploadsDir: shop.catalog.uploadsDir, log: shop.catalog.log }, 60_000);
  try {
    await follower.runNow();
    const live = await liveIds();
    expect(live).toContain(staying.id);
    expect(live).not.toContain(ordered.id);
    expect(live).not.toContain(plain.id);
    expect((await shop.catalog.app.request(`/api/books/${plain.id}`)).status).toBe(404);
    const rows = await shop.catalog.orm.em.fork().find(Book, { id: { $in: [ordered.id, plain.id] } }, { connectionType: 'write' });
    expect(rows.map((row) => [row.id, row.deletedAt !== null])).toEqual([[ordered.id, true]]);
    // The order placed before the account went is still the buyer's: it commits.
    expect((await shop.catalog.asService('/api/reservations/order-before-deletion/commit', 'POST')).status).toBe(200);

    // Read again (as after a restart, from the feed's start): nothing more goes.
    await follower.runNow();
    expect(await liveIds()).toContain(staying.id);
  } finally {
    await follower.stop();
  }
});
