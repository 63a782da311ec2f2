/** Demo accounts for the embedded default: an admin and two sellers, created once. */
import type { EntityManager } from '@bookstore/shared/db';
import { registerUser } from './accounts.ts';
import { User } from './entities.ts';

export const demoAccounts = [
  { name: 'Ada Admin', email: 'admin@bookstore.test', password: 'admin-demo-pass', role: 'admin' },
  { name: 'Alice Reader', email: 'alice@bookstore.test', password: 'alice-demo-pass', role: 'customer' },
  { name: 'Bob Bookseller', email: 'bob@bookstore.test', password: 'bob-demo-pass', role: 'customer' },
] as const;

export async function seedDemoAccounts(em: EntityManager): Promise<number> {
  let created = 0;
  for (const account of demoAccounts) {
    if (await em.count(User, { email: account.email })) continue;
    await registerUser(em.fork(), account, account.role);
    created++;
  }
  return created;
}
