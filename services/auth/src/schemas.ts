/** Auth's own request shapes; those other packages use too are in the shared contract, re-exported here. */
import { z } from 'zod';
import { registerInput as sharedRegisterInput } from '@bookstore/shared/contracts/auth';
import { displayName } from './names.ts';

export const pageQuery = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});

export const revocationQuery = z.object({ since: z.coerce.number().int().min(0).default(0) });

/** The shared contract's sign-up, with auth's own rules for names (names.ts): no hidden characters, stored normalised. */
export const registerInput = sharedRegisterInput.extend({ name: sharedRegisterInput.shape.name.pipe(displayName) });

export {
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
