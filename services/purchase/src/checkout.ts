/**
 * What a buyer (or seller) asks of purchase, as business steps: place an order, pay it, change its
 * delivery, cancel it, ship an item. Each answers `{status, body}` so a repeat with the same
 * Idempotency-Key gets the same answer; the saga steps themselves live in saga.ts.
 */
import { randomBytes } from 'node:crypto';
import type { Principal } from '@bookstore/shared/auth';
import { mergeItems } from '@bookstore/shared/contracts/catalog';
import type { CreateOrderInput, PaymentInput } from '@bookstore/shared/contracts/purchase';
import { dialectOfPlatform, transaction, type EntityManager } from '@bookstore/shared/db';
import { LockMode } from '@mikro-orm/core';
import { ProblemError, problemBody } from '@bookstore/shared/errors';
import { forgetKey, requestHash, storeAnswer, withIdempotencyKey, type IdempotencyKey, type KeyedRequest, type KeyRequest } from '@bookstore/shared/idempotency';
import { compareAndSet } from '@bookstore/shared/jobs';
import { providerOrFail } from './delivery.ts';
import { CartItem, Order, OrderItem, Payment } from './entities.ts';
import { notFound, orderFor, publicStatus, toOrderJson } from './orders.ts';
import { findRow, insertRows, nowAsStored } from '@bookstore/shared/rows';
import { formatPrice } from '@bookstore/shared/html';
import { chargeStep, maxOrderTotalCents, move, releaseStep, reserveStep, stepGraceMs, sweeperAfterGrace, type ChargeStepResult, type SagaDeps } from './saga.ts';

export interface Answer {
  status: number;
  body: unknown;
}

/**
 * Ids nobody can guess that sort by creation: `ord_` or `pay_`, then 24 base32 characters, the
 * first 10 the millisecond of creation and 14 random (70 bits). Lists ordered by `created_at`
 * (stored to the second) and then by id are so newest first even within one second. The alphabet is
 * in ASCII order (digits before letters), so text order is time order in every database.
 */
export function newId(prefix: 'ord' | 'pay', now = Date.now()): string {
  const alphabet = '234567abcdefghijklmnopqrstuvwxyz';
  let time = '';
  for (let rest = now, i = 0; i < 10; i++, rest = Math.floor(rest / 32)) time = alphabet[rest % 32] + time;
  return `${prefix}_${time}${[...randomBytes(14)].map((byte) => alphabet[byte & 31]).join('')}`;
}

const problem = (status: number, detail: string, extra: Record<string, unknown> = {}): Answer => ({ status, body: problemBody(status, detail, extra) });

/** The order's row as committed now (on the primary). */
async function orderRow(deps: SagaDeps, orderId: string): Promise<Order> {
  const order = await findRow(deps.orm.em, Order, { id: orderId });
  if (!order) throw notFound(orderId);
  return order;
}

async function orderAnswer(deps: SagaDeps, orderId: string, status: number): Promise<Answer> {
  return { status, body: await toOrderJson(deps.orm.em, await orderRow(deps, orderId)) };
}

/** A repeat of a finished request: its stored answer, with the order as it is now when that was a success. */
async function replay(deps: SagaDeps, earlier: IdempotencyKey): Promise<Answer> {
  const body = JSON.parse(earlier.responseBody ?? 'null') as { id?: string } | null;
  if (earlier.responseStatus! < 300 && body?.id) return orderAnswer(deps, body.id, earlier.responseStatus!);
  return { status: earlier.responseStatus!, body };
}

async function finish(deps: SagaDeps, request: KeyedRequest, answer: Answer): Promise<Answer> {
  await storeAnswer(deps.orm.em, request, answer.status, answer.body);
  return answer;
}

/** The order if it is the caller's own; admins may look at any order but act only on their own. */
async function ownOrder(deps: SagaDeps, orderId: string, caller: Principal): Promise<Order> {
  const order = await orderFor(deps.orm.em.fork(), orderId, caller);
  if (order.buyerId !== caller.userId) throw new ProblemError(403, 'Only the buyer can change or pay this order');
  return order;
}

// --- place ---------------------------------------------------------------------------------------

/**
 * Places an order: the given items, or the caller's cart. The order row and the key are written
 * together; then catalog reserves the stock and tells the prices. A repeat of the same request
 * answers the same order (and carries on placing it if the first attempt could not finish).
 */
