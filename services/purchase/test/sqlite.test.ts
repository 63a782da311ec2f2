/**
 * The embedded default (`bun run start`): purchase on SQLite runs the same checkout as on MariaDB:
 * order, declined and approved payment, sales with their dates, shipping, expiry by the sweeper.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { OrderJson, SaleJson } from '@bookstore/shared/contracts/purchase';
import { serveCatalogWithSeller } from '../../catalog/test/support.ts';
import { Order } from '../src/entities.ts';
import { startTestPurchase, type TestPurchase } from './support.ts';

let shop: Awaited<ReturnType<typeof serveCatalogWithSeller>>;
let purchase: TestPurchase;
let buyer: { token: string };

beforeAll(async () => {
  shop = await serveCatalogWithSeller({ kind: 'sqlite' });
  purchase = await startTestPurchase(shop.auth.url, { kind: 'sqlite', catalogUrl: shop.catalogUrl, ttlSeconds: 1 });
  buyer = await shop.auth.signUp('Sqlite Buyer');
}, 30_000);
afterAll(async () => {
  await purchase?.close();
  await shop?.close();
});

const card = (cardNumber: string) => ({ cardNumber, expMonth: 1, expYear: new Date().getFullYear() + 1, cvc: '999', holder: 'Sqlite Buyer' });
const json = async <T>(response: Response) => (await response.json()) as T;

test('order, a declined then an approved card, the sale with its date, shipped', async () => {
  const book = await shop.catalog.addBook(shop.seller, { title: 'Embedded', priceCents: 999, stock: 2 });
  const placed = await purchase.call('/api/orders', 'POST', { items: [{ bookId: book.id, quantity: 2 }], providerId: 4 }, buyer.token, { 'idempotency-key': 'sqlite-order-1' });
  expect(placed.status).toBe(201);
  const order = await json<OrderJson>(placed);
  expect(order.totalCents).toBe(2 * 999 + order.deliveryCents);
  expect((await purchase.call(`/api/orders/${order.id}/payment`, 'POST', card('4000000000000002'), buyer.token, { 'idempotency-key': 'sqlite-pay-1' })).status).toBe(402);
  const paid = await purchase.call(`/api/orders/${order.id}/payment`, 'POST', card('4242424242424242'), buyer.token, { 'idempotency-key': 'sqlite-pay-2' });
  expect(paid.status).toBe(200);
  // Paying again is refused at once (the refusal is read inside the claim's transaction: SQLite has one connection).
  const again = await purchase.call(`/api/orders/${order.id}/payment`, 'POST', card('4242424242424242'), buyer.token, { 'idempotency-key': 'sqlite-pay-3' });
  expect(again.status).toBe(409);
  expect((await purchase.call('/api/delivery-providers')).status).toBe(200);

  const sales = await json<{ items: SaleJson[] }>(await purchase.call('/api/sales', 'GET', undefined, shop.seller));
  expect(sales.items).toHaveLength(1);
  expect(Math.abs(Date.parse(sales.items[0]!.soldAt) - Date.now())).toBeLessThan(60_000);
  expect((await purchase.call(`/api/orders/${order.id}/items/${book.id}/shipment`, 'POST', {}, shop.seller)).status).toBe(200);
  const shipped = await json<OrderJson>(await purchase.call(`/api/orders/${order.id}`, 'GET', undefined, buyer.token));
  expect(shipped.status).toBe('shipped');
  expect(shipped.history.map((event) => event.status)).toEqual(['awaiting_payment', 'paid', 'shipped']);
});

test('an unpaid order expires through the sweeper and its stock comes back', async () => {
  const book = await shop.catalog.addBook(shop.seller, { title: 'Embedded Expiry', stock: 1 });
  const order = await json<OrderJson>(await purchase.call('/api/orders', 'POST', { items: [{ bookId: book.id, quantity: 1 }], providerId: 4 }, buyer.token, { 'idempotency-key': 'sqlite-order-2' }));
  // Past its one-second time to pay (stored to the second), the sweeper expires it.
  await purchase.orm.em.fork().nativeUpdate(Order, { id: order.id }, { expiresAt: new Date(Date.now() - 5000) });
  const actions = await purchase.sweep();
  expect(actions).toContainEqual({ orderId: order.id, from: 'awaiting_payment', to: 'expired' });
  expect((await json<{ stock: number }>(await shop.catalog.app.request(`/api/books/${book.id}`))).stock).toBe(1);
});
