/**
 * Crash safety of the checkout saga. A proxy between purchase and catalog (or the gateway) decides
 * the moment of each fault; purchase runs as a real child process killed with SIGKILL at that moment.
 * "The restarted purchase" is a purchase app in this process on the same database, whose sweeper
 * passes the tests run one at a time. After each test the invariants are read from both databases.
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test';
import type { OrderJson } from '@bookstore/shared/contracts/purchase';
import { createTestDatabase, type TestDatabase } from '@bookstore/shared/testing/database';
import { bearer, jsonInit } from '@bookstore/shared/testing/http';
import { serveCatalogWithSeller } from '../../catalog/test/support.ts';
import { holdAll, startFaultProxy, startPurchaseProcess, type FaultProxy, type HeldRequest, type PurchaseProcess } from './faults.ts';
import { brokenInvariants } from './invariants.ts';
import { startTestPurchase, type TestPurchase } from './support.ts';

let shop: Awaited<ReturnType<typeof serveCatalogWithSeller>>;
let purchaseDb: TestDatabase;
let catalogProxy: FaultProxy;
let restarted: TestPurchase;
const children: PurchaseProcess[] = [];
/** What the seller put in, per book: the left side of the stock invariant. */
const stockPut = new Map<number, number>();

beforeAll(async () => {
  shop = await serveCatalogWithSeller();
  purchaseDb = await createTestDatabase();
  catalogProxy = await startFaultProxy(shop.catalogUrl);
  restarted = await startTestPurchase(shop.auth.url, { databaseUrl: purchaseDb.url, catalogUrl: catalogProxy.url });
}, 30_000);
afterEach(async () => {
  catalogProxy.steer();
  await catalogProxy.accept();
});
afterAll(async () => {
  await Promise.all(children.map((child) => child.kill()));
  await restarted?.close();
  await catalogProxy?.close();
  await purchaseDb?.drop();
  await shop?.close();
});

const newKey = () => `crash-${crypto.randomUUID()}`;
const card = { cardNumber: '4242424242424242', expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: '123', holder: 'Crash Tester' };
const reserveRequest = (request: { method: string; path: string }) => request.method === 'POST' && request.path === '/api/reservations';
const commitRequest = (request: { method: string; path: string }) => request.method === 'POST' && /^\/api\/reservations\/[^/]+\/commit$/.test(request.path);

async function addBook(title: string, stock: number) {
  const book = await shop.catalog.addBook(shop.seller, { title, stock });
  stockPut.set(book.id, stock);
  return book;
}
const stockOf = async (bookId: number) => ((await (await shop.catalog.app.request(`/api/books/${bookId}`)).json()) as { stock: number }).stock;
const placeOrder = (baseUrl: string, token: string, body: unknown, key: string) => fetch(`${baseUrl}/api/orders`, jsonInit('POST', body, { ...bearer(token), 'idempotency-key': key }));
const pay = (baseUrl: string, token: string, orderId: string, key: string, cardNumber = card.cardNumber) =>
  fetch(`${baseUrl}/api/orders/${orderId}/payment`, jsonInit('POST', { ...card, cardNumber }, { ...bearer(token), 'idempotency-key': key }));
/** A request whose connection was cut is an Error; any answer is described, so an unexpected one says what it was. */
const outcomeOf = (request: Promise<Response>) => request.then(async (response) => `answered ${response.status}: ${await response.text()}`, (error: Error) => error);

const ordersOf = async (buyerId: number) => (await purchaseDb.query('select id, status from orders where buyer_id = ? order by created_at', [buyerId])) as { id: string; status: string }[];
const statusOf = async (orderId: string) => ((await purchaseDb.query('select status from orders where id = ?', [orderId])) as { status: string }[])[0]?.status;
const reservationStates = async (orderId: string) => ((await shop.catalog.db!.query('select state from reservations where order_id = ? order by book_id', [orderId])) as { state: string }[]).map((row) => row.state);
const approvedCharges = async (orderId: string) =>
  Number(((await purchaseDb.query("select count(*) as n from gateway_charges c join payments p on p.id = c.charge_key where p.order_id = ? and c.outcome = 'approved'", [orderId])) as { n: number }[])[0]!.n);
