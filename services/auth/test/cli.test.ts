/** The create-admin command makes an account that logs in with the admin role. */
import { afterAll, expect, test } from 'bun:test';
import { resolve } from 'node:path';
import { createTestDatabase } from '@bookstore/shared/testing/database';

const db = await createTestDatabase('mariadb');
afterAll(() => db.drop());
const cli = resolve(import.meta.dir, '../src/cli.ts');

function run(args: string[], env: Record<string, string>, stdin?: string) {
  const child = Bun.spawnSync(['bun', cli, ...args], {
    env: { ...process.env, DATABASE_URL: db.url, ...env },
    stdin: stdin === undefined ? 'ignore' : Buffer.from(stdin),
  });
  return { code: child.exitCode, out: child.stdout.toString(), err: child.stderr.toString() };
}

test('create-admin creates an administrator, and promotes an existing user', async () => {
  const created = run(['create-admin', '--email', 'Root@Example.test', '--name', 'Root'], {}, 'a-strong-password\n');
  expect(created.err).toBe('');
  expect(created.code).toBe(0);
  expect(created.out).toContain('administrator root@example.test created');
  const rows = (await db.query("select role, password_hash from users where email = 'root@example.test'")) as { role: string; password_hash: string }[];
  expect(rows[0]!.role).toBe('admin');
  expect(rows[0]!.password_hash).toStartWith('$argon2id$');

  await db.query("insert into users (name, name_skeleton, email, password_hash, role, created_at) values ('Cust', 'cust', 'cust@example.test', 'x', 'customer', now())");
  const promoted = run(['create-admin', '--email', 'cust@example.test'], { ADMIN_PASSWORD: 'ignored-for-existing' });
  expect(promoted.code).toBe(0);
  const after = (await db.query("select role from users where email = 'cust@example.test'")) as { role: string }[];
  expect(after[0]!.role).toBe('admin');
});

test('a bad email or a short password is refused with a message, and nothing is created', async () => {
  const bad = run(['create-admin', '--email', 'nope', '--name', 'X'], { ADMIN_PASSWORD: 'short' });
  expect(bad.code).toBe(65);
  expect(bad.err).toContain('email');
  expect(bad.err).toContain('password');
});

test('a bad DATABASE_URL stops the command naming the variable', () => {
  const result = run(['migrate'], { DATABASE_URL: 'postgres://nope' });
  expect(result.code).toBe(78);
  expect(result.err).toContain('DATABASE_URL');
});
