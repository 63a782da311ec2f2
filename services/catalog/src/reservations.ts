/**
 * Stock reservations for the purchase service. Stock is taken with one conditional UPDATE per book
 * (`stock = stock - q WHERE stock >= q`): either it changes one row or the order is refused, so no
 * number of concurrent buyers can oversell. For every book, stock + reserved + sold never changes.
 */
import { LockMode, raw, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@bookstore/shared/db';
import { ProblemError } from '@bookstore/shared/errors';
import { Book, OrderRelease, Reservation } from './entities.ts';
import type { ReservationInput, ReservedItem } from './schemas.ts';

function toItem(row: Reservation): ReservedItem {
  return { bookId: row.bookId, quantity: row.quantity, unitPriceCents: row.unitPriceCents, title: row.title, sellerId: row.sellerId };
}

async function reservationsOf(em: EntityManager, orderId: string, lock = false): Promise<Reservation[]> {
  return em.find(Reservation, { orderId }, { orderBy: { bookId: 'asc' }, connectionType: 'write', ...(lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}) });
}

const releasedOrder = () => new ProblemError(409, "This order's reservation was released; place a new order");

/** What an earlier reserve for this order did, if there was one: the same answer again. */
function earlierAnswer(rows: Reservation[]): ReservedItem[] | null {
  if (rows.length === 0) return null;
  if (rows.some((row) => row.state === 'released')) throw releasedOrder();
  return rows.map(toItem);
}

/** The same book twice in one order counts once, with the quantities added; locks are taken in id order. */
function mergeItems(items: ReservationInput['items']) {
  const quantities = new Map<number, number>();
  for (const item of items) quantities.set(item.bookId, (quantities.get(item.bookId) ?? 0) + item.quantity);
  return [...quantities].sort(([a], [b]) => a - b).map(([bookId, quantity]) => ({ bookId, quantity }));
}

/**
 * Reserves every item or none. Idempotent by order id: asking again answers what was reserved.
 *
 * @example
 * const items = await reserveStock(em, { orderId: 'ord_123', items: [{ bookId: 7, quantity: 2 }] });
 * // → [{ bookId: 7, quantity: 2, unitPriceCents: 1299, title: 'Emma' }]
 */
export async function reserveStock(em: EntityManager, input: ReservationInput): Promise<ReservedItem[]> {
  const earlier = earlierAnswer(await reservationsOf(em, input.orderId));
  if (earlier) return earlier;
  if (await em.count(OrderRelease, { orderId: input.orderId }, { connectionType: 'write' })) throw releasedOrder();
  try {
    return await em.fork().transactional(async (tx) => {
      const now = new Date();
      const reserved: ReservedItem[] = [];
      for (const { bookId, quantity } of mergeItems(input.items)) {
        const taken = await tx.nativeUpdate(Book, { id: bookId, deletedAt: null, stock: { $gte: quantity } }, { stock: raw('stock - ?', [quantity]) });
        const book = await tx.findOne(Book, { id: bookId, deletedAt: null });
        if (taken !== 1 || !book) throw shortOfStock(bookId, quantity, book);
        const row = tx.create(Reservation, { orderId: input.orderId, bookId, quantity, unitPriceCents: book.priceCents, title: book.title, sellerId: book.sellerId, state: 'reserved', createdAt: now, updatedAt: now });
        reserved.push(toItem(row));
      }
      // The rows exist (uncommitted) before the check: a release from now on waits for them; one
      // that came earlier left its mark, read here with a locking read (it sees the latest commit).
      await tx.flush();
      if (await tx.findOne(OrderRelease, { orderId: input.orderId }, { lockMode: LockMode.PESSIMISTIC_READ })) throw releasedOrder();
      return reserved;
    });
  } catch (error) {
    // The same order reserved twice at once: the other call won (its rows are unique per order and
    // book, or it took the last copies first); its answer is ours.
    const lost = error instanceof UniqueConstraintViolationException || (error instanceof ProblemError && error.status === 409);
    if (!lost) throw error;
    const winner = earlierAnswer(await reservationsOf(em.fork(), input.orderId));
    if (winner) return winner;
    throw error;
  }
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
  return em.fork().transactional(async (tx) => {
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
 */
export async function releaseReservation(em: EntityManager, orderId: string): Promise<void> {
  try {
    await em.fork().insert(OrderRelease, { orderId, releasedAt: new Date() });
  } catch (error) {
    if (!(error instanceof UniqueConstraintViolationException)) throw error; // released before
  }
  await em.fork().transactional(async (tx) => {
    const rows = await reservationsOf(tx, orderId, true);
    if (rows.some((row) => row.state === 'committed')) throw new ProblemError(409, 'This order was sold; its reservation cannot be released');
    for (const row of rows.filter((candidate) => candidate.state === 'reserved')) {
      const released = await tx.nativeUpdate(Reservation, { id: row.id, state: 'reserved' }, { state: 'released', updatedAt: new Date() });
      if (released === 1) await tx.nativeUpdate(Book, { id: row.bookId }, { stock: raw('stock + ?', [row.quantity]) });
    }
  });
}
