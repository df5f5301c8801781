import { appError } from '../../../shared/errors.ts';
import type { BacktestConfig, BacktestReport, OrderRecord } from '../../../shared/contract/backtest.ts';
import { sliceCandleColumns } from '../../../shared/market.ts';
import type { CandleColumns } from '../features/types.ts';
import { builtinInfo, createBuiltinStrategy } from '../strategy/builtins/index.ts';
import { runBacktest, type BacktestRun, type PredictionSource } from './backtester.ts';
import { benchmarkCurve, benchmarkMetrics, drawdownCurve } from './metrics.ts';

/** One configured backtest (a built-in strategy on one series) and its report, as the CLI, the UI and sweeps run it. */

export interface RunOptions {
  predictions?: PredictionSource;
  isCancelled?: () => boolean;
  onProgress?: (done: number, total: number) => void;
  /** Leave out decisions, orders and curves (sweeps only need metrics). */
  isMetricsOnly?: boolean;
}

/** Bars within [startMs, endMs] (by bar open time). */
export function selectRange(bars: CandleColumns, startMs?: number, endMs?: number): CandleColumns {
  const t = bars.time;
  let from = 0;
  let to = t.length;
  if (startMs !== undefined) while (from < to && t[from]! < startMs) from++;
  if (endMs !== undefined) while (to > from && t[to - 1]! > endMs) to--;
  return from === 0 && to === t.length ? bars : sliceCandleColumns(bars, from, to);
}

export async function runConfiguredBacktest(
  config: BacktestConfig,
  symbol: string,
  allBars: CandleColumns,
  options: RunOptions = {},
): Promise<{ run: BacktestRun; bars: CandleColumns }> {
  const info = builtinInfo(config.strategy.id);
  if (info.isModelDriven && !options.predictions) {
    throw appError(
      'STRATEGY_INVALID',
      `${config.strategy.id} reads model predictions, but this backtest has no model attached.`,
    );
  }
  const bars = selectRange(allBars, config.startMs, config.endMs);
  if (bars.time.length < 2)
    throw appError(
      'BACKTEST_FAILED',
      `The selected range holds ${bars.time.length} bars; a backtest needs at least 2.`,
    );
  const strategy = createBuiltinStrategy(config.strategy.id, config.strategy.params);
  // Predictions are indexed like allBars; the selected range may start later.
  const offset = bars === allBars ? 0 : allBars.time.indexOf(bars.time[0]!);
  const source = options.predictions;
  const predictions =
    source && offset > 0
      ? { predict: (s: string, i: number, closeMs: number) => source.predict(s, i + offset, closeMs) }
      : source;
  const run = await runBacktest({
    series: [{ symbol, bars }],
    strategies: [
      {
        strategyId: config.strategy.id,
        symbol,
        strategy,
        params: config.strategy.params,
        sizing: config.sizing,
        protection: config.protection,
      },
    ],
    fill: config.fill,
    cash: config.cash,
    currency: config.currency,
    risk: config.risk,
    ...(predictions ? { predictions } : {}),
    ...(options.isCancelled ? { isCancelled: options.isCancelled } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    isRecordingDecisions: !options.isMetricsOnly,
  });
  return { run, bars };
}

/** Evenly spaced indexes (first and last always kept) when a curve has more points than `max`. */
function pickIndexes(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; k < max; k++) out.push(Math.round((k * (n - 1)) / (max - 1)));
  return out;
}

export function buildReport(
  config: BacktestConfig,
  symbol: string,
  bars: CandleColumns,
  run: BacktestRun,
  elapsedMs: number,
  maxCurvePoints = Infinity,
): BacktestReport {
  const n = bars.time.length;
  const closeTimes = run.times.subarray(1);
  const bench = benchmarkCurve(closeTimes, bars.close, config.cash);
  const drawdown = drawdownCurve(run.equity);
  const idx = pickIndexes(run.equity.length, maxCurvePoints);
  const benchIdx = pickIndexes(bench.length, maxCurvePoints);
  const orders: OrderRecord[] = run.orders.map((o) => ({
    clientOrderId: o.clientOrderId,
    strategyId: o.strategyId,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    quantity: o.quantity,
    price: o.price,
    stopPrice: o.stopPrice,
    state: o.state,
    filledQuantity: o.filledQuantity,
    averageFillPrice: o.averageFillPrice,
    createdMs: o.createdMs,
    reason: o.reason,
  }));
  return {
    config,
    symbol,
    barCount: n,
    firstMs: n > 0 ? bars.time[0]! : null,
    lastMs: n > 0 ? bars.time[n - 1]! : null,
    metrics: run.metrics,
    benchmark: {
      name: `buy and hold ${symbol}`,
      metrics: benchmarkMetrics(closeTimes, bench),
      equity: benchIdx.map((i) => [closeTimes[i]!, bench[i]!] as [number, number]),
    },
    trades: run.trades,
    orders,
    equity: idx.map((i) => [run.times[i]!, run.equity[i]!] as [number, number]),
    drawdown: idx.map((i) => [run.times[i]!, drawdown[i]!] as [number, number]),
    elapsedMs,
  };
}
