/**
 * Malformed requests to every purchase API endpoint get a 4xx problem with a clear message, never a
 * 5xx, over real HTTP with auth and catalog served beside it; and none of them changes anything.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { BookJson } from '@bookstore/shared/contracts/catalog';
import type { CartJson, OrderJson } from '@bookstore/shared/contracts/purchase';
import { bearer } from '@bookstore/shared/testing/http';
import { serveCatalogWithSeller } from '../../catalog/test/support.ts';
import { startTestPurchase, type TestPurchase } from './support.ts';

let shop: Awaited<ReturnType<typeof serveCatalogWithSeller>>;
let purchase: TestPurchase;
let buyer: string;
let book: BookJson;
/** An order of the buyer's awaiting payment, and one already paid (and so shippable by the seller). */
let unpaid: OrderJson;
let paid: OrderJson;

const key = () => `k-${crypto.randomUUID()}`;
const nextYear = new Date().getFullYear() + 1;

beforeAll(async () => {
  shop = await serveCatalogWithSeller();
  purchase = await startTestPurchase(shop.auth.url, { catalogUrl: shop.catalogUrl });
  buyer = (await shop.auth.signUp('Buyer Bea')).token;
  book = await shop.catalog.addBook(shop.seller, { title: 'Bad Input Book', priceCents: 1200, stock: 10 });
  const place = async () => {
    const response = await purchase.call('/api/orders', 'POST', { items: [{ bookId: book.id, quantity: 1 }], providerId: 1 }, buyer, { 'idempotency-key': key() });
    if (response.status !== 201) throw new Error(`order: ${response.status} ${await response.text()}`);
    return (await response.json()) as OrderJson;
  };
  unpaid = await place();
  paid = await place();
  const payment = await purchase.call(`/api/orders/${paid.id}/payment`, 'POST', card(), buyer, { 'idempotency-key': key() });
  if (payment.status !== 200) throw new Error(`payment: ${payment.status} ${await payment.text()}`);
  paid = (await payment.json()) as OrderJson;
});
afterAll(async () => {
  await purchase?.close();
  await shop?.close();
});

const json = 'application/json';
const form = 'application/x-www-form-urlencoded';

const card = (fields: Record<string, unknown> = {}) => ({ cardNumber: '4242 4242 4242 4242', expMonth: 12, expYear: nextYear, cvc: '123', holder: 'Bea Buyer', ...fields });
const payment = (fields: Record<string, unknown> = {}) => JSON.stringify(card(fields));
/** An order for one copy of the test book ("{book}"), with some fields replaced. */
const newOrder = (fields: Record<string, unknown> = {}) => JSON.stringify({ items: [{ bookId: '{book}', quantity: 1 }], providerId: 1, ...fields });
const orderItem = (fields: Record<string, unknown>) => newOrder({ items: [{ bookId: '{book}', quantity: 1, ...fields }] });
const delivery = (fields: Record<string, unknown> = {}) => JSON.stringify({ providerId: 2, ...fields });
const fiftyOneBooks = newOrder({ items: Array.from({ length: 51 }, (_, i) => ({ bookId: i + 1, quantity: 1 })) });
const wellFormedButUnknownOrder = `ord_${'a'.repeat(24)}`;

/** Who calls: the buyer of both orders, the seller of the book, or nobody. */
type Caller = 'buyer' | 'seller' | 'anonymous';
/**
 * "{book}", "{unpaid}" and "{paid}" in the path or body stand for the test book's id and the two
 * orders' ids. Idempotency-Key: a fresh valid one unless the case gives one (null: none at all).
 */
type Case = [name: string, expected: number, caller: Caller, method: string, path: string, body: string | undefined, contentType: string | undefined, idempotencyKey?: string | null];

