/**
 * Idempotency keys: a client's key for one intended change (an order, a payment) is stored in the
 * same transaction as the change itself, so a retry, a double click or a refresh finds the key and
 * gets the first request's answer instead of making a second change. The same key with another body
 * is refused. The table is each service's own (add `IdempotencyKey` to its entities and migrations).
 */
import { createHash } from 'node:crypto';
import { defineEntity, p, UniqueConstraintViolationException, type InferEntity } from '@mikro-orm/core';
import { z } from 'zod';
import type { EntityManager } from './db.ts';
import { ProblemError } from './errors.ts';

export const IdempotencyKey = defineEntity({
  name: 'IdempotencyKey',
  tableName: 'idempotency_keys',
  uniques: [{ properties: ['scope', 'ownerId', 'key'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    /** What the key is for: "orders", "payment". */
    scope: p.string().length(40),
    /** Whose key: keys of different users never meet. */
    ownerId: p.integer(),
    key: p.string().length(100),
    /** SHA-256 of the request body, to refuse the same key with another body. */
    requestHash: p.string().length(64),
    /** The thing the first request made (an order id, a payment id). */
    resourceId: p.string().length(64),
    /** The first request's final answer, once there is one. */
    responseStatus: p.integer().nullable(),
    responseBody: p.text().nullable(),
    createdAt: p.datetime(),
  },
});
export type IdempotencyKey = InferEntity<typeof IdempotencyKey>;

export const idempotencyKeyHeader = z
  .string('the Idempotency-Key header is required')
  .trim()
  .regex(/^[A-Za-z0-9_:.-]{8,100}$/, 'must be 8-100 letters, digits, _ : . or -');

/** A stable hash of a request body: the same fields in any order hash alike. */
export function requestHash(body: unknown): string {
  const stable = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(stable)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, stable(v)]))
        : value;
  return createHash('sha256').update(JSON.stringify(stable(body) ?? null)).digest('hex');
}

export interface KeyRequest {
  scope: string;
  ownerId: number;
  key: string;
  hash: string;
}

/**
 * Runs `create` (the business change, which returns the id of what it made) in one transaction with
 * the key's row, unless the key was used before: then answers the earlier row (same body) or 409
 * (another body). Two requests with one key at once: one creates, the other gets the earlier row.
 *
 * @example
 * const outcome = await withIdempotencyKey(em, request, async (tx) => (await createOrder(tx, input)).id);
 * if (outcome.earlier) return replay(outcome.earlier);
 */
export async function withIdempotencyKey(
  em: EntityManager,
  request: KeyRequest,
  create: (tx: EntityManager) => Promise<string>,
): Promise<{ resourceId: string; earlier: IdempotencyKey | null }> {
  for (let attempt = 0; ; attempt++) {
    const earlier = await findKey(em, request);
    if (earlier) return { resourceId: earlier.resourceId, earlier };
    try {
      const resourceId = await em.fork().transactional(async (tx) => {
        // The key first: a second request with this key waits here on the unique index until this
        // one ends, then finds the key (or, if this one was refused and rolled back, goes ahead).
        const row = tx.create(IdempotencyKey, { ...keyFields(request), requestHash: request.hash, resourceId: '', responseStatus: null, responseBody: null, createdAt: new Date() });
        await tx.flush();
        row.resourceId = await create(tx);
        await tx.flush();
        return row.resourceId;
      });
      return { resourceId, earlier: null };
    } catch (error) {
      // Another request with this key committed first: its row answers ours.
      if (!(error instanceof UniqueConstraintViolationException) || attempt > 0) throw error;
    }
  }
}

/** The key's row; 409 when it was used with another body. */
export async function findKey(em: EntityManager, request: KeyRequest): Promise<IdempotencyKey | null> {
  const row = await em.fork().findOne(IdempotencyKey, keyFields(request), { connectionType: 'write' });
  if (row && row.requestHash !== request.hash) {
    throw new ProblemError(409, 'This Idempotency-Key was already used for a different request; use a new key for a new request', { errors: { 'idempotency-key': 'was used for another request' } });
  }
  return row;
}

/** Records the final answer of the key's first request, to replay it to repeats. */
export async function storeAnswer(em: EntityManager, request: KeyRequest, status: number, body: unknown): Promise<void> {
  await em.fork().nativeUpdate(IdempotencyKey, keyFields(request), { responseStatus: status, responseBody: JSON.stringify(body) });
}

/** Forgets a key whose request left nothing behind (a refusal before any change): a retry may try afresh. */
export async function forgetKey(em: EntityManager, request: KeyRequest): Promise<void> {
  await em.fork().nativeDelete(IdempotencyKey, keyFields(request));
}

const keyFields = (request: KeyRequest) => ({ scope: request.scope, ownerId: request.ownerId, key: request.key });
