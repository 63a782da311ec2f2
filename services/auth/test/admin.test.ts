/** What admins do to accounts (disable, enable, change role, end sessions), its record, and who may do it. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { bearer, jsonInit, testServiceToken } from '@bookstore/shared/testing/http';
import { User } from '../src/entities.ts';
import { startTestAuth, type TestAuth } from './support.ts';

function randomAddress() {
  return `10.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}`;
}

describe.each(['mariadb', 'sqlite'] as const)('admin actions on %s', (kind) => {
  let auth: TestAuth;
  let admin: Awaited<ReturnType<TestAuth['signUp']>>;
  beforeAll(async () => {
    auth = await startTestAuth(kind);
    admin = await auth.signUp('Head Admin', 'admin');
  });
  afterAll(() => auth.close());

  const login = (email: string, password: string) =>
    auth.app.request('/api/sessions', jsonInit('POST', { email, password }, { 'x-client-address': randomAddress(), 'x-service-token': testServiceToken }));
  const asAdmin = (path: string, method = 'POST', body?: unknown, token = admin.token) => auth.app.request(path, jsonInit(method, body, bearer(token)));
  const me = (token: string) => auth.app.request('/api/me', { headers: bearer(token) });
  const feed = async () => {
    const response = await auth.app.request('/api/revocations?since=0', { headers: { 'x-service-token': testServiceToken } });
    return ((await response.json()) as { items: { sessionId: string }[] }).items.map((item) => item.sessionId);
  };
  const sessionId = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sid as string;

  test('disabling ends every session of the user on the feed, and refuses their login with its own message; enabling lets them in again', async () => {
    const user = await auth.signUp('Soon Disabled');
    const second = (await (await login(user.email, user.password)).json()) as { token: string };
    const response = await asAdmin(`/api/users/${user.userId}/disable`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: user.userId, disabledAt: expect.any(String) });

    expect((await me(user.token)).status).toBe(401);
    expect((await me(second.token)).status).toBe(401);
    expect(await feed()).toEqual(expect.arrayContaining([sessionId(user.token), sessionId(second.token)]));

    const refused = await login(user.email, user.password);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { detail: string }).detail).toContain('disabled');
    // A wrong password still says only that the pair is wrong: nothing more than before to a guesser.
    const guess = await login(user.email, 'not-the-password');
    expect(guess.status).toBe(401);

    expect((await asAdmin(`/api/users/${user.userId}/enable`)).status).toBe(200);
    const back = await login(user.email, user.password);
    expect(back.status).toBe(201);
    expect((await me(((await back.json()) as { token: string }).token)).status).toBe(200);
  });

  test('a role change ends the sessions that carry the old role; the next login carries the new one', async () => {
    const user = await auth.signUp('Promoted Later');
    const response = await asAdmin(`/api/users/${user.userId}/role`, 'PUT', { role: 'admin' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: user.userId, role: 'admin' });
    expect((await me(user.token)).status).toBe(401);
    expect(await feed()).toContain(sessionId(user.token));
    const again = (await (await login(user.email, user.password)).json()) as { token: string; user: { role: string } };
    expect(again.user.role).toBe('admin');

    expect((await asAdmin(`/api/users/${user.userId}/role`, 'PUT', { role: 'customer' })).status).toBe(200);
    expect((await me(again.token)).status).toBe(401);
    expect((await asAdmin(`/api/users/${user.userId}/role`, 'PUT', { role: 'owner' })).status).toBe(400);
  });

  test('ending all sessions of one user ends all of theirs and no one else\'s', async () => {
    const user = await auth.signUp('Many Devices');
    const other = await auth.signUp('Bystander');
    const phone = (await (await login(user.email, user.password)).json()) as { token: string };
    const response = await asAdmin(`/api/users/${user.userId}/sessions`, 'DELETE');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ revoked: 2 });
    expect((await me(user.token)).status).toBe(401);
    expect((await me(phone.token)).status).toBe(401);
    expect((await me(other.token)).status).toBe(200);
    expect(await feed()).not.toContain(sessionId(other.token));
    // They can log in again: ending sessions is not disabling.
    expect((await login(user.email, user.password)).status).toBe(201);
  });

  test('an admin cannot disable or demote themselves (nor leave the shop without an admin)', async () => {
    const selfDisable = await asAdmin(`/api/users/${admin.userId}/disable`);
    expect(selfDisable.status).toBe(409);
    expect(selfDisable.headers.get('content-type')).toContain('application/problem+json');
    expect((await asAdmin(`/api/users/${admin.userId}/role`, 'PUT', { role: 'customer' })).status).toBe(409);
    expect((await me(admin.token)).status).toBe(200);
  });

  test('two admins demoting each other at once: one wins, and the shop keeps an admin', async () => {
    const own = await startTestAuth(kind);
    try {
      const [x, y] = [await own.signUp('Admin X', 'admin'), await own.signUp('Admin Y', 'admin')];
      const demote = (actor: typeof x, target: typeof x) => own.app.request(`/api/users/${target.userId}/role`, jsonInit('PUT', { role: 'customer' }, bearer(actor.token)));
      const statuses = (await Promise.all([demote(x, y), demote(y, x)])).map((response) => response.status).sort();
      // The loser is refused as the last admin (409) or, had the winner finished first, as demoted (401).
      expect(statuses[0]).toBe(200);
      expect([401, 409]).toContain(statuses[1]!);
      const admins = await own.orm.em.fork().count(User, { role: 'admin', disabledAt: null });
      expect(admins).toBe(1);
    } finally {
      await own.close();
    }
  });

  test('an unknown user is a 404; a bad id a 400', async () => {
    expect((await asAdmin('/api/users/999999/disable')).status).toBe(404);
    expect((await asAdmin('/api/users/abc/disable')).status).toBe(400);
  });

  test('a customer gets 403 and a stranger 401 on every admin route', async () => {
    const customer = await auth.signUp('Curious Customer');
    const target = await auth.signUp('Target');
    const routes: [string, string, unknown?][] = [
      ['POST', `/api/users/${target.userId}/disable`],
      ['POST', `/api/users/${target.userId}/enable`],
      ['PUT', `/api/users/${target.userId}/role`, { role: 'admin' }],
      ['DELETE', `/api/users/${target.userId}/sessions`],
      ['GET', '/api/admin-actions'],
      ['GET', '/api/users?q=target'],
    ];
    for (const [method, path, body] of routes) {
      expect([path, (await auth.app.request(path, jsonInit(method, body, bearer(customer.token)))).status]).toEqual([path, 403]);
      expect([path, (await auth.app.request(path, jsonInit(method, body))).status]).toEqual([path, 401]);
    }
    expect((await me(target.token)).status).toBe(200);
  });

  test('the record says who did what to whom, and when, newest first', async () => {
    const user = await auth.signUp('Recorded User');
    const started = Date.now() - 1000;
    await asAdmin(`/api/users/${user.userId}/disable`);
    await asAdmin(`/api/users/${user.userId}/enable`);
    await asAdmin(`/api/users/${user.userId}/role`, 'PUT', { role: 'admin' });
    await asAdmin(`/api/users/${user.userId}/sessions`, 'DELETE');
    const response = await asAdmin(`/api/admin-actions?targetId=${user.userId}`, 'GET');
    expect(response.status).toBe(200);
    const record = (await response.json()) as { items: { actorId: number; actorName: string; targetId: number; targetEmail: string; action: string; detail: string; createdAt: string }[]; total: number };
    expect(record.total).toBe(4);
    expect(record.items.map((item) => item.action)).toEqual(['revoke-sessions', 'set-role', 'enable', 'disable']);
    for (const item of record.items) {
      expect(item).toMatchObject({ actorId: admin.userId, actorName: 'Head Admin', targetId: user.userId, targetEmail: user.email });
      expect(new Date(item.createdAt).getTime()).toBeGreaterThanOrEqual(started);
    }
    expect(record.items[1]!.detail).toContain('customer → admin');
  });

  test('the admin list searches names and emails and shows who is disabled', async () => {
    const user = await auth.signUp('Findable Zebra');
    await asAdmin(`/api/users/${user.userId}/disable`);
    const response = await asAdmin('/api/users?q=zebra', 'GET');
    const listing = (await response.json()) as { items: { id: number; disabledAt: string | null }[]; total: number };
    expect(listing.total).toBe(1);
    expect(listing.items[0]).toMatchObject({ id: user.userId, disabledAt: expect.any(String) });
    const byEmail = (await (await asAdmin(`/api/users?q=${encodeURIComponent(user.email.slice(0, 12))}`, 'GET')).json()) as { items: { id: number }[] };
    expect(byEmail.items.map((item) => item.id)).toContain(user.userId);
    // Wildcards are text, not patterns.
    expect(((await (await asAdmin('/api/users?q=%25', 'GET')).json()) as { total: number }).total).toBe(0);
  });
});
