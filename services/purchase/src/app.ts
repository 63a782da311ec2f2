/**
 * The purchase service: orders, delivery, payment. (Orders and payments arrive with the purchase issue.)
 *
 *   GET /api/delivery-providers   carriers and their prices
 *   GET /api/principal            who the service sees in the Bearer token (401 if none or revoked)
 */
import { createFactory } from 'hono/factory';
import { authenticate, requirePrincipal, tokenCheckReadiness, type AuthVariables, type TokenVerifier } from '@bookstore/shared/auth';
import { pingPrimary, readWithFallback, type Orm } from '@bookstore/shared/db';
import type { Logger } from '@bookstore/shared/log';
import { createServiceApp } from '@bookstore/shared/service';
import { DeliveryProvider } from './entities.ts';

export interface PurchaseDeps {
  orm: Orm;
  verifier: Pick<TokenVerifier, 'verify' | 'status' | 'refresh'>;
  log: Logger;
}

type Env = { Variables: AuthVariables & { deps: PurchaseDeps; requestId: string } };
const factory = createFactory<Env>();

export function createApp(deps: PurchaseDeps) {
  const app = createServiceApp<Env>({
    service: 'purchase',
    log: deps.log,
    readiness: { database: () => pingPrimary(deps.orm), 'auth-token-check': tokenCheckReadiness(deps.verifier) },
  });
  app.use(async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use('/api/*', authenticate(deps.verifier));

  return app.get('/api/delivery-providers', ...listDeliveryProviders).get('/api/principal', ...principal);
}
export type PurchaseApp = ReturnType<typeof createApp>;

const listDeliveryProviders = factory.createHandlers(async (c) => {
  const { orm, log } = c.var.deps;
  const items = await readWithFallback(orm, (em, connectionType) => em.find(DeliveryProvider, {}, { orderBy: { priceCents: 'desc' }, connectionType }), log);
  return c.json({ items: items.map(({ id, name, scope, priceCents }) => ({ id, name, scope, priceCents })) });
});

const principal = factory.createHandlers((c) => {
  const { userId, role } = requirePrincipal(c.var);
  return c.json({ userId, role });
});
