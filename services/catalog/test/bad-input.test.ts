/** Malformed requests to every catalog API endpoint get a 4xx problem with a clear message, never a 5xx. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { bearer } from '@bookstore/shared/testing/http';
import type { BookJson } from '../src/schemas.ts';
import { startCatalogWithSeller, type TestCatalog } from './support.ts';

let catalog: TestCatalog;
let token: string;
let book: BookJson;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ catalog, seller: token, close } = await startCatalogWithSeller());
  book = await catalog.addBook(token, { description: 'Kept exactly as written.' });
});
afterAll(() => close());

const json = 'application/json';
const form = 'application/x-www-form-urlencoded';
const multipart = 'multipart/form-data; boundary=b';
/** A well-formed multipart body with the fields of a valid book: JSON endpoints must still refuse it. */
const multipartBody = ['title', 'author', 'priceCents', 'stock']
  .map((name) => `--b\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${name === 'priceCents' ? 1000 : name === 'stock' ? 5 : 'Text'}\r\n`)
  .join('') + '--b--\r\n';
const valid = { title: 'A Title', author: 'An Author', description: '', priceCents: 1000, stock: 5 };
const newBook = (fields: Record<string, unknown>) => JSON.stringify({ ...valid, ...fields });
const withoutTitle = JSON.stringify({ author: 'An Author', priceCents: 1000, stock: 5 });
/** A reservation of the test book, with some fields replaced ("{id}" is the book's id). */
const reservation = (fields: Record<string, unknown> = {}) => JSON.stringify({ orderId: 'order-1', items: [{ bookId: '{id}', quantity: 1 }], ...fields });
const item = (fields: Record<string, unknown>) => reservation({ items: [{ bookId: '{id}', quantity: 1, ...fields }] });

/** Who calls: the seller with a bearer token, the purchase service (catalog.asService), or nobody. */
type Caller = 'seller' | 'service' | 'anonymous';
/** "{id}" in the path or body stands for the id of the book made in beforeAll. */
type Case = [name: string, expected: number, caller: Caller, method: string, path: string, body: string | undefined, contentType: string | undefined];

