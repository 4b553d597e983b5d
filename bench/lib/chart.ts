import type { Metric } from './scenario.js';

export interface ChartRow {
  scenario: string;
  metric: Metric;
}

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c);

/**
 * One horizontal bar per metric that has a target, drawn as its ratio to the target (1.0 = on target),
 * green when met and red when not; metrics without a target are listed as text. Plain SVG, no library.
 */
export function renderChart(rows: ChartRow[], title: string): string {
  const width = 900;
  const barLeft = 380;
  const barMax = width - barLeft - 90;
  const lineHeight = 24;
  const height = 60 + rows.length * lineHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<line x1="${barLeft + barMax / 2}" y1="35" x2="${barLeft + barMax / 2}" y2="${height - 10}" stroke="#999" stroke-dasharray="4 3"/>`,
    `<text x="${barLeft + barMax / 2 + 4}" y="45" fill="#666">target</text>`,
  ];
  rows.forEach(({ scenario, metric }, i) => {
    const y = 55 + i * lineHeight;
    parts.push(`<text x="10" y="${y + 12}">${escapeXml(`${scenario} · ${metric.name}`)}</text>`);
    const shown = `${metric.value.toLocaleString('en-US', { maximumFractionDigits: 2 })} ${metric.unit}`;
    if (!metric.target) {
      parts.push(`<text x="${barLeft}" y="${y + 12}" fill="#333">${escapeXml(shown)}</text>`);
      return;
    }
    const { op, value: target } = metric.target;
    const ratio = op === '>=' ? metric.value / target : target / Math.max(metric.value, 1e-9);
    const met = op === '>=' ? metric.value >= target : metric.value <= target;
    const w = Math.max(2, Math.min(2, ratio) * (barMax / 2));
    parts.push(`<rect x="${barLeft}" y="${y}" width="${w.toFixed(1)}" height="16" fill="${met ? '#2e7d32' : '#c62828'}"/>`);
    parts.push(`<text x="${barLeft + w + 6}" y="${y + 12}">${escapeXml(`${shown} (${op} ${target})`)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
