/**
 * Races found in review, each with the interleaving that used to lose money or leave an order
 * stuck: a charge whose answer was lost and whose "what became of it?" could not be asked either;
 * two sellers of one order shipping at once; a step about an old payment acting on a newer one;
 * many requests with one key after the first was refused (they deadlocked inserting the key: 500s).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { OrderJson } from '@bookstore/shared/contracts/purchase';
import { serveCatalogWithSeller } from '../../catalog/test/support.ts';
import { Order, Payment } from '../src/entities.ts';
import { chargeStep } from '../src/saga.ts';
import { startFaultProxy, type FaultProxy } from './faults.ts';
import { startTestPurchase, type TestPurchase } from './support.ts';

let shop: Awaited<ReturnType<typeof serveCatalogWithSeller>>;
let ledger: TestPurchase;
let gatewayProxy: FaultProxy;
let purchase: TestPurchase;
let buyer: { token: string; userId: number };

beforeAll(async () => {
  shop = await serveCatalogWithSeller();
  // `ledger` serves the gateway; `purchase`, on the same database, reaches it through a proxy the test steers.
  ledger = await startTestPurchase(shop.auth.url, { catalogUrl: shop.catalogUrl });
  gatewayProxy = await startFaultProxy(ledger.baseUrl);
  purchase = await startTestPurchase(shop.auth.url, { databaseUrl: ledger.url, catalogUrl: shop.catalogUrl, gatewayUrl: gatewayProxy.url, gatewayTimeoutMs: 300 });
  buyer = await shop.auth.signUp('Race Buyer');
}, 30_000);
afterAll(async () => {
  await purchase?.close();
  await gatewayProxy?.close();
  await ledger?.close();
  await shop?.close();
});

const card = { cardNumber: '4242424242424242', expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: '123', holder: 'Race Buyer' };
const key = () => `race-${crypto.randomUUID()}`;
async function placeOrder(items: { bookId: number; quantity: number }[]): Promise<OrderJson> {
  const response = await purchase.call('/api/orders', 'POST', { items, providerId: 1 }, buyer.token, { 'idempotency-key': key() });
  expect(response.status).toBe(201);
  return (await response.json()) as OrderJson;
}
const approvedCharges = async (orderId: string) =>
  Number(((await ledger.db!.query("select count(*) as n from gateway_charges c join payments p on p.id = c.charge_key where p.order_id = ? and c.outcome = 'approved'", [orderId])) as { n: number }[])[0]!.n);

test('a charge whose answer is lost, and the gateway then unreachable: never "nothing charged", never a second charge', async () => {
  const book = await shop.catalog.addBook(shop.seller, { title: 'Lost Answer', stock: 3 });
  const order = await placeOrder([{ bookId: book.id, quantity: 1 }]);
  // The charge reaches the gateway and is made; its answer is lost, and the gateway stops taking connections.
  gatewayProxy.steer(async (request, forward) => {
    if (request.path !== '/gateway/charges') return forward(request);
    await forward(request);
    void gatewayProxy.refuse();
    return 'drop';
  });
  try {
    const first = await purchase.call(`/api/orders/${order.id}/payment`, 'POST', card, buyer.token, { 'idempotency-key': key() });
    expect(first.status).toBe(202); // outcome unknown: not "nothing was charged"
    const second = await purchase.call(`/api/orders/${order.id}/payment`, 'POST', card, buyer.token, { 'idempotency-key': key() });
    expect(second.status).toBe(409); // the first payment is still being settled
  } finally {
    await gatewayProxy.accept();
    gatewayProxy.steer();
  }
  // Once the gateway answers again, the sweeper finds the charge and finishes the order.
  await ledger.db!.query('update orders set next_attempt_at = ? where id = ?', [new Date(Date.now() - 1000), order.id]); // instead of waiting out the step's grace
  await purchase.sweep();
  const now = (await (await purchase.call(`/api/orders/${order.id}`, 'GET', undefined, buyer.token)).json()) as OrderJson;
  expect(now.status).toBe('paid');
  expect(await approvedCharges(order.id)).toBe(1);
}, 30_000);

test('two sellers of one order shipping at once: the order ends shipped', async () => {
  const secondSeller = await shop.auth.signUp('Second Seller');
  const mine = await shop.catalog.addBook(shop.seller, { title: 'Shipped By One', stock: 20 });
  const theirs = await shop.catalog.addBook(secondSeller.token, { title: 'Shipped By Other', stock: 20 });
  for (let round = 0; round < 8; round++) {
    const order = await placeOrder([{ bookId: mine.id, quantity: 1 }, { bookId: theirs.id, quantity: 1 }]);
    expect((await purchase.call(`/api/orders/${order.id}/payment`, 'POST', { ...card }, buyer.token, { 'idempotency-key': key() })).status).toBe(200);
    const shipped = await Promise.all([
      purchase.call(`/api/orders/${order.id}/items/${mine.id}/shipment`, 'POST', {}, shop.seller),
      purchase.call(`/api/orders/${order.id}/items/${theirs.id}/shipment`, 'POST', {}, secondSeller.token),
    ]);
    expect(shipped.map((response) => response.status)).toEqual([200, 200]);
    const now = (await (await purchase.call(`/api/orders/${order.id}`, 'GET', undefined, buyer.token)).json()) as OrderJson;
    expect(now.status).toBe('shipped');
  }
}, 60_000);

test('a late answer about an older payment never moves an order that is on a newer payment', async () => {
  const book = await shop.catalog.addBook(shop.seller, { title: 'Stale Step', stock: 3 });
  const order = await placeOrder([{ bookId: book.id, quantity: 1 }]);
  const em = purchase.orm.em.fork();
  // The order is being charged with a newer payment; an older one, declined, is reported late.
  const now = new Date();
  await em.insert(Payment, { id: 'pay_olderolderolderolderolde', orderId: order.id, amountCents: order.totalCents, last4: '0002', status: 'pending', reason: null, createdAt: now, updatedAt: now });
  await em.insert(Payment, { id: 'pay_newernewernewernewernewe', orderId: order.id, amountCents: order.totalCents, last4: '4242', status: 'pending', reason: null, createdAt: now, updatedAt: now });
  await em.nativeUpdate(Order, { id: order.id }, { status: 'charging', paymentId: 'pay_newernewernewernewernewe' });
  const stale = await em.fork().findOneOrFail(Order, { id: order.id });
  const older = await em.fork().findOneOrFail(Payment, { id: 'pay_olderolderolderolderolde' });
  const result = await chargeStep(purchase.deps, stale, older, async () => ({ kind: 'declined', reason: 'declined' }));
  expect(result.kind).toBe('declined');
  const after = await em.fork().findOneOrFail(Order, { id: order.id });
  expect([after.status, after.paymentId]).toEqual(['charging', 'pay_newernewernewernewernewe']);
  // Put the order back as it was for the invariants of other tests: the newer payment never reached the gateway.
  await em.nativeUpdate(Order, { id: order.id }, { status: 'awaiting_payment', paymentId: null });
});

test('a dozen requests with one key, the first refused: every one gets the refusal, none a server error', async () => {
  const statuses: number[] = [];
  for (let round = 0; round < 3; round++) {
    const book = await shop.catalog.addBook(shop.seller, { title: `Paid Already ${round}`, stock: 5 });
    const order = await placeOrder([{ bookId: book.id, quantity: 1 }]);
    expect((await purchase.call(`/api/orders/${order.id}/payment`, 'POST', card, buyer.token, { 'idempotency-key': key() })).status).toBe(200);
    // The order is paid: each payment with this new key is refused and rolls its key back, and the
    // others, waiting on that key, then all insert it at once.
    const again = key();
    const answers = await Promise.all(Array.from({ length: 12 }, () => purchase.call(`/api/orders/${order.id}/payment`, 'POST', card, buyer.token, { 'idempotency-key': again })));
    statuses.push(...answers.map((answer) => answer.status));
  }
  const emptyCart = key();
  const orders = await Promise.all(Array.from({ length: 12 }, () => purchase.call('/api/orders', 'POST', { providerId: 1 }, buyer.token, { 'idempotency-key': emptyCart })));
  statuses.push(...orders.map((answer) => answer.status));
  expect(statuses.filter((status) => status >= 500)).toEqual([]);
  expect(new Set(statuses)).toEqual(new Set([409, 400]));
}, 60_000);
