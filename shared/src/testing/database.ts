/**
 * A fresh database for one test file: on the MariaDB named by TEST_DATABASE_URL (CI, our machines),
 * else on a MariaDB testcontainer; on the MySQL 8 server named by TEST_MYSQL_URL, when set; or an
 * SQLite file. Dropped again by `drop()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

export type TestDatabaseKind = 'mariadb' | 'mysql' | 'sqlite';

export interface TestDatabase {
  url: string;
  kind: TestDatabaseKind;
  /** Runs SQL as the admin user on this database (to set up a scenario a test needs). */
  query(sql: string, params?: unknown[]): Promise<unknown>;
  drop(): Promise<void>;
}

let serverUrl: Promise<string> | undefined;

/** The MariaDB server tests use: TEST_DATABASE_URL, or a container started once per process. */
function mariadbServer(): Promise<string> {
  serverUrl ??= (async () => {
    if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('mariadb:10.11')
      .withEnvironment({ MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1', MARIADB_DATABASE: 'test' })
      .withExposedPorts(3306)
      .withWaitStrategy(Wait.forLogMessage(/ready for connections/, 2))
      .start();
    return `mariadb://root@${container.getHost()}:${container.getMappedPort(3306)}/test`;
  })();
  return serverUrl;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * @example
 * const db = await createTestDatabase('mariadb');
 * const orm = await openDatabase({ url: db.url, ... });
 * afterAll(() => db.drop());
 */
export async function createTestDatabase(kind: TestDatabaseKind = 'mariadb'): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'bookstore-test-'));
    return {
      kind,
      url: `sqlite:${join(dir, 'test.sqlite')}`,
      query: async () => {
        throw new Error('query() is for MariaDB test databases');
      },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (kind === 'mysql' && !process.env.TEST_MYSQL_URL) throw new Error('a mysql test database needs TEST_MYSQL_URL (mysql://user@host:3306/db)');
  const server = kind === 'mysql' ? process.env.TEST_MYSQL_URL! : await mariadbServer();
  const name = `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = await mysql.createConnection({ uri: server.replace(/^mariadb:/, 'mysql:'), multipleStatements: false });
  await admin.query(`create database \`${name}\` character set utf8mb4 collate utf8mb4_unicode_ci`);
  await admin.query(`use \`${name}\``);
  return {
    kind,
    url: withDatabase(server, name),
    query: async (sql, params) => (await admin.query(sql, params))[0],
    drop: async () => {
      await admin.query(`drop database if exists \`${name}\``);
      await admin.end();
    },
  };
}
