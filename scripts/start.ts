/**
 * `bun run start`: the whole shop on this machine with the embedded SQLite default and demo data.
 * Ctrl-C stops everything.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { seedDemoBooks } from './seed-demo.ts';
import { serviceNames, startStack, type ServiceName } from './stack.ts';

const root = resolve(import.meta.dir, '..');
const dataDir = resolve(root, 'data');
mkdirSync(dataDir, { recursive: true });

// One service token per checkout, kept so restarts agree with each other.
const tokenFile = resolve(dataDir, 'service-token');
if (!existsSync(tokenFile)) writeFileSync(tokenFile, randomBytes(32).toString('base64url'), { mode: 0o600 });

const ports = {
  web: Number(process.env.WEB_PORT ?? 3000),
  auth: Number(process.env.AUTH_PORT ?? 3001),
  catalog: Number(process.env.CATALOG_PORT ?? 3002),
  purchase: Number(process.env.PURCHASE_PORT ?? 3003),
} satisfies Record<ServiceName, number>;

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

const stack = await startStack({
  ports,
  sharedEnv: { SERVICE_TOKEN: readFileSync(tokenFile, 'utf8').trim(), SEED_DEMO_DATA: 'true', ...(verbose ? { LOG_LEVEL: 'debug' } : {}) },
  onLine: show,
}).catch((error: Error) => {
  console.error(`Could not start Bookstore: ${error.message}`);
  process.exit(1);
});

const seeded = await seedDemoBooks(stack.urls).catch((error: Error) => {
  console.error(`Demo books could not be added: ${error.message}`);
  return 0;
});
if (seeded) console.log(`${seeded} demo books added to the catalog.`);

console.log(`
  Bookstore is running: http://localhost:${ports.web}

  Demo accounts (email / password):
    admin@bookstore.test / admin-demo-pass   (administrator)
    alice@bookstore.test / alice-demo-pass
    bob@bookstore.test   / bob-demo-pass

  Data lives in ./data (delete it to start over). Ctrl-C stops everything.
`);

let stopping = false;
const shutdown = async (code: number) => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping…');
  await stack.stop();
  process.exit(code);
};
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
const { service, code } = await stack.exited;
console.error(`${service} exited (code ${code}); stopping the others.`);
await shutdown(1);
