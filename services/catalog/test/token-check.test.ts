/** Catalog trusts auth's tokens without calling auth per request, and refuses one within 2 s of logout. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { bearer, eventually, jsonInit } from '@bookstore/shared/testing/http';
import { serveTestAuth, type ServedTestAuth } from '../../auth/test/support.ts';
import { startTestCatalog, type TestCatalog } from './support.ts';

let auth: ServedTestAuth;
let catalog: TestCatalog;
beforeAll(async () => {
  auth = await serveTestAuth();
  catalog = await startTestCatalog(auth.url);
});
afterAll(async () => {
  await catalog.close();
  await auth.close();
});

test('after logout the token can no longer sell or list books, within 2 seconds', async () => {
  const { token } = await auth.signUp('Departing Seller');
  expect((await catalog.app.request('/api/sellers/me/books', { headers: bearer(token) })).status).toBe(200);
  expect((await fetch(`${auth.url}/api/sessions/current`, { method: 'DELETE', headers: bearer(token) })).status).toBe(204);
  const refusedAfter = await eventually(async () => (await catalog.app.request('/api/sellers/me/books', { headers: bearer(token) })).status === 401, 2000);
  expect(refusedAfter).not.toBeNull();
  const create = await catalog.app.request('/api/books', jsonInit('POST', { title: 'Too Late', author: 'X', priceCents: 100, stock: 1 }, bearer(token)));
  expect(create.status).toBe(401);
});

test('a catalog that cannot reach auth answers 503 where a login is needed, and still lists books', async () => {
  const { token } = await auth.signUp('Early Bird');
  const orphan = await startTestCatalog('http://127.0.0.1:1');
  try {
    const mine = await orphan.app.request('/api/sellers/me/books', { headers: bearer(token) });
    expect(mine.status).toBe(503);
    expect(mine.headers.get('retry-after')).toBe('5');
    expect((await orphan.app.request('/api/books', { headers: bearer(token) })).status).toBe(200);
    // Its seller pages say "unavailable" rather than "log in": the web front then shows a retry box.
    const page = await orphan.app.request('/fragments/sell', { headers: bearer(token) });
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('Selling is unavailable right now');
  } finally {
    await orphan.close();
  }
});
