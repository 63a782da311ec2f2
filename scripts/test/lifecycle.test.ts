/**
 * How a task behaves in Swarm, run as the real process: its container health check (/health/task)
 * asks only about the task itself; on SIGTERM it first reports "stopping" on /health/ready while it
 * still serves (so balancers stop sending to it), then finishes and exits 0.
 */
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eventually } from '../../shared/src/testing/http.ts';
import { findFreePorts } from '../stack.ts';

const root = resolve(import.meta.dir, '../..');
const dir = mkdtempSync(join(tmpdir(), 'lifecycle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startCatalog(env: Record<string, string>) {
  const [port] = await findFreePorts(1);
  const output: string[] = [];
  const child = Bun.spawn(['bun', 'services/catalog/src/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), DATABASE_URL: `sqlite:${join(dir, `catalog-${port}.sqlite`)}`, UPLOADS_DIR: join(dir, 'uploads'), SERVICE_TOKEN: 'lifecycle-test-service-token-0123456789', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  for (const stream of [child.stdout, child.stderr]) void (async () => { for await (const chunk of stream) output.push(new TextDecoder().decode(chunk)); })();
  const url = `http://127.0.0.1:${port}`;
  const up = await eventually(async () => (await fetch(`${url}/health/live`).catch(() => null))?.ok === true, 20_000, 100);
  if (up === null) throw new Error(`catalog did not start: ${output.join('').slice(-2000)}`);
  return { child, url, output };
}

test('auth being unreachable makes catalog not ready, but its task stays healthy: Swarm keeps it', async () => {
  const catalog = await startCatalog({ AUTH_URL: 'http://127.0.0.1:1' });
  try {
    const ready = await fetch(`${catalog.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { down: string[] }).down).toEqual(['auth-token-check']);
    const task = await fetch(`${catalog.url}/health/task`);
    expect(task.status).toBe(200);
    expect(((await task.json()) as { checks: Record<string, string> }).checks).toEqual({ database: 'up' });
  } finally {
    catalog.child.kill('SIGKILL');
  }
}, 30_000);

test('on SIGTERM a task reports "stopping" while it still serves, for SHUTDOWN_DRAIN_MS, then exits 0', async () => {
  const catalog = await startCatalog({ AUTH_URL: 'http://127.0.0.1:1', SHUTDOWN_DRAIN_MS: '1500' });
  catalog.child.kill('SIGTERM');
  const draining = await eventually(async () => {
    const ready = await fetch(`${catalog.url}/health/ready`).catch(() => null);
    return ready?.status === 503 && ((await ready.json()) as { status: string }).status === 'stopping';
  }, 1000, 20);
  expect(draining).not.toBeNull();
  // Still serving while it drains.
  expect((await fetch(`${catalog.url}/api/books`)).status).toBe(200);
  expect(await catalog.child.exited).toBe(0);
  expect(catalog.output.join('')).toContain('"drainMs":1500');
}, 30_000);
