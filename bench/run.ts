/**
 * `bun run bench`: the whole shop on MariaDB with 100,000 generated books, the bare reference page
 * beside it, every row of issue 8 driven by wrk, then bench/RESULTS.md (its generated section) and
 * bench/results.svg written. Stops everything it started, also on failure or Ctrl-C.
 *
 *   bun bench/run.ts [--seconds 5] [--warmup 2] [--connections 32] [--threads 2] [--books 100000]
 *                    [--login-accounts 200] [--buyers 16] [--only ROW,ROW…] [--no-write] [--profile DIR]
 *
 * --profile DIR: each process writes its CPU profile there as Markdown when it stops (bun --cpu-prof-md).
 *
 * MariaDB: BENCH_DATABASE_URL (or TEST_DATABASE_URL), default mariadb://root@127.0.0.1:3306/test;
 * the run creates three databases there and drops them. wrk: `apt-get install -y wrk`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart } from './chart.ts';
import { describeMachine, readVersions, residentMemory, type Memory } from './machine.ts';
import { evaluateTargets, renderSection, replaceSection, type BenchReport, type CheckoutResult, type RowResult } from './report.ts';
import { checkoutRow, loginUnderLoadSteps, readSteps, type Step } from './rows.ts';
import { startBenchShop, Teardown, type BenchShop } from './shop.ts';
import { checkoutBooks, checkStock, stockLedger } from './stock.ts';
import { runWrk, wrkVersion } from './wrk.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string', default: '2' },
    books: { type: 'string', default: '100000' },
    'login-accounts': { type: 'string', default: '200' },
    buyers: { type: 'string', default: '16' },
    only: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const settings = {
  seconds: positive('seconds'),
  warmup: Number(values.warmup),
  connections: positive('connections'),
  threads: positive('threads'),
  books: positive('books'),
};
const only = values.only?.split(',').map((id) => id.trim()).filter(Boolean);
const selected = (id: string) => !only || id === 'bare' || only.some((prefix) => id.startsWith(prefix));
const resultsFile = resolve(import.meta.dir, 'RESULTS.md');
const chartFile = resolve(import.meta.dir, 'results.svg');

const teardown = new Teardown();
const stopLoad = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    console.error(`\nbench: ${signal}, stopping what was started…`);
    stopLoad.abort();
    await teardown.run();
    process.exit(130);
  });
}

/** Fragments the web front could not get in time: it logs a warning and still answers 200. */
let degradedFragments = 0;
const startedAt = new Date();
let exitCode = 0;
try {
  const wrk = await wrkVersion(); // before anything starts: no wrk, no run
  const machine = describeMachine();
  const shop = await startBenchShop(
    {
      books: settings.books,
      loginAccounts: positive('login-accounts'),
      buyers: positive('buyers'),
      profileDir: values.profile ? resolve(values.profile) : undefined,
      progress: (message) => console.log(`bench: ${message}`),
      onLine: (service, line) => {
        if (service === 'web' && line.includes('fragment unavailable')) degradedFragments++;
        else if (/"level":"error"/.test(line)) console.error(`bench: ${service} logged an error: ${line.slice(0, 400)}`);
      },
    },
    teardown,
  );
  const versions = await readVersions(shop.databases.catalog, wrk);
  const load = { threads: settings.threads, connections: settings.connections };

  const rows: RowResult[] = [];
  for (const step of [...readSteps(shop, load), ...loginUnderLoadSteps(shop, load)]) {
    if (step.every((row) => !selected(row.id))) continue;
    rows.push(...(await Promise.race([runStep(step), shop.failed])));
  }
  let checkout: CheckoutResult | undefined;
  if (selected('checkout')) {
    checkout = await Promise.race([runCheckout(shop, load, rows), shop.failed]);
  }
  const memory: Record<string, Memory> = {};
  for (const [name, pid] of Object.entries(shop.pids)) memory[name === 'bare' ? 'bare reference' : name] = residentMemory(pid);

  const report: BenchReport = {
    startedAt,
    minutes: (Date.now() - startedAt.getTime()) / 60_000,
    command: `bun bench/run.ts ${Bun.argv.slice(2).join(' ')}`.trim(),
    settings: { ...settings },
    machine,
    versions,
    rows,
    checkout,
    memory,
  };
  const targets = evaluateTargets(report);
  const section = renderSection(report, targets);
  console.log(`\n${section}\n`);
  if (values['no-write']) {
    console.log('bench: --no-write, RESULTS.md and results.svg left as they were');
  } else {
    writeFileSync(resultsFile, replaceSection(readFileSync(resultsFile, 'utf8'), section));
    const title = `Bookstore, ${machine.cores} cores, ${settings.books.toLocaleString('en-US')} books, wrk -c${settings.connections} — ${startedAt.toISOString().slice(0, 10)}`;
    writeFileSync(chartFile, renderChart(title, rows.map(({ row, wrk }) => ({ label: row.label, perSecond: wrk.perSecond, p99: wrk.p99, reference: row.id === 'bare' }))));
    console.log(`bench: wrote ${resultsFile} and ${chartFile}`);
  }
} catch (error) {
  console.error(`bench: failed: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  stopLoad.abort();
  await teardown.run();
}
process.exit(exitCode);

/** Warm-up, then the measured run, of every row of the step at once. */
async function runStep(step: Step): Promise<RowResult[]> {
  await preflight(step);
  if (settings.warmup > 0) await Promise.all(step.map((row) => runWrk({ ...row.run, seconds: settings.warmup }, stopLoad.signal)));
  const degradedBefore = degradedFragments;
  const results = await Promise.all(step.map((row) => runWrk({ ...row.run, seconds: settings.seconds }, stopLoad.signal)));
  // Requests wrk gave up on at the end may still be running: let them finish before the next row.
  await Bun.sleep(500);
  const degraded = degradedFragments - degradedBefore;
  return step.map((row, n) => {
    const wrk = results[n]!;
    const result = { row, wrk, degraded: row.service === 'web' ? degraded : 0 };
    console.log(`bench: ${row.label.padEnd(66)} ${Math.round(wrk.perSecond).toString().padStart(6)} req/s  p50 ${wrk.p50.toFixed(1)} ms  p99 ${wrk.p99.toFixed(1)} ms${wrk.non2xx + wrk.socketErrors + result.degraded ? `  errors ${wrk.non2xx + wrk.socketErrors + result.degraded}` : ''}`);
    return result;
  });
}

/** One request per plain GET row first: a row answering 404 or an error page would measure nothing. */
async function preflight(step: Step) {
  for (const row of step.filter((candidate) => !candidate.run.script)) {
    const response = await fetch(row.run.url, { headers: row.run.headers, redirect: 'manual' });
    const body = await response.text();
    if (response.status >= 300) throw new Error(`row "${row.label}": GET ${row.run.url} answered ${response.status}: ${body.slice(0, 200)}`);
  }
}

/** Orders and payments through purchase's API; the books' stock is accounted before and after. */
async function runCheckout(shop: BenchShop, load: { threads: number; connections: number }, rows: RowResult[]): Promise<CheckoutResult> {
  const providers = (await (await fetch(`${shop.urls.purchase}/api/delivery-providers`)).json()) as { id: number }[];
  const providerId = providers[0]?.id;
  if (providerId === undefined) throw new Error('purchase lists no delivery provider');
  const bookIds = await checkoutBooks(shop.databases.catalog, 100);
  const before = await stockLedger(shop.databases.catalog, bookIds);
  const [result] = await runStep([checkoutRow(shop, load, bookIds, providerId)]);
  rows.push(result!);
  const line = result!.wrk.scriptLines.find((text) => text.startsWith('bench: checkout')) ?? '';
  const count = (name: string) => Number(line.match(new RegExp(`${name}=([\\d.]+)`))?.[1] ?? 0);
  if (!line) throw new Error('the checkout script printed no counts');
  const stock = await checkStock(shop.databases.catalog, shop.databases.purchase, before);
  return { placed: count('placed'), paid: count('paid'), pending: count('pending'), refused: count('refused'), failed: count('failed'), perSecond: count('paid') / (count('seconds') || settings.seconds), stock };
}

function positive(name: keyof typeof values): number {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`bench: --${name} must be a positive number`);
    process.exit(2);
  }
  return value;
}
