/**
 * The checkout saga, one step per function, the order row as its log. Every step reads the same way:
 * call the other side, then act on what came back: answered (ok, or a refusal), never sent, or
 * unknown. An unknown outcome is never treated as a failure: the order stays where it is and is asked
 * about again later (by a repeat of the request, or by the sweeper). Each move between statuses is a
 * compare-and-set, so a step that lost a race to another replica changes nothing.
 *
 *   reserving ──reserve──► awaiting_payment ──charge──► charging ──approved──► committing ──commit──► paid ──► shipped
 *       │ refused              │ cancel / expire           │ declined, not charged ▲        │ refused
 *       ▼                      ▼                           └──────► awaiting_payment        ▼
 *   abandoning ─release─►  cancelling / expiring ─release─► cancelled / expired        refunding ─refund─► cancelled
 */
import { formatPrice } from '@bookstore/shared/html';
import type { ServiceClient } from '@bookstore/shared/client';
import { catalogApi, type ReservedItem } from '@bookstore/shared/contracts/catalog';
import { transaction, type EntityManager, type Orm } from '@bookstore/shared/db';
import { IdempotencyKey } from '@bookstore/shared/idempotency';
import type { OrderJson } from '@bookstore/shared/contracts/purchase';
import { compareAndSet } from '@bookstore/shared/jobs';
import type { Logger } from '@bookstore/shared/log';
import { CartItem, Order, OrderEvent, OrderItem, Payment, type OrderStatus } from './entities.ts';
import type { Gateway } from './gateway.ts';
import { orderJsonOf, publicStatus, toOrderJson } from './orders.ts';
import { insertRows, nowAsStored } from '@bookstore/shared/rows';

export interface SagaDeps {
  orm: Orm;
  catalog: ServiceClient;
  gateway: Gateway;
  log: Logger;
  config: { ORDER_PAYMENT_TTL_SECONDS: number; GATEWAY_TIMEOUT_MS: number };
}

/**
 * Run in the transaction that moves an order on for a request, with the order's JSON as it then
 * stands: the request's answer is stored with the change it answers (checkout.ts stores it on the
 * request's Idempotency-Key).
 */
export type RecordAnswer = (tx: EntityManager, order: OrderJson) => Promise<void>;

/** What a step did: the order moved on, or it waits for an answer that did not come. */
export type StepResult = 'done' | 'waiting';

/** How long an order in a step is left to the request running it before the sweeper takes over. */
export const stepGraceMs = (deps: SagaDeps) => 3 * deps.config.GATEWAY_TIMEOUT_MS + 10_000;
/** For `move` into a step in flight: the sweeper takes it over if it is still there after the grace. */
export const sweeperAfterGrace = (deps: SagaDeps) => ({ nextAttemptAt: new Date(Date.now() + stepGraceMs(deps)) });

/** The most one order can total: amounts are stored, and charged, as 32-bit cents. */
export const maxOrderTotalCents = 2_147_483_647;

/** Steps that wait for an answer from another service: each carries the time the sweeper takes it over. */
export const inFlight: OrderStatus[] = ['reserving', 'charging', 'committing', 'refunding', 'cancelling', 'expiring', 'abandoning'];

/**
 * Moves an order from one status to another if it still is in `from` (and, with `paymentId`, still
 * on that payment: a step about an older payment never moves an order that has moved on to a newer
 * one); clears its retry state and lease.
 */
export async function move(
  em: EntityManager,
  orderId: string,
  from: OrderStatus | OrderStatus[],
  to: OrderStatus,
  changes: Partial<Order> = {},
  expect: { paymentId?: string } = {},
): Promise<boolean> {
  // A step in flight is the sweeper's to finish if its process dies: without a time, no pass would
  // ever pick it up (an order stuck "abandoning" or "refunding" for good).
  if (inFlight.includes(to) && !changes.nextAttemptAt) throw new Error(`moving order ${orderId} to ${to} needs the time the sweeper takes over (nextAttemptAt)`);
  const now = changes.updatedAt ?? new Date();
  const expected = { status: Array.isArray(from) ? { $in: from } : from, ...(expect.paymentId ? { paymentId: expect.paymentId } : {}) };
  const moved = await compareAndSet(em, Order, orderId, expected, {
    status: to,
    attempts: 0,
    nextAttemptAt: null,
    leaseUntil: null,
    updatedAt: now,
    ...changes,
  });
  // The public history: every change of public status, and the moment the order was placed.
  const before = Array.isArray(from) ? from[0]! : from;
  if (moved && (publicStatus[to] !== publicStatus[before] || before === 'reserving')) {
    await insertRows(em, OrderEvent, [{ orderId, status: publicStatus[to], at: now }]);
  }
  return moved;
}

