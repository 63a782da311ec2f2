/**
 * Steady load for the rehearsal: a few clients asking the shop's pages and APIs in a loop, counting
 * every answer that is not a success. Bounded: it stops when told, or after `maxMs`.
 */
export interface LoadResult {
  requests: number;
  failed: number;
  /** The first failures, for the report: "GET /catalog → 502", "GET /api/books → connection refused". */
  failures: string[];
  ms: number;
}

export interface Load {
  stop(): Promise<LoadResult>;
}

/**
 * @example
 * const load = startLoad(['http://127.0.0.1:28100/catalog'], { clients: 8 });
 * await restartEverything();
 * const { requests, failed } = await load.stop();
 */
export function startLoad(urls: string[], options: { clients?: number; maxMs?: number } = {}): Load {
  const started = Date.now();
  const deadline = started + (options.maxMs ?? 300_000);
  let stopping = false;
  const result: LoadResult = { requests: 0, failed: 0, failures: [], ms: 0 };

  async function client(offset: number) {
    for (let i = offset; !stopping && Date.now() < deadline; i++) {
      const url = urls[i % urls.length]!;
      result.requests++;
      try {
        const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
        await response.arrayBuffer();
        if (response.status >= 500) fail(`GET ${new URL(url).pathname} → ${response.status}`);
      } catch (error) {
        fail(`GET ${new URL(url).pathname} → ${(error as Error).message}`);
      }
    }
  }
  function fail(what: string) {
    result.failed++;
    if (result.failures.length < 10) result.failures.push(what);
  }

  const clients = Array.from({ length: options.clients ?? 8 }, (_, i) => client(i));
  return {
    async stop() {
      stopping = true;
      await Promise.all(clients);
      result.ms = Date.now() - started;
      return result;
    },
  };
}
