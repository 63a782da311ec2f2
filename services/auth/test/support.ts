/** An auth app on a fresh test database, for the tests of this service and of its callers. */
import { generateKeyPairSync } from 'node:crypto';
import { openDatabase } from '@bookstore/shared/db';
import { createMemoryLogger } from '@bookstore/shared/log';
import { createTestDatabase, type TestDatabaseKind } from '@bookstore/shared/testing/database';
import { jsonInit, testServiceToken } from '@bookstore/shared/testing/http';
import { registerUser } from '../src/accounts.ts';
import { createApp, type AuthDeps } from '../src/app.ts';
import { entities } from '../src/entities.ts';
import { parseSigningKey } from '../src/keys.ts';
import { migrations } from '../src/migrations/index.ts';

export const testAuthConfig: AuthDeps['config'] = {
  SERVICE_TOKEN: testServiceToken,
  TOKEN_TTL_SECONDS: 3600,
  LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: 5,
  LOGIN_MAX_FAILURES_PER_ACCOUNT: 20,
  LOGIN_MAX_FAILURES_PER_ADDRESS: 20,
  LOGIN_LOCK_SECONDS: 60,
  LOGIN_WINDOW_SECONDS: 900,
  LOGIN_KNOWN_ADDRESS_DAYS: 30,
  REGISTRATIONS_PER_ADDRESS: 20,
  REGISTRATION_TAKEN_EMAILS_PER_ADDRESS: 5,
};

export async function startTestAuth(kind: TestDatabaseKind = 'mariadb', options: { readUrls?: string[] } = {}) {
  const db = await createTestDatabase(kind);
  const log = createMemoryLogger('auth');
  const orm = await openDatabase({ url: db.url, readUrls: options.readUrls, entities, migrations, log });
  const key = parseSigningKey(generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  // Tests that run purchase too set `deps.openSaleItems` (administration.ts openSaleItemsFrom).
  const deps: AuthDeps = { orm, key, log, config: testAuthConfig };
  const app = createApp(deps);

  /** Registers (with the given role) and logs in; returns the token and user. */
  async function signUp(name: string, role: 'customer' | 'admin' = 'customer', password = 'correct horse battery') {
    const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${crypto.randomUUID().slice(0, 8)}@example.test`;
    await registerUser(orm.em.fork(), { name, email, password }, role);
    const response = await app.request('/api/sessions', jsonInit('POST', { email, password }, { 'x-client-address': `signup-${email}`, 'x-service-token': testServiceToken }));
    const body = (await response.json()) as { token: string; user: { id: number } };
    return { email, password, token: body.token, userId: body.user.id };
  }

  return {
    app,
    deps,
    db,
    orm,
    log,
    key,
    signUp,
    async close() {
      await orm.close();
      await db.drop();
    },
  };
}
export type TestAuth = Awaited<ReturnType<typeof startTestAuth>>;

/** `startTestAuth` served over real HTTP, for services that call auth (JWKS, revocation feed). */
export async function serveTestAuth(kind: TestDatabaseKind = 'mariadb') {
  const auth = await startTestAuth(kind);
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: auth.app.fetch });
  return {
    ...auth,
    url: `http://127.0.0.1:${server.port}`,
    async close() {
      await server.stop(true);
      await auth.close();
    },
  };
}
export type ServedTestAuth = Awaited<ReturnType<typeof serveTestAuth>>;
