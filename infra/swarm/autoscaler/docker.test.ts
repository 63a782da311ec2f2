/** The Docker client against a fake engine on a unix socket (no engine runs here), and a second one on 127.0.0.1. */
import { afterAll, beforeEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuPercent, createDockerClient, DockerError } from './docker.ts';
import { startFakeEngine, statsDocument, type FakeEngineState } from './fake-docker-engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'autoscaler-docker-'));
const hex = (seed: string) => seed.repeat(64).slice(0, 64);
const [c1, c2, c3, p1, p2, p3] = ['c1', 'c2', 'c3', 'p1', 'p2', 'p3'].map(hex) as [string, string, string, string, string, string];

function swarm(): { manager: Partial<FakeEngineState>; worker: Partial<FakeEngineState> } {
  return {
    // The manager's engine knows every service and task, but runs only its own node's containers.
    manager: {
      services: [
        { id: 'svc-catalog', name: 'bookstore_catalog', replicas: 3, nanoCpus: 500_000_000, version: 41, updatedAt: '2025-01-06T09:00:00.000000000Z', labels: { 'bookstore.autoscale': 'true', 'bookstore.autoscale.min': '3', 'bookstore.autoscale.max': '8' } },
        { id: 'svc-purchase', name: 'bookstore_purchase', replicas: 3, version: 17, updatedAt: '2025-01-06T09:00:00.000000000Z', labels: { 'bookstore.autoscale': 'true' } },
        { id: 'svc-auth', name: 'bookstore_auth', replicas: 3, version: 9, updatedAt: '2025-01-06T09:00:00.000000000Z', labels: {} },
        { id: 'svc-edge', name: 'bookstore_edge', version: 3, updatedAt: '2025-01-06T09:00:00.000000000Z', labels: { 'bookstore.autoscale': 'true' } },
      ],
      tasks: [
        { serviceId: 'svc-catalog', containerId: c1, state: 'running' },
        { serviceId: 'svc-catalog', containerId: c2, state: 'running' },
        { serviceId: 'svc-catalog', containerId: c3, state: 'running' },
        { serviceId: 'svc-catalog', containerId: hex('dead'), state: 'shutdown' },
        { serviceId: 'svc-purchase', containerId: p1, state: 'running' },
        { serviceId: 'svc-purchase', containerId: p2, state: 'running' },
        { serviceId: 'svc-purchase', containerId: p3, state: 'starting' },
      ],
      containers: [
        { id: c1, serviceId: 'svc-catalog', cpuPercent: 30 },
        { id: p1, serviceId: 'svc-purchase', cpuPercent: 50 },
      ],
    },
    // Another node's engine (through a read-only proxy in the stack): only its own containers.
    worker: {
      containers: [
        { id: c2, serviceId: 'svc-catalog', cpuPercent: 40 },
        { id: p2, serviceId: 'svc-purchase', cpuPercent: 70 },
        { id: hex('other'), serviceId: 'svc-auth', cpuPercent: 99 },
      ],
    },
  };
}

