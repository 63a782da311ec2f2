/**
 * A real MariaDB primary + read replica on this machine, set up exactly as the Swarm stack sets up
 * its pair: the servers read mariadb-primary.cnf / mariadb-replica.cnf, and the same init scripts
 * (primary/01-databases.sh, replica/01-replica.sh) create the databases, the users and the
 * replication, run with the `mariadb` client over TCP with the secret files pointed at temp files.
 * Both servers listen on 127.0.0.1 only, with their own temp datadir and socket; nothing of the
 * machine's own MariaDB (port 3306, its datadir, its config) is read or touched.
 *
 * Used by replication.test.ts and by the rehearsal.
 *
 * @example
 * const pair = await startLocalPair();
 * const orm = await openDatabase({ url: pair.primaryUrl('auth'), readUrls: [pair.replicaUrl('auth')], entities, migrations });
 * …
 * await pair.stop();
 */
import { spawnSync, type Subprocess } from 'bun';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

export const pairServices = ['auth', 'catalog', 'purchase'] as const;
export type PairService = (typeof pairServices)[number];
export type PairServer = 'primary' | 'replica';

export interface LocalPairOptions {
  /** Ports on 127.0.0.1; default: free ones. */
  primaryPort?: number;
  replicaPort?: number;
  /** Where the temp directory (datadirs, sockets, secrets, logs) is made; default: the OS temp dir. */
  parentDir?: string;
  /** How long each server may take to accept connections (default 30 s). */
  startTimeoutMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  mariadbd?: string;
  installDb?: string;
}

export interface Credentials {
  user: string;
  password: string;
}

export interface ReplicaStatus {
  ioRunning: string;
  sqlRunning: string;
  /** Slave_Pos when following by GTID. */
  usingGtid: string;
  lastIoError: string;
  lastSqlError: string;
  secondsBehind: number | null;
  gtidPosition: string;
}

export interface LocalPair {
  primaryPort: number;
  replicaPort: number;
  /** The temp directory: datadirs, sockets, logs, secret files. Removed by stop(). */
  dir: string;
  users: Record<PairService, Credentials>;
  replication: Credentials;
  /** The service's application user on the primary: `mariadb://auth:…@127.0.0.1:port/auth`. */
  primaryUrl(service: PairService): string;
  /** The same user on the replica. */
  replicaUrl(service: PairService): string;
  /** root (no password, every privilege: bypasses read_only) on one server. */
  rootUrl(server: PairServer, database?: string): string;
  /** Milliseconds spent: datadir creation, both servers up, init scripts, replication running. */
  timings: { installMs: number; serversMs: number; initScriptsMs: number; totalMs: number };
  /** What the init scripts printed. */
  initOutput: { primary: string; replica: string };
  /**
   * Runs one server's init script again, as the pair's start did (same secret files, same
   * connection); `extraEnv` overrides its environment. Rejects with the script's output on failure.
   */
  runInitScript(server: PairServer, extraEnv?: Record<string, string>): Promise<string>;
  /** SHOW SLAVE STATUS on the replica. */
  replicaStatus(): Promise<ReplicaStatus>;
  /** Waits until the replica has applied everything the primary has written so far. */
  waitForReplica(timeoutMs?: number): Promise<void>;
  /** Stops one server (the other keeps running); a stopped server stays stopped. */
  stopServer(server: PairServer): Promise<void>;
  /** Stops both servers and removes the temp directory. Safe to call twice. */
  stop(): Promise<void>;
}

const here = import.meta.dir;
export const initScripts = {
  primary: join(here, 'primary', '01-databases.sh'),
  replica: join(here, 'replica', '01-replica.sh'),
};
export const mariadbConfigs = {
  primary: join(here, 'mariadb-primary.cnf'),
  replica: join(here, 'mariadb-replica.cnf'),
};