/** Asks again later: one more failed try, the next after a backoff (1 s, 2 s, 4 s … at most a minute). */
export async function retryLater(em: EntityManager, order: Order, reason: string, log: Logger): Promise<StepResult> {
  const attempts = order.attempts + 1;
  const delayMs = Math.min(60_000, 1000 * 2 ** Math.min(attempts - 1, 6)) * (0.8 + Math.random() * 0.4);
  await compareAndSet(em, Order, order.id, { status: order.status }, { attempts, nextAttemptAt: new Date(Date.now() + delayMs), leaseUntil: null });
  log.warn('order step will be retried', { orderId: order.id, status: order.status, attempts, reason });
  return 'waiting';
}

// --- reserve -------------------------------------------------------------------------------------

/** `order`: the placed order, its answer recorded; null when a repeat or the sweeper moved it on first. */
export type ReserveResult = { kind: 'placed'; order: OrderJson | null } | { kind: 'refused'; status: number; detail: string; extra: Record<string, unknown> } | { kind: 'waiting'; reason: string };

/** reserving → awaiting_payment: catalog holds the stock and tells the prices we record. */
export async function reserveStep(deps: SagaDeps, order: Order, recordAnswer?: RecordAnswer): Promise<ReserveResult> {
  const items = JSON.parse(order.requestedItems) as { bookId: number; quantity: number }[];
  const outcome = await deps.catalog.call(catalogApi.reserve, { body: { orderId: order.id, items } });
  switch (outcome.kind) {
    case 'ok': {
      // Catalog tells each book's seller only now: a seller buying their own book gives it back.
      const own = outcome.value.items.find((item) => item.sellerId === order.buyerId);
      if (own) {
        await abandon(deps, order);
        return { kind: 'refused', status: 409, detail: `“${own.title}” is your own book: you cannot buy it`, extra: { bookId: own.bookId } };
      }
      // Only catalog's prices tell the total; one past what an order (and a charge) can hold gives the stock back.
      const totalCents = order.deliveryCents + outcome.value.items.reduce((sum, item) => sum + item.unitPriceCents * item.quantity, 0);
      if (totalCents > maxOrderTotalCents) {
        await abandon(deps, order);
        return { kind: 'refused', status: 400, detail: `This order would total ${formatPrice(totalCents)}; one order can total at most ${formatPrice(maxOrderTotalCents)}. Order fewer copies.`, extra: {} };
      }
      return { kind: 'placed', order: await recordPrices(deps, order, outcome.value.items, recordAnswer) };
    }
    case 'problem': {
      // Refused (a book short or gone): nothing is held, but release anyway so that a reserve of
      // this order still on its way can never take stock later.
      await abandon(deps, order);
      const { bookId, title, available } = outcome.problem as { bookId?: number; title?: string; available?: number };
      return { kind: 'refused', status: outcome.status === 409 ? 409 : 400, detail: outcome.problem.detail ?? 'The order could not be placed', extra: { bookId, title, available } };
    }
    default:
      return { kind: 'waiting', reason: outcome.reason };
  }
}

/** reserving → abandoning: the order is not placed; whatever catalog holds for it goes back (now, or by the sweeper). */
async function abandon(deps: SagaDeps, order: Order) {
  if (await move(deps.orm.em.fork(), order.id, 'reserving', 'abandoning', sweeperAfterGrace(deps))) await releaseStep(deps, { ...order, status: 'abandoning' });
}

