/**
 * The fault matrix: a real MariaDB primary + replica (infra/mysql/local-pair.ts) and the four
 * processes (scripts/stack.ts), every service's primary connection through a TCP proxy and
 * purchase's calls to catalog through an HTTP one (to kill purchase at a chosen call). In each case
 * a few buyers check out one book that has too few copies for all of them (cart → order with an
 * Idempotency-Key → payment) while one part fails mid-request: a service killed or frozen, the
 * primary frozen or cut off, the replica frozen or killed. Once the fault is over and the purchase
 * sweeper has settled every order:
 *   - no oversell, and stock + reserved + sold is what the seller put in, for every book so far;
 *   - every paid order has exactly one charge, and no charge belongs to an unpaid order;
 *   - every order a buyer was answered 201 for is still there (read back through the API, and its
 *     key answers it again), and there is no other order;
 *   - no request got a 500 or hung, and the web pages (/, /catalog, a book page, signed out and in)
 *     answered 200 within a few seconds all along: a part that is down is a retry box.
 * A case that breaks one fails with what broke and the processes' last log lines; the others still run.
 *
 * Short settings keep it quick (request budget 2 s, sweeper every 200 ms, gateway timeout 500 ms):
 * about 50 s on 2 cores. Buyers (fault-matrix/checkouts.ts) send each request again as a careful
 * client does; pages are asked in rounds all along (fault-matrix/page-probes.ts); the checks of
 * orders are in fault-matrix/orders-check.ts.
 *
 * Needs mariadbd and mariadb-install-db (Debian's mariadb-server); skipped where they are missing.
 * Run: cd /work/main && bun test infra/fault-matrix.test.ts
 */
import { afterAll, beforeAll, describe, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { startFaultProxy, type FaultProxy, type ProxyRule } from '../services/purchase/test/faults.ts';
import { startTcpProxy, type TcpProxy } from '../shared/src/testing/tcp-proxy.ts';
import { findFreePorts, serviceNames, startStack, type ServiceName, type Stack } from '../scripts/stack.ts';
import { startCheckouts, type Buyer, type Checkouts } from './fault-matrix/checkouts.ts';
import { checkOrders, checkRepeats, checkStock, settled, until, type Queryable, type Shop } from './fault-matrix/orders-check.ts';
import { checkPages, pagesRecover, startPageProbes, type PageProbes, type ProbedPage } from './fault-matrix/page-probes.ts';
import { mariadbInstalled, startLocalPair, type LocalPair, type PairServer } from './mysql/local-pair.ts';

/** REQUEST_TIME_BUDGET_MS of catalog and purchase: a hung database is a 503 after this. */
const budgetMs = 2000;
/** Every page must answer 200 within this, fault or not (the web's fragment budget is 1.2 s). */
const pageLimitMs = 3000;
/** The catalog's replica read timeout (shared/src/db.ts): a hung replica is left alone after this. */
const replicaReadMs = 2000;
const stockPerBook = 5;
/** How long the sweeper may take to settle the orders left once the last buyer is done. */
const settleTimeoutMs = 15_000;
const buyersPerCase = 4;
const checkoutsPerBuyer = 3; // 1 or 2 copies each: about 18 wanted, 5 there

const installed = mariadbInstalled();
if (!installed) console.warn('infra/fault-matrix: MariaDB server (mariadbd, mariadb-install-db) not installed here: fault matrix skipped');


let dir = '';
let pair: LocalPair | undefined;
let proxy: TcpProxy | undefined;
/** Between purchase and catalog, to kill purchase at the moment it calls catalog. */
let catalogProxy: FaultProxy | undefined;
let stack: Stack | undefined;
const connections: mysql.Connection[] = [];
let shop: Shop;
let seller: Buyer;
/** Processes this file stopped with SIGSTOP: resumed whatever happens. */
const frozenPids = new Set<number>();
const unexpectedExits: string[] = [];
/** Problems an earlier case reported already (a book's stock stays wrong): not reported again. */
const reported = new Set<string>();
let userCount = 0;

// --- setup ------------------------------------------------------------------------------------------

async function rootConnection(database: string): Promise<Queryable> {
  const connection = await mysql.createConnection({ host: '127.0.0.1', port: pair!.primaryPort, user: 'root', database });
  connections.push(connection);
  return { query: async (sql, params) => (await connection.query(sql, params))[0] };
}

async function postJson(url: string, body: unknown, token?: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
}

async function signUp(name: string): Promise<Buyer> {
  const email = `user${++userCount}.${Date.now()}@faults.test`;
  const password = 'fault-matrix-password';
  const created = await postJson(`${stack!.urls.auth}/api/users`, { name, email, password });
  if (created.status !== 201) throw new Error(`sign-up of ${name}: ${created.status} ${await created.text()}`);
  const session = await postJson(`${stack!.urls.auth}/api/sessions`, { email, password });
  if (session.status !== 201) throw new Error(`login of ${name}: ${session.status} ${await session.text()}`);
  const { token, user } = (await session.json()) as { token: string; user: { id: number } };
  return { userId: user.id, name, token };
}

async function addBook(title: string): Promise<number> {
  const body = { title, author: 'Fault Matrix', description: 'Bought while something fails.', priceCents: 1500, stock: stockPerBook };
  const created = await postJson(`${stack!.urls.catalog}/api/books`, body, seller.token);
  if (created.status !== 201) throw new Error(`adding the book: ${created.status} ${await created.text()}`);
  const { id } = (await created.json()) as { id: number };
  shop.stockPut.set(id, stockPerBook);
  return id;
}

function mariadbPid(server: PairServer): number {
  return Number(readFileSync(join(pair!.dir, `${server}.pid`), 'utf8').trim());
}

function tail(path: string, lines: number): string[] {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines);
  } catch {
    return ['(no log)'];
  }
}