/** Is a MariaDB server installed here (mariadbd, mariadb-install-db and the mariadb client)? */
export function mariadbInstalled(options: Pick<LocalPairOptions, 'mariadbd' | 'installDb'> = {}): boolean {
  const found = (name: string) => spawnSync(['sh', '-c', `command -v "$0"`, name]).exitCode === 0;
  return found(options.mariadbd ?? mariadbdPath()) && found(options.installDb ?? 'mariadb-install-db') && found('mariadb');
}

function mariadbdPath(): string {
  return existsSync('/usr/sbin/mariadbd') ? '/usr/sbin/mariadbd' : 'mariadbd';
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function tail(path: string, lines = 25): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function randomSecret(bytes = 12): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
}

/** Servers still running from this process: killed if the process exits without stop(). */
const running = new Set<{ process: Subprocess; dir: string }>();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const server of running) {
      try {
        server.process.kill('SIGKILL');
      } catch {}
      rmSync(server.dir, { recursive: true, force: true });
    }
  });
}

interface Server {
  name: PairServer;
  port: number;
  datadir: string;
  errorLog: string;
  stderrLog: string;
  process?: Subprocess;
  entry?: { process: Subprocess; dir: string };
}

function serverLog(server: Server): string {
  const stderr = tail(server.stderrLog, 10);
  return `--- last lines of ${server.errorLog} ---\n${tail(server.errorLog)}${stderr && stderr !== '(no log)' ? `\n--- stderr ---\n${stderr}` : ''}`;
}

async function connectRoot(port: number) {
  return mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 2000 });
}

async function waitUntilAccepting(server: Server, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.process?.exitCode !== null && server.process?.exitCode !== undefined) {
      throw new Error(`MariaDB ${server.name} (port ${server.port}) exited with code ${server.process.exitCode} while starting.\n${serverLog(server)}`);
    }
    try {
      const connection = await connectRoot(server.port);
      await connection.end();
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`MariaDB ${server.name} (port ${server.port}) did not accept connections within ${timeoutMs} ms: ${(error as Error).message}\n${serverLog(server)}`);
      }
      await Bun.sleep(50);
    }
  }
}

async function run(command: string[], env: Record<string, string>, what: string): Promise<string> {
  const child = Bun.spawn(command, { env, stdout: 'pipe', stderr: 'pipe' });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`${what} failed (exit ${code}):\n${stdout}${stderr}`);
  return stdout + stderr;
}

/**
 * Starts the pair and returns once replication runs and the replica has caught up with the
 * primary's init script. On any failure, whatever was started is stopped again and the error
 * carries the server's last log lines or the script's output.
 */
