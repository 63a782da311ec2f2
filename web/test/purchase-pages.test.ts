/**
 * Buying through the web front, against real auth, catalog and purchase over HTTP on MariaDB:
 * outages of purchase and of catalog, bad input on every purchase form, htmx swaps, error pages.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { BookJson } from '@bookstore/shared/contracts/catalog';
import { serveCatalogWithSeller } from '../../services/catalog/test/support.ts';
import { startTestPurchase, type TestPurchase } from '../../services/purchase/test/support.ts';
import { cookiesFrom, downUrl, formKey, sessionCookieFrom, startTestWeb, webOrigin } from './support.ts';

type Web = ReturnType<typeof startTestWeb>;
type Shopper = { name: string; cookie: string };

let shop: Awaited<ReturnType<typeof serveCatalogWithSeller>>;
let purchase: TestPurchase;
let web: Web;
let book: BookJson;
let buyer: Shopper;
let other: Shopper;
let seller: Shopper;
/** Orders of the buyer (one awaiting payment, one paid) and one of another buyer's. */
let unpaid: string;
let paid: string;
let othersOrder: string;

const thisYear = new Date().getUTCFullYear();
const goodCard = { cardNumber: '4242 4242 4242 4242', expMonth: '12', expYear: String(thisYear + 1), cvc: '123', holder: 'Bea Buyer' };
const missingOrder = `ord_${'a'.repeat(24)}`;
/** What a browser sends with every page request. */
const browserAccept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

beforeAll(async () => {
  shop = await serveCatalogWithSeller();
  purchase = await startTestPurchase(shop.auth.url, { catalogUrl: shop.catalogUrl });
  web = startTestWeb({ auth: shop.auth.url, catalog: shop.catalogUrl, purchase: purchase.baseUrl });
  seller = await logIn(web, 'Seller Sam');
  book = await shop.catalog.addBook(tokenOf(seller), { title: 'The Buying Book', author: 'Ann Author', priceCents: 1200, stock: 50 });
  buyer = await logIn(web, 'Buyer Bea');
  other = await logIn(web, 'Other Otto');
  unpaid = await placeOrder(web, buyer, book.id);
  paid = await placeOrder(web, buyer, book.id);
  await payOrder(web, buyer, paid);
  othersOrder = await placeOrder(web, other, book.id);
  // One copy in the buyer's cart, so the checkout rows fail on their fields and not on an empty cart.
  expect((await web.submit('/cart/items', { bookId: String(book.id), quantity: '1' }, { cookie: buyer.cookie })).status).toBe(303);
}, 60_000);

afterAll(async () => {
  web?.close();
  await purchase?.close();
  await shop?.close();
});

/** A new user, logged in through the web front's login form. */
async function logIn(front: Web, name: string): Promise<Shopper> {
  const user = await shop.auth.signUp(name);
  const response = await front.submit('/login', { email: user.email, password: user.password });
  expect(response.status).toBe(303);
  return { name, cookie: sessionCookieFrom(response) };
}

function tokenOf(shopper: Shopper): string {
  const session = shopper.cookie.split('; ').find((pair) => pair.startsWith('bookstore_session='))!;
  return decodeURIComponent(session.slice(session.indexOf('=') + 1));
}


/** Puts one copy in the cart and checks out with a carrier, as the forms do; returns the order id. */
async function placeOrder(front: Web, shopper: Shopper, bookId: number, providerId = 3): Promise<string> {
  const { cookie } = shopper;
  expect((await front.submit('/cart/items', { bookId: String(bookId), quantity: '1' }, { cookie })).status).toBe(303);
  const key = formKey(await (await front.browse('/checkout', { cookie })).text());
  const placed = await front.submit('/checkout', { key, providerId: String(providerId) }, { cookie });
  expect(placed.status).toBe(303);
  const id = placed.headers.get('location')?.match(/^\/orders\/(ord_[a-z2-7]{24})\/pay$/)?.[1];
  if (!id) throw new Error(`checkout went to ${placed.headers.get('location')}`);
  return id;
}

