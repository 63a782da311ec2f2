/** Purchase trusts auth's tokens without calling auth per request, and refuses one within 2 s of logout. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { bearer, eventually } from '@bookstore/shared/testing/http';
import { serveTestAuth, type ServedTestAuth } from '../../auth/test/support.ts';
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

test('readiness names what is down', async () => {
  const ready = await purchase.app.request('/health/ready');
  expect(ready.status).toBe(200);
  const orphan = await startTestPurchase('http://127.0.0.1:1');
  try {
    const response = await orphan.app.request('/health/ready');
    expect(response.status).toBe(503);
    const body = (await response.json()) as { down: string[] };
    expect(body.down).toEqual(['auth-token-check']);
  } finally {
    await orphan.close();
  }
});
