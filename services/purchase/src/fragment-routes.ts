/**
 * Fragment routes for the web front, which forwards the browser's forms here with the user's token.
 * Paths after /fragments mirror the web's own. A form that is done answers 303 to where the browser
 * goes next; one with errors answers itself again with them. htmx requests (the web front passes
 * HX-Request on) get fragments that swap in place, with the cart badge updated out of band. The
 * table below describes each route (`describeRoute`); purchase's `GET /openapi.json` serves it.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { Principal } from '@bookstore/shared/auth';
import { createOrderInput, deliveryInput, paymentInput, type CartJson, type DeliveryProviderJson } from '@bookstore/shared/contracts/purchase';
import { ProblemError, fieldErrors } from '@bookstore/shared/errors';
import { ServiceUnavailableError } from '@bookstore/shared/http';
import { html } from '@bookstore/shared/html';
import { describeRoute, type Access, type RouteAnswer } from '@bookstore/shared/openapi';
import { readForm } from '@bookstore/shared/validation';
import type { PurchaseEnv } from './app.ts';
import { cartCount, readCart, setCartQuantity, toCart } from './cart.ts';
import { cancelOrder, changeDelivery, payOrder, placeOrder, shipItem } from './checkout.ts';
import { deliveryProviders } from './delivery.ts';
import { CartItem } from './entities.ts';
import { buyBox, cartBadge, cartView, checkoutForm, checkoutTotal, deliveryPrices, notice, orderDetail, orderList, paymentForm, salesList } from './fragments.ts';
import { listOrders, listSales, orderFor, toOrderJson } from './orders.ts';
import { orderIdParam, pageQuery, shipmentParams } from './schemas.ts';
import { idempotencyKeyPattern } from '@bookstore/shared/idempotency';

type C = Context<PurchaseEnv>;
const bookIdOf = z.coerce.number().int().min(1).max(2_147_483_647);
const formText = (value: unknown, max = 200) => (typeof value === 'string' ? value.replace(/\u0000/g, '').slice(0, max) : '');
const isHtmx = (c: C) => c.req.header('hx-request') === 'true';
const newKey = () => crypto.randomUUID();
/** A fragment route's description: its answers are HTML. */
const fragment = (summary: string, access: Access, responses: Record<number, RouteAnswer>) => describeRoute({ summary, access, content: 'text/html', responses });
const unavailable = 'buying is unavailable right now (tokens cannot be checked)';
const noOrder = "no such order, or not the caller's";