/**
 * An order left in a step is the request's own for a grace period (3 gateway timeouts + 10 s), then
 * the sweeper's. Rather than wait that long, the test moves its next attempt into the past.
 */
const makeDue = (orderId: string) => purchaseDb.query("update orders set next_attempt_at = '2000-01-01 00:00:00' where id = ?", [orderId]);
const invariants = () => brokenInvariants({ purchase: purchaseDb, catalog: shop.catalog.db! }, stockPut, { settled: true });

async function startChild(env: { GATEWAY_URL?: string } = {}) {
  const child = await startPurchaseProcess({ DATABASE_URL: purchaseDb.url, AUTH_URL: shop.auth.url, CATALOG_URL: catalogProxy.url, ...env });
  children.push(child);
  return child;
}

test('SIGKILL between reserve and record: the sweeper gives the stock back, and the same key then places the order afresh', async () => {
  const buyer = await shop.auth.signUp('Crash Reserve');
  const book = await addBook('Killed While Reserving', 5);
  const purchase = await startChild();
  let catalogAnswered: number | undefined;
  catalogProxy.steer(async (request, forward) => {
    if (!reserveRequest(request)) return forward(request);
    const answer = await forward(request);
    catalogAnswered = answer.status;
    await purchase.kill(); // catalog holds the stock; purchase dies before it records the prices
    return answer;
  });
  const key = newKey();
  const body = { items: [{ bookId: book.id, quantity: 2 }], providerId: 1 };
  expect(await outcomeOf(placeOrder(purchase.url, buyer.token, body, key))).toBeInstanceOf(Error);
  expect(catalogAnswered).toBe(201);
  const [crashed, ...others] = await ordersOf(buyer.userId);
  expect(others).toEqual([]);
  expect(crashed!.status).toBe('reserving');
  expect(await stockOf(book.id)).toBe(3);

  catalogProxy.steer();
  await makeDue(crashed!.id);
  expect(await restarted.sweep()).toContainEqual({ orderId: crashed!.id, from: 'reserving', to: 'abandoned' });
  expect(await statusOf(crashed!.id)).toBe('abandoned');
  expect(await reservationStates(crashed!.id)).toEqual(['released']);
  expect(await stockOf(book.id)).toBe(5);

  // The order was never placed, so its key is free again: the buyer's retry places it now.
  const retry = await placeOrder(restarted.baseUrl, buyer.token, body, key);
  expect(retry.status).toBe(201);
  const placed = (await retry.json()) as OrderJson;
  expect(placed.id).not.toBe(crashed!.id);
  expect(placed).toMatchObject({ status: 'awaiting_payment', items: [expect.objectContaining({ bookId: book.id, quantity: 2 })] });
  expect(await stockOf(book.id)).toBe(3);
  // A second retry answers the same order.
  expect(((await (await placeOrder(restarted.baseUrl, buyer.token, body, key)).json()) as OrderJson).id).toBe(placed.id);
  expect(await invariants()).toEqual([]);
}, 30_000);

