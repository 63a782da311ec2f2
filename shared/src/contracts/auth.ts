/** The auth service's contract: what other packages send to it and read from it. */
import { z } from 'zod';
import { userRoles } from '../auth.ts';
import { endpoint } from '../client.ts';
import { plainText } from '../validation.ts';

const email = plainText()
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be a valid email address'))
  .transform((value) => value.toLowerCase())
  .meta({ format: 'email' }); // what the pipe checks, for the OpenAPI document (which shows a pipe's input)

export const registerInput = z.object({
  name: plainText().trim().min(1, 'is required').max(100, 'must be at most 100 characters'),
  email,
  password: plainText().min(8, 'must be at least 8 characters').max(256, 'must be at most 256 characters'),
});
export type RegisterInput = z.infer<typeof registerInput>;

export const loginInput = z.object({
  email: plainText().trim().min(1, 'is required').max(254, 'must be at most 254 characters').transform((value) => value.toLowerCase()),
  password: plainText().min(1, 'is required').max(256, 'must be at most 256 characters'),
});
export type LoginInput = z.infer<typeof loginInput>;

/** Deleting one's own account: the password again, so a token left on a shared computer is not enough. */
export const deleteOwnInput = z.object({ password: plainText().min(1, 'is required').max(256, 'must be at most 256 characters') });
export type DeleteOwnInput = z.infer<typeof deleteOwnInput>;

/** Auth's feed of deleted accounts (service token only), polled like the revocation feed. */
export const deletedUsersFeed = z.object({
  items: z.array(z.object({ userId: z.number().int(), deletedAt: z.number() })),
  serverTime: z.number().int(),
  /** The page was full: ask again from serverTime. */
  more: z.boolean(),
});

export const publicUser = z.object({
  id: z.number(),
  name: z.string(),
  email: z.string(),
  role: z.enum(userRoles),
  createdAt: z.string(),
});
export type PublicUser = z.infer<typeof publicUser>;

export const sessionCreated = z.object({ token: z.string(), expiresAt: z.string(), user: publicUser });
export type SessionCreated = z.infer<typeof sessionCreated>;

/** State of a form fragment the web front asks auth to render. */
/**
 * What a form shows again after a refusal: the values as typed, up to one past the longest a field
 * takes (the web front's cut), so a value refused as too long is shown with that message, not lost.
 */
const typedValue = z.string().max(1001);

export const loginFormState = z.object({
  email: typedValue.optional(),
  error: z.string().max(500).optional(),
  next: z.string().max(500).optional(),
  /** Why the visitor is asked to log in ("Log in to sell books."): one of the web front's fixed sentences. */
  notice: z.string().max(200).optional(),
});
export const registerFormState = z.object({
  name: typedValue.optional(),
  email: typedValue.optional(),
  error: z.string().max(500).optional(),
  errors: z.record(z.string().max(50), z.string().max(200)).optional(),
  /** Where the new user goes once registered (a local path the web front checked). */
  next: z.string().max(500).optional(),
});

export const authApi = {
  register: endpoint({ method: 'POST', path: () => '/api/users', body: registerInput, answer: publicUser, idempotent: false }),
  logIn: endpoint({ method: 'POST', path: () => '/api/sessions', body: loginInput, answer: sessionCreated, idempotent: false }),
  deleteOwnAccount: endpoint({ method: 'DELETE', path: () => '/api/me', body: deleteOwnInput, answer: z.null(), idempotent: false }),
};
