/** The catalog service's contract: books as other packages see them, and the reservations purchase makes. */
import { z } from 'zod';
import { endpoint } from '../client.ts';
import { plainText } from '../validation.ts';

const text = (max: number) => plainText().trim().min(1, 'is required').max(max, `must be at most ${max} characters`);

export const maxPriceCents = 1_000_000_00; // $1,000,000.00
export const maxStock = 100_000;

const bookFields = z.object({
  title: text(300),
  author: text(200),
  description: plainText().trim().max(5000, 'must be at most 5000 characters'),
  priceCents: z.number('must be a number').int('must be whole cents').min(1, 'must be at least 1 cent').max(maxPriceCents, 'is too high'),
  stock: z.number('must be a number').int('must be a whole number').min(0, 'cannot be negative').max(maxStock, `must be at most ${maxStock}`),
});

/** A new book: the description may be left out. The seller is the caller, never a field. */
export const bookInput = bookFields.extend({ description: bookFields.shape.description.default('') });
export type BookInput = z.infer<typeof bookInput>;

/** A change to a book: any of its fields, at least one; what is left out stays as it was. */
export const bookPatch = bookFields.partial().refine((patch) => Object.values(patch).some((value) => value !== undefined), 'give at least one field to change');
export type BookPatch = z.infer<typeof bookPatch>;

export const book = z.object({
  id: z.number().int(),
  title: z.string(),
  author: z.string(),
  description: z.string(),
  priceCents: z.number().int(),
  stock: z.number().int(),
  sellerId: z.number().int(),
  sellerName: z.string(),
  coverUrl: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type BookJson = z.infer<typeof book>;

export const bookPage = z.object({ items: z.array(book), page: z.number().int(), pageSize: z.number().int(), total: z.number().int() });
export type BookPage = z.infer<typeof bookPage>;

/** An order id as catalog keeps it: purchase's own ids fit. */
export const orderId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, - or _');
/** A book id in a path or query string (text, so coerced); in a JSON body use `bookIdField`. */
export const bookId = z.coerce.number('must be a number').int('must be a whole number').min(1, 'must be at least 1').max(2_147_483_647, 'is too large');
/** A book id in a JSON body: a number, never coerced from `true` or `"7"`. */
export const bookIdField = z.number('must be a number').int('must be a whole number').min(1, 'must be at least 1').max(2_147_483_647, 'is too large');

/**
 * The same book named twice counts once, with the quantities added; sorted by book id (the order
 * catalog takes its locks in). What catalog reserves, and what purchase asks it for.
 */
export function mergeItems(items: { bookId: number; quantity: number }[]): { bookId: number; quantity: number }[] {
  const quantities = new Map<number, number>();
  for (const item of items) quantities.set(item.bookId, (quantities.get(item.bookId) ?? 0) + item.quantity);
  return [...quantities].sort(([a], [b]) => a - b).map(([bookId, quantity]) => ({ bookId, quantity }));
}

export const reservationInput = z.object({
  orderId,
  items: z
    .array(z.object({ bookId: bookIdField, quantity: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000') }))
    .min(1, 'must hold at least one book')
    .max(100, 'must hold at most 100 books'),
});
export type ReservationInput = z.infer<typeof reservationInput>;

/** One reserved book, with what purchase records on the order: catalog's price, title and seller. */
export const reservedItem = z.object({
  bookId: z.number().int(),
  quantity: z.number().int(),
  unitPriceCents: z.number().int(),
  title: z.string(),
  sellerId: z.number().int(),
});
export type ReservedItem = z.infer<typeof reservedItem>;

export const reservationAnswer = z.object({ orderId, items: z.array(reservedItem) });
export type ReservationAnswer = z.infer<typeof reservationAnswer>;

export const catalogApi = {
  book: endpoint({ method: 'GET', path: (p: { id: number }) => `/api/books/${p.id}`, answer: book, idempotent: true }),
  /** All or nothing; 409 naming the book that is short. Idempotent by order id (the same id with other items: 409). */
  reserve: endpoint({ method: 'POST', path: () => '/api/reservations', body: reservationInput, answer: reservationAnswer, idempotent: true }),
  /** Marks an order's copies sold. Idempotent; 404 unknown order, 409 released. */
  commit: endpoint({ method: 'POST', path: (p: { orderId: string }) => `/api/reservations/${p.orderId}/commit`, answer: reservationAnswer, idempotent: true }),
  /** Gives an order's copies back. Idempotent; 409 if it was sold. */
  release: endpoint({ method: 'DELETE', path: (p: { orderId: string }) => `/api/reservations/${p.orderId}`, answer: z.null(), idempotent: true }),
};

/**
 * The book page fragment (`GET /fragments/books/:id`), as the web front composes it: its first element
 * carries `data-title` and `data-author` (escaped like any attribute) for the page's <title>, and this
 * comment marks where purchase's buy box goes (after the price, before the cover).
 */
export const bookPageBuyBoxSlot = '<!--buy-box-->';
