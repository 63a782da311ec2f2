/** Accounts can be disabled, and what admins do to accounts is recorded (`admin_actions`). */
import { Migration, addDialectSql } from '@bookstore/shared/db';

export class Migration20261127000000_account_administration extends Migration {
  override name = 'Migration20261127000000_account_administration';

  up() {
    addDialectSql(this, {
      mysql: [
        'alter table `users` add `disabled_at` datetime null',
        "create table `admin_actions` (`id` int unsigned not null auto_increment primary key, `actor_id` int null, `actor_name` varchar(150) not null, `target_id` int not null, `target_email` varchar(254) not null, `action` enum('disable','enable','set-role','revoke-sessions') not null, `detail` varchar(500) not null, `created_at` datetime not null) default character set utf8mb4 engine = InnoDB",
        'alter table `admin_actions` add index `admin_actions_target_id_index` (`target_id`)',
        'alter table `admin_actions` add index `admin_actions_created_at_index` (`created_at`)',
      ],
      sqlite: [
        'alter table `users` add column `disabled_at` datetime null',
        "create table `admin_actions` (`id` integer not null primary key autoincrement, `actor_id` integer null, `actor_name` text not null, `target_id` integer not null, `target_email` text not null, `action` text check (`action` in ('disable', 'enable', 'set-role', 'revoke-sessions')) not null, `detail` text not null, `created_at` datetime not null)",
        'create index `admin_actions_target_id_index` on `admin_actions` (`target_id`)',
        'create index `admin_actions_created_at_index` on `admin_actions` (`created_at`)',
      ],
    });
  }

  override down() {
    this.addSql('drop table if exists `admin_actions`');
    this.addSql('alter table `users` drop column `disabled_at`');
  }
}
