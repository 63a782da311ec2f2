/**
 * What admins do to accounts: disable, enable, change the role, end every session; each recorded in
 * `admin_actions` in the same transaction as the change. Also the listings admins read: users (with
 * search) and that record.
 *
 * Ending a session publishes it on the revocation feed, so a disabled or demoted user's tokens are
 * refused by every service within the feed's delay (about 2 s), as after a logout: a demoted user's
 * token still carries the old role, so a role change ends the sessions too. Logins lock the user's
 * row while they open a session (accounts.ts), and so do these actions, so no login slips in between
 * the change and the sessions it ends.
 *
 * Deleting an account (by an admin, or by its owner: accounts.ts) wipes its name, email and
 * password, ends its sessions and keeps it disabled for good; the record keeps only its id. Other
 * services learn of it from the feed of deleted users (`deletedUsersSince`): catalog retires the
 * deleted seller's books.
 */
import { LockMode } from '@mikro-orm/core';
import { readWithFallback, transaction, type EntityManager, type Orm, type ReadConnection } from '@bookstore/shared/db';
import type { Logger } from '@bookstore/shared/log';
import { serviceTokenHeader } from '@bookstore/shared/auth';
import { createServiceClient } from '@bookstore/shared/client';
import { purchaseApi } from '@bookstore/shared/contracts/purchase';
import { createHttpClient, ServiceUnavailableError } from '@bookstore/shared/http';
import { ProblemError } from '@bookstore/shared/errors';
import { AdminAction, Revocation, Session, User, type AdminActionKind, type Role } from './entities.ts';
import type { AdminActionView, AdminUserView } from './schemas.ts';

/** Who acts: an admin (their user id and name), or an operator at the command line (no id). */
export interface Actor {
  id: number | null;
  name: string;
}

export type AccountChange =
  | { kind: 'disable' }
  | { kind: 'enable' }
  | { kind: 'set-role'; role: Role }
  | { kind: 'revoke-sessions' }
  /** `own`: the owner deletes their own account (after giving their password, accounts.ts). */
  | { kind: 'delete'; own?: boolean };

export interface ChangeResult {
  user: User;
  /** Sessions ended by this change. */
  revoked: number;
}

/**
 * Asks purchase how many items of a seller's books are still owed to buyers (awaiting payment, or
 * paid and not shipped). Deleting an account that still owes some would leave its buyers with
 * nobody to ship them; without this (tests of auth alone) that check is skipped.
 */
export type OpenSaleItems = (userId: number) => Promise<number>;

/** `OpenSaleItems` asked of purchase at `baseUrl` with the service token; purchase not answering is a 503. */
export function openSaleItemsAt(baseUrl: string, serviceToken: string, timeoutMs = 2000): OpenSaleItems {
  const purchase = createServiceClient(createHttpClient({ service: 'purchase', baseUrl, timeoutMs, headers: { [serviceTokenHeader]: serviceToken } }));
  return async (sellerId) => {
    const outcome = await purchase.call(purchaseApi.openItems, { params: { sellerId } });
    if (outcome.kind !== 'ok') throw new ServiceUnavailableError('purchase', outcome.kind === 'problem' ? `open items answered ${outcome.status}` : outcome.reason);
    return outcome.value.items;
  };
}

/**
 * Applies one change to the account `targetId`: 404 when there is none, 409 when an admin would
 * disable or demote themselves or leave the shop without an enabled admin. A change to what already
 * is (disabling a disabled account) does nothing and records nothing. Deleting, given
 * `openSaleItems`, is refused (409) while the account's books still owe buyers something.
 *
 * @example
 * await changeAccount(em, { id: admin.userId, name: admin.name }, 42, { kind: 'set-role', role: 'customer' });
 */
