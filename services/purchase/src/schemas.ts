/** Purchase's own request shapes (params, queries, the Idempotency-Key header); shared ones are in the contract. */
import { z } from 'zod';
import { bookId } from '@bookstore/shared/contracts/catalog';
import { idempotencyKeyHeader } from '@bookstore/shared/idempotency';

export const orderIdParam = z.object({ id: z.string().regex(/^ord_[a-z2-7]{24}$/, 'is not an order id') });
export const bookIdParam = z.object({ bookId });
export const shipmentParams = orderIdParam.extend({ bookId });
export const pageQuery = z.object({
  page: z.coerce.number('must be a number').int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10000').default(1),
  pageSize: z.coerce.number('must be a number').int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(20),
});
export const idempotencyHeaders = z.object({ 'idempotency-key': idempotencyKeyHeader });