/** The last lines each process wrote since `since` (warnings and errors: LOG_LEVEL=warn), for a failing case. */
function recentLogs(since: Date): string {
  const cut = (line: string) => (line.length > 500 ? `${line.slice(0, 500)}…` : line);
  const written = (line: string) => new Date(/^\{"time":"([^"]+)"/.exec(line)?.[1] ?? Date.now());
  const services = serviceNames.map((name) => {
    const lines = stack!.logs(name).filter((line) => written(line) >= since);
    return `--- ${name}, last lines of this case ---\n${lines.slice(-12).map(cut).join('\n') || '(nothing)'}`;
  });
  const servers = (['primary', 'replica'] as const).map((server) => `--- MariaDB ${server}, last lines of its error log ---\n${tail(join(pair!.dir, `${server}.err`), 5).join('\n')}`);
  return [...services, ...servers].join('\n');
}

// --- waiting and faults -------------------------------------------------------------------------------

/** Stops a process with SIGSTOP while `hold` runs, then lets it go on (SIGCONT). */
async function frozen<T>(pid: number | undefined, what: string, hold: () => Promise<T>): Promise<T> {
  if (!pid) throw new Error(`${what} is not running: nothing to freeze`);
  process.kill(pid, 'SIGSTOP');
  frozenPids.add(pid);
  try {
    return await hold();
  } finally {
    process.kill(pid, 'SIGCONT');
    frozenPids.delete(pid);
  }
}

/** What a case's fault sees of the checkouts and pages going on around it. */
interface CaseRun {
  buyers: Buyer[];
  checkouts: Checkouts;
  probes: PageProbes;
  /** True once every buyer is done. */
  finished(): boolean;
  /**
   * Keeps the fault on until it has been met: a whole round of pages asked, and a buyer's request
   * ended (or every buyer done), since the call; with `timedOut`, a buyer gave up waiting on a
   * request; and at least `minMs` passed.
   */
  whileDown(options?: { minMs?: number; timedOut?: boolean }): Promise<void>;
  /** Waits until a /catalog page asked `afterMs` or more after `since` listed books. */
  catalogListsBooks(since: number, afterMs: number): Promise<void>;
}