const cases: Case[] = [
  // PUT /api/cart/items/:bookId
  ['cart put: invalid JSON', 400, 'buyer', 'PUT', '/api/cart/items/{book}', '{"quantity":', json],
  ['cart put: JSON array', 400, 'buyer', 'PUT', '/api/cart/items/{book}', '[1]', json],
  ['cart put: JSON null', 400, 'buyer', 'PUT', '/api/cart/items/{book}', 'null', json],
  ['cart put: no body', 400, 'buyer', 'PUT', '/api/cart/items/{book}', undefined, json],
  ['cart put: missing quantity', 400, 'buyer', 'PUT', '/api/cart/items/{book}', '{}', json],
  ['cart put: quantity as a string', 400, 'buyer', 'PUT', '/api/cart/items/{book}', '{"quantity":"2"}', json],
  ['cart put: quantity null', 400, 'buyer', 'PUT', '/api/cart/items/{book}', '{"quantity":null}', json],
  ['cart put: quantity -1', 400, 'buyer', 'PUT', '/api/cart/items/{book}', '{"quantity":-1}', json],
  ['cart put: quantity 1.5', 400, 'buyer', 'PUT', '/api/cart/items/{book}', '{"quantity":1.5}', json],
  ['cart put: quantity 101', 400, 'buyer', 'PUT', '/api/cart/items/{book}', '{"quantity":101}', json],
  ['cart put: quantity 10^12', 400, 'buyer', 'PUT', '/api/cart/items/{book}', '{"quantity":1000000000000}', json],
  ['cart put: quantity 1e400 (Infinity)', 400, 'buyer', 'PUT', '/api/cart/items/{book}', '{"quantity":1e400}', json],
  ['cart put: quantity as a NUL string', 400, 'buyer', 'PUT', '/api/cart/items/{book}', '{"quantity":"\\u0000"}', json],
  ['cart put: more than the stock', 409, 'buyer', 'PUT', '/api/cart/items/{book}', '{"quantity":11}', json],
  ['cart put: own book', 409, 'seller', 'PUT', '/api/cart/items/{book}', '{"quantity":1}', json],
  ['cart put: book that does not exist', 404, 'buyer', 'PUT', '/api/cart/items/999999', '{"quantity":1}', json],
  ['cart put: bookId is not a number', 400, 'buyer', 'PUT', '/api/cart/items/abc', '{"quantity":1}', json],
  ['cart put: bookId 0', 400, 'buyer', 'PUT', '/api/cart/items/0', '{"quantity":1}', json],
  ['cart put: bookId -1', 400, 'buyer', 'PUT', '/api/cart/items/-1', '{"quantity":1}', json],
  ['cart put: bookId 1.5', 400, 'buyer', 'PUT', '/api/cart/items/1.5', '{"quantity":1}', json],
  ['cart put: bookId 99999999999', 400, 'buyer', 'PUT', '/api/cart/items/99999999999', '{"quantity":1}', json],
  ['cart put: NUL in the bookId', 400, 'buyer', 'PUT', '/api/cart/items/1%00', '{"quantity":1}', json],
  ['cart put: form instead of JSON', 415, 'buyer', 'PUT', '/api/cart/items/{book}', 'quantity=1', form],
  ['cart put: text/plain', 415, 'buyer', 'PUT', '/api/cart/items/{book}', '{"quantity":1}', 'text/plain'],
  ['cart put: without a token', 401, 'anonymous', 'PUT', '/api/cart/items/{book}', '{"quantity":1}', json],

  // DELETE /api/cart/items/:bookId
  ['cart delete: bookId is not a number', 400, 'buyer', 'DELETE', '/api/cart/items/abc', undefined, undefined],
  ['cart delete: bookId 0', 400, 'buyer', 'DELETE', '/api/cart/items/0', undefined, undefined],
  ['cart delete: bookId -3', 400, 'buyer', 'DELETE', '/api/cart/items/-3', undefined, undefined],
  ['cart delete: bookId 99999999999', 400, 'buyer', 'DELETE', '/api/cart/items/99999999999', undefined, undefined],
  ['cart delete: without a token', 401, 'anonymous', 'DELETE', '/api/cart/items/{book}', undefined, undefined],

  // POST /api/orders
  ['order: no Idempotency-Key', 400, 'buyer', 'POST', '/api/orders', newOrder(), json, null],
  ['order: Idempotency-Key of 3 characters', 400, 'buyer', 'POST', '/api/orders', newOrder(), json, 'abc'],
  ['order: Idempotency-Key of 101 characters', 400, 'buyer', 'POST', '/api/orders', newOrder(), json, 'k'.repeat(101)],
  ['order: Idempotency-Key with spaces', 400, 'buyer', 'POST', '/api/orders', newOrder(), json, 'key with spaces'],
  ['order: Idempotency-Key with a slash', 400, 'buyer', 'POST', '/api/orders', newOrder(), json, 'key/with/slash'],
  ['order: invalid JSON', 400, 'buyer', 'POST', '/api/orders', '{"providerId":', json],
  ['order: JSON array', 400, 'buyer', 'POST', '/api/orders', '[]', json],
  ['order: JSON null', 400, 'buyer', 'POST', '/api/orders', 'null', json],
  ['order: JSON string', 400, 'buyer', 'POST', '/api/orders', '"order"', json],
  ['order: no body', 400, 'buyer', 'POST', '/api/orders', undefined, json],
  ['order: missing providerId', 400, 'buyer', 'POST', '/api/orders', JSON.stringify({ items: [{ bookId: '{book}', quantity: 1 }] }), json],
  ['order: providerId as a string', 400, 'buyer', 'POST', '/api/orders', newOrder({ providerId: '1' }), json],
  ['order: providerId 0', 400, 'buyer', 'POST', '/api/orders', newOrder({ providerId: 0 }), json],
  ['order: providerId 1.5', 400, 'buyer', 'POST', '/api/orders', newOrder({ providerId: 1.5 }), json],
  ['order: unknown provider', 400, 'buyer', 'POST', '/api/orders', newOrder({ providerId: 999 }), json],
  ['order: providerId 10^12', 400, 'buyer', 'POST', '/api/orders', newOrder({ providerId: 10 ** 12 }), json],
  ['order: items is not an array', 400, 'buyer', 'POST', '/api/orders', newOrder({ items: { bookId: 1, quantity: 1 } }), json],
  ['order: no items', 400, 'buyer', 'POST', '/api/orders', newOrder({ items: [] }), json],
  ['order: 51 books', 400, 'buyer', 'POST', '/api/orders', fiftyOneBooks, json],
  ['order: missing quantity', 400, 'buyer', 'POST', '/api/orders', newOrder({ items: [{ bookId: '{book}' }] }), json],
  ['order: missing bookId', 400, 'buyer', 'POST', '/api/orders', newOrder({ items: [{ quantity: 1 }] }), json],
  ['order: quantity 0', 400, 'buyer', 'POST', '/api/orders', orderItem({ quantity: 0 }), json],
  ['order: quantity -1', 400, 'buyer', 'POST', '/api/orders', orderItem({ quantity: -1 }), json],
  ['order: quantity 1.5', 400, 'buyer', 'POST', '/api/orders', orderItem({ quantity: 1.5 }), json],
  ['order: quantity as a string', 400, 'buyer', 'POST', '/api/orders', orderItem({ quantity: '1' }), json],
  ['order: quantity 101', 400, 'buyer', 'POST', '/api/orders', orderItem({ quantity: 101 }), json],
  ['order: quantity 10^12', 400, 'buyer', 'POST', '/api/orders', orderItem({ quantity: 10 ** 12 }), json],
  ['order: bookId is not a number', 400, 'buyer', 'POST', '/api/orders', orderItem({ bookId: 'x' }), json],
  ['order: bookId 0', 400, 'buyer', 'POST', '/api/orders', orderItem({ bookId: 0 }), json],
  ['order: bookId null', 400, 'buyer', 'POST', '/api/orders', orderItem({ bookId: null }), json],
  ['order: bookId 10^12', 400, 'buyer', 'POST', '/api/orders', orderItem({ bookId: 10 ** 12 }), json],
  ['order: bookId as a string', 400, 'buyer', 'POST', '/api/orders', orderItem({ bookId: '{book}x' }), json],
  ['order: bookId a NUL string', 400, 'buyer', 'POST', '/api/orders', orderItem({ bookId: '\u0000' }), json],
  ['order: book that does not exist', 409, 'buyer', 'POST', '/api/orders', orderItem({ bookId: 999999 }), json],
  ['order: more copies than the stock', 409, 'buyer', 'POST', '/api/orders', orderItem({ quantity: 11 }), json],
  ['order: the cart, which is empty', 400, 'buyer', 'POST', '/api/orders', '{"providerId":1}', json],
  ['order: a client total', 400, 'buyer', 'POST', '/api/orders', newOrder({ totalCents: 1 }), json],
  ['order: a client subtotal', 400, 'buyer', 'POST', '/api/orders', newOrder({ subtotalCents: 1 }), json],
  ['order: a client buyerId', 400, 'buyer', 'POST', '/api/orders', newOrder({ buyerId: 1 }), json],
  ['order: a client sellerId', 400, 'buyer', 'POST', '/api/orders', newOrder({ sellerId: 1 }), json],
  ['order: a client status', 400, 'buyer', 'POST', '/api/orders', newOrder({ status: 'paid' }), json],
  ['order: form instead of JSON', 415, 'buyer', 'POST', '/api/orders', 'providerId=1', form],
  ['order: text/plain', 415, 'buyer', 'POST', '/api/orders', newOrder(), 'text/plain'],
  ['order: body over the limit', 413, 'buyer', 'POST', '/api/orders', newOrder({ padding: 'p'.repeat(70_000) }), json],
  ['order: without a token', 401, 'anonymous', 'POST', '/api/orders', newOrder(), json],

  // GET /api/orders, GET /api/sales
  ['orders: page 0', 400, 'buyer', 'GET', '/api/orders?page=0', undefined, undefined],
  ['orders: page -1', 400, 'buyer', 'GET', '/api/orders?page=-1', undefined, undefined],
  ['orders: page 1.5', 400, 'buyer', 'GET', '/api/orders?page=1.5', undefined, undefined],
  ['orders: page is not a number', 400, 'buyer', 'GET', '/api/orders?page=abc', undefined, undefined],
  ['orders: page 10^12', 400, 'buyer', 'GET', '/api/orders?page=1000000000000', undefined, undefined],
  ['orders: pageSize 0', 400, 'buyer', 'GET', '/api/orders?pageSize=0', undefined, undefined],
  ['orders: pageSize 101', 400, 'buyer', 'GET', '/api/orders?pageSize=101', undefined, undefined],
  ['orders: pageSize 10^9', 400, 'buyer', 'GET', '/api/orders?pageSize=1000000000', undefined, undefined],
  ['orders: pageSize is not a number', 400, 'buyer', 'GET', '/api/orders?pageSize=ten', undefined, undefined],
  ['orders: NUL in the query', 400, 'buyer', 'GET', '/api/orders?page=%00', undefined, undefined],
  ['orders: all=true, not an admin', 403, 'buyer', 'GET', '/api/orders?all=true', undefined, undefined],
  ['orders: without a token', 401, 'anonymous', 'GET', '/api/orders', undefined, undefined],
  ['sales: page 0', 400, 'seller', 'GET', '/api/sales?page=0', undefined, undefined],
  ['sales: pageSize 10^9', 400, 'seller', 'GET', '/api/sales?pageSize=1000000000', undefined, undefined],
  ['sales: page is not a number', 400, 'seller', 'GET', '/api/sales?page=abc', undefined, undefined],

  // GET /api/orders/:id
  ['order get: id is not an order id', 400, 'buyer', 'GET', '/api/orders/abc', undefined, undefined],
  ['order get: id is a number', 400, 'buyer', 'GET', '/api/orders/42', undefined, undefined],
  ['order get: id too short', 400, 'buyer', 'GET', '/api/orders/ord_abc', undefined, undefined],
  ['order get: id in capitals', 400, 'buyer', 'GET', `/api/orders/ORD_${'A'.repeat(24)}`, undefined, undefined],
  ['order get: id of 200 characters', 400, 'buyer', 'GET', `/api/orders/ord_${'a'.repeat(196)}`, undefined, undefined],
  ['order get: id with SQL in it', 400, 'buyer', 'GET', `/api/orders/${encodeURIComponent("ord_' or '1'='1")}`, undefined, undefined],
  ['order get: NUL in the id', 400, 'buyer', 'GET', `/api/orders/ord_${'a'.repeat(23)}%00`, undefined, undefined],
  ['order get: unknown order', 404, 'buyer', 'GET', `/api/orders/${wellFormedButUnknownOrder}`, undefined, undefined],
  ['order get: without a token', 401, 'anonymous', 'GET', '/api/orders/{unpaid}', undefined, undefined],

  // PUT /api/orders/:id/delivery
  ['delivery: invalid JSON', 400, 'buyer', 'PUT', '/api/orders/{unpaid}/delivery', '{"providerId":', json],
  ['delivery: missing providerId', 400, 'buyer', 'PUT', '/api/orders/{unpaid}/delivery', '{}', json],
  ['delivery: providerId as a string', 400, 'buyer', 'PUT', '/api/orders/{unpaid}/delivery', delivery({ providerId: '2' }), json],
  ['delivery: providerId -2', 400, 'buyer', 'PUT', '/api/orders/{unpaid}/delivery', delivery({ providerId: -2 }), json],
  ['delivery: unknown provider', 400, 'buyer', 'PUT', '/api/orders/{unpaid}/delivery', delivery({ providerId: 999 }), json],
  ['delivery: a client total', 400, 'buyer', 'PUT', '/api/orders/{unpaid}/delivery', delivery({ totalCents: 1 }), json],
  ['delivery: a client delivery price', 400, 'buyer', 'PUT', '/api/orders/{unpaid}/delivery', delivery({ priceCents: 1 }), json],
  ['delivery: malformed order id', 400, 'buyer', 'PUT', '/api/orders/abc/delivery', delivery(), json],
  ['delivery: unknown order', 404, 'buyer', 'PUT', `/api/orders/${wellFormedButUnknownOrder}/delivery`, delivery(), json],
  ['delivery: a paid order', 409, 'buyer', 'PUT', '/api/orders/{paid}/delivery', delivery(), json],
  ['delivery: form instead of JSON', 415, 'buyer', 'PUT', '/api/orders/{unpaid}/delivery', 'providerId=2', form],
  ['delivery: text/plain', 415, 'buyer', 'PUT', '/api/orders/{unpaid}/delivery', delivery(), 'text/plain'],
  ['delivery: without a token', 401, 'anonymous', 'PUT', '/api/orders/{unpaid}/delivery', delivery(), json],

  // POST /api/orders/:id/payment
  ['pay: no Idempotency-Key', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment(), json, null],
  ['pay: Idempotency-Key of 7 characters', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment(), json, 'k234567'],
  ['pay: invalid JSON', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', '{"cardNumber":"4242', json],
  ['pay: empty object', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', '{}', json],
  ['pay: JSON array', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', '[]', json],
  ['pay: Luhn-invalid card number', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ cardNumber: '4242 4242 4242 4241' }), json],
  ['pay: card number with letters', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ cardNumber: '4242 4242 abcd 4242' }), json],
  ['pay: card number of 11 digits', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ cardNumber: '42424242424' }), json],
  ['pay: card number of 20 digits', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ cardNumber: '42424242424242424242' }), json],
  ['pay: card number as a number', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ cardNumber: 4242424242424242 }), json],
  ['pay: missing card number', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ cardNumber: undefined }), json],
  ['pay: NUL in the card number', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ cardNumber: '4242424242424242\u0000' }), json],
  ['pay: expired card (last year)', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ expMonth: 12, expYear: nextYear - 2 }), json],
  ['pay: expired card (2020)', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ expMonth: 1, expYear: 2020 }), json],
  ['pay: expMonth 13', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ expMonth: 13 }), json],
  ['pay: expMonth 0', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ expMonth: 0 }), json],
  ['pay: expMonth as a string', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ expMonth: '12' }), json],
  ['pay: two-digit expYear', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ expYear: 30 }), json],
  ['pay: 2-digit cvc', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ cvc: '12' }), json],
  ['pay: 5-digit cvc', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ cvc: '12345' }), json],
  ['pay: cvc as a number', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ cvc: 123 }), json],
  ['pay: cvc with letters', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ cvc: '12a' }), json],
  ['pay: missing holder', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ holder: undefined }), json],
  ['pay: blank holder', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ holder: '   ' }), json],
  ['pay: holder of 101 characters', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ holder: 'h'.repeat(101) }), json],
  ['pay: NUL in the holder', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ holder: 'Bea\u0000Buyer' }), json],
  ['pay: a client amount', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ amountCents: 1 }), json],
  ['pay: a client total', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ totalCents: 1 }), json],
  ['pay: a client buyerId', 400, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ buyerId: 1 }), json],
  ['pay: malformed order id', 400, 'buyer', 'POST', '/api/orders/abc/payment', payment(), json],
  ['pay: unknown order', 404, 'buyer', 'POST', `/api/orders/${wellFormedButUnknownOrder}/payment`, payment(), json],
  ['pay: declined card', 402, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment({ cardNumber: '4000 0000 0000 0002' }), json],
  ['pay: a paid order', 409, 'buyer', 'POST', '/api/orders/{paid}/payment', payment(), json],
  ['pay: form instead of JSON', 415, 'buyer', 'POST', '/api/orders/{unpaid}/payment', 'cardNumber=4242424242424242&cvc=123', form],
  ['pay: text/plain', 415, 'buyer', 'POST', '/api/orders/{unpaid}/payment', payment(), 'text/plain'],
  ['pay: without a token', 401, 'anonymous', 'POST', '/api/orders/{unpaid}/payment', payment(), json],

  // POST /api/orders/:id/cancel
  ['cancel: malformed order id', 400, 'buyer', 'POST', '/api/orders/abc/cancel', undefined, undefined],
  ['cancel: NUL in the order id', 400, 'buyer', 'POST', '/api/orders/ord_%00/cancel', undefined, undefined],
  ['cancel: unknown order', 404, 'buyer', 'POST', `/api/orders/${wellFormedButUnknownOrder}/cancel`, undefined, undefined],
  ['cancel: a paid order', 409, 'buyer', 'POST', '/api/orders/{paid}/cancel', undefined, undefined],
  ['cancel: text/plain body', 415, 'buyer', 'POST', '/api/orders/{unpaid}/cancel', 'cancel please', 'text/plain'],
  ['cancel: without a token', 401, 'anonymous', 'POST', '/api/orders/{unpaid}/cancel', undefined, undefined],

  // POST /api/orders/:id/items/:bookId/shipment
  ['ship: invalid JSON', 400, 'seller', 'POST', '/api/orders/{paid}/items/{book}/shipment', '{"trackingCode":', json],
  ['ship: JSON array', 400, 'seller', 'POST', '/api/orders/{paid}/items/{book}/shipment', '[]', json],
  ['ship: tracking code as a number', 400, 'seller', 'POST', '/api/orders/{paid}/items/{book}/shipment', '{"trackingCode":12345}', json],
  ['ship: tracking code of 101 characters', 400, 'seller', 'POST', '/api/orders/{paid}/items/{book}/shipment', JSON.stringify({ trackingCode: 't'.repeat(101) }), json],
  ['ship: NUL in the tracking code', 400, 'seller', 'POST', '/api/orders/{paid}/items/{book}/shipment', JSON.stringify({ trackingCode: 'TRACK\u00001' }), json],
  ['ship: a client shippedAt', 400, 'seller', 'POST', '/api/orders/{paid}/items/{book}/shipment', JSON.stringify({ shippedAt: '2000-01-01T00:00:00Z' }), json],
  ['ship: a client sellerId', 400, 'seller', 'POST', '/api/orders/{paid}/items/{book}/shipment', JSON.stringify({ sellerId: 1 }), json],
  ['ship: malformed order id', 400, 'seller', 'POST', '/api/orders/abc/items/{book}/shipment', '{}', json],
  ['ship: bookId is not a number', 400, 'seller', 'POST', '/api/orders/{paid}/items/abc/shipment', '{}', json],
  ['ship: bookId 0', 400, 'seller', 'POST', '/api/orders/{paid}/items/0/shipment', '{}', json],
  ['ship: unknown order', 404, 'seller', 'POST', `/api/orders/${wellFormedButUnknownOrder}/items/{book}/shipment`, '{}', json],
  ['ship: a book not in the order', 404, 'seller', 'POST', '/api/orders/{paid}/items/999999/shipment', '{}', json],
  ['ship: the buyer, not the seller', 404, 'buyer', 'POST', '/api/orders/{paid}/items/{book}/shipment', '{}', json],
  ['ship: an unpaid order', 409, 'seller', 'POST', '/api/orders/{unpaid}/items/{book}/shipment', '{}', json],
  ['ship: form instead of JSON', 415, 'seller', 'POST', '/api/orders/{paid}/items/{book}/shipment', 'trackingCode=T1', form],
  ['ship: text/plain', 415, 'seller', 'POST', '/api/orders/{paid}/items/{book}/shipment', '{}', 'text/plain'],
  ['ship: without a token', 401, 'anonymous', 'POST', '/api/orders/{paid}/items/{book}/shipment', '{}', json],

  // routes that do not exist
  ['unknown route', 404, 'buyer', 'GET', '/api/nothing-here', undefined, undefined],
  ['wrong method', 404, 'buyer', 'PATCH', '/api/orders/{unpaid}', '{}', json],
];

