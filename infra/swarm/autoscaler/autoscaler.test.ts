/** Autoscaling passes against a fake engine, with a clock the test moves 10 s per pass. */
import { afterEach, beforeEach, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@bookstore/shared/config';
import { createMemoryLogger } from '@bookstore/shared/log';
import { createAutoscaler } from './autoscaler.ts';
import { autoscalerConfigSchema } from './config.ts';
import { createDockerClient } from './docker.ts';
import { startFakeEngine } from './fake-docker-engine.ts';

const hex = (seed: string) => seed.repeat(64).slice(0, 64);
let dir: string;
let engine: ReturnType<typeof startFakeEngine>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'autoscaler-'));
  engine = startFakeEngine(
    { unix: join(dir, 'docker.sock') },
    {
      services: [
        { id: 'svc-catalog', name: 'bookstore_catalog', replicas: 3, version: 41, updatedAt: '2025-01-06T09:00:00Z', labels: { 'bookstore.autoscale': 'true', 'bookstore.autoscale.max': '4' } },
        { id: 'svc-purchase', name: 'bookstore_purchase', replicas: 3, version: 7, updatedAt: '2025-01-06T09:00:00Z', labels: { 'bookstore.autoscale': 'true', 'bookstore.autoscale.min': 'two' } },
      ],
      tasks: ['a', 'b', 'c'].flatMap((slot) => [
        { serviceId: 'svc-catalog', containerId: hex(`c${slot}`), state: 'running' as const },
        { serviceId: 'svc-purchase', containerId: hex(`p${slot}`), state: 'running' as const },
      ]),
      containers: ['a', 'b', 'c'].flatMap((slot) => [
        { id: hex(`c${slot}`), serviceId: 'svc-catalog', cpuPercent: 85 },
        { id: hex(`p${slot}`), serviceId: 'svc-purchase', cpuPercent: 85 },
      ]),
    },
  );
});
afterEach(() => {
  engine.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** An autoscaler with a 30 s scale-up window and 10 s samples, and a clock that `tick` moves. */
function setUp(dryRun: boolean) {
  const config = parseConfig(autoscalerConfigSchema, {
    DOCKER_HOST: engine.url,
    SAMPLE_SECONDS: '10',
    SCALE_UP_WINDOW_SECONDS: '30',
    SCALE_DOWN_WINDOW_SECONDS: '60',
    COOLDOWN_SECONDS: '60',
  });
  const log = createMemoryLogger('autoscaler');
  let clock = Date.now();
  const autoscaler = createAutoscaler({ docker: createDockerClient({ host: config.DOCKER_HOST }), config, log, dryRun, now: () => clock });
  const passes = async (count: number) => {
    for (let i = 0; i < count; i++) {
      await autoscaler.pass();
      clock += 10_000;
    }
  };
  // Repeats are logged at debug; what an operator reads at info is what is asserted.
  const entries = () => log.lines.map((line) => JSON.parse(line) as Record<string, any>).filter((entry) => entry.level !== 'debug');
  return { passes, entries };
}

test('sustained load over the window scales the service up once, then the cooldown and max hold it', async () => {
  const { passes, entries } = setUp(false);
  await passes(3); // samples at 0, 10, 20 s: the 30 s window is not covered yet
  expect(engine.state.updates).toEqual([]);
  await passes(1); // at 30 s
  expect(engine.state.updates).toHaveLength(1);
  expect(engine.state.updates[0]).toMatchObject({ serviceId: 'svc-catalog', version: 41, body: { Mode: { Replicated: { Replicas: 4 } } } });

  const decisions = entries().filter((entry) => entry.msg === 'decision' && entry.swarmService === 'bookstore_catalog');
  expect(decisions.map((entry) => entry.code)).toEqual(['not-enough-data', 'sustained-high']);
  expect(decisions[1]).toMatchObject({ level: 'info', service: 'autoscaler', action: 'scale-up', from: 3, to: 4, cpuPercent: 85, measured: 3, running: 3, dryRun: false });
  expect(entries().find((entry) => entry.msg === 'scaled')).toMatchObject({ swarmService: 'bookstore_catalog', from: 3, to: 4, version: 41 });

  await passes(12); // two minutes more of the same load: cooldown, then at max 4
  expect(engine.state.updates).toHaveLength(1);
  const later = entries().filter((entry) => entry.msg === 'decision' && entry.swarmService === 'bookstore_catalog' && entry.level === 'info');
  expect(later.map((entry) => entry.code)).toEqual(['not-enough-data', 'sustained-high', 'cooldown', 'at-max']);
});

test('a service whose bounds labels are unusable is left alone, and the log says why', async () => {
  const { passes, entries } = setUp(false);
  await passes(5);
  expect(engine.state.updates.map((update) => update.serviceId)).toEqual(['svc-catalog']);
  const warnings = entries().filter((entry) => entry.msg === 'service left alone');
  expect(warnings).toHaveLength(1); // said once, not every pass
  expect(warnings[0]).toMatchObject({ level: 'warn', swarmService: 'bookstore_purchase', error: 'bookstore.autoscale.min and bookstore.autoscale.max must be whole numbers' });
});

test('a dry run logs the decision and changes nothing', async () => {
  const { passes, entries } = setUp(true);
  await passes(4);
  expect(engine.state.updates).toEqual([]);
  expect(engine.state.requests.some((request) => request.startsWith('POST'))).toBe(false);
  expect(entries().find((entry) => entry.action === 'scale-up')).toMatchObject({ swarmService: 'bookstore_catalog', from: 3, to: 4, dryRun: true });
});

test('tasks the engines cannot see are reported, and the reading is the mean of those seen', async () => {
  engine.state.containers = engine.state.containers.filter((container) => container.id !== hex('ca'));
  const { passes, entries } = setUp(false);
  await passes(2);
  const coverage = entries().filter((entry) => entry.msg === 'tasks not sampled');
  expect(coverage).toHaveLength(1);
  expect(coverage[0]).toMatchObject({ swarmService: 'bookstore_catalog', measured: 2, running: 3 });
});
