/** RFC 9457 problem details: the one error shape of every API, and the handlers that produce it. */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { ServiceUnavailableError } from './http.ts';
import type { Logger } from './log.ts';

// Clearer messages than zod's defaults for the two most common mistakes: a missing field, a wrong type.
z.config({
  customError: (issue) => {
    if (issue.code === 'invalid_type') return issue.input === undefined ? 'is required' : `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    return undefined;
  },
});

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  /** Field-level messages for invalid input: `{ email: 'Invalid email address' }`. */
  errors?: Record<string, string>;
  [extension: string]: unknown;
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * An expected failure, thrown from a handler and answered as problem+json.
 *
 * @example
 * throw new ProblemError(409, 'That email is already registered', { errors: { email: 'already registered' } });
 */
export class ProblemError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly detail: string,
    readonly extra: ProblemExtension = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

/** What a problem may carry besides its own fields: never its title, status or detail. */
export type ProblemExtension = Omit<Partial<Problem>, 'title' | 'status' | 'detail'>;

/**
 * A problem's body (RFC 9457): `title` is always the title of its type, here the status's own
 * phrase (the type is `about:blank`), never text of the request's; what happened goes in `detail`.
 */
export function problemBody(status: number, detail: string, extra: ProblemExtension = {}): Problem {
  const { title: _title, status: _status, detail: _detail, ...extensions } = extra as Partial<Problem>;
  return { ...extensions, title: titles[status] ?? 'Error', status, detail };
}

export function problemResponse(status: number, detail: string, extra: ProblemExtension = {}, headers: Record<string, string> = {}) {
  const body = problemBody(status, detail, extra);
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
}

/** Field messages from a zod error, keyed by the dotted path ("items.0.quantity"); "body" when the whole input is wrong. */
interface ValidationIssues {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}

export function fieldErrors(error: ValidationIssues): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join('.') || 'body';
    errors[key] ??= issue.message;
  }
  return errors;
}

/** The hook given to zValidator: invalid input becomes a 400 problem naming each field. */
export function validationHook(result: { success: true } | { success: false; error: ValidationIssues }, c: Context) {
  if (!result.success) {
    const errors = fieldErrors(result.error);
    return problemResponse(400, `Invalid input: ${Object.entries(errors).map(([k, v]) => `${k}: ${v}`).join('; ')}`, { errors });
  }
  void c;
}

const unavailableDatabaseErrors = new Set(['ConnectionException', 'LockWaitTimeoutException', 'DeadlockException']);
const unavailableDatabaseCodes =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|PROTOCOL_CONNECTION_LOST|PROTOCOL_SEQUENCE_TIMEOUT|ER_CON_COUNT_ERROR|ER_TOO_MANY_USER_CONNECTIONS|ER_SERVER_SHUTDOWN|ER_STATEMENT_TIMEOUT|ER_QUERY_TIMEOUT|ER_LOCK_WAIT_TIMEOUT|ER_LOCK_DEADLOCK|ER_QUERY_INTERRUPTED|SQLITE_BUSY|SQLITE_LOCKED)$/;

/**
 * A database that is down, refuses connections, or ran out of time (statement limit, lock wait,
 * deadlock after retries): the request may be sent again shortly, so 503, not 500. Read from the
 * error's name and driver code (MikroORM's exceptions carry the driver's `code`), without importing
 * the ORM here.
 */
function isDatabaseUnavailable(error: unknown): boolean {
  const { name, code, message } = (error ?? {}) as { name?: string; code?: string; message?: string };
  if (unavailableDatabaseErrors.has(name ?? '') || unavailableDatabaseCodes.test(code ?? '')) return true;
  return /max_statement_time exceeded|maximum statement execution time exceeded|Connection lost|connect ETIMEDOUT|Pool is closed|Timeout acquiring a connection/i.test(message ?? '');
}

/** Turns thrown errors into problem+json; unexpected ones are logged with their stack and answered as a bare 500. */
export function problemErrorHandler(log: Logger): ErrorHandler {
  return (error, c) => {
    if (error instanceof ProblemError) return problemResponse(error.status, error.detail, error.extra, error.headers);
    if (error instanceof ServiceUnavailableError) {
      return problemResponse(503, `A service this needs (${error.service}) is not answering. Please try again shortly.`, {}, { 'retry-after': '5' });
    }
    if (isDatabaseUnavailable(error)) {
      log.warn('database unavailable', { error: (error as Error).message?.slice(0, 300), method: c.req.method, path: c.req.path });
      return problemResponse(503, 'Our database is not answering. Please try again shortly.', {}, { 'retry-after': '5' });
    }
    if (error instanceof HTTPException) {
      // Hono's own middleware (body limit, csrf, malformed JSON) throws these; keep status, drop internals.
      const status = error.status;
      const detail = status === 413 ? 'The request body is too large' : error.message || titles[status] || 'Error';
      return problemResponse(status, detail);
    }
    log.error('unhandled error', { error, method: c.req.method, path: c.req.path });
    return problemResponse(500, 'Something went wrong on our side. Please try again.');
  };
}

// The path is not echoed back: an answer must never carry text the caller chose.
export const notFoundHandler: NotFoundHandler = () => problemResponse(404, 'There is nothing at this address');