export async function startLocalPair(options: LocalPairOptions = {}): Promise<LocalPair> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const dir = mkdtempSync(join(options.parentDir ?? tmpdir(), 'bookstore-pair-'));
  installExitHook();
  const [primaryPort, replicaPort] = [options.primaryPort ?? (await freePort()), options.replicaPort ?? (await freePort())];
  const servers: Record<PairServer, Server> = {
    primary: { name: 'primary', port: primaryPort, datadir: join(dir, 'primary'), errorLog: join(dir, 'primary.err'), stderrLog: join(dir, 'primary.stderr') },
    replica: { name: 'replica', port: replicaPort, datadir: join(dir, 'replica'), errorLog: join(dir, 'replica.err'), stderrLog: join(dir, 'replica.stderr') },
  };
  const asRoot = process.getuid?.() === 0;
  const mariadbd = options.mariadbd ?? mariadbdPath();
  // Small redo logs and buffer pool: a test pair, not a production server.
  const small = ['--innodb-log-file-size=8M', '--innodb-buffer-pool-size=64M'];

  const stopServer = async (name: PairServer) => {
    const server = servers[name];
    const child = server.process;
    if (!child) return;
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      let timer: Timer | undefined;
      const exited = await Promise.race([child.exited.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 10_000)))]);
      clearTimeout(timer);
      if (!exited) {
        child.kill('SIGKILL');
        await child.exited;
      }
    }
    if (server.entry) running.delete(server.entry);
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all([stopServer('primary'), stopServer('replica')]);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // 1. One datadir made by mariadb-install-db, copied for the replica (MariaDB datadirs carry no
    //    server identity: server_id comes from the config).
    const seed = servers.primary.datadir;
    await run(
      [
        options.installDb ?? 'mariadb-install-db',
        '--no-defaults',
        `--datadir=${seed}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--skip-name-resolve',
        ...(asRoot ? ['--user=root'] : []),
        ...small,
      ],
      { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
      'mariadb-install-db',
    );
    cpSync(seed, servers.replica.datadir, { recursive: true });
    const installMs = performance.now() - started;
    log(`datadirs ready in ${Math.round(installMs)} ms (${dir})`);

    // 2. Both servers, each with its replication config.
    for (const server of Object.values(servers)) {
      const child = Bun.spawn(
        [
          mariadbd,
          `--defaults-file=${mariadbConfigs[server.name]}`,
          `--datadir=${server.datadir}`,
          `--port=${server.port}`,
          '--bind-address=127.0.0.1',
          `--socket=${join(dir, `${server.name}.sock`)}`,
          `--pid-file=${join(dir, `${server.name}.pid`)}`,
          `--log-error=${server.errorLog}`,
          `--tmpdir=${dir}`,
          ...(asRoot ? ['--user=root'] : []),
          ...small,
        ],
        { stdout: 'ignore', stderr: Bun.file(server.stderrLog), stdin: 'ignore' },
      );
      server.process = child;
      server.entry = { process: child, dir };
      running.add(server.entry);
    }
    const timeout = options.startTimeoutMs ?? 30_000;
    await Promise.all([waitUntilAccepting(servers.primary, timeout), waitUntilAccepting(servers.replica, timeout)]);
    const serversMs = performance.now() - started - installMs;
    log(`primary :${primaryPort} and replica :${replicaPort} accept connections (${Math.round(serversMs)} ms)`);

    // 3. The stack's init scripts, with the secrets in files. Run at once, as in Swarm: the
    //    replica's script waits for the primary's replication user.
    const secrets = join(dir, 'secrets');
    mkdirSync(secrets, { mode: 0o700 });
    // '@' and '%' must be percent-encoded in the URLs the services get.
    const users = Object.fromEntries(pairServices.map((service) => [service, { user: service, password: `${randomSecret()}-${service}@%` }])) as Record<PairService, Credentials>;
    // Quotes, a backslash and a dollar: the scripts must escape them in SQL and option files.
    const replication: Credentials = { user: 'replicator', password: `r'e\\p"l$${randomSecret()}` };
    const secretEnv: Record<string, string> = {};
    for (const service of pairServices) {
      const file = join(secrets, `${service}_db_password`);
      writeFileSync(file, `${users[service].password}\n`, { mode: 0o600 });
      secretEnv[`${service.toUpperCase()}_DB_PASSWORD_FILE`] = file;
    }
    secretEnv.REPLICATION_PASSWORD_FILE = join(secrets, 'db_replication_password');
    writeFileSync(secretEnv.REPLICATION_PASSWORD_FILE, `${replication.password}\n`, { mode: 0o600 });
    const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TMPDIR: dir, DB_HOST: '127.0.0.1', DB_ADMIN_USER: 'root', DB_CLIENT: 'mariadb', ...secretEnv };
    const scriptEnv = {
      primary: { ...baseEnv, DB_PORT: String(primaryPort) },
      replica: { ...baseEnv, DB_PORT: String(replicaPort), PRIMARY_HOST: '127.0.0.1', PRIMARY_PORT: String(primaryPort), PRIMARY_WAIT_SECONDS: '30', REPLICA_START_TIMEOUT: '30' },
    };
    const runInitScript = (server: PairServer, extraEnv: Record<string, string> = {}) =>
      run(['bash', initScripts[server]], { ...scriptEnv[server], ...extraEnv }, `${server} init script ${initScripts[server]}`);
    const initStarted = performance.now();
    const [primaryOutput, replicaOutput] = await Promise.all([runInitScript('primary'), runInitScript('replica')]);
    const initScriptsMs = performance.now() - initStarted;

    const rootUrl = (server: PairServer, database = '') => `mariadb://root@127.0.0.1:${servers[server].port}/${database}`;
    const url = (server: PairServer, service: PairService) => {
      const { user, password } = users[service];
      return `mariadb://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${servers[server].port}/${service}`;
    };
    const replicaStatus = async (): Promise<ReplicaStatus> => {
      const connection = await connectRoot(replicaPort);
      try {
        const [rows] = await connection.query('SHOW SLAVE STATUS');
        const row = (rows as Record<string, unknown>[])[0];
        if (!row) throw new Error('the replica has no replication configured');
        return {
          ioRunning: String(row.Slave_IO_Running),
          sqlRunning: String(row.Slave_SQL_Running),
          usingGtid: String(row.Using_Gtid),
          lastIoError: String(row.Last_IO_Error ?? ''),
          lastSqlError: String(row.Last_SQL_Error ?? ''),
          secondsBehind: row.Seconds_Behind_Master === null ? null : Number(row.Seconds_Behind_Master),
          gtidPosition: String(row.Gtid_IO_Pos ?? ''),
        };
      } finally {
        await connection.end();
      }
    };
    const waitForReplica = async (timeoutMs = 10_000) => {
      const primary = await connectRoot(primaryPort);
      const replica = await connectRoot(replicaPort);
      try {
        const [[{ pos }]] = (await primary.query('SELECT @@GLOBAL.gtid_binlog_pos AS pos')) as unknown as [[{ pos: string }]];
        const [[{ waited }]] = (await replica.query('SELECT MASTER_GTID_WAIT(?, ?) AS waited', [pos, timeoutMs / 1000])) as unknown as [[{ waited: number }]];
        if (Number(waited) !== 0) {
          const status = await replicaStatus();
          throw new Error(`the replica did not reach the primary's position ${pos} within ${timeoutMs} ms (IO ${status.ioRunning}, SQL ${status.sqlRunning}) ${status.lastIoError} ${status.lastSqlError}`);
        }
      } finally {
        await Promise.all([primary.end(), replica.end()]);
      }
    };

    // 4. Replication runs, and the replica has the databases and users.
    const status = await replicaStatus();
    if (status.ioRunning !== 'Yes' || status.sqlRunning !== 'Yes') {
      throw new Error(`replication is not running (IO ${status.ioRunning}, SQL ${status.sqlRunning}): ${status.lastIoError} ${status.lastSqlError}\n${serverLog(servers.replica)}`);
    }
    await waitForReplica(15_000);
    const totalMs = performance.now() - started;
    log(`replication running; pair ready in ${Math.round(totalMs)} ms`);

    return {
      primaryPort,
      replicaPort,
      dir,
      users,
      replication,
      primaryUrl: (service) => url('primary', service),
      replicaUrl: (service) => url('replica', service),
      rootUrl,
      timings: { installMs: Math.round(installMs), serversMs: Math.round(serversMs), initScriptsMs: Math.round(initScriptsMs), totalMs: Math.round(totalMs) },
      initOutput: { primary: primaryOutput, replica: replicaOutput },
      replicaStatus,
      waitForReplica,
      runInitScript,
      stopServer,
      stop,
    };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

/** `bun infra/mysql/local-pair.ts`: starts a pair, prints its URLs, and stops it on Ctrl-C. */
if (import.meta.main) {
  const pair = await startLocalPair({ log: (line) => console.log(line) });
  for (const service of pairServices) {
    console.log(`${service}: DATABASE_URL=${pair.primaryUrl(service)} DATABASE_READ_URLS=${pair.replicaUrl(service)}`);
  }
  console.log(`root: ${pair.rootUrl('primary')} (primary), ${pair.rootUrl('replica')} (replica). Ctrl-C stops both and removes ${pair.dir}`);
  const shutdown = async () => {
    await pair.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
