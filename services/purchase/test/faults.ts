/**
 * Faults on demand for crash tests: a proxy in front of catalog or the gateway that the test steers
 * (forward, hold, refuse, answer in the service's place), and purchase as a real child process that
 * can be killed with SIGKILL at the moment the proxy chooses.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { eventually, testServiceToken } from '@bookstore/shared/testing/http';
import { findFreePorts } from '../../../scripts/stack.ts';

/** A request as the proxy received it, its body already read, so it can be forwarded at any time, or never. */
export interface ProxiedRequest {
  method: string;
  /** Path and query string. */
  path: string;
  headers: Headers;
  body: Uint8Array<ArrayBuffer> | null;
}

/** What the proxy does with one request: an answer, or `'drop'` (the connection is cut, no answer at all). */
export type ProxyAnswer = Response | 'drop';

/** Decides the fate of one request; `forward` sends it on to the real service and relays its answer. */
export type ProxyRule = (request: ProxiedRequest, forward: (request: ProxiedRequest) => Promise<Response>) => ProxyAnswer | Promise<ProxyAnswer>;

const passThrough: ProxyRule = (request, forward) => forward(request);

/**
 * Served with node:http rather than Bun.serve: only a raw socket can be cut mid-request (`'drop'`),
 * which is what a caller sees when the service dies before it answers.
 *
 * @example
 * const proxy = await startFaultProxy(shop.catalogUrl);
 * proxy.steer((request, forward) => (request.path.endsWith('/commit') ? 'drop' : forward(request)));
 * proxy.steer(); // back to forwarding everything
 */
export async function startFaultProxy(upstreamUrl: string) {
  let rule = passThrough;
  const received: ProxiedRequest[] = [];

  async function forward(request: ProxiedRequest): Promise<Response> {
    const headers = new Headers(request.headers);
    for (const name of ['host', 'connection', 'content-length']) headers.delete(name);
    const answer = await fetch(`${upstreamUrl}${request.path}`, { method: request.method, headers, body: request.body });
    const body = await answer.arrayBuffer();
    const relayed = new Headers(answer.headers);
    for (const name of ['content-encoding', 'content-length', 'transfer-encoding', 'connection']) relayed.delete(name);
    return new Response(body.byteLength ? body : null, { status: answer.status, headers: relayed });
  }

  async function receive(incoming: IncomingMessage, outgoing: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(incoming.headers)) if (typeof value === 'string') headers.set(name, value);
    const request: ProxiedRequest = { method: incoming.method ?? 'GET', path: incoming.url ?? '/', headers, body: chunks.length ? Uint8Array.from(Buffer.concat(chunks)) : null };
    received.push(request);
    let answer: ProxyAnswer;
    try {
      answer = await rule(request, forward);
    } catch (error) {
      answer = new Response(`test proxy: ${(error as Error).message}`, { status: 502 });
    }
    if (answer === 'drop') return void incoming.socket.destroy();
    outgoing.on('error', () => {}); // the caller may be gone (it gave up, or was killed): nobody to tell
    outgoing.writeHead(answer.status, Object.fromEntries(answer.headers));
    outgoing.end(Buffer.from(await answer.arrayBuffer()));
  }

  const server = createServer((incoming, outgoing) => void receive(incoming, outgoing));
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  let listening = true;

  const stop = async () => {
    if (!listening) return;
    listening = false;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };

  return {
    url: `http://127.0.0.1:${port}`,
    /** Every request that reached the proxy, in order of arrival. */
    received,
    forward,
    /** How requests are answered from now on; without a rule, all are forwarded. */
    steer(next: ProxyRule = passThrough) {
      rule = next;
    },
    /** Stops listening, as a stopped service does: connections are refused. */
    refuse: stop,
    /** Listens again on the same port. */
    async accept() {
      if (listening) return;
      await listen(port);
      listening = true;
    },
    close: stop,
  };
}
export type FaultProxy = Awaited<ReturnType<typeof startFaultProxy>>;

/** A held request: `answer` relays a response to whoever sent it (nobody, once it gave up). */
export interface HeldRequest {
  request: ProxiedRequest;
  answer: (response: ProxyAnswer) => void;
}

/** A rule that answers nothing: each request waits in `held` until the test forwards, answers or drops it. */
export function holdAll(held: HeldRequest[]): ProxyRule {
  return (request) => new Promise<ProxyAnswer>((answer) => held.push({ request, answer }));
}

const repoRoot = resolve(import.meta.dir, '../../..');

/**
 * Purchase's own main.ts as a child process, on a port of its own, its sweeper too slow to run by
 * itself (the test runs passes explicitly). Resolves once /health/ready answers.
 *
 * @example
 * const purchase = await startPurchaseProcess({ DATABASE_URL: db.url, AUTH_URL: auth.url, CATALOG_URL: proxy.url });
 * await purchase.kill();
 */
export async function startPurchaseProcess(env: { DATABASE_URL: string; AUTH_URL: string; CATALOG_URL: string; GATEWAY_URL?: string }) {
  const [port] = await findFreePorts(1);
  const child = Bun.spawn(['bun', 'services/purchase/src/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, SERVICE_TOKEN: testServiceToken, SWEEP_INTERVAL_MS: '600000', ORDER_PAYMENT_TTL_SECONDS: '900', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const lines: string[] = [];
  const output = Promise.all([child.stdout, child.stderr].map((stream) => collectLines(stream, lines)));
  const url = `http://127.0.0.1:${port}`;
  const running = () => child.exitCode === null && child.signalCode === null;
  const ready = await eventually(async () => {
    if (!running()) return true;
    try {
      return (await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  }, 30_000, 100);
  if (ready === null || !running()) {
    child.kill('SIGKILL');
    await Promise.race([output, Bun.sleep(1000)]);
    const why = running() || ready === null ? 'did not get ready within 30 s' : `exited with code ${child.exitCode}`;
    throw new Error(`purchase (child process) ${why}; its output:\n${lines.slice(-30).join('\n')}`);
  }
  return {
    url,
    lines,
    get running() {
      return running();
    },
    /** SIGKILL: no shutdown hook runs, requests in flight are cut off. Resolves once it has exited. */
    async kill() {
      if (running()) child.kill('SIGKILL');
      await child.exited;
    },
  };
}
export type PurchaseProcess = Awaited<ReturnType<typeof startPurchaseProcess>>;

async function collectLines(stream: ReadableStream<Uint8Array>, lines: string[]) {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  }
  if (buffered) lines.push(buffered);
}
