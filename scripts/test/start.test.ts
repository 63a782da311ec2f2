/**
 * `bun run start` as the real process: with DATABASE_URL naming the test MariaDB server it gives each
 * service its own database there, created, and the shop answers; a URL it cannot use and a port in
 * use are refused before anything starts, in a line naming the server or the service and its port
 * variable, never the password.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../shared/src/testing/database.ts';
import { demoBooks } from '../demo-books.ts';
import { findFreePorts, pipeLines, portsInUse } from '../stack.ts';

const root = resolve(import.meta.dir, '../..');
const dir = mkdtempSync(join(tmpdir(), 'bookstore-start-'));
/** Only for its server (TEST_DATABASE_URL's, or the container) and its admin connection. */
let probe: TestDatabase;

beforeAll(async () => {
  probe = await createTestDatabase('mariadb');
});
afterAll(async () => {
  await probe?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** The test server's URL naming database `name`, with `password` instead of the real one when given. */
function serverUrl(name: string, password?: string): string {
  const url = new URL(probe.url);
  url.pathname = `/${name}`;
  if (password !== undefined) url.password = password;
  return url.toString();
}

/** host:port of the test server, as the runner names it. */
function serverHost(): string {
  const url = new URL(probe.url);
  return `${url.hostname}:${url.port || 3306}`;
}

const uniqueName = (what: string) => `bookstore_runner_test_${what}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

async function databasesNamed(prefix: string): Promise<string[]> {
  const rows = (await probe.query('select schema_name as name from information_schema.schemata where schema_name like ? order by 1', [`${prefix}%`])) as { name: string }[];
  return rows.map((row) => row.name);
}

async function dropDatabases(prefix: string) {
  for (const name of await databasesNamed(prefix)) await probe.query(`drop database \`${name}\``);
}

async function freeShopPorts() {
  const [web, auth, catalog, purchase] = (await findFreePorts(4)) as [number, number, number, number];
  return { web, auth, catalog, purchase, env: { WEB_PORT: String(web), AUTH_PORT: String(auth), CATALOG_PORT: String(catalog), PURCHASE_PORT: String(purchase) } };
}

/** Variables of the test's own environment the runner must not see: each test gives its own. */
const runnerSettings = /^(PORT|HOST|SERVICE_TOKEN|DATABASE_URL|DATABASE_READ_URLS|(AUTH|CATALOG|PURCHASE)_DATABASE_URL)(_FILE)?$/;

