/**
 * Login throttling: failures are counted per account and per client address in the database, so every
 * auth replica sees the same counts; past the limit the key is locked for a while and login answers 429.
 */
import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@bookstore/shared/db';
import { LoginThrottle } from './entities.ts';

export interface ThrottlePolicy {
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  lockSeconds: number;
  /** Failures older than this no longer count. */
  windowSeconds: number;
}

export const accountKey = (email: string) => `account:${email}`;
export const addressKey = (address: string) => `address:${address}`;

/** Seconds until the first of `keys` unlocks, or 0 when none is locked. */
export async function lockedFor(em: EntityManager, keys: string[], now = new Date()): Promise<number> {
  const rows = await em.find(LoginThrottle, { key: { $in: keys }, lockedUntil: { $gt: now } }, { connectionType: 'write' });
  const until = Math.max(0, ...rows.map((row) => row.lockedUntil!.getTime()));
  return until ? Math.ceil((until - now.getTime()) / 1000) : 0;
}

/** Counts one failure against `key`; locks it once `limit` failures fall in one window. */
export async function recordFailure(em: EntityManager, key: string, limit: number, policy: ThrottlePolicy, now = new Date()): Promise<void> {
  try {
    await countFailure(em, key, limit, policy, now);
  } catch (error) {
    // Two first failures for the same key raced to insert its row: the loser counts on the winner's.
    if (!(error instanceof UniqueConstraintViolationException)) throw error;
    await countFailure(em, key, limit, policy, now);
  }
}

async function countFailure(em: EntityManager, key: string, limit: number, policy: ThrottlePolicy, now: Date) {
  await em.fork().transactional(async (tx) => {
    const row = await tx.findOne(LoginThrottle, { key }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!row) {
      tx.create(LoginThrottle, { key, failures: 1, windowStartedAt: now, lockedUntil: limit <= 1 ? lockUntil(1, limit, policy, now) : null });
      return;
    }
    if (row.windowStartedAt.getTime() < now.getTime() - policy.windowSeconds * 1000) {
      row.failures = 0;
      row.windowStartedAt = now;
    }
    row.failures += 1;
    if (row.failures >= limit) row.lockedUntil = lockUntil(row.failures, limit, policy, now);
  });
}

// Each failure past the limit doubles the lock, up to the window's length.
function lockUntil(failures: number, limit: number, policy: ThrottlePolicy, now: Date): Date {
  const seconds = Math.min(policy.lockSeconds * 2 ** Math.max(0, failures - limit), policy.windowSeconds);
  return new Date(now.getTime() + seconds * 1000);
}

export async function clearFailures(em: EntityManager, key: string): Promise<void> {
  await em.nativeDelete(LoginThrottle, { key });
}
