/** A small Docker Engine API client: the services to autoscale, their tasks' CPU, and scaling one. */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** The engine answered with an error status, or did not answer. */
export class DockerError extends Error {
  constructor(
    readonly address: string,
    readonly status: number | undefined,
    message: string,
  ) {
    super(`${address}: ${message}`);
  }
}

/** One engine's API: a unix socket (`unix:///var/run/docker.sock`) or http (`tcp://host:2375`, `http://host:2375`). */
export interface DockerEngine {
  address: string;
  request<T>(method: 'GET' | 'POST', path: string, options?: { body?: unknown; timeoutMs?: number }): Promise<T>;
}

/**
 * @example
 * const engine = connectEngine(process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock');
 * const info = await engine.request('GET', '/info');
 */
export function connectEngine(address: string, options: { timeoutMs?: number } = {}): DockerEngine {
  const timeoutMs = options.timeoutMs ?? 5000;
  const socket = address.startsWith('unix://') ? address.slice('unix://'.length) : address.startsWith('/') ? address : undefined;
  const base = socket ? 'http://docker' : address.replace(/^tcp:\/\//, 'http://').replace(/\/+$/, '');
  if (!socket && !base.startsWith('http://')) throw new Error(`${address}: expected unix://, tcp:// or http:// (TLS is not supported)`);
  // Unversioned paths: the engine answers in its own API version (engines 25+ refuse versions they deem too old).
  return {
    address,
    async request<T>(method: 'GET' | 'POST', path: string, init: { body?: unknown; timeoutMs?: number } = {}) {
      let response: Response;
      try {
        response = await fetch(base + path, {
          method,
          unix: socket,
          headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
          signal: AbortSignal.timeout(init.timeoutMs ?? timeoutMs),
        });
      } catch (error) {
        throw new DockerError(address, undefined, `${method} ${path}: ${(error as Error).message}`);
      }
      const text = await response.text();
      if (!response.ok) {
        const message = parseJson<{ message?: string }>(text)?.message ?? text.slice(0, 200);
        throw new DockerError(address, response.status, `${method} ${path}: ${response.status} ${message}`);
      }
      return (text ? parseJson(text) : undefined) as T;
    },
  };
}

/** A service carrying the autoscale label, as the autoscaler needs it. */
export interface AutoscaledService {
  id: string;
  name: string;
  replicas: number;
  labels: Record<string, string>;
  /** When its spec last changed (ms since the epoch): a deploy, a rollback, or a scale. */
  updatedAt: number | undefined;
  /** The task's CPU limit in cores, if the service sets one. */
  cpuLimit: number | undefined;
}

/** One pass's CPU reading of a service: the mean over the tasks measured, or undefined if none was. */
export interface CpuReading {
  percent: number | undefined;
  measured: number;
  running: number;
}

interface ServiceDocument {
  ID: string;
  Version: { Index: number };
  UpdatedAt?: string;
  Spec: {
    Name: string;
    Labels?: Record<string, string>;
    Mode: { Replicated?: { Replicas?: number }; Global?: object };
    TaskTemplate?: { Resources?: { Limits?: { NanoCPUs?: number } } };
  };
}

interface TaskDocument {
  Status?: { State?: string; ContainerStatus?: { ContainerID?: string } };
}

interface ContainerSummary {
  Id: string;
  Labels?: Record<string, string>;
}

/** The part of `GET /containers/{id}/stats` that CPU % comes from. */
export interface ContainerStats {
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
}
interface CpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] };
  system_cpu_usage?: number;
  online_cpus?: number;
}

export type ScaleResult = { status: 'scaled'; version: number } | { status: 'skipped'; reason: string };

