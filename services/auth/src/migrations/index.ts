/** Auth's migrations, in order. A new one is appended here. */
import { Migration20261125000000_initial } from './Migration20261125000000_initial.ts';
import { Migration20261125010000_lock_level } from './Migration20261125010000_lock_level.ts';

export const migrations = [Migration20261125000000_initial, Migration20261125010000_lock_level];
