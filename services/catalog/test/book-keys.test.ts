/** A book added twice by the same request (a retry after a lost answer, a double click) is added once. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { bearer, jsonInit } from '@bookstore/shared/testing/http';
import { sessionCookieFrom, startTestWeb } from '../../../web/test/support.ts';
import type { BookJson, BookPage } from '../src/schemas.ts';
import { serveCatalogWithSeller } from './support.ts';

let shop: Awaited<ReturnType<typeof serveCatalogWithSeller>>;
let web: ReturnType<typeof startTestWeb>;
beforeAll(async () => {
  shop = await serveCatalogWithSeller();
  web = startTestWeb({ auth: shop.auth.url, catalog: shop.catalogUrl });
});
afterAll(async () => {
  web.close();
  await shop.close();
});

const titlesOf = async (token: string) =>
  ((await (await shop.catalog.app.request('/api/sellers/me/books', { headers: bearer(token) })).json()) as BookPage).items.map((book) => book.title);

test('the API: one Idempotency-Key, sent again or five times at once, adds one book', async () => {
  const { token } = await shop.auth.signUp('Keyed Seller');
  const body = { title: 'Once Only', author: 'A. Key', priceCents: 900, stock: 2 };
  const add = () => shop.catalog.app.request('/api/books', jsonInit('POST', body, { ...bearer(token), 'idempotency-key': 'add-once-only-1' }));
  const first = await add();
  expect(first.status).toBe(201);
  const again = await Promise.all(Array.from({ length: 5 }, add));
  const ids = [first, ...again].map(async (response) => ((await response.json()) as BookJson).id);
  expect(new Set(await Promise.all(ids)).size).toBe(1);
  expect(again.map((response) => response.status)).toEqual([201, 201, 201, 201, 201]);
  expect(await titlesOf(token)).toEqual(['Once Only']);
  // Another key is another book; a malformed key is refused.
  expect((await shop.catalog.app.request('/api/books', jsonInit('POST', body, { ...bearer(token), 'idempotency-key': 'add-once-only-2' }))).status).toBe(201);
  expect((await shop.catalog.app.request('/api/books', jsonInit('POST', body, { ...bearer(token), 'idempotency-key': 'bad key!' }))).status).toBe(400);
  expect(await titlesOf(token)).toEqual(['Once Only', 'Once Only']);
});

test('the sell form carries a key: the same form sent twice adds one book', async () => {
  const seller = await shop.auth.signUp('Double Clicker');
  const cookie = sessionCookieFrom(await web.submit('/login', { email: seller.email, password: seller.password }));
  const form = await (await web.browse('/sell/new', { cookie })).text();
  const key = form.match(/name="key" value="([^"]+)"/)?.[1];
  expect(key).toMatch(/^[A-Za-z0-9_:.-]{8,100}$/);
  const fields = { title: 'Clicked Twice', author: 'B. Hasty', description: '', price: '7.50', stock: '3', key: key! };
  const answers = await Promise.all([web.submit('/sell/new', fields, { cookie }), web.submit('/sell/new', fields, { cookie })]);
  expect(answers.map((answer) => answer.status)).toEqual([303, 303]);
  expect((await web.submit('/sell/new', fields, { cookie })).status).toBe(303);
  expect(await titlesOf(seller.token)).toEqual(['Clicked Twice']);
  // A form with errors keeps its key, so fixing and sending it still adds one book.
  const invalid = await (await web.submit('/sell/new', { ...fields, title: '', key: 'kept-key-123' }, { cookie })).text();
  expect(invalid).toContain('value="kept-key-123"');
});

test('a key answers only its own request, and only while its book is in the catalog', async () => {
  const { token } = await shop.auth.signUp('Careful Seller');
  const body = { title: 'Keyed Once', author: 'K', priceCents: 700, stock: 3 };
  const add = (fields: Partial<typeof body>, key: string) => shop.catalog.app.request('/api/books', jsonInit('POST', { ...body, ...fields }, { ...bearer(token), 'idempotency-key': key }));
  const first = (await (await add({}, 'careful-key-1')).json()) as BookJson;
  // The same key for another book: refused, not answered with the first book.
  const other = await add({ title: 'Completely Different' }, 'careful-key-1');
  expect(other.status).toBe(409);
  // The book is ordered (reserved), then removed: it is retired, and its key no longer says "created".
  const reserved = await shop.catalog.asService('/api/reservations', 'POST', { orderId: `ord_${'k'.repeat(24)}`, items: [{ bookId: first.id, quantity: 1 }] });
  expect(reserved.status).toBe(201);
  expect((await shop.catalog.app.request(`/api/books/${first.id}`, { method: 'DELETE', headers: bearer(token) })).status).toBe(204);
  const again = await add({}, 'careful-key-1');
  expect(again.status).toBe(409);
  expect(((await again.json()) as { detail: string }).detail).toContain('removed');
});

test('one seller adding many books at once (several tabs, a parallel API client): every one is added, none refused', async () => {
  const { token } = await shop.auth.signUp('Busy Seller');
  for (let round = 0; round < 3; round++) {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => shop.catalog.app.request('/api/books', jsonInit('POST', { title: `Parallel ${round}-${i}`, author: 'Many Tabs', priceCents: 500, stock: 1 }, bearer(token)))),
    );
    expect(answers.map((response) => response.status)).toEqual(Array(20).fill(201));
  }
  expect(await titlesOf(token)).toHaveLength(60);
});
