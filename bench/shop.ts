/**
 * The shop under test: three fresh MariaDB databases, the four real processes (scripts/stack.ts)
 * with production-like settings, N generated books, the accounts the rows need (a seller owning the
 * books, buyers, login accounts) with their tokens and web session cookies, and the bare reference
 * page beside it on catalog's table. Everything started is registered with a Teardown.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { entryPoints, findFreePorts, pipeLines, serviceNames, startStack, type ServiceName } from '../scripts/stack.ts';
import { createTestDatabase, type TestDatabase } from '../shared/src/testing/database.ts';

const root = resolve(import.meta.dir, '..');
const quotedLines = 30;

export interface Account {
  id: number;
  email: string;
  token: string;
}

export interface BenchShop {
  urls: Record<ServiceName | 'bare', string>;
  databases: Record<'auth' | 'catalog' | 'purchase', TestDatabase>;
  serviceToken: string;
  seller: Account & { cookie: string };
  buyers: (Account & { cookie: string })[];
  /** bench-login-0…count-1@bench.test, all with this password. */
  loginAccounts: { count: number; password: string };
  /** The generated books' ids run from first to last. */
  bookIds: { first: number; last: number };
  /** Rejects as soon as a process exits on its own, with its last output lines. */
  failed: Promise<never>;
  /** The process ids, by name, for memory figures. */
  pids: Record<ServiceName | 'bare', number>;
}

export interface ShopOptions {
  books: number;
  loginAccounts: number;
  buyers: number;
  /** Each output line of the shop's processes (warnings and errors at LOG_LEVEL=warn). */
  onLine?: (service: ServiceName, line: string) => void;
  progress?: (message: string) => void;
  /** A directory to write each process's CPU profile to, as Markdown, when it stops (`bun --cpu-prof-md`). */
  profileDir?: string;
}

/** Undoes what was started, last first; each step runs once even when called again (Ctrl-C during a stop). */
export class Teardown {
  private readonly steps: { name: string; undo: () => Promise<unknown> | unknown }[] = [];

  add(name: string, undo: () => Promise<unknown> | unknown) {
    this.steps.push({ name, undo });
  }

  async run() {
    while (this.steps.length) {
      const step = this.steps.pop()!;
      try {
        await step.undo();
      } catch (error) {
        console.error(`bench: could not ${step.name}: ${(error as Error).message}`);
      }
    }
  }
}

const password = 'bench-password-1';

/**
 * @example
 * const teardown = new Teardown();
 * try { const shop = await startBenchShop({ books: 100_000, loginAccounts: 200, buyers: 16 }, teardown); … }
 * finally { await teardown.run(); }
 */
