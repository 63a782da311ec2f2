/**
 * Catalog as a real process, its database behind a fault proxy: frozen mid-request, then its
 * connections cut. The request gets a 503 within the time budget, the process keeps running, and
 * the next requests are answered once the database is back.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@bookstore/shared/testing/database';
import { startTcpProxy, type TcpProxy } from '@bookstore/shared/testing/tcp-proxy';
import { findFreePorts } from '../../../scripts/stack.ts';

let db: TestDatabase;
let proxy: TcpProxy;
let catalog: Bun.Subprocess<'ignore', 'pipe', 'pipe'>;
let url = '';
const output: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase('mariadb');
  const server = new URL(db.url);
  proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 3306) });
  const [port] = await findFreePorts(1);
  url = `http://127.0.0.1:${port}`;
  catalog = Bun.spawn(['bun', 'services/catalog/src/main.ts'], {
    cwd: resolve(import.meta.dir, '../../..'),
    env: { ...process.env, DATABASE_URL: proxy.urlFor(db.url), SERVICE_TOKEN: 'a-service-token-for-this-test-only', PORT: String(port), AUTH_URL: 'http://127.0.0.1:1', REQUEST_TIME_BUDGET_MS: '1500', LOG_LEVEL: 'warn' },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  for (const stream of [catalog.stdout, catalog.stderr]) void new Response(stream).text().then((text) => output.push(text));
  for (const started = Date.now(); ; ) {
    const live = await fetch(`${url}/health/live`).then((response) => response.ok, () => false);
    if (live) break;
    if (catalog.exitCode !== null || Date.now() - started > 15_000) throw new Error(`catalog did not start (exit ${catalog.exitCode}): ${output.join('').slice(-2000)}`);
    await Bun.sleep(100);
  }
}, 30_000);
afterAll(async () => {
  catalog?.kill();
  await catalog?.exited;
  proxy?.close();
  await db?.drop();
});

test('a database frozen mid-request, then cut: 503 within the budget, the process lives on and answers again', async () => {
  expect((await fetch(`${url}/api/books`)).status).toBe(200); // a connection is open and in the pool
  proxy.set('freeze');
  const started = performance.now();
  const frozen = await fetch(`${url}/api/books?q=frozen`);
  expect({ status: frozen.status, retryAfter: frozen.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '5' });
  expect(performance.now() - started).toBeLessThan(1500 + 1000);
  // The database comes back; the connections held through the freeze are cut, as a restart would.
  proxy.set('pass');
  proxy.dropAll();
  let status = 0;
  for (const since = performance.now(); status !== 200; ) {
    expect(performance.now() - since).toBeLessThan(5000);
    status = await fetch(`${url}/api/books`).then((response) => response.status);
  }
  expect(catalog.exitCode).toBeNull();
}, 20_000);
