/**
 * Property-based fuzzing (fast-check) of every JSON endpoint of purchase and catalog, over real HTTP
 * with auth served beside them: bodies, ids, query strings and keys generated freely and as
 * mutations of a valid request (a field dropped, replaced by any JSON value, an extra one, strings
 * of any Unicode). Never a 5xx; and afterwards the checkout's invariants still hold.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import type { BookJson } from '@bookstore/shared/contracts/catalog';
import type { OrderJson } from '@bookstore/shared/contracts/purchase';
import { bearer } from '@bookstore/shared/testing/http';
import { serveCatalogWithSeller } from '../../catalog/test/support.ts';
import { brokenInvariants } from './invariants.ts';
import { startTestPurchase, type TestPurchase } from './support.ts';

let shop: Awaited<ReturnType<typeof serveCatalogWithSeller>>;
let purchase: TestPurchase;
let buyer: string;
let book: BookJson;
let order: OrderJson;
const stockPut = new Map<number, number>();

beforeAll(async () => {
  shop = await serveCatalogWithSeller();
  purchase = await startTestPurchase(shop.auth.url, { catalogUrl: shop.catalogUrl });
  buyer = (await shop.auth.signUp('Fuzzy Buyer')).token;
  book = await shop.catalog.addBook(shop.seller, { title: 'Fuzzed Book', priceCents: 1500, stock: 40 });
  stockPut.set(book.id, 40);
  const placed = await purchase.call('/api/orders', 'POST', { items: [{ bookId: book.id, quantity: 1 }], providerId: 1 }, buyer, { 'idempotency-key': `fuzz-${crypto.randomUUID()}` });
  order = (await placed.json()) as OrderJson;
});
afterAll(async () => {
  await purchase?.close();
  await shop?.close();
});

type Body = Record<string, unknown>;
interface Endpoint {
  service: 'purchase' | 'catalog';
  method: string;
  /** `{book}` and `{order}` stand for a real id; the fuzzer also puts anything in their place. */
  path: string;
  body?: Body;
  keyed?: boolean;
  as: 'buyer' | 'seller';
}

const nextYear = new Date().getFullYear() + 1;
const card = { cardNumber: '4242424242424242', expMonth: 12, expYear: nextYear, cvc: '123', holder: 'Fuzzy Buyer' };
const endpoints: Endpoint[] = [
  { service: 'purchase', method: 'PUT', path: '/api/cart/items/{book}', body: { quantity: 1 }, as: 'buyer' },
  { service: 'purchase', method: 'DELETE', path: '/api/cart/items/{book}', as: 'buyer' },
  { service: 'purchase', method: 'POST', path: '/api/orders', body: { items: [{ bookId: '{book}', quantity: 1 }], providerId: 1 }, keyed: true, as: 'buyer' },
  { service: 'purchase', method: 'GET', path: '/api/orders?page=1&pageSize=20', as: 'buyer' },
  { service: 'purchase', method: 'GET', path: '/api/orders/{order}', as: 'buyer' },
  { service: 'purchase', method: 'PUT', path: '/api/orders/{order}/delivery', body: { providerId: 2 }, as: 'buyer' },
  { service: 'purchase', method: 'POST', path: '/api/orders/{order}/payment', body: card, keyed: true, as: 'buyer' },
  { service: 'purchase', method: 'POST', path: '/api/orders/{order}/cancel', as: 'buyer' },
  { service: 'purchase', method: 'GET', path: '/api/sales?page=1', as: 'seller' },
  { service: 'purchase', method: 'POST', path: '/api/orders/{order}/items/{book}/shipment', body: { trackingCode: 'SV-1' }, as: 'seller' },
  { service: 'catalog', method: 'GET', path: '/api/books?q=fuzz&page=1&pageSize=24&sort=newest', as: 'buyer' },
  { service: 'catalog', method: 'POST', path: '/api/books', body: { title: 'T', author: 'A', description: '', priceCents: 100, stock: 1 }, as: 'seller' },
  { service: 'catalog', method: 'PATCH', path: '/api/books/{book}', body: { priceCents: 1500 }, as: 'seller' },
  { service: 'catalog', method: 'GET', path: '/api/sellers/me/books?page=1', as: 'seller' },
];