async function recordPrices(deps: SagaDeps, order: Order, reserved: ReservedItem[], recordAnswer?: RecordAnswer): Promise<OrderJson | null> {
  return transaction(deps.orm.em, async (tx) => {
    const subtotalCents = reserved.reduce((sum, item) => sum + item.unitPriceCents * item.quantity, 0);
    const now = nowAsStored(); // the answer is built here, from these values: it shows what a read will
    const changes = { subtotalCents, totalCents: subtotalCents + order.deliveryCents, expiresAt: new Date(now.getTime() + deps.config.ORDER_PAYMENT_TTL_SECONDS * 1000), updatedAt: now };
    const placed = await move(tx, order.id, 'reserving', 'awaiting_payment', changes);
    if (!placed) return null; // a repeat of this request, or the sweeper, got here first
    const items = reserved.map((item) => ({ orderId: order.id, bookId: item.bookId, title: item.title, sellerId: item.sellerId, unitPriceCents: item.unitPriceCents, quantity: item.quantity, shippedAt: null, trackingCode: null }));
    await insertRows(tx, OrderItem, items);
    if (order.fromCart) await tx.nativeDelete(CartItem, { userId: order.buyerId, bookId: { $in: reserved.map((item) => item.bookId) } });
    const json = orderJsonOf({ ...order, ...changes, status: 'awaiting_payment' }, items, [{ status: publicStatus.awaiting_payment, at: now }], null);
    await recordAnswer?.(tx, json);
    return json;
  });
}

// --- charge and commit -----------------------------------------------------------------------------

/** `order` (with `paid`): the paid order, its answer recorded, when this step moved it to paid for a request. */
export type ChargeStepResult = { kind: 'paid'; order?: OrderJson } | { kind: 'declined'; reason: string } | { kind: 'not-charged'; reason: string } | { kind: 'refunded' } | { kind: 'waiting' };

/** charging → committing (or back to awaiting_payment): the gateway's answer for this payment. */
export async function chargeStep(deps: SagaDeps, order: Order, payment: Payment, charge: () => ReturnType<Gateway['charge']>, recordAnswer?: RecordAnswer): Promise<ChargeStepResult> {
  let result = await charge();
  // No answer is not a "no": ask the gateway what became of this payment (it voids one that never arrived).
  if (result.kind === 'unknown') result = await deps.gateway.resolve(payment.id);
  const em = deps.orm.em.fork();
  switch (result.kind) {
    case 'approved': {
      const moved = await transaction(em, async (tx) => {
        await setPaymentStatus(tx, payment.id, 'approved', null);
        return move(tx, order.id, 'charging', 'committing', sweeperAfterGrace(deps), { paymentId: payment.id });
      });
      // Another actor (a repeat, the sweeper) moved it on first: it commits; we tell what it is now.
      if (!moved) return currentResult(deps, order.id);
      return commitStep(deps, { ...order, status: 'committing', paymentId: payment.id }, recordAnswer);
    }
    case 'declined':
    case 'not-charged':
      await transaction(em, async (tx) => {
        await setPaymentStatus(tx, payment.id, result.kind === 'declined' ? 'declined' : 'failed', result.reason.slice(0, 200));
        await move(tx, order.id, 'charging', 'awaiting_payment', {}, { paymentId: payment.id });
      });
      return { kind: result.kind, reason: result.reason };
    case 'unknown':
      await retryLater(em, order, result.reason, deps.log);
      return { kind: 'waiting' };
  }
}

/** A payment's outcome; a reason given replaces the one kept, none keeps it. */
async function setPaymentStatus(tx: EntityManager, paymentId: string, status: Payment['status'], reason: string | null): Promise<void> {
  await tx.execute('update payments set status = ?, reason = coalesce(?, reason), updated_at = ? where id = ?', [status, reason, new Date(), paymentId], 'run');
}

/** What an order's payment came to, as it stands now (for a step that lost a race to another). */
async function currentResult(deps: SagaDeps, orderId: string): Promise<ChargeStepResult> {
  const order = await deps.orm.em.fork().findOneOrFail(Order, { id: orderId });
  if (order.status === 'paid' || order.status === 'shipped') return { kind: 'paid' };
  const payment = order.paymentId ? await deps.orm.em.fork().findOne(Payment, { id: order.paymentId }) : null;
  if (order.status === 'cancelled' && payment?.status === 'refunded') return { kind: 'refunded' };
  return { kind: 'waiting' };
}

