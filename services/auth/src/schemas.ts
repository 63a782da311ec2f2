/** Auth's own request shapes; those other packages use too are in the shared contract, re-exported here. */
import { z } from 'zod';
import { publicUser, registerInput as sharedRegisterInput } from '@bookstore/shared/contracts/auth';
import { plainText } from '@bookstore/shared/validation';
import { adminActionKinds, roles } from './entities.ts';
import { displayName } from './names.ts';

export const pageQuery = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});

/** The admin's user list: a page, optionally only users whose name or email contains `q`. */
export const userListQuery = pageQuery.extend({ q: plainText().trim().max(254).optional() });
/** The same for the admin page: anything odd in the address shows the first page of everyone instead of an error. */
export const userListPageQuery = userListQuery.catch({ page: 1, pageSize: 20, q: undefined });

export const userIdParam = z.object({ id: z.coerce.number().int().min(1).max(2 ** 31 - 1) });
export const roleInput = z.object({ role: z.enum(roles) });

export const adminActionsQuery = pageQuery.extend({ targetId: z.coerce.number().int().min(1).max(2 ** 31 - 1).optional() });
export const adminActionsPageQuery = adminActionsQuery.catch({ page: 1, pageSize: 20, targetId: undefined });

/** A user as admins see them: the public fields and whether the account is disabled. */
export const adminUserView = publicUser.extend({ disabledAt: z.string().nullable(), deletedAt: z.string().nullable() });
export type AdminUserView = z.infer<typeof adminUserView>;

export const adminActionView = z.object({
  id: z.number(),
  actorId: z.number().nullable(),
  actorName: z.string(),
  targetId: z.number(),
  targetEmail: z.string(),
  action: z.enum(adminActionKinds),
  detail: z.string(),
  createdAt: z.string(),
});
export type AdminActionView = z.infer<typeof adminActionView>;

export const revocationQuery = z.object({ since: z.coerce.number().int().min(0).default(0) });

const page = { page: z.number().int(), pageSize: z.number().int(), total: z.number().int() };
/** The admin's user list: a page of users, and the search it shows. */
export const adminUserPage = z.object({ items: z.array(adminUserView), ...page, q: z.string().optional() });
export const adminActionPage = z.object({ items: z.array(adminActionView), ...page });
export const revokedSessions = z.object({ revoked: z.number().int() });

/** Auth's public keys (JWKS): Ed25519 keys, the signing one first, the others still accepted while keys rotate. */
export const publishedKeys = z.object({
  keys: z.array(z.looseObject({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), kid: z.string(), alg: z.literal('EdDSA'), use: z.literal('sig') })),
});

/** The shared contract's sign-up, with auth's own rules for names (names.ts): no hidden characters, stored normalised. */
export const registerInput = sharedRegisterInput.extend({ name: sharedRegisterInput.shape.name.pipe(displayName) });

export {
  deleteOwnInput,
  loginFormState,
  loginInput,
  publicUser,
  registerFormState,
  sessionCreated,
  type LoginInput,
  type PublicUser,
  type RegisterInput,
  type SessionCreated,
} from '@bookstore/shared/contracts/auth';
