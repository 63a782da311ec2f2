/** Covers: books found by cover file (is a file still shown?), and the log of cover uploads the rate limit counts. */
import { Migration, addDialectSql } from '@bookstore/shared/db';

export class Migration20261128000000_cover_files extends Migration {
  override name = 'Migration20261128000000_cover_files';

  up() {
    addDialectSql(this, {
      mysql: [
        'alter table `books` add index `books_cover_file_index` (`cover_file`)',
        'create table `cover_uploads` (`id` int unsigned not null auto_increment primary key, `user_id` int not null, `uploaded_at` datetime not null) default character set utf8mb4 engine = InnoDB',
        'alter table `cover_uploads` add index `cover_uploads_user_id_uploaded_at_index` (`user_id`, `uploaded_at`)',
      ],
      sqlite: [
        'create index `books_cover_file_index` on `books` (`cover_file`)',
        'create table `cover_uploads` (`id` integer not null primary key autoincrement, `user_id` integer not null, `uploaded_at` datetime not null)',
        'create index `cover_uploads_user_id_uploaded_at_index` on `cover_uploads` (`user_id`, `uploaded_at`)',
      ],
    });
  }

  override down() {
    addDialectSql(this, {
      mysql: ['drop table if exists `cover_uploads`', 'alter table `books` drop index `books_cover_file_index`'],
      sqlite: ['drop table if exists `cover_uploads`', 'drop index `books_cover_file_index`'],
    });
  }
}