export const purchaseFragments = new Hono<PurchaseEnv>()
  .get('/cart-badge', fragment("The header's cart link with its count", 'public', { 200: 'the badge' }), showCartBadge)
  .get('/buy-box/:bookId', fragment("A book page's form to add it to the cart", 'public', { 200: 'the form', 404: 'no such book' }), (c) => {
    const bookId = bookIdOf.safeParse(c.req.param('bookId'));
    return bookId.success ? c.html(buyBox(bookId.data)) : c.html(notice('There is no such book.'), 404);
  })
  .post('/cart/items', fragment('Form: add a book to the cart', 'signed-in', { 200: 'htmx: the buy box saying so, and the badge', 303: 'to the cart', 400: 'no such book, or a quantity out of range', 409: 'your own book, or not that many in stock', 503: unavailable }), addToCart)
  .get('/cart', fragment('The cart', 'signed-in', { 200: 'the cart (without prices while catalog is down)', 503: unavailable }), (c) => signedIn(c, async (buyer) => c.html(await cartSection(c, buyer))))
  .post('/cart/items/:bookId', fragment('Form: set a quantity in the cart', 'signed-in', { 200: 'htmx: the cart', 303: 'to the cart', 400: 'the cart, saying why', 404: 'no such book', 409: 'the cart, saying why', 503: unavailable }), (c) => signedIn(c, (buyer) => changeCartLine(c, buyer, 'set')))
  .post('/cart/items/:bookId/remove', fragment('Form: take a book out of the cart', 'signed-in', { 200: 'htmx: the cart', 303: 'to the cart', 404: 'no such book', 503: unavailable }), (c) => signedIn(c, (buyer) => changeCartLine(c, buyer, 'remove')))
  .get('/checkout', fragment('Checkout: the cart, the carriers and the total', 'signed-in', { 200: 'the form', 503: unavailable }), (c) => signedIn(c, (buyer) => showCheckout(c, buyer)))
  .get('/checkout/total', fragment('The total with the carrier `providerId`', 'signed-in', { 200: 'the total', 503: unavailable }), (c) => signedIn(c, (buyer) => showCheckoutTotal(c, buyer)))
  .post('/checkout', fragment('Form: place the order (once per form key)', 'signed-in', { 303: 'to paying it', 400: 'the form again, saying why', 409: 'the form again: a book is short', 503: 'the form again: catalog did not answer (the same key carries on)' }), (c) => signedIn(c, (buyer) => submitCheckout(c, buyer)))
  .get('/orders', fragment("The caller's orders", 'signed-in', { 200: 'the list', 503: unavailable }), (c) => signedIn(c, (buyer) => showOrders(c, buyer, false)))
  .get('/admin/orders', fragment('Every order', 'admin', { 200: 'the list', 503: unavailable }), (c) => signedIn(c, (buyer) => showOrders(c, buyer, true)))
  .get('/orders/:id', fragment('One order', 'signed-in', { 200: 'the order', 404: noOrder, 503: unavailable }), (c) => signedIn(c, (buyer) => showOrder(c, buyer)))
  .get('/orders/:id/pay', fragment('The payment form (or the order, once it is not payable)', 'signed-in', { 200: 'the form', 404: noOrder, 503: unavailable }), (c) => signedIn(c, (buyer) => showPayment(c, buyer)))
  .post('/orders/:id/pay', fragment('Form: pay the order (once per form key)', 'signed-in', { 303: 'paid or pending: to the order', 400: 'the form again, saying why', 402: 'declined: the form again', 403: 'only its buyer', 404: noOrder, 409: 'not payable: the order, saying why', 503: 'the form again: the gateway failed' }), (c) => signedIn(c, (buyer) => submitPayment(c, buyer)))
  .post('/orders/:id/delivery', fragment('Form: change the carrier', 'signed-in', { 303: 'to paying it', 403: 'only its buyer', 404: noOrder, 409: 'the order no longer awaits payment', 503: unavailable }), (c) => signedIn(c, (buyer) => submitDelivery(c, buyer)))
  .post('/orders/:id/cancel', fragment('Form: cancel the order', 'signed-in', { 303: 'to the order', 403: 'only its buyer', 404: noOrder, 409: 'the order no longer awaits payment', 503: unavailable }), (c) => signedIn(c, (buyer) => submitCancel(c, buyer)))
  .get('/sales', fragment("The caller's sold items", 'signed-in', { 200: 'the list', 503: unavailable }), (c) => signedIn(c, (seller) => showSales(c, seller)))
  .post('/sales/:id/:bookId/ship', fragment('Form: mark a sold item shipped', 'signed-in', { 303: 'to the sales', 404: 'no such item of the caller\'s', 409: 'the order is not paid', 503: unavailable }), (c) => signedIn(c, (seller) => submitShipment(c, seller)))
  .get('/delivery', fragment('The carriers and their prices', 'public', { 200: 'the table' }), showDeliveryPrices);

/**
 * The header's cart link with its count. The web front may keep it for the viewer 10 s: a cart
 * changed on another device shows within that; changes made through the web front show at once
 * (it reads fresh for a while after a change).
 */
async function showCartBadge(c: C): Promise<Response> {
  if (!c.var.principal) return c.html(cartBadge(null));
  const count = await cartCount(c.var.deps.orm.em.fork(), c.var.principal);
  c.header('cache-control', 'private, max-age=10');
  return c.html(cartBadge(count));
}

/** Runs `then` for a signed-in caller; otherwise the HTML answer saying why not (the web front sends them to log in). */
async function signedIn(c: C, then: (caller: Principal) => Promise<Response>): Promise<Response> {
  if (c.var.tokenUnchecked) return c.html(notice('Buying is unavailable right now. Please try again shortly.'), 503);
  if (!c.var.principal) return c.html(notice('Log in to continue.'), 401);
  try {
    return await then(c.var.principal);
  } catch (error) {
    if (error instanceof ProblemError && error.status < 500) return c.html(notice(error.detail), error.status);
    if (error instanceof ServiceUnavailableError) return c.html(notice('The catalog is not answering, so this cannot be done right now. Please try again shortly.'), 503);
    throw error;
  }
}

const providers = (c: C): Promise<DeliveryProviderJson[]> => deliveryProviders(c.var.deps.orm, c.var.deps.log);

/** The cart with fresh prices; when catalog is down, the lines without them. */
async function cartOf(c: C, buyer: Principal): Promise<{ cart: CartJson; stale: boolean }> {
  const em = c.var.deps.orm.em.fork();
  try {
    // Within the web front's time budget for the whole fragment: past it, the cart without prices.
    return { cart: await readCart(em, c.var.deps.catalog, buyer, { attempts: 1, timeoutMs: 600 }), stale: false };
  } catch (error) {
    if (!(error instanceof ServiceUnavailableError)) throw error;
    const lines = await em.find(CartItem, { userId: buyer.userId }, { orderBy: { id: 'asc' } });
    return { cart: toCart(lines.map((line) => ({ bookId: line.bookId, title: `Book ${line.bookId}`, unitPriceCents: 0, quantity: line.quantity, available: line.quantity }))), stale: true };
  }
}