test('SIGKILL between charge and commit: the sweeper commits the stock; the order is paid, charged once', async () => {
  const buyer = await shop.auth.signUp('Crash Commit');
  const book = await addBook('Killed While Committing', 4);
  const purchase = await startChild();
  const created = await placeOrder(purchase.url, buyer.token, { items: [{ bookId: book.id, quantity: 1 }], providerId: 2 }, newKey());
  expect(created.status).toBe(201);
  const placed = (await created.json()) as OrderJson;

  let commitHeld = false;
  catalogProxy.steer(async (request, forward) => {
    if (!commitRequest(request)) return forward(request);
    commitHeld = true;
    await purchase.kill(); // charged; the commit never reaches catalog
    return 'drop';
  });
  const payKey = newKey();
  expect(await outcomeOf(pay(purchase.url, buyer.token, placed.id, payKey))).toBeInstanceOf(Error);
  expect(commitHeld).toBe(true);
  expect(await statusOf(placed.id)).toBe('committing');
  expect(await approvedCharges(placed.id)).toBe(1);
  expect(await reservationStates(placed.id)).toEqual(['reserved']);

  catalogProxy.steer();
  await makeDue(placed.id);
  expect(await restarted.sweep()).toContainEqual({ orderId: placed.id, from: 'committing', to: 'paid' });
  expect(await statusOf(placed.id)).toBe('paid');
  expect(await reservationStates(placed.id)).toEqual(['committed']);
  expect(await approvedCharges(placed.id)).toBe(1);
  expect(await stockOf(book.id)).toBe(3);

  // The buyer's retry of the payment learns it went through, and is not charged again.
  const retry = await pay(restarted.baseUrl, buyer.token, placed.id, payKey);
  expect({ status: retry.status, order: ((await retry.json()) as OrderJson).status }).toEqual({ status: 200, order: 'paid' });
  expect(await approvedCharges(placed.id)).toBe(1);
  expect(await invariants()).toEqual([]);
}, 30_000);

test('SIGKILL while the gateway answers the charge: the sweeper learns the charge happened and finishes the order', async () => {
  const buyer = await shop.auth.signUp('Crash Charge');
  const book = await addBook('Killed While Charging', 2);
  const gatewayProxy = await startFaultProxy(restarted.baseUrl); // the simulated gateway's ledger is in the shared database
  try {
    const purchase = await startChild({ GATEWAY_URL: gatewayProxy.url });
    const created = await placeOrder(purchase.url, buyer.token, { items: [{ bookId: book.id, quantity: 2 }], providerId: 2 }, newKey());
    expect(created.status).toBe(201);
    const placed = (await created.json()) as OrderJson;
    gatewayProxy.steer(async (request, forward) => {
      const answer = await forward(request);
      if (request.path === '/gateway/charges') await purchase.kill(); // charged; purchase dies before it hears so
      return answer;
    });
    expect(await outcomeOf(pay(purchase.url, buyer.token, placed.id, newKey()))).toBeInstanceOf(Error);
    expect(await statusOf(placed.id)).toBe('charging');
    expect(await approvedCharges(placed.id)).toBe(1);

    await makeDue(placed.id);
    expect(await restarted.sweep()).toContainEqual({ orderId: placed.id, from: 'charging', to: 'paid' });
    expect(await reservationStates(placed.id)).toEqual(['committed']);
    expect(await approvedCharges(placed.id)).toBe(1);
    expect(await stockOf(book.id)).toBe(0);
    expect(await invariants()).toEqual([]);
  } finally {
    await gatewayProxy.close();
  }
}, 30_000);

