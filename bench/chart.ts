/**
 * The results chart as plain SVG text: one line per row, requests per second as a bar on the left
 * (the bare reference's bar in its own colour, and a dashed line at its value across every row),
 * p99 latency as a bar on the right.
 */

export interface ChartRow {
  label: string;
  perSecond: number;
  p99: number;
  reference?: boolean;
}

const layout = { labelWidth: 440, barWidth: 330, latencyWidth: 230, gap: 30, rowHeight: 22, top: 56, bottom: 26 };
const colours = { bar: '#4a7ab5', reference: '#d9822b', latency: '#8c6bb1', text: '#222', muted: '#777', grid: '#ddd' };

/**
 * @example
 * writeFileSync('bench/results.svg', renderChart('Bookstore, 2 cores', rows));
 */
export function renderChart(title: string, rows: ChartRow[]): string {
  const { labelWidth, barWidth, latencyWidth, gap, rowHeight, top, bottom } = layout;
  const width = labelWidth + barWidth + gap + latencyWidth + 20;
  const height = top + rows.length * rowHeight + bottom;
  const maxRate = niceCeiling(Math.max(1, ...rows.map((row) => row.perSecond)));
  const maxLatency = niceCeiling(Math.max(1, ...rows.map((row) => (Number.isFinite(row.p99) ? row.p99 : 0))));
  const rateX = (value: number) => labelWidth + (value / maxRate) * barWidth;
  const latencyLeft = labelWidth + barWidth + gap;
  const latencyX = (value: number) => latencyLeft + (value / maxLatency) * latencyWidth;
  const reference = rows.find((row) => row.reference);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold" fill="${colours.text}">${escapeXml(title)}</text>`,
    `<text x="${labelWidth}" y="${top - 12}" fill="${colours.muted}">requests per second (0–${maxRate.toLocaleString('en-US')})</text>`,
    `<text x="${latencyLeft}" y="${top - 12}" fill="${colours.muted}">p99 latency, ms (0–${maxLatency.toLocaleString('en-US')})</text>`,
  ];
  rows.forEach((row, index) => {
    const y = top + index * rowHeight;
    const middle = y + rowHeight / 2 + 4;
    const rateEnd = rateX(row.perSecond);
    const latency = Number.isFinite(row.p99) ? row.p99 : 0;
    parts.push(
      `<text x="${labelWidth - 8}" y="${middle}" text-anchor="end" fill="${colours.text}">${escapeXml(truncate(row.label, 66))}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${(rateEnd - labelWidth).toFixed(1)}" height="${rowHeight - 6}" fill="${row.reference ? colours.reference : colours.bar}"/>`,
      `<text x="${(rateEnd + 4).toFixed(1)}" y="${middle}" fill="${colours.text}">${Math.round(row.perSecond).toLocaleString('en-US')}</text>`,
      `<rect x="${latencyLeft}" y="${y + 3}" width="${(latencyX(latency) - latencyLeft).toFixed(1)}" height="${rowHeight - 6}" fill="${colours.latency}"/>`,
      `<text x="${(latencyX(latency) + 4).toFixed(1)}" y="${middle}" fill="${colours.text}">${Number.isFinite(row.p99) ? formatMs(row.p99) : 'n/a'}</text>`,
    );
  });
  if (reference) {
    const x = rateX(reference.perSecond).toFixed(1);
    parts.push(
      `<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${height - bottom + 4}" stroke="${colours.reference}" stroke-dasharray="4 3"/>`,
      `<text x="${x}" y="${height - 4}" text-anchor="middle" fill="${colours.reference}">bare reference</text>`,
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** 1, 2 or 5 times a power of ten, at or above `value`: round axis ends. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].map((step) => step * power).find((candidate) => candidate >= value) ?? 10 * power);
}

const formatMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const truncate = (text: string, length: number) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);
const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