/** scripts/start.ts started as `bun run start` starts it, with keys and covers in the test's directory. */
function startRunner(env: Record<string, string>) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !runnerSettings.test(name)));
  const child = Bun.spawn(['bun', 'scripts/start.ts'], {
    cwd: root,
    env: { ...inherited, KEY_DIR: join(dir, 'keys'), UPLOADS_DIR: join(dir, 'uploads'), SERVICE_TOKEN: 'start-test-service-token-0123456789abcdef', ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const lines: string[] = [];
  const output = Promise.all([child.stdout, child.stderr].map((stream) => pipeLines(stream, (line) => lines.push(line))));
  const tail = () => lines.slice(-30).map((line) => `  ${line}`).join('\n');
  return {
    child,
    lines,
    /** Exit code once its output is read to the end. */
    finished: output.then(() => child.exited),
    /** Resolves once a line matches; throws with the last lines if the runner exits first or time runs out. */
    async waitForLine(pattern: RegExp, timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      while (!lines.some((line) => pattern.test(line))) {
        if (child.exitCode !== null) throw new Error(`the runner exited (code ${child.exitCode}) before printing ${pattern}; its last lines:\n${tail()}`);
        if (Date.now() > deadline) throw new Error(`the runner did not print ${pattern} within ${timeoutMs} ms; its last lines:\n${tail()}`);
        await Bun.sleep(50);
      }
    },
    /** SIGTERM (the runner stops its processes), SIGKILL if it has not exited within 15 s. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await child.exited;
      clearTimeout(timer);
    },
  };
}

/** A refusal: one or two lines, no stack trace, exit 1. */
async function refusal(env: Record<string, string>): Promise<string> {
  const runner = startRunner(env);
  const timer = setTimeout(() => runner.child.kill('SIGKILL'), 20_000);
  const code = await runner.finished;
  clearTimeout(timer);
  const text = runner.lines.join('\n');
  expect({ code, text }).toMatchObject({ code: 1 });
  expect(runner.lines.length).toBeLessThanOrEqual(2);
  expect(text).not.toMatch(/^\s+at /m);
  expect(text).not.toContain('listening');
  return text;
}

test('with DATABASE_URL the shop runs on a database per service on that server, created when missing', async () => {
  const name = uniqueName('shop');
  const ports = await freeShopPorts();
  const runner = startRunner({ ...ports.env, DATABASE_URL: serverUrl(name) });
  try {
    await runner.waitForLine(/Bookstore is running/, 60_000);
    expect(await databasesNamed(name)).toEqual([`${name}_auth`, `${name}_catalog`, `${name}_purchase`]);
    expect(runner.lines).toContain(`created database ${name}_auth on ${serverHost()}`);
    expect((await fetch(`http://127.0.0.1:${ports.web}/health/ready`)).status).toBe(200);
    // Each service on its own database: the demo accounts in auth's, the demo books in catalog's.
    const users = (await probe.query(`select email from \`${name}_auth\`.users order by email`)) as { email: string }[];
    expect(users.map((user) => user.email)).toEqual(['admin@bookstore.test', 'alice@bookstore.test', 'bob@bookstore.test']);
    const books = (await probe.query(`select count(*) as n from \`${name}_catalog\`.books`)) as { n: number }[];
    expect(Number(books[0]!.n)).toBe(demoBooks.length);

    await runner.stop();
    expect(await runner.finished).toBe(0);
    expect(await portsInUse({ web: ports.web, auth: ports.auth, catalog: ports.catalog, purchase: ports.purchase })).toEqual([]);
  } finally {
    await runner.stop();
    await dropDatabases(name);
  }
}, 90_000);

test('a DATABASE_URL it cannot use is refused naming the server, never the password, and nothing is created', async () => {
  const name = uniqueName('refused');
  const password = 'not-the-password-7f3a';
  const ports = await freeShopPorts();
  const [closed] = await findFreePorts(1);
  const server = serverHost();
  const [unreachable, wrongPassword, notMysql, malformed] = await Promise.all([
    refusal({ ...ports.env, DATABASE_URL: `mariadb://root:${password}@127.0.0.1:${closed}/${name}` }),
    refusal({ ...ports.env, DATABASE_URL: serverUrl(name, password) }),
    refusal({ ...ports.env, DATABASE_URL: `postgres://root:${password}@127.0.0.1:5432/${name}` }),
    refusal({ ...ports.env, DATABASE_URL: `mysql://root:${password}@127.0.0.1:99999/${name}` }),
  ]);
  expect(unreachable).toBe(`DATABASE_URL: cannot reach a MySQL/MariaDB server at 127.0.0.1:${closed} (connection refused).`);
  expect(wrongPassword).toContain(`DATABASE_URL: the server at ${server} refused user 'root'`);
  expect(notMysql).toContain('DATABASE_URL must name a MySQL or MariaDB server');
  expect(malformed).toContain('DATABASE_URL is not a valid URL');
  for (const text of [unreachable, wrongPassword, notMysql, malformed]) expect(text).not.toContain(password);
  expect(await databasesNamed(name)).toEqual([]);
}, 60_000);

test('a port in use is refused before anything starts, naming the service, the port and its variable', async () => {
  const name = uniqueName('busy');
  const ports = await freeShopPorts();
  const holder: Server = await new Promise((resolve) => {
    const server = createServer().listen(ports.catalog, '127.0.0.1', () => resolve(server));
  });
  try {
    const text = await refusal({ ...ports.env, DATABASE_URL: serverUrl(name) });
    expect(text).toBe(`catalog cannot start: port ${ports.catalog} is in use (set CATALOG_PORT to use another).`);
    expect(await databasesNamed(name)).toEqual([]);
    expect(await portsInUse({ web: ports.web, auth: ports.auth, purchase: ports.purchase })).toEqual([]);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
}, 60_000);