interface FaultCase {
  name: string;
  /** Injects the fault mid-checkout and clears it again (or leaves it, said so in the name). */
  inject(run: CaseRun): Promise<void>;
  /** The web front is what fails: its pages are not asked to answer while it is down. */
  webDown?: boolean;
  /** Checkouts do not need what fails: not one of their requests may need sending again. */
  undisturbed?: boolean;
}

/** Forwards each request; one whose service is gone is cut, as the network would. */
const forwardOrCut: ProxyRule = (request, forward) => forward(request).catch(() => 'drop' as const);

const killAndRestart = (service: ServiceName): FaultCase['inject'] => async (run) => {
  await stack!.kill(service, 'SIGKILL');
  // Purchase reaches catalog through a proxy: it refuses connections too while catalog is down.
  if (service === 'catalog') await catalogProxy!.refuse();
  try {
    await run.whileDown();
    await stack!.restart(service);
  } finally {
    if (service === 'catalog') await catalogProxy!.accept();
  }
};

const cases: FaultCase[] = [
  { name: 'catalog killed (SIGKILL) mid-checkout, then restarted', inject: killAndRestart('catalog') },
  {
    name: "purchase frozen (SIGSTOP) past the buyers' timeout, resumed (SIGCONT), then killed (SIGKILL) and restarted",
    async inject(run) {
      await frozen(stack!.pid('purchase'), 'purchase', () => run.whileDown({ timedOut: true }));
      const answered = run.checkouts.answered;
      await until('purchase answers again after SIGCONT', () => run.finished() || run.checkouts.answered > answered, 10_000);
      await stack!.kill('purchase', 'SIGKILL');
      await run.whileDown();
      await stack!.restart('purchase');
    },
  },
  // A precise moment: catalog refused a reservation (more copies than there are), and purchase dies
  // once catalog has released it, before it records the order as given up.
  {
    name: "purchase killed (SIGKILL) just as catalog gave back the stock of an order it refused, then restarted",
    async inject(run) {
      let killed = false;
      catalogProxy!.steer(async (request, forward) => {
        if (killed || request.method !== 'DELETE' || !request.path.startsWith('/api/reservations/')) return forwardOrCut(request, forward);
        killed = true;
        await forward(request); // catalog gives the stock back…
        await stack!.kill('purchase', 'SIGKILL'); // …and purchase dies before it records so
        return 'drop';
      });
      try {
        void run.checkouts.orderTooMany(run.buyers[0]!, stockPerBook + 1);
        await until('purchase is killed while catalog releases a refused order', () => killed, 10_000);
      } finally {
        catalogProxy!.steer(forwardOrCut);
      }
      await run.whileDown();
      await stack!.restart('purchase');
    },
  },
  // Tokens are checked with auth's keys, fetched already: checkouts go on as if nothing happened.
  { name: 'auth killed (SIGKILL) mid-checkout, then restarted', inject: killAndRestart('auth'), undisturbed: true },
  { name: 'web killed (SIGKILL) mid-checkout, then restarted', inject: killAndRestart('web'), webDown: true, undisturbed: true },
  {
    name: 'primary MariaDB frozen (SIGSTOP) past the request time budget, then resumed',
    inject: (run) => frozen(mariadbPid('primary'), 'the primary', () => run.whileDown({ minMs: budgetMs + 1000 })),
  },
  {
    name: "primary MariaDB cut off (the proxy drops every connection and refuses new ones), then let through again",
    async inject(run) {
      proxy!.set('refuse');
      proxy!.dropAll();
      try {
        await run.whileDown({ minMs: budgetMs + 1000 });
      } finally {
        proxy!.set('pass');
      }
    },
  },
  {
    name: 'replica MariaDB frozen (SIGSTOP): reads fall back to the primary; then resumed',
    async inject(run) {
      const since = run.probes.now();
      await frozen(mariadbPid('replica'), 'the replica', async () => {
        await run.whileDown({ minMs: replicaReadMs + 500 });
        await run.catalogListsBooks(since, replicaReadMs + 200);
      });
    },
  },
  {
    name: 'replica MariaDB killed (SIGKILL): reads fall back to the primary (it stays down: the last case)',
    async inject(run) {
      const since = run.probes.now();
      process.kill(mariadbPid('replica'), 'SIGKILL');
      await run.whileDown();
      await run.catalogListsBooks(since, 0);
    },
  },
];

