/**
 * What the fault matrix asserts of orders once a case is over, read from purchase's and catalog's
 * databases (as root on the primary) and back through the purchase API: the checkout invariants,
 * one charge per paid order, no order lost or doubled, the same keys answering the same orders.
 * Each check adds sentences to `problems` instead of throwing, so a case reports all that broke.
 */
import { brokenInvariants } from '../../services/purchase/test/invariants.ts';
import { approvedCard, type Buyer, type CheckoutOutcome } from './checkouts.ts';

export type Queryable = { query(sql: string, params?: unknown[]): Promise<unknown> };
type Row = Record<string, unknown>;

export interface Shop {
  purchaseUrl: string;
  purchaseDb: Queryable;
  catalogDb: Queryable;
  /** What the seller put in, per book: the left side of the stock invariant. */
  stockPut: Map<number, number>;
}

/** Order statuses of a step under way (the sweeper's to finish). */
export const inFlightStatuses = ['reserving', 'charging', 'committing', 'refunding', 'cancelling', 'expiring', 'abandoning'];

const rows = async (db: Queryable, sql: string, params: unknown[] = []) => (await db.query(sql, params)) as Row[];

/** Polls `check` until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await Bun.sleep(everyMs);
  }
}

/** Waits until no order of these buyers is half-way through a step: the sweeper has finished or undone each. Returns the ms waited. */
export async function settled(shop: Shop, buyers: Buyer[], timeoutMs: number, problems: string[]): Promise<number> {
  const started = Date.now();
  const underWay = () => rows(shop.purchaseDb, 'select id, status, attempts, next_attempt_at from orders where status in (?) and buyer_id in (?)', [inFlightStatuses, buyers.map((buyer) => buyer.userId)]);
  try {
    await until('the sweeper has settled every order', async () => (await underWay()).length === 0, timeoutMs, 100);
  } catch {
    const stuck = (await underWay()).map((order) => `${order.id} ${order.status} (attempts ${order.attempts}, next attempt ${order.next_attempt_at === null ? 'never (null)' : String(order.next_attempt_at)})`);
    problems.push(`orders still under way ${timeoutMs / 1000} s after the last buyer was done: ${stuck.join('; ')}`);
  }
  return Date.now() - started;
}

/** Sends a request until it is not a 502–504 (the services have just come back). */
async function answered(request: () => Promise<Response>): Promise<Response> {
  let response: Response | undefined;
  await until('an answer other than 502–504', async () => {
    response = await request().catch(() => undefined);
    return response !== undefined && ![502, 503, 504].includes(response.status);
  }, 10_000, 100);
  return response!;
}

/** Each order a buyer was answered 201 for, read back by its buyer and sent again with the same keys (order, payment). */
export async function checkRepeats(shop: Shop, outcome: CheckoutOutcome, problems: string[]) {
  const asBuyer = (token: string, key?: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(key ? { 'idempotency-key': key } : {}) });
  for (const placed of outcome.placed) {
    const read = await answered(() => fetch(`${shop.purchaseUrl}/api/orders/${placed.orderId}`, { headers: asBuyer(placed.buyer.token) }));
    const readBody = (await read.json().catch(() => null)) as { id?: string } | null;
    if (read.status !== 200 || readBody?.id !== placed.orderId) problems.push(`GET /api/orders/${placed.orderId} as its buyer: ${read.status} ${JSON.stringify(readBody)}`);

    const repeat = await answered(() => fetch(`${shop.purchaseUrl}/api/orders`, { method: 'POST', headers: asBuyer(placed.buyer.token, placed.key), body: JSON.stringify(placed.body) }));
    const repeatBody = (await repeat.json().catch(() => null)) as { id?: string } | null;
    if (repeat.status !== 201 || repeatBody?.id !== placed.orderId) problems.push(`the order's Idempotency-Key sent again answered ${repeat.status} ${repeatBody?.id ?? JSON.stringify(repeatBody)}, not order ${placed.orderId}`);

    if (placed.payment !== 'paid') continue;
    const payAgain = await answered(() => fetch(`${shop.purchaseUrl}/api/orders/${placed.orderId}/payment`, { method: 'POST', headers: asBuyer(placed.buyer.token, placed.payKey), body: JSON.stringify(approvedCard) }));
    const payBody = (await payAgain.json().catch(() => null)) as { status?: string } | null;
    if (payAgain.status !== 200 || payBody?.status !== 'paid') problems.push(`the payment's Idempotency-Key sent again for ${placed.orderId} answered ${payAgain.status} ${JSON.stringify(payBody).slice(0, 200)}, not 200 paid`);
  }
}

