/**
 * Rotating auth's signing key without logging anyone out: the new key signs, the old one stays
 * published until removed; other services fetch the keys on a schedule, so a removed key stops
 * being trusted within that time. And rotating the service token: several are accepted at once.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { generateKeyPairSync } from 'node:crypto';
import { Hono } from 'hono';
import { createTokenVerifier, requireServiceToken, serviceTokenHeader, type TokenVerifier } from '@bookstore/shared/auth';
import { problemErrorHandler } from '@bookstore/shared/errors';
import { createHttpClient } from '@bookstore/shared/http';
import { createMemoryLogger } from '@bookstore/shared/log';
import { bearer, eventually, jsonInit, testServiceToken } from '@bookstore/shared/testing/http';
import { createApp } from '../src/app.ts';
import { registerUser } from '../src/accounts.ts';
import { parseSigningKey } from '../src/keys.ts';
import { startTestAuth, testAuthConfig, type TestAuth } from './support.ts';

const pem = () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const keyA = pem();
const keyB = pem();

let auth: TestAuth;
let current: ReturnType<typeof createApp>;
let server: ReturnType<typeof Bun.serve>;
let verifier: TokenVerifier;
const deploy = (signingKey: string) => (current = createApp({ orm: auth.orm, key: parseSigningKey(signingKey), log: auth.log, config: testAuthConfig }));

beforeAll(async () => {
  auth = await startTestAuth();
  deploy(keyA);
  // One address, whatever version of auth is deployed behind it (as a rolling update would do).
  server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (request) => current.fetch(request) });
  const client = createHttpClient({ service: 'auth', baseUrl: `http://127.0.0.1:${server.port}`, timeoutMs: 1000, headers: { [serviceTokenHeader]: testServiceToken } });
  verifier = createTokenVerifier({ auth: client, pollMs: 200, keysRefreshMs: 1000 });
  verifier.start();
});
afterAll(async () => {
  verifier?.stop();
  await server?.stop(true);
  await auth?.close();
});

async function logIn(): Promise<string> {
  const email = `rotation.${crypto.randomUUID().slice(0, 8)}@example.test`;
  await registerUser(auth.orm.em.fork(), { name: `Rota ${email.slice(9, 17)}`, email, password: 'correct horse battery' });
  const response = await current.request('/api/sessions', jsonInit('POST', { email, password: 'correct horse battery' }, { 'x-client-address': email, 'x-service-token': testServiceToken }));
  return ((await response.json()) as { token: string }).token;
}

test('a new key signs while the old one stays published; removing it ends its tokens everywhere within the refresh time', async () => {
  const oldToken = await logIn();
  expect(await verifier.verify(oldToken)).not.toBeNull();

  deploy(`${keyB}\n${keyA}`); // rotation: B signs, A still published
  const jwks = (await (await current.request('/.well-known/jwks.json')).json()) as { keys: { kid: string }[] };
  expect(jwks.keys).toHaveLength(2);
  const newToken = await logIn();
  expect(newToken.split('.')[0]).not.toBe(oldToken.split('.')[0]); // another kid in the header
  expect(await verifier.verify(newToken)).not.toBeNull();
  expect(await verifier.verify(oldToken)).not.toBeNull();
  expect((await current.request('/api/me', { headers: bearer(oldToken) })).status).toBe(200);

  deploy(keyB); // A removed
  expect((await current.request('/api/me', { headers: bearer(oldToken) })).status).toBe(401);
  expect(await eventually(async () => (await verifier.verify(oldToken)) === null, 5000, 100)).not.toBeNull();
  expect(await verifier.verify(newToken)).not.toBeNull();
});

test('during a service token rotation both tokens open service endpoints; any other is refused', async () => {
  const next = 'the-next-service-token-0123456789abcdef';
  const app = new Hono().use(requireServiceToken([testServiceToken, next])).get('/internal', (c) => c.text('ok'));
  app.onError(problemErrorHandler(createMemoryLogger()));
  for (const [token, status] of [[testServiceToken, 200], [next, 200], ['an-unknown-service-token-0123456789abcdef', 403], ['', 403]] as const) {
    const response = await app.request('/internal', { headers: { [serviceTokenHeader]: token } });
    expect({ token, status: response.status }).toEqual({ token, status });
  }
});
