/**
 * The database of one service: MikroORM with the driver picked by URL scheme, read replicas,
 * and migrations applied at start-up under a lock so that replicas starting together take turns.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Database } from 'bun:sqlite';
import { DeadlockException, IsolationLevel, LockWaitTimeoutException, MikroORM, type AnyEntity, type EntitySchema, type Options } from '@mikro-orm/core';
import { MariaDbDriver } from '@mikro-orm/mariadb';
import { Migration, Migrator } from '@mikro-orm/migrations';
import { MySqlDriver } from '@mikro-orm/mysql';
import { SqliteDriver, type EntityManager } from '@mikro-orm/sql';
import { CompiledQuery, SqliteDialect, sql } from 'kysely';
import type { Logger } from './log.ts';

export { Migration };
export type Orm = MikroORM<any, EntityManager>;
type MigrationClass = new (...args: any[]) => Migration;

export interface DatabaseOptions {
  /** `sqlite:./data/auth.sqlite`, `sqlite::memory:`, `mariadb://user:pass@host:3306/auth`, `mysql://…`. */
  url: string;
  /** Read replicas of the same database; reads prefer them. */
  readUrls?: string[];
  entities: EntitySchema<any, any>[];
  migrations: MigrationClass[];
  log?: Logger;
  poolSize?: number;
  /** Longest a statement may run before the database stops it; 0 or unset: no limit. */
  queryTimeoutMs?: number;
}

export type Dialect = 'sqlite' | 'mysql';

export function dialectOf(url: string): Dialect {
  return url.startsWith('sqlite:') ? 'sqlite' : 'mysql';
}

/** The dialect behind an entity manager (or a migration's driver). */
export function dialectOfPlatform(holder: { getPlatform(): object }): Dialect {
  return holder.getPlatform().constructor.name.toLowerCase().includes('sqlite') ? 'sqlite' : 'mysql';
}

/** Kysely's SqliteDialect over bun:sqlite: no native module needed. */
class BunSqliteDialect extends SqliteDialect {
  constructor(path: string) {
    super({
      database: async () => {
        if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        const db = new Database(path, { create: true, strict: true });
        // Owner only: SQLite gives its -wal and -shm files the database file's mode.
        if (path !== ':memory:') chmodSync(path, 0o600);
        db.exec('pragma journal_mode = wal');
        db.exec('pragma busy_timeout = 5000');
        return {
          prepare(query: string) {
            const statement = db.prepare(query);
            return {
              reader: statement.columnNames.length > 0,
              all: (params: readonly unknown[]) => statement.all(...(params as any[])),
              run: (params: readonly unknown[]) => {
                const result = statement.run(...(params as any[]));
                return { changes: result.changes, lastInsertRowid: result.lastInsertRowid };
              },
              iterate: (params: readonly unknown[]) => statement.iterate(...(params as any[])),
            };
          },
          close: () => db.close(),
        };
      },
    });
  }
}

/** Both MySQL drivers speak the mysql wire protocol; the scheme only picks the schema dialect. */
const wireUrl = (url: string) => url.replace(/^mariadb:/, 'mysql:');

function connectionOptions(url: string): Partial<Options> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length) || ':memory:';
    return { driver: SqliteDriver, dbName: path, driverOptions: new BunSqliteDialect(path) } as Partial<Options>;
  }
  const driver = url.startsWith('mariadb://') ? MariaDbDriver : MySqlDriver;
  return { driver, clientUrl: wireUrl(url), driverOptions: { connectTimeout: 3000 } } as Partial<Options>;
}

/**
 * Connects and brings the schema up to date.
 *
 * @example
 * const orm = await openDatabase({ url: config.DATABASE_URL, readUrls: config.DATABASE_READ_URLS,
 *   entities: [User], migrations: [InitialSchema] });
 * const em = orm.em.fork();
 */
export async function openDatabase(options: DatabaseOptions): Promise<Orm> {
  const limited = Boolean(options.queryTimeoutMs) && dialectOf(options.url) === 'mysql';
  const orm = await MikroORM.init(ormOptions(options, limited));
  if (limited) {
    // A migration may rightly run longer than any query should: it gets connections without the limit.
    const migrator = await MikroORM.init(ormOptions({ ...options, readUrls: [], poolSize: 2 }, false)); // one holds the migration lock
    try {
      await migrate(migrator, options.log);
    } finally {
      await migrator.close();
    }
  } else {
    await migrate(orm, options.log);
  }
  return orm as Orm;
}

