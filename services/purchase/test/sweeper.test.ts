/**
 * The sweeper as it runs in production: in every replica at once. Two purchase apps on one database
 * (each with its own connection pool) sweep the same due orders concurrently and must act on each
 * order once; and a pass whose catalog call gets no answer leaves the order to a later pass.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { OrderJson } from '@bookstore/shared/contracts/purchase';
import { eventually } from '@bookstore/shared/testing/http';
import { serveCatalogWithSeller } from '../../catalog/test/support.ts';
import { claimDue } from '@bookstore/shared/jobs';
import { Order } from '../src/entities.ts';
import { sweepOrders, type SweepAction } from '../src/sweeper.ts';
import { startFaultProxy, type FaultProxy } from './faults.ts';
import { brokenInvariants } from './invariants.ts';
import { startTestPurchase, type TestPurchase } from './support.ts';

let shop: Awaited<ReturnType<typeof serveCatalogWithSeller>>;
let catalogProxy: FaultProxy;
let first: TestPurchase;
let second: TestPurchase;
let buyer: { token: string; userId: number };
const stockPut = new Map<number, number>();

beforeAll(async () => {
  shop = await serveCatalogWithSeller();
  catalogProxy = await startFaultProxy(shop.catalogUrl);
  first = await startTestPurchase(shop.auth.url, { catalogUrl: catalogProxy.url });
  second = await startTestPurchase(shop.auth.url, { catalogUrl: catalogProxy.url, databaseUrl: first.url });
  buyer = await shop.auth.signUp('Sweeper Buyer');
}, 30_000);
afterAll(async () => {
  await second?.close();
  await first?.close(); // drops the database both used
  await catalogProxy?.close();
  await shop?.close();
});

const newKey = () => `sweep-${crypto.randomUUID()}`;
const card = { cardNumber: '4242424242424242', expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: '123', holder: 'Sweeper Buyer' };
const commitRequest = (request: { method: string; path: string }) => request.method === 'POST' && /^\/api\/reservations\/[^/]+\/commit$/.test(request.path);
const purchaseDb = () => first.db!;

async function addBook(title: string, stock: number) {
  const book = await shop.catalog.addBook(shop.seller, { title, stock });
  stockPut.set(book.id, stock);
  return book;
}
const stockOf = async (bookId: number) => ((await (await shop.catalog.app.request(`/api/books/${bookId}`)).json()) as { stock: number }).stock;
const reservationStates = async (orderIds: string[]) => (await shop.catalog.db!.query('select order_id, state from reservations where order_id in (?)', [orderIds])) as { order_id: string; state: string }[];

async function placeOrder(via: TestPurchase, bookId: number, quantity: number): Promise<OrderJson> {
  const response = await via.call('/api/orders', 'POST', { items: [{ bookId, quantity }], providerId: 1 }, buyer.token, { 'idempotency-key': newKey() });
  if (response.status !== 201) throw new Error(`placing an order answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as OrderJson;
}

/** Paid, but catalog drops the commit (it dies as the request arrives): each order is left in committing. */
async function paidButNotCommitted(orders: OrderJson[]) {
  catalogProxy.steer((request, forward) => (commitRequest(request) ? 'drop' : forward(request)));
  try {
    const answers = await Promise.all(orders.map((order) => first.call(`/api/orders/${order.id}/payment`, 'POST', card, buyer.token, { 'idempotency-key': newKey() })));
    expect(answers.map((answer) => answer.status)).toEqual(orders.map(() => 202));
  } finally {
    catalogProxy.steer();
  }
  const statuses = (await purchaseDb().query('select status from orders where id in (?)', [orders.map((order) => order.id)])) as { status: string }[];
  expect(statuses.map((row) => row.status)).toEqual(orders.map(() => 'committing'));
}

/**
 * Due now rather than in 15 minutes (an unpaid order's time to pay) or after a step's grace period:
 * the test moves the dates into the past.
 */
const expireNow = (orders: OrderJson[]) => purchaseDb().query("update orders set expires_at = '2000-01-01 00:00:00' where id in (?)", [orders.map((order) => order.id)]);
const retryNow = (orders: OrderJson[]) => purchaseDb().query("update orders set next_attempt_at = '2000-01-01 00:00:00' where id in (?)", [orders.map((order) => order.id)]);
const orderRow = (via: TestPurchase, id: string) => via.orm.em.fork().findOneOrFail(Order, { id });

