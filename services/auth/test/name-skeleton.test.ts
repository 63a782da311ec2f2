/** The look-alike key of users' names: filled in for users who registered before it existed, and unique. */
import { describe, expect, test } from 'bun:test';
import { openDatabase } from '@bookstore/shared/db';
import { createTestDatabase } from '@bookstore/shared/testing/database';
import { registerUser } from '../src/accounts.ts';
import { entities, User } from '../src/entities.ts';
import { migrations } from '../src/migrations/index.ts';

describe.each(['mariadb', 'sqlite'] as const)('name skeletons on %s', (kind) => {
  test('the migration fills in existing users, keeps look-alikes registered before it apart, and then refuses new look-alikes', async () => {
    const db = await createTestDatabase(kind);
    try {
      const before = migrations.filter((migration) => migration.name < 'Migration20261126000000');
      expect(before.length).toBeLessThan(migrations.length);
      const old = await openDatabase({ url: db.url, entities, migrations: before });
      const insert = 'insert into `users` (`name`, `email`, `password_hash`, `role`, `created_at`) values (?, ?, ?, ?, ?)';
      for (const [name, email] of [['Alice Reader', 'alice@example.test'], ['ALICE  READER', 'alice2@example.test'], ['Bob', 'bob@example.test'], ['★', 'star@example.test']]) {
        await old.em.getConnection().execute(insert, [name, email, 'not-a-hash', 'customer', new Date()]);
      }
      await old.close();

      const orm = await openDatabase({ url: db.url, entities, migrations });
      try {
        const users = await orm.em.fork().find(User, {}, { orderBy: { id: 'asc' } });
        const [alice, twin, bob, star] = users;
        expect(alice!.nameSkeleton).toBe('aiicereader');
        // The later of two look-alikes keeps its name, under a key no new name can have.
        expect(twin!.nameSkeleton).toBe(`aiicereader#${twin!.id}`);
        expect(bob!.nameSkeleton).toBe('bob');
        expect(star!.nameSkeleton).toBe(`#${star!.id}`);
        expect(twin!.name).toBe('ALICE  READER');

        await expect(registerUser(orm.em.fork(), { name: 'alice reader', email: 'alice3@example.test', password: 'long-enough' })).rejects.toMatchObject({ status: 409 });
        // The unique index itself refuses a second row with the same key, whatever the code above it does.
        await expect(
          orm.em.getConnection().execute('update `users` set `name_skeleton` = ? where `id` = ?', ['bob', alice!.id]),
        ).rejects.toThrow();
      } finally {
        await orm.close();
      }
    } finally {
      await db.drop();
    }
  });
});
