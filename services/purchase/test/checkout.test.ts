/**
 * The whole purchase through the API, with auth, catalog and purchase talking over real HTTP on
 * MariaDB: cart, order, payment with each test card, cancel, expiry, sales and shipping.
 */
import { testServiceToken } from '@bookstore/shared/testing/http';
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { newId } from '../src/checkout.ts';
import { openSaleItemsAt } from '../../auth/src/administration.ts';
import type { OrderJson } from '@bookstore/shared/contracts/purchase';
import { eventually } from '@bookstore/shared/testing/http';
import { serveCatalogWithSeller } from '../../catalog/test/support.ts';
import { startTestPurchase, type TestPurchase } from './support.ts';

let shop: Awaited<ReturnType<typeof serveCatalogWithSeller>>;
let purchase: TestPurchase;
let buyer: { token: string; userId: number };

beforeAll(async () => {
  shop = await serveCatalogWithSeller();
  purchase = await startTestPurchase(shop.auth.url, { catalogUrl: shop.catalogUrl, gatewayTimeoutMs: 800, gatewaySlowMs: 1500 });
  buyer = await shop.auth.signUp('Buyer Bea');
});
afterAll(async () => {
  await purchase?.close();
  await shop?.close();
});

const card = (cardNumber: string) => ({ cardNumber, expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: '123', holder: 'Bea Buyer' });
const stockOf = async (id: number) => ((await (await shop.catalog.app.request(`/api/books/${id}`)).json()) as { stock: number }).stock;
const key = () => `k-${crypto.randomUUID()}`;
const order = (body: unknown, idempotencyKey = key(), token = buyer.token) => purchase.call('/api/orders', 'POST', body, token, { 'idempotency-key': idempotencyKey });
const pay = (id: string, number: string, idempotencyKey = key(), token = buyer.token) => purchase.call(`/api/orders/${id}/payment`, 'POST', card(number), token, { 'idempotency-key': idempotencyKey });
const providers = async () => (await (await purchase.call('/api/delivery-providers')).json()) as { id: number; name: string; scope: string; priceCents: number }[];

test('cart → order from the cart → declined card → approved card → paid, sold, shipped', async () => {
  const book = await shop.catalog.addBook(shop.seller, { title: 'Middlemarch', priceCents: 1850, stock: 5 });
  expect((await purchase.call(`/api/cart/items/${book.id}`, 'PUT', { quantity: 2 }, buyer.token)).status).toBe(200);
  const cart = (await (await purchase.call('/api/cart', 'GET', undefined, buyer.token)).json()) as { items: unknown[]; count: number; subtotalCents: number };
  expect(cart).toEqual({ items: [{ bookId: book.id, title: 'Middlemarch', unitPriceCents: 1850, quantity: 2, available: 5 }], count: 2, subtotalCents: 3700 });

  const fedex = (await providers()).find((provider) => provider.name === 'FedEx')!;
  expect((await purchase.call('/api/orders', 'POST', { providerId: fedex.id }, buyer.token)).status).toBe(400); // no Idempotency-Key
  const placed = await order({ providerId: fedex.id, totalCents: 1, items: undefined });
  expect(placed.status).toBe(400); // unknown fields (a client's total) are refused, not trusted
  const created = await order({ providerId: fedex.id });
  expect(created.status).toBe(201);
  const placedOrder = (await created.json()) as OrderJson;
  expect(placedOrder).toMatchObject({ status: 'awaiting_payment', buyerId: buyer.userId, subtotalCents: 3700, deliveryCents: 4500, totalCents: 8200, payment: null });
  expect(placedOrder.items).toEqual([{ bookId: book.id, title: 'Middlemarch', sellerId: book.sellerId, unitPriceCents: 1850, quantity: 2, shippedAt: null, trackingCode: null }]);
  expect(await stockOf(book.id)).toBe(3);
  expect(((await (await purchase.call('/api/cart', 'GET', undefined, buyer.token)).json()) as { count: number }).count).toBe(0);

  const declined = await pay(placedOrder.id, '4000 0000 0000 0002');
  expect(declined.status).toBe(402);
  const poor = await pay(placedOrder.id, '4000000000009995');
  expect(poor.status).toBe(402);
  expect(((await poor.json()) as { detail: string }).detail).toContain('insufficient funds');
  const paid = await pay(placedOrder.id, '4242424242424242');
  expect(paid.status).toBe(200);
  const paidOrder = (await paid.json()) as OrderJson;
  expect(paidOrder.status).toBe('paid');
  expect(paidOrder.payment).toEqual({ last4: '4242', status: 'approved' });
  expect(paidOrder.history.map((event) => event.status)).toEqual(['awaiting_payment', 'paid']);
  expect(await stockOf(book.id)).toBe(3);
  expect(JSON.stringify(purchase.log.lines)).not.toContain('4242424242424242');
  expect(JSON.stringify(purchase.log.lines)).not.toContain('4000000000000002');

  const sales = (await (await purchase.call('/api/sales', 'GET', undefined, shop.seller)).json()) as { items: { orderId: string; buyerName: string; provider: string }[] };
  expect(sales.items).toEqual([expect.objectContaining({ orderId: placedOrder.id, buyerName: 'Buyer Bea', provider: 'FedEx', quantity: 2 })]);
  const shipped = await purchase.call(`/api/orders/${placedOrder.id}/items/${book.id}/shipment`, 'POST', { trackingCode: 'TRACK-1' }, shop.seller);
  expect(shipped.status).toBe(200);
  const after = (await (await purchase.call(`/api/orders/${placedOrder.id}`, 'GET', undefined, buyer.token)).json()) as OrderJson;
  expect(after.status).toBe('shipped');
  expect(after.items[0]!.trackingCode).toBe('TRACK-1');
  expect((await pay(placedOrder.id, '4242424242424242')).status).toBe(409);
});

