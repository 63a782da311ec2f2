/**
 * Starts the four processes (auth, catalog, purchase, web) with one set of settings, waits until
 * each answers /health/live, and stops them together. Used by `bun run start` and end-to-end tests.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';

export const serviceNames = ['auth', 'catalog', 'purchase', 'web'] as const;
export type ServiceName = (typeof serviceNames)[number];

const root = resolve(import.meta.dir, '..');
const entryPoints: Record<ServiceName, string> = {
  auth: 'services/auth/src/main.ts',
  catalog: 'services/catalog/src/main.ts',
  purchase: 'services/purchase/src/main.ts',
  web: 'web/src/main.ts',
};

export interface StackOptions {
  ports: Record<ServiceName, number>;
  /** Per-service environment (DATABASE_URL, SEED_DEMO_DATA, …), on top of the shared one. */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Environment for every service. SERVICE_TOKEN is generated when missing. */
  sharedEnv?: Record<string, string>;
  /** Where each process's output goes, line by line. */
  onLine?: (service: ServiceName, line: string) => void;
}

export interface Stack {
  urls: Record<ServiceName, string>;
  stop(): Promise<void>;
  /** Resolves when any process exits on its own, with its name and code. */
  exited: Promise<{ service: ServiceName; code: number | null }>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const urls = Object.fromEntries(serviceNames.map((name) => [name, `http://127.0.0.1:${options.ports[name]}`])) as Record<ServiceName, string>;
  const shared: Record<string, string> = {
    SERVICE_TOKEN: randomBytes(32).toString('base64url'),
    AUTH_URL: urls.auth,
    CATALOG_URL: urls.catalog,
    PURCHASE_URL: urls.purchase,
    ...options.sharedEnv,
  };
  const processes = new Map<ServiceName, Bun.Subprocess>();
  let stopping = false;
  let reportExit: (value: { service: ServiceName; code: number | null }) => void = () => {};
  const exited = new Promise<{ service: ServiceName; code: number | null }>((resolve) => (reportExit = resolve));

  const launch = (name: ServiceName) => {
    const child = Bun.spawn(['bun', entryPoints[name]], {
      cwd: root,
      env: { ...process.env, ...shared, ...options.env?.[name], PORT: String(options.ports[name]) },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    processes.set(name, child);
    for (const stream of [child.stdout, child.stderr]) void pipeLines(stream, (line) => options.onLine?.(name, line));
    void child.exited.then((code) => {
      if (!stopping) reportExit({ service: name, code });
    });
  };

  const stop = async () => {
    stopping = true;
    for (const child of processes.values()) child.kill('SIGTERM');
    await Promise.race([Promise.all([...processes.values()].map((child) => child.exited)), Bun.sleep(5000)]);
    for (const child of processes.values()) if (child.exitCode === null) child.kill('SIGKILL');
  };

  try {
    // Auth first: the others fetch its keys when they start.
    launch('auth');
    await waitUntilLive('auth', urls.auth, exited);
    for (const name of ['catalog', 'purchase', 'web'] as const) launch(name);
    await Promise.all((['catalog', 'purchase', 'web'] as const).map((name) => waitUntilLive(name, urls[name], exited)));
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls, stop, exited };
}

async function waitUntilLive(name: ServiceName, url: string, exited: Promise<unknown>, timeoutMs = 60_000) {
  let gone = false;
  void exited.then(() => (gone = true));
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
  throw new Error(`${name} did not start (${gone ? 'a process exited' : 'timed out'})`);
}

async function pipeLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
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