async function cartSection(c: C, buyer: Principal, error?: string) {
  const { cart, stale } = await cartOf(c, buyer);
  return html`${cartView(cart, { error, stale })}${isHtmx(c) ? cartBadge(cart.count, true) : ''}`;
}

async function addToCart(c: C): Promise<Response> {
  const form = await readForm(c);
  const bookId = bookIdOf.safeParse(form.bookId);
  const quantity = z.coerce.number().int().min(1).max(100).safeParse(form.quantity || '1');
  if (!bookId.success) return c.html(notice('There is no such book.'), 400);
  return signedIn(c, async (buyer) => {
    if (!quantity.success) return c.html(buyBox(bookId.data, undefined, 'Choose a quantity from 1 to 100.'), 400);
    const em = c.var.deps.orm.em.fork();
    try {
      await setCartQuantity(em, c.var.deps.catalog, buyer, bookId.data, quantity.data, { add: true });
    } catch (error) {
      if (error instanceof ProblemError && error.status < 500) return c.html(buyBox(bookId.data, undefined, error.detail), error.status);
      throw error;
    }
    if (!isHtmx(c)) return c.redirect('/cart', 303);
    const count = await cartCount(em, buyer);
    return c.html(html`${buyBox(bookId.data, html`Added to your cart. <a href="/cart">View cart</a>`)}${cartBadge(count, true)}`);
  });
}

async function changeCartLine(c: C, buyer: Principal, change: 'set' | 'remove'): Promise<Response> {
  const bookId = bookIdOf.safeParse(c.req.param('bookId'));
  if (!bookId.success) return c.html(notice('There is no such book.'), 404);
  const form = await readForm(c);
  const quantity = change === 'remove' ? 0 : z.coerce.number().int().min(0).max(100).safeParse(form.quantity).data;
  let error: string | undefined;
  let status = 200;
  if (quantity === undefined) [error, status] = ['Choose a quantity from 0 to 100.', 400];
  else {
    try {
      await setCartQuantity(c.var.deps.orm.em.fork(), c.var.deps.catalog, buyer, bookId.data, quantity);
    } catch (caught) {
      if (!(caught instanceof ProblemError) || caught.status >= 500) throw caught;
      [error, status] = [caught.detail, caught.status];
    }
  }
  if (!isHtmx(c) && !error) return c.redirect('/cart', 303);
  return c.html(await cartSection(c, buyer, error), status as 200);
}

async function showCheckout(c: C, buyer: Principal, view: { providerId?: number; key?: string; error?: string } = {}, status = 200): Promise<Response> {
  const [{ cart }, carriers] = await Promise.all([cartOf(c, buyer), providers(c)]);
  const chosen = view.providerId ?? (Number(c.req.query('providerId')) || carriers.at(-1)?.id || 0);
  return c.html(checkoutForm(cart, carriers, { providerId: chosen, key: view.key ?? newKey(), error: view.error }), status as 200);
}

async function showCheckoutTotal(c: C, buyer: Principal): Promise<Response> {
  const [{ cart }, carriers] = await Promise.all([cartOf(c, buyer), providers(c)]);
  return c.html(checkoutTotal(cart.subtotalCents, carriers.find((provider) => provider.id === Number(c.req.query('providerId')))));
}

async function submitCheckout(c: C, buyer: Principal): Promise<Response> {
  const form = await readForm(c);
  const key = formText(form.key, 101); // one over the longest key: a longer one is refused, not cut to collide with another
  const input = createOrderInput.safeParse({ providerId: Number(form.providerId) });
  if (!input.success) return showCheckout(c, buyer, { key, error: 'Choose a delivery provider.' }, 400);
  if (!idempotencyKeyPattern.test(key)) return showCheckout(c, buyer, { error: 'The form expired; please place the order again.' }, 400);
  const placed = await placeOrder(c.var.deps, buyer, input.data, key);
  if (placed.status === 201) return c.redirect(`/orders/${(placed.body as { id: string }).id}/pay`, 303);
  // Short of stock: a fresh key, so the next try (after the cart changes) is a new order. Unavailable: the same key carries on.
  const detail = (placed.body as { detail?: string }).detail ?? 'The order could not be placed.';
  return showCheckout(c, buyer, { providerId: input.data.providerId, key: placed.status === 503 ? key : newKey(), error: detail }, placed.status);
}

