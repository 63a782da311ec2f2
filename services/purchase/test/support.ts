/** A purchase app on a fresh test database, served over HTTP (its gateway is itself), checking tokens against a served test auth. */
import { openDatabase } from '@bookstore/shared/db';
import { createMemoryLogger } from '@bookstore/shared/log';
import { createTestDatabase, type TestDatabaseKind } from '@bookstore/shared/testing/database';
import { bearer, jsonInit, testServiceToken } from '@bookstore/shared/testing/http';
import { testVerifier } from '@bookstore/shared/testing/token-check';
import { createApp, type PurchaseDeps } from '../src/app.ts';
import { purchaseClients } from '../src/deps.ts';
import { entities } from '../src/entities.ts';
import { migrations } from '../src/migrations/index.ts';
import { sweepOrders } from '../src/sweeper.ts';

export interface TestPurchaseOptions {
  kind?: TestDatabaseKind;
  catalogUrl?: string;
  /** Where the gateway is; by default this purchase's own. */
  gatewayUrl?: string;
  gatewayTimeoutMs?: number;
  gatewaySlowMs?: number;
  ttlSeconds?: number;
  /** Reuse this database (a second purchase process on the same data). */
  databaseUrl?: string;
}

export async function startTestPurchase(authUrl: string, options: TestPurchaseOptions = {}) {
  const db = options.databaseUrl ? null : await createTestDatabase(options.kind ?? 'mariadb');
  const url = options.databaseUrl ?? db!.url;
  const log = createMemoryLogger('purchase');
  const orm = await openDatabase({ url, entities, migrations, log });
  const { verifier } = testVerifier(authUrl);
  // Served first, so the gateway (this same process) knows its address; the app is attached below.
  let app: ReturnType<typeof createApp> | undefined;
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (request, bun) => app!.fetch(request, bun), idleTimeout: 30 });
  const port = server.port!;
  const config = {
    SERVICE_TOKEN: testServiceToken,
    ORDER_PAYMENT_TTL_SECONDS: options.ttlSeconds ?? 900,
    GATEWAY_TIMEOUT_MS: options.gatewayTimeoutMs ?? 1000,
    GATEWAY_SLOW_MS: options.gatewaySlowMs ?? 1500,
    CATALOG_URL: options.catalogUrl ?? 'http://127.0.0.1:1',
    GATEWAY_URL: options.gatewayUrl,
    PORT: port,
  };
  const deps: PurchaseDeps = { orm, verifier, log, ...purchaseClients(config), config };
  app = createApp(deps);
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    app: app!,
    orm,
    db,
    url,
    log,
    deps,
    baseUrl,
    /** One sweeper pass, as the background job runs it. */
    sweep: () => sweepOrders(deps),
    /** A call with a user's token, over real HTTP. */
    call: (path: string, method = 'GET', body?: unknown, token?: string, headers: Record<string, string> = {}) =>
      fetch(`${baseUrl}${path}`, jsonInit(method, body, { ...(token ? bearer(token) : {}), ...headers })),
    async close() {
      await server.stop(true);
      verifier.stop();
      await orm.close();
      await db?.drop();
    },
  };
}
export type TestPurchase = Awaited<ReturnType<typeof startTestPurchase>>;