async function payOrder(front: Web, shopper: Shopper, orderId: string) {
  const key = formKey(await (await front.browse(`/orders/${orderId}/pay`, { cookie: shopper.cookie })).text());
  const response = await front.submit(`/orders/${orderId}/pay`, { key, ...goodCard }, { cookie: shopper.cookie });
  expect(response.status).toBe(303);
  expect(response.headers.get('location')).toBe(`/orders/${orderId}?placed=1`);
}

function expectHtmlPage(response: Response, page: string) {
  expect(response.headers.get('content-type')).toStartWith('text/html');
  expect(page).toStartWith('<!doctype html>');
  expect(page).toContain('<header class="site-header">');
}

const errorLines = (lines: string[]) => lines.filter((line) => line.includes('"level":"error"'));

describe('outages', () => {
  test('with purchase down, the catalog and a book still show, buying says unavailable, and the cart offers a retry', async () => {
    const orphan = startTestWeb({ auth: shop.auth.url, catalog: shop.catalogUrl, purchase: downUrl });
    try {
      const started = Date.now();
      const catalogPage = await orphan.browse('/catalog', { cookie: buyer.cookie });
      expect(catalogPage.status).toBe(200);
      expect(await catalogPage.text()).toContain('The Buying Book');

      const bookPage = await orphan.browse(`/books/${book.id}`, { cookie: buyer.cookie });
      expect(bookPage.status).toBe(200);
      const bookHtml = await bookPage.text();
      expectHtmlPage(bookPage, bookHtml);
      expect(bookHtml).toContain('<h1>The Buying Book</h1>');
      expect(bookHtml).toContain('$12.00');
      expect(bookHtml).toContain('Buying is unavailable right now');
      expect(bookHtml).not.toContain('id="buy-box"');

      const cart = await orphan.browse('/cart', { cookie: buyer.cookie });
      expect(cart.status).toBe(200);
      const cartHtml = await cart.text();
      expectHtmlPage(cart, cartHtml);
      expect(cartHtml).toContain('Buying is unavailable right now');
      expect(cartHtml).toContain('<a class="button" href="/cart">Retry</a>');
      expect(cartHtml).toContain('Signed in as <strong>Buyer Bea</strong>');

      // A form sent while purchase is down says so, and that nothing changed.
      const add = await orphan.submit('/cart/items', { bookId: String(book.id), quantity: '1' }, { cookie: buyer.cookie });
      expect(add.status).toBe(503);
      const addHtml = await add.text();
      expectHtmlPage(add, addHtml);
      expect(addHtml).toContain('Nothing was changed');
      // Refused connections: answered quickly, not after a hang.
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      orphan.close();
    }
  }, 15_000);

  test('with catalog stopped after an order was placed and paid, my orders and the order page still show it', async () => {
    // A catalog of its own (same data), so stopping it leaves the other tests theirs.
    const catalogServer = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: shop.catalog.app.fetch, idleTimeout: 30 });
    const catalogUrl = `http://127.0.0.1:${catalogServer.port}`;
    const ownPurchase = await startTestPurchase(shop.auth.url, { catalogUrl });
    const front = startTestWeb({ auth: shop.auth.url, catalog: catalogUrl, purchase: ownPurchase.baseUrl });
    let stopped = false;
    try {
      const reader = await logIn(front, 'Loyal Reader');
      const saved = await shop.catalog.addBook(tokenOf(seller), { title: 'Snapshot Stories', author: 'Ann Author', priceCents: 2350, stock: 5 });
      const orderId = await placeOrder(front, reader, saved.id, 4); // Servientrega, $15.00
      await payOrder(front, reader, orderId);

      await catalogServer.stop(true);
      stopped = true;
      // The catalog really is gone: its own pages say so.
      expect(await (await front.browse(`/books/${saved.id}`)).text()).toContain('This book is unavailable right now');

      const list = await front.browse('/orders', { cookie: reader.cookie });
      expect(list.status).toBe(200);
      const listHtml = await list.text();
      expectHtmlPage(list, listHtml);
      expect(listHtml).toContain(`href="/orders/${orderId}"`);
      expect(listHtml).toContain('Snapshot Stories');
      expect(listHtml).toContain('$38.50');
      expect(listHtml).toContain('Paid');

      const detail = await front.browse(`/orders/${orderId}`, { cookie: reader.cookie });
      expect(detail.status).toBe(200);
      const detailHtml = await detail.text();
      expectHtmlPage(detail, detailHtml);
      expect(detailHtml).toContain(`<h1>Order ${orderId}</h1>`);
      expect(detailHtml).toContain('Snapshot Stories');
      expect(detailHtml).toContain('$23.50'); // the book, as it cost when ordered
      expect(detailHtml).toContain('Delivery: Servientrega');
      expect(detailHtml).toContain('$15.00');
      expect(detailHtml).toContain('<strong>$38.50</strong>');
      expect(detailHtml).toContain('Card ending 4242');
      expect(detailHtml).not.toContain('unavailable right now');
    } finally {
      front.close();
      if (!stopped) await catalogServer.stop(true);
      await ownPurchase.close();
    }
  }, 30_000);
});

