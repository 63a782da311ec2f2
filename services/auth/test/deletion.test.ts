/**
 * Deleting an account, by an admin or by its owner: it loses every power at once (sessions ended on
 * the feed, no login), nothing that names the person is left (name, email, password, the record's
 * copies), other services learn of it from the feed of deleted users, and the email is free again.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { bearer, jsonInit, testServiceToken } from '@bookstore/shared/testing/http';
import { User } from '../src/entities.ts';
import { startTestAuth, type TestAuth } from './support.ts';

let addresses = 0;
const freshAddress = () => `198.18.${Math.floor(++addresses / 250)}.${addresses % 250}`;

describe.each(['mariadb', 'sqlite'] as const)('deleting accounts on %s', (kind) => {
  let auth: TestAuth;
  let admin: Awaited<ReturnType<TestAuth['signUp']>>;
  beforeAll(async () => {
    auth = await startTestAuth(kind);
    admin = await auth.signUp('Deleting Admin', 'admin');
  });
  afterAll(() => auth.close());

  const asService = { 'x-service-token': testServiceToken };
  const login = (email: string, password: string) => auth.app.request('/api/sessions', jsonInit('POST', { email, password }, { ...asService, 'x-client-address': freshAddress() }));
  const me = (token: string) => auth.app.request('/api/me', { headers: bearer(token) });
  const asAdmin = (path: string, method = 'POST', body?: unknown) => auth.app.request(path, jsonInit(method, body, bearer(admin.token)));
  const deleteOwn = (token: string, password: string, address = freshAddress()) =>
    auth.app.request('/api/me', jsonInit('DELETE', { password }, { ...bearer(token), ...asService, 'x-client-address': address }));
  const revoked = async () => {
    const response = await auth.app.request('/api/revocations?since=0', { headers: asService });
    return ((await response.json()) as { items: { sessionId: string }[] }).items.map((item) => item.sessionId);
  };
  const deletedFeed = async (since = 0) => {
    const response = await auth.app.request(`/api/deleted-users?since=${since}`, { headers: asService });
    expect(response.status).toBe(200);
    return (await response.json()) as { items: { userId: number; deletedAt: number }[]; serverTime: number; more: boolean };
  };
  const sessionId = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sid as string;
  const stored = (id: number) => auth.orm.em.fork().findOneOrFail(User, { id }, { connectionType: 'write' });

  test('an admin deletes an account: its sessions end on the feed, it cannot log in, and nothing names the person any more', async () => {
    const user = await auth.signUp('Leaving Customer');
    await asAdmin(`/api/users/${user.userId}/disable`);
    await asAdmin(`/api/users/${user.userId}/enable`);
    const second = (await (await login(user.email, user.password)).json()) as { token: string };

    expect((await asAdmin(`/api/users/${user.userId}`, 'DELETE')).status).toBe(204);
    expect((await me(second.token)).status).toBe(401);
    expect(await revoked()).toContain(sessionId(second.token));
    expect((await login(user.email, user.password)).status).toBe(401);

    const row = await stored(user.userId);
    expect(row).toMatchObject({ name: 'Deleted user', passwordHash: '', deletedAt: expect.any(Date), disabledAt: expect.any(Date) });
    expect(row.email).not.toContain('leaving');
    // The record of admin actions keeps the account's id, not its email: not even in the older entries.
    const record = (await (await asAdmin(`/api/admin-actions?targetId=${user.userId}`, 'GET')).json()) as { items: { action: string; targetEmail: string; actorName: string }[] };
    expect(record.items.map((item) => item.action)).toEqual(['delete', 'enable', 'disable']);
    expect(JSON.stringify(record)).not.toContain(user.email);
    expect(record.items[0]!.actorName).toBe('Deleting Admin');
    const listed = (await (await asAdmin(`/api/users?q=${encodeURIComponent(user.email)}`, 'GET')).json()) as { total: number };
    expect(listed.total).toBe(0);

    const feed = await deletedFeed();
    expect(feed.items.map((item) => item.userId)).toContain(user.userId);
    // Asked from after the deletion, the feed has no more to say.
    expect((await deletedFeed(feed.serverTime + 1)).items.map((item) => item.userId)).not.toContain(user.userId);
  });

  test('a deleted account stays deleted: no change applies to it, deleting again does nothing, and its email can register anew', async () => {
    const user = await auth.signUp('Gone For Good');
    expect((await asAdmin(`/api/users/${user.userId}`, 'DELETE')).status).toBe(204);
    for (const [path, method, body] of [
      [`/api/users/${user.userId}/enable`, 'POST'],
      [`/api/users/${user.userId}/disable`, 'POST'],
      [`/api/users/${user.userId}/role`, 'PUT', { role: 'admin' }],
    ] as const) {
      expect([path, (await asAdmin(path, method, body)).status]).toEqual([path, 409]);
    }
    expect((await asAdmin(`/api/users/${user.userId}`, 'DELETE')).status).toBe(204);
    const record = (await (await asAdmin(`/api/admin-actions?targetId=${user.userId}`, 'GET')).json()) as { total: number };
    expect(record.total).toBe(1);

    const again = await auth.app.request('/api/users', jsonInit('POST', { name: 'Gone For Good', email: user.email, password: 'a new password' }, { ...asService, 'x-client-address': freshAddress() }));
    expect(again.status).toBe(201);
    expect(((await again.json()) as { id: number }).id).not.toBe(user.userId);
  });

  test('who may delete: 401 for a stranger, 403 for a customer, 409 for an admin deleting themselves or the last admin, 404 for no such user', async () => {
    const customer = await auth.signUp('Would Delete Others');
    const target = await auth.signUp('Kept Safe');
    expect((await auth.app.request(`/api/users/${target.userId}`, { method: 'DELETE' })).status).toBe(401);
    expect((await auth.app.request(`/api/users/${target.userId}`, { method: 'DELETE', headers: bearer(customer.token) })).status).toBe(403);
    expect((await me(target.token)).status).toBe(200);
    expect((await asAdmin(`/api/users/${admin.userId}`, 'DELETE')).status).toBe(409);
    expect((await asAdmin('/api/users/999999', 'DELETE')).status).toBe(404);
    // Deleting your own admin account through "my account" is refused while you are the only admin.
    const refused = await deleteOwn(admin.token, admin.password);
    expect(refused.status).toBe(409);
    expect((await me(admin.token)).status).toBe(200);
  });

  test('the owner deletes their own account with their password; a wrong one changes nothing and is counted like a login', async () => {
    const user = await auth.signUp('Self Deleting');
    expect((await auth.app.request('/api/me', jsonInit('DELETE', { password: user.password }))).status).toBe(401);
    expect((await deleteOwn(user.token, '')).status).toBe(400);

    const address = freshAddress();
    const wrong = await deleteOwn(user.token, 'not my password', address);
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { errors: Record<string, string> }).errors.password).toBeTruthy();
    expect((await me(user.token)).status).toBe(200);
    // Guessing through this door meets the same lock as guessing at the login.
    for (let i = 0; i < 4; i++) await deleteOwn(user.token, `guess ${i}`, address);
    const locked = await deleteOwn(user.token, user.password, address);
    expect(locked.status).toBe(429);
    expect((await me(user.token)).status).toBe(200);

    expect((await deleteOwn(user.token, user.password)).status).toBe(204);
    expect((await me(user.token)).status).toBe(401);
    expect(await revoked()).toContain(sessionId(user.token));
    const record = (await (await asAdmin(`/api/admin-actions?targetId=${user.userId}`, 'GET')).json()) as { items: { action: string; detail: string; actorId: number }[] };
    expect(record.items[0]).toMatchObject({ action: 'delete', actorId: user.userId, detail: expect.stringContaining('by its owner') });
  });

  test('the feed of deleted users is for services only, and pages when full', async () => {
    const user = await auth.signUp('Token Holder');
    // As on the revocation feed: without the service token, 403 (a user's token is not one).
    expect((await auth.app.request('/api/deleted-users?since=0')).status).toBe(403);
    expect((await auth.app.request('/api/deleted-users?since=0', { headers: bearer(user.token) })).status).toBe(403);
    const { deletedUsersSince } = await import('../src/accounts.ts');
    const all = (await deletedUsersSince(auth.orm.em.fork(), 0)).items;
    expect(all.length).toBeGreaterThan(1);
    // Page by page (one row a page), every deleted account comes exactly once, and paging ends.
    const paged: number[] = [];
    for (let since = 0, pages = 0; pages < 50; pages++) {
      const page = await deletedUsersSince(auth.orm.em.fork(), since, 1);
      paged.push(...page.items.map((item) => item.userId));
      if (!page.more) break;
      expect(page.serverTime).toBeGreaterThan(since);
      since = page.serverTime;
    }
    expect(paged.sort()).toEqual(all.map((item) => item.userId).sort());
  });
});

describe('probing which emails have accounts', () => {
  let auth: TestAuth;
  beforeAll(async () => (auth = await startTestAuth('mariadb')));
  afterAll(() => auth.close());

  test('an address gets only a few "email taken" answers; then it waits, and another address is not affected', async () => {
    const owner = await auth.signUp('Probed Owner');
    const signUp = (email: string, address: string) =>
      auth.app.request('/api/users', jsonInit('POST', { name: `Prober ${crypto.randomUUID().slice(0, 6)}`, email, password: 'prober-password' }, { 'x-service-token': testServiceToken, 'x-client-address': address }));
    // Fresh emails do not spend this budget.
    expect((await signUp(`new-${crypto.randomUUID()}@example.test`, '203.0.113.9')).status).toBe(201);
    const answers: number[] = [];
    for (let i = 0; i < 6; i++) answers.push((await signUp(owner.email, '203.0.113.9')).status);
    expect(answers).toEqual([409, 409, 409, 409, 409, 429]);
    const waiting = await signUp(`other-${crypto.randomUUID()}@example.test`, '203.0.113.9');
    expect(waiting.status).toBe(429);
    expect(waiting.headers.get('retry-after')).toBeTruthy();
    expect((await signUp(owner.email, '203.0.113.10')).status).toBe(409);
  });
});
