/** Password hashing: argon2id with OWASP's parameters (m = 19456 KiB, t = 2, p = 1). */
import { availableParallelism } from 'node:os';
import argon2 from 'argon2';

const options = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/**
 * At most one hash per core at a time. Each takes a core for ~30 ms and 19 MiB: more at once only
 * queue inside argon2's threads while holding their memory (auth's resident memory stayed at
 * 176 MB after a login burst, bench/RESULTS.md), and finish no sooner.
 */
const hashSlots = availableParallelism();
let hashing = 0;
const waiting: (() => void)[] = [];

async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (hashing >= hashSlots) await new Promise<void>((resolve) => waiting.push(resolve));
  hashing++;
  try {
    return await work();
  } finally {
    hashing--;
    waiting.shift()?.();
  }
}

export function hashPassword(password: string): Promise<string> {
  return inTurn(() => argon2.hash(password, options));
}

// Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
const decoy = hashPassword(crypto.randomUUID());

/** Whether `password` matches `hash`; with no hash, spends the same time and answers false. */
export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  if (!hash) {
    const decoyHash = await decoy;
    await inTurn(() => argon2.verify(decoyHash, password));
    return false;
  }
  try {
    return await inTurn(() => argon2.verify(hash, password));
  } catch {
    return false;
  }
}
