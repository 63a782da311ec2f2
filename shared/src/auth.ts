/**
 * Token checks for every service: user tokens are JWTs verified locally against auth's JWKS, and
 * refused once auth's revocation feed lists their session; service calls carry a shared service token.
 */
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { Jwt } from 'hono/utils/jwt';
import { z } from 'zod';
import { ProblemError } from './errors.ts';
import { ServiceUnavailableError, type HttpClient } from './http.ts';
import type { Logger } from './log.ts';

/** A public key as published in a JWKS. */
export type PublicJwk = JsonWebKey & { kid?: string; alg?: string };

export const userRoles = ['customer', 'admin'] as const;
export type UserRole = (typeof userRoles)[number];

/** Who is calling, as proven by a verified token. */
export interface Principal {
  userId: number;
  role: UserRole;
  name: string;
  sessionId: string;
  /** Seconds since epoch. */
  expiresAt: number;
  /** The raw token, to call other services on the user's behalf. */
  token: string;
}

/** `iss` of every token auth signs. */
export const tokenIssuer = 'bookstore-auth';
/**
 * `aud` of a user session token, the only one any service accepts: a token auth's key signs for
 * another purpose names another audience, and is refused as a session.
 */
export const sessionAudience = 'bookstore';

/** A session token's claims: a token without `iss` and `aud`, or with other values, is no session. */
export const tokenClaims = z.object({
  iss: z.literal(tokenIssuer),
  aud: z.literal(sessionAudience),
  sub: z.string().regex(/^\d+$/),
  role: z.enum(userRoles),
  sid: z.string().min(1),
  exp: z.number(),
  /** Display name, for services that show who did something (a book's seller). */
  name: z.string().max(100).default(''),
});

export const revocationFeed = z.object({
  items: z.array(z.object({ sessionId: z.string(), expiresAt: z.number() })),
  serverTime: z.number().int(),
  /** The page was full: ask again from serverTime, without the overlap. */
  more: z.boolean().default(false),
});

/** How far back each poll reaches before the previous answer's time, to catch late commits and clock skew. */
const feedOverlapMs = 5000;
/** How long a request waits for auth's keys when it has none yet. */
const keyWaitMs = 1000;
/** Keys are fetched for an unknown key id at most this often. */
const keyFetchGapMs = 1000;
/** Default of `keysRefreshMs`: a key auth stops publishing is refused within seconds. */
const defaultKeysRefreshMs = 5000;
/** Tokens whose signature was checked, kept so each page view does not check it again (bench/RESULTS.md). */
const verifiedTokensKept = 10_000;

export const signingAlgorithm = 'EdDSA';
export const serviceTokenHeader = 'x-service-token';

export interface TokenVerifier {
  /**
   * The principal for a valid, unrevoked token; null for any other token. Throws
   * ServiceUnavailableError when it cannot tell: auth's keys could not be loaded yet (a valid
   * session must not be thrown away because auth was down when this process started), or the
   * revocation feed has not been read yet or not for `feedStaleMs` (the token may have been revoked).
   */
  verify(token: string): Promise<Principal | null>;
  /** Fetches keys and the revocation feed now; throws if auth cannot be reached. */
  refresh(): Promise<void>;
  /** Whether keys are loaded and the feed answered within the last few polls. */
  status(): { keys: boolean; feedAgeMs: number | null };
  /** Starts polling the revocation feed every `pollMs`. */
  start(): void;
  stop(): void;
}

export interface TokenVerifierOptions {
  /** Client for the auth service, carrying the service token. */
  auth: HttpClient;
  pollMs?: number;
  /** How often the keys are fetched again even when none is unknown: a removed key stops working within this. Default 5000. */
  keysRefreshMs?: number;
  /**
   * How long the feed may go unanswered before no token is trusted (revocations may have been
   * missed). Default: 30 s or 10 polls, whichever is longer.
   */
  feedStaleMs?: number;
  log?: Logger;
}

