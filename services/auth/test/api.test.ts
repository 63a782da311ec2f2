/** The auth API as a client sees it, on MariaDB and on the embedded SQLite default. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { bearer, jsonInit, testServiceToken } from '@bookstore/shared/testing/http';
import { User } from '../src/entities.ts';
import { startTestAuth, type TestAuth } from './support.ts';

function randomAddress() {
  return `10.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}`;
}

describe.each(['mariadb', 'sqlite'] as const)('auth API on %s', (kind) => {
  let auth: TestAuth;
  beforeAll(async () => {
    auth = await startTestAuth(kind);
  });
  afterAll(() => auth.close());

  const register = (body: unknown) => auth.app.request('/api/users', jsonInit('POST', body));
  // Each login comes from its own address (as the web front tells auth), unless a test says otherwise.
  const login = (body: unknown, headers: Record<string, string> = {}) =>
    auth.app.request('/api/sessions', jsonInit('POST', body, { 'x-client-address': randomAddress(), 'x-service-token': testServiceToken, ...headers }));

  test('registering answers 201 with the user and never the password hash', async () => {
    const response = await register({ name: 'Grace Hopper', email: 'Grace@Example.test', password: 'cobol-forever' });
    expect(response.status).toBe(201);
    const user = (await response.json()) as Record<string, unknown>;
    expect(user).toMatchObject({ name: 'Grace Hopper', email: 'grace@example.test', role: 'customer' });
    expect(typeof user.id).toBe('number');
    expect(JSON.stringify(user)).not.toContain('argon2');
    expect(JSON.stringify(user)).not.toContain('cobol-forever');
  });

  test('an email already registered, in any letter case, answers 409', async () => {
    await register({ name: 'First', email: 'taken@example.test', password: 'password-one' });
    const response = await register({ name: 'Second', email: 'TAKEN@example.test', password: 'password-two' });
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 409, errors: { email: 'is already registered' } });
  });

  test('invalid registration answers 400 naming each bad field', async () => {
    const response = await register({ name: '', email: 'not-an-email', password: 'short' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as { errors: Record<string, string> };
    expect(Object.keys(problem.errors).sort()).toEqual(['email', 'name', 'password']);
    expect(problem.errors.password).toContain('at least 8');
  });

  test('the stored hash is argon2id with the OWASP parameters', async () => {
    await register({ name: 'Hashed', email: 'hashed@example.test', password: 'a-good-password' });
    const user = await auth.orm.em.fork().findOneOrFail(User, { email: 'hashed@example.test' });
    const [, algorithm, version, parameters] = user.passwordHash.split('$');
    expect([algorithm, version]).toEqual(['argon2id', 'v=19']);
    expect(parameters!.split(',').sort()).toEqual(['m=19456', 'p=1', 't=2']);
  });

  test('login answers a token that /api/me accepts; logout kills it at once', async () => {
    await register({ name: 'Ada', email: 'ada@example.test', password: 'analytical-engine' });
    const response = await login({ email: 'ADA@example.test', password: 'analytical-engine' });
    expect(response.status).toBe(201);
    const session = (await response.json()) as { token: string; expiresAt: string; user: { email: string } };
    expect(session.user.email).toBe('ada@example.test');
    expect(new Date(session.expiresAt).getTime()).toBeGreaterThan(Date.now());

    const me = await auth.app.request('/api/me', { headers: bearer(session.token) });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ email: 'ada@example.test', role: 'customer' });

    const logout = await auth.app.request('/api/sessions/current', { method: 'DELETE', headers: bearer(session.token) });
    expect(logout.status).toBe(204);
    const after = await auth.app.request('/api/me', { headers: bearer(session.token) });
    expect(after.status).toBe(401);
  });

  test('the token is an EdDSA JWT whose kid is published in the JWKS', async () => {
    const { token } = await auth.signUp('Jwks Reader');
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(header.alg).toBe('EdDSA');
    expect(Object.keys(claims).sort()).toEqual(['exp', 'iat', 'name', 'role', 'sid', 'sub']);
    const jwks = (await (await auth.app.request('/.well-known/jwks.json')).json()) as { keys: { kid: string; d?: string }[] };
    expect(jwks.keys.map((key) => key.kid)).toContain(header.kid);
    expect(jwks.keys.every((key) => key.d === undefined)).toBe(true);
  });

  test('a wrong password and an unknown email get the same 401', async () => {
    const { email } = await auth.signUp('Wrong Password');
    const wrong = await login({ email, password: 'not-the-password' });
    const unknown = await login({ email: 'nobody@example.test', password: 'not-the-password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(((await wrong.json()) as { detail: string }).detail).toBe(((await unknown.json()) as { detail: string }).detail);
  });

  test('after 5 failures the account answers 429 with Retry-After, even to the right password', async () => {
    const { email, password } = await auth.signUp('Throttled');
    for (let i = 0; i < 5; i++) expect((await login({ email, password: `wrong-${i}` })).status).toBe(401);
    const locked = await login({ email, password });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(locked.headers.get('content-type')).toContain('application/problem+json');
  });

  test('40 guesses at once get no more password checks than 5 slow ones', async () => {
    const { email, password } = await auth.signUp('Parallel Target');
    const guesses = await Promise.all(Array.from({ length: 40 }, (_, i) => login({ email, password: `wrong-${i}` })));
    const statuses = guesses.map((response) => response.status);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(35);
    // The owner, with the right password, waits out the lock like everyone else.
    expect((await login({ email, password })).status).toBe(429);
  });

  test('a locked address cannot lock other people\'s accounts', async () => {
    const attacker = { 'x-client-address': '192.0.2.66' };
    for (let i = 0; i < 21; i++) await login({ email: `nobody-${i}@example.test`, password: 'x' }, attacker);
    const { email, password } = await auth.signUp('Bystander');
    for (let i = 0; i < 10; i++) expect((await login({ email, password: 'guess' }, attacker)).status).toBe(429);
    expect((await login({ email, password })).status).toBe(201);
  });

  test('a NUL character in any field is a 400, never a server error', async () => {
    expect((await register({ name: 'Nul\u0000Name', email: 'nul@example.test', password: 'long-enough' })).status).toBe(400);
    expect((await login({ email: 'nul\u0000@example.test', password: 'whatever' })).status).toBe(400);
    expect((await auth.app.request('/api/users?page=%00')).status).toBe(400);
  });

  test('sign-ups from one address are limited: each costs a password hash', async () => {
    const headers = { 'x-client-address': '198.51.100.200', 'x-service-token': testServiceToken };
    const attempts = [];
    for (let i = 0; i < 21; i++) {
      attempts.push(await auth.app.request('/api/users', jsonInit('POST', { name: `Bulk ${i}`, email: `bulk-${i}@example.test`, password: 'bulk-password' }, headers)));
    }
    expect(attempts.slice(0, 20).every((response) => response.status === 201)).toBe(true);
    expect(attempts[20]!.status).toBe(429);
    expect(attempts[20]!.headers.get('retry-after')).toBeTruthy();
  });

  test('one client address guessing many accounts is throttled too', async () => {
    const headers = { 'x-client-address': '203.0.113.77', 'x-service-token': testServiceToken };
    for (let i = 0; i < 20; i++) await login({ email: `guess-${i}@example.test`, password: 'guess' }, headers);
    const { email, password } = await auth.signUp('Innocent From Same Address');
    const response = await login({ email, password }, headers);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBeTruthy();
    // The same account from another address still gets in.
    expect((await login({ email, password }, { ...headers, 'x-client-address': '203.0.113.78' })).status).toBe(201);
  });

  test('a forwarded client address is ignored without the service token', async () => {
    const { email, password } = await auth.signUp('Spoofer');
    const untrusted = (body: unknown, address: string) => auth.app.request('/api/sessions', jsonInit('POST', body, { 'x-client-address': address }));
    for (let i = 0; i < 25; i++) await untrusted({ email: `spoof-${i}@example.test`, password: 'x' }, `192.0.2.${i}`);
    // All 25 failures counted against the caller's real address, not 25 spoofed ones.
    const response = await untrusted({ email, password }, '192.0.2.200');
    expect(response.status).toBe(429);
  });

  test('only admins list users', async () => {
    const customer = await auth.signUp('Plain Customer');
    const admin = await auth.signUp('The Admin', 'admin');
    expect((await auth.app.request('/api/users', { headers: bearer(customer.token) })).status).toBe(403);
    expect((await auth.app.request('/api/users')).status).toBe(401);
    const response = await auth.app.request('/api/users?page=1&pageSize=2', { headers: bearer(admin.token) });
    expect(response.status).toBe(200);
    const listing = (await response.json()) as { items: { email: string }[]; page: number; pageSize: number; total: number };
    expect(listing.items).toHaveLength(2);
    expect(listing.total).toBeGreaterThanOrEqual(2);
    expect(listing.items[0]!.email).toBe(admin.email);
  });

  test('the revocation feed is for services only and lists a logged-out session', async () => {
    const { token } = await auth.signUp('Feed Reader');
    expect((await auth.app.request('/api/revocations', { headers: bearer(token) })).status).toBe(403);
    await auth.app.request('/api/sessions/current', { method: 'DELETE', headers: bearer(token) });
    const sid = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sid;
    const feed = await auth.app.request('/api/revocations?since=0', { headers: { 'x-service-token': testServiceToken } });
    expect(feed.status).toBe(200);
    const body = (await feed.json()) as { items: { sessionId: string }[] };
    expect(body.items.map((item) => item.sessionId)).toContain(sid);
  });

  test('no password ever reaches the logs', async () => {
    const secret = `Sup3r-Secret-${crypto.randomUUID()}`;
    await register({ name: 'Logged', email: 'logged@example.test', password: secret });
    await login({ email: 'logged@example.test', password: secret });
    await login({ email: 'logged@example.test', password: `${secret}-wrong` });
    await register({ name: 'Logged', email: 'logged@example.test', password: secret });
    expect(auth.log.lines.length).toBeGreaterThan(3);
    expect(auth.log.lines.join('\n')).not.toContain(secret);
  });
});
