/** Auth's migrations, in order. A new one is appended here. */
import { Migration20261125000000_initial } from './Migration20261125000000_initial.ts';
import { Migration20261125010000_lock_level } from './Migration20261125010000_lock_level.ts';
import { Migration20261126000000_names_and_known_addresses } from './Migration20261126000000_names_and_known_addresses.ts';
import { Migration20261127000000_account_administration } from './Migration20261127000000_account_administration.ts';
import { Migration20261128000000_account_deletion } from './Migration20261128000000_account_deletion.ts';

export const migrations = [
  Migration20261125000000_initial,
  Migration20261125010000_lock_level,
  Migration20261126000000_names_and_known_addresses,
  Migration20261127000000_account_administration,
  Migration20261128000000_account_deletion,
];