// --- one case -------------------------------------------------------------------------------------------

/** A process the case left dead is a finding; it is started again so the next cases can run. */
async function processesAlive(problems: string[]) {
  for (const name of serviceNames) {
    const live = await fetch(`${stack!.urls[name]}/health/live`, { signal: AbortSignal.timeout(2000) }).then((response) => response.ok, () => false);
    if (live) continue;
    problems.push(`${name} is not running after the case`);
    await stack!.restart(name).catch((error: Error) => problems.push(`and it did not start again: ${error.message}`));
  }
  problems.push(...unexpectedExits.splice(0));
}

async function runCase(index: number, spec: FaultCase) {
  const started = performance.now();
  const startedAt = new Date();
  const problems: string[] = [];
  const bookId = await addBook(`Fault case ${index + 1}`);
  const buyers = await Promise.all(Array.from({ length: buyersPerCase }, (_, i) => signUp(`Buyer ${index + 1}.${i + 1}`)));
  const web = stack!.urls.web;
  const pages: ProbedPage[] = [
    { name: '/', url: `${web}/` },
    { name: '/catalog', url: `${web}/catalog` },
    { name: `/books/${bookId}`, url: `${web}/books/${bookId}` },
    { name: `/books/${bookId} signed in`, url: `${web}/books/${bookId}`, headers: { cookie: `bookstore_session=${buyers[0]!.token}` } },
  ];
  const probes = startPageProbes(pages);
  const checkouts = startCheckouts({ purchaseUrl: stack!.urls.purchase, buyers, bookId, checkoutsPerBuyer });
  let finished = false;
  void checkouts.done().then(() => (finished = true));

  const run: CaseRun = {
    buyers,
    checkouts,
    probes,
    finished: () => finished,
    async whileDown(options = {}) {
      const [since, rounds, ended, timedOut] = [Date.now(), probes.rounds, checkouts.answered, checkouts.timedOut];
      await until(
        'the fault has been met by pages and buyers',
        () => probes.rounds >= rounds + 2 && (finished || checkouts.answered > ended) && (!options.timedOut || finished || checkouts.timedOut > timedOut) && Date.now() - since >= (options.minMs ?? 0),
        20_000,
      );
    },
    async catalogListsBooks(since, afterMs) {
      await until(`a /catalog page asked ${afterMs} ms or more into the fault lists books`, () => probes.probes.some((probe) => probe.page === '/catalog' && probe.at >= since + afterMs && probe.status === 200 && probe.showsBooks), 15_000);
    },
  };

  let inFlightAtFault = 0;
  let faultAt = 0;
  let clearedAt = 0;
  try {
    await until('a first order is placed with checkouts still in flight', () => checkouts.placed >= 1 && checkouts.inFlight > 0, 15_000, 5);
    inFlightAtFault = checkouts.inFlight;
    probes.phase = 'during';
    faultAt = probes.now();
    await spec.inject(run);
  } catch (error) {
    problems.push(`the fault could not be injected or cleared: ${(error as Error).message}`);
  }
  clearedAt = probes.now();
  probes.phase = 'after';
  const outcome = await checkouts.done();
  const settleMs = await settled(shop, buyers, settleTimeoutMs, problems);
  await checkRepeats(shop, outcome, problems);
  const statuses = await checkOrders(shop, buyers, outcome, reported, problems);
  await checkStock(shop, bookId, outcome, problems);
  if (spec.undisturbed && outcome.retries) problems.push(`checkouts should not have noticed, but ${outcome.retries} requests were sent again: ${[...outcome.retried.keys()].join('; ')}`);
  const probed = await probes.stop();
  checkPages(probed, pageLimitMs, spec.webDown ? { from: faultAt, to: clearedAt } : null, problems);
  await pagesRecover(pages, pageLimitMs, 15_000, problems);
  await processesAlive(problems);

  const paid = outcome.placed.filter((order) => order.payment === 'paid').length;
  const pagesIn = (phase: string) => {
    const asked = probed.filter((probe) => probe.phase === phase);
    const slowest = Math.max(0, ...asked.filter((probe) => probe.status === 200).map((probe) => probe.ms));
    return `${asked.length} ${phase} (${asked.filter((probe) => probe.retryBox).length} with a retry box, slowest 200 in ${slowest} ms)`;
  };
  const count = (map: Map<string, number>) => [...map].map(([what, n]) => `${n}× ${what}`).join('; ') || 'none';
  console.log(
    `fault matrix, case ${index + 1} (${((performance.now() - started) / 1000).toFixed(1)} s): ${spec.name}\n` +
      `  fault on for ${((clearedAt - faultAt) / 1000).toFixed(1)} s with ${inFlightAtFault} requests in flight; settled ${(settleMs / 1000).toFixed(1)} s after the last buyer was done\n` +
      `  ${outcome.placed.length} orders placed (${paid} paid), ${outcome.refused.length} refused; ${outcome.requests} requests; orders in the database: ${count(statuses)}\n` +
      `  sent again: ${count(outcome.retried)}\n` +
      `  pages: ${['before', 'during', 'after'].map(pagesIn).join(', ')}; ${problems.length ? `${problems.length} PROBLEMS` : 'every check holds'}`,
  );
  if (problems.length) throw new Error(`${spec.name}:\n- ${problems.join('\n- ')}\n${recentLogs(startedAt)}`);
}

