/**
 * Idempotency keys: a client's key for one intended change (an order, a payment) is stored in the
 * same transaction as the change itself, so a retry, a double click or a refresh finds the key and
 * gets the first request's answer instead of making a second change. The same key with another body
 * is refused. The table is each service's own (add `IdempotencyKey` to its entities and migrations).
 */
import { createHash } from 'node:crypto';
import { defineEntity, p, UniqueConstraintViolationException, type InferEntity } from '@mikro-orm/core';
import { z } from 'zod';
import { transaction, type EntityManager } from './db.ts';
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

/** A request's key (header, or a form's hidden field): 8 to 100 letters, digits and `_:.-`. */
export const idempotencyKeyPattern = /^[A-Za-z0-9_:.-]{8,100}$/;

export const idempotencyKeyHeader = z
  .string('the Idempotency-Key header is required')
  .trim()
  .regex(idempotencyKeyPattern, 'must be 8-100 letters, digits, _ : . or -');

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
 * Runs `create` (the business change that makes `resourceId`) in one transaction with the key's row,
 * unless the key was used before: then answers the earlier row (same body) or 409 (another body). Two
 * requests with one key at once: one creates, the other gets the earlier row.
 *
 * @example
 * const outcome = await withIdempotencyKey(em, request, newId('ord'), (tx, id) => createOrder(tx, id, input));
 * if (outcome.earlier) return replay(outcome.earlier);
 */
export async function withIdempotencyKey(
  em: EntityManager,
  request: KeyRequest,
  resourceId: string,
  create: (tx: EntityManager, resourceId: string) => Promise<void>,
): Promise<{ resourceId: string; earlier: IdempotencyKey | null }> {
  for (let attempt = 0; ; attempt++) {
    try {
      // The key is written first, not looked up: a first request (the usual case) spends no read on it.
      // transaction(): requests waiting on one key can deadlock as they insert it after a refusal.
      await transaction(em, async (tx) => {
        // The key first: a second request with this key waits here on the unique index until this
        // one ends, then finds the key (or, if this one was refused and rolled back, goes ahead).
        await tx.execute(
          'insert into idempotency_keys (scope, owner_id, `key`, request_hash, resource_id, response_status, response_body, created_at) values (?, ?, ?, ?, ?, null, null, ?)',
          [request.scope, request.ownerId, request.key, request.hash, resourceId, new Date()],
          'run',
        );
        await create(tx, resourceId);
      });
      return { resourceId, earlier: null };
    } catch (error) {
      if (!(error instanceof UniqueConstraintViolationException) || attempt > 0) throw error;
      // Another request with this key committed first: its row answers ours (or 409, for another body).
      const earlier = await findKey(em, request);
      if (earlier) return { resourceId: earlier.resourceId, earlier };
    }
  }
}

/** The key's row; 409 when it was used with another body. */
export async function findKey(em: EntityManager, request: KeyRequest): Promise<IdempotencyKey | null> {
  const reader = em.fork();
  const [found] = (await reader.execute('select * from idempotency_keys where scope = ? and owner_id = ? and `key` = ?', [request.scope, request.ownerId, request.key])) as Record<string, unknown>[];
  const row = found ? reader.map(IdempotencyKey, found) : null;
  if (row && row.requestHash !== request.hash) {
    throw new ProblemError(409, 'This Idempotency-Key was already used for a different request; use a new key for a new request', { errors: { 'idempotency-key': 'was used for another request' } });
  }
  return row;
}

/** A key request once its resource is known: answers are stored and keys forgotten only for that resource. */
export type KeyedRequest = KeyRequest & { resourceId: string };

/**
 * Records the final answer of the key's first request, to replay it to repeats. Given a transaction,
 * the answer is stored with the change that settled it. Only the row of this request's resource is
 * touched: a late answer never overwrites a later request that reused a freed key.
 */
export async function storeAnswer(em: EntityManager, request: KeyedRequest, status: number, body: unknown): Promise<void> {
  await (em.isInTransaction() ? em : em.fork()).execute(
    'update idempotency_keys set response_status = ?, response_body = ? where scope = ? and owner_id = ? and `key` = ? and resource_id = ?',
    [status, JSON.stringify(body), request.scope, request.ownerId, request.key, request.resourceId],
    'run',
  );
}

/** Forgets a key whose request left nothing behind (a refusal before any change): a retry may try afresh. */
export async function forgetKey(em: EntityManager, request: KeyedRequest): Promise<void> {
  await em
    .fork()
    .execute('delete from idempotency_keys where scope = ? and owner_id = ? and `key` = ? and resource_id = ?', [request.scope, request.ownerId, request.key, request.resourceId], 'run');
}
