import type {
  BenchmarkMetrics,
  Metrics,
  MetricName,
  TradeRecord,
} from '../../../shared/contract/backtest.ts';

/**
 * Performance metrics of an equity curve and a trade list. Every definition is written out in
 * docs/backtest-metrics.md; the code follows it line by line. Returns are simple per-bar
 * returns of the equity curve; annualisation uses the curve's own bars per year (points per
 * year of elapsed time), so daily stock bars (252 a year) and 24/7 crypto bars both come out
 * right without a calendar. The risk-free rate is 0.
 */

export const MS_PER_YEAR = 365.25 * 24 * 3600 * 1000;

export interface CurveStats {
  totalReturn: number | null;
  cagr: number | null;
  annualVolatility: number | null;
  sharpe: number | null;
  sortino: number | null;
  calmar: number | null;
  maxDrawdown: number | null;
  maxDrawdownDurationMs: number | null;
  maxDrawdownDurationBars: number | null;
}

function orNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Drawdown at each point: equity / running peak - 1 (<= 0). */
export function drawdownCurve(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  let peak = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > peak) peak = v;
    out[i] = peak > 0 ? v / peak - 1 : 0;
  }
  return out;
}

export function curveStats(times: ArrayLike<number>, values: ArrayLike<number>): CurveStats {
  const n = values.length;
  const empty: CurveStats = {
    totalReturn: null,
    cagr: null,
    annualVolatility: null,
    sharpe: null,
    sortino: null,
    calmar: null,
    maxDrawdown: null,
    maxDrawdownDurationMs: null,
    maxDrawdownDurationBars: null,
  };
  if (n < 2 || !(values[0]! > 0)) return empty;
  const first = values[0]!;
  const last = values[n - 1]!;
  const totalReturn = last / first - 1;
  const years = (times[n - 1]! - times[0]!) / MS_PER_YEAR;
  const cagr = years > 0 && last > 0 ? Math.pow(last / first, 1 / years) - 1 : last <= 0 ? -1 : NaN;
  // Per-bar simple returns; mean and sample standard deviation (n - 1).
  let sum = 0;
  let count = 0;
  for (let i = 1; i < n; i++) {
    const prev = values[i - 1]!;
    if (!(prev > 0)) continue;
    sum += values[i]! / prev - 1;
    count++;
  }
  const mean = count > 0 ? sum / count : NaN;
  let squares = 0;
  let downside = 0;
  for (let i = 1; i < n; i++) {
    const prev = values[i - 1]!;
    if (!(prev > 0)) continue;
    const r = values[i]! / prev - 1;
    squares += (r - mean) * (r - mean);
    if (r < 0) downside += r * r;
  }
  const std = count > 1 ? Math.sqrt(squares / (count - 1)) : NaN;
  const downsideDeviation = count > 0 ? Math.sqrt(downside / count) : NaN;
  const barsPerYear = years > 0 ? (n - 1) / years : NaN;
  const annualVolatility = std * Math.sqrt(barsPerYear);
  const sharpe = std > 0 ? (mean / std) * Math.sqrt(barsPerYear) : NaN;
  const sortino = downsideDeviation > 0 ? (mean / downsideDeviation) * Math.sqrt(barsPerYear) : NaN;
  // Max drawdown and the longest time spent below a previous peak (to recovery, or to the end).
  let peak = values[0]!;
  let peakIndex = 0;
  let maxDrawdown = 0;
  let longestMs = 0;
  let longestBars = 0;
  for (let i = 1; i < n; i++) {
    const v = values[i]!;
    if (v >= peak) {
      const ms = times[i]! - times[peakIndex]!;
      if (i - peakIndex > 1 && ms > longestMs) {
        longestMs = ms;
        longestBars = i - peakIndex;
      }
      peak = v;
      peakIndex = i;
    } else {
      const dd = v / peak - 1;
      if (dd < maxDrawdown) maxDrawdown = dd;
    }
  }
  if (peakIndex < n - 1) {
    const ms = times[n - 1]! - times[peakIndex]!;
    if (ms > longestMs) {
      longestMs = ms;
      longestBars = n - 1 - peakIndex;
    }
  }
  const mdd = maxDrawdown === 0 ? 0 : -maxDrawdown;
  return {
    totalReturn: orNull(totalReturn),
    cagr: orNull(cagr),
    annualVolatility: orNull(annualVolatility),
    sharpe: orNull(sharpe),
    sortino: orNull(sortino),
    calmar: mdd > 0 ? orNull(cagr / mdd) : null,
    maxDrawdown: mdd,
    maxDrawdownDurationMs: longestMs,
    maxDrawdownDurationBars: longestBars,
  };
}

