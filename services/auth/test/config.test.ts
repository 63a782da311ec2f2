/** Login throttling limits come from the environment, with defaults that stop guessing and spare offices. */
import { expect, test } from 'bun:test';
import { authConfigSchema } from '../src/config.ts';

const limits = authConfigSchema.pick({
  LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: true,
  LOGIN_MAX_FAILURES_PER_ACCOUNT: true,
  LOGIN_MAX_FAILURES_PER_ADDRESS: true,
  LOGIN_LOCK_SECONDS: true,
  LOGIN_WINDOW_SECONDS: true,
  LOGIN_KNOWN_ADDRESS_DAYS: true,
});

test('the defaults: one guesser is stopped soon, the account budget is larger, an address larger still', () => {
  const defaults = limits.parse({});
  expect(defaults).toEqual({
    LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: 5,
    LOGIN_MAX_FAILURES_PER_ACCOUNT: 50,
    LOGIN_MAX_FAILURES_PER_ADDRESS: 100,
    LOGIN_LOCK_SECONDS: 60,
    LOGIN_WINDOW_SECONDS: 900,
    LOGIN_KNOWN_ADDRESS_DAYS: 30,
  });
});

test('limits are read from the environment, and a limit of nothing is refused', () => {
  expect(limits.parse({ LOGIN_MAX_FAILURES_PER_ADDRESS: '500', LOGIN_WINDOW_SECONDS: '3600' })).toMatchObject({ LOGIN_MAX_FAILURES_PER_ADDRESS: 500, LOGIN_WINDOW_SECONDS: 3600 });
  for (const name of ['LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS', 'LOGIN_MAX_FAILURES_PER_ACCOUNT', 'LOGIN_MAX_FAILURES_PER_ADDRESS', 'LOGIN_LOCK_SECONDS']) {
    expect(limits.safeParse({ [name]: '0' }).success).toBe(false);
  }
});