/**
 * A purchase form sent with bad input. "{book}", "{unpaid}", "{paid}", "{others}", "{missing}" and
 * "{key}" stand for the test book, the orders, an order id nobody has, and a fresh per-form key.
 * 303 rows are where the web front redirects; `message` is what the shopper reads.
 */
type Row = {
  name: string;
  as?: 'buyer' | 'other' | 'seller';
  path: string;
  fields: Record<string, string>;
  status: number;
  message: string;
  /** When htmx gets something else than the plain form's answer as a fragment (a 303 becomes HX-Redirect). */
  htmx?: { status: number; message: string };
};

const card = (fields: Record<string, string>) => ({ key: '{key}', ...goodCard, ...fields });
const withoutField = (fields: Record<string, string>, name: string) => Object.fromEntries(Object.entries(fields).filter(([field]) => field !== name));
const noSuchBook = 'There is no such book.';
const noPage = 'There is nothing at this address.';
const noOrder = 'There is no order';

const rows: Row[] = [
  // POST /cart/items
  { name: 'add: no bookId', path: '/cart/items', fields: { quantity: '1' }, status: 400, message: noSuchBook },
  { name: 'add: bookId garbage', path: '/cart/items', fields: { bookId: 'abc', quantity: '1' }, status: 400, message: noSuchBook },
  { name: 'add: bookId huge', path: '/cart/items', fields: { bookId: '99999999999999999999', quantity: '1' }, status: 400, message: noSuchBook },
  { name: 'add: bookId not in the catalog', path: '/cart/items', fields: { bookId: '2147483647', quantity: '1' }, status: 404, message: 'There is no book 2147483647 in the catalog' },
  { name: 'add: quantity garbage', path: '/cart/items', fields: { bookId: '{book}', quantity: 'lots' }, status: 400, message: 'Choose a quantity from 1 to 100.' },
  { name: 'add: quantity 0', path: '/cart/items', fields: { bookId: '{book}', quantity: '0' }, status: 400, message: 'Choose a quantity from 1 to 100.' },
  { name: 'add: quantity huge', path: '/cart/items', fields: { bookId: '{book}', quantity: '1e400' }, status: 400, message: 'Choose a quantity from 1 to 100.' },
  { name: 'add: NUL in quantity', path: '/cart/items', fields: { bookId: '{book}', quantity: '1\u0000' }, status: 400, message: 'Choose a quantity from 1 to 100.' },
  { name: 'add: NUL in bookId', path: '/cart/items', fields: { bookId: '\u0000', quantity: '1' }, status: 400, message: noSuchBook },
  { name: 'add: more than the stock', path: '/cart/items', fields: { bookId: '{book}', quantity: '100' }, status: 409, message: '“The Buying Book” has only 47 left' },
  { name: 'add: own book', as: 'seller', path: '/cart/items', fields: { bookId: '{book}', quantity: '1' }, status: 409, message: 'This is your own book: you cannot buy it' },
  // POST /cart/items/:bookId
  { name: 'set: missing quantity', path: '/cart/items/{book}', fields: {}, status: 400, message: 'Choose a quantity from 0 to 100.' },
  { name: 'set: quantity garbage', path: '/cart/items/{book}', fields: { quantity: 'two' }, status: 400, message: 'Choose a quantity from 0 to 100.' },
  { name: 'set: quantity negative', path: '/cart/items/{book}', fields: { quantity: '-1' }, status: 400, message: 'Choose a quantity from 0 to 100.' },
  { name: 'set: quantity huge', path: '/cart/items/{book}', fields: { quantity: '100000000000000000000' }, status: 400, message: 'Choose a quantity from 0 to 100.' },
  { name: 'set: NUL in quantity', path: '/cart/items/{book}', fields: { quantity: '\u0000' }, status: 400, message: 'Choose a quantity from 0 to 100.' },
  { name: 'set: more than the stock', path: '/cart/items/{book}', fields: { quantity: '60' }, status: 409, message: '“The Buying Book” has only 47 left' },
  { name: 'set: book not in the catalog', path: '/cart/items/2147483647', fields: { quantity: '1' }, status: 404, message: 'There is no book 2147483647 in the catalog' },
  { name: 'set: bookId huge', path: '/cart/items/9999999999', fields: { quantity: '1' }, status: 404, message: noSuchBook },
  { name: 'set: bookId garbage', path: '/cart/items/abc', fields: { quantity: '1' }, status: 404, message: noPage },
  // POST /cart/items/:bookId/remove
  { name: 'remove: bookId garbage', path: '/cart/items/abc/remove', fields: {}, status: 404, message: noPage },
  { name: 'remove: bookId huge', path: '/cart/items/9999999999/remove', fields: {}, status: 404, message: noSuchBook },
  { name: 'remove: a book not in the cart', path: '/cart/items/2147483647/remove', fields: {}, status: 303, message: '/cart', htmx: { status: 200, message: '<section id="cart">' } },
  // POST /checkout
  { name: 'checkout: missing providerId', path: '/checkout', fields: { key: '{key}' }, status: 400, message: 'Choose a delivery provider.' },
  { name: 'checkout: providerId garbage', path: '/checkout', fields: { key: '{key}', providerId: 'DHL' }, status: 400, message: 'Choose a delivery provider.' },
  { name: 'checkout: providerId huge', path: '/checkout', fields: { key: '{key}', providerId: '99999999999999999999' }, status: 400, message: 'Choose a delivery provider.' },
  { name: 'checkout: NUL in providerId', path: '/checkout', fields: { key: '{key}', providerId: '1\u0000' }, status: 400, message: 'Choose a delivery provider.' },
  { name: 'checkout: unknown provider', path: '/checkout', fields: { key: '{key}', providerId: '999' }, status: 400, message: 'Choose one of the delivery providers' },
  { name: 'checkout: missing key', path: '/checkout', fields: { providerId: '1' }, status: 400, message: 'The form expired; please place the order again.' },
  { name: 'checkout: key garbage', path: '/checkout', fields: { key: '<x>', providerId: '1' }, status: 400, message: 'The form expired; please place the order again.' },
  { name: 'checkout: key long', path: '/checkout', fields: { key: 'k'.repeat(1000), providerId: '1' }, status: 400, message: 'The form expired; please place the order again.' },
  { name: 'checkout: key huge', path: '/checkout', fields: { key: 'k'.repeat(100_000), providerId: '1' }, status: 413, message: 'The request body is too large' },
  { name: 'checkout: empty cart', as: 'other', path: '/checkout', fields: { key: '{key}', providerId: '1' }, status: 400, message: 'Your cart is empty' },
  // POST /orders/:id/pay
  { name: 'pay: no card at all', path: '/orders/{unpaid}/pay', fields: { key: '{key}' }, status: 400, message: 'Please check the card details' },
  { name: 'pay: missing card number', path: '/orders/{unpaid}/pay', fields: withoutField(card({}), 'cardNumber'), status: 400, message: 'Enter the card number: the 12 to 19 digits on the front of your card.' },
  { name: 'pay: card number garbage', path: '/orders/{unpaid}/pay', fields: card({ cardNumber: 'four two four two' }), status: 400, message: 'Enter the card number: the 12 to 19 digits on the front of your card.' },
  { name: 'pay: card number huge', path: '/orders/{unpaid}/pay', fields: card({ cardNumber: '4'.repeat(10_000) }), status: 400, message: 'Enter the card number: the 12 to 19 digits on the front of your card.' },
  { name: 'pay: invalid card number', path: '/orders/{unpaid}/pay', fields: card({ cardNumber: '4242 4242 4242 4241' }), status: 400, message: 'This card number is not valid: check the digits against your card.' },
  { name: 'pay: expired card', path: '/orders/{unpaid}/pay', fields: card({ expMonth: '1', expYear: String(thisYear - 1) }), status: 400, message: 'This card has expired: check the expiry date, or use another card.' },
  { name: 'pay: month 13', path: '/orders/{unpaid}/pay', fields: card({ expMonth: '13' }), status: 400, message: 'Enter the expiry month as a number from 1 to 12.' },
  { name: 'pay: year garbage', path: '/orders/{unpaid}/pay', fields: card({ expYear: 'soon' }), status: 400, message: 'Enter the expiry year as four digits, like' },
  { name: 'pay: year huge', path: '/orders/{unpaid}/pay', fields: card({ expYear: '99999999999999' }), status: 400, message: 'Enter the expiry year as four digits, like' },
  { name: 'pay: NUL cvc', path: '/orders/{unpaid}/pay', fields: card({ cvc: '\u0000\u0000\u0000' }), status: 400, message: 'Enter the security code (CVC): the 3 or 4 digits on the back of your card.' },
  { name: 'pay: missing holder', path: '/orders/{unpaid}/pay', fields: card({ holder: '' }), status: 400, message: 'Enter the name as it is printed on the card.' },
  { name: 'pay: declined card', path: '/orders/{unpaid}/pay', fields: card({ cardNumber: '4000 0000 0000 0002' }), status: 402, message: 'The card was declined. Try another card.' },
  { name: 'pay: missing key', path: '/orders/{unpaid}/pay', fields: withoutField(card({}), 'key'), status: 400, message: 'The form expired; please enter the card again.' },
  { name: 'pay: key long', path: '/orders/{unpaid}/pay', fields: card({ key: 'k'.repeat(1000) }), status: 400, message: 'The form expired; please enter the card again.' },
  { name: 'pay: unknown order', path: '/orders/{missing}/pay', fields: card({}), status: 404, message: noOrder },
  { name: "pay: someone else's order", path: '/orders/{others}/pay', fields: card({}), status: 404, message: noOrder },
  { name: 'pay: an order already paid', path: '/orders/{paid}/pay', fields: card({}), status: 409, message: 'This order cannot be paid: it is paid' },
  { name: 'pay: order id garbage', path: '/orders/ord_123/pay', fields: card({}), status: 404, message: noPage },
  // POST /orders/:id/delivery
  { name: 'delivery: missing providerId', path: '/orders/{unpaid}/delivery', fields: {}, status: 400, message: 'Choose one of the delivery providers' },
  { name: 'delivery: providerId garbage', path: '/orders/{unpaid}/delivery', fields: { providerId: 'fast' }, status: 400, message: 'Choose one of the delivery providers' },
  { name: 'delivery: providerId huge', path: '/orders/{unpaid}/delivery', fields: { providerId: '99999999999999999999' }, status: 400, message: 'Choose one of the delivery providers' },
  { name: 'delivery: providerId infinite', path: '/orders/{unpaid}/delivery', fields: { providerId: '1e400' }, status: 400, message: 'Choose one of the delivery providers' },
  { name: 'delivery: providerId negative', path: '/orders/{unpaid}/delivery', fields: { providerId: '-1' }, status: 400, message: 'Choose one of the delivery providers' },
  { name: 'delivery: NUL in providerId', path: '/orders/{unpaid}/delivery', fields: { providerId: '2\u0000' }, status: 400, message: 'Choose one of the delivery providers' },
  { name: 'delivery: unknown order', path: '/orders/{missing}/delivery', fields: { providerId: '2' }, status: 404, message: noOrder },
  { name: "delivery: someone else's order", path: '/orders/{others}/delivery', fields: { providerId: '2' }, status: 404, message: noOrder },
  { name: 'delivery: an order already paid', path: '/orders/{paid}/delivery', fields: { providerId: '2' }, status: 409, message: 'The delivery can only be changed while the order awaits payment' },
  // POST /orders/:id/cancel
  { name: 'cancel: unknown order', path: '/orders/{missing}/cancel', fields: {}, status: 404, message: noOrder },
  { name: "cancel: someone else's order", path: '/orders/{others}/cancel', fields: {}, status: 404, message: noOrder },
  { name: 'cancel: an order already paid', path: '/orders/{paid}/cancel', fields: {}, status: 409, message: 'This order cannot be cancelled: it is paid' },
  { name: 'cancel: order id garbage', path: '/orders/ORD_X/cancel', fields: {}, status: 404, message: noPage },
  // POST /sales/:id/:bookId/ship
  { name: 'ship: unknown order', as: 'seller', path: '/sales/{missing}/{book}/ship', fields: {}, status: 404, message: 'There is no item' },
  { name: "ship: someone else's sale", as: 'other', path: '/sales/{paid}/{book}/ship', fields: {}, status: 404, message: 'There is no item' },
  { name: 'ship: an order not paid', as: 'seller', path: '/sales/{unpaid}/{book}/ship', fields: {}, status: 409, message: 'Only paid orders can be shipped' },
  { name: 'ship: a book not in the order', as: 'seller', path: '/sales/{paid}/2147483647/ship', fields: {}, status: 404, message: 'There is no item 2147483647' },
  { name: 'ship: bookId huge', as: 'seller', path: '/sales/{paid}/9999999999/ship', fields: {}, status: 404, message: 'There is no such sale.' },
  { name: 'ship: bookId garbage', as: 'seller', path: '/sales/{paid}/abc/ship', fields: {}, status: 404, message: noPage },
];