const cases: Case[] = [
  // POST /api/books
  ['add: negative price', 400, 'seller', 'POST', '/api/books', newBook({ priceCents: -100 }), json],
  ['add: zero price', 400, 'seller', 'POST', '/api/books', newBook({ priceCents: 0 }), json],
  ['add: price as a string', 400, 'seller', 'POST', '/api/books', newBook({ priceCents: '10' }), json],
  ['add: price not in whole cents', 400, 'seller', 'POST', '/api/books', newBook({ priceCents: 10.5 }), json],
  ['add: price 10^12', 400, 'seller', 'POST', '/api/books', newBook({ priceCents: 10 ** 12 }), json],
  ['add: stock -1', 400, 'seller', 'POST', '/api/books', newBook({ stock: -1 }), json],
  ['add: stock 10^9', 400, 'seller', 'POST', '/api/books', newBook({ stock: 10 ** 9 }), json],
  ['add: stock 1.5', 400, 'seller', 'POST', '/api/books', newBook({ stock: 1.5 }), json],
  ['add: missing title', 400, 'seller', 'POST', '/api/books', withoutTitle, json],
  ['add: blank title', 400, 'seller', 'POST', '/api/books', newBook({ title: '   ' }), json],
  ['add: title of 301 characters', 400, 'seller', 'POST', '/api/books', newBook({ title: 't'.repeat(301) }), json],
  ['add: author of 201 characters', 400, 'seller', 'POST', '/api/books', newBook({ author: 'a'.repeat(201) }), json],
  ['add: empty JSON object', 400, 'seller', 'POST', '/api/books', '{}', json],
  ['add: no body', 400, 'seller', 'POST', '/api/books', undefined, json],
  ['add: invalid JSON', 400, 'seller', 'POST', '/api/books', '{"title":', json],
  ['add: JSON array', 400, 'seller', 'POST', '/api/books', '[1,2]', json],
  ['add: JSON null', 400, 'seller', 'POST', '/api/books', 'null', json],
  ['add: form instead of JSON', 415, 'seller', 'POST', '/api/books', 'title=a&author=b&priceCents=100&stock=1', form],
  ['add: text/plain', 415, 'seller', 'POST', '/api/books', newBook({}), 'text/plain'],
  ['add: multipart instead of JSON', 415, 'seller', 'POST', '/api/books', multipartBody, multipart],
  ['add: body over the limit', 413, 'seller', 'POST', '/api/books', newBook({ description: 'd'.repeat(70_000) }), json],
  ['add: valid book without a token', 401, 'anonymous', 'POST', '/api/books', newBook({}), json],

  // PATCH /api/books/:id
  ['change: empty object', 400, 'seller', 'PATCH', '/api/books/{id}', '{}', json],
  ['change: id is not a number', 400, 'seller', 'PATCH', '/api/books/abc', '{"stock":1}', json],
  ['change: id 0', 400, 'seller', 'PATCH', '/api/books/0', '{"stock":1}', json],
  ['change: id 99999999999', 400, 'seller', 'PATCH', '/api/books/99999999999', '{"stock":1}', json],
  ['change: negative price', 400, 'seller', 'PATCH', '/api/books/{id}', '{"priceCents":-1}', json],
  ['change: stock as a string', 400, 'seller', 'PATCH', '/api/books/{id}', '{"stock":"3"}', json],
  ['change: invalid JSON', 400, 'seller', 'PATCH', '/api/books/{id}', '{"stock":', json],
  ['change: form instead of JSON', 415, 'seller', 'PATCH', '/api/books/{id}', 'stock=3', form],
  ['change: multipart instead of JSON', 415, 'seller', 'PATCH', '/api/books/{id}', multipartBody, multipart],
  ['change: unknown book', 404, 'seller', 'PATCH', '/api/books/999999', '{"stock":1}', json],

  // DELETE /api/books/:id
  ['remove: id is not a number', 400, 'seller', 'DELETE', '/api/books/abc', undefined, undefined],
  ['remove: negative id', 400, 'seller', 'DELETE', '/api/books/-3', undefined, undefined],
  ['remove: unknown book', 404, 'seller', 'DELETE', '/api/books/999999', undefined, undefined],

  // GET /api/books
  ['list: page 0', 400, 'seller', 'GET', '/api/books?page=0', undefined, undefined],
  ['list: page is not a number', 400, 'seller', 'GET', '/api/books?page=abc', undefined, undefined],
  ['list: unknown sort', 400, 'seller', 'GET', '/api/books?sort=random', undefined, undefined],
  ['list: negative minPrice', 400, 'seller', 'GET', '/api/books?minPrice=-5', undefined, undefined],
  ['list: minPrice is not a number', 400, 'seller', 'GET', '/api/books?minPrice=abc', undefined, undefined],
  ['list: minPrice above maxPrice', 400, 'seller', 'GET', '/api/books?minPrice=500&maxPrice=100', undefined, undefined],
  ['list: inStock is not a boolean', 400, 'seller', 'GET', '/api/books?inStock=maybe', undefined, undefined],
  ['list: q of 201 characters', 400, 'seller', 'GET', `/api/books?q=${'q'.repeat(201)}`, undefined, undefined],
  ['list: author of 201 characters', 400, 'seller', 'GET', `/api/books?author=${'a'.repeat(201)}`, undefined, undefined],

  // GET /api/books/:id
  ['get: id is not a number', 400, 'seller', 'GET', '/api/books/abc', undefined, undefined],
  ['get: id 1.5', 400, 'seller', 'GET', '/api/books/1.5', undefined, undefined],
  ['get: unknown book', 404, 'seller', 'GET', '/api/books/999999', undefined, undefined],
  ['get: unknown book, anonymous', 404, 'anonymous', 'GET', '/api/books/999999', undefined, undefined],

  // GET /api/sellers/me/books
  ['my books: page is not a number', 400, 'seller', 'GET', '/api/sellers/me/books?page=abc', undefined, undefined],
  ['my books: without a token', 401, 'anonymous', 'GET', '/api/sellers/me/books', undefined, undefined],

  // POST /api/reservations (purchase service only)
  ['reserve: empty object', 400, 'service', 'POST', '/api/reservations', '{}', json],
  ['reserve: no items', 400, 'service', 'POST', '/api/reservations', reservation({ items: [] }), json],
  ['reserve: quantity 0', 400, 'service', 'POST', '/api/reservations', item({ quantity: 0 }), json],
  ['reserve: quantity -1', 400, 'service', 'POST', '/api/reservations', item({ quantity: -1 }), json],
  ['reserve: quantity 1.5', 400, 'service', 'POST', '/api/reservations', item({ quantity: 1.5 }), json],
  ['reserve: bookId is not a number', 400, 'service', 'POST', '/api/reservations', item({ bookId: 'x' }), json],
  ['reserve: bookId 0', 400, 'service', 'POST', '/api/reservations', item({ bookId: 0 }), json],
  ['reserve: orderId with spaces', 400, 'service', 'POST', '/api/reservations', reservation({ orderId: 'order with spaces' }), json],
  ['reserve: orderId of 65 characters', 400, 'service', 'POST', '/api/reservations', reservation({ orderId: 'o'.repeat(65) }), json],
  ['reserve: invalid JSON', 400, 'service', 'POST', '/api/reservations', '{"orderId":', json],
  ['reserve: JSON array', 400, 'service', 'POST', '/api/reservations', '[]', json],
  ['reserve: with a user token', 403, 'seller', 'POST', '/api/reservations', reservation(), json],

  // POST /api/reservations/:orderId/commit, DELETE /api/reservations/:orderId
  ['commit: orderId with a space', 400, 'service', 'POST', '/api/reservations/bad%20id/commit', undefined, json],
  ['commit: orderId of 65 characters', 400, 'service', 'POST', `/api/reservations/${'o'.repeat(65)}/commit`, undefined, json],
  ['commit: unknown order', 404, 'service', 'POST', '/api/reservations/unknown-order/commit', undefined, json],
  ['commit: with a user token', 403, 'seller', 'POST', '/api/reservations/unknown-order/commit', undefined, undefined],
  ['release: orderId with a space', 400, 'service', 'DELETE', '/api/reservations/bad%20id', undefined, json],
  ['release: with a user token', 403, 'seller', 'DELETE', '/api/reservations/unknown-order', undefined, undefined],

  // PUT /api/books/:id/cover
  ['cover: JSON instead of multipart', 415, 'seller', 'PUT', '/api/books/{id}/cover', '{"cover":"x.png"}', json],
  ['cover: text/plain', 415, 'seller', 'PUT', '/api/books/{id}/cover', 'not an image', 'text/plain'],
  ['cover: multipart without a boundary', 400, 'seller', 'PUT', '/api/books/{id}/cover', 'not multipart at all', 'multipart/form-data'],
  ['cover: multipart cut short', 400, 'seller', 'PUT', '/api/books/{id}/cover', '--b\r\ncontent-disposition: form-data; name="cover"; filename="x.png"\r\n\r\n\x89PNG', multipart],
  ['cover: id is not a number', 400, 'seller', 'PUT', '/api/books/abc/cover', '{}', json],

  // routes that do not exist
  ['unknown route', 404, 'seller', 'GET', '/api/nothing-here', undefined, undefined],
  ['wrong method', 404, 'seller', 'PUT', '/api/books', '{}', json],
];

