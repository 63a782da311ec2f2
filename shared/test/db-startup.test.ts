/** Opening a service's database: retried with a clear log line while unreachable; SQLite files kept to their owner. */
import { expect, test } from 'bun:test';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findFreePorts } from '../../scripts/stack.ts';
import { openDatabase, redactedUrl } from '../src/db.ts';
import { entities } from '../../services/catalog/src/entities.ts';
import { migrations } from '../../services/catalog/src/migrations/index.ts';

const root = resolve(import.meta.dir, '../..');

/** Runs catalog's main against `databaseUrl` until it exits; answers its exit code and output. */
async function runCatalog(databaseUrl: string, startTimeoutMs: number) {
  const [port] = await findFreePorts(1);
  const child = Bun.spawn(['bun', 'services/catalog/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      DATABASE_START_TIMEOUT_MS: String(startTimeoutMs),
      SERVICE_TOKEN: 'a-service-token-for-this-test-only',
      AUTH_URL: 'http://127.0.0.1:1',
      PORT: String(port),
      LOG_LEVEL: 'info',
    },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [code, out, err] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  return { code, output: out + err };
}

test('a database unreachable at start-up is tried again, each time logged, then the process exits with a clear last line', async () => {
  const { code, output } = await runCatalog('mariadb://bookstore:not-for-logs@127.0.0.1:1/catalog', 2000);
  expect(code).toBe(1);
  const lines = output.trim().split('\n').map((line) => JSON.parse(line) as { level: string; msg: string; database?: string });
  expect(lines.filter((line) => line.msg === 'database not reachable at start-up; trying again').length).toBeGreaterThanOrEqual(2);
  expect(lines.at(-1)).toMatchObject({ level: 'error', msg: 'database not reachable at start-up; giving up', database: 'mariadb://bookstore:***@127.0.0.1:1/catalog' });
  expect(output).not.toContain('not-for-logs');
}, 30_000);

test('a database that does not exist (yet) on a reachable server is waited for the same way, with a clear last line, no stack trace', async () => {
  const server = new URL(process.env.TEST_DATABASE_URL ?? 'mariadb://root@127.0.0.1:3306/test');
  const missing = `bookstore_missing_${crypto.randomUUID().slice(0, 8)}`;
  const { code, output } = await runCatalog(`${server.protocol}//${server.username}${server.password ? `:${server.password}` : ''}@${server.host}/${missing}`, 1500);
  expect(code).toBe(1);
  const lines = output.trim().split('\n').map((line) => JSON.parse(line) as { level: string; msg: string; reason?: string });
  expect(lines.at(-1)).toMatchObject({ level: 'error', msg: 'database not reachable at start-up; giving up', reason: expect.stringContaining(missing) });
}, 30_000);

test('an SQLite database and its folder are readable by their owner only', async () => {
  const folder = join(mkdtempSync(join(tmpdir(), 'bookstore-perms-')), 'data');
  const orm = await openDatabase({ url: `sqlite:${join(folder, 'catalog.sqlite')}`, entities, migrations });
  await orm.close();
  expect(statSync(folder).mode & 0o777).toBe(0o700);
  for (const file of ['catalog.sqlite', 'catalog.sqlite-wal', 'catalog.sqlite-shm']) {
    const mode = statSync(join(folder, file), { throwIfNoEntry: false })?.mode;
    if (mode !== undefined) expect({ file, mode: mode & 0o777 }).toEqual({ file, mode: 0o600 });
  }
  expect(statSync(join(folder, 'catalog.sqlite')).mode & 0o777).toBe(0o600);
});

test('database URLs are logged without their password, whatever it holds', () => {
  expect(redactedUrl('mariadb://app:secret@db:3306/catalog')).toBe('mariadb://app:***@db:3306/catalog');
  expect(redactedUrl('mariadb://app:s3cr/et@db:3306/catalog')).not.toContain('s3cr');
  expect(redactedUrl('mariadb://app:p@ss:w/rd@db:3306/catalog')).toBe('mariadb://app:***@db:3306/catalog');
});
