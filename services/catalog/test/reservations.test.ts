/**
 * Reservations: all or nothing, idempotent by order id (for the same items; other items are a 409),
 * and never oversold however many buyers arrive at once, whatever sellers edit or delete meanwhile.
 * For every book, stock + reserved + sold stays what the seller put in.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { bearer, jsonInit } from '@bookstore/shared/testing/http';
import type { BookJson, ReservedItem } from '../src/schemas.ts';
import { startCatalogWithSeller, type TestCatalog } from './support.ts';

let catalog: TestCatalog;
let seller: string;
let close: () => Promise<void>;
beforeAll(async () => ({ catalog, seller, close } = await startCatalogWithSeller()));
afterAll(() => close());

const stockOf = async (id: number) => ((await (await catalog.app.request(`/api/books/${id}`)).json()) as BookJson).stock;
const reserve = (orderId: string, items: { bookId: number; quantity: number }[]) => catalog.asService('/api/reservations', 'POST', { orderId, items });

/** stock + reserved + sold for a book, read straight from the tables. */
async function accounted(bookId: number): Promise<number> {
  const rows = (await catalog.db!.query(
    "select b.stock + coalesce(sum(case when r.state in ('reserved', 'committed') then r.quantity end), 0) as total from books b left join reservations r on r.book_id = b.id where b.id = ? group by b.id",
    [bookId],
  )) as { total: number | string }[];
  return Number(rows[0]!.total);
}

test('100 concurrent buyers for the last 10 copies: exactly 10 succeed, stock ends at 0', async () => {
  const book = await catalog.addBook(seller, { title: 'Last Copies', stock: 10, priceCents: 1500 });
  const attempts = await Promise.all(Array.from({ length: 100 }, (_, i) => reserve(`rush-${i}`, [{ bookId: book.id, quantity: 1 }])));
  const statuses = attempts.map((response) => response.status);
  expect(statuses.filter((status) => status === 201)).toHaveLength(10);
  expect(statuses.filter((status) => status === 409)).toHaveLength(90);
  expect(await stockOf(book.id)).toBe(0);
  expect(await accounted(book.id)).toBe(10);
  const refused = (await attempts.find((response) => response.status === 409)!.json()) as { detail: string; bookId: number };
  expect(refused.bookId).toBe(book.id);
  expect(refused.detail).toContain('Last Copies');
});

test('a reservation answers the catalog\'s unit price and title, whatever the order', async () => {
  const book = await catalog.addBook(seller, { title: 'Priced Here', priceCents: 2345, stock: 5 });
  const response = await reserve('price-check', [{ bookId: book.id, quantity: 2 }]);
  expect(response.status).toBe(201);
  expect(await response.json()).toEqual({ orderId: 'price-check', items: [{ bookId: book.id, quantity: 2, unitPriceCents: 2345, title: 'Priced Here', sellerId: book.sellerId }] });
});

test('repeating a reservation with the same order id takes stock once, even when repeated at once', async () => {
  const book = await catalog.addBook(seller, { title: 'Idempotent', stock: 20 });
  const first = await reserve('same-order', [{ bookId: book.id, quantity: 3 }]);
  const again = await Promise.all(Array.from({ length: 5 }, () => reserve('same-order', [{ bookId: book.id, quantity: 3 }])));
  expect(first.status).toBe(201);
  const firstItems = ((await first.json()) as { items: ReservedItem[] }).items;
  for (const response of again) expect(((await response.json()) as { items: ReservedItem[] }).items).toEqual(firstItems);
  expect(await stockOf(book.id)).toBe(17);

  const racing = await Promise.all(Array.from({ length: 8 }, () => reserve('raced-order', [{ bookId: book.id, quantity: 2 }])));
  expect(racing.every((response) => response.status === 201)).toBe(true);
  expect(await stockOf(book.id)).toBe(15);
  expect(await accounted(book.id)).toBe(20);
});

test('all or nothing: one book short refuses the order and takes nothing from the others', async () => {
  const plenty = await catalog.addBook(seller, { title: 'Plenty', stock: 10 });
  const scarce = await catalog.addBook(seller, { title: 'Scarce', stock: 1 });
  const response = await reserve('mixed', [{ bookId: plenty.id, quantity: 4 }, { bookId: scarce.id, quantity: 2 }]);
  expect(response.status).toBe(409);
  expect(((await response.json()) as { bookId: number }).bookId).toBe(scarce.id);
  expect(await stockOf(plenty.id)).toBe(10);
  expect(await stockOf(scarce.id)).toBe(1);
});