/**
 * @example
 * const verifier = createTokenVerifier({ auth: authClient, pollMs: 1000 });
 * verifier.start();
 * app.use('/api/*', authenticate(verifier));
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const pollMs = options.pollMs ?? 1000;
  const keysRefreshMs = options.keysRefreshMs ?? defaultKeysRefreshMs;
  const feedStaleMs = options.feedStaleMs ?? Math.max(30_000, pollMs * 10);
  let keys: PublicJwk[] = [];
  let keysFetchedAt = 0;
  let since = 0;
  let feedAnsweredAt: number | null = null;
  const revoked = new Map<string, number>();
  /**
   * Tokens already checked, by their exact text: a signature check imports the key and costs more
   * than the rest of a cached page. An entry stands only while its key is still published and the
   * token has not expired; revocation is checked on every call.
   */
  const verified = new Map<string, { claims: z.infer<typeof tokenClaims>; kid: string }>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let keysTimer: ReturnType<typeof setInterval> | undefined;
  /** The poll under way, shared by the timer and `refresh` so they never pile up on auth. */
  let feedPoll: Promise<void> | null = null;

  let loadingKeys: Promise<void> | null = null;
  /** Fetches auth's keys; callers arriving while a fetch is under way share it. */
  function loadKeys(): Promise<void> {
    loadingKeys ??= (async () => {
      try {
        keysFetchedAt = Date.now();
        const response = await options.auth.request('/.well-known/jwks.json');
        if (!response.ok) throw new Error(`jwks answered ${response.status}`);
        keys = ((await response.json()) as { keys: PublicJwk[] }).keys;
      } finally {
        loadingKeys = null;
      }
    })();
    return loadingKeys;
  }

  /** Reads the feed from `since`, page after page while pages come full (at most 10 per poll). */
  async function pollFeed() {
    for (let page = 0; page < 10; page++) {
      const response = await options.auth.request(`/api/revocations?since=${since}`);
      if (!response.ok) throw new Error(`revocation feed answered ${response.status}`);
      const feed = revocationFeed.parse(await response.json());
      for (const item of feed.items) revoked.set(item.sessionId, item.expiresAt);
      since = feed.more ? feed.serverTime : Math.max(0, feed.serverTime - feedOverlapMs);
      if (!feed.more) break;
    }
    feedAnsweredAt = Date.now();
    const now = Date.now() / 1000;
    for (const [sessionId, expiresAt] of revoked) if (expiresAt < now) revoked.delete(sessionId);
  }

  function pollFeedOnce(): Promise<void> {
    feedPoll ??= pollFeed().finally(() => (feedPoll = null));
    return feedPoll;
  }

  /**
   * Throws unless the feed has answered recently enough that no revocation can have been missed. A
   * request arriving while the first poll is under way (at start-up) waits for it, at most a second.
   */
  async function requireFreshFeed(): Promise<void> {
    if (feedAnsweredAt === null && feedPoll) await Promise.race([feedPoll.catch(() => {}), Bun.sleep(keyWaitMs)]);
    if (feedAnsweredAt === null) throw new ServiceUnavailableError('auth', 'revocation feed not read yet');
    const age = Date.now() - feedAnsweredAt;
    if (age > feedStaleMs) throw new ServiceUnavailableError('auth', `revocation feed unanswered for ${Math.round(age / 1000)} s`);
  }

  function principalOf(claims: z.infer<typeof tokenClaims>, token: string): Principal | null {
    if (revoked.has(claims.sid) || claims.exp * 1000 <= Date.now()) return null;
    return { userId: Number(claims.sub), role: claims.role, name: claims.name, sessionId: claims.sid, expiresAt: claims.exp, token };
  }

  async function verify(token: string): Promise<Principal | null> {
    const principal = await principalFor(token);
    if (principal) await requireFreshFeed();
    return principal;
  }

  /** The principal as far as keys, claims and the revocations read so far tell. */
  async function principalFor(token: string): Promise<Principal | null> {
    if (token.length > 4096) return null;
    const known = verified.get(token);
    if (known && keys.some((key) => key.kid === known.kid)) return principalOf(known.claims, token);
    let kid: unknown;
    try {
      kid = Jwt.decode(token).header.kid;
    } catch {
      return null;
    }
    // A key we have not seen: auth may have rotated. Fetch the keys again, at most once a second
    // (a token asking sooner waits for that turn rather than being refused: a new login must not
    // fail), and wait at most a second for auth: if auth hangs, requests must not hang with it.
    if (!keys.some((key) => key.kid === kid)) {
      const turn = Math.max(0, keysFetchedAt + keyFetchGapMs - Date.now());
      const loaded = (loadingKeys ?? Bun.sleep(turn).then(() => loadingKeys ?? loadKeys())).catch((error) =>
        options.log?.warn('cannot fetch auth keys', { error: (error as Error).message }),
      );
      await Promise.race([loaded, Bun.sleep(turn + keyWaitMs)]);
    }
    if (keys.length === 0) throw new ServiceUnavailableError('auth', 'signing keys not loaded yet');
    try {
      const payload = await Jwt.verifyWithJwks(token, { keys, allowedAlgorithms: [signingAlgorithm] });
      const claims = tokenClaims.parse(payload);
      if (typeof kid === 'string') {
        if (verified.size >= verifiedTokensKept) verified.delete(verified.keys().next().value!);
        verified.set(token, { claims, kid });
      }
      return principalOf(claims, token);
    } catch {
      return null;
    }
  }

  return {
    verify,
    async refresh() {
      await Promise.all([loadKeys(), pollFeedOnce()]);
    },
    status: () => ({ keys: keys.length > 0, feedAgeMs: feedAnsweredAt === null ? null : Date.now() - feedAnsweredAt }),
    start() {
      if (timer) return;
      const fetchKeys = () => void loadKeys().catch((error) => options.log?.warn('cannot fetch auth keys', { error: (error as Error).message }));
      const tick = async () => {
        if (keys.length === 0) fetchKeys();
        if (feedPoll) return; // the last poll is still running: never pile up on auth
        await pollFeedOnce().catch((error) => options.log?.warn('revocation feed unreachable', { error: (error as Error).message }));
      };
      void tick();
      timer = setInterval(tick, pollMs);
      keysTimer = setInterval(fetchKeys, keysRefreshMs);
    },
    stop() {
      clearInterval(timer);
      clearInterval(keysTimer);
      timer = keysTimer = undefined;
    },
  };
}

