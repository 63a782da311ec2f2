/** Orders purchase gave up on: a reserve still running for one backs out instead of holding stock. */
import { Migration, addDialectSql } from '@bookstore/shared/db';

export class Migration20261125020000_order_releases extends Migration {
  override name = 'Migration20261125020000_order_releases';

  up() {
    addDialectSql(this, {
      mysql: ['create table `order_releases` (`order_id` varchar(64) not null, `released_at` datetime not null, primary key (`order_id`)) default character set utf8mb4 engine = InnoDB'],
      sqlite: ['create table `order_releases` (`order_id` text not null primary key, `released_at` datetime not null)'],
    });
  }

  override down() {
    this.addSql('drop table if exists `order_releases`');
  }
}
