/** Orders as buyers, sellers and admins see them: their public JSON, who may see which, lists and sales. */
import type { Principal } from '@bookstore/shared/auth';
import type { EntityManager } from '@bookstore/shared/db';
import { ProblemError } from '@bookstore/shared/errors';
import type { OrderJson, OrderPage, PublicOrderStatus, SaleJson } from '@bookstore/shared/contracts/purchase';

export interface SalePage {
  items: SaleJson[];
  page: number;
  pageSize: number;
  total: number;
}
import { Order, OrderEvent, OrderItem, Payment, type OrderStatus } from './entities.ts';
import { findRow, findRows } from '@bookstore/shared/rows';

/** What each step of the saga looks like from outside. */
export const publicStatus: Record<OrderStatus, PublicOrderStatus> = {
  reserving: 'awaiting_payment',
  awaiting_payment: 'awaiting_payment',
  charging: 'awaiting_payment',
  committing: 'awaiting_payment',
  paid: 'paid',
  shipped: 'shipped',
  refunding: 'cancelled',
  cancelling: 'cancelled',
  cancelled: 'cancelled',
  expiring: 'expired',
  expired: 'expired',
  abandoning: 'cancelled',
  abandoned: 'cancelled',
};

/** Orders that were never placed (stock refused, or given up before it was held) are nobody's business. */
export const unplacedStatuses: OrderStatus[] = ['reserving', 'abandoning', 'abandoned'];

export const notFound = (id: string) => new ProblemError(404, `There is no order ${id}`);

/** The order if the caller may see it: its buyer, or an admin. Anyone else gets the same 404 as for no order. */
export async function orderFor(em: EntityManager, id: string, caller: Principal): Promise<Order> {
  const order = await findRow(em, Order, { id });
  if (!order || order.status === 'abandoning' || order.status === 'abandoned' || (order.buyerId !== caller.userId && caller.role !== 'admin')) throw notFound(id);
  return order;
}

/** One order with its items, payment and history (three plain reads, at once). */
export async function toOrderJson(em: EntityManager, order: Order): Promise<OrderJson> {
  const [items, events, payment] = await Promise.all([
    findRows(em, OrderItem, { orderId: order.id }, 'id'),
    findRows(em, OrderEvent, { orderId: order.id }, 'id'),
    order.paymentId ? findRow(em, Payment, { id: order.paymentId }) : null,
  ]);
  return orderJsonOf(order, items, events, payment);
}

/** Orders with their items, payment and history, in three queries for any number of orders. */
export async function toOrderJsons(em: EntityManager, orders: Order[]): Promise<OrderJson[]> {
  const ids = orders.map((order) => order.id);
  if (ids.length === 0) return [];
  const paymentIds = orders.map((order) => order.paymentId).filter((id): id is string => id !== null);
  const [items, events, payments] = await Promise.all([
    em.find(OrderItem, { orderId: { $in: ids } }, { orderBy: { id: 'asc' } }),
    em.find(OrderEvent, { orderId: { $in: ids } }, { orderBy: { id: 'asc' } }),
    paymentIds.length ? em.find(Payment, { id: { $in: paymentIds } }) : Promise.resolve([] as Payment[]),
  ]);
  return orders.map((order) =>
    orderJsonOf(
      order,
      items.filter((item) => item.orderId === order.id),
      events.filter((event) => event.orderId === order.id),
      payments.find((candidate) => candidate.id === order.paymentId) ?? null,
    ),
  );
}

