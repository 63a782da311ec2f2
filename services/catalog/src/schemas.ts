/** Catalog's own request shapes (queries, forms); those other packages use too are in the shared contract, re-exported here. */
import { z } from 'zod';
import { bookId, maxPriceCents, orderId } from '@bookstore/shared/contracts/catalog';
import { idempotencyKeyHeader, idempotencyKeyPattern } from '@bookstore/shared/idempotency';

export {
  book,
  bookInput,
  bookPage,
  bookPatch,
  maxPriceCents,
  maxStock,
  reservationAnswer,
  reservationInput,
  reservedItem,
  type BookInput,
  type BookJson,
  type BookPage,
  type BookPatch,
  type ReservationInput,
  type ReservedItem,
} from '@bookstore/shared/contracts/catalog';

export const maxPageSize = 60;
/** BRIEF: "page size capped": more than the cap asks for the cap (the answer's `pageSize` says so), never a 400. */
const cappedPageSize = z.coerce
  .number('must be a number')
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .transform((size) => Math.min(size, maxPageSize));

export const bookSorts = ['newest', 'price_asc', 'price_desc', 'title'] as const;
export type BookSort = (typeof bookSorts)[number];

const optionalCents = z
  .union([z.literal(''), z.coerce.number('must be a number').int('must be whole cents').min(0, 'cannot be negative').max(maxPriceCents, 'is too high')])
  .optional()
  .transform((value) => (value === '' ? undefined : value));

function listingQuery(price: typeof optionalCents) {
  return z
    .object({
      q: z.string().trim().max(200, 'must be at most 200 characters').optional(),
      author: z.string().trim().max(200, 'must be at most 200 characters').optional(),
      minPrice: price,
      maxPrice: price,
      inStock: z
        .enum(['true', 'false', '1', '0', 'on', ''], 'must be true or false')
        .optional()
        .transform((value) => value === 'true' || value === '1' || value === 'on'),
      sort: z.enum(bookSorts, `must be one of ${bookSorts.join(', ')}`).default('newest'),
      page: z.coerce.number('must be a number').int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10000').default(1),
      pageSize: cappedPageSize.default(24),
    })
    .refine((query) => query.minPrice === undefined || query.maxPrice === undefined || query.minPrice <= query.maxPrice, {
      message: 'must not be above maxPrice',
      path: ['minPrice'],
    });
}

/** The API listing's query string: search, filters (prices in cents), sort and page. */
export const bookQuery = listingQuery(optionalCents);
export type BookQuery = z.infer<typeof bookQuery>;

export const idParam = z.object({ id: bookId });

export const sellerQuery = z.object({
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: cappedPageSize.default(maxPageSize),
});

export const orderIdParam = z.object({ orderId });

/** Adding a book may carry an Idempotency-Key: the same key adds no second book. */
export const bookKeyHeader = z.object({ 'idempotency-key': idempotencyKeyHeader.optional() });

/** A cover as the API and the seller's form take it: one image file (checked by content in covers.ts). */
export const coverUpload = z.object({ cover: z.file() });

/** The add/edit form as a browser posts it: every field a string, the price in dollars. */
export const bookFormFields = z.object({
  title: z.string().max(10_000).catch(''),
  author: z.string().max(10_000).catch(''),
  description: z.string().max(20_000).catch(''),
  price: z.string().max(100).catch(''),
  stock: z.string().max(100).catch(''),
  /** The stock shown when the edit form was opened: a save changes stock by the difference. */
  stockWas: z.string().max(20).catch(''),
  /** The new-book form's key: sending the same form again adds no second book. */
  key: z.string().regex(idempotencyKeyPattern).catch(''),
});
export type BookFormFields = z.infer<typeof bookFormFields>;

