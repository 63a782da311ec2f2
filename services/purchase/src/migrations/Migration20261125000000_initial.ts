/** Purchase's first schema: delivery providers, seeded with the original shop's four carriers. */
import { Migration, addDialectSql } from '@bookstore/shared/db';

const providers = "insert into `delivery_providers` (`name`, `scope`, `price_cents`) values ('DHL', 'international', 5000), ('FedEx', 'international', 4500), ('Envia', 'national', 2000), ('Servientrega', 'national', 1500)";

export class Migration20261125000000_initial extends Migration {
  override name = 'Migration20261125000000_initial';

  up() {
    addDialectSql(this, {
      mysql: [
        "create table `delivery_providers` (`id` int unsigned not null auto_increment primary key, `name` varchar(100) not null, `scope` enum('international','national') not null, `price_cents` int not null) default character set utf8mb4 engine = InnoDB",
        'alter table `delivery_providers` add unique `delivery_providers_name_unique` (`name`)',
        providers,
      ],
      sqlite: [
        "create table `delivery_providers` (`id` integer not null primary key autoincrement, `name` text not null, `scope` text check (`scope` in ('international', 'national')) not null, `price_cents` integer not null)",
        'create unique index `delivery_providers_name_unique` on `delivery_providers` (`name`)',
        providers,
      ],
    });
  }

  override down() {
    this.addSql('drop table if exists `delivery_providers`');
  }
}