/** The public JSON of an order from its rows (items and events in id order). */
export function orderJsonOf(order: Order, items: Pick<OrderItem, 'bookId' | 'title' | 'sellerId' | 'unitPriceCents' | 'quantity' | 'shippedAt' | 'trackingCode'>[], events: Pick<OrderEvent, 'status' | 'at'>[], payment: Pick<Payment, 'last4' | 'status'> | null): OrderJson {
  return {
    id: order.id,
    status: publicStatus[order.status],
    buyerId: order.buyerId,
    items: items.map((item) => ({
      bookId: item.bookId,
      title: item.title,
      sellerId: item.sellerId,
      unitPriceCents: item.unitPriceCents,
      quantity: item.quantity,
      shippedAt: item.shippedAt?.toISOString() ?? null,
      trackingCode: item.trackingCode ?? null,
    })),
    provider: { id: order.providerId, name: order.providerName, priceCents: order.deliveryCents },
    subtotalCents: order.subtotalCents,
    deliveryCents: order.deliveryCents,
    totalCents: order.totalCents,
    payment: payment ? { last4: payment.last4, status: payment.status } : null,
    history: events.map((event) => ({ status: event.status, at: event.at.toISOString() })),
    createdAt: order.createdAt.toISOString(),
    expiresAt: order.expiresAt?.toISOString() ?? null,
  };
}

/** The caller's orders, newest first; with `all` (admins), everyone's. */
export async function listOrders(em: EntityManager, caller: Principal, page: number, pageSize: number, all = false): Promise<OrderPage> {
  const where = { status: { $nin: unplacedStatuses }, ...(all ? {} : { buyerId: caller.userId }) };
  const [orders, total] = await em.findAndCount(Order, where, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: pageSize, offset: (page - 1) * pageSize });
  return { items: await toOrderJsons(em, orders), page, pageSize, total };
}

/**
 * Order states in which a seller still owes something: the buyer may yet pay (placing, awaiting
 * payment, paying) or has paid for an item not shipped yet.
 */
const owedStatuses: OrderStatus[] = ['reserving', 'awaiting_payment', 'charging', 'committing', 'paid'];

/** How many items of `sellerId`'s books are still owed to buyers: an account with any cannot be deleted (auth asks). */
export async function openSaleItems(em: EntityManager, sellerId: number): Promise<number> {
  const [row] = await em.execute<{ items: number | string }[]>(
    `select count(*) as items from order_items i join orders o on o.id = i.order_id where i.seller_id = ? and i.shipped_at is null and o.status in (${owedStatuses.map(() => '?').join(', ')})`,
    [sellerId, ...owedStatuses],
    { connectionType: 'write' },
  );
  return Number(row?.items ?? 0);
}

/** Items of the caller's books in paid orders, newest first, with the buyer's name and the carrier. */
export async function listSales(em: EntityManager, seller: Principal, page: number, pageSize: number): Promise<SalePage> {
  const rows = (await em.execute(
    `select i.order_id, i.book_id, i.title, i.quantity, i.unit_price_cents, i.shipped_at, i.tracking_code, o.buyer_name, o.provider_name, o.status,
            (select min(e.at) from order_events e where e.order_id = o.id and e.status = 'paid') as sold_at
       from order_items i join orders o on o.id = i.order_id
      where i.seller_id = ? and o.status in ('paid', 'shipped')
      order by i.id desc limit ? offset ?`,
    [seller.userId, pageSize, (page - 1) * pageSize],
  )) as Record<string, unknown>[];
  const [{ total }] = (await em.execute(
    `select count(*) as total from order_items i join orders o on o.id = i.order_id where i.seller_id = ? and o.status in ('paid', 'shipped')`,
    [seller.userId],
  )) as [{ total: number | string }];
  const date = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string | number).toISOString());
  return {
    items: rows.map((row) => ({
      orderId: String(row.order_id),
      bookId: Number(row.book_id),
      title: String(row.title),
      quantity: Number(row.quantity),
      unitPriceCents: Number(row.unit_price_cents),
      buyerName: String(row.buyer_name),
      provider: String(row.provider_name),
      status: publicStatus[row.status as OrderStatus],
      soldAt: date(row.sold_at)!,
      shippedAt: date(row.shipped_at),
      trackingCode: (row.tracking_code as string | null) ?? null,
    })),
    page,
    pageSize,
    total: Number(total),
  };
}