/** The forms the web front serves, each with a valid path for the buyer. */
const formPaths = ['/cart/items', '/cart/items/{book}', '/cart/items/{book}/remove', '/checkout', '/orders/{unpaid}/pay', '/orders/{unpaid}/delivery', '/orders/{unpaid}/cancel', '/sales/{paid}/{book}/ship'];

function fill(text: string): string {
  const ids: Record<string, string> = { book: String(book.id), unpaid, paid, others: othersOrder, missing: missingOrder };
  return text.replace(/\{(book|unpaid|paid|others|missing|key)\}/g, (_, name: string) => (name === 'key' ? `k-${crypto.randomUUID()}` : ids[name]!));
}

function send(row: Pick<Row, 'as' | 'path' | 'fields'>, options: { htmx?: boolean } = {}) {
  const cookie = { buyer, other, seller }[row.as ?? 'buyer'].cookie;
  const fields = Object.fromEntries(Object.entries(row.fields).map(([name, value]) => [name, fill(value)]));
  return web.browse(fill(row.path), {
    method: 'POST',
    cookie,
    htmx: options.htmx,
    body: new URLSearchParams(fields),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: browserAccept },
  });
}

async function cartCount(cookie: string): Promise<number> {
  const page = await (await web.browse('/cart', { cookie })).text();
  return Number(page.match(/id="cart-badge"[^>]*>Cart(?: <span class="badge">(\d+)<\/span>)?/)?.[1] ?? 0);
}