test('one Idempotency-Key: the same body answers the same order, another body is refused, stock is taken once', async () => {
  const book = await shop.catalog.addBook(shop.seller, { title: 'Once Only', stock: 10 });
  const [dhl] = await providers();
  const sameKey = key();
  const body = { items: [{ bookId: book.id, quantity: 3 }], providerId: dhl!.id };
  const answers = await Promise.all([order(body, sameKey), order(body, sameKey), order(body, sameKey)]);
  const ids = await Promise.all(answers.map(async (response) => ((await response.json()) as OrderJson).id));
  expect(answers.map((response) => response.status)).toEqual([201, 201, 201]);
  expect(new Set(ids).size).toBe(1);
  expect(await stockOf(book.id)).toBe(7);
  expect((await order({ ...body, items: [{ bookId: book.id, quantity: 1 }] }, sameKey)).status).toBe(409);
  // The same key of another user is another user's key.
  const other = await shop.auth.signUp('Other Buyer');
  expect((await order(body, sameKey, other.token)).status).toBe(201);
  expect(await stockOf(book.id)).toBe(4);
});

test('two payments at once for one order, and a repeated payment key: one charge', async () => {
  const book = await shop.catalog.addBook(shop.seller, { title: 'Double Click', stock: 3 });
  const [dhl] = await providers();
  const placed = (await (await order({ items: [{ bookId: book.id, quantity: 1 }], providerId: dhl!.id })).json()) as OrderJson;
  const payKey = key();
  const answers = await Promise.all([pay(placed.id, '4242424242424242', payKey), pay(placed.id, '4242424242424242', payKey), pay(placed.id, '4242424242424242')]);
  const statuses = answers.map((response) => response.status);
  expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(1);
  expect(statuses.every((status) => status === 200 || status === 202 || status === 409)).toBe(true);
  const charges = (await purchase.db!.query("select count(*) as n from gateway_charges c join payments p on p.id = c.charge_key where p.order_id = ? and c.outcome = 'approved'", [placed.id])) as { n: number }[];
  expect(Number(charges[0]!.n)).toBe(1);
  // A repeat of the key answers as the key's first request ended: paid, or refused because the other payment was first.
  const repeat = await pay(placed.id, '4242424242424242', payKey);
  expect(repeat.status).toBe(statuses.slice(0, 2).includes(200) ? 200 : 409);
  const now = (await (await purchase.call(`/api/orders/${placed.id}`, 'GET', undefined, buyer.token)).json()) as OrderJson;
  expect(now.status).toBe('paid');
});

