/**
 * Catalog, auth and purchase as real processes, each with its database behind a fault proxy: frozen
 * mid-request, then its connections cut. The request gets a 503 within the time budget, the process
 * keeps running, and the next requests are answered once the database is back.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@bookstore/shared/testing/database';
import { startTcpProxy, type TcpProxy } from '@bookstore/shared/testing/tcp-proxy';
import { findFreePorts } from '../../scripts/stack.ts';

const serviceToken = 'a-service-token-for-this-test-only';

/** Each service, and a request of it that uses its database. */
const services = [
  { name: 'catalog', entry: 'services/catalog/src/main.ts', read: { method: 'GET', path: '/api/books', headers: {} as Record<string, string> } },
  { name: 'auth', entry: 'services/auth/src/main.ts', read: { method: 'GET', path: '/api/revocations?since=0', headers: { 'x-service-token': serviceToken } as Record<string, string> } },
  // The simulated gateway's "what became of this charge?" reads (and records) the charge.
  { name: 'purchase', entry: 'services/purchase/src/main.ts', read: { method: 'POST', path: '/gateway/charges/pay_faulttest/resolve', headers: { 'x-service-token': serviceToken } as Record<string, string> } },
];

describe.each(services)('$name', ({ entry, read }) => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let child: Bun.Subprocess<'ignore', 'pipe', 'pipe'>;
  let url = '';
  const output: string[] = [];
  const ask = () => fetch(`${url}${read.path}`, { method: read.method, headers: read.headers });

  afterAll(async () => {
    child?.kill();
    await child?.exited;
    proxy?.close();
    await db?.drop();
  });

  test('a database frozen mid-request, then cut: 503 within the budget, the process lives on and answers again', async () => {
    db = await createTestDatabase('mariadb');
    const server = new URL(db.url);
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 3306) });
    const [port] = await findFreePorts(1);
    url = `http://127.0.0.1:${port}`;
    child = Bun.spawn(['bun', entry], {
      cwd: resolve(import.meta.dir, '../..'),
      env: {
        ...process.env,
        DATABASE_URL: proxy.urlFor(db.url),
        SERVICE_TOKEN: serviceToken,
        PORT: String(port),
        AUTH_URL: 'http://127.0.0.1:1',
        CATALOG_URL: 'http://127.0.0.1:1',
        KEY_DIR: mkdtempSync(join(tmpdir(), 'bookstore-keys-')),
        REQUEST_TIME_BUDGET_MS: '1500',
        LISTING_MAX_AGE_SECONDS: '0', // every read goes to the database here, none to a shared page
        LOG_LEVEL: 'warn',
      },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    });
    for (const stream of [child.stdout, child.stderr]) void new Response(stream).text().then((text) => output.push(text));
    for (const started = Date.now(); !(await fetch(`${url}/health/live`).then((response) => response.ok, () => false)); ) {
      if (child.exitCode !== null || Date.now() - started > 15_000) throw new Error(`${entry} did not start (exit ${child.exitCode}): ${output.join('').slice(-2000)}`);
      await Bun.sleep(100);
    }

    expect((await ask()).status).toBe(200); // a connection is open and in the pool
    proxy.set('freeze');
    const started = performance.now();
    const frozen = await ask();
    expect({ status: frozen.status, retryAfter: frozen.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '5' });
    expect(performance.now() - started).toBeLessThan(1500 + 1000);
    // The database comes back; the connections held through the freeze are cut, as a restart would.
    proxy.set('pass');
    proxy.dropAll();
    let status = 0;
    for (const since = performance.now(); status !== 200; ) {
      expect(performance.now() - since).toBeLessThan(5000);
      status = await ask().then((response) => response.status);
    }
    expect(child.exitCode).toBeNull();
  }, 30_000);
});