export async function placeOrder(deps: SagaDeps, buyer: Principal, input: CreateOrderInput, key: string): Promise<Answer> {
  const provider = await providerOrFail(deps.orm, input.providerId);
  const request: KeyRequest = { scope: 'orders', ownerId: buyer.userId, key, hash: requestHash(input) };
  let created: Order | undefined;
  const { resourceId, earlier } = await withIdempotencyKey(deps.orm.em, request, newId('ord'), async (tx, id) => {
    const items = input.items ? mergeItems(input.items) : (await tx.find(CartItem, { userId: buyer.userId }, { orderBy: { id: 'asc' } })).map(({ bookId, quantity }) => ({ bookId, quantity }));
    if (items.length === 0) throw new ProblemError(400, 'Your cart is empty: add a book before checking out', { errors: { items: 'the cart is empty' } });
    const now = nowAsStored(); // the answer is built from this row in memory: it shows what a read will
    created = {
      id,
      buyerId: buyer.userId,
      buyerName: buyer.name || `Buyer ${buyer.userId}`,
      status: 'reserving',
      requestedItems: JSON.stringify(items),
      fromCart: !input.items,
      providerId: provider.id,
      providerName: provider.name,
      deliveryCents: provider.priceCents,
      subtotalCents: 0,
      totalCents: 0,
      paymentId: null,
      attempts: 0,
      // Left to this request (and its repeats) for a while; then the sweeper gives the stock back.
      nextAttemptAt: new Date(now.getTime() + stepGraceMs(deps)),
      leaseUntil: null,
      expiresAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await insertRows(tx, Order, [created]);
  });
  if (earlier?.responseStatus) return replay(deps, earlier);
  // A repeat of a request that has not answered yet (under way, or it died) carries on with the order as it is now.
  const order = earlier ? await orderRow(deps, resourceId) : created!;
  // The sweeper gave up placing it (catalog did not answer within the grace period) and is giving its
  // books back: it was never placed, so no 201. Once the books are back the key is free again.
  if (order.status === 'abandoning' || order.status === 'abandoned') return problem(503, 'The catalog did not answer in time, so this order was not placed and its books are being given back; nothing was charged. Send the same request again in a moment to place it afresh.');
  if (order.status !== 'reserving') return orderAnswer(deps, order.id, 201);

  // Placed: the answer is stored on the key in the transaction that records the prices.
  const keyed: KeyedRequest = { ...request, resourceId: order.id };
  const reserved = await reserveStep(deps, order, (tx, placed) => storeAnswer(tx, keyed, 201, placed));
  switch (reserved.kind) {
    case 'placed':
      return reserved.order ? { status: 201, body: reserved.order } : finish(deps, keyed, await orderAnswer(deps, order.id, 201));
    case 'refused':
      return finish(deps, keyed, problem(reserved.status, reserved.detail, reserved.extra));
    case 'waiting': {
      deps.log.warn('order not placed yet: catalog did not answer', { orderId: order.id, reason: reserved.reason });
      // A repeat may have placed it meanwhile.
      if ((await orderRow(deps, order.id)).status !== 'reserving') return placeOrder(deps, buyer, input, key);
      return problem(503, 'The catalog is not answering, so the books are not reserved yet. Send the same request again (same Idempotency-Key) to carry on; nothing was charged.');
    }
  }
}

// --- pay -------------------------------------------------------------------------------------------

/**
 * Pays an order: claims it (awaiting_payment → charging, so a second payment at once is refused),
 * charges the server-side total, then marks the stock sold. The card never leaves this function
 * but for the gateway; only its last four digits are kept.
 */
export async function payOrder(deps: SagaDeps, buyer: Principal, orderId: string, card: PaymentInput, key: string): Promise<Answer> {
  await ownOrder(deps, orderId, buyer);
  const last4 = card.cardNumber.slice(-4);
  const request: KeyRequest = {
    scope: 'payment',
    ownerId: buyer.userId,
    key,
    hash: requestHash({ orderId, last4, length: card.cardNumber.length, expMonth: card.expMonth, expYear: card.expYear, holder: card.holder }),
  };
  let claimed: { order: Order; payment: Payment } | undefined;
  const { resourceId: paymentId, earlier } = await withIdempotencyKey(deps.orm.em, request, newId('pay'), async (tx, paymentId) => {
    const now = new Date();
    const changes = { status: 'charging' as const, paymentId, attempts: 0, nextAttemptAt: new Date(now.getTime() + stepGraceMs(deps)), updatedAt: now };
    if (!(await compareAndSet(tx, Order, orderId, { status: 'awaiting_payment', expiresAt: { $gt: now } }, changes))) throw await notPayable(tx, orderId);
    // Read after the claim: the total charged is the one the claim froze (a change of carrier before it moved it).
    const order = (await findRow(tx, Order, { id: orderId }))!; // claimed just now, by this transaction
    const payment: Payment = { id: paymentId, orderId, amountCents: order.totalCents, last4, status: 'pending', reason: null, createdAt: now, updatedAt: now };
    await insertRows(tx, Payment, [payment]);
    claimed = { order, payment };
  });
  if (earlier?.responseStatus) return replay(deps, earlier);
  // No answer stored: the same payment is under way in another request, or that request died (a
  // crash) and the sweeper settled the payment since. Then answer as that request would have: a
  // repeat must not be told "pending" for ever about a payment that is over.
  const keyed: KeyedRequest = { ...request, resourceId: paymentId };
  if (earlier) return answerPayment(deps, keyed, orderId, await awaitSettled(deps, paymentId));

  // Paid: the answer is stored on the key in the transaction that marks the order paid.
  const { order, payment } = claimed!;
  const result = await chargeStep(deps, order, payment, () => deps.gateway.charge(paymentId, payment.amountCents, card), (tx, paid) => storeAnswer(tx, keyed, 200, paid));
  return answerPayment(deps, keyed, orderId, result);
}

/** The answer to a payment request, stored on its key; "not charged" frees the key instead, for another try. */
async function answerPayment(deps: SagaDeps, request: KeyedRequest, orderId: string, result: ChargeStepResult): Promise<Answer> {
  switch (result.kind) {
    case 'paid':
      return result.order ? { status: 200, body: result.order } : finish(deps, request, await orderAnswer(deps, orderId, 200));
    case 'declined':
      return finish(deps, request, problem(402, result.reason, { orderId }));
    case 'not-charged':
      await forgetKey(deps.orm.em, request); // nothing happened: the same key may try again
      return problem(503, result.reason, { orderId });
    case 'refunded':
      return finish(deps, request, problem(409, 'Your books could not be held for this order, so it was cancelled and your payment refunded.', { orderId }));
    case 'waiting':
      return orderAnswer(deps, orderId, 202);
  }
}

/**
 * A repeat that arrives while its first request is still charging (a double click) waits for that
 * one to end, as long as a charge may take, and answers as it did; past that, "under way" (202).
 */
async function awaitSettled(deps: SagaDeps, paymentId: string): Promise<ChargeStepResult> {
  const deadline = Date.now() + 2 * deps.config.GATEWAY_TIMEOUT_MS + 2000;
  for (;;) {
    const settled = await settledPayment(deps, paymentId);
    if (settled || Date.now() > deadline) return settled ?? { kind: 'waiting' };
    await Bun.sleep(100); // polling the payment row: the other request writes it when the gateway answers
  }
}

/** How a payment ended, read from its row; null while it is still under way (not yet charged, or charged and not yet committed). */
async function settledPayment(deps: SagaDeps, paymentId: string): Promise<ChargeStepResult | null> {
  const em = deps.orm.em.fork();
  const payment = await em.findOneOrFail(Payment, { id: paymentId });
  switch (payment.status) {
    case 'approved': {
      const order = await em.findOneOrFail(Order, { id: payment.orderId });
      return order.status === 'paid' || order.status === 'shipped' ? { kind: 'paid' } : null;
    }
    case 'declined':
      return { kind: 'declined', reason: payment.reason ?? 'The card was declined. Try another card.' };
    case 'failed':
      return { kind: 'not-charged', reason: payment.reason ?? 'The payment was not completed; nothing was charged.' };
    case 'refunded':
      return { kind: 'refunded' };
    case 'pending':
      return null;
  }
}

/** Why an order cannot be paid; read with the caller's transaction (SQLite has one connection, held by it). */
async function notPayable(tx: EntityManager, orderId: string): Promise<ProblemError> {
  const order = await tx.findOneOrFail(Order, { id: orderId });
  if (order.status === 'awaiting_payment') return new ProblemError(409, 'This order has expired and can no longer be paid', { orderStatus: 'expired' });
  if (order.status === 'charging' || order.status === 'committing') return new ProblemError(409, 'A payment for this order is already under way', { orderStatus: publicStatus[order.status] });
  return new ProblemError(409, `This order cannot be paid: it is ${publicStatus[order.status].replace('_', ' ')}`, { orderStatus: publicStatus[order.status] });
}

// --- change, cancel, ship ----------------------------------------------------------------------------

/** Changes the carrier of an unpaid order; the total follows. */
export async function changeDelivery(deps: SagaDeps, buyer: Principal, orderId: string, providerId: number): Promise<Answer> {
  const provider = await providerOrFail(deps.orm, providerId);
  const order = await ownOrder(deps, orderId, buyer);
  if (order.subtotalCents + provider.priceCents > maxOrderTotalCents) {
    throw new ProblemError(400, `With ${provider.name} this order would total more than ${formatPrice(maxOrderTotalCents)}, the most one order can be; keep the carrier it has.`, { errors: { providerId: 'would take the total past the most one order can be' } });
  }
  const changed = await compareAndSet(deps.orm.em.fork(), Order, orderId, { status: 'awaiting_payment', subtotalCents: order.subtotalCents }, {
    providerId: provider.id,
    providerName: provider.name,
    deliveryCents: provider.priceCents,
    totalCents: order.subtotalCents + provider.priceCents,
    updatedAt: new Date(),
  });
  if (!changed) throw new ProblemError(409, 'The delivery can only be changed while the order awaits payment');
  return orderAnswer(deps, orderId, 200);
}

/** Cancels an unpaid order; its stock goes back (now, or as soon as catalog answers). */
export async function cancelOrder(deps: SagaDeps, buyer: Principal, orderId: string): Promise<Answer> {
  const order = await ownOrder(deps, orderId, buyer);
  if (await move(deps.orm.em.fork(), orderId, 'awaiting_payment', 'cancelling', sweeperAfterGrace(deps))) {
    await releaseStep(deps, { ...order, status: 'cancelling' });
  } else {
    const now = await deps.orm.em.fork().findOneOrFail(Order, { id: orderId });
    if (publicStatus[now.status] !== 'cancelled') throw new ProblemError(409, `This order cannot be cancelled: it is ${publicStatus[now.status].replace('_', ' ')}`);
  }
  return orderAnswer(deps, orderId, 200);
}

/** The seller of an item of a paid order marks it shipped; once every item is, the order is shipped. */
export async function shipItem(deps: SagaDeps, seller: Principal, orderId: string, bookId: number, trackingCode: string | undefined): Promise<Answer> {
  const em = deps.orm.em.fork();
  const item = await em.findOne(OrderItem, { orderId, bookId });
  const order = item && (await em.findOne(Order, { id: orderId }));
  // Not the seller's item: the same 404 as no item, so order ids of others cannot be probed.
  if (!item || !order || item.sellerId !== seller.userId) throw new ProblemError(404, `There is no item ${bookId} of yours in order ${orderId}`);
  if (order.status !== 'paid' && order.status !== 'shipped') throw new ProblemError(409, 'Only paid orders can be shipped');
  await transaction(deps.orm.em, async (tx) => {
    // The order row first: sellers of one order shipping at once take turns, so the last one sees
    // every other item shipped and moves the order on (SQLite's transactions take turns already).
    if (dialectOfPlatform(tx) === 'mysql') await tx.findOne(Order, { id: orderId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    await tx.nativeUpdate(OrderItem, { id: item.id, shippedAt: null }, { shippedAt: new Date(), trackingCode: trackingCode || null });
    const unshipped = await tx.count(OrderItem, { orderId, shippedAt: null });
    if (unshipped === 0) await move(tx, orderId, 'paid', 'shipped');
  });
  // The seller sees their item, not the rest of the buyer's order.
  const [shipped, now] = await Promise.all([em.fork().findOneOrFail(OrderItem, { id: item.id }), em.fork().findOneOrFail(Order, { id: orderId })]);
  return { status: 200, body: { orderId, bookId, shippedAt: shipped.shippedAt!.toISOString(), trackingCode: shipped.trackingCode ?? null, orderStatus: publicStatus[now.status] } };
}
