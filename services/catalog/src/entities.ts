/** What catalog owns: books with their stock, and the reservations purchase makes on them. */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const Book = defineEntity({
  name: 'Book',
  tableName: 'books',
  // Each sort of the listing has an index that hands live books over in order, read without touching
  // the rows; so does the seller's page. Beside this table, written with it in one transaction: the
  // word index of src/search.ts (`book_words` on MySQL/MariaDB, the FTS5 table `book_search` on
  // SQLite) and `seller_book_counts` (live books per seller).
  indexes: [
    { name: 'books_live_created_at_id_index', properties: ['deletedAt', 'createdAt', 'id'] },
    { name: 'books_live_price_cents_id_index', properties: ['deletedAt', 'priceCents', 'id'] },
    { name: 'books_live_title_id_index', properties: ['deletedAt', 'title', 'id'] },
    { name: 'books_seller_live_created_at_id_index', properties: ['sellerId', 'deletedAt', 'createdAt', 'id'] },
    // Is a cover file still shown by some book? (src/covers.ts, before removing it)
    { name: 'books_cover_file_index', properties: ['coverFile'] },
  ],
  // Stock can never go negative, whatever the code above it does.
  checks: [{ name: 'books_stock_check', expression: 'stock >= 0' }],
  uniques: [{ name: 'books_seller_id_creation_key_unique', properties: ['sellerId', 'creationKey'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    title: p.string().length(300),
    author: p.string().length(200),
    description: p.text(),
    priceCents: p.integer(),
    stock: p.integer(),
    sellerId: p.integer(),
    sellerName: p.string().length(100),
    /** The full-size cover's file name under UPLOADS_DIR (its content hash plus extension); src/covers.ts names its card. */
    coverFile: p.string().length(100).nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
    /** Set when a book with order history is removed: it leaves the catalog, its orders keep it. */
    deletedAt: p.datetime().nullable(),
    /** The key of the form or API request that added it (unique per seller): a repeat finds this book. */
    creationKey: p.string().length(100).nullable(),
  },
});
export type Book = InferEntity<typeof Book>;

export const reservationStates = ['reserved', 'committed', 'released'] as const;
export type ReservationState = (typeof reservationStates)[number];

/** Copies of one book held for one order: taken from stock at reserve, given back at release. */
export const Reservation = defineEntity({
  name: 'Reservation',
  tableName: 'reservations',
  uniques: [{ properties: ['orderId', 'bookId'] }],
  checks: [{ name: 'reservations_quantity_check', expression: 'quantity > 0' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    orderId: p.string().length(64),
    bookId: p.integer().index(),
    quantity: p.integer(),
    unitPriceCents: p.integer(),
    title: p.string().length(300),
    /** The book's seller when reserved: purchase shows the sale to them. */
    sellerId: p.integer(),
    state: p.enum(reservationStates),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
export type Reservation = InferEntity<typeof Reservation>;

/**
 * An order purchase has given up on. Written before a release looks for the order's rows, so a
 * reserve still running for that order sees it before committing and backs out.
 */
export const OrderRelease = defineEntity({
  name: 'OrderRelease',
  tableName: 'order_releases',
  properties: {
    orderId: p.string().length(64).primary(),
    releasedAt: p.datetime(),
  },
});
export type OrderRelease = InferEntity<typeof OrderRelease>;

/** One cover upload by one user: the rate limit counts those of the last hour (older ones are deleted as it goes). */
export const CoverUpload = defineEntity({
  name: 'CoverUpload',
  tableName: 'cover_uploads',
  indexes: [{ name: 'cover_uploads_user_id_uploaded_at_index', properties: ['userId', 'uploadedAt'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    userId: p.integer(),
    uploadedAt: p.datetime(),
  },
});
export type CoverUpload = InferEntity<typeof CoverUpload>;

export const entities = [Book, Reservation, OrderRelease, CoverUpload];
