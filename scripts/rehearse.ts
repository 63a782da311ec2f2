/**
 * `bun run rehearse`: the production topology rehearsed on one machine, step by step, with figures.
 *
 *   three "nodes" (127.0.0.2–4) running the services' tasks as the stack places them; HAProxy in
 *   front of each service as the routing mesh; a MariaDB primary + replica started by the stack's own
 *   init scripts (infra/mysql); one shared directory standing in for the NFS volume.
 *
 * Steps: the smoke journey through the mesh; every task restarted one at a time under steady load
 * (failed requests counted: must be 0); one node's processes killed (the shop must keep answering);
 * the replica database stopped (reads must fall back). Prints each step, writes the figures to
 * bench/RESULTS.md (unless --no-write), exits non-zero if a step failed, stops all it started.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startLocalPair, type LocalPair } from '../infra/mysql/local-pair.ts';
import { runSmoke } from '../infra/swarm/smoke.ts';
import { nodes, placement, serviceNames, startCluster, type Cluster, type ServiceName } from './rehearsal/cluster.ts';
import { startLoad } from './rehearsal/load.ts';
import { findFreePorts } from './stack.ts';

const root = resolve(import.meta.dir, '..');
const write = !process.argv.includes('--no-write');

interface Step {
  name: string;
  ok: boolean;
  figures: string;
}
const steps: Step[] = [];

async function step(name: string, run: () => Promise<string>): Promise<boolean> {
  const started = Date.now();
  process.stdout.write(`▸ ${name} … `);
  try {
    const figures = await run();
    steps.push({ name, ok: true, figures });
    console.log(`ok (${((Date.now() - started) / 1000).toFixed(1)} s) ${figures}`);
    return true;
  } catch (error) {
    const figures = (error as Error).message;
    steps.push({ name, ok: false, figures });
    console.log(`FAILED (${((Date.now() - started) / 1000).toFixed(1)} s)\n  ${figures.replaceAll('\n', '\n  ')}`);
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bookstore-rehearsal-'));
let pair: LocalPair | undefined;
let cluster: Cluster | undefined;

async function main() {
  const ports = await findFreePorts(9);
  const taskPorts = { web: ports[0]!, auth: ports[1]!, catalog: ports[2]!, purchase: ports[3]! };
  const meshPorts = { web: ports[4]!, auth: ports[5]!, catalog: ports[6]!, purchase: ports[7]!, stats: ports[8]! };

  await step('MariaDB primary + replica from the stack\'s init scripts', async () => {
    pair = await startLocalPair({ parentDir: dir });
    return `up and replicating in ${(pair.timings.totalMs / 1000).toFixed(1)} s`;
  });
  if (!pair) return;

  // Secrets as files, as Docker secrets arrive; the shared directory as the NFS volume.
  const secrets = join(dir, 'secrets');
  mkdirSync(secrets);
  writeFileSync(join(secrets, 'service_token'), randomBytes(32).toString('base64url'));
  writeFileSync(join(secrets, 'signing_key'), generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  const share = join(dir, 'nfs-share');
  cpSync(join(root, 'web/static'), join(share, 'static'), { recursive: true });
  mkdirSync(join(share, 'uploads'));
  const mesh = (service: ServiceName) => `http://127.0.0.1:${meshPorts[service]}`;
  const database = (service: 'auth' | 'catalog' | 'purchase') => ({ DATABASE_URL: pair!.primaryUrl(service), DATABASE_READ_URLS: pair!.replicaUrl(service) });

  const started = await step('three nodes: 11 tasks behind HAProxy', async () => {
    cluster = await startCluster({
      dir,
      taskPorts,
      meshPorts,
      shared: {
        BOOKSTORE_ENV: 'production',
        LOG_LEVEL: 'warn',
        SERVICE_TOKEN_FILE: join(secrets, 'service_token'),
        SHUTDOWN_DRAIN_MS: '1500',
        AUTH_URL: mesh('auth'),
        CATALOG_URL: mesh('catalog'),
        PURCHASE_URL: mesh('purchase'),
      },
      env: {
        auth: { ...database('auth'), SIGNING_KEY_FILE: join(secrets, 'signing_key') },
        catalog: { ...database('catalog'), UPLOADS_DIR: join(share, 'uploads') },
        purchase: { ...database('purchase'), GATEWAY_URL: mesh('purchase') },
        web: { STATIC_DIR: join(share, 'static') },
      },
    });
    return `${cluster.tasks.length} tasks on ${nodes.join(', ')}`;
  });
  if (!started || !cluster) return;
  const shop = cluster.mesh.web;

  // A seller with a book in stock, through the public API, as the smoke journey expects one.
  const seller = { email: `seller.${Date.now()}@rehearsal.test`, password: 'rehearsal-seller-pass' };
  await fetch(`${mesh('auth')}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Rehearsal Seller', ...seller }) });

  await step('smoke journey through the mesh: register → browse → buy → paid', async () => {
    const result = await runSmoke(shop, { seedSeller: seller });
    if (!result.ok) throw new Error(result.steps.map((s) => `${s.ok ? 'ok  ' : 'FAIL'} ${s.name} ${s.detail ?? ''}`).join('\n'));
    return `${result.steps.length} steps`;
  });

  const loadUrls = [`${shop}/`, `${shop}/catalog`, `${shop}/catalog?q=book`, `${shop}/static/style.css`, `${mesh('catalog')}/api/books`, `${mesh('purchase')}/api/delivery-providers`, `${mesh('auth')}/.well-known/jwks.json`];

  await step('rolling restart of every task, one at a time, under steady load: no failed request', async () => {
    const load = startLoad(loadUrls, { clients: 8 });
    let restarted = 0;
    const restartAll = async () => {
      for (const service of serviceNames) {
        for (const node of placement[service]) {
          const task = cluster!.tasks.find((candidate) => candidate.service === service && candidate.node === node)!;
          // As Swarm's start-first update: the new task comes up, then the old one drains and stops.
          // Here both would share an address, so: stop (it reports "stopping" and drains), then start.
          const code = await cluster!.stopTask(task, 'SIGTERM');
          if (code !== 0) throw new Error(`${service} on ${nodes[node]} exited ${code} on SIGTERM: ${task.lines.slice(-10).join('\n')}`);
          await cluster!.startTask(service, node);
          await cluster!.waitForMesh({ service, node }, 'UP');
          restarted++;
        }
      }
    };
    const problem = await restartAll().then(() => null, (error: Error) => error);
    const result = await load.stop();
    if (problem) throw problem;
    if (result.failed) throw new Error(`${result.failed} of ${result.requests} requests failed: ${result.failures.join('; ')}`);
    return `${restarted} tasks restarted; ${result.requests} requests in ${(result.ms / 1000).toFixed(1)} s, 0 failed`;
  });

  await step(`node ${nodes[2]} lost (every process killed): the shop keeps answering`, async () => {
    const load = startLoad(loadUrls, { clients: 8 });
    const lost = cluster!.tasks.filter((task) => task.node === 2);
    for (const task of lost) await cluster!.stopTask(task, 'SIGKILL');
    for (const task of lost) await cluster!.waitForMesh(task, 'DOWN');
    const duringDetection = await load.stop();
    // Once the mesh has noticed, nothing may fail.
    const after = startLoad(loadUrls, { clients: 8, maxMs: 5000 });
    await Bun.sleep(5000); // a fixed stretch of load on the smaller cluster, not a wait for a condition
    const settled = await after.stop();
    if (settled.failed) throw new Error(`${settled.failed} of ${settled.requests} requests failed after the node was marked down: ${settled.failures.join('; ')}`);
    const smoke = await runSmoke(shop, { seedSeller: seller });
    if (!smoke.ok) throw new Error(`the smoke journey failed without the node: ${smoke.steps.filter((s) => !s.ok).map((s) => s.name).join(', ')}`);
    return `${lost.length} tasks killed; while HAProxy noticed: ${duringDetection.failed} of ${duringDetection.requests} failed; after: ${settled.requests} requests, 0 failed; smoke ok`;
  });

  await step('replica database stopped: reads fall back to the primary', async () => {
    await pair!.stopServer('replica');
    const timings: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const response = await fetch(`${shop}/catalog`);
      const body = await response.text();
      timings.push(performance.now() - started);
      if (response.status !== 200 || !body.includes('book-card')) throw new Error(`the catalog page answered ${response.status} without books`);
    }
    const api = await fetch(`${mesh('catalog')}/api/books`);
    if (api.status !== 200) throw new Error(`GET /api/books answered ${api.status}`);
    const smoke = await runSmoke(shop, { seedSeller: seller });
    if (!smoke.ok) throw new Error(`the smoke journey failed with the replica down: ${smoke.steps.filter((s) => !s.ok).map((s) => s.name).join(', ')}`);
    return `20 catalog pages, first ${timings[0]!.toFixed(0)} ms, median ${timings.sort((a, b) => a - b)[10]!.toFixed(0)} ms; smoke ok`;
  });
}

function report(): string {
  const rows = steps.map((s) => `| ${s.name} | ${s.ok ? 'ok' : '**failed**'} | ${s.figures.replaceAll('\n', ' ').replaceAll('|', '/')} |`);
  return `<!-- rehearsal:start -->
## Cluster rehearsal (\`bun run rehearse\`)

${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · ${navigator.hardwareConcurrency} cores · Bun ${Bun.version} · MariaDB primary + replica · HAProxy · 3 loopback nodes

| step | result | figures |
|---|---|---|
${rows.join('\n')}
<!-- rehearsal:end -->`;
}

try {
  await main();
} finally {
  await cluster?.stop().catch(() => undefined);
  await pair?.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
const failed = steps.filter((s) => !s.ok);
if (write && steps.length) {
  const file = join(root, 'bench/RESULTS.md');
  const current = readFileSync(file, 'utf8');
  const section = report();
  writeFileSync(file, /<!-- rehearsal:start -->[\s\S]*<!-- rehearsal:end -->/.test(current) ? current.replace(/<!-- rehearsal:start -->[\s\S]*<!-- rehearsal:end -->/, section) : `${current.trimEnd()}\n\n${section}\n`);
}
console.log(failed.length ? `\nRehearsal failed: ${failed.map((s) => s.name).join('; ')}` : `\nRehearsal passed: ${steps.length} steps.`);
process.exit(failed.length || steps.length < 6 ? 1 : 0);
