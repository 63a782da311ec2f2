/**
 * The Hono app every service starts from: request ids, access logs, secure headers, a body limit,
 * problem+json errors and the two health endpoints.
 */
import { Hono, type Context } from 'hono';
import { getConnInfo } from 'hono/bun';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { z } from 'zod';
import { notFoundHandler, ProblemError, problemErrorHandler, problemResponse } from './errors.ts';
import { notice } from './html.ts';
import { requestContext, type Logger } from './log.ts';
import { describeRoute } from './openapi.ts';

/** A readiness check: resolves when the dependency answers, throws (or times out) when it does not. */
export type ReadinessCheck = () => Promise<unknown>;

export interface ServiceAppOptions {
  service: string;
  log: Logger;
  /** Named checks for `/health/ready`; all must pass. */
  readiness?: Record<string, ReadinessCheck>;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes?: number;
  /** Routes that take larger bodies (uploads), with their own limit. */
  uploads?: { path: RegExp; maxBytes: number };
  /** The answer to a body over the limit (default: a 413 problem); the web front answers a page. */
  tooLarge?: (c: Context) => Response | Promise<Response>;
  /** Path prefixes polled all the time (health, revocation feed): their successes are logged at debug. */
  quietPaths?: string[];
  /**
   * The readiness checks about this task itself (its own database), as opposed to the services it
   * depends on: `/health/task` runs only these. Default: `database`, when there is one.
   */
  taskChecks?: string[];
  /**
   * Longest a request may take before it is answered 503 with Retry-After (15 s by default; 0 =
   * none, for the web front, whose calls have their own budgets and whose uploads come from phones).
   * A database or a service that hangs then costs a request its budget, never minutes.
   */
  timeBudgetMs?: number;
}

/** Set when the process has been asked to stop: readiness then answers 503 while requests drain. */
let stopping = false;

const requestIdPattern = /^[A-Za-z0-9._:-]{1,100}$/;
const readinessTimeoutMs = 1500;

/** What the health routes answer: each check "up" or "down: why", and the names of those down. */
const health = z.object({
  status: z.enum(['up', 'down', 'stopping']),
  service: z.string(),
  checks: z.record(z.string(), z.string()).optional(),
  down: z.array(z.string()).optional(),
});

/**
 * @example
 * const app = createServiceApp({ service: 'auth', log, readiness: { database: () => pingPrimary(orm) } });
 * app.route('/', routes);
 */