test('catalog stops during a checkout: 503 and nothing charged; the same key carries on once it is back, or the sweeper gives the stock back', async () => {
  const buyer = await shop.auth.signUp('Crash Catalog');
  const book = await addBook('Catalog Went Away', 6);

  // Catalog is down (connections refused): nothing is reserved.
  await catalogProxy.refuse();
  const firstKey = newKey();
  const first = { items: [{ bookId: book.id, quantity: 1 }], providerId: 3 };
  const refused = await placeOrder(restarted.baseUrl, buyer.token, first, firstKey);
  expect(refused.status).toBe(503);
  expect(((await refused.json()) as { detail: string }).detail).toContain('nothing was charged');
  expect(await stockOf(book.id)).toBe(6);
  await catalogProxy.accept();
  const carriedOn = await placeOrder(restarted.baseUrl, buyer.token, first, firstKey);
  expect(carriedOn.status).toBe(201);
  const firstOrder = (await carriedOn.json()) as OrderJson;
  expect(firstOrder.status).toBe('awaiting_payment');
  expect(await stockOf(book.id)).toBe(5);

  // Catalog takes the stock, then dies before it answers (the connection drops): the outcome is unknown.
  catalogProxy.steer(async (request, forward) => {
    if (!reserveRequest(request)) return forward(request);
    await forward(request);
    return 'drop';
  });
  const second = { items: [{ bookId: book.id, quantity: 2 }], providerId: 3 };
  const secondKey = newKey();
  const lost = await placeOrder(restarted.baseUrl, buyer.token, second, secondKey);
  expect(lost.status).toBe(503);
  expect(((await lost.json()) as { detail: string }).detail).toContain('nothing was charged');
  const third = { items: [{ bookId: book.id, quantity: 3 }], providerId: 3 };
  expect((await placeOrder(restarted.baseUrl, buyer.token, third, newKey())).status).toBe(503);
  expect(await stockOf(book.id)).toBe(0); // held for two orders nobody can pay yet
  catalogProxy.steer();

  // The buyer of the second sends the same request again: the order it started is placed.
  const secondPlaced = await placeOrder(restarted.baseUrl, buyer.token, second, secondKey);
  expect(secondPlaced.status).toBe(201);
  expect(((await secondPlaced.json()) as OrderJson).items).toEqual([expect.objectContaining({ bookId: book.id, quantity: 2 })]);
  expect(await stockOf(book.id)).toBe(0);

  // The third never comes back: once its grace period is over, the sweeper gives its stock back.
  const abandoned = (await ordersOf(buyer.userId)).filter((order) => order.status === 'reserving');
  expect(abandoned.length).toBe(1);
  await makeDue(abandoned[0]!.id);
  expect(await restarted.sweep()).toContainEqual({ orderId: abandoned[0]!.id, from: 'reserving', to: 'abandoned' });
  expect(await stockOf(book.id)).toBe(3);
  expect((await ordersOf(buyer.userId)).map((order) => order.status).sort()).toEqual(['abandoned', 'awaiting_payment', 'awaiting_payment']);
  expect(await invariants()).toEqual([]);
}, 30_000);

test('the sweeper gives up on an order while catalog is still down: a retry meanwhile is told to try again, then places the order afresh', async () => {
  const buyer = await shop.auth.signUp('Crash Give Up');
  const book = await addBook('Given Up On', 3);
  catalogProxy.steer(async (request, forward) => {
    if (!reserveRequest(request)) return forward(request);
    await forward(request);
    return 'drop';
  });
  const key = newKey();
  const body = { items: [{ bookId: book.id, quantity: 2 }], providerId: 1 };
  expect((await placeOrder(restarted.baseUrl, buyer.token, body, key)).status).toBe(503);
  const [order] = await ordersOf(buyer.userId);
  expect(await stockOf(book.id)).toBe(1);

  // Its grace period is over and catalog is down altogether: the release gets no answer either.
  catalogProxy.steer(() => 'drop');
  await makeDue(order!.id);
  expect(await restarted.sweep()).toContainEqual({ orderId: order!.id, from: 'reserving', to: 'abandoning' });
  const meanwhile = await placeOrder(restarted.baseUrl, buyer.token, body, key);
  const answer = { status: meanwhile.status, body: (await meanwhile.json()) as { status?: string; detail?: string } };
  expect({ status: answer.status, nothingCharged: answer.body.detail?.includes('nothing was charged') }).toEqual({ status: 503, nothingCharged: true });

  catalogProxy.steer();
  await makeDue(order!.id);
  expect(await restarted.sweep()).toContainEqual({ orderId: order!.id, from: 'abandoning', to: 'abandoned' });
  expect(await stockOf(book.id)).toBe(3);
  const afresh = await placeOrder(restarted.baseUrl, buyer.token, body, key);
  expect(afresh.status).toBe(201);
  expect(((await afresh.json()) as OrderJson).id).not.toBe(order!.id);
  expect(await stockOf(book.id)).toBe(1);
  expect(await invariants()).toEqual([]);
}, 30_000);

