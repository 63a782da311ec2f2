/**
 * The databases `bun run start` gives the three services that have one. Without DATABASE_URL each
 * keeps its own SQLite file under ./data. With DATABASE_URL naming a MySQL/MariaDB server, each gets
 * its own database there, `<name>_auth`, `<name>_catalog`, `<name>_purchase`, created when missing
 * (no service reads another's tables, and each keeps its own migrations table). AUTH_DATABASE_URL,
 * CATALOG_DATABASE_URL or PURCHASE_DATABASE_URL gives one service exactly the database named instead.
 * Whatever cannot be used is refused before any process starts, naming the server, never the password.
 */
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';

export const servicesWithDatabase = ['auth', 'catalog', 'purchase'] as const;
export type ServiceWithDatabase = (typeof servicesWithDatabase)[number];

/** A setting `bun run start` cannot use; its message is meant for the person who typed the command. */
export class UnusableDatabase extends Error {}

export interface ServiceDatabase {
  service: ServiceWithDatabase;
  /** The variable the URL came from (for messages): DATABASE_URL, AUTH_DATABASE_URL, … */
  variable: string;
  /** Unset: the service's own SQLite file under ./data. */
  url?: string;
}

const defaultName = 'bookstore';
const longestSuffix = Math.max(...servicesWithDatabase.map((service) => service.length + 1));
const connectTimeoutMs = 3000;

/**
 * Which database each service gets, from the runner's environment; throws UnusableDatabase for a
 * value it cannot use (checked without connecting).
 *
 * @example
 * plannedDatabases({ DATABASE_URL: 'mariadb://root@127.0.0.1:3306/shop' })[0]!.url; // 'mariadb://root@127.0.0.1:3306/shop_auth'
 */
export function plannedDatabases(env: Record<string, string | undefined>): ServiceDatabase[] {
  if (setting(env, 'DATABASE_READ_URLS')) {
    throw new UnusableDatabase('DATABASE_READ_URLS is not used by `bun run start` (no read replicas here): unset it. `bun run rehearse` runs the shop with a replica.');
  }
  const server = setting(env, 'DATABASE_URL');
  if (server !== undefined && !isMysqlUrl(server)) {
    throw new UnusableDatabase(
      'DATABASE_URL must name a MySQL or MariaDB server (mysql://user:password@host:3306/name or mariadb://…): `bun run start` gives each service its own database there.\nUnset it to keep the SQLite files under ./data.',
    );
  }
  return servicesWithDatabase.map((service) => {
    const variable = `${service.toUpperCase()}_DATABASE_URL`;
    const own = setting(env, variable);
    if (own !== undefined) {
      if (!/^(sqlite:|mysql:\/\/|mariadb:\/\/)/.test(own)) throw new UnusableDatabase(`${variable} must start with sqlite:, mysql:// or mariadb://.`);
      if (isMysqlUrl(own) && !databaseName(own, variable, 0)) throw new UnusableDatabase(`${variable} must name a database: ${own.split('://')[0]}://user:password@host:3306/name.`);
      return { service, variable, url: own };
    }
    if (server === undefined) return { service, variable: 'DATABASE_URL' };
    const url = parsedUrl(server);
    url.pathname = `/${databaseName(server, 'DATABASE_URL', longestSuffix) || defaultName}_${service}`;
    return { service, variable: 'DATABASE_URL', url: url.toString() };
  });
}

/**
 * Connects to each MySQL/MariaDB server of the plan and creates the databases that are missing.
 * Returns one line per database created; throws UnusableDatabase when a server cannot be reached,
 * refuses the login, or the user may not create what is missing (naming the SQL an administrator runs).
 */
export async function prepareDatabases(plan: ServiceDatabase[]): Promise<string[]> {
  const created: string[] = [];
  const onServer = Map.groupBy(
    plan.filter((entry) => entry.url && isMysqlUrl(entry.url)),
    (entry) => serverOf(entry.url!),
  );
  for (const entries of onServer.values()) {
    const { url, variable } = entries[0]! as Required<ServiceDatabase>;
    const where = hostAndPort(url);
    const names = entries.map((entry) => databaseName(entry.url!, entry.variable, 0));
    const connection = await connect(url, variable);
    try {
      const [rows] = await connection.query('select schema_name as name from information_schema.schemata where schema_name in (?)', [names]);
      const existing = new Set((rows as { name: string }[]).map((row) => row.name));
      const missing = names.filter((name) => !existing.has(name));
      for (const name of missing) {
        try {
          await connection.query(`create database if not exists \`${name}\` character set utf8mb4 collate utf8mb4_unicode_ci`);
        } catch (error) {
          if (!isAccessDenied(error)) throw new UnusableDatabase(`${variable}: could not create database ${name} on ${where}: ${firstLine(error, url)}`);
          const [[user]] = (await connection.query('select current_user() as account')) as unknown as [{ account: string }[]];
          const account = `'${user!.account.replace(/@(?=[^@]*$)/, "'@'")}'`;
          const sql = missing.map((each) => `CREATE DATABASE \`${each}\`; GRANT ALL ON \`${each}\`.* TO ${account};`).join(' ');
          throw new UnusableDatabase(`${variable}: user ${account} may not create ${missing.join(', ')} on ${where}. As an administrator, run:\n  ${sql}`);
        }
        created.push(`created database ${name} on ${where}`);
      }
    } finally {
      await connection.end().catch(() => {});
    }
  }
  return created;
}

