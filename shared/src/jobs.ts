/**
 * Background work every replica runs: a pass repeated on an interval (never overlapping itself,
 * with jitter so replicas spread out), rows claimed with SKIP LOCKED so two replicas never act on
 * one row, and compare-and-set state changes so a step that lost a race changes nothing.
 */
import { LockMode, type EntityName, type FilterQuery } from '@mikro-orm/core';
import { dialectOfPlatform, IsolationLevel, transaction, type EntityManager } from './db.ts';
import type { Logger } from './log.ts';

export interface Job {
  /** Runs one pass now (after the one under way, if any) and resolves when it is done. */
  runNow(): Promise<void>;
  /** No new pass starts; resolves when the one under way has finished. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` every `intervalMs` (± `jitter`, a fraction), one pass at a time. A pass that throws is
 * logged with its error and the next runs as planned. Stop it on SIGTERM (`serve`'s `onStop`).
 *
 * @example
 * const sweeper = every('sweep-orders', 5000, () => sweepOrders(deps), { log });
 * serve(app, { port, log, onStop: () => sweeper.stop() });
 */
export function every(name: string, intervalMs: number, pass: () => Promise<unknown>, options: { log?: Logger; jitter?: number } = {}): Job {
  const jitter = options.jitter ?? 0.2;
  let running: Promise<void> = Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const runOnce = () => {
    running = running.then(async () => {
      if (stopped) return;
      try {
        await pass();
      } catch (error) {
        options.log?.error('background job failed', { job: name, error });
      }
    });
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    const delay = intervalMs * (1 - jitter + Math.random() * 2 * jitter);
    timer = setTimeout(() => void runOnce().then(schedule), delay);
  };
  schedule();

  return {
    runNow: runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** An entity with a lease: `leaseUntil` says until when a claimed row is left to its claimer. */
interface Leased {
  id: string | number;
  leaseUntil?: Date | null;
}

/**
 * Claims up to `limit` due rows for `leaseMs`: rows another replica holds (locked now, or leased and
 * not yet expired) are skipped, so two replicas never get the same row. On MySQL/MariaDB the rows are
 * read with `FOR UPDATE SKIP LOCKED`; SQLite has one writer at a time, which serves the same end.
 * The claimer must finish or give up within the lease; a crashed claimer's rows come due again.
 *
 * @example
 * const orders = await claimDue(em, Order, { status: 'charging', nextAttemptAt: { $lte: now } }, { limit: 20, leaseMs: 30_000 });
 */
export async function claimDue<T extends Leased>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  options: { limit: number; leaseMs: number },
): Promise<T[]> {
  const now = new Date();
  const mysql = dialectOfPlatform(em) === 'mysql';
  const due = { $and: [where, { $or: [{ leaseUntil: null }, { leaseUntil: { $lt: now } }] }] } as FilterQuery<T>;
  return transaction(
    em,
    async (tx) => {
      const skipLocked = mysql ? { lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE } : {};
      // No ORDER BY: a sort would read, and lock, every due row before the limit applies; without
      // it the scan stops at `limit` rows, and replicas claiming at once split the work.
      const rows = await tx.find(entity, due, { limit: options.limit, ...skipLocked } as never);
      if (rows.length === 0) return [];
      const leaseUntil = new Date(now.getTime() + options.leaseMs);
      for (const row of rows) row.leaseUntil = leaseUntil; // written when the transaction commits
      return rows;
    },
    // READ COMMITTED: InnoDB keeps locks only on the rows the claim returns, not on all it looked at.
    mysql ? { isolationLevel: IsolationLevel.READ_COMMITTED } : {},
  );
}

/**
 * Changes a row only if it still is as expected (`UPDATE … WHERE id = ? AND <expected>`); true when it
 * did. The step that loses a race to another (the sweeper, a second click) changes nothing and knows it.
 *
 * @example
 * if (!(await compareAndSet(em, Order, order.id, { status: 'awaiting_payment' }, { status: 'charging' }))) throw notPayable();
 */
export async function compareAndSet<T extends { id: string | number }>(
  em: EntityManager,
  entity: EntityName<T>,
  id: T['id'],
  expected: FilterQuery<T>,
  changes: Partial<T>,
): Promise<boolean> {
  const changed = await em.nativeUpdate(entity, { $and: [{ id }, expected] } as FilterQuery<T>, changes as never);
  return changed === 1;
}
