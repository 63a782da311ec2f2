/**
 * The run's section of bench/RESULTS.md: machine, versions, command, the table of rows, the
 * checkout's stock accounting, memory, and issue 8's targets marked met or missed (by how much).
 * It replaces the section between <!-- bench:start --> and <!-- bench:end -->, above the older,
 * hand-written ones.
 */
import type { Machine, Memory, Versions } from './machine.ts';
import type { Row } from './rows.ts';
import type { StockCheck } from './stock.ts';
import type { WrkResult } from './wrk.ts';

export interface RowResult {
  row: Row;
  wrk: WrkResult;
  /** Fragments the web front replaced with an "unavailable" box while the row ran (still 200 pages). */
  degraded: number;
}

export interface CheckoutResult {
  placed: number;
  paid: number;
  pending: number;
  refused: number;
  failed: number;
  perSecond: number;
  stock: StockCheck;
}

export interface BenchReport {
  startedAt: Date;
  minutes: number;
  command: string;
  settings: { seconds: number; warmup: number; threads: number; connections: number; books: number };
  machine: Machine;
  versions: Versions;
  rows: RowResult[];
  checkout?: CheckoutResult;
  memory: Record<string, Memory>;
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
  /** How far off, when missed. */
  gap?: string;
}

const startMarker = '<!-- bench:start -->';
const endMarker = '<!-- bench:end -->';

