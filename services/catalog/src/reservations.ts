/**
 * Stock reservations for the purchase service. Stock is taken with one conditional UPDATE per book
 * (`stock = stock - q WHERE stock >= q`): either it changes one row or the order is refused, so no
 * number of concurrent buyers can oversell. For every book, stock + reserved + sold never changes.
 */
import { LockMode, raw, UniqueConstraintViolationException } from '@mikro-orm/core';
import { mergeItems } from '@bookstore/shared/contracts/catalog';
import { dialectOfPlatform, transaction, type EntityManager } from '@bookstore/shared/db';
import { ProblemError } from '@bookstore/shared/errors';
import { Book, OrderRelease, Reservation } from './entities.ts';
import type { ReservationInput, ReservedItem } from './schemas.ts';

type Item = ReservationInput['items'][number];

function toItem(row: Reservation): ReservedItem {
  return { bookId: row.bookId, quantity: row.quantity, unitPriceCents: row.unitPriceCents, title: row.title, sellerId: row.sellerId };
}

/** The order's rows by book id; `lock` reads them as committed now (FOR UPDATE), not as the transaction first saw them. */
async function reservationsOf(em: EntityManager, orderId: string, lock = false): Promise<Reservation[]> {
  return em.find(Reservation, { orderId }, { orderBy: { bookId: 'asc' }, connectionType: 'write', ...(lock ? { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true } : {}) });
}

const releasedOrder = () => new ProblemError(409, "This order's reservation was released; place a new order");
const orderIdReused = (orderId: string) =>
  new ProblemError(409, `Order id ${orderId} was already used for other items; a new order needs a new id`, { orderId });

/**
 * What an earlier reserve for this order did, if there was one: the same answer again when it was
 * for the same items (`items` merged, as `mergeItems` gives them); a 409 when it was for others.
 */
function earlierAnswer(rows: Reservation[], orderId: string, items: Item[]): ReservedItem[] | null {
  if (rows.length === 0) return null;
  if (rows.some((row) => row.state === 'released')) throw releasedOrder();
  const same = rows.length === items.length && rows.every((row, i) => row.bookId === items[i]!.bookId && row.quantity === items[i]!.quantity);
  if (!same) throw orderIdReused(orderId);
  return rows.map(toItem);
}

/**
 * Reserves every item or none. Idempotent by order id: asking again for the same items answers what
 * was reserved; asking with other items is a 409 (an order id names one order).
 *
 * @example
 * const items = await reserveStock(em, { orderId: 'ord_123', items: [{ bookId: 7, quantity: 2 }] });
 * // → [{ bookId: 7, quantity: 2, unitPriceCents: 1299, title: 'Emma', sellerId: 3 }]
 */
export async function reserveStock(em: EntityManager, input: ReservationInput): Promise<ReservedItem[]> {
  const { orderId } = input;
  const items = mergeItems(input.items);
  // No look for an earlier reserve first: a first reserve (the usual case) goes straight in, and a
  // repeat is told apart inside, by the rows it runs into (unique per order and book) or the checks.
  try {
    return await transaction(em, (tx) => takeStock(tx, orderId, items));
  } catch (error) {
    // A repeat, or the same order reserved twice at once: the earlier call's rows (unique per order
    // and book), or the copies it took, stopped this one; its answer is ours if it was for the same items.
    const lost = error instanceof UniqueConstraintViolationException || (error instanceof ProblemError && error.status === 409);
    if (!lost) throw error;
    const winner = earlierAnswer(await reservationsOf(em.fork(), orderId), orderId, items);
    if (winner) return winner;
    // Short of stock, for an order that was released before it was ever reserved: say released.
    if (await em.fork().count(OrderRelease, { orderId }, { connectionType: 'write' })) throw releasedOrder();
    throw error;
  }
}

/**
 * Inside reserveStock's transaction: takes each book's copies, in book id order, and records them.
 * Plain statements: this is every checkout's path, and the ORM's query building and unit of work
 * cost several times the statements themselves (measured: services/purchase/README.md, issue 8).
 */
