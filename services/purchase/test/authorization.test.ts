/**
 * Who may do what in purchase, over real HTTP with auth and catalog beside it: every route asked by
 * nobody, another user, the buyer, the seller of the book and an admin; lists and sales show each
 * caller only their own; and prices, totals, user and seller ids sent by a client are never trusted.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { BookJson } from '@bookstore/shared/contracts/catalog';
import type { CartJson, OrderJson, OrderPage, PublicOrderStatus, SaleJson } from '@bookstore/shared/contracts/purchase';
import { testServiceToken } from '@bookstore/shared/testing/http';
import { serveCatalogWithSeller } from '../../catalog/test/support.ts';
import { startTestPurchase, type TestPurchase } from './support.ts';

type User = { token: string; userId: number };
type Caller = 'anonymous' | 'stranger' | 'buyer' | 'seller' | 'admin';

let shop: Awaited<ReturnType<typeof serveCatalogWithSeller>>;
let purchase: TestPurchase;
/** The seller of `book` (catalog's test seller) and of `otherBook` (a second seller). */
let seller: User;
let otherSeller: User;
let buyer: User;
let stranger: User;
let admin: User;
let book: BookJson;
let otherBook: BookJson;

beforeAll(async () => {
  shop = await serveCatalogWithSeller();
  purchase = await startTestPurchase(shop.auth.url, { catalogUrl: shop.catalogUrl });
  [buyer, stranger, admin, otherSeller] = await Promise.all([
    shop.auth.signUp('Buyer Bea'),
    shop.auth.signUp('Stranger Sam'),
    shop.auth.signUp('Admin Ada', 'admin'),
    shop.auth.signUp('Other Seller'),
  ]);
  book = await shop.catalog.addBook(shop.seller, { title: 'Owned Book', priceCents: 1500, stock: 50 });
  otherBook = await shop.catalog.addBook(otherSeller.token, { title: 'Other Book', priceCents: 700, stock: 50 });
  seller = { token: shop.seller, userId: book.sellerId };
});
afterAll(async () => {
  await purchase?.close();
  await shop?.close();
});

const key = () => `k-${crypto.randomUUID()}`;
const card = (cardNumber = '4242424242424242') => ({ cardNumber, expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: '123', holder: 'Card Holder' });
const userOf = (caller: Exclude<Caller, 'anonymous'>): User => ({ stranger, buyer, seller, admin })[caller];
const tokenOf = (caller: Caller) => (caller === 'anonymous' ? undefined : userOf(caller).token);
/** A call as `caller`, with a fresh Idempotency-Key (routes that do not need one ignore it). */
const callAs = (caller: Caller, method: string, path: string, body?: unknown) => purchase.call(path, method, body, tokenOf(caller), { 'idempotency-key': key() });

async function placeOrder(user: User, items: { bookId: number; quantity: number }[] = [{ bookId: book.id, quantity: 1 }]): Promise<OrderJson> {
  const response = await purchase.call('/api/orders', 'POST', { items, providerId: 1 }, user.token, { 'idempotency-key': key() });
  if (response.status !== 201) throw new Error(`order: ${response.status} ${await response.text()}`);
  return (await response.json()) as OrderJson;
}
async function payOrder(user: User, order: OrderJson): Promise<OrderJson> {
  const response = await purchase.call(`/api/orders/${order.id}/payment`, 'POST', card(), user.token, { 'idempotency-key': key() });
  if (response.status !== 200) throw new Error(`payment: ${response.status} ${await response.text()}`);
  return (await response.json()) as OrderJson;
}
const orderAsBuyer = async (id: string) => (await (await purchase.call(`/api/orders/${id}`, 'GET', undefined, buyer.token)).json()) as OrderJson;
const listAs = async <T>(caller: Caller, path: string) => {
  const response = await callAs(caller, 'GET', path);
  expect(response.status).toBe(200);
  return (await response.json()) as { items: T[]; total: number };
};

const everyone = (status: number): Record<Caller, number> => ({ anonymous: status, stranger: status, buyer: status, seller: status, admin: status });
const signedIn = (status: number): Record<Caller, number> => ({ ...everyone(status), anonymous: 401 });
/** The answers on a route of one order: only its buyer acts; the admin may look but not act. */
const buyersOnly = (admin: number): Record<Caller, number> => ({ anonymous: 401, stranger: 404, seller: 404, admin, buyer: 200 });

/**
 * A route, the order it needs ({order} in the path: a fresh order of the buyer for the book, unpaid
 * or paid), the answer for each caller, and the order's public status once everyone has asked.
 */
