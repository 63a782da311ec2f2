/**
 * The purchase service: carts, orders and their saga, payment (with a simulated gateway), delivery, sales.
 *
 *   GET    /api/delivery-providers                  carriers and their prices             → {items}
 *   GET    /api/principal                           who the Bearer token is               → {userId, role} | 401
 *   GET    /api/cart                                the caller's cart, prices fresh       → cart
 *   PUT    /api/cart/items/:bookId                  set a quantity {quantity} (0 removes)  → cart | 404 | 409
 *   DELETE /api/cart/items/:bookId                  remove a book                         → cart
 *   POST   /api/orders                              place (Idempotency-Key) {items?, providerId} → 201 order | 409 | 503
 *   GET    /api/orders                              mine, newest first (admins: ?all=true) → {items, page, pageSize, total}
 *   GET    /api/orders/:id                          the buyer's, or any for an admin       → order | 404
 *   PUT    /api/orders/:id/delivery                 change the carrier {providerId}        → order | 409
 *   POST   /api/orders/:id/payment                  pay (Idempotency-Key) {card…}          → 200 paid | 202 pending | 402 | 409 | 503
 *   POST   /api/orders/:id/cancel                   cancel while unpaid                   → order | 409
 *   GET    /api/sales                               items of the caller's books sold       → {items, page, pageSize, total}
 *   POST   /api/orders/:id/items/:bookId/shipment   the item's seller ships {trackingCode?} → item | 404 | 409
 *   POST   /gateway/charges, /gateway/charges/:key/resolve|refund   the simulated card gateway (service token)
 *
 * Fragments for the web front: see fragments-routes.ts.
 */
import type { Context } from 'hono';
import { createFactory } from 'hono/factory';
import { acceptedServiceTokens, authenticate, requirePrincipal, signedIn, tokenCheckReadiness, type AuthVariables, type TokenVerifier } from '@bookstore/shared/auth';
import type { ServiceClient } from '@bookstore/shared/client';
import { cartQuantityInput, createOrderInput, deliveryInput, paymentInput, shipmentInput } from '@bookstore/shared/contracts/purchase';
import { pingPrimary, type Orm } from '@bookstore/shared/db';
import { ProblemError } from '@bookstore/shared/errors';
import type { Logger } from '@bookstore/shared/log';
import { createServiceApp } from '@bookstore/shared/service';
import { validHeader, validJson, validParams, validQuery } from '@bookstore/shared/validation';
import { readCart, setCartQuantity } from './cart.ts';
import { cancelOrder, changeDelivery, payOrder, placeOrder, shipItem, type Answer } from './checkout.ts';
import type { PurchaseConfig } from './config.ts';
import { deliveryProviders } from './delivery.ts';
import { purchaseFragments } from './fragment-routes.ts';
import { simulatedGateway, type Gateway } from './gateway.ts';
import { listOrders, listSales, orderFor, toOrderJson } from './orders.ts';
import type { SagaDeps } from './saga.ts';
import { bookIdParam, idempotencyHeaders, orderIdParam, pageQuery, shipmentParams } from './schemas.ts';

export interface PurchaseDeps extends SagaDeps {
  orm: Orm;
  verifier: Pick<TokenVerifier, 'verify' | 'status' | 'refresh'>;
  log: Logger;
  catalog: ServiceClient;
  gateway: Gateway;
  config: Pick<PurchaseConfig, 'SERVICE_TOKEN' | 'ORDER_PAYMENT_TTL_SECONDS' | 'GATEWAY_TIMEOUT_MS'> & Partial<Pick<PurchaseConfig, 'SERVICE_TOKENS_ACCEPTED' | 'REQUEST_TIME_BUDGET_MS'>> & { GATEWAY_SLOW_MS: number };
}

export type PurchaseEnv = { Variables: AuthVariables & { deps: PurchaseDeps; requestId: string } };
const factory = createFactory<PurchaseEnv>();

