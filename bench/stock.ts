/**
 * The checkout row's stock accounting, read from catalog's and purchase's tables: for every book,
 * stock + reserved + sold must stay what it was before the row, and purchase's paid units must be
 * catalog's sold units. Anything else is a unit sold twice (oversold) or lost.
 */
import type { TestDatabase } from '../shared/src/testing/database.ts';

export interface StockCheck {
  books: number;
  /** Units on sale, held for unpaid orders, and sold (committed reservations), after the row. */
  stock: number;
  reserved: number;
  sold: number;
  /** Paid (or shipped) order units in purchase. */
  paidUnits: number;
  /** Units beyond what the books had before the row: sold or held twice. */
  oversold: number;
  /** Units that vanished from the books' accounts. */
  lost: number;
  /** Paid units whose reservation catalog has not committed (a paid order without its stock). */
  paidWithoutStock: number;
}

type Ledger = Map<number, number>;

/** Books with plenty of stock, for the checkout row to buy from. */
export async function checkoutBooks(catalog: TestDatabase, count: number): Promise<number[]> {
  const rows = (await catalog.query('select id from books where deleted_at is null and stock >= 30 order by id limit ?', [count])) as { id: number }[];
  if (rows.length === 0) throw new Error('no book with 30 or more copies for the checkout row');
  return rows.map((row) => row.id);
}

/** Each book's units (stock + reserved + sold) now. */
export async function stockLedger(catalog: TestDatabase, bookIds: number[]): Promise<Ledger> {
  const accounts = await bookAccounts(catalog, bookIds);
  return new Map([...accounts].map(([id, units]) => [id, units.stock + units.reserved + units.sold]));
}

/**
 * Compares the books' units with the ledger taken before the row. Orders still in flight when the
 * load stopped are given `settleMs` to finish (paid units equal to sold units) before the count.
 *
 * @example
 * const before = await stockLedger(catalog, ids); … const check = await checkStock(catalog, purchase, before);
 */
export async function checkStock(catalog: TestDatabase, purchase: TestDatabase, before: Ledger, settleMs = 15_000): Promise<StockCheck> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const accounts = await bookAccounts(catalog, [...before.keys()]);
    const [paid] = (await purchase.query(
      "select coalesce(sum(i.quantity), 0) as units from orders o join order_items i on i.order_id = o.id where o.status in ('paid', 'shipped')",
    )) as { units: number | string }[];
    const check: StockCheck = { books: before.size, stock: 0, reserved: 0, sold: 0, paidUnits: Number(paid?.units ?? 0), oversold: 0, lost: 0, paidWithoutStock: 0 };
    for (const [id, initial] of before) {
      const units = accounts.get(id) ?? { stock: 0, reserved: 0, sold: 0 };
      check.stock += units.stock;
      check.reserved += units.reserved;
      check.sold += units.sold;
      const now = units.stock + units.reserved + units.sold;
      check.oversold += Math.max(0, now - initial);
      check.lost += Math.max(0, initial - now);
    }
    check.paidWithoutStock = Math.max(0, check.paidUnits - check.sold);
    if (check.paidUnits === check.sold || Date.now() > deadline) return check;
    await Bun.sleep(500);
  }
}

async function bookAccounts(catalog: TestDatabase, bookIds: number[]) {
  const accounts = new Map<number, { stock: number; reserved: number; sold: number }>();
  const books = (await catalog.query('select id, stock from books where id in (?)', [bookIds])) as { id: number; stock: number }[];
  for (const book of books) accounts.set(book.id, { stock: book.stock, reserved: 0, sold: 0 });
  const held = (await catalog.query(
    "select book_id, state, sum(quantity) as units from reservations where book_id in (?) and state in ('reserved', 'committed') group by book_id, state",
    [bookIds],
  )) as { book_id: number; state: 'reserved' | 'committed'; units: number | string }[];
  for (const row of held) {
    const account = accounts.get(row.book_id);
    if (!account) continue;
    if (row.state === 'reserved') account.reserved += Number(row.units);
    else account.sold += Number(row.units);
  }
  return accounts;
}