type Row = [route: string, needs: 'nothing' | 'unpaid' | 'paid', method: string, path: string, body: unknown, expected: Partial<Record<Caller, number>>, statusAfter: PublicOrderStatus | null];
const rows: Row[] = [
  ['GET delivery providers (public)', 'nothing', 'GET', '/api/delivery-providers', undefined, everyone(200), null],
  ['GET principal', 'nothing', 'GET', '/api/principal', undefined, signedIn(200), null],
  ['GET cart', 'nothing', 'GET', '/api/cart', undefined, signedIn(200), null],
  ['PUT cart item (not one\'s own book)', 'nothing', 'PUT', '/api/cart/items/{book}', { quantity: 1 }, { ...signedIn(200), seller: 409 }, null],
  ['DELETE cart item', 'nothing', 'DELETE', '/api/cart/items/{book}', undefined, signedIn(200), null],
  // The seller ordering their own book is left out here: see the failing test at the end.
  ['POST order', 'nothing', 'POST', '/api/orders', { items: [{ bookId: '{book}', quantity: 1 }], providerId: 1 }, { anonymous: 401, stranger: 201, buyer: 201, admin: 201 }, null],
  ['GET orders (one\'s own)', 'nothing', 'GET', '/api/orders', undefined, signedIn(200), null],
  ['GET orders?all=true (admins)', 'nothing', 'GET', '/api/orders?all=true', undefined, { ...signedIn(403), admin: 200 }, null],
  ['GET sales (one\'s own)', 'nothing', 'GET', '/api/sales', undefined, signedIn(200), null],
  ['GET order', 'unpaid', 'GET', '/api/orders/{order}', undefined, buyersOnly(200), 'awaiting_payment'],
  ['PUT order delivery', 'unpaid', 'PUT', '/api/orders/{order}/delivery', { providerId: 4 }, buyersOnly(403), 'awaiting_payment'],
  ['POST order payment', 'unpaid', 'POST', '/api/orders/{order}/payment', card(), buyersOnly(403), 'paid'],
  ['POST order cancel', 'unpaid', 'POST', '/api/orders/{order}/cancel', undefined, buyersOnly(403), 'cancelled'],
  ['GET a paid order', 'paid', 'GET', '/api/orders/{order}', undefined, buyersOnly(200), 'paid'],
  ['POST cancel of a paid order', 'paid', 'POST', '/api/orders/{order}/cancel', undefined, { ...buyersOnly(403), buyer: 409 }, 'paid'],
  ['POST item shipment (its seller only)', 'paid', 'POST', '/api/orders/{order}/items/{book}/shipment', { trackingCode: 'TRACK-1' }, { anonymous: 401, stranger: 404, buyer: 404, admin: 404, seller: 200 }, 'shipped'],
  ['POST gateway charge (services only)', 'nothing', 'POST', '/gateway/charges', { key: 'pay_forged', amountCents: 1, ...card() }, everyone(403), null],
];

test.each(rows)('%s', async (...row: Row) => {
  const [, needs, method, template, rawBody, expected, statusAfter] = row;
  const order = needs === 'nothing' ? null : needs === 'unpaid' ? await placeOrder(buyer) : await payOrder(buyer, await placeOrder(buyer));
  const fill = (text: string, orderId = order?.id ?? '') => text.replaceAll('{order}', orderId).replaceAll('{book}', String(book.id));
  const path = fill(template);
  const body = rawBody === undefined ? undefined : JSON.parse(fill(JSON.stringify(rawBody).replaceAll('"{book}"', String(book.id))));
  // Refusals first: had one of them changed anything, the successful call after it would show it.
  const callers = (Object.keys(expected) as Caller[]).sort((a, b) => Number(expected[a]! < 300) - Number(expected[b]! < 300));
  const answers: Record<string, number> = {};
  for (const caller of callers) {
    const response = await callAs(caller, method, path, body);
    answers[caller] = response.status;
    if (response.status >= 400) {
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      const { detail } = (await response.json()) as { detail: string };
      if (response.status === 404 && order) {
        // Someone else's order answers exactly as an order that does not exist: nothing to probe.
        const unknownId = `ord_${'a'.repeat(24)}`;
        const unknown = await callAs(caller, method, fill(template, unknownId), body);
        expect(unknown.status).toBe(404);
        expect(((await unknown.json()) as { detail: string }).detail.replace(unknownId, order.id)).toBe(detail);
      }
    }
  }
  expect(answers).toEqual(expected);
  if (order) expect((await orderAsBuyer(order.id)).status).toBe(statusAfter!);
});