test('gateway error: nothing charged, the order stays payable; a slow approval is found by asking again', async () => {
  const book = await shop.catalog.addBook(shop.seller, { title: 'Slow Network', stock: 2 });
  const [dhl] = await providers();
  const placed = (await (await order({ items: [{ bookId: book.id, quantity: 1 }], providerId: dhl!.id })).json()) as OrderJson;
  const failed = await pay(placed.id, '4000000000000119');
  expect(failed.status).toBe(503);
  const still = (await (await purchase.call(`/api/orders/${placed.id}`, 'GET', undefined, buyer.token)).json()) as OrderJson;
  expect(still.status).toBe('awaiting_payment');
  const slow = await pay(placed.id, '4000000000000077');
  expect(slow.status).toBe(200);
  expect(((await slow.json()) as OrderJson).status).toBe('paid');
});

test('cancel gives the stock back; another user sees a 404 and cannot cancel or pay', async () => {
  const book = await shop.catalog.addBook(shop.seller, { title: 'Changed Mind', stock: 4 });
  const [dhl, , envia] = await providers();
  const placed = (await (await order({ items: [{ bookId: book.id, quantity: 2 }], providerId: dhl!.id })).json()) as OrderJson;
  const stranger = await shop.auth.signUp('Stranger');
  expect((await purchase.call(`/api/orders/${placed.id}`, 'GET', undefined, stranger.token)).status).toBe(404);
  expect((await purchase.call(`/api/orders/${placed.id}/cancel`, 'POST', undefined, stranger.token)).status).toBe(404);
  expect((await pay(placed.id, '4242424242424242', key(), stranger.token)).status).toBe(404);

  const moved = await purchase.call(`/api/orders/${placed.id}/delivery`, 'PUT', { providerId: envia!.id }, buyer.token);
  expect(((await moved.json()) as OrderJson).totalCents).toBe(placed.subtotalCents + envia!.priceCents);
  expect(await stockOf(book.id)).toBe(2);
  const cancelled = await purchase.call(`/api/orders/${placed.id}/cancel`, 'POST', undefined, buyer.token);
  expect(cancelled.status).toBe(200);
  expect(((await cancelled.json()) as OrderJson).status).toBe('cancelled');
  expect(await stockOf(book.id)).toBe(4);
  expect((await pay(placed.id, '4242424242424242')).status).toBe(409);
  expect((await purchase.call(`/api/orders/${placed.id}/cancel`, 'POST', undefined, buyer.token)).status).toBe(200);
});

test('an unpaid order expires after its time and the sweeper gives its stock back', async () => {
  const quick = await startTestPurchase(shop.auth.url, { catalogUrl: shop.catalogUrl, ttlSeconds: 1 });
  try {
    const book = await shop.catalog.addBook(shop.seller, { title: 'Too Late', stock: 3 });
    const response = await quick.call('/api/orders', 'POST', { items: [{ bookId: book.id, quantity: 3 }], providerId: 1 }, buyer.token, { 'idempotency-key': key() });
    const placed = (await response.json()) as OrderJson;
    expect(await stockOf(book.id)).toBe(0);
    const expired = await eventually(async () => {
      await quick.sweep();
      const now = (await (await quick.call(`/api/orders/${placed.id}`, 'GET', undefined, buyer.token)).json()) as OrderJson;
      return now.status === 'expired';
    }, 5000, 200);
    expect(expired).not.toBeNull();
    expect(await stockOf(book.id)).toBe(3);
    const late = await quick.call(`/api/orders/${placed.id}/payment`, 'POST', card('4242424242424242'), buyer.token, { 'idempotency-key': key() });
    expect(late.status).toBe(409);
  } finally {
    await quick.close();
  }
});

test('the same payment sent twice at once (a double click without JavaScript): both answered as paid, one charge', async () => {
  const book = await shop.catalog.addBook(shop.seller, { title: 'Twice At Once', stock: 20 });
  const [dhl] = await providers();
  for (let round = 0; round < 5; round++) {
    const placed = (await (await order({ items: [{ bookId: book.id, quantity: 1 }], providerId: dhl!.id })).json()) as OrderJson;
    const sameKey = key();
    const answers = await Promise.all([pay(placed.id, '4242424242424242', sameKey), pay(placed.id, '4242424242424242', sameKey)]);
    expect(answers.map((response) => response.status)).toEqual([200, 200]);
    const charges = (await purchase.db!.query("select count(*) as n from gateway_charges c join payments p on p.id = c.charge_key where p.order_id = ?", [placed.id])) as { n: number }[];
    expect(Number(charges[0]!.n)).toBe(1);
  }
}, 30_000);

