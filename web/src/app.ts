/**
 * The web front: the only thing a browser talks to. It composes pages from the services' fragments.
 *
 *   GET  /                    home
 *   GET  /login               login page                 POST /login      log in, set the cookie
 *   GET  /register            registration page          POST /register   create the account, log in
 *   POST /logout              end the session everywhere
 *   GET  /account             the signed-in user's page    POST /account/delete   delete my account (password, a box ticked)
 *   GET  /admin/users         user list with search (admins)   GET /admin/actions   what admins did
 *   POST /admin/users/:id/disable, /enable, /role, /sessions/revoke, /delete   (admins; auth checks)
 *   GET  /catalog             search, filters, sort, pages (htmx: the results alone)
 *   GET  /books/:id           a book
 *   GET  /covers/:file        a cover image (from catalog)
 *   GET  /sell, /sell/new, /sell/:id/edit, /sell/:id/delete   the seller's books, forms, the question before a removal
 *   POST /sell/new, /sell/:id/edit, /sell/:id/delete, /sell/:id/cover
 *   GET  /cart, /checkout, /orders, /orders/:id, /orders/:id/pay, /sales, /admin/orders   (purchase)
 *   POST /cart/items, /cart/items/:bookId, /cart/items/:bookId/remove, /checkout,
 *        /orders/:id/pay, /orders/:id/delivery, /orders/:id/cancel, /sales/:id/:bookId/ship
 *   GET  /about, /shipping, /returns, /privacy, /contact   the shop's own pages (footer); shipping's prices from purchase
 *   GET  /static/*, /favicon.ico   files from STATIC_DIR
 *   GET  /assets/htmx-2.0.11.min.js   htmx, from node_modules
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { compress } from 'hono/compress';
import { csrf } from 'hono/csrf';
import { serveStatic } from 'hono/bun';
import { tokenCheckReadiness, type Principal, type TokenVerifier } from '@bookstore/shared/auth';
import { ServiceUnavailableError, type HttpClient } from '@bookstore/shared/http';
import type { Logger } from '@bookstore/shared/log';
import { createServiceApp } from '@bookstore/shared/service';
import type { WebConfig } from './config.ts';
import { htmxPath } from './layout.ts';
import { accountPages } from './pages/account.ts';
import { catalogPages } from './pages/catalog.ts';
import { homePage } from './pages/home.ts';
import { infoPages } from './pages/info.ts';
import { sellPages } from './pages/sell.ts';
import { purchasePages } from './pages/purchase.ts';
import { errorPage } from './render.ts';
import { ProblemError } from '@bookstore/shared/errors';
import { HTTPException } from 'hono/http-exception';
import { endSession, hasWrittenRecently, readSessionToken } from './session.ts';
import { FragmentCache } from './fragment-cache.ts';

export interface WebDeps {
  config: Pick<WebConfig, 'STATIC_DIR' | 'FRAGMENT_BUDGET_MS' | 'COOKIE_SECURE' | 'ALLOWED_ORIGINS' | 'TRUST_PROXY'>;
  clients: { auth: HttpClient; catalog: HttpClient; purchase: HttpClient };
  verifier: Pick<TokenVerifier, 'verify' | 'status' | 'refresh'>;
  log: Logger;
}

export type WebEnv = {
  Variables: {
    deps: WebDeps;
    principal: Principal | null;
    /** A session cookie auth could not be asked about: the page is shown signed out, and says why. */
    sessionUnknown: boolean;
    /** A signed-in viewer who changed something a moment ago: their fragments skip caches and read primaries. */
    readPrimary: boolean;
    fragmentCache: FragmentCache;
    requestId: string;
  };
};

const htmxFile = Bun.file(Bun.resolveSync('htmx.org/dist/htmx.min.js', import.meta.dir));

export function createApp(deps: WebDeps) {
  const app = createServiceApp<WebEnv>({
    service: 'web',
    log: deps.log,
    maxBodyBytes: 6 * 1024 * 1024,
    // A phone photo over the limit gets a page saying so, never a JSON problem pasted into a form.
    tooLarge: (c) => errorPage(c as Context<WebEnv>, 413),
    // Each call to a service has its own budget (FRAGMENT_BUDGET_MS, 15 s for forms); a whole request
    // has none, or a cover uploaded slowly from a phone would be cut off.
    timeBudgetMs: 0,
    // The front serves pages while services are down; it is ready once it can verify tokens.
    readiness: { 'auth-token-check': tokenCheckReadiness(deps.verifier) },
  });

  // Pages, css and htmx travel gzipped to browsers that ask (htmx: 52 KB → 17 KB).
  app.use(compress());
  app.use(
    csrf({
      origin: (origin, c) => origin === new URL(c.req.url).origin || deps.config.ALLOWED_ORIGINS.includes(origin),
    }),
  );
  const fragmentCache = new FragmentCache();
  app.use(
    createMiddleware<WebEnv>(async (c, next) => {
      c.set('deps', deps);
      c.set('fragmentCache', fragmentCache);
      const token = readSessionToken(c);
      let principal: Principal | null = null;
      let sessionUnknown = false;
      try {
        principal = token ? await deps.verifier.verify(token) : null;
        if (token && !principal) endSession(c, deps.config.COOKIE_SECURE);
      } catch (error) {
        // Auth cannot be asked who this is: show the page signed out, but keep the cookie for later.
        if (!(error instanceof ServiceUnavailableError)) throw error;
        sessionUnknown = true;
      }
      c.set('principal', principal);
      c.set('sessionUnknown', sessionUnknown);
      c.set('readPrimary', principal !== null && hasWrittenRecently(c));
      await next();
    }),
  );

  app.get(htmxPath, () => new Response(htmxFile, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable' } }));
  app.use('/static/*', serveStatic({ root: deps.config.STATIC_DIR, rewriteRequestPath: (path) => path.replace(/^\/static/, ''), onFound: (_path, c) => c.header('cache-control', 'public, max-age=3600') }));
  app.get('/favicon.ico', serveStatic({ path: 'favicon.ico', root: deps.config.STATIC_DIR }));

  app.get('/', homePage);
  app.route('/', accountPages);
  app.route('/', catalogPages);
  app.route('/', sellPages);
  app.route('/', purchasePages);
  app.route('/', infoPages);
  // A browser gets HTML pages for errors, inside the layout, never problem+json.
  app.notFound((c) => errorPage(c, 404));
  app.onError((error, c) => {
    if (error instanceof ProblemError) return errorPage(c, error.status);
    if (error instanceof HTTPException) return errorPage(c, error.status);
    if (error instanceof ServiceUnavailableError) return errorPage(c, 503);
    deps.log.error('unhandled error', { error, method: c.req.method, path: c.req.path });
    return errorPage(c, 500);
  });
  return app;
}