/**
 * The manager's engine (services, tasks, updates) and the engines that see the containers.
 * `sampleEngines` default to the manager alone; an http address whose name resolves to several
 * addresses (Swarm's `tasks.<service>`) stands for all of them, resolved again on every pass.
 *
 * @example
 * const docker = createDockerClient({ host: 'unix:///var/run/docker.sock', sampleEngines: ['http://tasks.docker-stats:2375'] });
 * const services = await docker.listAutoscaledServices('bookstore.autoscale');
 */
export function createDockerClient(options: {
  host: string;
  sampleEngines?: string[];
  timeoutMs?: number;
  statsTimeoutMs?: number;
  /** Resolves a name to all its addresses; tests give their own. */
  lookupAll?: LookupAll;
}) {
  const timeoutMs = options.timeoutMs ?? 5000;
  const lookupAll = options.lookupAll ?? ((hostname: string) => lookup(hostname, { all: true }));
  const statsTimeoutMs = options.statsTimeoutMs ?? timeoutMs;
  const manager = connectEngine(options.host, { timeoutMs });
  const sampleAddresses = options.sampleEngines?.length ? options.sampleEngines : [options.host];

  return {
    manager,

    /** Replicated services labelled `<label>=true`; global ones are returned apart, as they cannot scale. */
    async listAutoscaledServices(label: string): Promise<{ services: AutoscaledService[]; global: string[] }> {
      const filters = encodeURIComponent(JSON.stringify({ label: [`${label}=true`] }));
      const documents = await manager.request<ServiceDocument[]>('GET', `/services?filters=${filters}`);
      const replicated = documents.filter((service) => service.Spec.Mode.Replicated);
      return {
        services: replicated.map((service) => ({
          id: service.ID,
          name: service.Spec.Name,
          replicas: service.Spec.Mode.Replicated?.Replicas ?? 1,
          labels: service.Spec.Labels ?? {},
          updatedAt: service.UpdatedAt ? Date.parse(service.UpdatedAt) : undefined,
          cpuLimit: nanoToCores(service.Spec.TaskTemplate?.Resources?.Limits?.NanoCPUs),
        })),
        global: documents.filter((service) => !service.Spec.Mode.Replicated).map((service) => service.Spec.Name),
      };
    },

    /** The containers of the service's running tasks, wherever they run. */
    async runningContainers(serviceId: string): Promise<string[]> {
      const filters = encodeURIComponent(JSON.stringify({ service: [serviceId], 'desired-state': ['running'] }));
      const tasks = await manager.request<TaskDocument[]>('GET', `/tasks?filters=${filters}`);
      return tasks.flatMap((task) => {
        const id = task.Status?.State === 'running' ? task.Status.ContainerStatus?.ContainerID : undefined;
        return id ? [id] : [];
      });
    },

    /**
     * Reads each container's CPU from whichever sample engine runs it. Returns a reading per service
     * and the engines that could not be asked (their tasks go unmeasured, never guessed).
     */
    async sampleCpu(services: { id: string; containers: string[]; cpuLimit: number | undefined }[]) {
      const engines = await resolveEngines(sampleAddresses, lookupAll, timeoutMs);
      const wanted = new Map(services.flatMap((service) => service.containers.map((container) => [container, service] as const)));
      const percents = new Map<string, number>(); // container → CPU %
      const failures: string[] = [];
      await Promise.all(
        engines.map(async (engine) => {
          try {
            const filters = encodeURIComponent(JSON.stringify({ label: ['com.docker.swarm.service.id'], status: ['running'] }));
            const local = await engine.request<ContainerSummary[]>('GET', `/containers/json?filters=${filters}`);
            await Promise.all(
              local
                .filter((container) => wanted.has(container.Id))
                .map(async (container) => {
                  const stats = await engine.request<ContainerStats>('GET', `/containers/${container.Id}/stats?stream=false`, { timeoutMs: statsTimeoutMs });
                  const percent = cpuPercent(stats);
                  if (percent !== undefined && !percents.has(container.Id)) percents.set(container.Id, percent);
                }),
            );
          } catch (error) {
            failures.push((error as Error).message);
          }
        }),
      );
      const readings = new Map<string, CpuReading>();
      for (const service of services) {
        const measured = service.containers.flatMap((container) => {
          const percent = percents.get(container);
          return percent === undefined ? [] : [service.cpuLimit ? percent / service.cpuLimit : percent];
        });
        const mean = measured.length ? measured.reduce((sum, value) => sum + value, 0) / measured.length : undefined;
        readings.set(service.id, { percent: mean, measured: measured.length, running: service.containers.length });
      }
      return { readings, failures };
    },

    /**
     * Sets the service's replicas from `from` to `to`, as `docker service scale` does: its current spec
     * with only the count changed, sent with the spec's version so a concurrent change wins over us.
     * Skips if the count is no longer `from` (someone scaled it since we decided).
     */
    async scaleService(serviceId: string, from: number, to: number): Promise<ScaleResult> {
      const service = await manager.request<ServiceDocument>('GET', `/services/${encodeURIComponent(serviceId)}`);
      const current = service.Spec.Mode.Replicated?.Replicas;
      if (current === undefined) return { status: 'skipped', reason: 'not a replicated service' };
      if (current !== from) return { status: 'skipped', reason: `replicas are ${current} now, not ${from}: changed since the decision` };
      const spec = { ...service.Spec, Mode: { Replicated: { ...service.Spec.Mode.Replicated, Replicas: to } } };
      await manager.request('POST', `/services/${encodeURIComponent(serviceId)}/update?version=${service.Version.Index}`, { body: spec });
      return { status: 'scaled', version: service.Version.Index };
    },
  };
}

