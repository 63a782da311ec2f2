/**
 * `bun run start`: the whole shop on this machine with demo data. Each service keeps its SQLite file
 * under ./data, or, with DATABASE_URL naming a MySQL/MariaDB server, its own database there
 * (scripts/shop-databases.ts). Ports: WEB_PORT, AUTH_PORT, CATALOG_PORT, PURCHASE_PORT. What would
 * stop it (a port in use, a database it cannot use) is refused before any process starts.
 * Ctrl-C stops everything.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { seedDemoBooks } from './seed-demo.ts';
import { describeDatabases, plannedDatabases, prepareDatabases, UnusableDatabase, type ServiceDatabase } from './shop-databases.ts';
import { portsInUse, serviceNames, startStack, type ServiceName } from './stack.ts';

const root = resolve(import.meta.dir, '..');
const dataDir = resolve(root, 'data');

const portVariables = { web: 'WEB_PORT', auth: 'AUTH_PORT', catalog: 'CATALOG_PORT', purchase: 'PURCHASE_PORT' } satisfies Record<ServiceName, string>;
const defaultPorts = { web: 3000, auth: 3001, catalog: 3002, purchase: 3003 } satisfies Record<ServiceName, number>;

/** Says in a line or two why the shop cannot start, and exits: a setting to fix needs no stack trace. */
function refuse(message: string): never {
  console.error(message);
  process.exit(1);
}

function readPorts(env: Record<string, string | undefined>): Record<ServiceName, number> {
  const ports: Partial<Record<ServiceName, number>> = {};
  for (const name of serviceNames) {
    const variable = portVariables[name];
    const port = env[variable] ? Number(env[variable]) : defaultPorts[name];
    if (!Number.isInteger(port) || port < 1 || port > 65_535) refuse(`${variable} must be a port number from 1 to 65535, not "${env[variable]}".`);
    const clash = serviceNames.find((other) => ports[other] === port);
    if (clash) refuse(`${portVariables[clash]} and ${variable} are both ${port}: each service needs its own port.`);
    ports[name] = port;
  }
  return ports as Record<ServiceName, number>;
}

/** One service token per checkout, kept so restarts agree with each other; SERVICE_TOKEN wins when given. */
function serviceToken(): Record<string, string> {
  if (process.env.SERVICE_TOKEN || process.env.SERVICE_TOKEN_FILE) return {};
  const tokenFile = resolve(dataDir, 'service-token');
  if (!existsSync(tokenFile)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(tokenFile, randomBytes(32).toString('base64url'), { mode: 0o600 });
  }
  return { SERVICE_TOKEN: readFileSync(tokenFile, 'utf8').trim() };
}

/** Each service's database settings; the runner's own DATABASE_URL (a server, not a database) is not passed on. */
function databaseEnv(plan: ServiceDatabase[]): Partial<Record<ServiceName, Record<string, string>>> {
  const cleared = { DATABASE_URL: '', DATABASE_URL_FILE: '', DATABASE_READ_URLS: '', DATABASE_READ_URLS_FILE: '' };
  const env: Partial<Record<ServiceName, Record<string, string>>> = { web: cleared };
  for (const { service, url } of plan) env[service] = { ...cleared, DATABASE_URL: url ?? '' };
  return env;
}

const width = Math.max(...serviceNames.map((name) => name.length));
const verbose = process.env.LOG_LEVEL === 'debug' || process.argv.includes('--verbose');

/** Shows each log line compactly: "auth     GET /api/me 200 3ms"; full JSON with --verbose. */
function show(service: ServiceName, line: string) {
  let text = line;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (!verbose) {
      const { time: _time, level, service: _service, msg, requestId: _id, ...rest } = entry;
      text = msg === 'request' ? `${rest.method} ${rest.path} ${rest.status} ${rest.ms}ms` : `${level === 'info' ? '' : `${level}: `}${msg} ${Object.keys(rest).length ? JSON.stringify(rest) : ''}`;
    }
  } catch {
    // not JSON: print as is
  }
  console.log(`${service.padEnd(width)}  ${text}`);
}

const ports = readPorts(process.env);
if (process.env.PORT) console.error(`PORT is not read by \`bun run start\` (four processes need four ports): set ${Object.values(portVariables).join(', ')}.`);
let plan: ServiceDatabase[] = [];
try {
  plan = plannedDatabases(process.env);
} catch (error) {
  if (error instanceof UnusableDatabase) refuse(error.message);
  throw error;
}
const taken = await portsInUse(ports, process.env.HOST || '127.0.0.1');
if (taken.length) refuse(taken.map(({ name, port }) => `${name} cannot start: port ${port} is in use (set ${portVariables[name]} to use another).`).join('\n'));
try {
  for (const line of await prepareDatabases(plan)) console.log(line);
} catch (error) {
  refuse(error instanceof UnusableDatabase ? error.message : `Cannot prepare the databases: ${(error as Error).message.split('\n')[0]}`);
}

const starting = startStack({
  ports,
  env: databaseEnv(plan),
  sharedEnv: { ...serviceToken(), SEED_DEMO_DATA: 'true', ...(verbose ? { LOG_LEVEL: 'debug' } : {}) },
  onLine: show,
});

// Handled from here on: a stop while the processes start, or while demo books are added, stops them too.
let stopping = false;
const shutdown = async (code: number) => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping…');
  await (await starting.catch(() => undefined))?.stop();
  process.exit(code);
};
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

const stack = await starting.catch((error: Error) => {
  if (stopping) return new Promise<never>(() => {}); // shutdown exits
  refuse(`Could not start Bookstore: ${error.message}`);
});

const seeded = await seedDemoBooks(stack.urls).catch((error: Error) => {
  if (!stopping) console.error(`Demo books could not be added: ${error.message}`);
  return 0;
});
if (seeded) console.log(`${seeded} demo books added to the catalog.`);

if (!stopping) {
  console.log(`
  Bookstore is running: http://localhost:${ports.web}

  Demo accounts (email / password):
    admin@bookstore.test / admin-demo-pass   (administrator)
    alice@bookstore.test / alice-demo-pass
    bob@bookstore.test   / bob-demo-pass

  ${describeDatabases(plan)}
  Ctrl-C stops everything.
`);
}

const { service, code } = await stack.exited;
console.error(`${service} exited (code ${code}); stopping the others.`);
await shutdown(1);