export async function startBenchShop(options: ShopOptions, teardown: Teardown): Promise<BenchShop> {
  const progress = options.progress ?? (() => {});
  process.env.TEST_DATABASE_URL ??= process.env.BENCH_DATABASE_URL ?? 'mariadb://root@127.0.0.1:3306/test';
  const databases = {} as BenchShop['databases'];
  for (const name of ['auth', 'catalog', 'purchase'] as const) {
    databases[name] = await createTestDatabase('mariadb');
    teardown.add(`drop the ${name} database`, () => databases[name].drop());
  }
  const uploads = mkdtempSync(join(tmpdir(), 'bookstore-bench-'));
  teardown.add('remove the uploads directory', () => rmSync(uploads, { recursive: true, force: true }));

  const [web, auth, catalog, purchase, bare] = await findFreePorts(5);
  const serviceToken = randomBytes(32).toString('base64url');
  let started = performance.now();
  const stack = await startStack({
    ports: { web: web!, auth: auth!, catalog: catalog!, purchase: purchase! },
    sharedEnv: { SERVICE_TOKEN: serviceToken, LOG_LEVEL: 'warn', BOOKSTORE_ENV: 'production' },
    bunFlags: options.profileDir ? ['--cpu-prof-md', `--cpu-prof-dir=${options.profileDir}`] : [],
    env: {
      auth: {
        DATABASE_URL: databases.auth.url,
        SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        // Setup registers every account from this one address.
        REGISTRATIONS_PER_ADDRESS: '1000000',
      },
      catalog: { DATABASE_URL: databases.catalog.url, UPLOADS_DIR: uploads },
      purchase: { DATABASE_URL: databases.purchase.url },
    },
    onLine: options.onLine,
  });
  teardown.add('stop the shop', () => stack.stop());
  progress(`shop started in ${seconds(started)} (web ${web}, auth ${auth}, catalog ${catalog}, purchase ${purchase})`);

  const urls = { ...stack.urls, bare: `http://127.0.0.1:${bare}` };
  started = performance.now();
  const seller = await createAccount(urls.auth, 'bench-seller@bench.test', 'Bench Seller');
  await generateBooks(databases.catalog.url, options.books, seller.id);
  const [range] = (await databases.catalog.query('select min(id) as first, max(id) as last from books')) as { first: number; last: number }[];
  await addRareBooks(urls.catalog, seller.token);
  progress(`${options.books.toLocaleString('en-US')} books generated in ${seconds(started)}`);

  started = performance.now();
  const buyers = await inBatches(Array.from({ length: options.buyers }, (_, n) => n), 4, (n) => createAccount(urls.auth, `bench-buyer-${n}@bench.test`, `Bench Buyer ${n}`));
  await inBatches(Array.from({ length: options.loginAccounts }, (_, n) => n), 4, (n) => register(urls.auth, `bench-login-${n}@bench.test`, `Bench Login ${n}`));
  const [sellerCookie, ...buyerCookies] = await Promise.all([seller, ...buyers].map((account) => webSessionCookie(urls.web, account.email)));
  progress(`${options.buyers + options.loginAccounts + 1} accounts and their sessions in ${seconds(started)}`);

  await refreshStatistics(databases);

  const bareReference = startBareReference(bare!, databases.catalog.url);
  teardown.add('stop the bare reference', () => bareReference.stop());
  await bareReference.live;

  const failed = Promise.race([
    stack.exited.then(({ service, code }) => {
      throw new Error(`${service} exited with code ${code} during the benchmark; its last lines:\n${quote(stack.logs(service))}`);
    }),
    bareReference.exited.then((code) => {
      throw new Error(`the bare reference exited with code ${code}; its last lines:\n${quote(bareReference.lines)}`);
    }),
  ]) as Promise<never>;
  failed.catch(() => {}); // observed by whoever races against it

  return {
    urls,
    databases,
    serviceToken,
    seller: { ...seller, cookie: sellerCookie! },
    buyers: buyers.map((buyer, n) => ({ ...buyer, cookie: buyerCookies[n]! })),
    loginAccounts: { count: options.loginAccounts, password },
    bookIds: { first: range!.first, last: range!.last },
    failed,
    pids: { ...childPids(), bare: bareReference.pid },
  };
}

/**
 * Right after a bulk insert InnoDB still plans with the empty table's statistics until its
 * background recount, some seconds later: the first page then sorts all 100,000 rows (measured:
 * 14 ms instead of 0.4 ms). A shop's database has long been counted; so is the benchmark's.
 */
async function refreshStatistics(databases: BenchShop['databases']) {
  for (const database of Object.values(databases)) {
    const tables = (await database.query("select table_name as name from information_schema.tables where table_schema = database() and table_type = 'BASE TABLE'")) as { name: string }[];
    for (const { name } of tables) await database.query(`analyze table \`${name}\``);
  }
}