export interface MetricInputs {
  times: ArrayLike<number>;
  values: ArrayLike<number>;
  trades: readonly TradeRecord[];
  /** Bars (equity points after the first) with any open position. */
  exposedBars: number;
  tradedNotional: number;
  fees: number;
}

export function computeMetrics(input: MetricInputs): Metrics {
  const curve = curveStats(input.times, input.values);
  const closed = input.trades.filter((t) => !t.isOpen);
  let wins = 0;
  let winSum = 0;
  let losses = 0;
  let lossSum = 0;
  for (const t of closed) {
    if (t.pnl > 0) {
      wins++;
      winSum += t.pnl;
    } else if (t.pnl < 0) {
      losses++;
      lossSum -= t.pnl;
    }
  }
  const n = input.values.length;
  let equitySum = 0;
  for (let i = 0; i < n; i++) equitySum += input.values[i]!;
  const averageEquity = n > 0 ? equitySum / n : NaN;
  return {
    ...curve,
    winRate: closed.length > 0 ? wins / closed.length : null,
    profitFactor: lossSum > 0 ? winSum / lossSum : null,
    averageWin: wins > 0 ? winSum / wins : null,
    averageLoss: losses > 0 ? -lossSum / losses : null,
    exposure: n > 1 ? input.exposedBars / (n - 1) : null,
    turnover: averageEquity > 0 ? input.tradedNotional / averageEquity : null,
    fees: input.fees,
    tradeCount: closed.length,
  };
}

/** Buy and hold: all of the starting cash in the instrument at the first close, held to the end. */
export function benchmarkCurve(
  times: ArrayLike<number>,
  closes: ArrayLike<number>,
  cash: number,
): Float64Array {
  const out = new Float64Array(closes.length);
  const first = closes[0]!;
  for (let i = 0; i < closes.length; i++) out[i] = (cash * closes[i]!) / first;
  void times;
  return out;
}

export function benchmarkMetrics(times: ArrayLike<number>, values: ArrayLike<number>): BenchmarkMetrics {
  const c = curveStats(times, values);
  return {
    totalReturn: c.totalReturn,
    cagr: c.cagr,
    annualVolatility: c.annualVolatility,
    sharpe: c.sharpe,
    maxDrawdown: c.maxDrawdown,
  };
}

/** Metrics where smaller is better (sorting "best first" flips for these). */
export const LOWER_IS_BETTER: ReadonlySet<MetricName> = new Set<MetricName>([
  'annualVolatility',
  'maxDrawdown',
  'maxDrawdownDurationMs',
  'maxDrawdownDurationBars',
  'fees',
  'turnover',
]);

/** Sorts rows by a metric (nulls last, ties in input order); direction defaults to best first. */
export function sortByMetric<T extends { metrics: Metrics }>(
  rows: readonly T[],
  metric: MetricName,
  direction?: 'asc' | 'desc',
): T[] {
  const dir = direction ?? (LOWER_IS_BETTER.has(metric) ? 'asc' : 'desc');
  return rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => {
      const x = a.row.metrics[metric];
      const y = b.row.metrics[metric];
      if (x === null && y === null) return a.index - b.index;
      if (x === null) return 1;
      if (y === null) return -1;
      const d = dir === 'asc' ? x - y : y - x;
      return d !== 0 ? d : a.index - b.index;
    })
    .map((e) => e.row);
}
