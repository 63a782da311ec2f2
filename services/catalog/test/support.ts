/** A catalog app on a fresh test database, checking tokens against a served test auth. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@bookstore/shared/db';
import { createMemoryLogger } from '@bookstore/shared/log';
import { createTestDatabase, type TestDatabaseKind } from '@bookstore/shared/testing/database';
import { bearer, jsonInit, testServiceToken } from '@bookstore/shared/testing/http';
import { testVerifier } from '@bookstore/shared/testing/token-check';
import { serveTestAuth } from '../../auth/test/support.ts';
import { createApp } from '../src/app.ts';
import { entities } from '../src/entities.ts';
import { migrations } from '../src/migrations/index.ts';
import type { BookInput, BookJson } from '../src/schemas.ts';

export interface TestCatalogOptions {
  kind?: TestDatabaseKind;
  readUrls?: string[];
  uploadsDir?: string;
  maxCoverBytes?: number;
  /** Reuse this database instead of creating one (a second catalog process on the same data). */
  databaseUrl?: string;
  /** LISTING_MAX_AGE_SECONDS: how long shoppers' listings may be shared (0, by default, in tests). */
  listingMaxAgeSeconds?: number;
  /** REQUEST_TIME_BUDGET_MS (15 s by default). */
  timeBudgetMs?: number;
}

export async function startTestCatalog(authUrl: string, options: TestCatalogOptions = {}) {
  const db = options.databaseUrl ? null : await createTestDatabase(options.kind ?? 'mariadb');
  const url = options.databaseUrl ?? db!.url;
  const log = createMemoryLogger('catalog');
  const orm = await openDatabase({ url, readUrls: options.readUrls, entities, migrations, log });
  const { verifier } = testVerifier(authUrl);
  const uploadsDir = options.uploadsDir ?? mkdtempSync(join(tmpdir(), 'catalog-uploads-'));
  const app = createApp({
    orm,
    verifier,
    log,
    config: {
      SERVICE_TOKEN: testServiceToken,
      UPLOADS_DIR: uploadsDir,
      MAX_COVER_BYTES: options.maxCoverBytes ?? 256 * 1024,
      LISTING_MAX_AGE_SECONDS: options.listingMaxAgeSeconds ?? 0,
      ...(options.timeBudgetMs === undefined ? {} : { REQUEST_TIME_BUDGET_MS: options.timeBudgetMs }),
    },
  });

  /** Adds a book as the seller holding `token`, through the API; returns it. */
  async function addBook(token: string, book: Partial<BookInput> = {}): Promise<BookJson> {
    const body = { title: 'A Book', author: 'An Author', description: '', priceCents: 1000, stock: 5, ...book };
    const response = await app.request('/api/books', jsonInit('POST', body, bearer(token)));
    if (response.status !== 201) throw new Error(`addBook: ${response.status} ${await response.text()}`);
    return (await response.json()) as BookJson;
  }

  /** Calls a reservation endpoint as the purchase service does. */
  const asService = (path: string, method: string, body?: unknown) =>
    app.request(path, jsonInit(method, body, { 'x-service-token': testServiceToken }));

  return {
    app,
    orm,
    verifier,
    db,
    url,
    log,
    uploadsDir,
    addBook,
    asService,
    async close() {
      verifier.stop();
      await orm.close();
      await db?.drop();
    },
  };
}
export type TestCatalog = Awaited<ReturnType<typeof startTestCatalog>>;

/** Auth over HTTP, a catalog checking its tokens, and one seller's token: where most catalog tests start. */
export async function startCatalogWithSeller(options: TestCatalogOptions = {}) {
  const auth = await serveTestAuth();
  const catalog = await startTestCatalog(auth.url, options);
  const seller = (await auth.signUp('Seller')).token;
  return {
    auth,
    catalog,
    seller,
    async close() {
      await catalog.close();
      await auth.close();
    },
  };
}

/** `startCatalogWithSeller` with catalog served over real HTTP too, for purchase's tests. */
export async function serveCatalogWithSeller(options: TestCatalogOptions = {}) {
  const started = await startCatalogWithSeller(options);
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: started.catalog.app.fetch, idleTimeout: 30 });
  return {
    ...started,
    catalogUrl: `http://127.0.0.1:${server.port}`,
    async close() {
      await server.stop(true);
      await started.close();
    },
  };
}
