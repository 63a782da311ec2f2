/**
 * What purchase owns: carts, orders (each order row is also its own saga log: status, attempts,
 * next attempt, lease), payments, the simulated gateway's charges, and idempotency keys.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { IdempotencyKey } from '@bookstore/shared/idempotency';

export const deliveryScopes = ['international', 'national'] as const;

/** A carrier a buyer can pick; its price is added to the order total. */
export const DeliveryProvider = defineEntity({
  name: 'DeliveryProvider',
  tableName: 'delivery_providers',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(100).unique(),
    scope: p.enum(deliveryScopes),
    priceCents: p.integer(),
  },
});
export type DeliveryProvider = InferEntity<typeof DeliveryProvider>;

/** One book in a shopper's cart. Prices are not kept here: they come fresh from catalog. */
export const CartItem = defineEntity({
  name: 'CartItem',
  tableName: 'cart_items',
  uniques: [{ properties: ['userId', 'bookId'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    userId: p.integer(),
    bookId: p.integer(),
    quantity: p.integer(),
    addedAt: p.datetime(),
  },
});
export type CartItem = InferEntity<typeof CartItem>;

/**
 * The saga's steps. `reserving`: stock asked of catalog. `awaiting_payment`: stock held, prices
 * recorded. `charging`: a payment is at the gateway. `committing`: charged, stock being marked sold.
 * `refunding`: charged but catalog refused the stock, money going back. `cancelling`, `expiring`,
 * `abandoning`: stock being given back. The rest are final.
 */
export const orderStatuses = [
  'reserving',
  'awaiting_payment',
  'charging',
  'committing',
  'paid',
  'shipped',
  'refunding',
  'cancelling',
  'cancelled',
  'expiring',
  'expired',
  'abandoning',
  'abandoned',
] as const;
export type OrderStatus = (typeof orderStatuses)[number];

export const Order = defineEntity({
  name: 'Order',
  tableName: 'orders',
  indexes: [
    { name: 'orders_due_index', properties: ['status', 'nextAttemptAt'] },
    { name: 'orders_expiry_index', properties: ['status', 'expiresAt'] },
    { name: 'orders_buyer_index', properties: ['buyerId', 'createdAt'] },
    { name: 'orders_created_index', properties: ['createdAt'] },
  ],
  properties: {
    id: p.string().length(32).primary(),
    buyerId: p.integer(),
    buyerName: p.string().length(100),
    status: p.enum(orderStatuses),
    /** The books asked for, as JSON [{bookId, quantity}]: what a retried reserve sends again. */
    requestedItems: p.text(),
    /** Whether the items came from the buyer's cart (emptied once the stock is held). */
    fromCart: p.boolean(),
    providerId: p.integer(),
    providerName: p.string().length(100),
    deliveryCents: p.integer(),
    subtotalCents: p.integer(),
    totalCents: p.integer(),
    /** The payment under way or last made. */
    paymentId: p.string().length(32).nullable(),
    /** Failed tries of the current step, for backoff. */
    attempts: p.integer(),
    /** When the sweeper should look at this order again (in-flight steps). */
    nextAttemptAt: p.datetime().nullable(),
    /** Until when a sweeper that claimed the order has it to itself. */
    leaseUntil: p.datetime().nullable(),
    /** When an unpaid order expires and gives its stock back. */
    expiresAt: p.datetime().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
export type Order = InferEntity<typeof Order>;

/** A book of an order, with catalog's title, price and seller at the time it was reserved. */
export const OrderItem = defineEntity({
  name: 'OrderItem',
  tableName: 'order_items',
  uniques: [{ properties: ['orderId', 'bookId'] }],
  indexes: [{ name: 'order_items_seller_index', properties: ['sellerId', 'id'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    orderId: p.string().length(32),
    bookId: p.integer(),
    title: p.string().length(300),
    sellerId: p.integer(),
    unitPriceCents: p.integer(),
    quantity: p.integer(),
    shippedAt: p.datetime().nullable(),
    trackingCode: p.string().length(100).nullable(),
  },
});
export type OrderItem = InferEntity<typeof OrderItem>;

/** The order's public history: each public status it entered, and when. */
export const OrderEvent = defineEntity({
  name: 'OrderEvent',
  tableName: 'order_events',
  properties: {
    id: p.integer().primary().autoincrement(),
    orderId: p.string().length(32).index(),
    status: p.string().length(40),
    at: p.datetime(),
  },
});
export type OrderEvent = InferEntity<typeof OrderEvent>;

export const paymentStatuses = ['pending', 'approved', 'declined', 'failed', 'refunded'] as const;
export type PaymentStatus = (typeof paymentStatuses)[number];

/** One attempt to pay an order. Its id is the gateway's key: a retried charge is the same charge. */
export const Payment = defineEntity({
  name: 'Payment',
  tableName: 'payments',
  properties: {
    id: p.string().length(32).primary(),
    orderId: p.string().length(32).index(),
    amountCents: p.integer(),
    /** The card's last four digits: all of the card that is ever stored. */
    last4: p.string().length(4),
    status: p.enum(paymentStatuses),
    /** Why the gateway declined, in words for the buyer. */
    reason: p.string().length(200).nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
export type Payment = InferEntity<typeof Payment>;

export const chargeOutcomes = ['approved', 'declined', 'insufficient_funds', 'voided'] as const;
export type ChargeOutcome = (typeof chargeOutcomes)[number];

/** The simulated gateway's own ledger, keyed by the payment id it was charged with. */
export const GatewayCharge = defineEntity({
  name: 'GatewayCharge',
  tableName: 'gateway_charges',
  properties: {
    chargeKey: p.string().length(64).primary(),
    amountCents: p.integer(),
    last4: p.string().length(4),
    outcome: p.enum(chargeOutcomes),
    refundedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  },
});
export type GatewayCharge = InferEntity<typeof GatewayCharge>;

export { IdempotencyKey };

export const entities = [DeliveryProvider, CartItem, Order, OrderItem, OrderEvent, Payment, GatewayCharge, IdempotencyKey];