// --- the matrix -----------------------------------------------------------------------------------------

describe.skipIf(!installed)('fault matrix: MariaDB primary + replica, the four processes, checkouts in flight', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bookstore-faults-'));
    pair = await startLocalPair({ parentDir: dir });
    proxy = await startTcpProxy({ host: '127.0.0.1', port: pair.primaryPort });
    const [web, auth, catalog, purchase] = await findFreePorts(4);
    catalogProxy = await startFaultProxy(`http://127.0.0.1:${catalog}`);
    catalogProxy.steer(forwardOrCut);
    const database = (service: 'auth' | 'catalog' | 'purchase') => ({ DATABASE_URL: proxy!.urlFor(pair!.primaryUrl(service)), DATABASE_READ_URLS: pair!.replicaUrl(service) });
    stack = await startStack({
      ports: { web: web!, auth: auth!, catalog: catalog!, purchase: purchase! },
      sharedEnv: { LOG_LEVEL: 'warn', REQUEST_TIME_BUDGET_MS: String(budgetMs) },
      env: {
        auth: { ...database('auth'), KEY_DIR: join(dir, 'keys'), REGISTRATIONS_PER_ADDRESS: '1000' },
        catalog: { ...database('catalog'), UPLOADS_DIR: join(dir, 'uploads') },
        // The sweeper every 200 ms; a charge unanswered for 500 ms is unknown (its step's grace is then 11.5 s).
        purchase: { ...database('purchase'), CATALOG_URL: catalogProxy.url, SWEEP_INTERVAL_MS: '200', GATEWAY_TIMEOUT_MS: '500', ORDER_PAYMENT_TTL_SECONDS: '120' },
      },
    });
    void stack.exited.then(({ service, code }) => unexpectedExits.push(`${service} exited on its own with code ${code}`));
    shop = { purchaseUrl: stack.urls.purchase, purchaseDb: await rootConnection('purchase'), catalogDb: await rootConnection('catalog'), stockPut: new Map() };
    seller = await signUp('Fault Seller');
  }, 90_000);

  afterAll(async () => {
    for (const pid of frozenPids) process.kill(pid, 'SIGCONT');
    await Promise.allSettled(connections.map((connection) => connection.end()));
    await stack?.stop();
    await catalogProxy?.close();
    proxy?.close();
    await pair?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  cases.forEach((spec, index) => test(spec.name, () => runCase(index, spec), 90_000));
});