function ormOptions(options: DatabaseOptions, withStatementTimeout: boolean): Options {
  const readUrls = dialectOf(options.url) === 'sqlite' ? [] : (options.readUrls ?? []);
  return {
    ...connectionOptions(options.url),
    entities: options.entities,
    extensions: [Migrator],
    migrations: { migrationsList: options.migrations, transactional: true, snapshot: false, disableForeignKeys: false },
    replicas: readUrls.map((url, i) => ({ name: `read-${i}`, clientUrl: wireUrl(url) })),
    // Primary by default: a read goes to a replica only where the code asks for it (readWithFallback),
    // so a forgotten flag can never read stale state in a saga step.
    preferReadReplicas: false,
    pool: { min: 0, max: options.poolSize ?? 10 },
    ...(withStatementTimeout ? { onCreateConnection: statementTimeout(options.url, options.queryTimeoutMs!) } : {}),
    allowGlobalContext: false,
    debug: false,
    logger: (message: string) => options.log?.debug(message.replace(/\x1b\[[0-9;]*m/g, '')),
    forceUtcTimezone: true,
    timezone: '+00:00',
  } as Options;
}

/** The database settings of a service's config (see `databaseConfig` in config.ts). */
export interface DatabaseSettings {
  DATABASE_URL: string;
  DATABASE_READ_URLS: string[];
  DATABASE_POOL_SIZE: number;
  DATABASE_QUERY_TIMEOUT_MS: number;
  DATABASE_START_TIMEOUT_MS?: number;
}

/**
 * `openDatabase` with a service's configured settings.
 *
 * @example
 * const orm = await openServiceDatabase(config, { entities, migrations, log });
 */
export async function openServiceDatabase(config: DatabaseSettings, model: Pick<DatabaseOptions, 'entities' | 'migrations' | 'log'>): Promise<Orm> {
  const options = { url: config.DATABASE_URL, readUrls: config.DATABASE_READ_URLS, poolSize: config.DATABASE_POOL_SIZE, queryTimeoutMs: config.DATABASE_QUERY_TIMEOUT_MS, ...model };
  const deadline = Date.now() + (config.DATABASE_START_TIMEOUT_MS ?? 60_000);
  const where = redactedUrl(config.DATABASE_URL);
  for (let attempt = 1; ; attempt++) {
    try {
      return await openDatabase(options);
    } catch (error) {
      // A database not created yet (an init script still running) is waited for like a server that is not up yet.
      if (!isConnectionError(error) && !isMissingDatabase(error)) throw error;
      const reason = (error as Error).message.split('\n')[0]!.slice(0, 200);
      const waitMs = Math.min(5000, 500 * 2 ** (attempt - 1));
      if (Date.now() + waitMs > deadline) {
        // A clear last word instead of a stack trace: the operator sees what and where.
        model.log?.error('database not reachable at start-up; giving up', { database: where, attempts: attempt, reason });
        process.exit(1);
      }
      model.log?.warn('database not reachable at start-up; trying again', { database: where, attempt, inMs: waitMs, reason });
      await Bun.sleep(waitMs);
    }
  }
}

/** A database URL without its password, for logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/^([a-z]+:\/\/[^:/@]*:).*@/i, '$1***@'); // up to the last @: a password may hold / or :
  }
}

/**
 * Sets the statement time limit on each new connection: MariaDB's max_statement_time (seconds, any
 * statement), MySQL 8's max_execution_time (milliseconds, reads only).
 */
function statementTimeout(url: string, ms: number) {
  const statement = url.startsWith('mariadb://') ? `set session max_statement_time = ${ms / 1000}` : `set session max_execution_time = ${Math.round(ms)}`;
  return async (connection: { executeQuery(query: CompiledQuery): Promise<unknown> }) => {
    await connection.executeQuery(CompiledQuery.raw(statement));
  };
}

/**
 * Applies pending migrations. On MySQL/MariaDB a named lock (GET_LOCK) held on one connection makes
 * replicas that start at once run them one after another; the second finds nothing pending.
 */
export async function migrate(orm: MikroORM, log?: Logger): Promise<void> {
  const up = async () => {
    const applied = await orm.migrator.up();
    if (applied.length) log?.info('migrations applied', { migrations: applied.map((m) => m.name) });
  };
  const connection = (orm.em as EntityManager).getConnection();
  // SQLite: one process owns the file, and its transactions already take turns.
  if (dialectOfPlatform(connection) === 'sqlite') return up();
  await connection.initClient();
  const kysely = connection.getClient();
  const lockName = `migrations:${orm.config.get('dbName')}`;
  await kysely.connection().execute(async (db) => {
    const got = await sql<{ ok: number | null }>`select get_lock(${lockName}, 120) as ok`.execute(db);
    if (Number(got.rows[0]?.ok) !== 1) throw new Error('timed out waiting for the migration lock');
    try {
      await up();
    } finally {
      await sql`select release_lock(${lockName})`.execute(db);
    }
  });
}

/**
 * Adds the statements of this migration's dialect: migrations are written once per dialect
 * (MySQL/MariaDB and SQLite), generated from the entities and then reviewed.
 *
 * @example
 * up() { addDialectSql(this, { mysql: ['create table …'], sqlite: ['create table …'] }); }
 */
export function addDialectSql(migration: Migration, statements: Record<Dialect, string[]>): void {
  const dialect = dialectOfPlatform((migration as unknown as { driver: { getPlatform(): object } }).driver);
  for (const statement of statements[dialect]) migration.addSql(statement);
}

/** Is the primary reachable? Used by readiness checks. */
export async function pingPrimary(orm: Orm): Promise<void> {
  await orm.em.getConnection('write').execute('select 1');
}

/** After a replica fails, reads skip replicas for this long before trying them again. */
const replicaPauseMs = 30_000;
/**
 * Longest a replica may take to answer a read before it is treated as down: a replica that hangs
 * (a frozen host, a network that drops packets) would otherwise hold every shopper's page.
 */
const replicaReadMs = 2000;

/** `work`'s result, or a connection-like "timed out" error once `ms` have passed (the work is left to finish). */
function answeredWithin<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`replica read timeout after ${ms} ms`)), ms)));
  work.catch(() => {}); // if it fails after the timeout, nobody is waiting for it
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
const replicasPausedUntil = new WeakMap<Orm, number>();

