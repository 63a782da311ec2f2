/** The auth API as a client sees it, on MariaDB and on the embedded SQLite default. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { bearer, jsonInit, testServiceToken } from '@bookstore/shared/testing/http';
import { User } from '../src/entities.ts';
import { startTestAuth, testAuthConfig, type TestAuth } from './support.ts';

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
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'name', 'role', 'sid', 'sub']);
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

  test('5 wrong passwords from one address lock that address out of the account (429 with Retry-After, even to the right password), not the owner elsewhere', async () => {
    const { email, password } = await auth.signUp('Throttled');
    const guesser = { 'x-client-address': randomAddress() };
    for (let i = 0; i < 5; i++) expect((await login({ email, password: `wrong-${i}` }, guesser)).status).toBe(401);
    const locked = await login({ email, password }, guesser);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(locked.headers.get('content-type')).toContain('application/problem+json');
    // Someone else's guesses cost the owner nothing: from another address, even a new one, they get in.
    expect((await login({ email, password })).status).toBe(201);
  });

  test('40 guesses at once from one address get no more password checks than 5 slow ones', async () => {
    const { email, password } = await auth.signUp('Parallel Target');
    const guesser = { 'x-client-address': randomAddress() };
    const guesses = await Promise.all(Array.from({ length: 40 }, (_, i) => login({ email, password: `wrong-${i}` }, guesser)));
    const statuses = guesses.map((response) => response.status);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(35);
    // From that address, the right password waits out the lock like every guess...
    expect((await login({ email, password }, guesser)).status).toBe(429);
    // ...but the owner elsewhere is not locked out by it.
    expect((await login({ email, password })).status).toBe(201);
  });

  test('guesses spread over many addresses are bounded by the account budget, and never lock the owner out where they logged in before', async () => {
    // signUp logs in once from its own address: an address this account is known from.
    const { email, password } = await auth.signUp('Distributed Target');
    const budget = testAuthConfig.LOGIN_MAX_FAILURES_PER_ACCOUNT;
    expect(budget).toBeGreaterThan(testAuthConfig.LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS);
    const guesses = await Promise.all(Array.from({ length: 2 * budget }, (_, i) => login({ email, password: `wrong-${i}` })));
    const statuses = guesses.map((response) => response.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(budget);
    expect(statuses.filter((status) => status === 429)).toHaveLength(budget);
    // The account is now slowed for addresses it was never used from, the right password included...
    const stranger = await login({ email, password });
    expect(stranger.status).toBe(429);
    expect(Number(stranger.headers.get('retry-after'))).toBeGreaterThan(0);
    // ...while its owner, from where they logged in before, gets in.
    expect((await login({ email, password }, { 'x-client-address': `signup-${email}` })).status).toBe(201);
  });

  test('a shared address (an office, a proxy): successful logins never use up its failure budget, and a burst of them locks no one out', async () => {
    const office = { 'x-client-address': randomAddress() };
    const limit = testAuthConfig.LOGIN_MAX_FAILURES_PER_ADDRESS;
    const colleagues = await Promise.all(Array.from({ length: limit + 5 }, (_, i) => auth.signUp(`Colleague ${i}`)));
    const burst = await Promise.all(colleagues.map(({ email, password }) => login({ email, password }, office)));
    // Those over the address's capacity at that instant are asked to retry in a second, not locked out.
    for (const response of burst) {
      if (response.status !== 201) expect([response.status, response.headers.get('retry-after')]).toEqual([429, '1']);
    }
    for (const [i, response] of burst.entries()) {
      if (response.status === 201) continue;
      const { email, password } = colleagues[i]!;
      expect((await login({ email, password }, office)).status).toBe(201);
    }
    // Many successes later, the address still has its whole failure budget: typos are checked.
    for (let round = 0; round < 3; round++) {
      for (const { email, password } of colleagues.slice(0, 10)) expect((await login({ email, password }, office)).status).toBe(201);
    }
    for (let i = 0; i < limit - 1; i++) expect((await login({ email: colleagues[i]!.email, password: 'typo' }, office)).status).toBe(401);
    expect((await login({ email: colleagues[limit]!.email, password: colleagues[limit]!.password }, office)).status).toBe(201);
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

  // Each from its own address, so these sign-ups stay clear of the per-address sign-up limit.
  const registerFrom = (body: unknown) =>
    auth.app.request('/api/users', jsonInit('POST', body, { 'x-client-address': randomAddress(), 'x-service-token': testServiceToken }));
  const nameError = async (response: Response) => ((await response.json()) as { errors?: { name?: string } }).errors?.name ?? '';

  test('a name with control, invisible or text-direction characters is refused with a sentence naming the field', async () => {
    const names = [
      'Bell\u0007Ringer',
      'Tab\tName',
      'Evil\u202Erellesk',
      'Quiet\u2066Isolate\u2069',
      'Marked\u200FName',
      'Arabic\u061CMark',
      'Zero\u200BWidth',
      'Joined\u200DName',
      'Soft\u00ADHyphen',
      'Byte\uFEFFOrder',
      'Hangul\u3164Filler',
    ];
    for (const [i, name] of names.entries()) {
      const response = await registerFrom({ name, email: `invisible-${i}@example.test`, password: 'long-enough' });
      expect([name, response.status]).toEqual([name, 400]);
      expect(await nameError(response)).toMatch(/^Name .+\.$/);
    }
  });

  test('names are stored normalised: compatibility forms folded (NFKC), trimmed, one space between words', async () => {
    const response = await registerFrom({ name: '  \uFF27race\u00A0\u00A0 \u2003Hopper \u2160 ', email: 'normal@example.test', password: 'long-enough' });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { name: string }).name).toBe('Grace Hopper I');
  });

  test('a name that looks like another user\'s is refused: letter case, accents, spacing, digits, Cyrillic and Greek look-alikes', async () => {
    expect((await registerFrom({ name: 'Bob Bookseller', email: 'bob.original@example.test', password: 'long-enough' })).status).toBe(201);
    const impostors = [
      'BOB BOOKSELLER',
      'bob bookseller',
      'B\u00F3b B\u00F6okseller',
      'Bob  Bookseller',
      'Bob-Bookseller.',
      'Bob Bookse11er',
      'B0b Bookseller',
      '\u0412\u043Eb Bookseller', // Cyrillic Ve, o
      '\u0392\u03BF\u042C Bookseller', // Greek Beta, omicron; Cyrillic soft sign
      'Bob Bo\u043Eks\u0435ll\u0435r', // Cyrillic o, e
      'Bob Bookse\u04CF\u04CFer', // Cyrillic palochka
      'Bob Bookse\u0049\u0049er', // capital I for l
      'Bob Bookse\u2160\u2160er', // Roman numeral one
    ];
    for (const [i, name] of impostors.entries()) {
      const response = await registerFrom({ name, email: `impostor-${i}@example.test`, password: 'long-enough' });
      expect([name, response.status]).toEqual([name, 409]);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await nameError(response)).toMatch(/^Name .+\.$/);
    }
    const users = await auth.orm.em.fork().find(User, { email: { $like: 'impostor-%' } });
    expect(users).toEqual([]);
    // A name that differs in what it says is fine.
    expect((await registerFrom({ name: 'Bob Booksellers', email: 'bob.other@example.test', password: 'long-enough' })).status).toBe(201);
  });

  test('two look-alike names registered at the same moment: exactly one wins', async () => {
    const [first, second] = await Promise.all([
      registerFrom({ name: 'Twin Seller', email: 'twin-1@example.test', password: 'long-enough' }),
      registerFrom({ name: '\u0422win Seller', email: 'twin-2@example.test', password: 'long-enough' }),
    ]);
    expect([first!.status, second!.status].sort()).toEqual([201, 409]);
    expect(await nameError(first!.status === 409 ? first! : second!)).toMatch(/^Name .+\.$/);
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