async function generateBooks(databaseUrl: string, count: number, sellerId: number) {
  const cli = Bun.spawn(['bun', 'services/catalog/src/cli.ts', 'generate-books', '--count', String(count), '--seller-id', String(sellerId)], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [out, err, code] = await Promise.all([new Response(cli.stdout).text(), new Response(cli.stderr).text(), cli.exited]);
  if (code !== 0) throw new Error(`generate-books exited with ${code}:\n${quote(`${out}\n${err}`.trim().split('\n'))}`);
}

/** Three books whose title holds a word no generated book has: the "rare word" search. */
async function addRareBooks(catalogUrl: string, token: string) {
  for (const title of ['The Zephyr Almanac', 'Zephyr over Lisbon', 'Notes on a Zephyr']) {
    const response = await fetch(`${catalogUrl}/api/books`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ title, author: 'Bench Writer', description: 'Added by the benchmark for the rare-word search.', priceCents: 1500, stock: 5 }),
    });
    if (response.status !== 201) throw new Error(`could not add "${title}": ${response.status} ${await response.text()}`);
  }
}

async function register(authUrl: string, email: string, name: string) {
  const response = await fetch(`${authUrl}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, email, password }) });
  if (response.status !== 201) throw new Error(`registering ${email}: ${response.status} ${await response.text()}`);
}

async function createAccount(authUrl: string, email: string, name: string): Promise<Account> {
  await register(authUrl, email, name);
  const response = await fetch(`${authUrl}/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (response.status !== 201) throw new Error(`logging in ${email}: ${response.status} ${await response.text()}`);
  const session = (await response.json()) as { token: string; user: { id: number } };
  return { id: session.user.id, email, token: session.token };
}

/** Logs in through the web front's form, as a browser does, and answers its Cookie header value. */
async function webSessionCookie(webUrl: string, email: string): Promise<string> {
  const response = await fetch(`${webUrl}/login`, {
    method: 'POST',
    headers: { origin: webUrl, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password }).toString(),
    redirect: 'manual',
  });
  await response.body?.cancel();
  const cookie = response.headers.getSetCookie().map((header) => header.split(';')[0]!).find((pair) => pair.startsWith('bookstore_session='));
  if (!cookie) throw new Error(`logging in ${email} on the web front gave no session cookie (status ${response.status})`);
  return cookie;
}

function startBareReference(port: number, databaseUrl: string) {
  const child = Bun.spawn(['bun', 'bench/bare-reference.tsx'], {
    cwd: root,
    env: { ...process.env, BENCH_DATABASE_URL: databaseUrl, PORT: String(port) },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > quotedLines) lines.shift();
  };
  void pipeLines(child.stdout, keep);
  void pipeLines(child.stderr, keep);
  let stopping = false;
  const exited = child.exited.then((code) => (stopping ? new Promise<never>(() => {}) : code));
  const live = (async () => {
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) break;
      if (await fetch(`http://127.0.0.1:${port}/health/live`).then((r) => r.ok, () => false)) return;
      await Bun.sleep(100);
    }
    throw new Error(`the bare reference did not start; its last lines:\n${quote(lines)}`);
  })();
  return {
    pid: child.pid,
    lines,
    live,
    exited,
    stop: async () => {
      stopping = true;
      child.kill('SIGTERM');
      await child.exited;
    },
  };
}

/** The stack's processes: this process's children running a service's entry point. */
function childPids(): Record<ServiceName, number> {
  const found: Partial<Record<ServiceName, number>> = {};
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== process.pid) continue;
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const name = serviceNames.find((service) => command.includes(entryPoints[service]));
      if (name) found[name] = Number(pid);
    } catch {
      // gone meanwhile
    }
  }
  const missing = serviceNames.filter((name) => !found[name]);
  if (missing.length) throw new Error(`cannot find the process of ${missing.join(', ')} among this process's children`);
  return found as Record<ServiceName, number>;
}

async function inBatches<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return results;
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const quote = (lines: string[]) => (lines.length ? lines.slice(-quotedLines).map((line) => `  ${line}`).join('\n') : '  (nothing)');
