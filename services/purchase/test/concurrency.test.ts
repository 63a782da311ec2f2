/**
 * 200 buyers at once (40 users, 5 tabs each) for a book with 50 copies, through auth, catalog and
 * purchase over real HTTP on MariaDB: each orders one copy and pays for it. Exactly 50 get one, the
 * others are told which book ran out, nobody pays for a copy they did not get, and stock + reserved
 * + sold never drifts.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { BookJson } from '@bookstore/shared/contracts/catalog';
import type { OrderJson, OrderPage } from '@bookstore/shared/contracts/purchase';
import { eventually } from '@bookstore/shared/testing/http';
import { serveCatalogWithSeller } from '../../catalog/test/support.ts';
import { startTestPurchase, type TestPurchase } from './support.ts';

const userCount = 40;
const tabsPerUser = 5;
const buyers = userCount * tabsPerUser;
const copies = 50;

let shop: Awaited<ReturnType<typeof serveCatalogWithSeller>>;
let purchase: TestPurchase;
let users: { token: string; userId: number }[];
let book: BookJson;

beforeAll(async () => {
  shop = await serveCatalogWithSeller();
  // The production gateway timeout (2 s), not the tests' shorter one: this is about load, not a slow gateway.
  purchase = await startTestPurchase(shop.auth.url, { catalogUrl: shop.catalogUrl, gatewayTimeoutMs: 2000 });
  users = await Promise.all(Array.from({ length: userCount }, (_, i) => shop.auth.signUp(`Racer ${i}`)));
  book = await shop.catalog.addBook(shop.seller, { title: 'The Last Copies', priceCents: 2500, stock: copies });
}, 30_000);
afterAll(async () => {
  await purchase?.close();
  await shop?.close();
});

const card = { cardNumber: '4242 4242 4242 4242', expMonth: 12, expYear: new Date().getFullYear() + 2, cvc: '123', holder: 'Racer' };
const key = () => `k-${crypto.randomUUID()}`;

interface Attempt {
  userIndex: number;
  placed: number;
  refusal?: { detail: string; bookId?: number; contentType: string | null };
  order?: OrderJson;
  paid?: number;
  paidOrder?: OrderJson;
  /** 503s answered on the way (then sent again with the same key, as the answer asks). */
  unavailable: number;
}

/**
 * Sends a request as a careful client does: a 503 ("not answering yet, send the same request again")
 * is sent again with the same Idempotency-Key. All three services share this test's one process, so
 * under load a call between them can miss its time budget; the answer that counts is the final one.
 */
async function withSameKey(send: (key: string) => Promise<Response>, attempt: Attempt): Promise<Response> {
  const sameKey = key();
  for (let i = 0; ; i++) {
    const response = await send(sameKey);
    if (response.status !== 503 || i === 4) return response;
    attempt.unavailable++;
    await response.body?.cancel();
  }
}

/** One buyer: orders one copy and, if they got it, pays for it at once. */
async function buyOneCopy(userIndex: number): Promise<Attempt> {
  const { token } = users[userIndex]!;
  const attempt: Attempt = { userIndex, placed: 0, unavailable: 0 };
  const placed = await withSameKey((sameKey) => purchase.call('/api/orders', 'POST', { items: [{ bookId: book.id, quantity: 1 }], providerId: 3 }, token, { 'idempotency-key': sameKey }), attempt);
  attempt.placed = placed.status;
  if (placed.status !== 201) {
    const refusal = (await placed.json()) as { detail: string; bookId?: number };
    return { ...attempt, refusal: { ...refusal, contentType: placed.headers.get('content-type') } };
  }
  attempt.order = (await placed.json()) as OrderJson;
  const paid = await withSameKey((sameKey) => purchase.call(`/api/orders/${attempt.order!.id}/payment`, 'POST', card, token, { 'idempotency-key': sameKey }), attempt);
  attempt.paid = paid.status;
  attempt.paidOrder = (await paid.json()) as OrderJson;
  if (paid.status === 202) {
    // Charged, but the answer came late: the order is paid as soon as the outcome is known.
    const settled = await eventually(async () => {
      await purchase.sweep();
      attempt.paidOrder = (await (await purchase.call(`/api/orders/${attempt.order!.id}`, 'GET', undefined, token)).json()) as OrderJson;
      return attempt.paidOrder.status !== 'awaiting_payment';
    }, 20_000, 250);
    if (settled !== null) attempt.paid = 200;
  }
  return attempt;
}

