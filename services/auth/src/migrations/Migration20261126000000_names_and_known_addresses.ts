/**
 * Users get their name's look-alike key (unique; filled in for existing users), login throttles count
 * attempts in flight apart from failures, and accounts remember the addresses they logged in from.
 */
import { dialectOfPlatform, Migration } from '@bookstore/shared/db';
import { nameSkeleton } from '../names.ts';

export class Migration20261126000000_names_and_known_addresses extends Migration {
  override name = 'Migration20261126000000_names_and_known_addresses';

  override async up() {
    const mysql = dialectOfPlatform(this.driver) === 'mysql';
    await this.execute(
      mysql
        ? "alter table `users` add `name_skeleton` varchar(400) character set utf8mb4 collate utf8mb4_bin not null default ''"
        : "alter table `users` add column `name_skeleton` text not null default ''",
    );
    await this.backfillSkeletons();
    if (mysql) await this.execute('alter table `users` alter `name_skeleton` drop default');
    const statements = mysql
      ? [
          'alter table `users` add unique `users_name_skeleton_unique` (`name_skeleton`)',
          'alter table `login_throttles` add `pending` int not null default 0',
          'create table `known_addresses` (`key` varchar(64) not null, `expires_at` datetime not null, primary key (`key`)) default character set utf8mb4 engine = InnoDB',
          'alter table `known_addresses` add index `known_addresses_expires_at_index` (`expires_at`)',
        ]
      : [
          'create unique index `users_name_skeleton_unique` on `users` (`name_skeleton`)',
          'alter table `login_throttles` add column `pending` integer not null default 0',
          'create table `known_addresses` (`key` text not null primary key, `expires_at` datetime not null)',
          'create index `known_addresses_expires_at_index` on `known_addresses` (`expires_at`)',
        ];
    for (const statement of statements) await this.execute(statement);
  }

  /**
   * Users who registered before names were checked keep their names. The first of several look-alikes
   * keeps the plain key; the later ones get `#<id>` added, a key no new name can have (keys are
   * letters and digits only), so the unique index can be built and every look-alike is refused from
   * now on.
   */
  private async backfillSkeletons() {
    const users = (await this.execute('select `id`, `name` from `users` order by `id`')) as { id: number; name: string }[];
    const taken = new Set<string>();
    for (const user of users) {
      let skeleton = nameSkeleton(user.name);
      if (!skeleton || taken.has(skeleton)) skeleton = `${skeleton}#${user.id}`;
      taken.add(skeleton);
      await this.execute('update `users` set `name_skeleton` = ? where `id` = ?', [skeleton, user.id]);
    }
  }

  override async down() {
    const mysql = dialectOfPlatform(this.driver) === 'mysql';
    await this.execute('drop table if exists `known_addresses`');
    await this.execute('alter table `login_throttles` drop column `pending`');
    await this.execute(mysql ? 'alter table `users` drop index `users_name_skeleton_unique`' : 'drop index `users_name_skeleton_unique`');
    await this.execute('alter table `users` drop column `name_skeleton`');
  }
}
