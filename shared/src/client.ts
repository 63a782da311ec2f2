/**
 * The typed service client: calls an endpoint another service publishes in `contracts/`, parses the
 * answer with the same zod schema the server answers with, and says which of four things happened.
 * A saga step needs all four: an answer is a decision, "not sent" means nothing happened there,
 * and "unknown" means it may have happened, so the caller asks again instead of undoing anything.
 */
import { z } from 'zod';
import type { Problem } from './errors.ts';
import { ServiceUnavailableError, type HttpClient } from './http.ts';

/** What came of one call. */
export type CallOutcome<A> =
  /** The service did it: 2xx, with the parsed answer. */
  | { kind: 'ok'; status: number; value: A }
  /** The service refused (4xx), with its reasons: a decision, final for this input. */
  | { kind: 'problem'; status: number; problem: Problem }
  /** The request never reached the service (connection refused): nothing happened there. */
  | { kind: 'not-sent'; reason: string }
  /** Sent, but no decision came back (timeout, connection lost, 5xx, unreadable answer): it may have happened. */
  | { kind: 'unknown'; reason: string };

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One route of a service, as its callers see it. */
export interface Endpoint<P, B, A> {
  method: HttpMethod;
  path: (params: P) => string;
  /** The request body's schema; none for bodiless calls. */
  body?: z.ZodType<B>;
  /** The 2xx answer's schema; `z.null()` for 204. */
  answer: z.ZodType<A>;
  /** Safe to send again: the service does it once however often it is asked (by order id, by key). */
  idempotent: boolean;
}

/**
 * @example
 * export const commitReservation = endpoint({
 *   method: 'POST', path: (p: { orderId: string }) => `/api/reservations/${p.orderId}/commit`,
 *   answer: reservationAnswer, idempotent: true,
 * });
 */
export function endpoint<P = void, B = undefined, A = unknown>(definition: Endpoint<P, B, A>): Endpoint<P, B, A> {
  return definition;
}

export interface CallInput<P, B> {
  params?: P;
  body?: B;
  /** A user's token, sent as Bearer. */
  token?: string;
  headers?: Record<string, string>;
}

export interface RetryPolicy {
  /** Attempts in all, for idempotent calls whose outcome is not known. */
  attempts?: number;
  /** First pause between attempts; doubled each time, with jitter. */
  backoffMs?: number;
  /** Time budget of one attempt. */
  timeoutMs?: number;
}

export interface ServiceClient {
  readonly service: string;
  call<P, B, A>(endpoint: Endpoint<P, B, A>, input?: CallInput<P, B>, policy?: RetryPolicy): Promise<CallOutcome<A>>;
}

/**
 * @example
 * const catalog = createServiceClient(createHttpClient({ service: 'catalog', baseUrl, headers }));
 * const outcome = await catalog.call(catalogApi.reserve, { body: { orderId, items } });
 * if (outcome.kind === 'unknown') scheduleRetry();
 */
export function createServiceClient(http: HttpClient, defaults: RetryPolicy = {}): ServiceClient {
  async function once<P, B, A>(endpoint: Endpoint<P, B, A>, input: CallInput<P, B>, timeoutMs?: number): Promise<CallOutcome<A>> {
    const headers: Record<string, string> = { accept: 'application/json', ...input.headers };
    if (input.token) headers.authorization = `Bearer ${input.token}`;
    if (input.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await http.request(endpoint.path(input.params as P), {
        method: endpoint.method,
        headers,
        body: input.body === undefined ? undefined : JSON.stringify(input.body),
        retries: 0,
        timeoutMs,
      });
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError)) throw error;
      return error.sent ? { kind: 'unknown', reason: error.message } : { kind: 'not-sent', reason: error.message };
    }
    try {
      if (response.status >= 500) {
        await response.body?.cancel();
        return { kind: 'unknown', reason: `${http.service} answered ${response.status}` };
      }
      const text = await response.text();
      if (response.status >= 400) return { kind: 'problem', status: response.status, problem: parseProblem(text, response.status) };
      const parsed = endpoint.answer.safeParse(text ? JSON.parse(text) : null);
      if (!parsed.success) return { kind: 'unknown', reason: `${http.service} answered ${response.status} with an unexpected body` };
      return { kind: 'ok', status: response.status, value: parsed.data };
    } catch {
      return { kind: 'unknown', reason: `${http.service}'s answer could not be read` };
    }
  }

  return {
    service: http.service,
    async call(endpoint, input = {}, policy = {}) {
      const attempts = Math.max(1, policy.attempts ?? defaults.attempts ?? 3);
      const backoffMs = policy.backoffMs ?? defaults.backoffMs ?? 100;
      const timeoutMs = policy.timeoutMs ?? defaults.timeoutMs;
      let outcome = await once(endpoint, input, timeoutMs);
      for (let attempt = 1; attempt < attempts; attempt++) {
        // A refusal or a success is final. A call that never arrived can always be sent again; one
        // that may have happened only when the service does it once however often it is asked.
        const again = outcome.kind === 'not-sent' || (outcome.kind === 'unknown' && endpoint.idempotent);
        if (!again) break;
        await Bun.sleep(backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
        const next = await once(endpoint, input, timeoutMs);
        // Once a try may have reached the service, the call as a whole may have happened.
        outcome = next.kind === 'not-sent' && outcome.kind === 'unknown' ? outcome : next;
      }
      return outcome;
    },
  };
}

function parseProblem(text: string, status: number): Problem {
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    if (typeof body === 'object' && body !== null) return { title: String(body.title ?? 'Error'), detail: String(body.detail ?? ''), ...body, status };
  } catch {
    // not JSON: keep what we can
  }
  return { title: 'Error', status, detail: text.slice(0, 200) };
}
