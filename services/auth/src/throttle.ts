/**
 * Throttling of logins and sign-ups. Every attempt is counted, per key, before the password is
 * checked, in the database so that all auth replicas share the counts. Past the limit the key is
 * locked and answers 429; each further lock in the same window lasts twice as long. Counting first
 * means a burst of parallel guesses gets no more checks than a slow one.
 */
import { DeadlockException, LockMode, raw, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@bookstore/shared/db';
import { LoginThrottle } from './entities.ts';

export interface ThrottlePolicy {
  lockSeconds: number;
  /** Attempts older than this no longer count. */
  windowSeconds: number;
}

export const accountKey = (email: string) => `account:${email}`;
export const addressKey = (address: string) => `address:${address}`;
export const registrationKey = (address: string) => `register:${address}`;

/**
 * Counts one attempt against `key`. Answers 0 when it may go ahead, or the seconds until the key
 * unlocks when it is (or has just become) locked.
 */
export async function countAttempt(em: EntityManager, key: string, limit: number, policy: ThrottlePolicy, now = new Date()): Promise<number> {
  await ensureRow(em, key, now);
  try {
    return await countLocked(em, key, limit, policy, now);
  } catch (error) {
    if (!(error instanceof DeadlockException)) throw error;
    return countLocked(em, key, limit, policy, now);
  }
}

async function ensureRow(em: EntityManager, key: string, now: Date) {
  if (await em.fork().count(LoginThrottle, { key }, { connectionType: 'write' })) return;
  try {
    await em.fork().insert(LoginThrottle, { key, failures: 0, windowStartedAt: now, lockedUntil: null, lockLevel: 0 });
  } catch (error) {
    // Another attempt created it first: fine, there is a row to lock.
    if (!(error instanceof UniqueConstraintViolationException)) throw error;
  }
}

function countLocked(em: EntityManager, key: string, limit: number, policy: ThrottlePolicy, now: Date): Promise<number> {
  return em.fork().transactional(async (tx) => {
    const row = await tx.findOneOrFail(LoginThrottle, { key }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (row.lockedUntil && row.lockedUntil > now) return secondsUntil(row.lockedUntil, now);
    if (row.windowStartedAt.getTime() < now.getTime() - policy.windowSeconds * 1000) {
      row.failures = 0;
      row.lockLevel = 0;
      row.windowStartedAt = now;
    }
    row.failures += 1;
    if (row.failures <= limit) return 0;
    row.failures = 0;
    row.lockLevel += 1;
    const seconds = Math.min(policy.lockSeconds * 2 ** (row.lockLevel - 1), policy.windowSeconds);
    row.lockedUntil = new Date(now.getTime() + seconds * 1000);
    return seconds;
  });
}

function secondsUntil(until: Date, now: Date) {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}

/** A successful login clears its account's count and takes its own attempt off the address. */
export async function forgiveAttempt(em: EntityManager, account: string, address: string): Promise<void> {
  await em.nativeDelete(LoginThrottle, { key: account });
  await em.nativeUpdate(LoginThrottle, { key: address, failures: { $gt: 0 } }, { failures: raw('failures - 1') });
}
