/** Purchase's own request shapes (params, queries, the Idempotency-Key header); shared ones are in the contract. */
import { z } from 'zod';
import { userRoles } from '@bookstore/shared/auth';
import { bookId } from '@bookstore/shared/contracts/catalog';
import { deliveryProvider } from '@bookstore/shared/contracts/purchase';
import { idempotencyKeyHeader } from '@bookstore/shared/idempotency';

export const orderIdParam = z.object({ id: z.string().regex(/^ord_[a-z2-7]{24}$/, 'is not an order id') });
export const bookIdParam = z.object({ bookId });
export const shipmentParams = orderIdParam.extend({ bookId });
export const pageQuery = z.object({
  page: z.coerce.number('must be a number').int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10000').default(1),
  pageSize: z.coerce.number('must be a number').int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(20),
});
export const idempotencyHeaders = z.object({ 'idempotency-key': idempotencyKeyHeader });

/** The order list: a page of the caller's orders; an admin's `all=true` lists everyone's. */
export const ordersQuery = pageQuery.extend({ all: z.literal('true').optional().catch(undefined) });

/** BRIEF: a bare array, `[{id, name, scope, priceCents}]`. */
export const deliveryProviderList = z.array(deliveryProvider);
/** Who a Bearer token is, as purchase reads it. */
export const principalAnswer = z.object({ userId: z.number().int(), role: z.enum(userRoles) });

/** A seller, by user id: whose open sale items auth asks about. */
export const sellerIdParam = z.object({ sellerId: z.coerce.number().int().min(1).max(2_147_483_647) });
export { openItemsAnswer } from '@bookstore/shared/contracts/purchase';