test('the answers to placing and paying are the order as a read shows it, and are stored on their keys with the change', async () => {
  // Placing and paying build their answers from what they just wrote (no read after), in the
  // transaction that records the step: a later GET must show the same order, to the second.
  const book = await shop.catalog.addBook(shop.seller, { title: 'Read Back', priceCents: 1234, stock: 5 });
  const [dhl] = await providers();
  const orderKey = key();
  const placed = await order({ items: [{ bookId: book.id, quantity: 2 }], providerId: dhl!.id }, orderKey);
  expect(placed.status).toBe(201);
  const placedOrder = (await placed.json()) as OrderJson;
  const read = async () => (await (await purchase.call(`/api/orders/${placedOrder.id}`, 'GET', undefined, buyer.token)).json()) as OrderJson;
  expect(await read()).toEqual(placedOrder);
  const keyRow = async (idempotencyKey: string) =>
    ((await purchase.db!.query('select response_status, resource_id from idempotency_keys where `key` = ?', [idempotencyKey])) as { response_status: number | null; resource_id: string }[])[0];
  expect(await keyRow(orderKey)).toEqual({ response_status: 201, resource_id: placedOrder.id });

  const payKey = key();
  const paid = await pay(placedOrder.id, '4242424242424242', payKey);
  expect(paid.status).toBe(200);
  const paidOrder = (await paid.json()) as OrderJson;
  expect(paidOrder).toMatchObject({ status: 'paid', payment: { last4: '4242', status: 'approved' } });
  expect(await read()).toEqual(paidOrder);
  expect((await keyRow(payKey))!.response_status).toBe(200);
  // Repeats answer the same orders.
  expect(await (await order({ items: [{ bookId: book.id, quantity: 2 }], providerId: dhl!.id }, orderKey)).json()).toEqual(paidOrder);
  expect(await (await pay(placedOrder.id, '4242424242424242', payKey)).json()).toEqual(paidOrder);
});

test('my orders are newest first, even several placed within one second', async () => {
  const book = await shop.catalog.addBook(shop.seller, { title: 'Quick Succession', priceCents: 500, stock: 10 });
  const shopper = await shop.auth.signUp('Quick Shopper');
  const placed: string[] = [];
  for (let i = 0; i < 5; i++) {
    const response = await order({ items: [{ bookId: book.id, quantity: 1 }], providerId: 1 }, key(), shopper.token);
    expect(response.status).toBe(201);
    placed.push(((await response.json()) as OrderJson).id);
  }
  const listed = (await (await purchase.call('/api/orders?pageSize=10', 'GET', undefined, shopper.token)).json()) as { items: OrderJson[] };
  expect(listed.items.map((item) => item.id)).toEqual(placed.toReversed());
});

test('order ids sort by the time they were made, whatever their random part', () => {
  const ids = [0, 1, 31, 32, 1_000, 1_700_000_000_000, 1_700_000_000_001, 4_102_444_800_000].map((ms) => newId('ord', ms));
  expect([...ids].sort()).toEqual(ids);
  for (const id of ids) expect(id).toMatch(/^ord_[a-z2-7]{24}$/);
});

