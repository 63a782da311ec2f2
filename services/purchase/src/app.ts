/**
 * The purchase service: carts, orders and their saga, payment (with a simulated gateway), delivery, sales.
 *
 * Its routes are the table in `createApp` (fragments for the web front in fragment-routes.ts, the
 * simulated gateway in gateway.ts): each says what it does, who may call it and what it answers
 * (`describeRoute`), beside the validators of its input. The same tables are served as one OpenAPI
 * 3.1 document at `GET /openapi.json` (shared/src/openapi.ts), so the documentation is what runs.
 */
import type { Context } from 'hono';
import { createFactory } from 'hono/factory';
import { acceptedServiceTokens, authenticate, requirePrincipal, requireServiceToken, signedIn, tokenCheckReadiness, type AuthVariables, type TokenVerifier } from '@bookstore/shared/auth';
import type { ServiceClient } from '@bookstore/shared/client';
import { cart, cartQuantityInput, createOrderInput, deliveryInput, order, orderPage, paymentInput, salePage, shipmentAnswer, shipmentInput } from '@bookstore/shared/contracts/purchase';
import { pingPrimary, type Orm } from '@bookstore/shared/db';
import { ProblemError } from '@bookstore/shared/errors';
import type { Logger } from '@bookstore/shared/log';
import { describeRoute, openApiRoute, type RouteAnswer } from '@bookstore/shared/openapi';
import { createServiceApp } from '@bookstore/shared/service';
import { validHeader, validJson, validParams, validQuery } from '@bookstore/shared/validation';
import { readCart, setCartQuantity } from './cart.ts';
import { cancelOrder, changeDelivery, payOrder, placeOrder, shipItem, type Answer } from './checkout.ts';
import type { PurchaseConfig } from './config.ts';
import { deliveryProviders } from './delivery.ts';
import { purchaseFragments } from './fragment-routes.ts';
import { simulatedGateway, type Gateway } from './gateway.ts';
import { listOrders, listSales, openSaleItems, orderFor, toOrderJson } from './orders.ts';
import type { SagaDeps } from './saga.ts';
import { bookIdParam, deliveryProviderList, idempotencyHeaders, openItemsAnswer, orderIdParam, ordersQuery, pageQuery, principalAnswer, sellerIdParam, shipmentParams } from './schemas.ts';

