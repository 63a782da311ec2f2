/** Purchase's migrations, in order. A new one is appended here. */
import { Migration20261125000000_initial } from './Migration20261125000000_initial.ts';

export const migrations = [Migration20261125000000_initial];