test('refused payments charged nothing: the admin\'s and the stranger\'s attempts left no payment behind', async () => {
  const order = await placeOrder(buyer);
  for (const caller of ['admin', 'stranger', 'seller'] as const) {
    expect((await callAs(caller, 'POST', `/api/orders/${order.id}/payment`, card())).status).toBe(caller === 'admin' ? 403 : 404);
  }
  expect((await orderAsBuyer(order.id)).payment).toBeNull();
  const payments = (await purchase.db!.query('select count(*) as n from payments where order_id = ?', [order.id])) as { n: number }[];
  expect(Number(payments[0]!.n)).toBe(0);
});

test('each user lists only their own orders; the admin sees everyone\'s only with ?all=true', async () => {
  const mine = await placeOrder(buyer);
  const theirs = await placeOrder(stranger);
  const idsOf = async (caller: Caller, path = '/api/orders?pageSize=100') => (await listAs<OrderJson>(caller, path)).items.map((order) => order.id);

  const buyerSees = await idsOf('buyer');
  expect(buyerSees).toContain(mine.id);
  expect(buyerSees).not.toContain(theirs.id);
  const strangerSees = await idsOf('stranger');
  expect(strangerSees).toContain(theirs.id);
  expect(strangerSees).not.toContain(mine.id);
  for (const caller of ['stranger', 'seller', 'admin'] as const) {
    expect((await listAs<OrderJson>(caller, '/api/orders?pageSize=100')).items.every((order) => order.buyerId === userOf(caller).userId)).toBe(true);
  }
  const all = (await listAs<OrderJson>('admin', '/api/orders?all=true&pageSize=100')) as OrderPage;
  expect(all.items.map((order) => order.id)).toEqual(expect.arrayContaining([mine.id, theirs.id]));
  expect(all.total).toBeGreaterThanOrEqual(buyerSees.length + strangerSees.length);
  // The admin reads someone else's order in full, but it stays the buyer's.
  const read = await callAs('admin', 'GET', `/api/orders/${mine.id}`);
  expect(read.status).toBe(200);
  expect(((await read.json()) as OrderJson).buyerId).toBe(buyer.userId);
});

test('sales: each seller sees only the sold items of their own books, and ships only those', async () => {
  const paid = await payOrder(buyer, await placeOrder(buyer, [{ bookId: book.id, quantity: 2 }, { bookId: otherBook.id, quantity: 1 }]));
  const unpaid = await placeOrder(stranger, [{ bookId: book.id, quantity: 1 }, { bookId: otherBook.id, quantity: 1 }]);
  const salesOf = async (caller: Caller) => (await listAs<SaleJson>(caller, '/api/sales?pageSize=100')).items;

  const mySales = await salesOf('seller');
  expect(mySales.filter((sale) => sale.orderId === paid.id)).toEqual([expect.objectContaining({ bookId: book.id, quantity: 2, unitPriceCents: 1500, buyerName: 'Buyer Bea', status: 'paid' })]);
  expect(mySales.every((sale) => sale.bookId === book.id)).toBe(true);
  expect(mySales.some((sale) => sale.orderId === unpaid.id)).toBe(false);
  expect(await salesOf('stranger')).toEqual([]); // bought nothing of theirs paid, sells nothing
  const otherSales = (await (await purchase.call('/api/sales?pageSize=100', 'GET', undefined, otherSeller.token)).json()) as { items: SaleJson[] };
  expect(otherSales.items.map((sale) => [sale.orderId, sale.bookId])).toEqual([[paid.id, otherBook.id]]);
  expect(await salesOf('buyer')).toEqual([]);
  expect(await salesOf('admin')).toEqual([]);

  // Each seller ships their own item: not the other's, not of an unpaid order.
  const shipAs = (token: string, orderId: string, bookId: number) => purchase.call(`/api/orders/${orderId}/items/${bookId}/shipment`, 'POST', {}, token);
  expect((await shipAs(otherSeller.token, paid.id, book.id)).status).toBe(404);
  expect((await shipAs(seller.token, paid.id, otherBook.id)).status).toBe(404);
  expect((await shipAs(otherSeller.token, unpaid.id, otherBook.id)).status).toBe(409);
  expect((await shipAs(otherSeller.token, paid.id, otherBook.id)).status).toBe(200);
  expect((await orderAsBuyer(paid.id)).status).toBe('paid'); // one item still to ship
  const shipped = await shipAs(seller.token, paid.id, book.id);
  expect(shipped.status).toBe(200);
  // The seller's answer is their item, not the buyer's whole order.
  const item = (await shipped.json()) as Record<string, unknown>;
  expect(item).toMatchObject({ orderId: paid.id, bookId: book.id, orderStatus: 'shipped' });
  expect(Object.keys(item)).not.toContain('items');
  expect((await orderAsBuyer(paid.id)).status).toBe('shipped');
});

