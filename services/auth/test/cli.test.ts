/** The create-admin command makes an account that logs in with the admin role. */
import { afterAll, describe, expect, test } from 'bun:test';
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

describe('account commands', () => {
  async function userWithSession(email: string, role = 'customer') {
    await db.query("insert into users (name, name_skeleton, email, password_hash, role, created_at) values (?, ?, ?, 'x', ?, now())", [email, email.replace(/\W/g, ''), email, role]);
    const [user] = (await db.query('select id from users where email = ?', [email])) as { id: number }[];
    const sid = crypto.randomUUID();
    await db.query('insert into sessions (id, user_id, created_at, expires_at) values (?, ?, now(), now() + interval 1 hour)', [sid, user!.id]);
    return { id: user!.id, sid };
  }
  const revoked = async (sid: string) => ((await db.query('select count(*) as n from revocations where session_id = ?', [sid])) as { n: number }[])[0]!.n > 0;
  const record = async (id: number) =>
    (await db.query('select actor_id, actor_name, action, detail from admin_actions where target_id = ? order by id', [id])) as { actor_id: number | null; actor_name: string; action: string; detail: string }[];

  test('disable, enable, set-role and revoke-sessions act on the account, end its sessions, and are recorded with the operator', async () => {
    const { id, sid } = await userWithSession('cli-target@example.test');
    const disabled = run(['disable', '--email', 'CLI-target@example.test', '--by', 'Ops Olga'], {});
    expect(disabled.err).toBe('');
    expect(disabled.code).toBe(0);
    expect(disabled.out).toContain('cli-target@example.test is disabled');
    expect(((await db.query('select disabled_at from users where id = ?', [id])) as { disabled_at: Date | null }[])[0]!.disabled_at).not.toBeNull();
    expect(await revoked(sid)).toBe(true);

    expect(run(['enable', '--email', 'cli-target@example.test', '--by', 'Ops Olga'], {}).code).toBe(0);
    expect(((await db.query('select disabled_at from users where id = ?', [id])) as { disabled_at: Date | null }[])[0]!.disabled_at).toBeNull();

    const { sid: second } = await (async () => {
      const sid = crypto.randomUUID();
      await db.query('insert into sessions (id, user_id, created_at, expires_at) values (?, ?, now(), now() + interval 1 hour)', [sid, id]);
      return { sid };
    })();
    const promoted = run(['set-role', '--email', 'cli-target@example.test', '--role', 'admin', '--by', 'Ops Olga'], {});
    expect(promoted.code).toBe(0);
    expect(((await db.query('select role from users where id = ?', [id])) as { role: string }[])[0]!.role).toBe('admin');
    expect(await revoked(second)).toBe(true);

    const third = crypto.randomUUID();
    await db.query('insert into sessions (id, user_id, created_at, expires_at) values (?, ?, now(), now() + interval 1 hour)', [third, id]);
    const ended = run(['revoke-sessions', '--email', 'cli-target@example.test', '--by', 'Ops Olga'], {});
    expect(ended.code).toBe(0);
    expect(ended.out).toContain('1 session');
    expect(await revoked(third)).toBe(true);

    const rows = await record(id);
    expect(rows.map((row) => row.action)).toEqual(['disable', 'enable', 'set-role', 'revoke-sessions']);
    for (const row of rows) expect(row).toMatchObject({ actor_id: null, actor_name: 'Ops Olga (command line)' });
  });

  test('delete wipes the account and ends its sessions; the record names the operator and keeps no email', async () => {
    const { id, sid } = await userWithSession('cli-leaving@example.test');
    const deleted = run(['delete', '--email', 'cli-leaving@example.test', '--by', 'Ops Olga'], {});
    expect(deleted.err).toContain('sales still to ship were not checked');
    expect(deleted.code).toBe(0);
    expect(deleted.out).toContain('cli-leaving@example.test is deleted; 1 session ended');
    const [row] = (await db.query('select email, name, password_hash, deleted_at from users where id = ?', [id])) as { email: string; name: string; password_hash: string; deleted_at: Date | null }[];
    expect(row).toMatchObject({ name: 'Deleted user', password_hash: '', deleted_at: expect.any(Date) });
    expect(row!.email).not.toContain('cli-leaving');
    expect(await revoked(sid)).toBe(true);
    expect((await record(id)).map((entry) => [entry.action, entry.actor_name])).toEqual([['delete', 'Ops Olga (command line)']]);
    // The email is free: the command finds no account with it any more.
    expect(run(['delete', '--email', 'cli-leaving@example.test', '--by', 'Ops Olga'], {}).code).toBe(65);
  });

  test('an unknown email, a missing operator name or a bad role is refused with a message', async () => {
    await userWithSession('cli-other@example.test');
    const unknown = run(['disable', '--email', 'nobody@example.test', '--by', 'Ops'], {});
    expect(unknown.code).toBe(65);
    expect(unknown.err).toContain('nobody@example.test');
    const anonymous = run(['disable', '--email', 'cli-other@example.test'], {});
    expect(anonymous.code).toBe(64);
    expect(anonymous.err).toContain('--by');
    const badRole = run(['set-role', '--email', 'cli-other@example.test', '--role', 'owner', '--by', 'Ops'], {});
    expect(badRole.code).toBe(64);
    expect(badRole.err).toContain('--role');
  });
});
