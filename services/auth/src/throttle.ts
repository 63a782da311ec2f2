/**
 * Throttling of logins and sign-ups, in the database so that all auth replicas share the counts.
 *
 * A login is weighed against several budgets at once (see `logIn` and the README): each counts the
 * failures in its window plus the attempts being checked right now (`pending`). An attempt is let
 * through only if every budget has room for it, so a burst of parallel guesses gets no more password
 * checks than slow ones; a budget full of attempts still in flight answers "retry in a second"
 * without locking; a budget full of failures locks its key, each lock in a row twice as long.
 * A success only gives its slot back: it never counts as a failure.
 */
import { createHash } from 'node:crypto';
import { LockMode, raw } from '@mikro-orm/core';
import { transaction, type EntityManager } from '@bookstore/shared/db';
import { KnownAddress, LoginThrottle } from './entities.ts';

export interface ThrottlePolicy {
  lockSeconds: number;
  /** Failures count for this long from the first one (or from the end of a lock); then the key starts afresh. */
  windowSeconds: number;
}

/** A key and how many failures it may take in a window. */
export interface Budget {
  key: string;
  limit: number;
}

const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex');
export const accountKey = (email: string) => `account:${email}`;
export const addressKey = (address: string) => `address:${address}`;
/** One address guessing one account; hashed, as email and address together may outgrow the column. */
export const accountAtAddressKey = (email: string, address: string) => `pair:${digest(email, address)}`;
export const registrationKey = (address: string) => `register:${address}`;
export const takenEmailKey = (address: string) => `register-taken:${address}`;

/**
 * Lets one attempt through every budget, or none: answers 0 and holds a slot in each (give it back
 * with `recordFailure` or `releaseAttempt`), or the seconds to wait.
 *
 * @example
 * const wait = await admitAttempt(em, [{ key: addressKey(ip), limit: 100 }], policy);
 * if (wait > 0) throw tooMany(wait);
 */
export function admitAttempt(em: EntityManager, budgets: Budget[], policy: ThrottlePolicy, now = new Date()): Promise<number> {
  return withRows(em, budgets, policy, now, (rows) => {
    const wait = Math.max(0, ...budgets.map((budget) => waitFor(rows.get(budget.key)!, budget.limit, policy, now)));
    if (wait === 0) for (const row of rows.values()) row.pending += 1;
    return wait;
  });
}

/** The admitted attempt failed: its slot becomes a failure; a budget that is now full locks its key. */
export function recordFailure(em: EntityManager, budgets: Budget[], policy: ThrottlePolicy, now = new Date()): Promise<void> {
  return withRows(em, budgets, policy, now, (rows) => {
    for (const budget of budgets) {
      const row = rows.get(budget.key)!;
      row.pending = Math.max(0, row.pending - 1);
      row.failures += 1;
      if (row.failures >= budget.limit) lock(row, policy, now);
    }
  });
}

/** The admitted attempt succeeded (or got no answer): its slots are given back; `forgive` keys start afresh. */
export async function releaseAttempt(em: EntityManager, budgets: Budget[], forgive: string[] = []): Promise<void> {
  const keys = budgets.map((budget) => budget.key).filter((key) => !forgive.includes(key));
  if (keys.length) await em.fork().nativeUpdate(LoginThrottle, { key: { $in: keys }, pending: { $gt: 0 } }, { pending: raw('pending - 1') });
  if (forgive.length) await em.fork().nativeDelete(LoginThrottle, { key: { $in: forgive } });
}

/** Spends one attempt of a budget that counts every attempt (sign-ups: each costs a password hash). */
export function spendAttempt(em: EntityManager, budget: Budget, policy: ThrottlePolicy, now = new Date()): Promise<number> {
  return withRows(em, [budget], policy, now, (rows) => {
    const row = rows.get(budget.key)!;
    const wait = waitFor(row, budget.limit, policy, now);
    if (wait > 0) return wait;
    row.failures += 1;
    if (row.failures >= budget.limit) lock(row, policy, now);
    return 0;
  });
}

/** Whether `email` logged in from `address` within the remembered period. */
export async function isKnownAddress(em: EntityManager, email: string, address: string, now = new Date()): Promise<boolean> {
  return (await em.fork().count(KnownAddress, { key: digest(email, address), expiresAt: { $gt: now } }, { connectionType: 'write' })) > 0;
}

/** Remembers that `email` logged in from `address`, for `days`. */
export async function rememberAddress(em: EntityManager, email: string, address: string, days: number, now = new Date()): Promise<void> {
  const expiresAt = new Date(now.getTime() + days * 86_400_000);
  await em.fork().upsert(KnownAddress, { key: digest(email, address), expiresAt });
}

function waitFor(row: LoginThrottle, limit: number, policy: ThrottlePolicy, now: Date): number {
  if (row.lockedUntil && row.lockedUntil > now) return secondsUntil(row.lockedUntil, now);
  if (row.failures >= limit) return lock(row, policy, now);
  // Room only for attempts already being checked: they may all fail, so wait for their answers.
  if (row.failures + row.pending >= limit) return 1;
  return 0;
}

function lock(row: LoginThrottle, policy: ThrottlePolicy, now: Date): number {
  row.lockLevel += 1;
  row.failures = 0;
  const seconds = Math.min(policy.lockSeconds * 2 ** (row.lockLevel - 1), policy.windowSeconds);
  row.lockedUntil = new Date(now.getTime() + seconds * 1000);
  // The next window opens when the lock ends, so the lock level is forgotten only after a window with
  // fewer failures than the limit: a steady attack meets ever longer locks, up to a window each.
  row.windowStartedAt = row.lockedUntil;
  return seconds;
}

/** Runs `work` on the budgets' rows, created if new and locked in key order (no deadlock between logins). */
async function withRows<T>(em: EntityManager, budgets: Budget[], policy: ThrottlePolicy, now: Date, work: (rows: Map<string, LoginThrottle>) => T): Promise<T> {
  const keys = [...new Set(budgets.map((budget) => budget.key))].sort();
  await em
    .fork()
    .createQueryBuilder(LoginThrottle)
    .insert(keys.map((key) => ({ key, failures: 0, pending: 0, windowStartedAt: now, lockedUntil: null, lockLevel: 0 })))
    .onConflict('key')
    .ignore()
    .execute();
  // transaction(): logins at once can deadlock on these rows; the database then asks to run it again.
  return transaction(em, async (tx) => {
    const rows = await tx.find(LoginThrottle, { key: { $in: keys } }, { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { key: 'asc' } });
    const byKey = new Map(rows.map((row) => [row.key, row]));
    for (const key of keys) {
      // Purged between the insert and here: count from nothing.
      if (!byKey.has(key)) byKey.set(key, tx.create(LoginThrottle, { key, failures: 0, pending: 0, windowStartedAt: now, lockedUntil: null, lockLevel: 0 }));
    }
    for (const row of byKey.values()) startNewWindowIfOver(row, policy, now);
    return work(byKey);
  });
}

function startNewWindowIfOver(row: LoginThrottle, policy: ThrottlePolicy, now: Date) {
  if (row.windowStartedAt.getTime() > now.getTime() - policy.windowSeconds * 1000) return;
  row.failures = 0;
  row.lockLevel = 0;
  // Slots are held for a password check, well under a second: any left now were left by a process
  // that died mid-check. (An attempt in flight right now gives back a slot that is no longer there.)
  row.pending = 0;
  row.windowStartedAt = now;
}

function secondsUntil(until: Date, now: Date) {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}