async function takeStock(tx: EntityManager, orderId: string, items: Item[]): Promise<ReservedItem[]> {
  const now = new Date();
  for (const { bookId, quantity } of items) {
    const taken = (await tx.execute('update books set stock = stock - ? where id = ? and deleted_at is null and stock >= ?', [quantity, bookId, quantity], 'run')) as { affectedRows: number };
    if (taken.affectedRows !== 1) {
      const [book] = (await tx.execute('select title, stock from books where id = ? and deleted_at is null', [bookId])) as { title: string; stock: number }[];
      throw shortOfStock(bookId, quantity, book ?? null);
    }
    // The price, title and seller are copied from the book row this transaction now holds.
    await tx.execute(
      "insert into reservations (order_id, book_id, quantity, unit_price_cents, title, seller_id, state, created_at, updated_at) select ?, id, ?, price_cents, title, seller_id, 'reserved', ?, ? from books where id = ?",
      [orderId, quantity, now, now, bookId],
      'run',
    );
  }
  // The rows exist (uncommitted) before the checks: a release from now on waits for them; one that
  // came earlier left its mark, read here with a locking read (it sees the latest commit). Likewise
  // a reserve of this order id for other books, running at once: its rows show up in the locking
  // read of the order's rows (the two wait for each other, and the deadlock retry settles who won).
  const locking = dialectOfPlatform(tx) === 'mysql'; // SQLite: one writer at a time, no locking reads
  const [release] = (await tx.execute(`select order_id from order_releases where order_id = ?${locking ? ' lock in share mode' : ''}`, [orderId])) as unknown[];
  if (release) throw releasedOrder();
  const rows = (await tx.execute(`select book_id, quantity, unit_price_cents, title, seller_id from reservations where order_id = ? order by book_id${locking ? ' for update' : ''}`, [orderId])) as {
    book_id: number;
    quantity: number;
    unit_price_cents: number;
    title: string;
    seller_id: number;
  }[];
  if (rows.length !== items.length) throw orderIdReused(orderId);
  return rows.map((row) => ({ bookId: row.book_id, quantity: row.quantity, unitPriceCents: row.unit_price_cents, title: row.title, sellerId: row.seller_id }));
}

function shortOfStock(bookId: number, wanted: number, book: Pick<Book, 'title' | 'stock'> | null) {
  if (!book) return new ProblemError(409, `Book ${bookId} is no longer in the catalog`, { bookId, available: 0 });
  return new ProblemError(409, `Only ${book.stock} ${book.stock === 1 ? 'copy' : 'copies'} of "${book.title}" left; ${wanted} wanted`, {
    bookId,
    title: book.title,
    available: book.stock,
  });
}

/**
 * Marks an order's reservation sold. Idempotent; 404 for an unknown order, 409 if it was released.
 * One UPDATE marks every row of the order at once, holding them while it does: a release arriving at
 * the same moment waits and then sees them sold (or the commit finds them released and changes
 * nothing): never both answered as done. The rows are read after, as that decided them.
 */
export async function commitReservation(em: EntityManager, orderId: string): Promise<ReservedItem[]> {
  // transaction(): the UPDATE could still be picked as a deadlock victim; it is then run again.
  const rows = await transaction(em, (runner) => commitRows(runner, orderId));
  if (rows.length === 0) throw new ProblemError(404, `No reservation for order ${orderId}`);
  if (rows.some((row) => row.state !== 'committed')) throw new ProblemError(409, 'This reservation was released and cannot be committed');
  return rows.map((row) => ({ bookId: row.book_id, quantity: row.quantity, unitPriceCents: row.unit_price_cents, title: row.title, sellerId: row.seller_id }));
}

async function commitRows(runner: EntityManager, orderId: string) {
  await runner.execute("update reservations set state = 'committed', updated_at = ? where order_id = ? and state = 'reserved'", [new Date(), orderId], 'run');
  const rows = (await runner.execute('select book_id, quantity, unit_price_cents, title, seller_id, state from reservations where order_id = ? order by book_id', [orderId])) as {
    book_id: number;
    quantity: number;
    unit_price_cents: number;
    title: string;
    seller_id: number;
    state: Reservation['state'];
  }[];
  return rows;
}

/**
 * Gives an order's reserved copies back to stock. Idempotent: the order's rows are locked, and each
 * is released by a conditional UPDATE, so a repeat (or two at once) returns nothing twice.
 * 409 if the order was sold.
 *
 * Locks are taken as reserve and a seller's edit take them, books (by id) before reservations, so
 * a release does not wait for a book while holding rows a reserve waits for; a deadlock or lock
 * wait timeout left anyway is retried, so a release answered 204 has returned the stock.
 */
export async function releaseReservation(em: EntityManager, orderId: string): Promise<void> {
  try {
    await em.fork().insert(OrderRelease, { orderId, releasedAt: new Date() });
  } catch (error) {
    if (!(error instanceof UniqueConstraintViolationException)) throw error; // released before
  }
  await transaction(em, async (tx) => {
    const seen = await reservationsOf(tx, orderId);
    if (seen.length) await tx.find(Book, { id: { $in: seen.map((row) => row.bookId) } }, { orderBy: { id: 'asc' }, lockMode: LockMode.PESSIMISTIC_WRITE });
    const rows = await reservationsOf(tx, orderId, true);
    if (rows.some((row) => row.state === 'committed')) throw new ProblemError(409, 'This order was sold; its reservation cannot be released');
    for (const row of rows.filter((candidate) => candidate.state === 'reserved')) {
      const released = await tx.nativeUpdate(Reservation, { id: row.id, state: 'reserved' }, { state: 'released', updatedAt: new Date() });
      if (released === 1) await tx.nativeUpdate(Book, { id: row.bookId }, { stock: raw('stock + ?', [row.quantity]) });
    }
  });
}
