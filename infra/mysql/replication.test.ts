/**
 * The stack's replication init scripts, run against two real MariaDB servers on this machine
 * (local-pair.ts): they produce a working primary → replica pair, with users that can write only
 * on the primary and only in their own database, and the services use it — writes and migrations
 * on the primary, reads through readWithFallback on the replica, the primary when the replica is down.
 *
 * Needs mariadbd and mariadb-install-db (Debian's mariadb-server); skipped where they are missing.
 * Run: cd /work/main && bun test infra/mysql
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import mysql from 'mysql2/promise';
// infra/ is not a workspace package, so the bare '@bookstore/shared/db' does not resolve from here:
// the same module, by path.
import { openDatabase, readWithFallback, type Orm, type ReadConnection } from '../../shared/src/db.ts';
import { registerUser } from '../../services/auth/src/accounts.ts';
import { entities, User } from '../../services/auth/src/entities.ts';
import { migrations } from '../../services/auth/src/migrations/index.ts';
import { mariadbInstalled, pairServices, startLocalPair, type LocalPair, type PairServer, type PairService } from './local-pair.ts';

const installed = mariadbInstalled();
if (!installed) console.warn('infra/mysql: MariaDB server (mariadbd, mariadb-install-db) not installed here: replication tests skipped');

let pair: LocalPair;
let orm: Orm | undefined;
const opened: mysql.Connection[] = [];

const ER_DBACCESS_DENIED = 1044;
const ER_TABLEACCESS_DENIED = 1142;
const ER_OPTION_PREVENTS_STATEMENT = 1290; // "… is running with the --read-only option …"

async function connectAs(server: PairServer, service: PairService | 'root', database?: string): Promise<mysql.Connection> {
  const port = server === 'primary' ? pair.primaryPort : pair.replicaPort;
  const credentials = service === 'root' ? { user: 'root', password: '' } : pair.users[service];
  const connection = await mysql.createConnection({ host: '127.0.0.1', port, ...credentials, database: database ?? (service === 'root' ? undefined : service) });
  opened.push(connection);
  return connection;
}

/** Polls `check` until it returns true (every 25 ms, up to `timeoutMs`). */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await Bun.sleep(25);
  }
}

async function errnoOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { errno?: number }).errno;
  }
}

const scalar = async (connection: mysql.Connection, sql: string, params: unknown[] = []) => {
  const [rows] = await connection.query(sql, params);
  return Object.values((rows as Record<string, unknown>[])[0] ?? {})[0];
};