describe('bad input on every purchase form', () => {
  test.each(rows)('$name: $status with a clear message, as a page', async (row) => {
    const response = await send(row);
    const body = await response.text();
    expect(response.status).toBe(row.status);
    if (row.status === 303) {
      expect(response.headers.get('location')).toBe(row.message);
      return;
    }
    expectHtmlPage(response, body);
    expect(body).toContain(row.message);
  }, 15_000);

  test.each(rows)('$name: the same with htmx, as a fragment', async (row) => {
    const response = await send(row, { htmx: true });
    const body = await response.text();
    const expected = row.htmx ?? row;
    if (expected.status === 303) {
      expect(response.status).toBe(204);
      expect(response.headers.get('hx-redirect')).toBe(expected.message);
      return;
    }
    expect(response.status).toBe(expected.status);
    expect(response.headers.get('content-type')).toStartWith('text/html');
    expect(body).not.toContain('<!doctype html>');
    expect(body).toContain(expected.message);
  }, 15_000);

  test('none of it changed anything or logged an error', async () => {
    expect(await cartCount(buyer.cookie)).toBe(1);
    const order = await (await web.browse(`/orders/${unpaid}`, { cookie: buyer.cookie })).text();
    expect(order).toContain('Awaiting payment');
    expect(order).toContain('Delivery: Envia');
    expect(await (await web.browse(`/orders/${paid}`, { cookie: buyer.cookie })).text()).not.toContain('Shipped');
    expect(await (await web.browse(`/orders/${othersOrder}`, { cookie: other.cookie })).text()).toContain('Awaiting payment');
    expect(errorLines(web.log.lines)).toEqual([]);
    expect(errorLines(purchase.log.lines)).toEqual([]);
  });

  test.each(formPaths)('POST %s from another site is a 403 page and changes nothing', async (path) => {
    const before = await cartCount(buyer.cookie);
    const response = await web.app.request(`${webOrigin}${fill(path)}`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', cookie: buyer.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: browserAccept },
      body: new URLSearchParams({ bookId: String(book.id), quantity: '3', providerId: '1', key: fill('{key}'), ...goodCard }),
    });
    expect(response.status).toBe(403);
    const body = await response.text();
    expectHtmlPage(response, body);
    expect(body).toContain('Not allowed');
    expect(body).not.toContain('"status"');
    expect(await cartCount(buyer.cookie)).toBe(before);
  });

  test.each(formPaths)('POST %s without a session is sent to log in', async (path) => {
    const response = await web.submit(fill(path), { bookId: String(book.id), quantity: '1', providerId: '1', key: fill('{key}') });
    expect(response.status).toBe(303);
    const location = response.headers.get('location') ?? '';
    expect(location).toStartWith('/login?next=');
    expect(decodeURIComponent(location.slice('/login?next='.length))).toBe(path === '/cart/items' ? '/cart' : fill(path));
  });
});

