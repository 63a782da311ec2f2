/**
 * A small closed-loop load generator: `concurrency` workers send requests to loopback URLs for
 * `seconds`, then it reports requests per second and latency percentiles. Bounded in count and time.
 */
export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
}

export async function runLoad(urls: string[], options: { concurrency: number; seconds: number; maxRequests?: number }): Promise<LoadResult> {
  for (const url of urls) if (!/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(url)) throw new Error(`refusing to load a non-loopback address: ${url}`);
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const maxRequests = options.maxRequests ?? 200_000;
  const deadline = performance.now() + options.seconds * 1000;
  const started = performance.now();
  const worker = async (offset: number) => {
    for (let i = offset; performance.now() < deadline && sent < maxRequests; i++) {
      sent++;
      const url = urls[i % urls.length]!;
      const t0 = performance.now();
      try {
        const response = await fetch(url);
        await response.arrayBuffer();
        if (!response.ok) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Number((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(1));
  return { requests: latencies.length, errors, seconds: Number(seconds.toFixed(1)), perSecond: Math.round(latencies.length / seconds), p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}