export type DockerClient = ReturnType<typeof createDockerClient>;

/**
 * CPU % the way `docker stats` computes it: the container's share of the host's CPU time between
 * the two readings, times the number of CPUs (100 % = one core). Undefined without a previous reading.
 */
export function cpuPercent(stats: ContainerStats): number | undefined {
  const total = stats.cpu_stats?.cpu_usage?.total_usage;
  const previousTotal = stats.precpu_stats?.cpu_usage?.total_usage;
  const system = stats.cpu_stats?.system_cpu_usage;
  const previousSystem = stats.precpu_stats?.system_cpu_usage;
  if (total === undefined || previousTotal === undefined || !system || !previousSystem) return undefined;
  const cpuDelta = total - previousTotal;
  const systemDelta = system - previousSystem;
  if (systemDelta <= 0 || cpuDelta < 0) return undefined;
  const cpus = stats.cpu_stats?.online_cpus || stats.cpu_stats?.cpu_usage?.percpu_usage?.length || 1;
  return (cpuDelta / systemDelta) * cpus * 100;
}

/** Engines for the addresses: an http name resolving to several addresses gives one engine per address. */
async function resolveEngines(addresses: string[], lookupAll: LookupAll, timeoutMs: number): Promise<DockerEngine[]> {
  const engines = await Promise.all(
    addresses.map(async (address) => {
      const url = /^(tcp|http):\/\//.test(address) ? new URL(address.replace(/^tcp:/, 'http:')) : undefined;
      if (!url || isIP(url.hostname.replace(/^\[|\]$/g, ''))) return [connectEngine(address, { timeoutMs })];
      const resolved = await lookupAll(url.hostname).catch(() => []);
      if (resolved.length === 0) return [connectEngine(address, { timeoutMs })]; // its error then names the address
      return resolved.map(({ address: ip, family }) => {
        const host = family === 6 ? `[${ip}]` : ip;
        return connectEngine(`http://${host}${url.port ? `:${url.port}` : ''}`, { timeoutMs });
      });
    }),
  );
  return engines.flat();
}

type LookupAll = (hostname: string) => Promise<{ address: string; family: number }[]>;

const nanoToCores = (nano: number | undefined) => (nano ? nano / 1e9 : undefined);

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
