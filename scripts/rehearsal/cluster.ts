/**
 * The Swarm topology on one machine: three "nodes" (loopback addresses 127.0.0.2–4), each running
 * tasks of the services as plain processes; HAProxy in front of each service standing in for the
 * routing mesh; the environment as the stack gives it (production mode, secrets in files).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { entryPoints, pipeLines, serviceNames, type ServiceName } from '../stack.ts';

export const nodes = ['127.0.0.2', '127.0.0.3', '127.0.0.4'] as const;
export { serviceNames, type ServiceName };

/** Which nodes run a task of each service: web ×2, the others ×3, as in stack.yml. */
export const placement: Record<ServiceName, number[]> = { auth: [0, 1, 2], catalog: [0, 1, 2], purchase: [0, 1, 2], web: [0, 1] };

const root = resolve(import.meta.dir, '../..');

export interface Task {
  service: ServiceName;
  node: number;
  /** This task's own address: http://127.0.0.N:port. */
  url: string;
  process: Bun.Subprocess;
  lines: string[];
}

export interface ClusterOptions {
  /** Where secrets, logs and the shared directory live. */
  dir: string;
  /** The port each service listens on, on every node address. */
  taskPorts: Record<ServiceName, number>;
  /** The mesh (HAProxy) port of each service on 127.0.0.1; and one for HAProxy's stats. */
  meshPorts: Record<ServiceName, number> & { stats: number };
  /** Per-service environment (database URLs…), on top of the shared one. */
  env: Record<ServiceName, Record<string, string>>;
  shared: Record<string, string>;
}

export interface Cluster {
  mesh: Record<ServiceName, string>;
  tasks: Task[];
  startTask(service: ServiceName, node: number): Promise<Task>;
  /** Stops a task (SIGTERM: drains first; SIGKILL: a crash) and waits for it to exit. */
  stopTask(task: Task, signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
  /** Resolves once HAProxy sees this task up (or down). */
  waitForMesh(task: Pick<Task, 'service' | 'node'>, state: 'UP' | 'DOWN', timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const serverName = (service: ServiceName, node: number) => `${service}${node + 2}`;

function haproxyConfig(options: ClusterOptions): string {
  const backends = serviceNames.map(
    (service) => `
frontend ${service}_mesh
  bind 127.0.0.1:${options.meshPorts[service]}
  default_backend ${service}

backend ${service}
  balance roundrobin
  # HTTP/1.1 with a Host header: a bare HTTP/1.0 check has no URL authority and is answered 404.
  option httpchk
  # The task's own health, as Swarm's HEALTHCHECK asks: another service's outage must not take it out of the mesh.
  http-check send meth GET uri /health/task ver HTTP/1.1 hdr Host ${service}
  http-check expect status 200
${placement[service].map((node) => `  server ${serverName(service, node)} ${nodes[node]}:${options.taskPorts[service]} check inter 400ms fall 2 rise 2`).join('\n')}`,
  );
  return `global
  maxconn 4096

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  # A request whose connection failed (a task that just went away) goes to another task.
  retries 3
  option redispatch
  retry-on conn-failure empty-response
  option http-server-close

frontend stats
  bind 127.0.0.1:${options.meshPorts.stats}
  stats enable
  stats uri /stats
${backends.join('\n')}
`;
}

/** Follows a process's output line by line into `lines` (the last 300). */
function collect(process: Bun.Subprocess, lines: string[]) {
  for (const stream of [process.stdout, process.stderr] as ReadableStream<Uint8Array>[]) {
    void pipeLines(stream, (line) => {
      lines.push(line);
      if (lines.length > 300) lines.splice(0, lines.length - 300);
    });
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await Bun.sleep(100);
  }
  throw new Error(`${what()}`);
}

/** Starts HAProxy and every task, and waits until the mesh sees all of them up. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  mkdirSync(options.dir, { recursive: true });
  const configFile = join(options.dir, 'haproxy.cfg');
  writeFileSync(configFile, haproxyConfig(options));
  const haproxyLines: string[] = [];
  const haproxy = Bun.spawn(['haproxy', '-db', '-f', configFile], { stdout: 'pipe', stderr: 'pipe' });
  collect(haproxy, haproxyLines);
  const mesh = Object.fromEntries(serviceNames.map((service) => [service, `http://127.0.0.1:${options.meshPorts[service]}`])) as Record<ServiceName, string>;
  const tasks: Task[] = [];

  async function startTask(service: ServiceName, node: number): Promise<Task> {
    const lines: string[] = [];
    const process = Bun.spawn(['bun', entryPoints[service]], {
      cwd: root,
      env: { ...Bun.env, ...options.shared, ...options.env[service], HOST: nodes[node]!, PORT: String(options.taskPorts[service]) },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    collect(process, lines);
    const task: Task = { service, node, url: `http://${nodes[node]}:${options.taskPorts[service]}`, process, lines };
    tasks.push(task);
    await waitFor(
      async () => process.exitCode === null && (await fetch(`${task.url}/health/ready`, { signal: AbortSignal.timeout(1000) })).ok,
      60_000,
      () => `${service} on ${nodes[node]} did not become ready (exit ${process.exitCode}); its last lines:\n${lines.slice(-30).join('\n')}`,
    );
    return task;
  }

  async function meshState(service: ServiceName, node: number): Promise<string> {
    const csv = await (await fetch(`http://127.0.0.1:${options.meshPorts.stats}/stats;csv`)).text();
    const row = csv.split('\n').find((line) => line.startsWith(`${service},${serverName(service, node)},`));
    return row?.split(',')[17] ?? 'unknown';
  }

  const cluster: Cluster = {
    mesh,
    tasks,
    startTask,
    async stopTask(task, signal) {
      task.process.kill(signal);
      const code = await task.process.exited;
      tasks.splice(tasks.indexOf(task), 1);
      return code;
    },
    async waitForMesh(task, state, timeoutMs = 15_000) {
      await waitFor(async () => (await meshState(task.service, task.node)).startsWith(state), timeoutMs, () => `HAProxy did not see ${task.service} on ${nodes[task.node]} ${state}`);
    },
    async stop() {
      for (const task of [...tasks]) task.process.kill('SIGKILL');
      haproxy.kill('SIGKILL');
      await Promise.all([...tasks.map((task) => task.process.exited), haproxy.exited]);
      tasks.length = 0;
    },
  };

  try {
    await waitFor(async () => haproxy.exitCode === null && (await fetch(`http://127.0.0.1:${options.meshPorts.stats}/stats`)).ok, 10_000, () => `HAProxy did not start: ${haproxyLines.slice(-20).join('\n')}`);
    // Auth first, and seen by the mesh (the others fetch its keys through it at start), then the rest.
    await Promise.all(placement.auth.map((node) => startTask('auth', node)));
    for (const task of tasks) await cluster.waitForMesh(task, 'UP');
    await Promise.all((['catalog', 'purchase'] as const).flatMap((service) => placement[service].map((node) => startTask(service, node))));
    await Promise.all(placement.web.map((node) => startTask('web', node)));
    for (const task of tasks) await cluster.waitForMesh(task, 'UP');
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
