/**
 * Catalog trusts only session tokens auth issued for the shop (iss, aud), never before it has read
 * the revocation feed, and no longer than seconds after auth stops publishing the key that signed them.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { generateKeyPairSync } from 'node:crypto';
import { bearer, eventually, jsonInit, testServiceToken } from '@bookstore/shared/testing/http';
import { mintTestToken } from '@bookstore/shared/testing/tokens';
import { registerUser } from '../../auth/src/accounts.ts';
import { createApp as createAuthApp } from '../../auth/src/app.ts';
import { parseSigningKey } from '../../auth/src/keys.ts';
import { startTestAuth, testAuthConfig, type TestAuth } from '../../auth/test/support.ts';
import { startTestCatalog } from './support.ts';

let auth: TestAuth;
/** The auth deployed behind the one address catalog knows (a rolling update swaps it). */
let current: TestAuth['app'];
let server: ReturnType<typeof Bun.serve>;
let authUrl: string;
/** Whether auth's revocation feed answers: a closed feed never does. */
let feedOpened: Promise<void> = Promise.resolve();
let openFeed = () => {};

beforeAll(async () => {
  auth = await startTestAuth();
  current = auth.app;
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      if (new URL(request.url).pathname === '/api/revocations') await feedOpened;
      return current.fetch(request);
    },
  });
  authUrl = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  openFeed();
  await server?.stop(true);
  await auth?.close();
});

const mine = (catalog: { app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> } }, token: string) =>
  catalog.app.request('/api/sellers/me/books', { headers: bearer(token) });

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

test("a token signed with auth's own key for another audience or issuer is refused (401)", async () => {
  const catalog = await startTestCatalog(authUrl);
  try {
    const { token } = await auth.signUp('Claimant');
    expect(claimsOf(token)).toMatchObject({ iss: 'bookstore-auth', aud: 'bookstore' });
    expect((await mine(catalog, token)).status).toBe(200);
    const reissued = await mintTestToken(auth.key.privateJwk, { ...claimsOf(token) });
    expect((await mine(catalog, reissued)).status).toBe(200);
    for (const claims of [{ aud: 'bookstore-reports' }, { aud: undefined }, { iss: 'bookstore-reports' }, { iss: undefined }]) {
      const forged = await mintTestToken(auth.key.privateJwk, { ...claimsOf(token), ...claims });
      expect({ claims, status: (await mine(catalog, forged)).status }).toEqual({ claims, status: 401 });
      const create = await catalog.app.request('/api/books', jsonInit('POST', { title: 'Forged', author: 'X', priceCents: 100, stock: 1 }, bearer(forged)));
      expect({ claims, status: create.status }).toEqual({ claims, status: 401 });
      const me = await auth.app.request('/api/me', { headers: bearer(forged) }); // auth's own check too
      expect({ claims, status: me.status }).toEqual({ claims, status: 401 });
    }
  } finally {
    await catalog.close();
  }
});

test('a catalog that has never read the revocation feed answers 503 where a login is needed, until it has', async () => {
  const { token } = await auth.signUp('Patient Seller');
  feedOpened = new Promise((resolve) => (openFeed = resolve));
  const catalog = await startTestCatalog(authUrl);
  try {
    // Its keys are loaded; the feed has not answered.
    expect(await eventually(async () => catalog.verifier.status().keys, 3000)).not.toBeNull();
    const refused = await mine(catalog, token);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect((await catalog.app.request('/api/books', { headers: bearer(token) })).status).toBe(200);
    openFeed();
    expect(await eventually(async () => (await mine(catalog, token)).status === 200, 3000)).not.toBeNull();
  } finally {
    openFeed();
    await catalog.close();
  }
});

test('after auth stops publishing a key, its tokens are refused within seconds, though they keep arriving', async () => {
  const catalog = await startTestCatalog(authUrl);
  try {
    const { token: oldToken } = await auth.signUp('Rotated Seller');
    expect((await mine(catalog, oldToken)).status).toBe(200);
    const newKey = parseSigningKey(generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    current = createAuthApp({ orm: auth.orm, key: newKey, log: auth.log, config: testAuthConfig }); // the old key removed
    // Within KEYS_REFRESH_MS (5 s) and the second an unknown key id waits for a fetch; asked all along.
    const refusedAfter = await eventually(async () => (await mine(catalog, oldToken)).status === 401, 7500);
    expect(refusedAfter).not.toBeNull();

    const email = `rotated.${crypto.randomUUID().slice(0, 8)}@example.test`;
    await registerUser(auth.orm.em.fork(), { name: 'Fresh Seller', email, password: 'correct horse battery' });
    const login = await current.request('/api/sessions', jsonInit('POST', { email, password: 'correct horse battery' }, { 'x-client-address': email, 'x-service-token': testServiceToken }));
    const { token: newToken } = (await login.json()) as { token: string };
    expect((await mine(catalog, newToken)).status).toBe(200);
  } finally {
    current = auth.app;
    await catalog.close();
  }
}, 20_000);