describe('a refused form says what to fix, where, and puts the cursor there', () => {
  test('card fields: each field in error carries its sentence (aria-describedby) and the first one the focus, as a page and as an htmx fragment', async () => {
    for (const htmx of [false, true]) {
      const response = await send({ path: '/orders/{unpaid}/pay', fields: card({ cardNumber: '4242 4242 4242 4241', cvc: '1' }) }, { htmx });
      expect(response.status).toBe(400);
      const body = await response.text();
      expect(body).toMatch(/<input id="field-cardNumber"[^>]* aria-invalid="true" aria-describedby="field-cardNumber-error" autofocus>/);
      expect(body).toContain('<p class="field-error" id="field-cardNumber-error">This card number is not valid: check the digits against your card.</p>');
      expect(body).toMatch(/<input id="field-cvc"[^>]* aria-invalid="true" aria-describedby="field-cvc-error">/);
      expect(body.match(/ autofocus/g)?.length).toBe(1);
      // What was typed stays, but the security code is never sent back.
      expect(body).toContain('value="4242 4242 4242 4241"');
      expect(body).not.toMatch(/id="field-cvc"[^>]* value=/);
    }
  });

  test('a declined card: the message above the form takes the focus', async () => {
    const response = await send({ path: '/orders/{unpaid}/pay', fields: card({ cardNumber: '4000 0000 0000 0002' }) }, { htmx: true });
    expect(response.status).toBe(402);
    expect(await response.text()).toContain('<p class="alert" role="alert" tabindex="-1" autofocus>The card was declined. Try another card.</p>');
  });
});

