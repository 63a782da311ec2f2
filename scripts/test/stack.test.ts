/**
 * The stack runner: the four real processes on SQLite in a temporary directory; one is killed and
 * restarted and keeps its data; one that cannot start, or a port already in use, makes startStack say why.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, jsonInit } from '../../shared/src/testing/http.ts';
import { findFreePorts, startStack, type ServiceName, type Stack, type StackOptions } from '../stack.ts';

let stack: Stack;
let directory: string;
let unexpectedExit: { service: ServiceName; code: number | null } | null = null;

/** Options for a stack whose databases, keys and covers all live under `dir`. */
async function sqliteStack(dir: string, catalogEnv: Record<string, string> = {}): Promise<StackOptions> {
  const [web, auth, catalog, purchase] = await findFreePorts(4);
  return {
    ports: { web: web!, auth: auth!, catalog: catalog!, purchase: purchase! },
    env: {
      auth: { DATABASE_URL: `sqlite:${dir}/auth.sqlite`, KEY_DIR: `${dir}/keys` },
      catalog: { DATABASE_URL: `sqlite:${dir}/catalog.sqlite`, UPLOADS_DIR: `${dir}/uploads`, ...catalogEnv },
      purchase: { DATABASE_URL: `sqlite:${dir}/purchase.sqlite` },
    },
  };
}

const isLive = (url: string) =>
  fetch(`${url}/health/live`, { signal: AbortSignal.timeout(1000) }).then(
    (response) => response.ok,
    () => false,
  );

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'bookstore-stack-'));
  stack = await startStack(await sqliteStack(directory));
  void stack.exited.then((exit) => (unexpectedExit = exit));
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(directory, { recursive: true, force: true });
});

test('findFreePorts gives different ports outside the ephemeral range', async () => {
  const ports = await findFreePorts(8);
  expect(new Set(ports).size).toBe(8);
  const range = await Bun.file('/proc/sys/net/ipv4/ip_local_port_range').text().catch(() => '32768 65535');
  const [low, high] = range.trim().split(/\s+/).map(Number);
  for (const port of ports) expect(port < low! || port > high!).toBe(true);
});

test('catalog killed with SIGKILL is down, comes back on restart with its books, and is not an unexpected exit', async () => {
  await fetch(`${stack.urls.auth}/api/users`, jsonInit('POST', { name: 'Crash Tester', email: 'crash@example.test', password: 'crash-test-pw' }));
  const login = await fetch(`${stack.urls.auth}/api/sessions`, jsonInit('POST', { email: 'crash@example.test', password: 'crash-test-pw' }));
  expect(login.status).toBe(201);
  const { token } = (await login.json()) as { token: string };
  const book = { title: 'Survivor', author: 'A. Writer', description: 'Outlives its process.', priceCents: 1200, stock: 3 };
  const created = await fetch(`${stack.urls.catalog}/api/books`, jsonInit('POST', book, bearer(token)));
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: number };

  await stack.kill('catalog');
  expect(await isLive(stack.urls.catalog)).toBe(false);
  expect(await isLive(stack.urls.auth)).toBe(true);

  await stack.restart('catalog');
  expect(await isLive(stack.urls.catalog)).toBe(true);
  const again = await fetch(`${stack.urls.catalog}/api/books/${id}`);
  expect(again.status).toBe(200);
  expect(await again.json()).toMatchObject({ id, title: 'Survivor', stock: 3 });
  // The restarted process logged its start again; the kill itself was not reported as a crash.
  expect(stack.logs('catalog').filter((line) => line.includes('"msg":"listening"'))).toHaveLength(2);
  expect(unexpectedExit).toBeNull();
}, 60_000);

test('a process dying on its own resolves exited with its name and code', async () => {
  // This test's own child, found by its parent: not through stack.kill, as if it had crashed.
  const found = Bun.spawnSync(['pgrep', '-P', String(process.pid), '-f', 'services/purchase/src/main.ts']);
  const pids = found.stdout.toString().trim().split('\n').filter(Boolean).map(Number);
  expect(pids).toHaveLength(1);
  process.kill(pids[0]!, 'SIGKILL');
  const exit = await Promise.race([stack.exited, Bun.sleep(5000).then(() => null)]);
  expect(exit).toEqual({ service: 'purchase', code: 137 });
});

test('a process that cannot start makes startStack reject with its own complaint and exit code', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bookstore-stack-bad-'));
  try {
    const started = startStack(await sqliteStack(dir, { DATABASE_URL: 'bogus://x' }));
    const error = await started.then(
      () => new Error('startStack resolved'),
      (reason: Error) => reason,
    );
    expect(error.message).toContain('catalog did not start');
    expect(error.message).toContain('exited with code 78');
    expect(error.message).toMatch(/DATABASE_URL: must start with/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 90_000);

test('a port already in use makes startStack reject before launching anything, naming the service and port', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bookstore-stack-busy-'));
  const options = await sqliteStack(dir);
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(options.ports.purchase, '127.0.0.1', resolve));
  try {
    const error = await startStack(options).then(
      () => new Error('startStack resolved'),
      (reason: Error) => reason,
    );
    expect(error.message).toBe(`purchase cannot start: port ${options.ports.purchase} is in use`);
    expect(await isLive(`http://127.0.0.1:${options.ports.auth}`)).toBe(false);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});