async function showOrders(c: C, caller: Principal, all: boolean): Promise<Response> {
  if (all && caller.role !== 'admin') return c.html(notice('Only administrators can see every order.'), 403);
  const { page, pageSize } = pageQuery.catch({ page: 1, pageSize: 20 }).parse(c.req.query());
  const listing = await listOrders(c.var.deps.orm.em.fork(), caller, page, pageSize, all);
  return c.html(orderList(listing, all ? { title: 'All orders', hrefBase: '/admin/orders', showBuyer: true } : { title: 'My orders', hrefBase: '/orders' }));
}

async function orderOf(c: C, caller: Principal) {
  const id = orderIdParam.safeParse({ id: c.req.param('id') });
  if (!id.success) throw new ProblemError(404, 'There is no such order.');
  const em = c.var.deps.orm.em.fork();
  return toOrderJson(em, await orderFor(em, id.data.id, caller));
}

async function showOrder(c: C, caller: Principal): Promise<Response> {
  const order = await orderOf(c, caller);
  return c.html(orderDetail(order, { confirmation: c.req.query('placed') === '1', pending: c.req.query('pending') === '1', own: order.buyerId === caller.userId }));
}

async function showPayment(c: C, buyer: Principal, view: { error?: string; errors?: Record<string, string>; values?: Record<string, string> } = {}, status = 200): Promise<Response> {
  const order = await orderOf(c, buyer);
  if (order.buyerId !== buyer.userId || order.status !== 'awaiting_payment' || order.payment?.status === 'pending') return c.html(orderDetail(order, { own: order.buyerId === buyer.userId }), status as 200);
  return c.html(paymentForm(order, await providers(c), { key: newKey(), ...view }), status as 200);
}

async function submitPayment(c: C, buyer: Principal): Promise<Response> {
  const order = await orderOf(c, buyer);
  const form = await readForm(c);
  const values = { cardNumber: formText(form.cardNumber, 30), expMonth: formText(form.expMonth, 4), expYear: formText(form.expYear, 6), holder: formText(form.holder, 100) };
  const card = paymentInput.safeParse({ ...values, expMonth: Number(values.expMonth) || undefined, expYear: Number(values.expYear) || undefined, cvc: formText(form.cvc, 8) });
  if (!card.success) return showPayment(c, buyer, { values, errors: fieldErrors(card.error) }, 400);
  const key = formText(form.key, 101);
  if (!idempotencyKeyPattern.test(key)) return showPayment(c, buyer, { values, error: 'The form expired; please enter the card again.' }, 400);
  const paid = await payOrder(c.var.deps, buyer, order.id, card.data, key);
  if (paid.status === 200) return c.redirect(`/orders/${order.id}?placed=1`, 303);
  if (paid.status === 202) return c.redirect(`/orders/${order.id}?pending=1`, 303);
  const detail = (paid.body as { detail?: string }).detail ?? 'The payment did not go through.';
  if (paid.status === 409) return c.html(html`${notice(detail)}${orderDetail(await orderOf(c, buyer), { own: true })}`, 409);
  return showPayment(c, buyer, { values, error: detail }, paid.status);
}

async function submitDelivery(c: C, buyer: Principal): Promise<Response> {
  const order = await orderOf(c, buyer);
  const form = await readForm(c);
  // Not a provider id (Infinity, say, would reach the database): the same "choose one" as an unknown id.
  const input = deliveryInput.safeParse({ providerId: Number(form.providerId) });
  await changeDelivery(c.var.deps, buyer, order.id, input.success ? input.data.providerId : 0);
  return c.redirect(`/orders/${order.id}/pay`, 303);
}

async function submitCancel(c: C, buyer: Principal): Promise<Response> {
  const order = await orderOf(c, buyer);
  await cancelOrder(c.var.deps, buyer, order.id);
  return c.redirect(`/orders/${order.id}`, 303);
}

async function showSales(c: C, seller: Principal): Promise<Response> {
  const { page, pageSize } = pageQuery.catch({ page: 1, pageSize: 20 }).parse(c.req.query());
  const message = c.req.query('done') === 'shipped' ? 'Marked as shipped: the buyer can see it.' : undefined;
  return c.html(salesList(await listSales(c.var.deps.orm.em.fork(), seller, page, pageSize), message));
}

async function submitShipment(c: C, seller: Principal): Promise<Response> {
  const params = shipmentParams.safeParse({ id: c.req.param('id'), bookId: c.req.param('bookId') });
  if (!params.success) return c.html(notice('There is no such sale.'), 404);
  const form = await readForm(c);
  await shipItem(c.var.deps, seller, params.data.id, params.data.bookId, formText(form.trackingCode, 100).trim() || undefined);
  return c.redirect('/sales?done=shipped', 303);
}

/** The carriers and their prices, as checkout charges them: public, and the same for everyone for a minute. */
async function showDeliveryPrices(c: C): Promise<Response> {
  c.header('cache-control', 'public, max-age=60');
  return c.html(deliveryPrices(await providers(c)));
}