test('release returns exactly what was taken, once; commit keeps it sold', async () => {
  const book = await catalog.addBook(seller, { title: 'Returned', stock: 7 });
  await reserve('to-release', [{ bookId: book.id, quantity: 2 }, { bookId: book.id, quantity: 1 }]);
  expect(await stockOf(book.id)).toBe(4);
  const releases = await Promise.all(Array.from({ length: 4 }, () => catalog.asService('/api/reservations/to-release', 'DELETE')));
  expect(releases.every((response) => response.status === 204)).toBe(true);
  expect(await stockOf(book.id)).toBe(7);
  expect((await reserve('to-release', [{ bookId: book.id, quantity: 1 }])).status).toBe(409);

  await reserve('to-commit', [{ bookId: book.id, quantity: 5 }]);
  expect((await catalog.asService('/api/reservations/to-commit/commit', 'POST')).status).toBe(200);
  expect((await catalog.asService('/api/reservations/to-commit/commit', 'POST')).status).toBe(200);
  expect((await catalog.asService('/api/reservations/to-commit', 'DELETE')).status).toBe(409);
  expect(await stockOf(book.id)).toBe(2);
  expect(await accounted(book.id)).toBe(7);
  expect((await catalog.asService('/api/reservations/never-reserved', 'DELETE')).status).toBe(204);
});

test('a book with orders is retired, not destroyed: release still returns its stock', async () => {
  const book = await catalog.addBook(seller, { title: 'Retired', stock: 3 });
  await reserve('before-retire', [{ bookId: book.id, quantity: 1 }]);
  expect((await catalog.app.request(`/api/books/${book.id}`, { method: 'DELETE', headers: bearer(seller) })).status).toBe(204);
  expect((await catalog.app.request(`/api/books/${book.id}`)).status).toBe(404);
  expect((await reserve('after-retire', [{ bookId: book.id, quantity: 1 }])).status).toBe(409);
  expect((await catalog.asService('/api/reservations/before-retire', 'DELETE')).status).toBe(204);
  const rows = (await catalog.db!.query('select stock, deleted_at from books where id = ?', [book.id])) as { stock: number; deleted_at: Date | null }[];
  expect(rows[0]!.stock).toBe(3);
  expect(rows[0]!.deleted_at).not.toBeNull();
});

test('a user token, or no credentials, cannot reserve, commit or release', async () => {
  const book = await catalog.addBook(seller, { title: 'Guarded Stock', stock: 5 });
  const body = { orderId: 'user-try', items: [{ bookId: book.id, quantity: 1 }] };
  expect((await catalog.app.request('/api/reservations', jsonInit('POST', body, bearer(seller)))).status).toBe(403);
  expect((await catalog.app.request('/api/reservations', jsonInit('POST', body))).status).toBe(403);
  expect((await catalog.app.request('/api/reservations', jsonInit('POST', body, { 'x-service-token': 'guess' }))).status).toBe(403);
  expect((await catalog.app.request('/api/reservations/user-try/commit', jsonInit('POST', undefined, bearer(seller)))).status).toBe(403);
  expect((await catalog.app.request('/api/reservations/user-try', { method: 'DELETE', headers: bearer(seller) })).status).toBe(403);
  expect(await stockOf(book.id)).toBe(5);
});

test('a commit and a release racing for the same order: exactly one wins, and stock agrees with it', async () => {
  const book = await catalog.addBook(seller, { title: 'Contested', stock: 100 });
  for (let i = 0; i < 30; i++) await reserve(`race-${i}`, [{ bookId: book.id, quantity: 1 }]);
  const outcomes = await Promise.all(
    Array.from({ length: 30 }, async (_, i) => {
      const [commit, release] = await Promise.all([
        catalog.asService(`/api/reservations/race-${i}/commit`, 'POST'),
        catalog.asService(`/api/reservations/race-${i}`, 'DELETE'),
      ]);
      return { commit: commit.status, release: release.status };
    }),
  );
  for (const outcome of outcomes) expect([outcome.commit === 200, outcome.release === 204].filter(Boolean)).toHaveLength(1);
  const sold = outcomes.filter((outcome) => outcome.commit === 200).length;
  expect(await stockOf(book.id)).toBe(100 - sold);
  expect(await accounted(book.id)).toBe(100);
});