describe('htmx', () => {
  test('"Add to cart" answers the buy box saying so and swaps the cart badge out of band', async () => {
    const hannah = await logIn(web, 'Htmx Hannah');
    const bookPage = await (await web.browse(`/books/${book.id}`, { cookie: hannah.cookie })).text();
    expect(bookPage).toContain('<form id="buy-box"');
    expect(bookPage).toContain('hx-post="/cart/items"');

    const response = await web.submit('/cart/items', { bookId: String(book.id), quantity: '2' }, { cookie: hannah.cookie, htmx: true });
    expect(response.status).toBe(200);
    // As a browser keeps them: the "just changed something" cookie makes the next pages read fresh.
    hannah.cookie = cookiesFrom(response, hannah.cookie);
    expect(response.headers.get('content-type')).toStartWith('text/html');
    const fragment = await response.text();
    expect(fragment).toStartWith('<form id="buy-box"');
    expect(fragment).not.toContain('<!doctype html>');
    expect(fragment).not.toContain('site-header');
    expect(fragment).toContain('Added to your cart');
    const badge = fragment.match(/<a id="cart-badge"[^>]*>.*?<\/a>/s)?.[0] ?? '';
    expect(badge).toContain('hx-swap-oob="true"');
    expect(badge).toContain('<span class="badge">2</span><span class="visually-hidden"> items</span>');

    // Again: the count follows.
    const again = await (await web.submit('/cart/items', { bookId: String(book.id), quantity: '1' }, { cookie: hannah.cookie, htmx: true })).text();
    expect(again).toContain('<span class="badge">3</span><span class="visually-hidden"> items</span>');

    // Changing the carrier asks for the total line alone: the books plus that carrier's price.
    const prices = { 1: 5000, 2: 4500, 3: 2000, 4: 1500 };
    for (const [providerId, deliveryCents] of Object.entries(prices)) {
      const total = await web.browse(`/checkout/total?providerId=${providerId}`, { cookie: hannah.cookie, htmx: true });
      expect(total.status).toBe(200);
      const line = await total.text();
      expect(line).toStartWith('<p id="checkout-total"');
      expect(line).not.toContain('site-header');
      const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;
      expect(line).toContain(`Books ${dollars(3600)} + delivery ${dollars(deliveryCents)} = <strong>${dollars(3600 + deliveryCents)}</strong>`);
    }

    // A full page of the cart shows the badge in the header.
    const cart = await web.browse('/cart', { cookie: hannah.cookie });
    const page = await cart.text();
    expectHtmlPage(cart, page);
    const header = page.slice(page.indexOf('<header class="site-header">'), page.indexOf('</header>'));
    expect(header).toContain('<a id="cart-badge" class="cart-badge" href="/cart">Cart <span class="badge">3</span><span class="visually-hidden"> items</span></a>');
    expect(page).toContain('Subtotal (3 copies): <strong>$36.00</strong>');
  }, 15_000);
});

