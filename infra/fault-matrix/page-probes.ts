/**
 * Page probes for the fault matrix: the web front's pages asked in rounds (all pages of a round at
 * once, as a browser's visitors would) while a fault is on and after it, each answer kept with how
 * long it took and whether it showed books or a "retry" box.
 *
 * @example
 * const probes = startPageProbes([{ name: '/catalog', url: `${web}/catalog` }]);
 * probes.phase = 'during';
 * const all = await probes.stop();
 */

export interface ProbedPage {
  name: string;
  url: string;
  headers?: Record<string, string>;
}

export interface PageProbe {
  page: string;
  phase: string;
  /** When it was sent, ms since the probes started. */
  at: number;
  ms: number;
  status: number | null;
  error?: string;
  /** A service's part of the page was replaced by the "unavailable, retry" box. */
  retryBox: boolean;
  /** The page shows the catalog's part: books, or the newest-books section (empty once all are sold). */
  showsBooks: boolean;
}

const retryBoxMarkers = ['class="unavailable"', 'Buying is unavailable right now'];

/** Asks one page once; never throws. */
export async function probePage(page: ProbedPage, phase: string, started: number, timeoutMs: number): Promise<PageProbe> {
  const sent = performance.now();
  const at = Math.round(sent - started);
  try {
    const response = await fetch(page.url, { headers: page.headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.text();
    return {
      page: page.name,
      phase,
      at,
      ms: Math.round(performance.now() - sent),
      status: response.status,
      retryBox: retryBoxMarkers.some((marker) => body.includes(marker)),
      showsBooks: ['class="book-card"', 'class="book-detail"', 'class="new-books"'].some((marker) => body.includes(marker)),
    };
  } catch (error) {
    return { page: page.name, phase, at, ms: Math.round(performance.now() - sent), status: null, error: `${(error as Error).name}: ${(error as Error).message}`, retryBox: false, showsBooks: false };
  }
}

/**
 * Rounds of probes until `stop()`; a round's probes carry the phase set when the round began.
 * `pauseMs` between rounds keeps them from loading a small machine more than visitors would.
 */
export function startPageProbes(pages: ProbedPage[], options: { timeoutMs?: number; pauseMs?: number } = {}) {
  const timeoutMs = options.timeoutMs ?? 8000;
  const pauseMs = options.pauseMs ?? 200;
  const started = performance.now();
  const probes: PageProbe[] = [];
  let stopping = false;
  let rounds = 0;
  const state = { phase: 'before' };

  const running = (async () => {
    while (!stopping) {
      const phase = state.phase;
      probes.push(...(await Promise.all(pages.map((page) => probePage(page, phase, started, timeoutMs)))));
      rounds++;
      await Bun.sleep(pauseMs); // pacing between rounds, not a wait for anything
    }
  })();

  return {
    get phase() {
      return state.phase;
    },
    /** Probes sent from now on are counted in this phase. */
    set phase(next: string) {
      state.phase = next;
    },
    /** Rounds finished so far. */
    get rounds() {
      return rounds;
    },
    probes,
    /** Ms since the probes started, on the clock of `PageProbe.at`. */
    now: () => Math.round(performance.now() - started),
    async stop(): Promise<PageProbe[]> {
      stopping = true;
      await running;
      return probes;
    },
  };
}
export type PageProbes = ReturnType<typeof startPageProbes>;

/** Every page asked must have answered 200 within `limitMs`, but those asked while the web front itself was `down`. */
export function checkPages(probes: PageProbe[], limitMs: number, down: { from: number; to: number } | null, problems: string[]) {
  const counted = probes.filter((probe) => !down || probe.at > down.to || probe.at + probe.ms < down.from);
  const bad = counted.filter((probe) => probe.status !== 200 || probe.ms > limitMs);
  if (bad.length) {
    const shown = bad.slice(0, 6).map((probe) => `${probe.page} (${probe.phase}, at ${probe.at} ms): ${probe.status ?? probe.error} in ${probe.ms} ms`);
    problems.push(`${bad.length} of ${counted.length} page answers were not 200 within ${limitMs} ms: ${shown.join('; ')}`);
  }
}

/** Once the fault is over, every page shows its content again (no retry box) within `timeoutMs`. */
export async function pagesRecover(pages: ProbedPage[], limitMs: number, timeoutMs: number, problems: string[]) {
  let last: PageProbe[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    last = await Promise.all(pages.map((page) => probePage(page, 'recovered', performance.now(), limitMs)));
    if (last.every((probe) => probe.status === 200 && !probe.retryBox && probe.showsBooks)) return;
    if (Date.now() > deadline) break;
    await Bun.sleep(200); // polling until they recover
  }
  problems.push(`pages did not recover within ${timeoutMs / 1000} s: ${last.map((probe) => `${probe.page}: ${probe.status ?? probe.error}${probe.retryBox ? ' retry box' : ''}${probe.showsBooks ? '' : ' no books'}`).join('; ')}`);
}
