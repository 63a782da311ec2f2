/**
 * Starts the four processes (auth, catalog, purchase, web) with one set of settings, waits until
 * each answers /health/live, and stops them together; one of them can be killed and restarted, for
 * crash tests. Used by `bun run start` and end-to-end tests.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

/**
 * Memory settings as in production. glibc's allocator, as in the image (Dockerfile): big blocks
 * (argon2's 19 MiB per hash) go back to the system when freed, and threads share two arenas; without
 * it auth kept ~180 MB after a burst of logins. The JavaScript engine told it has 256 MiB, as each
 * service's container limit says (infra/swarm/stack.yml), not the machine's RAM: it collects sooner.
 */
export const memorySettings = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', BUN_JSC_forceRAMSize: String(256 * 1024 * 1024) };

export const serviceNames = ['auth', 'catalog', 'purchase', 'web'] as const;
export type ServiceName = (typeof serviceNames)[number];

const root = resolve(import.meta.dir, '..');
export const entryPoints: Record<ServiceName, string> = {
  auth: 'services/auth/src/main.ts',
  catalog: 'services/catalog/src/main.ts',
  purchase: 'services/purchase/src/main.ts',
  web: 'web/src/main.ts',
};
/** Output lines kept per process, for `logs` and for start failures (which quote the last 30). */
const keptLines = 200;
const quotedLines = 30;
const liveTimeoutMs = 60_000;

export interface StackOptions {
  ports: Record<ServiceName, number>;
  /** Per-service environment (DATABASE_URL, SEED_DEMO_DATA, …), on top of the shared one. */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Environment for every service. SERVICE_TOKEN is generated when missing. */
  sharedEnv?: Record<string, string>;
  /** Where each process's output goes, line by line. */
  onLine?: (service: ServiceName, line: string) => void;
  /** Flags for `bun` before each entry point (`--cpu-prof-md --cpu-prof-dir=…` to profile). */
  bunFlags?: string[];
}

export interface Stack {
  urls: Record<ServiceName, string>;
  stop(): Promise<void>;
  /** Resolves when a process exits on its own (not through `kill` or `stop`), with its name and code. */
  exited: Promise<{ service: ServiceName; code: number | null }>;
  /** Sends `signal` (SIGKILL unless told) to one process; resolves once it has exited. Not reported on `exited`. */
  kill(name: ServiceName, signal?: NodeJS.Signals): Promise<void>;
  /**
   * Launches the process again with the same environment and port (stopping it first with SIGTERM
   * if it still runs); resolves when it answers /health/live, throws like `startStack` if it does not.
   */
  restart(name: ServiceName): Promise<void>;
  /** The process's recent output lines, stdout and stderr as they arrived. */
  logs(name: ServiceName): string[];
  /** The running process's id (to freeze it with SIGSTOP, say); undefined once it has exited. */
  pid(name: ServiceName): number | undefined;
}

/** One launch of one process. */
interface Launched {
  name: ServiceName;
  child: Bun.Subprocess<'ignore', 'pipe', 'pipe'>;
  /** Settles once both output streams are read to their end. */
  output: Promise<unknown>;
  /** Killed on purpose (`kill`, `stop`): its exit is not reported on `exited`. */
  expected: boolean;
}

/**
 * @example
 * const stack = await startStack({ ports: { web: 3000, auth: 3001, catalog: 3002, purchase: 3003 } });
 * await stack.kill('catalog');
 * await stack.restart('catalog');
 * await stack.stop();
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const urls = Object.fromEntries(serviceNames.map((name) => [name, `http://127.0.0.1:${options.ports[name]}`])) as Record<ServiceName, string>;
  const shared: Record<string, string> = {
    ...memorySettings,
    SERVICE_TOKEN: randomBytes(32).toString('base64url'),
    AUTH_URL: urls.auth,
    CATALOG_URL: urls.catalog,
    PURCHASE_URL: urls.purchase,
    ...options.sharedEnv,
  };
  const launched = new Map<ServiceName, Launched>();
  const recentLines = new Map<ServiceName, string[]>(serviceNames.map((name) => [name, []]));
  let stopping = false;
  let reportExit: (value: { service: ServiceName; code: number | null }) => void = () => {};
  const exited = new Promise<{ service: ServiceName; code: number | null }>((resolve) => (reportExit = resolve));

  const remember = (name: ServiceName, line: string) => {
    const lines = recentLines.get(name)!;
    lines.push(line);
    if (lines.length > keptLines) lines.shift();
    options.onLine?.(name, line);
  };

  const launch = (name: ServiceName): Launched => {
    const child = Bun.spawn(['bun', ...(options.bunFlags ?? []), entryPoints[name]], {
      cwd: root,
      env: { ...process.env, ...shared, ...options.env?.[name], PORT: String(options.ports[name]) },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const output = Promise.all([child.stdout, child.stderr].map((stream) => pipeLines(stream, (line) => remember(name, line))));
    const entry: Launched = { name, child, output, expected: false };
    launched.set(name, entry);
    void child.exited.then((code) => {
      if (!stopping && !entry.expected) reportExit({ service: name, code });
    });
    return entry;
  };

  const kill = async (name: ServiceName, signal: NodeJS.Signals = 'SIGKILL') => {
    const target = launched.get(name);
    if (!target) return;
    target.expected = true;
    if (isRunning(target.child)) target.child.kill(signal);
    await target.child.exited;
  };

  const stop = async () => {
    stopping = true;
    const children = [...launched.values()].map((entry) => entry.child);
    for (const child of children) if (isRunning(child)) child.kill('SIGTERM');
    await Promise.race([Promise.all(children.map((child) => child.exited)), Bun.sleep(5000)]);
    for (const child of children) if (isRunning(child)) child.kill('SIGKILL');
    await Promise.all(children.map((child) => child.exited));
  };

  const restart = async (name: ServiceName) => {
    const previous = launched.get(name);
    if (previous && isRunning(previous.child)) await kill(name, 'SIGTERM');
    await waitUntilLive(launch(name), urls[name], () => recentLines.get(name)!);
  };

  // A port already taken would fail the process late, or worse, have another server answer its /health/live.
  const taken = await portsInUse(options.ports, shared.HOST || process.env.HOST || '127.0.0.1');
  if (taken.length) throw new Error(taken.map(({ name, port }) => `${name} cannot start: port ${port} is in use`).join('\n'));

  try {
    // Auth first: the others fetch its keys when they start.
    await waitUntilLive(launch('auth'), urls.auth, () => recentLines.get('auth')!);
    const others = (['catalog', 'purchase', 'web'] as const).map(launch);
    await Promise.all(others.map((entry) => waitUntilLive(entry, urls[entry.name], () => recentLines.get(entry.name)!)));
  } catch (error) {
    await stop();
    throw error;
  }
  const pid = (name: ServiceName) => {
    const child = launched.get(name)?.child;
    return child && isRunning(child) ? child.pid : undefined;
  };
  return { urls, stop, exited, kill, restart, logs: (name) => [...recentLines.get(name)!], pid };
}

/**
 * Polls `url`/health/live until it answers. Throws if the process exits first or the wait times
 * out, with its exit code and last output lines: a failed start must say why.
 */
