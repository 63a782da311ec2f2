/**
 * A database that refuses connections or hangs: catalog answers 503 with Retry-After, quickly,
 * never a 500 and never a request left hanging; and it serves again once the database is back.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createTestDatabase, type TestDatabase } from '@bookstore/shared/testing/database';
import { bearer, jsonInit } from '@bookstore/shared/testing/http';
import { startTcpProxy, type TcpProxy } from '@bookstore/shared/testing/tcp-proxy';
import { serveTestAuth, type ServedTestAuth } from '../../auth/test/support.ts';
import { startTestCatalog, type TestCatalog } from './support.ts';

let auth: ServedTestAuth;
let db: TestDatabase;
let proxy: TcpProxy;
let catalog: TestCatalog;
let seller: string;
let bookId: number;
const budgetMs = 1500;

beforeAll(async () => {
  auth = await serveTestAuth();
  db = await createTestDatabase('mariadb');
  const server = new URL(db.url);
  proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 3306) });
  catalog = await startTestCatalog(auth.url, { databaseUrl: proxy.urlFor(db.url), timeBudgetMs: budgetMs });
  seller = (await auth.signUp('Outage Seller')).token;
  bookId = (await catalog.addBook(seller, { title: 'Through The Outage' })).id;
});
afterAll(async () => {
  proxy.set('pass');
  await catalog.close();
  proxy.close();
  await db.drop();
  await auth.close();
});

async function expectUnavailable(request: () => Response | Promise<Response>) {
  const started = performance.now();
  const response = await request();
  expect({ status: response.status, retryAfter: response.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '5' });
  expect(response.headers.get('content-type')).toStartWith('application/problem+json');
  expect(((await response.json()) as { title: string }).title).toBe('Service Unavailable');
  return performance.now() - started;
}

test('a database refusing connections: 503 with Retry-After on reads and writes, then served again', async () => {
  proxy.set('refuse');
  proxy.dropAll();
  await expectUnavailable(() => catalog.app.request(`/api/books/${bookId}`));
  await expectUnavailable(() => catalog.app.request('/api/books', jsonInit('POST', { title: 'Lost?', author: 'A', priceCents: 100, stock: 1 }, bearer(seller))));
  proxy.set('pass');
  expect((await catalog.app.request(`/api/books/${bookId}`)).status).toBe(200);
});

test('a database that hangs: 503 within the time budget, not a request that waits for ever', async () => {
  proxy.set('freeze');
  const waited = await expectUnavailable(() => catalog.app.request(`/api/books/${bookId}`));
  expect(waited).toBeLessThan(budgetMs + 1000);
  // The connections stuck in the hang are cut (as a restart or a network reset would), and it serves again.
  proxy.set('pass');
  proxy.dropAll();
  let status = 0;
  for (const started = performance.now(); status !== 200; ) {
    expect(performance.now() - started).toBeLessThan(5000);
    status = (await catalog.app.request(`/api/books/${bookId}`)).status;
  }
});
