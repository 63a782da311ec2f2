/** Auth's first schema: users, sessions, the revocation log and login throttles. */
import { Migration, addDialectSql } from '@bookstore/shared/db';

export class Migration20261125000000_initial extends Migration {
  override name = 'Migration20261125000000_initial';

  up() {
    addDialectSql(this, {
      mysql: [
        "create table `users` (`id` int unsigned not null auto_increment primary key, `name` varchar(100) not null, `email` varchar(254) not null, `password_hash` varchar(255) not null, `role` enum('customer','admin') not null default 'customer', `created_at` datetime not null) default character set utf8mb4 engine = InnoDB",
        'alter table `users` add unique `users_email_unique` (`email`)',
        'create table `sessions` (`id` varchar(36) not null, `user_id` int unsigned not null, `created_at` datetime not null, `expires_at` datetime not null, `revoked_at` datetime null, primary key (`id`)) default character set utf8mb4 engine = InnoDB',
        'alter table `sessions` add index `sessions_user_id_index` (`user_id`)',
        'alter table `sessions` add constraint `sessions_user_id_foreign` foreign key (`user_id`) references `users` (`id`) on delete cascade',
        'create table `revocations` (`id` int unsigned not null auto_increment primary key, `session_id` varchar(36) not null, `revoked_at` datetime not null, `expires_at` datetime not null) default character set utf8mb4 engine = InnoDB',
        'alter table `revocations` add index `revocations_revoked_at_index` (`revoked_at`)',
        'alter table `revocations` add index `revocations_expires_at_index` (`expires_at`)',
        'create table `login_throttles` (`key` varchar(300) not null, `failures` int not null, `window_started_at` datetime not null, `locked_until` datetime null, primary key (`key`)) default character set utf8mb4 engine = InnoDB',
      ],
      sqlite: [
        "create table `users` (`id` integer not null primary key autoincrement, `name` text not null, `email` text not null, `password_hash` text not null, `role` text check (`role` in ('customer', 'admin')) not null default 'customer', `created_at` datetime not null)",
        'create unique index `users_email_unique` on `users` (`email`)',
        'create table `sessions` (`id` text not null primary key, `user_id` integer not null, `created_at` datetime not null, `expires_at` datetime not null, `revoked_at` datetime null, constraint `sessions_user_id_foreign` foreign key (`user_id`) references `users` (`id`) on delete cascade)',
        'create index `sessions_user_id_index` on `sessions` (`user_id`)',
        'create table `revocations` (`id` integer not null primary key autoincrement, `session_id` text not null, `revoked_at` datetime not null, `expires_at` datetime not null)',
        'create index `revocations_revoked_at_index` on `revocations` (`revoked_at`)',
        'create index `revocations_expires_at_index` on `revocations` (`expires_at`)',
        'create table `login_throttles` (`key` text not null primary key, `failures` integer not null, `window_started_at` datetime not null, `locked_until` datetime null)',
      ],
    });
  }

  override down() {
    for (const table of ['login_throttles', 'revocations', 'sessions', 'users']) this.addSql(`drop table if exists \`${table}\``);
  }
}