let manager: ReturnType<typeof startFakeEngine>;
let worker: ReturnType<typeof startFakeEngine>;
beforeEach(() => {
  manager?.stop();
  worker?.stop();
  rmSync(join(dir, 'docker.sock'), { force: true });
  const state = swarm();
  manager = startFakeEngine({ unix: join(dir, 'docker.sock') }, state.manager);
  worker = startFakeEngine({ port: 0 }, state.worker);
});
afterAll(() => {
  manager.stop();
  worker.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('listing', () => {
  test('lists the labelled replicated services with their replicas, bounds labels and CPU limit; global ones apart', async () => {
    const docker = createDockerClient({ host: manager.url });
    const { services, global } = await docker.listAutoscaledServices('bookstore.autoscale');
    expect(services.map((service) => service.name)).toEqual(['bookstore_catalog', 'bookstore_purchase']);
    expect(services[0]).toMatchObject({ id: 'svc-catalog', replicas: 3, cpuLimit: 0.5, updatedAt: Date.parse('2025-01-06T09:00:00Z') });
    expect(services[0]!.labels['bookstore.autoscale.max']).toBe('8');
    expect(services[1]!.cpuLimit).toBeUndefined();
    expect(global).toEqual(['bookstore_edge']);
    expect(manager.state.requests[0]).toBe(`GET /services?filters=${encodeURIComponent('{"label":["bookstore.autoscale=true"]}')}`);
  });

  test("a service's running containers are those of its running tasks", async () => {
    const docker = createDockerClient({ host: manager.url });
    expect(await docker.runningContainers('svc-catalog')).toEqual([c1, c2, c3]);
    expect(await docker.runningContainers('svc-purchase')).toEqual([p1, p2]);
  });
});

describe('CPU', () => {
  test('CPU % is computed as docker stats does, from cpu_stats and precpu_stats', () => {
    // Recorded from `docker stats`: a container busy on 1.5 of a 4-CPU host's cores during one second.
    const stats = {
      cpu_stats: { cpu_usage: { total_usage: 9_623_456_789 }, system_cpu_usage: 1_734_571_890_000_000, online_cpus: 4 },
      precpu_stats: { cpu_usage: { total_usage: 8_123_456_789 }, system_cpu_usage: 1_734_567_890_000_000, online_cpus: 4 },
    };
    expect(cpuPercent(stats)).toBeCloseTo(150, 6);
    expect(cpuPercent(statsDocument({ id: c1, cpuPercent: 37.5 }))).toBeCloseTo(37.5, 6);
    // Older engines leave online_cpus out: the per-CPU list gives the count.
    const older = { ...stats, cpu_stats: { ...stats.cpu_stats, online_cpus: undefined, cpu_usage: { ...stats.cpu_stats.cpu_usage, percpu_usage: [1, 2, 3, 4] } } };
    expect(cpuPercent(older)).toBeCloseTo(150, 6);
  });

  test('a one-shot reading without a previous one has no CPU %, rather than a wrong one', () => {
    expect(cpuPercent({ cpu_stats: { cpu_usage: { total_usage: 5e9 }, system_cpu_usage: 1e15, online_cpus: 4 }, precpu_stats: { cpu_usage: { total_usage: 0 } } })).toBeUndefined();
  });

  test("samples each node's engine, relative to the CPU limit when there is one, and says how many tasks it saw", async () => {
    const docker = createDockerClient({ host: manager.url, sampleEngines: [manager.url, worker.url] });
    const services = [
      { id: 'svc-catalog', containers: [c1, c2, c3], cpuLimit: 0.5 },
      { id: 'svc-purchase', containers: [p1, p2], cpuLimit: undefined },
    ];
    const { readings, failures } = await docker.sampleCpu(services);
    expect(failures).toEqual([]);
    // catalog: 30% and 40% of a core with a limit of half a core are 60% and 80% of the limit; c3's node is not sampled.
    expect(readings.get('svc-catalog')!.percent).toBeCloseTo(70, 6);
    expect(readings.get('svc-catalog')).toMatchObject({ measured: 2, running: 3 });
    expect(readings.get('svc-purchase')!.percent).toBeCloseTo(60, 6);
    expect(readings.get('svc-purchase')).toMatchObject({ measured: 2, running: 2 });
    expect(manager.state.requests).toContain(`GET /containers/${c1}/stats?stream=false`);
    expect(worker.state.requests.some((request) => request.includes(hex('other')))).toBe(false); // another service's container is not read
  });

  test('an engine that does not answer is reported and its tasks go unmeasured; the others still count', async () => {
    const docker = createDockerClient({ host: manager.url, sampleEngines: [manager.url, `unix://${join(dir, 'absent.sock')}`] });
    const { readings, failures } = await docker.sampleCpu([{ id: 'svc-purchase', containers: [p1, p2], cpuLimit: undefined }]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('absent.sock');
    expect(readings.get('svc-purchase')).toMatchObject({ percent: 50, measured: 1, running: 2 });
  });

  test("a name resolving to several addresses (Swarm's tasks.<service>) stands for an engine at each", async () => {
    const other = startFakeEngine({ port: 0 }, { containers: [{ id: c3, serviceId: 'svc-catalog', cpuPercent: 45 }] });
    try {
      // Both fakes are on 127.0.0.1 with their own ports, so each address below names one through its port.
      const asked: string[] = [];
      const lookupAll = async (hostname: string) => {
        asked.push(hostname);
        return [{ address: '127.0.0.1', family: 4 }];
      };
      const docker = createDockerClient({ host: manager.url, sampleEngines: [`http://tasks.docker-stats:${new URL(worker.url).port}`, `tcp://tasks.docker-stats:${new URL(other.url).port}`], lookupAll });
      const { readings, failures } = await docker.sampleCpu([{ id: 'svc-catalog', containers: [c1, c2, c3], cpuLimit: 1 }]);
      expect(failures).toEqual([]);
      expect(asked).toEqual(['tasks.docker-stats', 'tasks.docker-stats']);
      expect(readings.get('svc-catalog')).toMatchObject({ measured: 2, running: 3 });
      expect(readings.get('svc-catalog')!.percent).toBeCloseTo(42.5, 6);
    } finally {
      other.stop();
    }
  });

  test('a name resolving to two addresses is asked at both', async () => {
    const lookupAll = async () => [
      { address: '127.0.0.1', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const docker = createDockerClient({ host: manager.url, sampleEngines: [`http://tasks.docker-stats:${new URL(worker.url).port}`], lookupAll });
    await docker.sampleCpu([{ id: 'svc-catalog', containers: [c2], cpuLimit: undefined }]);
    expect(worker.state.requests.filter((request) => request.startsWith('GET /containers/json'))).toHaveLength(2);
  });

  test('without sample engines only the manager is asked', async () => {
    const docker = createDockerClient({ host: manager.url });
    const { readings } = await docker.sampleCpu([{ id: 'svc-purchase', containers: [p1, p2], cpuLimit: undefined }]);
    expect(readings.get('svc-purchase')).toMatchObject({ percent: 50, measured: 1, running: 2 });
    expect(worker.state.requests).toEqual([]);
  });
});

describe('scaling', () => {
  test("sends the service's own spec with only the replicas changed, at the version it read", async () => {
    const docker = createDockerClient({ host: manager.url });
    expect(await docker.scaleService('svc-catalog', 3, 4)).toEqual({ status: 'scaled', version: 41 });
    expect(manager.state.requests.slice(-2)).toEqual(['GET /services/svc-catalog', 'POST /services/svc-catalog/update?version=41']);
    const [update] = manager.state.updates;
    expect(update!.body.Mode).toEqual({ Replicated: { Replicas: 4 } });
    expect(update!.body.Name).toBe('bookstore_catalog');
    expect(update!.body.TaskTemplate.ContainerSpec.Image).toContain('@sha256:');
    expect(update!.body.TaskTemplate.Resources.Limits.NanoCPUs).toBe(500_000_000);
    expect(update!.body.UpdateConfig.FailureAction).toBe('rollback');
    // The engine now has 4 replicas at the next version.
    expect((await docker.listAutoscaledServices('bookstore.autoscale')).services[0]!.replicas).toBe(4);
  });

  test('when someone changed the replicas since the decision, it does not overwrite them', async () => {
    const docker = createDockerClient({ host: manager.url });
    const result = await docker.scaleService('svc-catalog', 5, 6);
    expect(result).toEqual({ status: 'skipped', reason: 'replicas are 3 now, not 5: changed since the decision' });
    expect(manager.state.updates).toEqual([]);
  });

  test("the engine's refusal (a stale version) arrives as a DockerError with its message", async () => {
    const docker = createDockerClient({ host: manager.url });
    const refused = docker.manager.request('POST', '/services/svc-catalog/update?version=40', { body: { Mode: { Replicated: { Replicas: 9 } } } });
    await expect(refused).rejects.toBeInstanceOf(DockerError);
    await expect(refused).rejects.toThrow('update out of sequence');
  });
});