test('the gateway freezes past its timeout: 202, nothing undone; once it answers, the order ends paid if charged, payable again if not', async () => {
  const gatewayProxy = await startFaultProxy(restarted.baseUrl); // the simulated gateway's ledger is in the shared database
  const frozen = await startTestPurchase(shop.auth.url, { databaseUrl: purchaseDb.url, catalogUrl: catalogProxy.url, gatewayUrl: gatewayProxy.url, gatewayTimeoutMs: 300 });
  try {
    const buyer = await shop.auth.signUp('Crash Gateway');
    const book = await addBook('Frozen Gateway', 4);
    const place = async () => (await (await placeOrder(frozen.baseUrl, buyer.token, { items: [{ bookId: book.id, quantity: 1 }], providerId: 4 }, newKey())).json()) as OrderJson;
    const charged = await place();
    const neverArrived = await place();

    /** Pays with the gateway frozen; every request to it is held. */
    async function payFrozen(orderId: string, key: string) {
      const held: HeldRequest[] = [];
      gatewayProxy.steer(holdAll(held));
      const answer = await pay(frozen.baseUrl, buyer.token, orderId, key);
      expect({ status: answer.status, order: ((await answer.json()) as OrderJson).status }).toEqual({ status: 202, order: 'awaiting_payment' });
      expect(await statusOf(orderId)).toBe('charging'); // not failed,
      expect(await reservationStates(orderId)).toEqual(['reserved']); // not compensated
      expect(held.map(({ request }) => request.path)[0]).toBe('/gateway/charges');
      return held;
    }

    // 1. The charge was on its way: it reaches the gateway late, then the held questions about it.
    const chargedKey = newKey();
    const lateCharge = await payFrozen(charged.id, chargedKey);
    gatewayProxy.steer();
    for (const { request, answer } of lateCharge) answer(await gatewayProxy.forward(request));
    await makeDue(charged.id);
    expect(await frozen.sweep()).toContainEqual({ orderId: charged.id, from: 'charging', to: 'paid' });
    expect(await reservationStates(charged.id)).toEqual(['committed']);
    expect(await approvedCharges(charged.id)).toBe(1);
    const repeat = await pay(frozen.baseUrl, buyer.token, charged.id, chargedKey);
    expect({ status: repeat.status, order: ((await repeat.json()) as OrderJson).status }).toEqual({ status: 200, order: 'paid' });

    // 2. The charge was lost on the way: the sweeper's question voids it, and the order is payable again.
    const lostKey = newKey();
    const lostCharge = await payFrozen(neverArrived.id, lostKey);
    const [charge, ...questions] = lostCharge;
    charge!.answer('drop');
    for (const { answer } of questions) answer('drop');
    gatewayProxy.steer();
    await makeDue(neverArrived.id);
    expect(await frozen.sweep()).toContainEqual({ orderId: neverArrived.id, from: 'charging', to: 'awaiting_payment' });
    expect(await reservationStates(neverArrived.id)).toEqual(['reserved']);
    // Should the lost charge arrive after all, it is refused: the key is void.
    const late = await gatewayProxy.forward(charge!.request);
    expect({ status: late.status, outcome: ((await late.json()) as { outcome: string }).outcome }).toEqual({ status: 409, outcome: 'voided' });
    expect(await approvedCharges(neverArrived.id)).toBe(0);
    const repeated = await pay(frozen.baseUrl, buyer.token, neverArrived.id, lostKey);
    expect(repeated.status).toBe(503);
    expect(((await repeated.json()) as { detail: string }).detail).toContain('nothing was charged');
    const again = await pay(frozen.baseUrl, buyer.token, neverArrived.id, newKey());
    expect({ status: again.status, order: ((await again.json()) as OrderJson).status }).toEqual({ status: 200, order: 'paid' });
    expect(await approvedCharges(neverArrived.id)).toBe(1);
    expect(await stockOf(book.id)).toBe(2);
    expect(await invariants()).toEqual([]);
  } finally {
    await frozen.close();
    await gatewayProxy.close();
  }
}, 30_000);