/**
 * The invariants over every book so far (lines in `reported` were an earlier case's: not repeated),
 * then these buyers' orders: each paid one charged exactly once, each answered 201 still there, no
 * other; what the buyers were told matches. Run after checkRepeats: a repeat must not charge again.
 * Returns how many of these buyers' orders ended in each status.
 */
export async function checkOrders(shop: Shop, buyers: Buyer[], outcome: CheckoutOutcome, reported: Set<string>, problems: string[]): Promise<Map<string, number>> {
  const broken = await brokenInvariants({ purchase: shop.purchaseDb, catalog: shop.catalogDb }, shop.stockPut, { settled: true });
  problems.push(...broken.filter((line) => !reported.has(line)));
  for (const line of broken) reported.add(line);
  for (const line of outcome.unexpected) problems.push(`unexpected answer: ${line}`);
  for (const line of outcome.gaveUp) problems.push(`hung: ${line}`);

  const orders = await rows(
    shop.purchaseDb,
    `select o.id, o.status,
            (select count(*) from payments p join gateway_charges c on c.charge_key = p.id where p.order_id = o.id and c.outcome = 'approved') as approved,
            (select count(*) from payments p join gateway_charges c on c.charge_key = p.id where p.order_id = o.id and c.outcome = 'approved' and c.refunded_at is null) as kept
       from orders o where o.buyer_id in (?)`,
    [buyers.map((buyer) => buyer.userId)],
  );
  const placedIds = new Set(outcome.placed.map((order) => order.orderId));
  for (const order of orders) {
    const paid = order.status === 'paid' || order.status === 'shipped';
    if (paid && (Number(order.approved) !== 1 || Number(order.kept) !== 1)) problems.push(`order ${order.id} is ${order.status} with ${order.approved} approved charges (${order.kept} not refunded): exactly one expected`);
    // An order never placed ends abandoned; one still under way is reported by settled().
    const placedStatus = !inFlightStatuses.includes(String(order.status)) && order.status !== 'abandoned';
    if (placedStatus && !placedIds.has(String(order.id))) problems.push(`order ${order.id} is ${order.status}, but no buyer was answered 201 for it (a doubled order?)`);
  }
  for (const placed of outcome.placed) {
    const row = orders.find((order) => order.id === placed.orderId);
    if (!row || row.status === 'abandoned') problems.push(`order ${placed.orderId} was answered 201 to ${placed.buyer.name}, but is ${row ? 'abandoned' : 'missing'} (a lost order)`);
    else if ((placed.payment === 'paid') !== (row.status === 'paid')) problems.push(`order ${placed.orderId}: the buyer was told "${placed.payment}", but it is ${row.status}`);
  }

  const statuses = new Map<string, number>();
  for (const order of orders) statuses.set(String(order.status), (statuses.get(String(order.status)) ?? 0) + 1);
  return statuses;
}

/** No oversell of the book, what catalog sold is what its buyers were told they paid for, and someone was refused. */
export async function checkStock(shop: Shop, bookId: number, outcome: CheckoutOutcome, problems: string[]) {
  const put = shop.stockPut.get(bookId) ?? 0;
  const [book] = await rows(shop.catalogDb, `select b.stock, coalesce(sum(case when r.state = 'committed' then r.quantity end), 0) as sold from books b left join reservations r on r.book_id = b.id where b.id = ? group by b.stock`, [bookId]);
  const paidCopies = outcome.placed.filter((order) => order.payment === 'paid').reduce((sum, order) => sum + order.quantity, 0);
  if (!book || Number(book.stock) < 0 || Number(book.sold) > put) problems.push(`book ${bookId}: stock ${book?.stock}, sold ${book?.sold} of ${put} (oversold)`);
  else if (Number(book.sold) !== paidCopies) problems.push(`book ${bookId}: catalog sold ${book.sold} copies, buyers were told ${paidCopies} were paid`);
  if (outcome.refused.length === 0) problems.push(`nobody was refused, though the buyers wanted more than the ${put} copies`);
}