/** Where a read runs: pass it to every query of a `readWithFallback` callback. */
export type ReadConnection = 'read' | 'write';

/**
 * Runs a read that tolerates replica lag (listings, book pages) on a replica, and, if the replica
 * cannot answer (down, unreachable, or so far behind that it lacks a table, column or index the
 * primary's migrations just added), on the primary instead; replicas are then left alone for 30 s,
 * so an outage costs one failed attempt, not one per request. The callback gets the connection to
 * use and passes it to each query (`{ connectionType }`): every other read goes to the primary.
 *
 * @example
 * const books = await readWithFallback(orm, (em, connectionType) => em.find(Book, {}, { connectionType }));
 */
export async function readWithFallback<T>(orm: Orm, read: (em: EntityManager, connectionType: ReadConnection) => Promise<T>, log?: Logger): Promise<T> {
  const fromPrimary = () => read(orm.em.fork(), 'write');
  if (!hasReplicas(orm) || (replicasPausedUntil.get(orm) ?? 0) > Date.now()) return fromPrimary();
  try {
    return await answeredWithin(replicaReadMs, read(orm.em.fork(), 'read'));
  } catch (error) {
    if (!isConnectionError(error) && !isSchemaBehind(error)) throw error;
    log?.warn('read replica unavailable, reading from primary', { error: (error as Error).message });
    replicasPausedUntil.set(orm, Date.now() + replicaPauseMs);
    return fromPrimary();
  }
}

function hasReplicas(orm: Orm): boolean {
  return (orm.config.get('replicas') ?? []).length > 0;
}

/**
 * Runs `work` in a transaction, again (up to `attempts` times, after a short random pause) when the
 * database chose it as a deadlock victim or a lock wait timed out: InnoDB rolls the whole
 * transaction back then, so running it again is safe and is what the database asks for.
 *
 * @example
 * await transaction(em, async (tx) => { await tx.nativeUpdate(Book, { id }, { stock: raw('stock + 1') }); });
 */
export async function transaction<T>(em: EntityManager, work: (tx: EntityManager) => Promise<T>, options: { attempts?: number; isolationLevel?: IsolationLevel } = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await em.fork().transactional(work, options.isolationLevel ? { isolationLevel: options.isolationLevel } : {});
    } catch (error) {
      if (!isRetryableConflict(error) || attempt >= attempts) throw error;
      await Bun.sleep(5 + Math.random() * 20 * attempt);
    }
  }
}

/** A deadlock or lock wait timeout: the transaction was rolled back and may simply be run again. */
export function isRetryableConflict(error: unknown): boolean {
  if (error instanceof DeadlockException || error instanceof LockWaitTimeoutException) return true;
  const code = (error as { code?: string })?.code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT' || code === 'SQLITE_BUSY';
}

/** The replica has not applied a migration yet: the table, column or index the query names is missing there. */
function isSchemaBehind(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  if (code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_FIELD_ERROR' || code === 'ER_KEY_DOES_NOT_EXITS') return true;
  return /doesn't exist|Unknown column/i.test((error as Error)?.message ?? '');
}

function isMissingDatabase(error: unknown): boolean {
  return (error as { code?: string })?.code === 'ER_BAD_DB_ERROR' || /Unknown database/i.test((error as Error)?.message ?? '');
}

function isConnectionError(error: unknown): boolean {
  const text = `${(error as Error)?.name} ${(error as Error)?.message} ${(error as { code?: string })?.code}`;
  return /Connection|ECONNREFUSED|ETIMEDOUT|PROTOCOL_CONNECTION_LOST|ER_ACCESS_DENIED|timeout/i.test(text);
}

export { IsolationLevel };
export type { AnyEntity, EntityManager };