test('the same order retried at once for the last copy answers the same success to both', async () => {
  for (let i = 0; i < 10; i++) {
    const book = await catalog.addBook(seller, { title: `Single Copy ${i}`, stock: 1 });
    const [a, b] = await Promise.all([reserve(`retry-${i}`, [{ bookId: book.id, quantity: 1 }]), reserve(`retry-${i}`, [{ bookId: book.id, quantity: 1 }])]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(await stockOf(book.id)).toBe(0);
  }
});

test('a release sent while the reserve is still running leaves nothing held', async () => {
  for (let round = 0; round < 5; round++) {
    const books = await Promise.all(Array.from({ length: 20 }, (_, i) => catalog.addBook(seller, { title: `Bulk ${round}-${i}`, stock: 5 })));
    const items = books.map((book) => ({ bookId: book.id, quantity: 2 }));
    const reserving = reserve(`late-release-${round}`, items);
    await Bun.sleep(round); // staggers the release from "at once" to a little after: part of the race, not a wait for a condition
    const release = await catalog.asService(`/api/reservations/late-release-${round}`, 'DELETE');
    const reserved = await reserving;
    expect(release.status).toBe(204);
    expect([201, 409]).toContain(reserved.status);
    for (const book of books) expect(await stockOf(book.id)).toBe(5);
    const held = (await catalog.db!.query("select count(*) as n from reservations where order_id = ? and state = 'reserved'", [`late-release-${round}`])) as { n: number }[];
    expect(Number(held[0]!.n)).toBe(0);
  }
});

test('a seller deleting a book while it is being reserved: a reserved book is retired, never destroyed', async () => {
  for (let round = 0; round < 30; round++) {
    const book = await catalog.addBook(seller, { title: `Vanishing ${round}`, stock: 3 });
    const orderId = `delete-race-${round}`;
    const [deleted, reserved] = await Promise.all([
      catalog.app.request(`/api/books/${book.id}`, { method: 'DELETE', headers: bearer(seller) }),
      reserve(orderId, [{ bookId: book.id, quantity: 1 }]),
    ]);
    expect(deleted.status).toBe(204);
    expect([201, 409]).toContain(reserved.status);
    const rows = (await catalog.db!.query('select deleted_at from books where id = ?', [book.id])) as { deleted_at: Date | null }[];
    const held = (await catalog.db!.query('select count(*) as n from reservations where order_id = ?', [orderId])) as { n: number }[];
    if (reserved.status === 201) {
      expect(rows).toHaveLength(1);
      expect(rows[0]!.deleted_at).not.toBeNull();
      expect((await catalog.asService(`/api/reservations/${orderId}/commit`, 'POST')).status).toBe(200);
      expect(await accounted(book.id)).toBe(3);
    } else {
      expect(rows.length === 0 || rows[0]!.deleted_at !== null).toBe(true);
      expect(Number(held[0]!.n)).toBe(0);
    }
  }
  const orphans = (await catalog.db!.query('select count(*) as n from reservations r left join books b on b.id = r.book_id where b.id is null')) as { n: number }[];
  expect(Number(orphans[0]!.n)).toBe(0);
}, 60_000);

test('releases racing reserves and price edits on the same books never fail, and every release gives its copies back', async () => {
  const books = await Promise.all([0, 1, 2].map((i) => catalog.addBook(seller, { title: `Busy ${i}`, stock: 400, priceCents: 1000 })));
  // Orders over two or three of the books, each listing them in its own order: the locks they take cross.
  const itemsOf = (i: number) => [[0, 1], [2, 0], [1, 2, 0]][i % 3]!.map((book, j) => ({ bookId: books[book]!.id, quantity: 1 + (j % 2) }));
  const release = (orderId: string) => catalog.asService(`/api/reservations/${orderId}`, 'DELETE');
  const released: string[] = [];
  for (let round = 0; round < 4; round++) {
    const waiting = Array.from({ length: 15 }, (_, i) => `busy-${round}-waiting-${i}`);
    for (const [i, orderId] of waiting.entries()) expect((await reserve(orderId, itemsOf(i))).status).toBe(201);
    const operations = Array.from({ length: 60 }, async (_, i) => {
      const orderId = `busy-${round}-${i}`;
      if (i % 4 === 0) return release(waiting[i / 4]!);
      if (i % 4 === 1) {
        const reserved = await reserve(orderId, itemsOf(i));
        if (reserved.status !== 201) return reserved;
        released.push(orderId);
        return release(orderId);
      }
      if (i % 4 === 2) return reserve(orderId, itemsOf(i));
      return catalog.app.request(`/api/books/${books[i % 3]!.id}`, jsonInit('PATCH', { priceCents: 1000 + round * 100 + i }, bearer(seller)));
    });
    const statuses = (await Promise.all(operations)).map((response) => response.status);
    released.push(...waiting);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(statuses.filter((status) => ![200, 201, 204].includes(status))).toEqual([]); // there is stock enough for every order
    for (const book of books) expect(await accounted(book.id)).toBe(400);
  }
  const held = (await catalog.db!.query("select distinct order_id from reservations where state <> 'released' and order_id in (?)", [released])) as { order_id: string }[];
  expect(held).toEqual([]);
}, 60_000);

test('an order id reserved again for other items is a 409, and takes nothing more', async () => {
  const first = await catalog.addBook(seller, { title: 'First Choice', stock: 10 });
  const other = await catalog.addBook(seller, { title: 'Second Thoughts', stock: 10 });
  expect((await reserve('reused-order', [{ bookId: first.id, quantity: 2 }])).status).toBe(201);
  for (const items of [
    [{ bookId: other.id, quantity: 2 }],
    [{ bookId: first.id, quantity: 3 }],
    [{ bookId: first.id, quantity: 2 }, { bookId: other.id, quantity: 1 }],
  ]) {
    const response = await reserve('reused-order', items);
    expect(response.status).toBe(409);
    expect(((await response.json()) as { detail: string }).detail).toContain('already used for other items');
  }
  expect(await stockOf(first.id)).toBe(8);
  expect(await stockOf(other.id)).toBe(10);
  expect(((await (await catalog.asService('/api/reservations/reused-order/commit', 'POST')).json()) as { items: ReservedItem[] }).items).toEqual([
    { bookId: first.id, quantity: 2, unitPriceCents: first.priceCents, title: 'First Choice', sellerId: first.sellerId },
  ]);
});

test('the same items again, in another order or with a book split in two, answer the earlier reservation', async () => {
  const one = await catalog.addBook(seller, { title: 'Volume One', stock: 10, priceCents: 1100 });
  const two = await catalog.addBook(seller, { title: 'Volume Two', stock: 10, priceCents: 1200 });
  const first = await reserve('same-items', [{ bookId: one.id, quantity: 3 }, { bookId: two.id, quantity: 1 }]);
  expect(first.status).toBe(201);
  const answer = (await first.json()) as { items: ReservedItem[] };
  expect(answer.items).toEqual([
    { bookId: one.id, quantity: 3, unitPriceCents: 1100, title: 'Volume One', sellerId: one.sellerId },
    { bookId: two.id, quantity: 1, unitPriceCents: 1200, title: 'Volume Two', sellerId: two.sellerId },
  ]);
  for (const items of [
    [{ bookId: two.id, quantity: 1 }, { bookId: one.id, quantity: 3 }],
    [{ bookId: one.id, quantity: 1 }, { bookId: two.id, quantity: 1 }, { bookId: one.id, quantity: 2 }],
  ]) {
    const again = await reserve('same-items', items);
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual(answer);
  }
  expect(await stockOf(one.id)).toBe(7);
  expect(await stockOf(two.id)).toBe(9);
});

test('one order id reserved for different books at once: one reservation stands, the other is a 409', async () => {
  for (let round = 0; round < 10; round++) {
    const [left, right] = await Promise.all([0, 1].map((i) => catalog.addBook(seller, { title: `Either ${round}-${i}`, stock: 5 })));
    const orderId = `split-order-${round}`;
    const answers = await Promise.all([reserve(orderId, [{ bookId: left!.id, quantity: 1 }]), reserve(orderId, [{ bookId: right!.id, quantity: 1 }])]);
    expect(answers.map((response) => response.status).sort()).toEqual([201, 409]);
    expect(((await answers.find((response) => response.status === 409)!.json()) as { detail: string }).detail).toContain('already used for other items');
    const won = (await answers.find((response) => response.status === 201)!.json()) as { items: ReservedItem[] };
    const rows = (await catalog.db!.query('select book_id, quantity from reservations where order_id = ?', [orderId])) as { book_id: number; quantity: number }[];
    expect(rows.map((row) => ({ bookId: row.book_id, quantity: row.quantity }))).toEqual(won.items.map(({ bookId, quantity }) => ({ bookId, quantity })));
    expect((await stockOf(left!.id)) + (await stockOf(right!.id))).toBe(9);
  }
});
