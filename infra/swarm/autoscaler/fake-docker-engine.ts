/**
 * For tests only: the slice of the Docker Engine API the autoscaler uses, served by Bun.serve on a
 * unix socket or on 127.0.0.1 (no engine runs on our machines). Documents are shaped like the real
 * ones, down to the fields the client ignores.
 */
import type { ContainerStats } from './docker.ts';

export interface FakeService {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** Undefined: a global service. */
  replicas?: number;
  nanoCpus?: number;
  version: number;
  updatedAt: string;
}

export interface FakeTask {
  serviceId: string;
  containerId: string;
  state: 'running' | 'starting' | 'shutdown';
}

/** A container this engine runs, and the CPU % (`docker stats`' sense: 100 = one core) its stats show. */
export interface FakeContainer {
  id: string;
  serviceId: string;
  cpuPercent: number;
}

export interface FakeEngineState {
  services: FakeService[];
  tasks: FakeTask[];
  containers: FakeContainer[];
  /** Every request as `METHOD /path?query`. */
  requests: string[];
  updates: { serviceId: string; version: number; body: any }[];
}

/**
 * @example
 * const engine = startFakeEngine({ unix: join(dir, 'docker.sock') }, { services: [...], tasks: [...], containers: [...] });
 * createDockerClient({ host: `unix://${engine.unix}` });
 */
export function startFakeEngine(listen: { unix: string } | { port: 0 }, initial: Partial<FakeEngineState>) {
  const state: FakeEngineState = { services: [], tasks: [], containers: [], requests: [], updates: [], ...initial };
  const server = Bun.serve({
    ...('unix' in listen ? { unix: listen.unix } : { port: 0, hostname: '127.0.0.1' }),
    fetch: (request) => answer(state, request),
  });
  return {
    state,
    url: 'unix' in listen ? `unix://${listen.unix}` : `http://127.0.0.1:${server.port}`,
    stop: () => server.stop(true),
  };
}

async function answer(state: FakeEngineState, request: Request): Promise<Response> {
  const url = new URL(request.url);
  state.requests.push(`${request.method} ${url.pathname}${url.search}`);
  const filters = JSON.parse(url.searchParams.get('filters') ?? '{}') as Record<string, string[]>;
  const path = url.pathname;
  let match: RegExpMatchArray | null;

  if (request.method === 'GET' && path === '/_ping') return new Response('OK');
  if (request.method === 'GET' && path === '/services') {
    const wanted = filters.label ?? [];
    const labelled = state.services.filter((service) => wanted.every((label) => hasLabel(service.labels, label)));
    return Response.json(labelled.map(serviceDocument));
  }
  if ((match = path.match(/^\/services\/([^/]+)$/)) && request.method === 'GET') {
    const service = state.services.find((candidate) => candidate.id === match![1]);
    return service ? Response.json(serviceDocument(service)) : notFound(`service ${match[1]} not found`);
  }
  if ((match = path.match(/^\/services\/([^/]+)\/update$/)) && request.method === 'POST') {
    const service = state.services.find((candidate) => candidate.id === match![1]);
    if (!service) return notFound(`service ${match[1]} not found`);
    const version = Number(url.searchParams.get('version'));
    const body = await request.json();
    state.updates.push({ serviceId: service.id, version, body });
    if (version !== service.version) {
      return Response.json({ message: `rpc error: code = Unknown desc = update out of sequence` }, { status: 500 });
    }
    service.replicas = body.Mode.Replicated.Replicas;
    service.version += 1;
    service.updatedAt = new Date().toISOString();
    return Response.json({ Warnings: null });
  }
  if (request.method === 'GET' && path === '/tasks') {
    const tasks = state.tasks.filter((task) => !filters.service || filters.service.includes(task.serviceId));
    return Response.json(tasks.map((task, index) => taskDocument(task, index)));
  }
  if (request.method === 'GET' && path === '/containers/json') {
    const containers = state.containers.filter((container) => (filters.label ?? []).every((label) => hasLabel(containerLabels(container), label)));
    return Response.json(containers.map(containerSummary));
  }
  if ((match = path.match(/^\/containers\/([^/]+)\/stats$/)) && request.method === 'GET') {
    const container = state.containers.find((candidate) => candidate.id === match![1]);
    if (!container) return notFound(`No such container: ${match[1]}`);
    return Response.json(statsDocument(container));
  }
  return notFound('page not found');
}

