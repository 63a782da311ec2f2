/**
 * Runs wrk (Debian's `wrk`) against a loopback URL and reads its report: requests per second,
 * latency percentiles, errors, bytes per answer, and any line a Lua script's `done()` printed.
 */

export interface WrkRun {
  url: string;
  seconds: number;
  threads: number;
  connections: number;
  /** Sent with every request (a Cookie, htmx's HX-Request…). */
  headers?: Record<string, string>;
  /** A Lua script under bench/lua and the arguments its `init(args)` gets. */
  script?: { path: string; args?: string[] };
}

export interface WrkResult {
  requests: number;
  seconds: number;
  perSecond: number;
  /** Milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  /** Answers outside 2xx/3xx. */
  non2xx: number;
  /** connect, read, write errors and timeouts (a timed-out request is not in the percentiles). */
  socketErrors: number;
  bytesPerAnswer: number;
  /** What the script's done() printed, one line each. */
  scriptLines: string[];
}

/** Longest a request may take before wrk counts it as a timeout. */
const timeoutSeconds = 10;

/**
 * @example
 * const result = await runWrk({ url: 'http://127.0.0.1:3000/catalog', seconds: 5, threads: 2, connections: 32 });
 * console.log(result.perSecond, result.p99);
 */
export async function runWrk(run: WrkRun, signal?: AbortSignal): Promise<WrkResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(run.url)) throw new Error(`refusing to load a non-loopback address: ${run.url}`);
  const args = ['wrk', `-t${run.threads}`, `-c${run.connections}`, `-d${run.seconds}s`, `--timeout`, `${timeoutSeconds}s`, '--latency'];
  for (const [name, value] of Object.entries(run.headers ?? {})) args.push('-H', `${name}: ${value}`);
  if (run.script) args.push('-s', run.script.path);
  args.push(run.url);
  if (run.script?.args?.length) args.push('--', ...run.script.args);
  const child = Bun.spawn(args, { stdout: 'pipe', stderr: 'pipe' });
  const abort = () => child.kill('SIGKILL');
  signal?.addEventListener('abort', abort, { once: true });
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    if (code !== 0) throw new Error(`wrk exited with ${code}: ${(stderr || stdout).trim().slice(0, 500)}`);
    return parseWrkReport(stdout);
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}

/** wrk's text report, as printed with --latency. */
function parseWrkReport(text: string): WrkResult {
  const percentile = (p: number) => {
    const match = text.match(new RegExp(`^\\s+${p}(?:\\.0+)?%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm'));
    return match ? toMilliseconds(Number(match[1]), match[2]!) : Number.NaN;
  };
  const total = text.match(/(\d+) requests in ([\d.]+)(us|ms|s|m), ([\d.]+)([KMGT]?B) read/);
  const socket = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const requests = total ? Number(total[1]) : 0;
  const bytes = total ? Number(total[4]) * ({ B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[total[5]!] ?? 1) : 0;
  return {
    requests,
    seconds: total ? toMilliseconds(Number(total[2]), total[3]!) / 1000 : 0,
    perSecond: Number(text.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? 0),
    p50: percentile(50),
    p90: percentile(90),
    p99: percentile(99),
    non2xx: Number(text.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0),
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    bytesPerAnswer: requests ? bytes / requests : 0,
    scriptLines: text.split('\n').filter((line) => line.startsWith('bench:')),
  };
}

function toMilliseconds(value: number, unit: string): number {
  return value * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit] ?? 1);
}

/** wrk's version line, or why there is none (with the command that installs it). */
export async function wrkVersion(): Promise<string> {
  try {
    const child = Bun.spawn(['wrk', '-v'], { stdout: 'pipe', stderr: 'pipe' });
    const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return (out + err).split('\n')[0]!.replace(/\s*Copyright.*$/, '').trim();
  } catch {
    throw new Error('wrk is not installed: apt-get install -y wrk (Debian), brew install wrk (macOS)');
  }
}
