/**
 * Stock reservations for the purchase service. Stock is taken with one conditional UPDATE per book
 * (`stock = stock - q WHERE stock >= q`): either it changes one row or the order is refused, so no
 * number of concurrent buyers can oversell. For every book, stock + reserved + sold never changes.
 */
import { LockMode, raw, UniqueConstraintViolationException } from '@mikro-orm/core';
import { mergeItems } from '@bookstore/shared/contracts/catalog';
import { transaction, type EntityManager } from '@bookstore/shared/db';
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
  const earlier = earlierAnswer(await reservationsOf(em, orderId), orderId, items);
  if (earlier) return earlier;
  if (await em.count(OrderRelease, { orderId }, { connectionType: 'write' })) throw releasedOrder();
  try {
    return await transaction(em, (tx) => takeStock(tx, orderId, items));
  } catch (error) {
    // The same order reserved twice at once: the other call won (its rows are unique per order and
    // book, or it took the last copies first); its answer is ours if it was for the same items.
    const lost = error instanceof UniqueConstraintViolationException || (error instanceof ProblemError && error.status === 409);
    if (!lost) throw error;
    const winner = earlierAnswer(await reservationsOf(em.fork(), orderId), orderId, items);
    if (winner) return winner;
    throw error;
  }
}

/** Inside reserveStock's transaction: takes each book's copies, in book id order, and records them. */
async function takeStock(tx: EntityManager, orderId: string, items: Item[]): Promise<ReservedItem[]> {
  const now = new Date();
  const reserved: ReservedItem[] = [];
  for (const { bookId, quantity } of items) {
    const taken = await tx.nativeUpdate(Book, { id: bookId, deletedAt: null, stock: { $gte: quantity } }, { stock: raw('stock - ?', [quantity]) });
    const book = await tx.findOne(Book, { id: bookId, deletedAt: null });
    if (taken !== 1 || !book) throw shortOfStock(bookId, quantity, book);
    const row = tx.create(Reservation, { orderId, bookId, quantity, unitPriceCents: book.priceCents, title: book.title, sellerId: book.sellerId, state: 'reserved', createdAt: now, updatedAt: now });
    reserved.push(toItem(row));
  }
  // The rows exist (uncommitted) before the checks: a release from now on waits for them; one that
  // came earlier left its mark, read here with a locking read (it sees the latest commit). Likewise
  // a reserve of this order id for other books, running at once: its rows show up in the locking
  // read of the order's rows (the two wait for each other, and the deadlock retry settles who won).
  await tx.flush();
  if (await tx.findOne(OrderRelease, { orderId }, { lockMode: LockMode.PESSIMISTIC_READ })) throw releasedOrder();
  if ((await reservationsOf(tx, orderId, true)).length !== reserved.length) throw orderIdReused(orderId);
  return reserved;
}

function shortOfStock(bookId: number, wanted: number, book: Book | null) {
  if (!book) return new ProblemError(409, `Book ${bookId} is no longer in the catalog`, { bookId, available: 0 });
  return new ProblemError(409, `Only ${book.stock} ${book.stock === 1 ? 'copy' : 'copies'} of "${book.title}" left; ${wanted} wanted`, {
    bookId,
    title: book.title,
    available: book.stock,
  });
}

/**
 * Marks an order's reservation sold. Idempotent; 404 for an unknown order, 409 if it was released.
 * The order's rows are locked first, so a release arriving at the same moment waits and then sees
 * them sold (or the commit sees them released): never both answered as done.
 */
export async function commitReservation(em: EntityManager, orderId: string): Promise<ReservedItem[]> {
  return transaction(em, async (tx) => {
    const rows = await reservationsOf(tx, orderId, true);
    if (rows.length === 0) throw new ProblemError(404, `No reservation for order ${orderId}`);
    if (rows.some((row) => row.state === 'released')) throw new ProblemError(409, 'This reservation was released and cannot be committed');
    await tx.nativeUpdate(Reservation, { orderId, state: 'reserved' }, { state: 'committed', updatedAt: new Date() });
    return rows.map(toItem);
  });
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
