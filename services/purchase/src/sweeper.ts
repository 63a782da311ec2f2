/**
 * The sweeper: finishes or undoes every order left half-way (a crash, a service that did not answer)
 * and expires unpaid ones. It runs in every purchase replica at once; each pass claims its orders
 * with SKIP LOCKED and a lease, so no two replicas ever act on one order.
 */
import { claimDue } from '@bookstore/shared/jobs';
import { Order, Payment, type OrderStatus } from './entities.ts';
import { chargeStep, commitStep, expireStep, inFlight, move, refundStep, releaseStep, retryLater, type SagaDeps } from './saga.ts';


export interface SweepAction {
  orderId: string;
  from: OrderStatus;
  to: OrderStatus;
}

/**
 * One pass: claims due orders (a step in flight past its time, or an unpaid order past its expiry)
 * and moves each on. Returns what it did to each order it claimed.
 *
 * @example every('sweep-orders', config.SWEEP_INTERVAL_MS, () => sweepOrders(deps), { log });
 */
export async function sweepOrders(deps: SagaDeps, options: { limit?: number; leaseMs?: number } = {}): Promise<SweepAction[]> {
  const now = new Date();
  const leaseMs = options.leaseMs ?? 120_000;
  const due = await claimDue(
    deps.orm.em,
    Order,
    { $or: [{ status: { $in: inFlight }, nextAttemptAt: { $lte: now } }, { status: 'awaiting_payment', expiresAt: { $lte: now } }] },
    { limit: options.limit ?? 10, leaseMs },
  );
  const actions: SweepAction[] = [];
  for (const claimed of due) {
    // Act only on the order as it is now, and only while the lease still covers a whole step: an
    // order a request moved on meanwhile, or whose lease is running out (a slow pass), is left to
    // whoever holds it next.
    const order = await deps.orm.em.fork().findOneOrFail(Order, { id: claimed.id });
    const leaseLeft = (order.leaseUntil?.getTime() ?? 0) - Date.now();
    if (order.status !== claimed.status || leaseLeft < stepBudgetMs) continue;
    try {
      await advance(deps, order);
    } catch (error) {
      deps.log.error('sweeper could not move an order on', { orderId: order.id, status: order.status, error });
      await retryLater(deps.orm.em.fork(), order, (error as Error).message, deps.log);
    }
    const after = await deps.orm.em.fork().findOneOrFail(Order, { id: order.id });
    actions.push({ orderId: order.id, from: order.status, to: after.status });
  }
  return actions;
}

/** The longest one step may take: a catalog call with its retries, a gateway call asked twice. */
const stepBudgetMs = 30_000;

async function advance(deps: SagaDeps, order: Order): Promise<void> {
  switch (order.status) {
    case 'reserving':
      // The request that was placing it is gone (a crash, or catalog never answered): give the stock back.
      if (await move(deps.orm.em.fork(), order.id, 'reserving', 'abandoning', { nextAttemptAt: new Date() })) await releaseStep(deps, { ...order, status: 'abandoning' });
      return;
    case 'awaiting_payment':
      await expireStep(deps, order);
      return;
    case 'abandoning':
    case 'cancelling':
    case 'expiring':
      await releaseStep(deps, order);
      return;
    case 'charging': {
      const payment = order.paymentId ? await deps.orm.em.fork().findOne(Payment, { id: order.paymentId }) : null;
      if (!payment) {
        await move(deps.orm.em.fork(), order.id, 'charging', 'awaiting_payment');
        return;
      }
      // Only ask what became of it: the card is not here to charge again, and need not be.
      await chargeStep(deps, order, payment, () => deps.gateway.resolve(payment.id));
      return;
    }
    case 'committing':
      await commitStep(deps, order);
      return;
    case 'refunding':
      await refundStep(deps, order);
      return;
    default:
      return; // final, or moved on since it was claimed
  }
}