/** committing → paid: catalog marks the stock sold. Refused (the reservation is gone): refund. */
export async function commitStep(deps: SagaDeps, order: Order, recordAnswer?: RecordAnswer): Promise<ChargeStepResult> {
  const outcome = await deps.catalog.call(catalogApi.commit, { params: { orderId: order.id } });
  const em = deps.orm.em.fork();
  if (outcome.kind === 'ok') {
    let answered: OrderJson | undefined;
    const paid = await transaction(em, async (tx) => {
      if (!(await move(tx, order.id, 'committing', 'paid'))) return false;
      if (recordAnswer) {
        answered = await toOrderJson(tx, { ...order, status: 'paid' });
        await recordAnswer(tx, answered);
      }
      return true;
    });
    return paid ? { kind: 'paid', order: answered } : currentResult(deps, order.id);
  }
  // Only "no such reservation" (404) and "released" (409) mean the stock is gone: then the money
  // goes back. Any other refusal (a credential being rotated, say) is asked again later.
  if (outcome.kind === 'problem' && (outcome.status === 404 || outcome.status === 409)) {
    deps.log.error('catalog refused to commit a paid order; refunding', { orderId: order.id, status: outcome.status, detail: outcome.problem.detail });
    if (await move(em, order.id, 'committing', 'refunding', sweeperAfterGrace(deps))) return refundStep(deps, { ...order, status: 'refunding' });
    return currentResult(deps, order.id);
  }
  if (outcome.kind === 'problem') {
    deps.log.error('catalog refused to commit a paid order for a reason that is not about stock; asking again later', { orderId: order.id, status: outcome.status, detail: outcome.problem.detail });
    await retryLater(em, order, `commit refused: ${outcome.status}`, deps.log);
    return { kind: 'waiting' };
  }
  await retryLater(em, order, outcome.reason, deps.log);
  return { kind: 'waiting' };
}

/** refunding → cancelled: the money goes back. */
export async function refundStep(deps: SagaDeps, order: Order): Promise<ChargeStepResult> {
  const em = deps.orm.em.fork();
  if (!order.paymentId || (await deps.gateway.refund(order.paymentId)) !== 'refunded') {
    await retryLater(em, order, 'the gateway did not confirm the refund', deps.log);
    return { kind: 'waiting' };
  }
  await transaction(em, async (tx) => {
    await tx.nativeUpdate(Payment, { id: order.paymentId! }, { status: 'refunded', updatedAt: new Date() });
    await move(tx, order.id, 'refunding', 'cancelled');
  });
  return { kind: 'refunded' };
}

// --- give stock back ---------------------------------------------------------------------------------

const releasedStatus: Partial<Record<OrderStatus, OrderStatus>> = { cancelling: 'cancelled', expiring: 'expired', abandoning: 'abandoned' };

/** cancelling / expiring / abandoning → cancelled / expired / abandoned: catalog gives the stock back. */
export async function releaseStep(deps: SagaDeps, order: Order): Promise<StepResult> {
  const to = releasedStatus[order.status];
  if (!to) throw new Error(`releaseStep: an order in ${order.status} holds no stock to give back`);
  const outcome = await deps.catalog.call(catalogApi.release, { params: { orderId: order.id } });
  const em = deps.orm.em.fork();
  if (outcome.kind === 'ok') {
    await transaction(em, async (tx) => {
      if (!(await move(tx, order.id, order.status, to))) return;
      // An order never placed leaves its key free: the same request may be sent again and start afresh.
      if (to === 'abandoned') await tx.nativeDelete(IdempotencyKey, { scope: 'orders', resourceId: order.id, responseStatus: null });
    });
    return 'done';
  }
  if (outcome.kind === 'problem') deps.log.error('catalog refused to release an order', { orderId: order.id, status: outcome.status, detail: outcome.problem.detail });
  return retryLater(em, order, outcome.kind === 'problem' ? `release refused: ${outcome.status}` : outcome.reason, deps.log);
}

/** awaiting_payment → expiring → expired, for an order whose payment time has run out. */
export async function expireStep(deps: SagaDeps, order: Order): Promise<StepResult> {
  const expiring = await move(deps.orm.em.fork(), order.id, 'awaiting_payment', 'expiring', sweeperAfterGrace(deps));
  return expiring ? releaseStep(deps, { ...order, status: 'expiring' }) : 'done';
}