describe.skipIf(!installed)('MariaDB primary + replica from the stack init scripts', () => {
  beforeAll(async () => {
    pair = await startLocalPair();
    console.log(`local pair: ready in ${pair.timings.totalMs} ms (datadirs ${pair.timings.installMs} ms, servers up ${pair.timings.serversMs} ms, init scripts ${pair.timings.initScriptsMs} ms)`);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(opened.map((connection) => connection.end()));
    await orm?.close(true).catch(() => {});
    await pair?.stop();
  }, 30_000);

  test('the init scripts leave a running GTID replica that has the databases and users', async () => {
    const status = await pair.replicaStatus();
    expect(status).toMatchObject({ ioRunning: 'Yes', sqlRunning: 'Yes', usingGtid: 'Slave_Pos', lastIoError: '', lastSqlError: '' });
    expect(pair.initOutput.replica).toContain('replication running (IO: Yes, SQL: Yes)');
    const replicaRoot = await connectAs('replica', 'root');
    expect(await scalar(replicaRoot, 'SELECT @@GLOBAL.read_only')).toBe(1);
    const [schemas] = await replicaRoot.query('SELECT schema_name AS name FROM information_schema.schemata ORDER BY 1');
    expect((schemas as { name: string }[]).map((row) => row.name)).toEqual(expect.arrayContaining([...pairServices]));
    const [users] = await replicaRoot.query("SELECT user AS name FROM mysql.user WHERE host = '%' ORDER BY 1");
    expect((users as { name: string }[]).map((row) => row.name)).toEqual(['auth', 'catalog', 'purchase', 'replicator']);
  });

  test("each service's user writes on the primary, and the write reaches the replica", async () => {
    for (const service of pairServices) {
      const primary = await connectAs('primary', service);
      const replica = await connectAs('replica', service);
      const marker = `${service}-${crypto.randomUUID()}`;
      await primary.query('CREATE TABLE IF NOT EXISTS probe (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(100) NOT NULL)');
      await primary.query('INSERT INTO probe (note) VALUES (?)', [marker]);
      await eventually(`${service}'s row on the replica`, async () => Number(await scalar(replica, 'SELECT COUNT(*) FROM probe WHERE note = ?', [marker]).catch(() => 0)) === 1);
    }
  });

  test('application users cannot write on the replica: read_only holds because their grants are database-level', async () => {
    await pair.waitForReplica();
    for (const service of pairServices) {
      const replica = await connectAs('replica', service);
      expect(await errnoOf(replica.query("INSERT INTO probe (note) VALUES ('on the replica')"))).toBe(ER_OPTION_PREVENTS_STATEMENT);
      expect(await errnoOf(replica.query('CREATE TABLE sneaky (id INT)'))).toBe(ER_OPTION_PREVENTS_STATEMENT);
      const [grants] = await replica.query('SHOW GRANTS');
      const global = (grants as Record<string, string>[]).map((row) => Object.values(row)[0]!).filter((grant) => grant.includes(' ON *.* '));
      expect(global.every((grant) => grant.startsWith('GRANT USAGE ON *.*'))).toBe(true);
    }
  });

  test("one service's user cannot read another service's database", async () => {
    for (const server of ['primary', 'replica'] as const) {
      for (const service of pairServices) {
        const connection = await connectAs(server, service);
        for (const other of pairServices.filter((name) => name !== service)) {
          expect(await errnoOf(connection.query(`SELECT * FROM \`${other}\`.probe`))).toBe(ER_TABLEACCESS_DENIED);
          expect(await errnoOf(connection.query(`USE \`${other}\``))).toBe(ER_DBACCESS_DENIED);
        }
      }
    }
  });

  test('the replication user has REPLICATION SLAVE and REPLICATION CLIENT only', async () => {
    const root = await connectAs('primary', 'root');
    const [rows] = await root.query("SHOW GRANTS FOR 'replicator'@'%'");
    const grants = (rows as Record<string, string>[]).map((row) => Object.values(row)[0]!);
    expect(grants).toHaveLength(1);
    // MariaDB 10.5+ spells REPLICATION CLIENT as BINLOG MONITOR.
    expect(grants[0]).toMatch(/^GRANT (REPLICATION SLAVE, (BINLOG MONITOR|REPLICATION CLIENT)|(BINLOG MONITOR|REPLICATION CLIENT), REPLICATION SLAVE) ON \*\.\* TO `replicator`@`%`/);
  });

  test('the init scripts are safe to re-run, and refuse an application user with global privileges', async () => {
    expect(await pair.runInitScript('primary')).toContain('done');
    expect(await pair.runInitScript('replica')).toContain('replication was configured before');
    expect(await pair.replicaStatus()).toMatchObject({ ioRunning: 'Yes', sqlRunning: 'Yes' });

    const root = await connectAs('primary', 'root');
    await root.query("GRANT SELECT ON *.* TO 'catalog'@'%'");
    try {
      const refused = await pair.runInitScript('primary').then(() => 'accepted', (error: Error) => error.message);
      expect(refused).toContain('catalog@% has global privileges');
    } finally {
      await root.query("REVOKE SELECT ON *.* FROM 'catalog'@'%'");
    }
    expect(await pair.runInitScript('primary')).toContain('done');

    // A missing secret or setting is named, before anything is touched.
    const noSecret = await pair.runInitScript('primary', { PURCHASE_DB_PASSWORD_FILE: `${pair.dir}/missing` }).then(() => 'accepted', (error: Error) => error.message);
    expect(noSecret).toContain(`PURCHASE_DB_PASSWORD_FILE: secret file ${pair.dir}/missing does not exist`);
    // An external server whose replicas its provider manages: no replication user, no secret for it.
    const external = await pair.runInitScript('primary', { CREATE_REPLICATION_USER: '0', REPLICATION_PASSWORD_FILE: `${pair.dir}/missing` });
    expect(external).toContain('no replication user (CREATE_REPLICATION_USER=0)');
    const noPrimary = await pair.runInitScript('replica', { PRIMARY_HOST: '' }).then(() => 'accepted', (error: Error) => error.message);
    expect(noPrimary).toContain('PRIMARY_HOST is not set');
  });

  test('a replica holding data it did not replicate is refused, unless it was seeded from a dump (REPLICA_SEEDED=1)', async () => {
    // A replica whose replication was removed but whose data and GTID position are intact: what a
    // replica loaded from a dump of the primary looks like.
    const replicaRoot = await connectAs('replica', 'root');
    await replicaRoot.query('STOP SLAVE');
    await replicaRoot.query('RESET SLAVE ALL');
    const refused = await pair.runInitScript('replica').then(() => 'accepted', (error: Error) => error.message);
    expect(refused).toContain('this replica has never replicated but already holds databases (auth, catalog, purchase)');
    const seeded = await pair.runInitScript('replica', { REPLICA_SEEDED: '1' });
    expect(seeded).toContain('seeded from a dump: replicating from GTID position 0-1-');
    expect(await pair.replicaStatus()).toMatchObject({ ioRunning: 'Yes', sqlRunning: 'Yes', usingGtid: 'Slave_Pos' });
    const primary = await connectAs('primary', 'purchase');
    const marker = `after-seeding-${crypto.randomUUID()}`;
    await primary.query('INSERT INTO probe (note) VALUES (?)', [marker]);
    const replica = await connectAs('replica', 'purchase');
    await eventually('a write after re-seeding on the replica', async () => Number(await scalar(replica, 'SELECT COUNT(*) FROM probe WHERE note = ?', [marker])) === 1);
  });

  test('backup and restore as in the README: a dump of the replica, loaded into the primary, replicates', async () => {
    const dump = `${pair.dir}/backup.sql`;
    const dumped = Bun.spawnSync(
      ['mariadb-dump', '--no-defaults', '-h127.0.0.1', `-P${pair.replicaPort}`, '-uroot', '--single-transaction', '--routines', '--triggers', '--add-drop-database', `--result-file=${dump}`, '--databases', 'catalog', 'purchase'],
      { stderr: 'pipe' },
    );
    expect(dumped.stderr.toString()).toBe('');
    expect(dumped.exitCode).toBe(0);
    const primaryRoot = await connectAs('primary', 'root');
    const rows = Number(await scalar(primaryRoot, 'SELECT COUNT(*) FROM catalog.probe'));
    // Connected before the drop: once it has replicated, a new connection to `catalog` is refused.
    const replicaCatalog = await connectAs('replica', 'catalog');
    await primaryRoot.query('DROP DATABASE catalog');
    await eventually('the drop on the replica', async () => (await errnoOf(replicaCatalog.query('SELECT 1 FROM catalog.probe'))) !== undefined);

    const restored = Bun.spawnSync(['sh', '-c', `mariadb --no-defaults -h127.0.0.1 -P${pair.primaryPort} -uroot < "$0"`, dump], { stderr: 'pipe' });
    expect(restored.stderr.toString()).toBe('');
    expect(restored.exitCode).toBe(0);
    expect(Number(await scalar(primaryRoot, 'SELECT COUNT(*) FROM catalog.probe'))).toBe(rows);
    // Database-level grants outlive DROP DATABASE: the catalog user reads its restored rows on the replica.
    await eventually('the restored rows on the replica', async () => Number(await scalar(replicaCatalog, 'SELECT COUNT(*) FROM catalog.probe').catch(() => -1)) === rows);
  });

  describe('the auth service on the pair', () => {
    test('migrations run on the primary and replicate', async () => {
      orm = await openDatabase({ url: pair.primaryUrl('auth'), readUrls: [pair.replicaUrl('auth')], entities, migrations });
      const primary = await connectAs('primary', 'auth');
      const replica = await connectAs('replica', 'auth');
      expect(Number(await scalar(primary, 'SELECT COUNT(*) FROM mikro_orm_migrations'))).toBe(migrations.length);
      await eventually('the migrations on the replica', async () => Number(await scalar(replica, 'SELECT COUNT(*) FROM mikro_orm_migrations').catch(() => 0)) === migrations.length);
      await eventually('the users table on the replica', async () => (await errnoOf(replica.query('SELECT 1 FROM users LIMIT 1'))) === undefined);
    });

    test('a registered user lands on the primary and replicates', async () => {
      const email = `pair-${crypto.randomUUID()}@example.test`;
      const user = await registerUser(orm!.em.fork(), { name: 'On The Primary', email, password: 'correct horse battery' });
      const primaryRoot = await connectAs('primary', 'root', 'auth');
      expect(await scalar(primaryRoot, 'SELECT id FROM users WHERE email = ?', [email])).toBe(user.id);
      const replica = await connectAs('replica', 'auth');
      await eventually('the user on the replica', async () => (await scalar(replica, 'SELECT id FROM users WHERE email = ?', [email])) === user.id);
    });

    test('readWithFallback reads from the replica: a row only the replica has is counted', async () => {
      await pair.waitForReplica();
      // root has every privilege, so read_only does not stop it; sql_log_bin=0 keeps this row out
      // of the replica's binary log (with gtid_strict_mode a local GTID would break replication).
      const replicaRoot = await connectAs('replica', 'root', 'auth');
      await replicaRoot.query('SET SESSION sql_log_bin = 0');
      await replicaRoot.query(
        "INSERT INTO users (id, name, name_skeleton, email, password_hash, role, created_at) VALUES (1000000, 'Only On The Replica', 'replica-marker-skeleton', 'replica-marker@example.test', 'x', 'customer', UTC_TIMESTAMP())",
      );
      const fromReplica = await readWithFallback(orm!, async (em, connectionType) => ({ used: connectionType, count: await em.count(User, {}, { connectionType }) }));
      const fromPrimary = await orm!.em.fork().count(User, {}, { connectionType: 'write' });
      expect(fromReplica.used).toBe('read');
      expect(fromReplica.count).toBe(fromPrimary + 1);
      expect(await orm!.em.fork().count(User, { email: 'replica-marker@example.test' }, { connectionType: 'write' })).toBe(0);
    });

    test('with the replica stopped, readWithFallback reads from the primary and writes go on', async () => {
      await pair.stopServer('replica');
      const used: ReadConnection[] = [];
      const started = performance.now();
      const result = await readWithFallback(orm!, async (em, connectionType) => {
        used.push(connectionType);
        return em.count(User, {}, { connectionType });
      });
      expect(used).toEqual(['read', 'write']);
      expect(result).toBe(await orm!.em.fork().count(User, {}, { connectionType: 'write' }));
      expect(performance.now() - started).toBeLessThan(5_000);
      const user = await registerUser(orm!.em.fork(), { name: 'Replica Down', email: `down-${crypto.randomUUID()}@example.test`, password: 'correct horse battery' });
      expect(user.id).toBeGreaterThan(0);
    });
  });
});