/** Catalog's own count of the book's copies: on the shelf, held for unpaid orders, and sold. */
async function catalogCounts() {
  const [row] = (await shop.catalog.db!.query(
    `select b.stock,
            coalesce(sum(case when r.state = 'reserved' then r.quantity end), 0) as reserved,
            coalesce(sum(case when r.state = 'committed' then r.quantity end), 0) as sold
       from books b left join reservations r on r.book_id = b.id
      where b.id = ? group by b.id, b.stock`,
    [book.id],
  )) as { stock: number; reserved: number | string; sold: number | string }[];
  return { stock: Number(row!.stock), reserved: Number(row!.reserved), sold: Number(row!.sold) };
}

test(`${buyers} buyers race for ${copies} copies: exactly ${copies} paid, the rest told the book ran out, nothing drifts`, async () => {
  const attempts = await Promise.all(Array.from({ length: buyers }, (_, i) => buyOneCopy(i % userCount)));

  // The orders: 50 placed, every other buyer a 409 problem naming the book.
  const won = attempts.filter((attempt) => attempt.placed === 201);
  const lost = attempts.filter((attempt) => attempt.placed !== 201);
  expect(lost.map((attempt) => attempt.placed)).toEqual(Array(buyers - copies).fill(409));
  expect(won).toHaveLength(copies);
  for (const { refusal } of lost) {
    expect(refusal!.contentType).toContain('application/problem+json');
    expect(refusal!.bookId).toBe(book.id);
    expect(refusal!.detail).toContain('The Last Copies');
  }

  // The payments: each of the 50 paid, for its own order, at catalog's price.
  expect(won.map((attempt) => attempt.paid)).toEqual(Array(copies).fill(200));
  for (const { order, paidOrder, userIndex } of won) {
    expect(paidOrder).toMatchObject({ id: order!.id, status: 'paid', buyerId: users[userIndex]!.userId, subtotalCents: 2500, payment: { last4: '4242', status: 'approved' } });
    expect(paidOrder!.items).toEqual([expect.objectContaining({ bookId: book.id, quantity: 1, unitPriceCents: 2500 })]);
  }
  const paidIds = won.map((attempt) => attempt.order!.id).sort();
  expect(new Set(paidIds).size).toBe(copies);

  // Catalog: the shelf is empty, every copy is sold, and each sold copy belongs to a paid order.
  expect(await catalogCounts()).toEqual({ stock: 0, reserved: 0, sold: copies });
  const committed = (await shop.catalog.db!.query("select order_id, quantity from reservations where book_id = ? and state = 'committed' order by order_id", [book.id])) as { order_id: string; quantity: number }[];
  expect(committed.map((row) => row.order_id)).toEqual(paidIds);
  expect(committed.every((row) => Number(row.quantity) === 1)).toBe(true);

  // Purchase: the paid orders' items add up to the copies sold; one approved charge per paid order.
  const [items] = (await purchase.db!.query(
    "select count(distinct o.id) as orders, coalesce(sum(i.quantity), 0) as copies from orders o join order_items i on i.order_id = o.id where o.status = 'paid' and i.book_id = ?",
    [book.id],
  )) as { orders: number | string; copies: number | string }[];
  expect({ orders: Number(items!.orders), copies: Number(items!.copies) }).toEqual({ orders: copies, copies });
  const charges = (await purchase.db!.query(
    "select p.order_id, c.amount_cents from gateway_charges c join payments p on p.id = c.charge_key where c.outcome = 'approved' order by p.order_id",
  )) as { order_id: string; amount_cents: number }[];
  expect(charges.map((charge) => charge.order_id)).toEqual(paidIds);
  expect(new Set(charges.map((charge) => Number(charge.amount_cents)))).toEqual(new Set([won[0]!.paidOrder!.totalCents]));

  // What the buyers see: each user their copies won, as paid orders; a refused order is not an order.
  const pages = await Promise.all(users.map(async ({ token }) => (await (await purchase.call('/api/orders', 'GET', undefined, token)).json()) as OrderPage));
  pages.forEach((page, i) => {
    const mine = won.filter((attempt) => attempt.userIndex === i).map((attempt) => attempt.order!.id).sort();
    expect(page.items.map((order) => order.id).sort()).toEqual(mine);
    expect(page.items.every((order) => order.status === 'paid')).toBe(true);
  });
}, 60_000);

test('afterwards: a sweeper pass changes nothing, and one more buyer is told there is none left', async () => {
  await purchase.sweep();
  expect(await catalogCounts()).toEqual({ stock: 0, reserved: 0, sold: copies });
  const late = await buyOneCopy(0);
  expect(late.placed).toBe(409);
  expect(late.refusal!.detail).toContain('The Last Copies');
  const statuses = (await purchase.db!.query("select status, count(*) as n from orders where status in ('paid', 'reserving', 'awaiting_payment', 'charging', 'committing', 'refunding') group by status")) as { status: string; n: number | string }[];
  expect(Object.fromEntries(statuses.map((row) => [row.status, Number(row.n)]))).toEqual({ paid: copies });
});