export async function changeAccount(em: EntityManager, actor: Actor, targetId: number, change: AccountChange, options: { openSaleItems?: OpenSaleItems } = {}): Promise<ChangeResult> {
  if (change.kind === 'delete' && options.openSaleItems) {
    const owed = await options.openSaleItems(targetId);
    if (owed > 0) {
      const items = owed === 1 ? '1 sold item' : `${owed} sold items`;
      throw new ProblemError(409, change.own
        ? `You still have ${items} to ship or awaiting the buyer's payment. Ship them (paid orders) or wait until they are paid, cancelled or expire, then delete your account.`
        : `This account still has ${items} to ship or awaiting the buyer's payment: they must be shipped, cancelled or expire before it can be deleted.`);
    }
  }
  // Read before the transaction, whose first plain read would otherwise fix its snapshot too early.
  const role = (await em.fork().findOne(User, { id: targetId }, { fields: ['role'], connectionType: 'write' }))?.role;
  return transaction(em, (tx) => applyChange(tx, actor, targetId, change, role));
}

/** `roleBefore`: the account's role read just before; admins' rows are locked only when it is an admin's. */
async function applyChange(tx: EntityManager, actor: Actor, targetId: number, change: AccountChange, roleBefore: Role | undefined): Promise<ChangeResult> {
  const removesAdmin = change.kind === 'disable' || change.kind === 'delete' || (change.kind === 'set-role' && change.role !== 'admin');
  if (removesAdmin && actor.id === targetId && !(change.kind === 'delete' && change.own)) throw new ProblemError(409, ownAccountRefusals[change.kind]!);
  // Taking away an admin locks every enabled admin (in id order), so two admins demoting each other at
  // once cannot both succeed and leave no admin. A customer's change locks that customer's row alone.
  const adminsLocked = removesAdmin && roleBefore === 'admin';
  if (adminsLocked) await lockEnabledAdmins(tx);
  const user = await tx.findOne(User, { id: targetId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
  if (!user) throw new ProblemError(404, 'There is no such user');
  if (user.deletedAt) {
    if (change.kind === 'delete') return { user, revoked: 0 };
    throw new ProblemError(409, 'This account was deleted: there is nothing left to change');
  }
  if (removesAdmin && user.role === 'admin' && !user.disabledAt) {
    // Promoted meanwhile (read as a customer above): the admins' rows are locked now instead.
    if (!adminsLocked) await lockEnabledAdmins(tx);
    const others = await tx.count(User, { role: 'admin', disabledAt: null, id: { $ne: user.id } });
    if (others === 0) throw new ProblemError(409, 'This is the only enabled administrator: make another one first');
  }

  const now = new Date();
  let detail: string;
  let revoked = 0;
  switch (change.kind) {
    case 'disable':
      if (user.disabledAt) return { user, revoked };
      user.disabledAt = now;
      revoked = await endSessions(tx, user.id, now);
      detail = sessionsEnded(revoked);
      break;
    case 'enable':
      if (!user.disabledAt) return { user, revoked };
      user.disabledAt = null;
      detail = 'can log in again';
      break;
    case 'set-role':
      if (user.role === change.role) return { user, revoked };
      detail = `${user.role} → ${change.role}`;
      user.role = change.role;
      revoked = await endSessions(tx, user.id, now);
      detail += `; ${sessionsEnded(revoked)}`;
      break;
    case 'revoke-sessions':
      revoked = await endSessions(tx, user.id, now);
      detail = sessionsEnded(revoked);
      break;
    case 'delete':
      revoked = await endSessions(tx, user.id, now);
      wipe(user, now);
      // Earlier entries of the record named the account by its email: it goes from them too.
      await tx.nativeUpdate(AdminAction, { targetId: user.id }, { targetEmail: user.email });
      detail = `${change.own ? 'deleted by its owner' : 'deleted'}; ${sessionsEnded(revoked)}`;
      break;
  }
  record(tx, actor, user, change.kind, detail, now);
  return { user, revoked };
}

const ownAccountRefusals: Partial<Record<AccountChange['kind'], string>> = {
  disable: 'You cannot disable your own account',
  'set-role': 'You cannot change the role of your own account',
  delete: 'You cannot delete your own account here: use "Delete my account" on your account page',
};

/**
 * What is left of a deleted account: its id (orders and books refer to it) and nothing that names
 * a person. The email and look-alike key are unique, so each gets the id, in a form no sign-up can
 * have; no password opens it.
 */
function wipe(user: User, now: Date) {
  user.name = 'Deleted user';
  // Not an email address at all, so no sign-up can take it first and make the deletion fail.
  user.email = `deleted-${user.id}`;
  // Never a real name's key: those hold letters and digits only (names.ts).
  user.nameSkeleton = `deleted:${user.id}`;
  user.passwordHash = '';
  user.disabledAt ??= now;
  user.deletedAt = now;
}

/** Locks every enabled admin's row, in id order (so two changes taking them cannot deadlock). */
function lockEnabledAdmins(tx: EntityManager) {
  return tx.find(User, { role: 'admin', disabledAt: null }, { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } });
}

/** Ends every live session of a user and publishes each on the revocation feed; returns how many. */
async function endSessions(tx: EntityManager, userId: number, now: Date): Promise<number> {
  const sessions = await tx.find(Session, { user: userId, revokedAt: null, expiresAt: { $gt: now } }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  for (const session of sessions) {
    session.revokedAt = now;
    tx.create(Revocation, { sessionId: session.id, revokedAt: now, expiresAt: session.expiresAt });
  }
  return sessions.length;
}

function record(tx: EntityManager, actor: Actor, target: User, action: AdminActionKind, detail: string, at: Date) {
  tx.create(AdminAction, { actorId: actor.id, actorName: actor.name.slice(0, 150), targetId: target.id, targetEmail: target.email, action, detail, createdAt: at });
}

/** "1 session ended", "3 sessions ended". */
export function sessionsEnded(count: number): string {
  return `${count} ${count === 1 ? 'session' : 'sessions'} ended`;
}

export function toAdminUserView(user: User): AdminUserView {
  return {
    id: user.id,
    name: user.name,
    email: user.email,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
    disabledAt: user.disabledAt ? user.disabledAt.toISOString() : null,
    deletedAt: user.deletedAt ? user.deletedAt.toISOString() : null,
  };
}

function toAdminActionView(row: AdminAction): AdminActionView {
  return {
    id: row.id,
    actorId: row.actorId ?? null,
    actorName: row.actorName,
    targetId: row.targetId,
    targetEmail: row.targetEmail,
    action: row.action,
    detail: row.detail,
    createdAt: row.createdAt.toISOString(),
  };
}

export interface ListingOptions {
  /** Read the primary: the admin just changed something and must see it (else a replica, if any). */
  primary?: boolean;
  log?: Logger;
}

/** Users, newest first, optionally those whose name or email contains `q`. */
export function listUsers(orm: Orm, { page, pageSize, q }: { page: number; pageSize: number; q?: string }, options: ListingOptions = {}) {
  return readListing(orm, options, async (em, connectionType) => {
    const query = em.createQueryBuilder(User, 'u', connectionType).orderBy({ id: 'desc' }).limit(pageSize).offset((page - 1) * pageSize);
    if (q) {
      const pattern = likePattern(q);
      query.where("(u.name like ? escape '!' or u.email like ? escape '!')", [pattern, pattern]);
    }
    const [items, total] = await query.getResultAndCount();
    return { items: items.map(toAdminUserView), page, pageSize, total, q };
  });
}

/** The record of admin actions, newest first, optionally on one account. */
export function listAdminActions(orm: Orm, { page, pageSize, targetId }: { page: number; pageSize: number; targetId?: number }, options: ListingOptions = {}) {
  return readListing(orm, options, async (em, connectionType) => {
    const where = targetId ? { targetId } : {};
    const [items, total] = await em.findAndCount(AdminAction, where, { orderBy: { id: 'desc' }, limit: pageSize, offset: (page - 1) * pageSize, connectionType });
    return { items: items.map(toAdminActionView), page, pageSize, total };
  });
}

function readListing<T>(orm: Orm, options: ListingOptions, read: (em: EntityManager, connectionType: ReadConnection) => Promise<T>): Promise<T> {
  return options.primary ? read(orm.em.fork(), 'write') : readWithFallback(orm, read, options.log);
}

/** `%` and `_` typed into a search are text, not LIKE patterns (escaped with `!`, which both dialects accept). */
function likePattern(text: string): string {
  return `%${text.replace(/[!%_]/g, (character) => `!${character}`)}%`;
}
