import type { BacktestReport, MetricName } from '../../../shared/contract/backtest.ts';
import { METRIC_NAMES } from '../../../shared/contract/backtest.ts';

/**
 * A self-contained HTML report: inline CSS and SVG charts (equity against buy and hold,
 * drawdown), the metrics table and the trade list. No script, no external resource: it opens
 * offline and can be mailed as one file.
 */

const WIDTH = 960;
const HEIGHT = 260;
const PAD = 48;

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function isoDate(ms: number): string {
  // Formatting a given time (not reading the clock).
  return new Date(ms).toISOString().replace('T', ' ').replace('.000Z', 'Z');
}

function fmt(value: number | null, digits = 4): string {
  if (value === null) return '—';
  if (Math.abs(value) >= 1e6) return value.toExponential(3);
  return Number(value.toFixed(digits)).toString();
}

const PERCENT_METRICS = new Set<MetricName>([
  'totalReturn',
  'cagr',
  'annualVolatility',
  'maxDrawdown',
  'winRate',
  'exposure',
]);

function formatMetric(name: MetricName, value: number | null): string {
  if (value === null) return '—';
  if (PERCENT_METRICS.has(name)) return `${(value * 100).toFixed(2)}%`;
  if (name === 'maxDrawdownDurationMs') return `${(value / 86_400_000).toFixed(1)} days`;
  return fmt(value);
}

interface Series {
  points: readonly (readonly [number, number])[];
  color: string;
  label: string;
}

function lineChart(title: string, series: Series[], isArea = false): string {
  const all = series.flatMap((s) => s.points);
  if (all.length < 2) return `<p>${escapeHtml(title)}: not enough points.</p>`;
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const [x, y] of all) {
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  if (isArea) y1 = Math.max(y1, 0);
  if (y1 === y0) y1 = y0 + 1;
  if (x1 === x0) x1 = x0 + 1;
  const sx = (x: number): number => PAD + ((x - x0) / (x1 - x0)) * (WIDTH - 2 * PAD);
  const sy = (y: number): number => HEIGHT - PAD / 2 - ((y - y0) / (y1 - y0)) * (HEIGHT - PAD);
  const paths = series
    .map((s) => {
      const d = s.points
        .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
        .join('');
      const area = isArea
        ? `<path d="${d}L${sx(s.points[s.points.length - 1]![0]).toFixed(1)},${sy(0).toFixed(1)}L${sx(s.points[0]![0]).toFixed(1)},${sy(0).toFixed(1)}Z" fill="${s.color}" fill-opacity="0.25" stroke="none"/>`
        : '';
      return `${area}<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.2"/>`;
    })
    .join('');
  const ticks = [y0, (y0 + y1) / 2, y1]
    .map(
      (y) =>
        `<text x="${PAD - 4}" y="${sy(y).toFixed(1)}" text-anchor="end" font-size="10">${escapeHtml(fmt(y, 2))}</text><line x1="${PAD}" x2="${WIDTH - PAD}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" stroke="#ddd"/>`,
    )
    .join('');
  const dates = `<text x="${PAD}" y="${HEIGHT - 4}" font-size="10">${escapeHtml(isoDate(x0).slice(0, 10))}</text><text x="${WIDTH - PAD}" y="${HEIGHT - 4}" font-size="10" text-anchor="end">${escapeHtml(isoDate(x1).slice(0, 10))}</text>`;
  const legend = series
    .map(
      (s, i) =>
        `<text x="${PAD + 8 + i * 220}" y="14" font-size="11" fill="${s.color}">■ ${escapeHtml(s.label)}</text>`,
    )
    .join('');
  return `<h2>${escapeHtml(title)}</h2><svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(title)}">${ticks}${paths}${dates}${legend}</svg>`;
}

export function renderHtmlReport(report: BacktestReport, maxTrades = 1000): string {
  const c = report.config;
  const metricRows = METRIC_NAMES.map(
    (m) => `<tr><th>${m}</th><td>${escapeHtml(formatMetric(m, report.metrics[m]))}</td></tr>`,
  ).join('');
  const benchRows = (Object.keys(report.benchmark.metrics) as (keyof typeof report.benchmark.metrics)[])
    .map(
      (m) =>
        `<tr><th>${m}</th><td>${escapeHtml(formatMetric(m as MetricName, report.benchmark.metrics[m]))}</td></tr>`,
    )
    .join('');
  const trades = report.trades.slice(0, maxTrades);
  const tradeRows = trades
    .map(
      (t, i) =>
        `<tr><td>${i + 1}</td><td>${t.side}</td><td>${escapeHtml(isoDate(t.entryTime))}</td><td>${t.exitTime === null ? 'open' : escapeHtml(isoDate(t.exitTime))}</td><td>${fmt(t.quantity, 8)}</td><td>${fmt(t.entryPrice, 6)}</td><td>${fmt(t.exitPrice, 6)}</td><td>${fmt(t.fees, 4)}</td><td class="${t.pnl >= 0 ? 'win' : 'loss'}">${fmt(t.pnl, 4)}</td><td>${t.barsHeld}</td><td>${escapeHtml(t.entryReason)}</td><td>${escapeHtml(t.exitReason ?? '')}</td></tr>`,
    )
    .join('');
  const params = Object.entries(c.strategy.params)
    .map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(String(v))}`)
    .join(', ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Backtest ${escapeHtml(c.strategy.id)} on ${escapeHtml(report.symbol)}</title>
<style>body{font:13px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f4f4f4}.win{color:#0a7d32}.loss{color:#b3261e}.grid{display:flex;gap:32px;flex-wrap:wrap}</style>
</head><body>
<h1>Backtest: ${escapeHtml(c.strategy.id)} on ${escapeHtml(report.symbol)}</h1>
<p>${report.barCount} bars${report.firstMs !== null ? `, ${escapeHtml(isoDate(report.firstMs))} to ${escapeHtml(isoDate(report.lastMs!))}` : ''}. Parameters: ${params || 'defaults'}. Sizing: ${escapeHtml(JSON.stringify(c.sizing))}. Fill: ${escapeHtml(c.fill.marketFill)}, taker ${c.fill.takerFeeBps} bps, maker ${c.fill.makerFeeBps} bps, slippage ${c.fill.slippageBps} bps. Starting cash ${c.cash} ${escapeHtml(c.currency)}.</p>
${lineChart('Equity', [
  { points: report.equity, color: '#1f5fbf', label: 'strategy' },
  { points: report.benchmark.equity, color: '#999999', label: report.benchmark.name },
])}
${lineChart('Drawdown', [{ points: report.drawdown, color: '#b3261e', label: 'drawdown (fraction of peak)' }], true)}
<div class="grid"><div><h2>Metrics</h2><table>${metricRows}</table></div><div><h2>${escapeHtml(report.benchmark.name)}</h2><table>${benchRows}</table></div></div>
<h2>Trades (${report.trades.length}${report.trades.length > maxTrades ? `, first ${maxTrades} shown` : ''})</h2>
<table><tr><th>#</th><th>side</th><th>entry</th><th>exit</th><th>quantity</th><th>entry price</th><th>exit price</th><th>fees</th><th>P&amp;L</th><th>bars</th><th>entry reason</th><th>exit reason</th></tr>${tradeRows}</table>
</body></html>
`;
}
