/** Reservations keep the book's seller, so purchase can show each sale to its seller. */
import { Migration, addDialectSql } from '@bookstore/shared/db';

export class Migration20261126000000_reservation_sellers extends Migration {
  override name = 'Migration20261126000000_reservation_sellers';

  up() {
    addDialectSql(this, {
      mysql: [
        'alter table `reservations` add `seller_id` int not null default 0',
        'update `reservations` r join `books` b on b.id = r.book_id set r.seller_id = b.seller_id',
      ],
      sqlite: [
        'alter table `reservations` add column `seller_id` integer not null default 0',
        'update `reservations` set `seller_id` = (select `seller_id` from `books` where `books`.`id` = `reservations`.`book_id`)',
      ],
    });
  }

  override down() {
    this.addSql('alter table `reservations` drop column `seller_id`');
  }
}