describe('errors to a browser are pages in the layout', () => {
  const expectErrorPage = async (response: Response, status: number, text: string) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).not.toContain('json');
    const body = await response.text();
    expectHtmlPage(response, body);
    expect(body).toContain(text);
  };

  test('an unknown address', async () => {
    await expectErrorPage(await web.browse('/no/such/page', { cookie: buyer.cookie, headers: { accept: browserAccept } }), 404, 'Page not found');
    await expectErrorPage(await web.browse('/orders/not-an-order', { cookie: buyer.cookie, headers: { accept: browserAccept } }), 404, 'Page not found');
  });

  test('an order id that looks right but does not exist', async () => {
    const response = await web.browse(`/orders/${missingOrder}`, { cookie: buyer.cookie, headers: { accept: browserAccept } });
    await expectErrorPage(response, 404, `There is no order ${missingOrder}`);
    // Nor someone else's: the same answer as no order.
    await expectErrorPage(await web.browse(`/orders/${othersOrder}`, { cookie: buyer.cookie }), 404, `There is no order ${othersOrder}`);
  });

  test('a form refused by CSRF protection', async () => {
    const response = await web.app.request(`${webOrigin}/checkout`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', cookie: buyer.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ providerId: '1', key: fill('{key}') }),
    });
    await expectErrorPage(response, 403, 'Not allowed');
  });
});
