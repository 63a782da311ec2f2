/**
 * What auth owns: users, their sessions, revoked sessions, login counters, the addresses each account
 * logged in from, and the record of what admins did to accounts.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const roles = ['customer', 'admin'] as const;
export type Role = (typeof roles)[number];

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(100),
    /** The name's look-alike key (names.ts): unique, so no one registers a name that passes for another's. */
    nameSkeleton: p.string().length(400).unique(),
    email: p.string().length(254).unique(),
    passwordHash: p.string().length(255).hidden(),
    role: p.enum(roles).default('customer'),
    createdAt: p.datetime().onCreate(() => new Date()),
    /** Set while an admin has disabled the account: it cannot log in, and had its sessions ended. */
    disabledAt: p.datetime().nullable(),
    /**
     * Set when the account is deleted (by its owner or an admin): name, email and password are wiped,
     * it stays disabled for good, and catalog retires its books (the feed of deleted users).
     */
    deletedAt: p.datetime().nullable().index(),
  },
});
export type User = InferEntity<typeof User>;

/** A login. Its id is the token's `sid`; the token dies when the session is revoked or expires. */
export const Session = defineEntity({
  name: 'Session',
  tableName: 'sessions',
  properties: {
    id: p.string().length(36).primary(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
  },
});
export type Session = InferEntity<typeof Session>;

/**
 * The revocation feed other services poll by time. Pollers ask with an overlap of a few seconds,
 * so a revocation whose transaction committed late, or a replica's clock a little off, is not missed.
 */
export const Revocation = defineEntity({
  name: 'Revocation',
  tableName: 'revocations',
  properties: {
    id: p.integer().primary().autoincrement(),
    sessionId: p.string().length(36),
    revokedAt: p.datetime().index(),
    expiresAt: p.datetime().index(),
  },
});
export type Revocation = InferEntity<typeof Revocation>;

/**
 * Failed attempts per key (throttle.ts: account, address, account at an address, sign-ups from an
 * address) in the current window, the attempts being checked right now (`pending`), and the lock
 * that follows too many failures: `lockLevel` counts locks in a row, each twice as long.
 */
export const LoginThrottle = defineEntity({
  name: 'LoginThrottle',
  tableName: 'login_throttles',
  properties: {
    key: p.string().length(300).primary(),
    failures: p.integer(),
    windowStartedAt: p.datetime(),
    lockedUntil: p.datetime().nullable(),
    lockLevel: p.integer().default(0),
    pending: p.integer().default(0),
  },
});
export type LoginThrottle = InferEntity<typeof LoginThrottle>;

/**
 * An address an account logged in from, remembered for a while: the account's own budget of
 * failures (which strangers can spend) does not apply there. The key is a hash of email and address,
 * so the table is no log of where people log in from.
 */
export const KnownAddress = defineEntity({
  name: 'KnownAddress',
  tableName: 'known_addresses',
  properties: {
    key: p.string().length(64).primary(),
    expiresAt: p.datetime().index(),
  },
});
export type KnownAddress = InferEntity<typeof KnownAddress>;

export const adminActionKinds = ['disable', 'enable', 'set-role', 'revoke-sessions', 'delete'] as const;
export type AdminActionKind = (typeof adminActionKinds)[number];

/**
 * What an admin (or an operator at the command line: no `actorId`) did to an account, written in the
 * same transaction as the change. Names and email are copied, so the record still reads after an
 * account is renamed; a deleted account's email leaves the record too (administration.ts).
 */
export const AdminAction = defineEntity({
  name: 'AdminAction',
  tableName: 'admin_actions',
  properties: {
    id: p.integer().primary().autoincrement(),
    actorId: p.integer().nullable(),
    actorName: p.string().length(150),
    targetId: p.integer().index(),
    targetEmail: p.string().length(254),
    action: p.enum(adminActionKinds),
    detail: p.string().length(500),
    createdAt: p.datetime().index(),
  },
});
export type AdminAction = InferEntity<typeof AdminAction>;

export const entities = [User, Session, Revocation, LoginThrottle, KnownAddress, AdminAction];