export function createServiceApp<E extends object = {}>(options: ServiceAppOptions) {
  const app = new Hono<E & { Variables: { requestId: string } }>();
  const { log } = options;
  const quietPaths = ['/health/', ...(options.quietPaths ?? [])];

  app.use(
    requestId({
      // Keep the caller's id only if it is a sane token; otherwise mint our own.
      generator: (c) => {
        const given = c.req.header('x-request-id');
        return given && requestIdPattern.test(given) ? given : crypto.randomUUID();
      },
    }),
  );
  app.use(async (c, next) => {
    const started = performance.now();
    await requestContext.run({ requestId: c.var.requestId }, async () => {
      await next();
      const quiet = c.res.status < 400 && quietPaths.some((prefix) => c.req.path.startsWith(prefix));
      log[quiet ? 'debug' : 'info']('request', {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      });
    });
  });
  app.use(
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'self'"], formAction: ["'self'"], baseUri: ["'none'"], objectSrc: ["'none'"], frameAncestors: ["'none'"] },
    }),
  );
  const tooLarge = (c: Context) => (options.tooLarge ? options.tooLarge(c) : problemResponse(413, 'The request body is too large'));
  const defaultLimit = bodyLimit({ maxSize: options.maxBodyBytes ?? 64 * 1024, onError: tooLarge });
  const uploadLimit = options.uploads && bodyLimit({ maxSize: options.uploads.maxBytes, onError: tooLarge });
  app.use((c, next) => (uploadLimit && options.uploads!.path.test(c.req.path) ? uploadLimit(c, next) : defaultLimit(c, next)));
  app.use(async (c, next) => {
    // A NUL in the address is never meant, and SQLite would cut a statement at it.
    if (/%00/.test(c.req.url)) return problemResponse(400, 'The address contains a NUL character');
    await next();
  });
  app.use('/api/*', async (c, next) => {
    // A body in anything but JSON would reach the validators as an empty object; say what is wrong instead.
    const type = c.req.header('content-type') ?? '';
    const hasBody = ['POST', 'PUT', 'PATCH'].includes(c.req.method) && c.req.header('content-length') !== '0';
    const upload = options.uploads?.path.test(c.req.path) && /^multipart\/form-data\b/i.test(type);
    if (hasBody && type && !upload && !/^application\/json\b/i.test(type)) {
      return problemResponse(415, 'Send the request body as JSON (Content-Type: application/json)');
    }
    await next();
  });
  const timeBudgetMs = options.timeBudgetMs ?? 15_000;
  if (timeBudgetMs > 0) {
    app.use(async (c, next) => {
      if (c.req.path.startsWith('/health/')) return next();
      const running = next();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), timeBudgetMs)));
      const outcome = await Promise.race([running.then(() => 'done' as const), expired]).finally(() => clearTimeout(timer));
      if (outcome === 'done') return;
      running.catch(() => {}); // it may still fail later; its answer is no longer awaited
      log.warn('request over its time budget', { method: c.req.method, path: c.req.path, budgetMs: timeBudgetMs });
      // The work goes on and may still be done: a change is "not confirmed", never "not done".
      const reading = c.req.method === 'GET' || c.req.method === 'HEAD';
      const detail = reading
        ? 'This took too long: a part of the shop is not answering. Please try again shortly.'
        : 'This took too long to confirm: it may still be done. Check before sending it again (with the same Idempotency-Key it is never done twice).';
      c.res = problemResponse(503, detail, {}, { 'retry-after': '5' });
    });
  }
  const problems = problemErrorHandler(log);
  app.onError((error, c) => {
    // Fragments answer HTML, refusals too (a form that could not be read, say): the web front shows it in place.
    if (c.req.path.startsWith('/fragments/') && error instanceof ProblemError && error.status < 500) return c.html(notice(error.detail), error.status, error.headers);
    return problems(error, c);
  });
  app.notFound(notFoundHandler);

  const runChecks = async (checks: [string, ReadinessCheck][]) => {
    const results = await Promise.all(
      checks.map(async ([name, check]) => {
        try {
          await Promise.race([check(), Bun.sleep(readinessTimeoutMs).then(() => Promise.reject(new Error('timed out')))]);
          return [name, 'up'] as const;
        } catch (error) {
          return [name, `down: ${(error as Error).message.slice(0, 200)}`] as const;
        }
      }),
    );
    return { checks: Object.fromEntries(results), down: results.filter(([, state]) => state !== 'up').map(([name]) => name) };
  };
  const readiness = Object.entries(options.readiness ?? {});
  const taskChecks = options.taskChecks ?? ['database'];

  app.get('/health/live', describeRoute({ summary: 'The process is up', access: 'public', responses: { 200: health } }), (c) => c.json({ status: 'up', service: options.service }));
  // What the container's HEALTHCHECK asks: can this task serve (process and its own database)? An
  // outage of a service it depends on must not make Swarm replace every healthy task.
  const taskSummary = 'This task can serve: the process and its own database (the container health check)';
  app.get('/health/task', describeRoute({ summary: taskSummary, access: 'public', responses: { 200: health, 503: ['a check of this task failed', health] } }), async (c) => {
    const { checks, down } = await runChecks(readiness.filter(([name]) => taskChecks.includes(name)));
    return c.json({ status: down.length ? 'down' : 'up', service: options.service, checks, down }, down.length ? 503 : 200);
  });
  // For people, dashboards and load balancers: this task and everything it needs, and not stopping.
  const readySummary = 'This task and every service it needs answer, and it is not stopping';
  app.get('/health/ready', describeRoute({ summary: readySummary, access: 'public', responses: { 200: health, 503: ['a check failed, or the process is stopping: `down` names them', health] } }), async (c) => {
    const { checks, down } = await runChecks(readiness);
    if (stopping) return c.json({ status: 'stopping', service: options.service, checks, down: ['stopping', ...down] }, 503);
    return c.json({ status: down.length ? 'down' : 'up', service: options.service, checks, down }, down.length ? 503 : 200);
  });
  return app;
}

/** The address the request came from on the socket; "unknown" when there is no socket (in-process tests). */
export function socketAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Serves `app` on `port` until SIGINT/SIGTERM, then runs `beforeStop` (background jobs), stops
 * taking requests, lets those in flight finish, runs `onStop` (close the database, stop pollers) and exits.
 *
 * @example
 * serve(app, { port: config.PORT, log, onStop: () => orm.close() });
 */
export function serve(
  app: { fetch: (request: Request, server: any) => Response | Promise<Response> },
  options: {
    port: number;
    hostname?: string;
    log: Logger;
    /** Runs first, while requests are still served (stop background jobs that call this process). */
    beforeStop?: () => Promise<unknown> | unknown;
    /** How long readiness answers 503 before the listener closes, so balancers stop sending here first. */
    drainMs?: number;
    onStop?: () => Promise<unknown> | unknown;
  },
) {
  const server = Bun.serve({ port: options.port, hostname: options.hostname ?? '0.0.0.0', fetch: app.fetch, idleTimeout: 30 });
  options.log.info('listening', { url: `http://${server.hostname}:${server.port}` });
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    options.log.info('stopping', { signal, drainMs: options.drainMs ?? 0 });
    await options.beforeStop?.();
    if (options.drainMs) await Bun.sleep(options.drainMs); // readiness says "stopping" meanwhile; requests are still served
    await server.stop();
    await options.onStop?.();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return server;
}