async function waitUntilLive(target: Launched, url: string, lines: () => string[], timeoutMs = liveTimeoutMs) {
  let gone = false;
  void target.child.exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gone) {
    try {
      const response = await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await Bun.sleep(100);
  }
  let reason = `did not answer ${url}/health/live within ${timeoutMs / 1000} s`;
  if (gone) {
    // Lines written just before the exit may still be in the pipes.
    await Promise.race([target.output, Bun.sleep(1000)]);
    const signal = target.child.signalCode ? ` (${target.child.signalCode})` : '';
    reason = `exited with code ${await target.child.exited}${signal} before answering /health/live`;
  }
  const tail = lines().slice(-quotedLines);
  const quoted = tail.length ? `; its last ${tail.length} lines:\n${tail.map((line) => `  ${line}`).join('\n')}` : '; it wrote nothing';
  throw new Error(`${target.name} did not start: it ${reason}${quoted}`);
}

const isRunning = (child: Bun.Subprocess) => child.exitCode === null && child.signalCode === null;

/** Calls `onLine` with each non-empty line of `stream` as it arrives (a line split across chunks stays whole). */
export async function pipeLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line) onLine(line);
  }
  if (buffered) onLine(buffered);
}

/**
 * `count` different ports that are free on 127.0.0.1 and outside the kernel's ephemeral range: a
 * port inside that range can be taken at any moment by an outgoing connection's local end, and the
 * process meant to listen on it then dies with EADDRINUSE.
 *
 * @example
 * const [web, auth, catalog, purchase] = await findFreePorts(4);
 */
export async function findFreePorts(count: number): Promise<number[]> {
  const [from, to] = portsOutsideEphemeralRange();
  const found = new Set<number>();
  for (let tries = 0; found.size < count && tries < 200; tries++) {
    const port = from + Math.floor(Math.random() * (to - from + 1));
    if (!found.has(port) && (await isFree(port))) found.add(port);
  }
  if (found.size < count) throw new Error(`found only ${found.size} of ${count} free ports in ${from}–${to}`);
  return [...found];
}

/** The widest stretch of ports outside the ephemeral range, from 10000 up when there is room. */
function portsOutsideEphemeralRange(): [number, number] {
  const [low, high] = ephemeralPortRange();
  const stretches: [number, number][] = [
    [10_000, low - 1],
    [high + 1, 65_535],
    [1024, Math.min(low, 10_000) - 1],
  ];
  const usable = stretches.filter(([from, to]) => to - from >= 100).sort((a, b) => b[1] - b[0] - (a[1] - a[0]));
  return usable[0] ?? [1024, 65_535];
}

function ephemeralPortRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {
    // not Linux
  }
  return [32_768, 65_535]; // covers Linux's default (32768–60999) and the BSDs' and macOS's (49152–65535)
}

/**
 * The services whose port something else already listens on (on `host`, where the services will
 * listen: 127.0.0.1 unless HOST says otherwise), in the order given.
 *
 * @example
 * for (const { name, port } of await portsInUse({ web: 3000, auth: 3001 })) console.error(`${name}: ${port} is taken`);
 */
export async function portsInUse<Name extends string>(ports: Record<Name, number>, host = '127.0.0.1'): Promise<{ name: Name; port: number }[]> {
  const entries = Object.entries(ports) as [Name, number][];
  const free = await Promise.all(entries.map(([, port]) => isFree(port, host)));
  return entries.filter((_, i) => !free[i]).map(([name, port]) => ({ name, port }));
}

function isFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
