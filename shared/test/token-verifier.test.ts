/**
 * The token verifier every service uses, against a stand-in for auth whose keys and revocation feed
 * a test controls: who issued a token and for whom, a feed never read or gone quiet, a key removed.
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test';
import { createTokenVerifier, serviceTokenHeader, type PublicJwk, type TokenVerifier, type TokenVerifierOptions } from '../src/auth.ts';
import { createHttpClient, ServiceUnavailableError } from '../src/http.ts';
import { eventually, testServiceToken } from '../src/testing/http.ts';
import { mintTestToken, testSigningKey } from '../src/testing/tokens.ts';

const keyA = testSigningKey();
const keyB = testSigningKey();

/** What the stand-in auth publishes, and whether its feed answers (a closed feed never answers). */
let published: PublicJwk[] = [];
let feedOpened: Promise<void> = Promise.resolve();
let openFeed = () => {};
/** Polls of the revocation feed the stand-in auth has received, answered or not. */
let feedPolls = 0;
const closeFeed = () => (feedOpened = new Promise((resolve) => (openFeed = resolve)));

let server: ReturnType<typeof Bun.serve>;
const verifiers: TokenVerifier[] = [];

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === '/.well-known/jwks.json') return Response.json({ keys: published });
      if (path === '/api/revocations') {
        feedPolls++;
        await feedOpened;
        return Response.json({ items: [], serverTime: Date.now(), more: false });
      }
      return new Response('not found', { status: 404 });
    },
  });
});
afterEach(() => {
  for (const verifier of verifiers.splice(0)) verifier.stop();
  openFeed();
  published = [keyA.publicJwk];
});
afterAll(() => server.stop(true));

function startVerifier(options: Partial<TokenVerifierOptions> = {}): TokenVerifier {
  const auth = createHttpClient({ service: 'auth', baseUrl: `http://127.0.0.1:${server.port}`, timeoutMs: 300, retries: 0, headers: { [serviceTokenHeader]: testServiceToken } });
  const verifier = createTokenVerifier({ auth, pollMs: 100, ...options });
  verifier.start();
  verifiers.push(verifier);
  return verifier;
}

/** Whether verify refuses to tell (ServiceUnavailableError) rather than answering. */
async function cannotTell(verifier: TokenVerifier, token: string): Promise<boolean> {
  try {
    await verifier.verify(token);
    return false;
  } catch (error) {
    if (error instanceof ServiceUnavailableError) return true;
    throw error;
  }
}

test('a token is accepted only when auth issued it for a user session (iss and aud)', async () => {
  published = [keyA.publicJwk];
  const verifier = startVerifier();
  const valid = await mintTestToken(keyA.privateJwk, { sub: '7' });
  expect(await eventually(async () => (await verifier.verify(valid).catch(() => null)) !== null, 2000)).not.toBeNull();
  expect((await verifier.verify(valid))?.userId).toBe(7);
  for (const claims of [{ aud: 'bookstore-reports' }, { aud: undefined }, { aud: ['bookstore', 'bookstore-reports'] }, { iss: 'someone-else' }, { iss: undefined }]) {
    const forged = await mintTestToken(keyA.privateJwk, { sub: '7', ...claims });
    expect({ claims, principal: await verifier.verify(forged) }).toEqual({ claims, principal: null });
  }
});

test('until the revocation feed has been read once, no token is trusted; then tokens are', async () => {
  published = [keyA.publicJwk];
  closeFeed();
  const verifier = startVerifier();
  const valid = await mintTestToken(keyA.privateJwk);
  const polled = feedPolls;
  // Keys loaded, and several polls of the feed tried (none answered).
  expect(await eventually(async () => verifier.status().keys && feedPolls >= polled + 3, 3000)).not.toBeNull();
  expect(await cannotTell(verifier, valid)).toBe(true);
  expect(await verifier.verify('not-a-jwt')).toBeNull(); // no principal either way
  openFeed();
  expect(await eventually(async () => (await verifier.verify(valid).catch(() => null)) !== null, 2000)).not.toBeNull();
});

test('once the feed has been unreachable for much longer than its poll, tokens are not trusted until it answers', async () => {
  published = [keyA.publicJwk];
  const verifier = startVerifier({ feedStaleMs: 600 });
  const valid = await mintTestToken(keyA.privateJwk);
  expect(await eventually(async () => (await verifier.verify(valid).catch(() => null)) !== null, 2000)).not.toBeNull();
  closeFeed();
  expect(await eventually(() => cannotTell(verifier, valid), 3000)).not.toBeNull();
  openFeed();
  expect(await eventually(async () => (await verifier.verify(valid).catch(() => null)) !== null, 2000)).not.toBeNull();
});

test('by default the feed may be late for 30 s before tokens stop being trusted', async () => {
  published = [keyA.publicJwk];
  const verifier = startVerifier();
  const valid = await mintTestToken(keyA.privateJwk);
  expect(await eventually(async () => (await verifier.verify(valid).catch(() => null)) !== null, 2000)).not.toBeNull();
  const polled = feedPolls;
  closeFeed();
  // Several polls missed, but well within 30 s.
  expect(await eventually(async () => feedPolls >= polled + 4, 5000)).not.toBeNull();
  expect(await verifier.verify(valid)).not.toBeNull();
});

test('a key auth stops publishing is refused within seconds, even while its tokens keep arriving', async () => {
  published = [keyA.publicJwk, keyB.publicJwk];
  const verifier = startVerifier({ pollMs: 1000 }); // production defaults
  const oldToken = await mintTestToken(keyA.privateJwk);
  const newToken = await mintTestToken(keyB.privateJwk);
  expect(await eventually(async () => (await verifier.verify(oldToken).catch(() => null)) !== null, 2000)).not.toBeNull();
  published = [keyB.publicJwk];
  // The old token is asked about every 50 ms all along (its verified entry is reused while the key
  // stays). Stated time: the keys' refresh (5 s) plus the second an unknown key id waits for a fetch.
  const refusedAfter = await eventually(async () => (await verifier.verify(oldToken)) === null, 7500);
  expect(refusedAfter).not.toBeNull();
  expect(await verifier.verify(newToken)).not.toBeNull();
}, 15_000);

test('tampered tokens are refused: alg "none", HS256 keyed with the public key, an edited payload, a foreign key, an expired one', async () => {
  published = [keyA.publicJwk];
  const verifier = startVerifier();
  const good = await mintTestToken(keyA.privateJwk);
  expect(await eventually(async () => (await verifier.verify(good).catch(() => null)) !== null, 5000)).not.toBeNull();
  const [header, payload] = good.split('.') as [string, string, string];
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const asAdmin = b64({ ...claims, role: 'admin' });
  const hmac = new Bun.CryptoHasher('sha256', keyA.publicJwk.x!);
  const confusedHeader = b64({ alg: 'HS256', typ: 'JWT', kid: keyA.publicJwk.kid });
  const confused = `${confusedHeader}.${asAdmin}.${hmac.update(`${confusedHeader}.${asAdmin}`).digest('base64url')}`;
  const tampered = [
    `${b64({ alg: 'none', typ: 'JWT', kid: keyA.publicJwk.kid })}.${asAdmin}.`,
    confused,
    `${header}.${asAdmin}.${good.split('.')[2]}`,
    await mintTestToken(keyB.privateJwk, { role: 'admin' }),
    await mintTestToken(keyA.privateJwk, { exp: Math.floor(Date.now() / 1000) - 5 }),
  ];
  for (const token of tampered) expect(await verifier.verify(token)).toBeNull();
});