/** `current` (RESULTS.md as it is) with this run's section in place of the last one, or first when there was none. */
export function replaceSection(current: string, section: string): string {
  const block = `${startMarker}\n${section.trim()}\n${endMarker}`;
  const pattern = new RegExp(`${startMarker}[\\s\\S]*?${endMarker}`);
  if (pattern.test(current)) return current.replace(pattern, block);
  const heading = current.match(/^# .*\n/);
  if (!heading) return `${block}\n\n${current}`;
  const at = heading.index! + heading[0].length;
  return `${current.slice(0, at)}\n${block}\n${current.slice(at)}`;
}

export function renderSection(report: BenchReport, targets: Target[]): string {
  const { machine, versions, settings } = report;
  const bare = report.rows.find((result) => result.row.id === 'bare');
  const lines = [
    `## \`bun run bench\` — ${report.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GB RAM, ${machine.os}; load average ${machine.loadBefore.toFixed(2)} before the run (the machine may be shared).`,
    `Versions: Bun ${versions.bun}, MariaDB ${versions.mariadb} on the same machine (${versions.mariadbSettings}), ${versions.wrk}, Hono ${versions.hono}.`,
    `The shop: auth, catalog, purchase and web as four processes (\`scripts/stack.ts\`), each on its own MariaDB database, \`LOG_LEVEL=warn\`, \`BOOKSTORE_ENV=production\`, default pools; ${settings.books.toLocaleString('en-US')} generated books; the bare reference (\`bench/bare-reference.tsx\`) is a fifth process reading catalog's table.`,
    `Load: wrk -t${settings.threads} -c${settings.connections}, ${settings.seconds} s per row after ${settings.warmup} s of warm-up, on the same cores as the shop. The whole run took ${report.minutes.toFixed(1)} minutes.`,
    `Command: \`${report.command}\``,
    '',
    '![requests per second and p99 latency per row](results.svg)',
    '',
    '| row | req/s | % of bare | p50 ms | p90 ms | p99 ms | errors | KB/answer |',
    '|---|---:|---:|---:|---:|---:|---|---:|',
    ...report.rows.map((result) => tableRow(result, bare)),
    '',
    'Errors: answers outside 2xx/3xx, socket errors and timeouts (wrk), and fragments the web front replaced with an "unavailable" box (a 200 page, counted from its warnings).',
  ];
  if (report.checkout) lines.push('', ...checkoutLines(report.checkout));
  lines.push(
    '',
    '| process | resident memory after the run (VmRSS) | peak (VmHWM) |',
    '|---|---:|---:|',
    ...Object.entries(report.memory).map(([name, memory]) => `| ${name} | ${memory.resident.toFixed(0)} MB | ${memory.peak.toFixed(0)} MB |`),
    '',
    '### Targets of issue 8',
    '',
    '| target | goal | measured | |',
    '|---|---|---|---|',
    ...targets.map((target) => `| ${target.name} | ${target.goal} | ${target.measured} | ${target.met ? 'met' : `**missed**${target.gap ? `: ${target.gap}` : ''}`} |`),
  );
  return lines.join('\n');
}

function tableRow({ row, wrk, degraded }: RowResult, bare?: RowResult): string {
  // Logins and checkouts are POSTs to an API: a share of a page's throughput would mean nothing.
  const comparable = row.service !== 'auth' && row.service !== 'purchase';
  const share = bare && comparable ? `${((wrk.perSecond / bare.wrk.perSecond) * 100).toFixed(0)}%` : '';
  const errors = [
    wrk.non2xx ? `${wrk.non2xx} non-2xx` : '',
    wrk.socketErrors ? `${wrk.socketErrors} socket` : '',
    degraded ? `${degraded} degraded` : '',
  ].filter(Boolean);
  return `| ${row.label} | ${Math.round(wrk.perSecond).toLocaleString('en-US')} | ${share} | ${ms(wrk.p50)} | ${ms(wrk.p90)} | ${ms(wrk.p99)} | ${errors.join(', ') || '0'} | ${(wrk.bytesPerAnswer / 1024).toFixed(1)} |`;
}

function checkoutLines(checkout: CheckoutResult): string[] {
  const { stock } = checkout;
  return [
    `Checkout (each checkout is two requests of the row above; wrk's Lua script chains them): ${checkout.placed.toLocaleString('en-US')} orders placed, ${checkout.paid.toLocaleString('en-US')} paid — **${checkout.perSecond.toFixed(0)} completed checkouts/s**; ${checkout.pending} payments pending, ${checkout.refused} refused (409), ${checkout.failed} failed.`,
    `Stock of the ${stock.books} books bought from, read from catalog's tables after the row (warm-up included): ${stock.stock.toLocaleString('en-US')} on sale + ${stock.reserved.toLocaleString('en-US')} held for unpaid orders + ${stock.sold.toLocaleString('en-US')} sold; ${stock.oversold} units oversold, ${stock.lost} lost; purchase counts ${stock.paidUnits.toLocaleString('en-US')} paid units (${stock.paidWithoutStock} without their stock committed).`,
  ];
}

/** Issue 8's targets against this run's rows. */
export function evaluateTargets(report: BenchReport): Target[] {
  const find = (id: string) => report.rows.find((result) => result.row.id === id);
  const bare = find('bare');
  const targets: Target[] = [];
  const shareOfBare = (id: string, name: string, minimum: number) => {
    const result = find(id);
    if (!result || !bare) return;
    const share = (result.wrk.perSecond / bare.wrk.perSecond) * 100;
    targets.push({ name, goal: `≥ ${minimum}% of the bare reference`, measured: `${share.toFixed(0)}% (${Math.round(result.wrk.perSecond).toLocaleString('en-US')} of ${Math.round(bare.wrk.perSecond).toLocaleString('en-US')} req/s)`, met: share >= minimum, gap: `${(minimum - share).toFixed(0)} points short, ${(minimum / Math.max(share, 0.01)).toFixed(1)}× to go` });
  };
  const p99Below = (id: string, name: string, limit: number) => {
    const result = find(id);
    if (!result) return;
    const p99 = result.wrk.p99;
    targets.push({ name, goal: `p99 < ${limit} ms`, measured: `${ms(p99)} ms`, met: p99 < limit, gap: `${(p99 / limit).toFixed(1)}× the limit` });
  };

  for (const [id, name] of [['catalog', 'composed catalog page, anonymous'], ['catalog-logged-in', 'composed catalog page, logged in']] as const) {
    shareOfBare(id, name, 60);
    p99Below(id, name, 25);
  }
  for (const result of report.rows.filter((r) => r.row.id.startsWith('search-') || r.row.id.startsWith('api-search-'))) p99Below(result.row.id, result.row.label, 50);
  shareOfBare('book', 'book page', 60);
  shareOfBare('seller', "seller's page", 60);

  const logins = find('login-during-catalog');
  const idle = find('catalog-idle');
  const during = find('catalog-during-login');
  if (logins) targets.push({ name: 'logins while the catalog page is loaded', goal: '≥ 70 logins/s', measured: `${logins.wrk.perSecond.toFixed(0)}/s (alone: ${find('login')?.wrk.perSecond.toFixed(0) ?? '?'}/s)`, met: logins.wrk.perSecond >= 70 && logins.wrk.non2xx === 0, gap: logins.wrk.perSecond >= 70 ? `${logins.wrk.non2xx} logins refused` : `${(70 / Math.max(logins.wrk.perSecond, 0.01)).toFixed(1)}× short` });
  if (idle && during) {
    const ratio = during.wrk.p99 / idle.wrk.p99;
    targets.push({ name: 'catalog p99 during logins', goal: '< 2× its value without logins (same connections)', measured: `${ms(during.wrk.p99)} ms vs ${ms(idle.wrk.p99)} ms (${ratio.toFixed(1)}×)`, met: ratio < 2, gap: `${ratio.toFixed(1)}×` });
  }

  const checkout = report.checkout;
  if (checkout) {
    targets.push({ name: 'checkout', goal: '≥ 200 completed checkouts/s', measured: `${checkout.perSecond.toFixed(0)}/s`, met: checkout.perSecond >= 200, gap: `${(200 / Math.max(checkout.perSecond, 0.01)).toFixed(1)}× short` });
    const wrong = checkout.stock.oversold + checkout.stock.paidWithoutStock;
    targets.push({ name: 'checkout', goal: '0 oversold units', measured: `${checkout.stock.oversold} oversold, ${checkout.stock.paidWithoutStock} paid without stock, ${checkout.stock.lost} lost`, met: wrong === 0 && checkout.stock.lost === 0, gap: `${wrong + checkout.stock.lost} units` });
  }
  for (const [name, memory] of Object.entries(report.memory).filter(([name]) => name !== 'bare reference')) {
    targets.push({ name: `${name} memory at the end`, goal: '< 150 MB resident', measured: `${memory.resident.toFixed(0)} MB`, met: memory.resident < 150, gap: `${(memory.resident - 150).toFixed(0)} MB over` });
  }
  return targets;
}

const ms = (value: number) => (Number.isFinite(value) ? (value >= 100 ? value.toFixed(0) : value.toFixed(1)) : 'n/a');