function hasLabel(labels: Record<string, string>, filter: string): boolean {
  const [key, value] = filter.split('=', 2) as [string, string | undefined];
  return key in labels && (value === undefined || labels[key] === value);
}

const notFound = (message: string) => Response.json({ message }, { status: 404 });

function serviceDocument(service: FakeService) {
  return {
    ID: service.id,
    Version: { Index: service.version },
    CreatedAt: '2025-01-06T09:00:00.000000000Z',
    UpdatedAt: service.updatedAt,
    Spec: {
      Name: service.name,
      Labels: { 'com.docker.stack.namespace': 'bookstore', ...service.labels },
      TaskTemplate: {
        ContainerSpec: { Image: `registry.example/bookstore-${service.name}:1.0@sha256:${'ab'.repeat(32)}`, Env: ['PORT=3002'], Isolation: 'default' },
        Resources: { Limits: service.nanoCpus ? { NanoCPUs: service.nanoCpus, MemoryBytes: 268435456 } : {}, Reservations: {} },
        RestartPolicy: { Condition: 'on-failure', Delay: 5000000000, MaxAttempts: 3 },
        Placement: { Constraints: ['node.role == worker'] },
        ForceUpdate: 0,
        Runtime: 'container',
      },
      Mode: service.replicas === undefined ? { Global: {} } : { Replicated: { Replicas: service.replicas } },
      UpdateConfig: { Parallelism: 1, FailureAction: 'rollback', Order: 'start-first' },
      EndpointSpec: { Mode: 'vip' },
    },
    Endpoint: { Spec: { Mode: 'vip' } },
  };
}

function taskDocument(task: FakeTask, index: number) {
  return {
    ID: `task${index}`,
    ServiceID: task.serviceId,
    NodeID: `node${index % 3}`,
    Slot: index + 1,
    DesiredState: task.state === 'shutdown' ? 'shutdown' : 'running',
    Status: {
      Timestamp: '2025-01-06T09:00:05.000000000Z',
      State: task.state,
      Message: task.state,
      ContainerStatus: { ContainerID: task.containerId, PID: 4242, ExitCode: 0 },
    },
  };
}

const containerLabels = (container: FakeContainer) => ({
  'com.docker.swarm.service.id': container.serviceId,
  'com.docker.swarm.task.id': `task-of-${container.id.slice(0, 8)}`,
});

function containerSummary(container: FakeContainer) {
  return { Id: container.id, Names: [`/svc.1.${container.id.slice(0, 12)}`], Image: 'bookstore', State: 'running', Status: 'Up 5 minutes (healthy)', Labels: containerLabels(container) };
}

/** A `GET /containers/{id}/stats?stream=false` document: two readings one second apart on a 4-CPU host. */
export function statsDocument(container: { id: string; cpuPercent: number }): ContainerStats & Record<string, unknown> {
  const cpus = 4;
  const systemDelta = cpus * 1e9; // one second of every CPU, in ns
  const cpuDelta = Math.round((container.cpuPercent / 100 / cpus) * systemDelta);
  const previous = { total: 8_123_456_789_000, system: 1_734_567_890_000_000 };
  const document = {
    read: '2025-01-06T10:00:01.000000000Z',
    preread: '2025-01-06T10:00:00.000000000Z',
    pids_stats: { current: 9, limit: 18_446_744_073_709_551_615 },
    num_procs: 0,
    cpu_stats: {
      cpu_usage: { total_usage: previous.total + cpuDelta, usage_in_kernelmode: 1_000_000_000, usage_in_usermode: previous.total + cpuDelta - 1_000_000_000 },
      system_cpu_usage: previous.system + systemDelta,
      online_cpus: cpus,
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    },
    precpu_stats: {
      cpu_usage: { total_usage: previous.total, usage_in_kernelmode: 1_000_000_000, usage_in_usermode: previous.total - 1_000_000_000 },
      system_cpu_usage: previous.system,
      online_cpus: cpus,
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    },
    memory_stats: { usage: 73_400_320, stats: { anon: 52_428_800, file: 8_388_608 }, limit: 268_435_456 },
    name: `/svc.1.${container.id.slice(0, 12)}`,
    id: container.id,
    networks: { eth0: { rx_bytes: 1_048_576, tx_bytes: 524_288 } },
  };
  return document;
}