test('two purchase instances sweeping the same 40 due orders at once act on each order exactly once', async () => {
  const unpaidBook = await addBook('Never Paid For', 60);
  const soldBook = await addBook('Paid For Once', 60);
  const unpaid = await Promise.all(Array.from({ length: 20 }, (_, i) => placeOrder(i % 2 ? first : second, unpaidBook.id, 1 + (i % 3))));
  const committing = await Promise.all(Array.from({ length: 20 }, (_, i) => placeOrder(i % 2 ? first : second, soldBook.id, 1 + (i % 2))));
  await paidButNotCommitted(committing);
  await expireNow(unpaid);
  await retryNow(committing);
  const catalogCallsBefore = catalogProxy.received.length;

  // Four sweepers at once, two in each instance, each running pass after pass (a few orders per pass)
  // until every order is settled: claims race each other, and a claim runs while other passes act.
  const passes: { sweeper: string; actions: SweepAction[] }[] = [];
  const ids = [...unpaid, ...committing].map((order) => order.id);
  const unsettled = async () => Number(((await purchaseDb().query("select count(*) as n from orders where status not in ('expired', 'paid') and id in (?)", [ids])) as { n: number }[])[0]!.n);
  await Promise.all(
    [first, second, first, second].map(async (instance, i) => {
      const sweeper = `${instance === first ? 'first' : 'second'} instance, sweeper ${i}`;
      for (let pass = 0; pass < 40 && (await unsettled()) > 0; pass++) passes.push({ sweeper, actions: await sweepOrders(instance.deps, { limit: 3 }) });
    }),
  );
  const actions = passes.flatMap((pass) => pass.actions);
  const actedBy = new Map<string, string[]>();
  for (const pass of passes) for (const action of pass.actions) actedBy.set(action.orderId, [...(actedBy.get(action.orderId) ?? []), `${pass.sweeper}: ${action.from} → ${action.to}`]);
  expect([...actedBy].filter(([, by]) => by.length > 1)).toEqual([]); // [order, what each pass that acted on it did]
  expect(actions.length).toBe(40);
  expect(actions.filter((action) => unpaid.some((order) => order.id === action.orderId))).toEqual(
    expect.arrayContaining(unpaid.map((order) => ({ orderId: order.id, from: 'awaiting_payment', to: 'expired' }))),
  );
  expect(actions.filter((action) => committing.some((order) => order.id === action.orderId))).toEqual(
    expect.arrayContaining(committing.map((order) => ({ orderId: order.id, from: 'committing', to: 'paid' }))),
  );

  // Catalog was asked once per order: one release for each expired order, one commit for each paid one.
  // Reservation calls only: a poller left running by another test file may reach this proxy's port.
  const calls = catalogProxy.received.slice(catalogCallsBefore).filter((request) => request.path.startsWith('/api/reservations/')).map((request) => `${request.method} ${request.path}`).sort();
  const expected = [...unpaid.map((order) => `DELETE /api/reservations/${order.id}`), ...committing.map((order) => `POST /api/reservations/${order.id}/commit`)].sort();
  expect(calls).toEqual(expected);

  expect(await stockOf(unpaidBook.id)).toBe(60); // every copy back, each once
  const sold = committing.reduce((sum, order) => sum + order.items[0]!.quantity, 0);
  expect(await stockOf(soldBook.id)).toBe(60 - sold);
  const states = await reservationStates([...unpaid, ...committing].map((order) => order.id));
  expect(states.filter((row) => row.state === 'released').length).toBe(20);
  expect(states.filter((row) => row.state === 'committed').length).toBe(20);
  expect(await brokenInvariants({ purchase: purchaseDb(), catalog: shop.catalog.db! }, stockPut, { settled: true })).toEqual([]);
}, 60_000);