export function createApp(deps: PurchaseDeps) {
  const app = createServiceApp<PurchaseEnv>({
    service: 'purchase',
    log: deps.log,
    timeBudgetMs: deps.config.REQUEST_TIME_BUDGET_MS,
    readiness: { database: () => pingPrimary(deps.orm), 'auth-token-check': tokenCheckReadiness(deps.verifier) },
  });
  app.use(async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use('/api/*', authenticate(deps.verifier));
  app.use('/fragments/*', authenticate(deps.verifier));
  app.route('/gateway', simulatedGateway({ orm: deps.orm, serviceTokens: acceptedServiceTokens(deps.config), slowMs: deps.config.GATEWAY_SLOW_MS }));
  app.route('/fragments', purchaseFragments);

  return app
    .get('/api/delivery-providers', ...listDeliveryProviders)
    .get('/api/principal', ...principal)
    .get('/api/cart', ...getCart)
    .put('/api/cart/items/:bookId', ...putCartItem)
    .delete('/api/cart/items/:bookId', ...deleteCartItem)
    .post('/api/orders', ...createOrder)
    .get('/api/orders', ...myOrders)
    .get('/api/orders/:id', ...getOrder)
    .put('/api/orders/:id/delivery', ...putDelivery)
    .post('/api/orders/:id/payment', ...pay)
    .post('/api/orders/:id/cancel', ...cancel)
    .get('/api/sales', ...mySales)
    .post('/api/orders/:id/items/:bookId/shipment', ...ship);
}
export type PurchaseApp = ReturnType<typeof createApp>;

const answer = (c: Context, result: Answer) =>
  c.newResponse(JSON.stringify(result.body), result.status as 200, { 'content-type': result.status >= 400 ? 'application/problem+json' : 'application/json' });

export const listDeliveryProviders = factory.createHandlers(async (c) => {
  return c.json({ items: await deliveryProviders(c.var.deps.orm, c.var.deps.log) });
});

const principal = factory.createHandlers((c) => {
  const { userId, role } = requirePrincipal(c.var);
  return c.json({ userId, role });
});

const getCart = factory.createHandlers(signedIn(), async (c) => {
  return c.json(await readCart(c.var.deps.orm.em.fork(), c.var.deps.catalog, requirePrincipal(c.var)));
});

const putCartItem = factory.createHandlers(signedIn(), validParams(bookIdParam), validJson(cartQuantityInput), async (c) => {
  const buyer = requirePrincipal(c.var);
  const em = c.var.deps.orm.em.fork();
  await setCartQuantity(em, c.var.deps.catalog, buyer, c.req.valid('param').bookId, c.req.valid('json').quantity);
  return c.json(await readCart(em, c.var.deps.catalog, buyer));
});

const deleteCartItem = factory.createHandlers(signedIn(), validParams(bookIdParam), async (c) => {
  const buyer = requirePrincipal(c.var);
  const em = c.var.deps.orm.em.fork();
  await setCartQuantity(em, c.var.deps.catalog, buyer, c.req.valid('param').bookId, 0);
  return c.json(await readCart(em, c.var.deps.catalog, buyer));
});

const createOrder = factory.createHandlers(signedIn(), validJson(createOrderInput), validHeaders(), async (c) => {
  const buyer = requirePrincipal(c.var);
  return answer(c, await placeOrder(c.var.deps, buyer, c.req.valid('json'), c.req.valid('header')['idempotency-key']));
});

const myOrders = factory.createHandlers(signedIn(), validQuery(pageQuery), async (c) => {
  const caller = requirePrincipal(c.var);
  const { page, pageSize } = c.req.valid('query');
  const all = c.req.query('all') === 'true';
  if (all && caller.role !== 'admin') throw new ProblemError(403, 'Only administrators can list every order');
  return c.json(await listOrders(c.var.deps.orm.em.fork(), caller, page, pageSize, all));
});

const getOrder = factory.createHandlers(signedIn(), validParams(orderIdParam), async (c) => {
  const em = c.var.deps.orm.em.fork();
  return c.json(await toOrderJson(em, await orderFor(em, c.req.valid('param').id, requirePrincipal(c.var))));
});

const putDelivery = factory.createHandlers(signedIn(), validParams(orderIdParam), validJson(deliveryInput), async (c) => {
  return answer(c, await changeDelivery(c.var.deps, requirePrincipal(c.var), c.req.valid('param').id, c.req.valid('json').providerId));
});

const pay = factory.createHandlers(signedIn(), validParams(orderIdParam), validJson(paymentInput), validHeaders(), async (c) => {
  const buyer = requirePrincipal(c.var);
  return answer(c, await payOrder(c.var.deps, buyer, c.req.valid('param').id, c.req.valid('json'), c.req.valid('header')['idempotency-key']));
});

const cancel = factory.createHandlers(signedIn(), validParams(orderIdParam), async (c) => {
  return answer(c, await cancelOrder(c.var.deps, requirePrincipal(c.var), c.req.valid('param').id));
});

const mySales = factory.createHandlers(signedIn(), validQuery(pageQuery), async (c) => {
  const { page, pageSize } = c.req.valid('query');
  return c.json(await listSales(c.var.deps.orm.em.fork(), requirePrincipal(c.var), page, pageSize));
});

const ship = factory.createHandlers(signedIn(), validParams(shipmentParams), validJson(shipmentInput), async (c) => {
  const { id, bookId } = c.req.valid('param');
  return answer(c, await shipItem(c.var.deps, requirePrincipal(c.var), id, bookId, c.req.valid('json').trackingCode));
});

function validHeaders() {
  return validHeader(idempotencyHeaders);
}
