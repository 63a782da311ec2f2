/**
 * The catalog service: books, stock, reservations, seller inventory, covers.
 *
 *   GET /api/principal   who the service sees in the Bearer token (401 if none or revoked)
 */
import { createFactory } from 'hono/factory';
import { authenticate, requirePrincipal, tokenCheckReadiness, type AuthVariables, type TokenVerifier } from '@bookstore/shared/auth';
import { pingPrimary, type Orm } from '@bookstore/shared/db';
import type { Logger } from '@bookstore/shared/log';
import { createServiceApp } from '@bookstore/shared/service';
import type { CatalogConfig } from './config.ts';

export interface CatalogDeps {
  orm: Orm;
  verifier: Pick<TokenVerifier, 'verify' | 'status' | 'refresh'>;
  log: Logger;
  config: Pick<CatalogConfig, 'SERVICE_TOKEN' | 'UPLOADS_DIR' | 'MAX_COVER_BYTES'>;
}

type Env = { Variables: AuthVariables & { deps: CatalogDeps; requestId: string } };
const factory = createFactory<Env>();

export function createApp(deps: CatalogDeps) {
  const app = createServiceApp<Env>({
    service: 'catalog',
    log: deps.log,
    readiness: { database: () => pingPrimary(deps.orm), 'auth-token-check': tokenCheckReadiness(deps.verifier) },
  });
  app.use(async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use('/api/*', authenticate(deps.verifier));

  return app.get('/api/principal', ...principal);
}
export type CatalogApp = ReturnType<typeof createApp>;

const principal = factory.createHandlers((c) => {
  const { userId, role } = requirePrincipal(c.var.principal);
  return c.json({ userId, role });
});