test('prices, totals, user ids and seller ids sent by a client are ignored: catalog prices, the token\'s user', async () => {
  // The cart: extra fields are dropped; the price shown is catalog's, and the line is the caller's.
  const put = await purchase.call(`/api/cart/items/${book.id}`, 'PUT', { quantity: 2, priceCents: 1, unitPriceCents: 1, subtotalCents: 1, userId: stranger.userId, sellerId: buyer.userId }, buyer.token);
  expect(put.status).toBe(200);
  const cart = (await put.json()) as CartJson;
  expect(cart.items).toEqual([{ bookId: book.id, title: 'Owned Book', unitPriceCents: 1500, quantity: 2, available: expect.any(Number) }]);
  expect(cart.subtotalCents).toBe(3000);
  expect(((await (await purchase.call('/api/cart', 'GET', undefined, stranger.token)).json()) as CartJson).items).toEqual([]);
  expect((await purchase.call(`/api/cart/items/${book.id}`, 'DELETE', undefined, buyer.token)).status).toBe(200);

  // An order: fields inside an item are dropped; the snapshot is catalog's, the buyer the token's user.
  const forgedItem = { bookId: book.id, quantity: 1, unitPriceCents: 1, priceCents: 1, title: 'Free Book', sellerId: buyer.userId };
  const placed = await purchase.call('/api/orders', 'POST', { items: [forgedItem], providerId: 1 }, buyer.token, { 'idempotency-key': key() });
  expect(placed.status).toBe(201);
  const order = (await placed.json()) as OrderJson;
  expect(order).toMatchObject({ buyerId: buyer.userId, subtotalCents: 1500, deliveryCents: 5000, totalCents: 6500 });
  expect(order.items).toEqual([{ bookId: book.id, title: 'Owned Book', sellerId: seller.userId, unitPriceCents: 1500, quantity: 1, shippedAt: null, trackingCode: null }]);
  // Top-level totals and ids are refused outright.
  for (const forged of [{ totalCents: 1 }, { subtotalCents: 1 }, { buyerId: stranger.userId }, { sellerId: buyer.userId }]) {
    const refused = await purchase.call('/api/orders', 'POST', { items: [{ bookId: book.id, quantity: 1 }], providerId: 1, ...forged }, buyer.token, { 'idempotency-key': key() });
    expect(refused.status).toBe(400);
  }
  for (const forged of [{ totalCents: 1 }, { priceCents: 1 }, { deliveryCents: 0 }]) {
    expect((await purchase.call(`/api/orders/${order.id}/delivery`, 'PUT', { providerId: 4, ...forged }, buyer.token)).status).toBe(400);
  }

  // The payment: an amount from the client is refused; the gateway is asked for the order's own total.
  const forgedPayment = await purchase.call(`/api/orders/${order.id}/payment`, 'POST', { ...card(), amountCents: 1 }, buyer.token, { 'idempotency-key': key() });
  expect(forgedPayment.status).toBe(400);
  const paid = await payOrder(buyer, order);
  expect(paid).toMatchObject({ status: 'paid', buyerId: buyer.userId, totalCents: 6500 });
  const charged = (await purchase.db!.query('select c.amount_cents from gateway_charges c join payments p on p.id = c.charge_key where p.order_id = ?', [order.id])) as { amount_cents: number }[];
  expect(charged.map((charge) => Number(charge.amount_cents))).toEqual([6500]);

  // A shipment: the seller cannot be named by the body.
  expect((await purchase.call(`/api/orders/${order.id}/items/${book.id}/shipment`, 'POST', { sellerId: buyer.userId }, buyer.token)).status).toBe(400);
  expect((await purchase.call(`/api/orders/${order.id}/items/${book.id}/shipment`, 'POST', {}, buyer.token)).status).toBe(404);
});

test('the simulated gateway takes only the service token', async () => {
  const body = { key: `pay_${crypto.randomUUID()}`, amountCents: 100, ...card() };
  expect((await purchase.call('/gateway/charges', 'POST', body, buyer.token)).status).toBe(403);
  expect((await purchase.call('/gateway/charges', 'POST', body, admin.token)).status).toBe(403);
  expect((await purchase.call('/gateway/charges', 'POST', body, undefined, { 'x-service-token': testServiceToken })).status).toBe(200);
});

// Known bug, left to the owner of services/purchase/src/checkout.ts (placeOrder) / saga.ts
// (reserveStep): the cart refuses a seller's own book (409 "This is your own book"), but
// POST /api/orders with `items` places and lets them pay an order for it. Remove `.failing` once fixed.
test('a seller cannot order their own book by naming it in POST /api/orders either', async () => {
  const response = await purchase.call('/api/orders', 'POST', { items: [{ bookId: book.id, quantity: 1 }], providerId: 1 }, seller.token, { 'idempotency-key': key() });
  expect(response.status).toBe(409);
});
