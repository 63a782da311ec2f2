/** The process as Swarm runs it, in a dry run against a fake engine: it samples, decides, logs, and stops on SIGTERM. */
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeEngine } from './fake-docker-engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'autoscaler-main-'));
const hex = (seed: string) => seed.repeat(64).slice(0, 64);
const engine = startFakeEngine(
  { unix: join(dir, 'docker.sock') },
  {
    services: [{ id: 'svc-web', name: 'bookstore_web', replicas: 2, version: 5, updatedAt: '2025-01-06T09:00:00Z', labels: { 'bookstore.autoscale': 'true' } }],
    tasks: [
      { serviceId: 'svc-web', containerId: hex('w1'), state: 'running' },
      { serviceId: 'svc-web', containerId: hex('w2'), state: 'running' },
    ],
    containers: [
      { id: hex('w1'), serviceId: 'svc-web', cpuPercent: 90 },
      { id: hex('w2'), serviceId: 'svc-web', cpuPercent: 70 },
    ],
  },
);
afterAll(() => {
  engine.stop();
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

test('--dry-run: logs a scale-up decision as JSON, sends no update, is ready, and exits 0 on SIGTERM', async () => {
  const port = freePort();
  const child = Bun.spawn([process.execPath, join(import.meta.dir, 'main.ts'), '--dry-run'], {
    env: {
      PATH: process.env.PATH,
      DOCKER_HOST: engine.url,
      SAMPLE_SECONDS: '1',
      SCALE_UP_WINDOW_SECONDS: '3',
      SCALE_DOWN_WINDOW_SECONDS: '3',
      HOST: '127.0.0.1',
      PORT: String(port),
    },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const lines: Record<string, any>[] = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      const complete = buffered.split('\n');
      buffered = complete.pop() ?? '';
      for (const line of complete) if (line.trim()) lines.push(JSON.parse(line));
    }
  })();

  const deadline = Date.now() + 15_000;
  while (!lines.some((line) => line.action === 'scale-up') && Date.now() < deadline && child.exitCode === null) await Bun.sleep(100);
  const decision = lines.find((line) => line.action === 'scale-up');
  expect(decision).toMatchObject({ msg: 'decision', service: 'autoscaler', swarmService: 'bookstore_web', from: 2, to: 3, code: 'sustained-high', dryRun: true });
  expect(decision!.reason).toMatch(/^CPU stayed above 50% for 3 s/);
  expect(lines[0]).toMatchObject({ msg: 'started', dryRun: true, policy: { scaleUpAbovePercent: 50, cooldownSeconds: 300 } });

  const task = await fetch(`http://127.0.0.1:${port}/health/task`); // what the image's HEALTHCHECK asks
  expect(await task.json()).toMatchObject({ status: 'up', checks: { sampling: 'up' } });
  const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({ status: 'up', checks: { docker: 'up', sampling: 'up' } });

  child.kill('SIGTERM');
  expect(await child.exited).toBe(0);
  await reading;
  expect(lines.at(-1)).toMatchObject({ msg: 'stopping', signal: 'SIGTERM' });
  expect(engine.state.requests.filter((request) => request.startsWith('POST'))).toEqual([]);
}, 20_000);