test('an order past what one order can total is refused with a sentence, and its stock goes back at once', async () => {
  const book = await shop.catalog.addBook(shop.seller, { title: 'The Priceless Folio', priceCents: 100_000_000, stock: 30 });
  const refused = await order({ items: [{ bookId: book.id, quantity: 22 }], providerId: 1 });
  expect(refused.status).toBe(400);
  expect(((await refused.json()) as { detail: string }).detail).toContain('one order can total at most $21,474,836.47');
  expect(await stockOf(book.id)).toBe(30);
  // Within the limit, the same book is bought as any other.
  expect((await order({ items: [{ bookId: book.id, quantity: 1 }], providerId: 1 })).status).toBe(201);

  // An order just under the limit cannot be pushed over it by a dearer carrier.
  const filler = await shop.catalog.addBook(shop.seller, { title: 'The Exact Remainder', priceCents: 47_478_700, stock: 1 });
  const servientrega = (await providers()).find((provider) => provider.name === 'Servientrega')!;
  const dhl = (await providers()).find((provider) => provider.name === 'DHL')!;
  const near = await order({ items: [{ bookId: book.id, quantity: 21 }, { bookId: filler.id, quantity: 1 }], providerId: servientrega.id });
  expect(near.status).toBe(201);
  const placed = (await near.json()) as OrderJson;
  const dearer = await purchase.call(`/api/orders/${placed.id}/delivery`, 'PUT', { providerId: dhl.id }, buyer.token);
  expect(dearer.status).toBe(400);
  expect(((await dearer.json()) as { detail: string }).detail).toContain('the most one order can be');
});

test('the simulated gateway refuses what it cannot hold (an amount past 32-bit cents, a key past 64 characters) and answers problems as problem+json', async () => {
  const asPurchase = (path: string, body?: unknown) => purchase.call(path, 'POST', body, undefined, { 'x-service-token': testServiceToken });
  const card = { cardNumber: '4242424242424242', expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: '123', holder: 'Gate Keeper' };
  expect((await asPurchase('/gateway/charges', { key: `big-${crypto.randomUUID()}`, amountCents: 2_147_483_648, ...card })).status).toBe(400);
  expect((await asPurchase(`/gateway/charges/${'k'.repeat(65)}/resolve`)).status).toBe(400);
  const unknown = await asPurchase('/gateway/charges/no-such-charge/refund');
  expect(unknown.status).toBe(404);
  expect(unknown.headers.get('content-type')).toContain('application/problem+json');
  const error = await asPurchase('/gateway/charges', { key: `err-${crypto.randomUUID()}`, amountCents: 100, ...card, cardNumber: '4000000000000119' });
  expect(error.status).toBe(503);
  expect(error.headers.get('content-type')).toContain('application/problem+json');
});

test("an account whose books still owe buyers something cannot be deleted until they are shipped (auth asks purchase)", async () => {
  shop.auth.deps.openSaleItems = openSaleItemsAt(purchase.baseUrl, testServiceToken);
  try {
    const seller = await shop.auth.signUp('Owing Seller');
    const admin = await shop.auth.signUp('Deleting Admin', 'admin');
    const book = await shop.catalog.addBook(seller.token, { title: 'Still To Ship', priceCents: 900, stock: 3 });
    const openItems = async () => (await (await purchase.call(`/api/sellers/${seller.userId}/open-items`, 'GET', undefined, undefined, { 'x-service-token': testServiceToken })).json()) as { items: number };
    expect((await purchase.call(`/api/sellers/${seller.userId}/open-items`)).status).toBe(403);
    expect(await openItems()).toEqual({ items: 0 });

    const placed = (await (await order({ items: [{ bookId: book.id, quantity: 1 }], providerId: 1 })).json()) as OrderJson;
    expect(await openItems()).toEqual({ items: 1 }); // awaiting payment: the buyer may still pay
    expect((await pay(placed.id, '4242424242424242')).status).toBe(200);
    expect(await openItems()).toEqual({ items: 1 }); // paid, not shipped

    const byAdmin = await shop.auth.app.request(`/api/users/${seller.userId}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin.token}` } });
    expect(byAdmin.status).toBe(409);
    expect(((await byAdmin.json()) as { detail: string }).detail).toContain('1 sold item');
    const own = await shop.auth.app.request('/api/me', { method: 'DELETE', headers: { authorization: `Bearer ${seller.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ password: seller.password }) });
    expect(own.status).toBe(409);
    expect(((await own.json()) as { detail: string }).detail).toContain('You still have 1 sold item to ship');

    expect((await purchase.call(`/api/orders/${placed.id}/items/${book.id}/shipment`, 'POST', { trackingCode: 'LAST-ONE' }, seller.token)).status).toBe(200);
    expect(await openItems()).toEqual({ items: 0 });
    expect((await shop.auth.app.request(`/api/users/${seller.userId}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin.token}` } })).status).toBe(204);
  } finally {
    shop.auth.deps.openSaleItems = undefined;
  }
});