/** Any JSON value, strings of any Unicode (lone surrogates, NULs, RTL marks) included. */
const anyJson = fc.jsonValue({ maxDepth: 3 });
const oddString = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.constantFrom('', ' ', '\u0000', '\u202e', '%', "'; drop table books; --", 'x'.repeat(10_000), '１２３', '-0', '1e400', 'NaN'));
const oddNumber = fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e308, -1e308));
const anyId = fc.oneof(fc.constantFrom('{real}'), oddString.map(encodeURIComponent), oddNumber.map(String));

/** A request: the endpoint's valid one, or a mutation of it. */
const mutation = (endpoint: Endpoint) =>
  fc.record({
    id: anyId,
    body: endpoint.body
      ? fc.oneof(
          fc.constant(endpoint.body),
          anyJson,
          fc.constantFrom(...Object.keys(endpoint.body)).map((drop) => Object.fromEntries(Object.entries(endpoint.body!).filter(([name]) => name !== drop))),
          fc.tuple(fc.constantFrom(...Object.keys(endpoint.body)), fc.oneof(anyJson, oddString, oddNumber)).map(([name, value]) => ({ ...endpoint.body, [name]: value })),
          fc.tuple(oddString, anyJson).map(([name, value]) => ({ ...endpoint.body, [name]: value })),
        )
      : fc.oneof(fc.constant(undefined), anyJson),
    rawBody: fc.option(oddString, { freq: 8 }),
    key: fc.oneof(fc.constant(`fuzz-${crypto.randomUUID()}`), oddString.map((text) => text.replace(/[\r\n]/g, '')), fc.constant(undefined)),
    query: fc.option(fc.tuple(oddString, oddString), { freq: 4 }),
  });

/** The path with the ids the request drew (`{real}`: the real book and order). */
function withIds(path: string, id: string) {
  return path.replace('{book}', id === '{real}' ? String(book.id) : id).replace('{order}', id === '{real}' ? order.id : id);
}

/** A body's text, its `"{book}"` placeholder the real book's id. */
const bodyText = (body: unknown) => JSON.stringify(body).replaceAll('"{book}"', String(book.id));

test('no generated or mutated request gets a 5xx, and the invariants still hold afterwards', async () => {
  const seen: string[] = [];
  for (const endpoint of endpoints) {
    await fc.assert(
      fc.asyncProperty(mutation(endpoint), async (request) => {
        const base = endpoint.service === 'purchase' ? purchase.baseUrl : shop.catalogUrl;
        let path = withIds(endpoint.path, request.id);
        if (request.query) path += `${path.includes('?') ? '&' : '?'}${encodeURIComponent(request.query[0])}=${encodeURIComponent(request.query[1])}`;
        const headers: Record<string, string> = { ...bearer(endpoint.as === 'buyer' ? buyer : shop.seller), 'content-type': 'application/json' };
        if (endpoint.keyed && request.key !== undefined) headers['idempotency-key'] = request.key;
        const body = request.rawBody ?? (request.body === undefined ? undefined : bodyText(request.body));
        let response: Response;
        try {
          response = await fetch(`${base}${path}`, { method: endpoint.method, headers, body: endpoint.method === 'GET' ? undefined : body });
        } catch (error) {
          // A request the HTTP layer itself refuses to build (an invalid header value) is not the server's answer.
          if (error instanceof TypeError && /header/i.test(error.message)) return;
          throw error;
        }
        await response.arrayBuffer();
        seen.push(`${endpoint.method} ${endpoint.path} ${response.status}`);
        expect({ endpoint: `${endpoint.method} ${endpoint.path}`, path, body: body?.slice(0, 200), status: response.status < 500 ? 'below 500' : response.status }).toMatchObject({ status: 'below 500' });
      }),
      { numRuns: 40, seed: 20261126 },
    );
  }
  // Nearly every request was sent (a few carried header values fetch refuses to send), and they
  // were both accepted and refused: the fuzzer reached the handlers, not only the validators' door.
  expect(seen.length).toBeGreaterThanOrEqual(endpoints.length * 40 * 0.9);
  expect(seen.some((line) => / 2\d\d$/.test(line)) && seen.some((line) => / 4\d\d$/.test(line))).toBe(true);
  expect(await brokenInvariants({ purchase: purchase.db!, catalog: shop.catalog.db! }, stockPut)).toEqual([]);
}, 120_000);
