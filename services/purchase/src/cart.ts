/** The cart: per user, kept by purchase; prices and stock are always asked of catalog, never stored. */
import type { Principal } from '@bookstore/shared/auth';
import type { RetryPolicy, ServiceClient } from '@bookstore/shared/client';
import { catalogApi, type BookJson } from '@bookstore/shared/contracts/catalog';
import { maxQuantity, type CartJson } from '@bookstore/shared/contracts/purchase';
import type { EntityManager } from '@bookstore/shared/db';
import { ProblemError } from '@bookstore/shared/errors';
import { ServiceUnavailableError } from '@bookstore/shared/http';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { CartItem } from './entities.ts';

/** Distinct books a cart holds at most. */
export const maxCartLines = 50;

/** A book as catalog has it now; null when it is gone. Throws ServiceUnavailableError when catalog does not answer. */
export async function currentBook(catalog: ServiceClient, bookId: number, policy: RetryPolicy = { attempts: 2, timeoutMs: 1500 }): Promise<BookJson | null> {
  const outcome = await catalog.call(catalogApi.book, { params: { id: bookId } }, policy);
  if (outcome.kind === 'ok') return outcome.value;
  if (outcome.kind === 'problem' && outcome.status === 404) return null;
  throw new ServiceUnavailableError('catalog', outcome.kind === 'problem' ? `answered ${outcome.status}` : outcome.reason);
}

/** The cart with each book's current title, price and stock; `policy` bounds the catalog calls (pages have a time budget). */
export async function readCart(em: EntityManager, catalog: ServiceClient, buyer: Principal, policy?: RetryPolicy): Promise<CartJson> {
  const lines = await em.find(CartItem, { userId: buyer.userId }, { orderBy: { id: 'asc' } });
  const books = await Promise.all(lines.map((line) => currentBook(catalog, line.bookId, policy)));
  return toCart(
    lines.map((line, i) => {
      const book = books[i];
      return { bookId: line.bookId, title: book?.title ?? 'No longer in the catalog', unitPriceCents: book?.priceCents ?? 0, quantity: line.quantity, available: book?.stock ?? 0 };
    }),
  );
}

/** A cart from its lines: the copies counted and the subtotal added up. */
export function toCart(items: CartJson['items']): CartJson {
  return {
    items,
    count: items.reduce((sum, item) => sum + item.quantity, 0),
    subtotalCents: items.reduce((sum, item) => sum + item.unitPriceCents * item.quantity, 0),
  };
}

/** How many copies the cart holds, for the header badge (no catalog call). */
export async function cartCount(em: EntityManager, buyer: Principal): Promise<number> {
  const lines = await em.find(CartItem, { userId: buyer.userId });
  return lines.reduce((sum, line) => sum + line.quantity, 0);
}

/**
 * Sets how many copies of a book the cart holds (0 removes it), or with `add` adds to what it holds.
 * Refuses a book catalog does not have, or more copies than it has.
 */
export async function setCartQuantity(em: EntityManager, catalog: ServiceClient, buyer: Principal, bookId: number, quantity: number, options: { add?: boolean } = {}): Promise<CartItem | null> {
  const line = await em.findOne(CartItem, { userId: buyer.userId, bookId });
  const wanted = Math.min(maxQuantity, options.add ? (line?.quantity ?? 0) + quantity : quantity);
  if (wanted === 0) {
    if (line) await em.nativeDelete(CartItem, { id: line.id });
    return null;
  }
  const book = await currentBook(catalog, bookId);
  if (!book) throw new ProblemError(404, `There is no book ${bookId} in the catalog`, { errors: { bookId: 'is not in the catalog' } });
  if (book.sellerId === buyer.userId) throw new ProblemError(409, 'This is your own book: you cannot buy it', { bookId });
  if (wanted > book.stock) {
    const left = book.stock === 0 ? 'none left' : `only ${book.stock} left`;
    throw new ProblemError(409, `“${book.title}” has ${left}`, { bookId, available: book.stock, errors: { quantity: `at most ${book.stock}` } });
  }
  if (line) {
    line.quantity = wanted;
    await em.flush();
    return line;
  }
  if ((await em.count(CartItem, { userId: buyer.userId })) >= maxCartLines) throw new ProblemError(409, `A cart holds at most ${maxCartLines} different books`);
  try {
    return await em.fork().upsert(CartItem, { userId: buyer.userId, bookId, quantity: wanted, addedAt: new Date() }, { onConflictFields: ['userId', 'bookId'], onConflictMergeFields: ['quantity'] });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) return em.fork().findOneOrFail(CartItem, { userId: buyer.userId, bookId });
    throw error;
  }
}
