/**
 * The checkout's invariants, read straight from purchase's and catalog's databases. Each broken one
 * comes back as a sentence naming the book, order or charge, so a failing test says why.
 */
import type { TestDatabase } from '@bookstore/shared/testing/database';

type Queryable = Pick<TestDatabase, 'query'>;
type Row = Record<string, unknown>;

const inFlight = ['reserving', 'charging', 'committing', 'refunding', 'cancelling', 'expiring', 'abandoning'];

/**
 * - for every book: stock + reserved + sold equals what the seller put in (`stockPut`);
 * - every approved, unrefunded charge belongs to an order that is paid or shipped;
 * - every paid or shipped order has its items committed (sold) in catalog.
 * With `settled` (nothing is under way any more), also: no order is half-way through a step, and
 * every copy still reserved is held by an order its buyer can pay.
 *
 * @example expect(await brokenInvariants({ purchase: purchaseDb, catalog: shop.catalog.db! }, stockPut)).toEqual([]);
 */
export async function brokenInvariants(dbs: { purchase: Queryable; catalog: Queryable }, stockPut: Map<number, number>, options: { settled?: boolean } = {}): Promise<string[]> {
  const broken: string[] = [];
  const rows = async (db: Queryable, sql: string, params: unknown[] = []) => (await db.query(sql, params)) as Row[];

  if (stockPut.size) {
    const books = await rows(
      dbs.catalog,
      `select b.id, b.stock,
              coalesce(sum(case when r.state = 'reserved' then r.quantity end), 0) as reserved,
              coalesce(sum(case when r.state = 'committed' then r.quantity end), 0) as sold
         from books b left join reservations r on r.book_id = b.id
        where b.id in (?) group by b.id, b.stock`,
      [[...stockPut.keys()]],
    );
    for (const book of books) {
      const [stock, reserved, sold] = [Number(book.stock), Number(book.reserved), Number(book.sold)];
      const put = stockPut.get(Number(book.id))!;
      if (stock + reserved + sold !== put) broken.push(`book ${book.id}: stock ${stock} + reserved ${reserved} + sold ${sold} = ${stock + reserved + sold}, but the seller put in ${put}`);
    }
  }

  const charges = await rows(
    dbs.purchase,
    `select c.charge_key, c.amount_cents, o.id as order_id, o.status
       from gateway_charges c left join payments p on p.id = c.charge_key left join orders o on o.id = p.order_id
      where c.outcome = 'approved' and c.refunded_at is null`,
  );
  for (const charge of charges) {
    if (charge.status !== 'paid' && charge.status !== 'shipped') broken.push(`charge ${charge.charge_key} (${charge.amount_cents} cents) is approved and not refunded, but its order ${charge.order_id ?? '(none)'} is ${charge.status ?? 'missing'}`);
  }

  const paidItems = await rows(dbs.purchase, `select o.id as order_id, i.book_id, i.quantity from orders o left join order_items i on i.order_id = o.id where o.status in ('paid', 'shipped')`);
  const paidOrders = [...new Set(paidItems.map((item) => String(item.order_id)))];
  const reservations = paidOrders.length ? await rows(dbs.catalog, 'select order_id, book_id, quantity, state from reservations where order_id in (?)', [paidOrders]) : [];
  for (const orderId of paidOrders) {
    const items = paidItems.filter((item) => item.order_id === orderId && item.book_id !== null);
    const held = reservations.filter((row) => row.order_id === orderId);
    if (items.length === 0) broken.push(`order ${orderId} is paid but has no items`);
    for (const item of items) {
      const row = held.find((candidate) => Number(candidate.book_id) === Number(item.book_id));
      if (!row || row.state !== 'committed' || Number(row.quantity) !== Number(item.quantity)) {
        broken.push(`order ${orderId} is paid, but catalog holds ${row ? `${row.quantity} of book ${item.book_id} ${row.state}` : `no reservation of book ${item.book_id}`} (the order has ${item.quantity} sold)`);
      }
    }
  }

  if (options.settled) {
    const stuck = await rows(dbs.purchase, 'select id, status from orders where status in (?)', [inFlight]);
    for (const order of stuck) broken.push(`order ${order.id} is still ${order.status}`);
    const reserved = await rows(dbs.catalog, `select distinct order_id from reservations where state = 'reserved'`);
    const holders = reserved.length ? await rows(dbs.purchase, 'select id, status from orders where id in (?)', [reserved.map((row) => row.order_id)]) : [];
    for (const { order_id: orderId } of reserved) {
      const holder = holders.find((order) => order.id === orderId);
      if (holder?.status !== 'awaiting_payment') broken.push(`catalog holds stock reserved for order ${orderId}, which is ${holder ? String(holder.status) : 'unknown to purchase'}: only an order awaiting payment may hold stock`);
    }
  }
  return broken;
}
