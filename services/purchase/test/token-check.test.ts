/** Purchase trusts auth's tokens without calling auth per request, and refuses one within 2 s of logout. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { bearer, eventually } from '@bookstore/shared/testing/http';
import { serveTestAuth, type ServedTestAuth } from '../../auth/test/support.ts';
import { startTestCatalog } from '../../catalog/test/support.ts';
import { startTestPurchase } from './support.ts';

let auth: ServedTestAuth;
let purchase: Awaited<ReturnType<typeof startTestPurchase>>;

beforeAll(async () => {
  auth = await serveTestAuth();
  purchase = await startTestPurchase(auth.url);
});
afterAll(async () => {
  await purchase.close();
  await auth.close();
});

test('a valid token is accepted; after logout it is refused within 2 seconds', async () => {
  const { token, userId } = await auth.signUp('Buyer');
  const before = await purchase.app.request('/api/principal', { headers: bearer(token) });
  expect(before.status).toBe(200);
  expect(await before.json()).toEqual({ userId, role: 'customer' });

  const logout = await fetch(`${auth.url}/api/sessions/current`, { method: 'DELETE', headers: bearer(token) });
  expect(logout.status).toBe(204);
  const refusedAfter = await eventually(async () => (await purchase.app.request('/api/principal', { headers: bearer(token) })).status === 401, 2000);
  expect(refusedAfter).not.toBeNull();
});

test('a token signed by another key, a tampered one and garbage are refused', async () => {
  const { token } = await auth.signUp('Tamperer');
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
  const promoted = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
  for (const bad of [`${header}.${promoted}.${signature}`, 'not-a-jwt', `${header}.${payload}.`, 'a.b.c']) {
    expect((await purchase.app.request('/api/principal', { headers: bearer(bad) })).status).toBe(401);
  }
  const other = await serveTestAuth();
  try {
    const foreign = await other.signUp('Foreigner');
    expect((await purchase.app.request('/api/principal', { headers: bearer(foreign.token) })).status).toBe(401);
  } finally {
    await other.close();
  }
});

test('delivery providers are the original four, priced in cents, as the BRIEF\'s bare array', async () => {
  const response = await purchase.app.request('/api/delivery-providers');
  expect(response.status).toBe(200);
  const items = (await response.json()) as { name: string; scope: string; priceCents: number }[];
  expect(Array.isArray(items)).toBe(true);
  expect(items.map(({ name, scope, priceCents }) => [name, scope, priceCents])).toEqual([
    ['DHL', 'international', 5000],
    ['FedEx', 'international', 4500],
    ['Envia', 'national', 2000],
    ['Servientrega', 'national', 1500],
  ]);
});

test('readiness names what is down: auth (token checks) and catalog (carts and checkouts need it)', async () => {
  const catalog = await startTestCatalog(auth.url);
  const served = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: catalog.app.fetch });
  const ready = await startTestPurchase(auth.url, { catalogUrl: `http://127.0.0.1:${served.port}` });
  const orphan = await startTestPurchase('http://127.0.0.1:1');
  try {
    expect((await ready.app.request('/health/ready')).status).toBe(200);
    // `purchase` here has no catalog: it is up, but not ready to sell.
    const withoutCatalog = await purchase.app.request('/health/ready');
    expect(withoutCatalog.status).toBe(503);
    expect(((await withoutCatalog.json()) as { down: string[] }).down).toEqual(['catalog']);
    const response = await orphan.app.request('/health/ready');
    expect(response.status).toBe(503);
    expect(((await response.json()) as { down: string[] }).down).toEqual(['auth-token-check', 'catalog']);
    // The task itself (its process and database) is fine either way: Swarm must not replace it.
    expect((await orphan.app.request('/health/task')).status).toBe(200);
  } finally {
    await orphan.close();
    await ready.close();
    await served.stop(true);
    await catalog.close();
  }
});