// A rest parameter, so that bun does not take a row's missing last column for a done callback.
test.each(cases)('%s → %d', async (...row: Case) => {
  const [, expected, caller, method, template, rawBody, contentType, idempotencyKey] = row;
  const fill = (text: string) => text.replaceAll('{unpaid}', unpaid.id).replaceAll('{paid}', paid.id).replaceAll('{book}', String(book.id));
  // The book id goes in as a number ("{book}" quoted in the JSON), unless a case replaced it.
  const body = rawBody === undefined ? undefined : fill(rawBody.replaceAll('"{book}"', String(book.id)));
  const headers: Record<string, string> = caller === 'buyer' ? bearer(buyer) : caller === 'seller' ? bearer(shop.seller) : {};
  if (contentType) headers['content-type'] = contentType;
  if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey ?? key();
  const response = await fetch(`${purchase.baseUrl}${fill(template)}`, { method, headers, body });
  const text = await response.text();
  expect({ status: response.status, body: text }).toMatchObject({ status: expected });
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const problem = JSON.parse(text) as { status: number; detail: string };
  expect(problem.status).toBe(response.status);
  expect(typeof problem.detail).toBe('string');
  expect(problem.detail.length).toBeGreaterThan(5);
  expect(problem.detail).not.toMatch(/at \w+ \(|node_modules|Error:|select |sql|undefined|NaN|\[object/i);
});

test('the bad input changed nothing: both orders, the stock, the cart and the charges are as they were', async () => {
  const get = async (id: string) => (await (await purchase.call(`/api/orders/${id}`, 'GET', undefined, buyer)).json()) as OrderJson;
  const [unpaidNow, paidNow] = await Promise.all([get(unpaid.id), get(paid.id)]);
  // Only the declined card left a trace: the order stays payable, at the same total and carrier.
  expect(unpaidNow).toEqual({ ...unpaid, payment: { last4: '0002', status: 'declined' } });
  expect(paidNow).toEqual(paid);
  expect(paidNow.items[0]!.shippedAt).toBeNull();

  const stock = ((await (await shop.catalog.app.request(`/api/books/${book.id}`)).json()) as BookJson).stock;
  expect(stock).toBe(8);
  const cart = (await (await purchase.call('/api/cart', 'GET', undefined, buyer)).json()) as CartJson;
  expect(cart).toEqual({ items: [], count: 0, subtotalCents: 0 });
  const orders = (await (await purchase.call('/api/orders', 'GET', undefined, buyer)).json()) as { total: number };
  expect(orders.total).toBe(2);
  const charges = (await purchase.db!.query("select count(*) as n from gateway_charges where outcome = 'approved'")) as { n: number }[];
  expect(Number(charges[0]!.n)).toBe(1);
});

test('bad input never produced a logged server error', () => {
  expect(purchase.log.lines.length).toBeGreaterThan(cases.length);
  expect(purchase.log.lines.filter((line) => line.includes('"level":"error"'))).toEqual([]);
});

// Known bug, left to the owner of shared/src/contracts/purchase.ts: `createOrderInput` takes each
// item's bookId with catalog's `bookId` schema, a z.coerce.number meant for path parameters, so
// `true` becomes book 1 and "7" becomes book 7, and an order is placed for a book nobody named.
// Remove `.failing` once the body's bookId is a plain integer.
test('an order item whose bookId is true or a string is refused, not coerced into a book id', async () => {
  for (const bookId of [true, String(book.id)]) {
    const response = await purchase.call('/api/orders', 'POST', { items: [{ bookId, quantity: 1 }], providerId: 1 }, buyer, { 'idempotency-key': key() });
    expect({ bookId, status: response.status }).toEqual({ bookId, status: 400 });
  }
});
