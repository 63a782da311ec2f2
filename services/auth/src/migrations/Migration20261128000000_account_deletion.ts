/** Accounts can be deleted (`users.deleted_at`), and a deletion is one of the recorded admin actions. */
import { Migration, addDialectSql } from '@bookstore/shared/db';

export class Migration20261128000000_account_deletion extends Migration {
  override name = 'Migration20261128000000_account_deletion';

  up() {
    addDialectSql(this, {
      mysql: [
        'alter table `users` add `deleted_at` datetime null',
        'alter table `users` add index `users_deleted_at_index` (`deleted_at`)',
        "alter table `admin_actions` modify `action` enum('disable','enable','set-role','revoke-sessions','delete') not null",
      ],
      // SQLite cannot change a check constraint: the table is copied into one with the new check.
      sqlite: [
        'alter table `users` add column `deleted_at` datetime null',
        'create index `users_deleted_at_index` on `users` (`deleted_at`)',
        "create table `admin_actions_new` (`id` integer not null primary key autoincrement, `actor_id` integer null, `actor_name` text not null, `target_id` integer not null, `target_email` text not null, `action` text check (`action` in ('disable', 'enable', 'set-role', 'revoke-sessions', 'delete')) not null, `detail` text not null, `created_at` datetime not null)",
        'insert into `admin_actions_new` select `id`, `actor_id`, `actor_name`, `target_id`, `target_email`, `action`, `detail`, `created_at` from `admin_actions`',
        'drop table `admin_actions`',
        'alter table `admin_actions_new` rename to `admin_actions`',
        'create index `admin_actions_target_id_index` on `admin_actions` (`target_id`)',
        'create index `admin_actions_created_at_index` on `admin_actions` (`created_at`)',
      ],
    });
  }

  override down() {
    this.addSql('alter table `users` drop column `deleted_at`');
  }
}
