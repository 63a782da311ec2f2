/** The one HTTP client between our processes: a time budget per call, one retry when it is safe, request ids carried along. */
import { requestContext } from './log.ts';

/**
 * `X-Read-Consistency: primary` asks a service to read from its primary database, for a caller who
 * has just changed something (read-your-writes); services honour it only for a signed-in caller.
 */
export const readConsistencyHeader = 'x-read-consistency';

/** The called service did not answer in time, or could not be reached, or answered 5xx. */
export class ServiceUnavailableError extends Error {
  constructor(
    readonly service: string,
    reason: string,
    /** False when the request surely never reached the service (connection refused): nothing happened there. */
    readonly sent = true,
  ) {
    super(`${service} is unavailable: ${reason}`);
  }
}

export interface HttpClientOptions {
  /** Name used in errors and logs: 'auth', 'catalog'. */
  service: string;
  baseUrl: string;
  /** Time budget for one attempt, in ms. */
  timeoutMs?: number;
  /** Extra attempts for idempotent requests that failed to connect or got 502/503/504. */
  retries?: number;
  /** Headers sent with every call (service credentials). */
  headers?: Record<string, string>;
}

export interface HttpClient {
  readonly service: string;
  readonly baseUrl: string;
  /** A `fetch` with the client's policy; also fits Hono's `hc(baseUrl, { fetch })`. */
  fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** `fetch` for a path under baseUrl. */
  request: (path: string, init?: RequestInit & CallOptions) => Promise<Response>;
}

/** Per-call overrides of the client's policy. */
export interface CallOptions {
  timeoutMs?: number;
  /** Extra attempts for this call (0: one attempt, the caller retries by its own policy). */
  retries?: number;
}

const idempotent = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const retryableStatus = new Set([502, 503, 504]);

/**
 * @example
 * const auth = createHttpClient({ service: 'auth', baseUrl: 'http://127.0.0.1:3001', timeoutMs: 1500 });
 * const res = await auth.request('/api/me', { headers: { authorization: `Bearer ${token}` } });
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const timeoutMs = options.timeoutMs ?? 2000;
  const retries = options.retries ?? 1;
  const baseUrl = options.baseUrl.replace(/\/$/, '');

  async function attempt(url: string, init: RequestInit, budget: number): Promise<Response> {
    const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(budget)]) : AbortSignal.timeout(budget);
    try {
      return await fetch(url, { ...init, signal });
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') throw new ServiceUnavailableError(options.service, `no answer within ${budget} ms`);
      const refused = (error as { code?: string }).code === 'ECONNREFUSED';
      throw new ServiceUnavailableError(options.service, refused ? 'connection refused' : 'connection failed', !refused);
    }
  }

  async function send(input: string | URL | Request, init: RequestInit & CallOptions = {}): Promise<Response> {
    const url = input instanceof Request ? input.url : input.toString();
    const base = input instanceof Request ? input : undefined;
    const method = (init.method ?? base?.method ?? 'GET').toUpperCase();
    const headers = new Headers(base?.headers);
    for (const [key, value] of new Headers(init.headers)) headers.set(key, value);
    for (const [key, value] of Object.entries(options.headers ?? {})) if (!headers.has(key)) headers.set(key, value);
    const requestId = requestContext.getStore()?.requestId;
    if (requestId && !headers.has('x-request-id')) headers.set('x-request-id', requestId);
    const body = init.body ?? (base && method !== 'GET' && method !== 'HEAD' ? await base.arrayBuffer() : undefined);
    const request: RequestInit = { ...init, method, headers, body };
    const attempts = idempotent.has(method) ? (init.retries ?? retries) + 1 : 1;
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        const response = await attempt(url, request, init.timeoutMs ?? timeoutMs);
        if (retryableStatus.has(response.status) && i < attempts - 1 && !init.signal?.aborted) {
          lastError = new ServiceUnavailableError(options.service, `status ${response.status}`);
          await response.body?.cancel();
          continue;
        }
        return response;
      } catch (error) {
        lastError = error;
        if (init.signal?.aborted) break; // the caller's own deadline has passed: no retry
        if (i < attempts - 1) await Bun.sleep(50 * (i + 1));
      }
    }
    throw lastError;
  }

  return {
    service: options.service,
    baseUrl,
    fetch: (input, init) => send(input, init),
    request: (path, init) => send(`${baseUrl}${path}`, init),
  };
}
