/**
 * Read replicas: the admin list reads from the replica, while login and /api/me read the primary, so a
 * user who just registered can log in at once. The "replica" here is a second database that receives
 * no writes, so a test can tell which one answered.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { openDatabase } from '@bookstore/shared/db';
import { createTestDatabase, type TestDatabase } from '@bookstore/shared/testing/database';
import { bearer, jsonInit } from '@bookstore/shared/testing/http';
import { entities } from '../src/entities.ts';
import { migrations } from '../src/migrations/index.ts';
import { startTestAuth, type TestAuth } from './support.ts';

let replica: TestDatabase;
let auth: TestAuth;

beforeAll(async () => {
  replica = await createTestDatabase('mariadb');
  const schema = await openDatabase({ url: replica.url, entities, migrations });
  await schema.close();
  await replica.query(
    "insert into users (name, name_skeleton, email, password_hash, role, created_at) values ('Only On Replica', 'oniyonrepiica', 'replica-marker@example.test', 'x', 'customer', now())",
  );
  auth = await startTestAuth('mariadb', { readUrls: [replica.url] });
});
afterAll(async () => {
  await auth.close();
  await replica.drop();
});

test('the admin user list is read from the replica', async () => {
  const admin = await auth.signUp('Replica Admin', 'admin');
  const response = await auth.app.request('/api/users', { headers: bearer(admin.token) });
  expect(response.status).toBe(200);
  const emails = ((await response.json()) as { items: { email: string }[] }).items.map((user) => user.email);
  expect(emails).toContain('replica-marker@example.test');
  expect(emails).not.toContain(admin.email);
});

test('a user who just registered logs in and sees themself: those reads go to the primary', async () => {
  const created = await auth.app.request('/api/users', jsonInit('POST', { name: 'Fresh', email: 'fresh@example.test', password: 'fresh-password' }));
  expect(created.status).toBe(201);
  const login = await auth.app.request('/api/sessions', jsonInit('POST', { email: 'fresh@example.test', password: 'fresh-password' }));
  expect(login.status).toBe(201);
  const { token } = (await login.json()) as { token: string };
  const me = await auth.app.request('/api/me', { headers: bearer(token) });
  expect(me.status).toBe(200);
  expect(await me.json()).toMatchObject({ email: 'fresh@example.test' });
});

test('a replica that is down does not break the user list: it falls back to the primary', async () => {
  const down = await startTestAuth('mariadb', { readUrls: ['mariadb://root@127.0.0.1:1/nowhere'] });
  try {
    const admin = await down.signUp('Fallback Admin', 'admin');
    const response = await down.app.request('/api/users', { headers: bearer(admin.token) });
    expect(response.status).toBe(200);
    const emails = ((await response.json()) as { items: { email: string }[] }).items.map((user) => user.email);
    expect(emails).toContain(admin.email);
  } finally {
    await down.close();
  }
});