test('a pass whose catalog call gets no answer leaves the order in place, to be tried later; a later pass finishes it once catalog is back', async () => {
  const book = await addBook('Catalog Was Down', 5);
  const unpaid = await placeOrder(first, book.id, 2);
  const committing = await placeOrder(first, book.id, 1);
  await paidButNotCommitted([committing]);
  await expireNow([unpaid]);
  await retryNow([committing]);
  const attemptsBefore = (await orderRow(first, committing.id)).attempts;

  // Catalog dies as each request arrives: the release and the commit may or may not have happened.
  catalogProxy.steer(() => 'drop');
  const startedAt = Date.now();
  const actions = await first.sweep();
  expect(actions).toEqual(
    expect.arrayContaining([
      { orderId: unpaid.id, from: 'awaiting_payment', to: 'expiring' },
      { orderId: committing.id, from: 'committing', to: 'committing' },
    ]),
  );
  const [expiring, stillCommitting] = await Promise.all([orderRow(first, unpaid.id), orderRow(first, committing.id)]);
  // Not due again yet: passes of both instances before the next attempt leave them alone. (The backoff
  // is about a second; on a slow machine it may be over already, and then there is nothing to check.)
  const early = (await Promise.all([first.sweep(), second.sweep()])).flat().map((action) => action.orderId);
  const earlyEnded = Date.now();
  for (const row of [expiring, stillCommitting]) if (row.nextAttemptAt!.getTime() > earlyEnded) expect(early).not.toContain(row.id);

  expect({ status: expiring.status, attempts: expiring.attempts, leaseUntil: expiring.leaseUntil }).toEqual({ status: 'expiring', attempts: 1, leaseUntil: null });
  expect({ status: stillCommitting.status, attempts: stillCommitting.attempts, leaseUntil: stillCommitting.leaseUntil }).toEqual({ status: 'committing', attempts: attemptsBefore + 1, leaseUntil: null });
  // Pushed back from the past (where the test had put it) by the backoff: 1 s, or 2 s after a second
  // failure, ± 20%, from the failed call; the column keeps whole seconds, so allow one less.
  expect(expiring.nextAttemptAt!.getTime() - startedAt).toBeGreaterThan(800 - 1000);
  expect(stillCommitting.nextAttemptAt!.getTime() - startedAt).toBeGreaterThan(800 - 1000);
  expect((await reservationStates([unpaid.id, committing.id])).map((row) => row.state)).toEqual(['reserved', 'reserved']);
  expect(await stockOf(book.id)).toBe(2);

  // Catalog is back: the passes that run once the backoff is over finish both.
  catalogProxy.steer();
  const later: SweepAction[] = [];
  const statuses = async () => ({ unpaid: (await orderRow(first, unpaid.id)).status, committing: (await orderRow(first, committing.id)).status });
  await eventually(async () => {
    later.push(...(await first.sweep()));
    const now = await statuses();
    return now.unpaid === 'expired' && now.committing === 'paid';
  }, 10_000, 200);
  expect(await statuses()).toEqual({ unpaid: 'expired', committing: 'paid' });
  expect(later).toEqual(
    expect.arrayContaining([
      { orderId: unpaid.id, from: 'expiring', to: 'expired' },
      { orderId: committing.id, from: 'committing', to: 'paid' },
    ]),
  );
  expect(await stockOf(book.id)).toBe(4);
  expect(await brokenInvariants({ purchase: purchaseDb(), catalog: shop.catalog.db! }, stockPut, { settled: true })).toEqual([]);
}, 30_000);

test('replicas claiming at once split the due orders between them: neither waits for nor takes the other\'s', async () => {
  const ids = Array.from({ length: 20 }, (_, i) => `ord_claimsplit${String(i).padStart(12, 'a')}`.slice(0, 28));
  const past = new Date(Date.now() - 60_000);
  for (const id of ids) {
    await purchaseDb().query(
      "insert into orders (id, buyer_id, buyer_name, status, requested_items, from_cart, provider_id, provider_name, delivery_cents, subtotal_cents, total_cents, payment_id, attempts, next_attempt_at, lease_until, expires_at, created_at, updated_at) values (?, ?, 'Claim Test', 'awaiting_payment', '[]', 0, 1, 'DHL', 5000, 0, 5000, null, 0, null, null, ?, ?, ?)",
      [id, buyer.userId, past, past, past],
    );
  }
  try {
    const claim = (via: TestPurchase) => claimDue(via.orm.em, Order, { id: { $in: ids }, status: 'awaiting_payment', expiresAt: { $lte: new Date() } }, { limit: 10, leaseMs: 60_000 });
    const [mine, theirs] = await Promise.all([claim(first), claim(second)]);
    const claimed = [...mine, ...theirs].map((order) => order.id);
    expect(new Set(claimed).size).toBe(claimed.length); // never the same order twice
    expect(mine.length).toBeGreaterThan(0);
    expect(theirs.length).toBeGreaterThan(0);
    expect(claimed.length).toBe(20);
    expect(await claim(first)).toEqual([]); // leased: nobody else's until the lease runs out
  } finally {
    await purchaseDb().query("update orders set status = 'abandoned', lease_until = null where id in (?)", [ids]);
  }
});