export type AuthVariables = {
  principal: Principal | null;
  /** A token came but could not be checked (auth's keys or revocation feed not read yet, or the feed unanswered too long). */
  tokenUnchecked: boolean;
};

export function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1] ?? null;
}

/**
 * Sets `c.var.principal` from a Bearer token when there is a valid one, null otherwise. Public
 * routes still answer when the token cannot be checked; `requirePrincipal` then answers 503.
 */
export function authenticate(verifier: Pick<TokenVerifier, 'verify'>): MiddlewareHandler<{ Variables: AuthVariables }> {
  return createMiddleware(async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    let principal: Principal | null = null;
    let unchecked = false;
    try {
      principal = token ? await verifier.verify(token) : null;
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError)) throw error;
      unchecked = true;
    }
    c.set('principal', principal);
    c.set('tokenUnchecked', unchecked);
    await next();
  });
}

/** The 401 answer to a request without a valid token. */
export const loginRequired = () =>
  new ProblemError(401, 'Log in to continue: the token is missing, expired or revoked', {}, { 'www-authenticate': 'Bearer' });

/** The caller, or 401 (503 when their token could not be checked). */
export function requirePrincipal({ principal, tokenUnchecked }: AuthVariables): Principal {
  if (tokenUnchecked) throw new ServiceUnavailableError('auth', 'cannot check tokens yet');
  if (!principal) {
    throw loginRequired();
  }
  return principal;
}

/** Route middleware: 401 (or 503) before anything else when there is no valid token, so input is checked only for callers. */
export const signedIn = (): MiddlewareHandler<{ Variables: AuthVariables }> =>
  createMiddleware(async (c, next) => {
    requirePrincipal(c.var);
    await next();
  });

/**
 * Only callers with a service token pass: reservations, revocation feed. User tokens never do.
 * Several tokens may be accepted at once, so the token can be rotated without downtime.
 */
export function requireServiceToken(serviceTokens: string | readonly string[]): MiddlewareHandler {
  return createMiddleware(async (c, next) => {
    if (!hasServiceToken(c.req.header(serviceTokenHeader), serviceTokens)) throw new ProblemError(403, 'This endpoint is for Bookstore services only');
    await next();
  });
}

/** Whether a request carries one of the service tokens (for trusting a forwarded client address). */
export function hasServiceToken(header: string | undefined, serviceTokens: string | readonly string[]): boolean {
  const given = Buffer.from(header ?? '');
  let matched = false;
  for (const token of typeof serviceTokens === 'string' ? [serviceTokens] : serviceTokens) {
    const expected = Buffer.from(token);
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  return matched;
}

/** The tokens a service accepts: the one it sends, and those of `SERVICE_TOKENS_ACCEPTED` (rotation). */
export const acceptedServiceTokens = (config: { SERVICE_TOKEN: string; SERVICE_TOKENS_ACCEPTED?: string[] }) => [config.SERVICE_TOKEN, ...(config.SERVICE_TOKENS_ACCEPTED ?? [])];

/** Readiness of token checking: keys loaded and the revocation feed answering (within 10 polls). */
export function tokenCheckReadiness(verifier: Pick<TokenVerifier, 'status' | 'refresh'>, pollMs = 1000) {
  return async () => {
    const status = verifier.status();
    if (!status.keys || status.feedAgeMs === null || status.feedAgeMs > pollMs * 10) await verifier.refresh();
  };
}

/** The config every service that checks tokens needs. */
export const serviceTokenConfig = z.string().min(32, 'must be at least 32 characters');

/**
 * Further service tokens accepted (comma-separated) while the token is rotated: add the new one
 * here everywhere, then make it SERVICE_TOKEN everywhere, then drop the old one from here.
 */
export const serviceTokenList = z
  .string()
  .default('')
  .transform((value) => value.split(',').map((token) => token.trim()).filter(Boolean))
  .pipe(z.array(serviceTokenConfig));

export const tokenCheckConfig = z.object({
  AUTH_URL: z.url().default('http://127.0.0.1:3001'),
  SERVICE_TOKEN: serviceTokenConfig,
  SERVICE_TOKENS_ACCEPTED: serviceTokenList,
  REVOCATION_POLL_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
  /** How often auth's public keys are fetched again: a key auth stops publishing is refused within this. */
  KEYS_REFRESH_MS: z.coerce.number().int().min(1000).max(60_000).default(defaultKeysRefreshMs),
});