test.each(cases)('%s → %d', async (_name, expected, caller, method, template, rawBody, contentType) => {
  const path = template.replaceAll('{id}', String(book.id));
  // The book id goes in as a number ("{id}" quoted in the JSON), unless a case replaced it.
  const body = rawBody?.replaceAll('"{id}"', String(book.id));
  let response: Response;
  if (caller === 'service') {
    expect(contentType).toBe(json); // asService always sends JSON
    response = await catalog.asService(path, method, body);
  } else {
    const headers: Record<string, string> = caller === 'seller' ? bearer(token) : {};
    if (contentType) headers['content-type'] = contentType;
    response = await catalog.app.request(path, { method, headers, body });
  }
  expect(response.status).toBe(expected);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const problem = (await response.json()) as { status: number; detail: string };
  expect(problem.status).toBe(response.status);
  expect(typeof problem.detail).toBe('string');
  expect(problem.detail.length).toBeGreaterThan(5);
  expect(problem.detail).not.toMatch(/at \w+ \(|node_modules|Error:|select |sql/i);
});

test('the bad input changed nothing: the book is as it was made, and nothing was reserved', async () => {
  const response = await catalog.app.request(`/api/books/${book.id}`);
  expect(response.status).toBe(200);
  const now = (await response.json()) as BookJson;
  expect({ ...now, createdAt: undefined, updatedAt: undefined }).toEqual({ ...book, createdAt: undefined, updatedAt: undefined });
  const commit = await catalog.asService('/api/reservations/order-1/commit', 'POST');
  expect(commit.status).toBe(404);
});

test('bad input never produced a logged server error', () => {
  expect(catalog.log.lines.length).toBeGreaterThan(cases.length); // the requests were logged
  expect(catalog.log.lines.filter((line) => line.includes('"level":"error"'))).toEqual([]);
});
