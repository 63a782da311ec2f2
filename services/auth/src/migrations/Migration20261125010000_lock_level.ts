/** Login throttles remember how many times a key was locked in its window, to double each lock. */
import { Migration, addDialectSql } from '@bookstore/shared/db';

export class Migration20261125010000_lock_level extends Migration {
  override name = 'Migration20261125010000_lock_level';

  up() {
    addDialectSql(this, {
      mysql: ['alter table `login_throttles` add `lock_level` int not null default 0'],
      sqlite: ['alter table `login_throttles` add column `lock_level` integer not null default 0'],
    });
  }

  override down() {
    this.addSql('alter table `login_throttles` drop column `lock_level`');
  }
}