export interface PurchaseDeps extends SagaDeps {
  orm: Orm;
  verifier: Pick<TokenVerifier, 'verify' | 'status' | 'refresh'>;
  log: Logger;
  catalog: ServiceClient;
  /** Readiness of catalog, which carts and checkouts need (`/health/ready` names it when down). */
  catalogReady?: () => Promise<void>;
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
    readiness: {
      database: () => pingPrimary(deps.orm),
      'auth-token-check': tokenCheckReadiness(deps.verifier),
      ...(deps.catalogReady ? { catalog: deps.catalogReady } : {}),
    },
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
    .get('/api/delivery-providers', describeRoute({ summary: 'The carriers and their prices', access: 'public', responses: { 200: deliveryProviderList } }), ...listDeliveryProviders)
    .get('/api/principal', describeRoute({ summary: 'Who the Bearer token is', access: 'signed-in', responses: { 200: principalAnswer } }), ...principal)
    .get('/api/cart', describeRoute({ summary: "The caller's cart, with prices and stock fresh from catalog", access: 'signed-in', responses: { 200: cart, 503: 'catalog is not answering' } }), ...getCart)
    .put('/api/cart/items/:bookId', describeRoute({ summary: 'Set how many of a book the cart holds (0 removes it)', access: 'signed-in', responses: { 200: cart, 404: 'no such book in the catalog', 409: 'your own book, not that many in stock, or the cart is full', 503: 'catalog is not answering' } }), ...putCartItem)
    .delete('/api/cart/items/:bookId', describeRoute({ summary: 'Take a book out of the cart', access: 'signed-in', responses: { 200: cart } }), ...deleteCartItem)
    .post('/api/orders', describeRoute({ summary: 'Place an order: its books reserved, awaiting payment', access: 'signed-in', description: placeOrderRules, responses: placeOrderAnswers }), ...createOrder)
    .get('/api/orders', describeRoute({ summary: "The caller's orders, newest first (an admin's `all=true`: everyone's)", access: 'signed-in', responses: { 200: orderPage, 403: '`all=true` by someone not an admin' } }), ...myOrders)
    .get('/api/orders/:id', describeRoute({ summary: 'One order: its buyer\'s, or any for an admin', access: 'signed-in', responses: { 200: order, 404: 'no such order, or not the caller\'s' } }), ...getOrder)
    .put('/api/orders/:id/delivery', describeRoute({ summary: 'Change the carrier while the order awaits payment', access: 'signed-in', responses: { 200: order, 403: 'only its buyer', 404: 'no such order, or not the caller\'s', 409: 'the order no longer awaits payment' } }), ...putDelivery)
    .post('/api/orders/:id/payment', describeRoute({ summary: 'Pay an order by card (test cards: BRIEF)', access: 'signed-in', description: paymentRules, responses: paymentAnswers }), ...pay)
    .post('/api/orders/:id/cancel', describeRoute({ summary: 'Cancel an order while it awaits payment: its books go back', access: 'signed-in', responses: { 200: order, 403: 'only its buyer', 404: 'no such order, or not the caller\'s', 409: 'the order no longer awaits payment' } }), ...cancel)
    .get('/api/sales', describeRoute({ summary: "Items of the caller's books that were sold, newest first", access: 'signed-in', responses: { 200: salePage } }), ...mySales)
    .post('/api/orders/:id/items/:bookId/shipment', describeRoute({ summary: 'Mark an item shipped, by its seller', access: 'signed-in', responses: { 200: shipmentAnswer, 404: 'no such item of the caller\'s in this order', 409: 'the order is not paid' } }), ...ship)
    .get('/api/sellers/:sellerId/open-items', describeRoute({ summary: "How many items of a seller's books are still owed to buyers (awaiting payment, or paid and not shipped): auth asks before deleting an account", access: 'service', responses: { 200: openItemsAnswer } }), requireServiceToken(acceptedServiceTokens(deps.config)), ...openItems)
    .get('/openapi.json', ...openApiRoute(app, { title: 'Bookstore purchase', description: 'Carts, orders and their checkout saga, payment through a (simulated) card gateway, delivery and sales.' }));
}
export type PurchaseApp = ReturnType<typeof createApp>;

const placeOrderRules =
  'Idempotency-Key is required: the same key with the same body answers the same order, with another body 409. Without `items` the cart is ordered (and emptied). Prices are always catalog\'s.';
const placeOrderAnswers = {
  201: order,
  400: 'invalid input, a missing Idempotency-Key, or an empty cart',
  409: 'a book is short of stock or your own (named), or the key was used with another body',
  503: 'catalog did not answer: send the same request again (same key)',
};
const paymentRules = 'Idempotency-Key is required: sending it again never charges twice.';
const paymentAnswers: Record<number, RouteAnswer> = {
  200: ['paid', order],
  202: ['the gateway has not answered yet: the payment is pending, and the order says how it ended', order],
  402: 'the card was declined: the order stays payable',
  403: 'only its buyer',
  404: "no such order, or not the caller's",
  409: 'not payable: paid, cancelled, expired or a payment under way; or its books could not be held (refunded)',
  503: 'the gateway failed: nothing charged, try again',
};

const answer = (c: Context, result: Answer) =>
  c.newResponse(JSON.stringify(result.body), result.status as 200, { 'content-type': result.status >= 400 ? 'application/problem+json' : 'application/json' });

export const listDeliveryProviders = factory.createHandlers(async (c) => {
  return c.json(await deliveryProviders(c.var.deps.orm, c.var.deps.log));
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

const myOrders = factory.createHandlers(signedIn(), validQuery(ordersQuery), async (c) => {
  const caller = requirePrincipal(c.var);
  const { page, pageSize } = c.req.valid('query');
  const all = c.req.valid('query').all === 'true';
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

const openItems = factory.createHandlers(validParams(sellerIdParam), async (c) => {
  return c.json({ items: await openSaleItems(c.var.deps.orm.em.fork(), c.req.valid('param').sellerId) });
});

const ship = factory.createHandlers(signedIn(), validParams(shipmentParams), validJson(shipmentInput), async (c) => {
  const { id, bookId } = c.req.valid('param');
  return answer(c, await shipItem(c.var.deps, requirePrincipal(c.var), id, bookId, c.req.valid('json').trackingCode));
});

function validHeaders() {
  return validHeader(idempotencyHeaders);
}