/** Where the shop's data lives, for the banner `bun run start` prints. */
export function describeDatabases(plan: ServiceDatabase[]): string {
  if (plan.every((entry) => !entry.url)) return 'Data lives in ./data (delete it to start over).';
  const places = Map.groupBy(plan, ({ url }) => (url && isMysqlUrl(url) ? ` on ${hostAndPort(url)}` : ''));
  const names = [...places].map(([where, entries]) => `${entries.map(({ service, url }) => (!url ? `./data/${service}.sqlite` : isMysqlUrl(url) ? databaseName(url, '', 0) : url.slice('sqlite:'.length))).join(', ')}${where}`);
  return `Data: ${names.join('; ')} (drop them to start over);\n  signing key and covers in KEY_DIR and UPLOADS_DIR (./data by default).`;
}

async function connect(url: string, variable: string) {
  const where = hostAndPort(url);
  const admin = new URL(url.replace(/^mariadb:/, 'mysql:'));
  admin.pathname = '/';
  try {
    return await mysql.createConnection({ uri: admin.toString(), connectTimeout: connectTimeoutMs });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR') {
      const user = decodeURIComponent(admin.username);
      throw new UnusableDatabase(`${variable}: the server at ${where} refused user '${user}' (wrong password, or that user may not connect from this machine).`);
    }
    const reason = unreachable[code ?? ''] ?? firstLine(error, url);
    throw new UnusableDatabase(`${variable}: cannot reach a MySQL/MariaDB server at ${where} (${reason}).`);
  }
}

const unreachable: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: `no answer within ${connectTimeoutMs / 1000} s`,
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name not resolved',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection closed by the other end',
  PROTOCOL_CONNECTION_LOST: 'connection closed by the other end',
};

/** `X`, or the contents of the file `X_FILE` names (as the services read it). Empty counts as unset. */
function setting(env: Record<string, string | undefined>, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim() || undefined;
    } catch {
      throw new UnusableDatabase(`${name}_FILE: cannot read ${file}.`);
    }
  }
  return env[name] || undefined;
}

const isMysqlUrl = (url: string) => /^(mysql|mariadb):\/\//.test(url);

/** The database name a URL's path gives, checked: a name we put in SQL must be a plain identifier. */
function databaseName(url: string, variable: string, room: number): string {
  let name: string;
  try {
    name = decodeURIComponent(new URL(url).pathname.slice(1));
  } catch {
    throw new UnusableDatabase(`${variable} is not a valid URL.`);
  }
  if (!/^[A-Za-z0-9_]*$/.test(name) || name.length > 64 - room) {
    throw new UnusableDatabase(`${variable}: the database name "${name}" may hold only letters, digits and _ (at most ${64 - room} characters${room ? `: "_${servicesWithDatabase.at(-1)}" is added` : ''}).`);
  }
  return name;
}

/** One connection serves every database of one server and account. */
function serverOf(url: string): string {
  const parsed = new URL(url.replace(/^mariadb:/, 'mysql:'));
  parsed.pathname = '/';
  return parsed.toString();
}

function hostAndPort(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || 3306}`;
}

const isAccessDenied = (error: unknown) => /ACCESS_DENIED/.test(String((error as { code?: string }).code));

/** An error's first line, with the URL's password taken out should a driver ever quote it. */
function firstLine(error: unknown, url: string): string {
  const text = String((error as Error)?.message ?? error).split('\n')[0]!.slice(0, 200);
  const password = decodeURIComponent(new URL(url).password);
  return password ? text.replaceAll(password, '***') : text;
}

/** The URL, or a refusal that never repeats it (it may hold a password). */
function parsedUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new UnusableDatabase('DATABASE_URL is not a valid URL: mariadb://user:password@host:3306/name.');
  }
}
