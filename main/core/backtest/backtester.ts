import { appError } from '../../../shared/errors.ts';
import type { FillConfig, Metrics, TradeRecord } from '../../../shared/contract/backtest.ts';
import type { RiskLimits, RiskLimitsPatch } from '../../../shared/contract/trading.ts';
import type { Fill, Order } from '../../../shared/trading.ts';
import { MemoryOrderJournal } from '../execution/journal.ts';
import { OrderManager } from '../execution/order-manager.ts';
import type { CandleColumns } from '../features/types.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import { DEFAULT_RISK_LIMITS } from '../risk/risk-limits.ts';
import { StrategyEngine, type DecisionRecord } from '../strategy/engine.ts';
import type { ProtectionSpec, SizingSpec } from '../strategy/sizing.ts';
import type { Prediction, Strategy, StrategyParams } from '../strategy/types.ts';
import { EventClock } from './event-clock.ts';
import { computeMetrics } from './metrics.ts';
import { SimulatedBroker } from './simulated-broker.ts';
import { TradeBuilder } from './trades.ts';

/**
 * The backtester: an event-driven replay of stored bars through the live trading stack. Per
 * timestamp (all series with a bar opening then, in input order):
 *   1. clock := bar open; the simulated broker fills market orders at the open, then the
 *      order manager's fills reach the portfolio and the strategies (protective exits are
 *      placed); then resting limit/stop orders are checked against the bar's range;
 *   2. clock := bar close; the portfolio is marked at the close; predictions for the bar (if a
 *      prediction source is given) and then the bar itself are delivered to the strategies,
 *      whose orders go through risk and the order manager to the broker;
 *   3. with fill 'close', market orders placed at this close fill at it;
 *   4. equity is recorded.
 * Nothing reads a bar before step 2 of that bar (the engine checks the clock), and nothing
 * depends on wall time or randomness: the same input gives the same output, bit for bit.
 */

export interface SeriesInput {
  symbol: string;
  bars: CandleColumns;
  /** Bar length; inferred as the smallest spacing of the bar times when omitted. */
  timeframeMs?: number;
}

export interface StrategySlot {
  strategyId: string;
  symbol: string;
  strategy: Strategy;
  params?: StrategyParams;
  sizing: SizingSpec;
  protection?: ProtectionSpec;
}

/** Model outputs for a backtest: the prediction for bar `index` of `symbol`, made at its close. */
export interface PredictionSource {
  predict(symbol: string, index: number, closeMs: number): Prediction | null;
}

export interface BacktestInput {
  series: readonly SeriesInput[];
  strategies: readonly StrategySlot[];
  fill: FillConfig;
  cash: number;
  currency?: string;
  risk?: RiskLimitsPatch;
  predictions?: PredictionSource;
  isCancelled?: () => boolean;
  onProgress?: (done: number, total: number) => void;
  /** Keep every strategy decision (entries, exits, protective orders) for audit/parity (default true). */
  isRecordingDecisions?: boolean;
}

export interface StrategyResult {
  strategyId: string;
  symbol: string;
  quantity: number;
  realisedPnl: number;
  unrealisedPnl: number;
  fees: number;
  /** Realised + unrealised - fees. */
  netPnl: number;
  tradeCount: number;
}

export interface BacktestRun {
  times: Float64Array;
  equity: Float64Array;
  trades: TradeRecord[];
  orders: Order[];
  fills: readonly Fill[];
  decisions: DecisionRecord[];
  metrics: Metrics;
  strategies: StrategyResult[];
  barCount: number;
  elapsedBars: number;
}

/**
 * Risk limits of a backtest: the live defaults (docs/risk.md) except those that would quietly
 * change a research result: position size, leverage and order size are the sizing policy's to
 * decide, the price band would refuse protective limits placed far from the close, and the loss
 * halts (daily loss, drawdown) are reset by a person live, which no backtest can do, and the
 * duplicate guard (window 0: off) would refuse the take-profit placed beside a stop-loss of the
 * same size by the same strategy. Override any of them per run with config.risk.
 */
export const BACKTEST_RISK_LIMITS: RiskLimits = {
  ...DEFAULT_RISK_LIMITS,
  maxPositionPctOfEquity: 10_000,
  maxGrossLeverage: 100,
  maxOrderNotional: 1e15,
  maxOrderPctOfAvailable: 10_000,
  priceBandPct: 10_000,
  dailyLossLimitPct: 10_000,
  maxDrawdownPct: 10_000,
  // A stop-loss and a take-profit placed together are the same side and size by design.
  duplicateWindowMs: 0,
};

const PROGRESS_EVERY = 1 << 15;

export function inferTimeframeMs(times: ArrayLike<number>): number {
  let best = Infinity;
  for (let i = 1; i < times.length; i++) {
    const d = times[i]! - times[i - 1]!;
    if (d > 0 && d < best) best = d;
  }
  return Number.isFinite(best) ? best : 60_000;
}

export async function runBacktest(input: BacktestInput): Promise<BacktestRun> {
  const series = input.series;
  if (series.length === 0) throw appError('BACKTEST_FAILED', 'A backtest needs at least one series.');
  const symbols = series.map((s) => s.symbol);
  if (new Set(symbols).size !== symbols.length)
    throw appError('BACKTEST_FAILED', `A symbol appears twice among the series: ${symbols.join(', ')}.`);
  for (const slot of input.strategies) {
    if (!symbols.includes(slot.symbol))
      throw appError(
        'BACKTEST_FAILED',
        `Strategy ${slot.strategyId} trades ${slot.symbol}, which has no series in this backtest.`,
      );
  }
  for (const s of series) {
    const t = s.bars.time;
    for (let i = 1; i < t.length; i++) {
      if (!(t[i]! > t[i - 1]!))
        throw appError(
          'DATA_INVALID',
          `${s.symbol}: bar times must increase; bar ${i} (${t[i]}) is not after bar ${i - 1} (${t[i - 1]}).`,
        );
    }
  }

  const firstTime = Math.min(...series.map((s) => (s.bars.time.length > 0 ? s.bars.time[0]! : Infinity)));
  const clock = new EventClock(Number.isFinite(firstTime) ? firstTime : 0);
  const currency = input.currency ?? 'USD';
  const portfolio = new Portfolio({ startingCash: input.cash, currency });
  const broker = new SimulatedBroker(input.fill, clock, symbols, currency);
  // The order manager keeps the run's orders and the broker its fills: the journal need not copy them.
  const journal = new MemoryOrderJournal({ isKeepingRecords: false });
  const orderManager = new OrderManager({
    broker,
    journal,
    portfolio,
    clock,
    account: 'backtest',
    clientIdPrefix: 'bt',
  });
  // The last price seen per symbol: the bar's open while fills at the open are processed, its close after it.
  const isClosePending = new Uint8Array(series.length);
  const referencePrice = (symbol: string): number | null => {
    const s = symbols.indexOf(symbol);
    if (s < 0) return null;
    const bars = series[s]!.bars;
    const c = Math.min(cursor[s]!, bars.time.length - 1);
    const price = isClosePending[s] === 1 || cursor[s]! >= bars.time.length ? bars.close[c]! : bars.open[c]!;
    return price > 0 ? price : null;
  };
  // Filled in once the engine exists (the risk engine is built before it).
  let workingOrders: (strategyId: string | undefined) => number = (strategyId) =>
    orderManager.openOrderCount(strategyId);
  const risk = new RiskEngine(
    {
      clock,
      portfolio,
      marketRules: (symbol) => broker.marketRules(symbol),
      referencePrice: (symbol) => referencePrice(symbol),
      // Replayed data is always current at the event being processed.
      lastMarketDataMs: (symbol) => (referencePrice(symbol) !== null ? clock.nowMs() : null),
      openOrderCount: (strategyId) => workingOrders(strategyId),
      hasUnknownOrder: (symbol) => orderManager.hasUnknownOrder(symbol),
    },
    { global: { ...BACKTEST_RISK_LIMITS, ...stripUndefined(input.risk ?? {}) }, strategies: {}, symbols: {} },
  );
  orderManager.setRiskGate(risk);
  const engine = new StrategyEngine({ orderManager, portfolio, clock });
  engine.isRecordingDecisions = input.isRecordingDecisions ?? true;
  // Only recorded decisions read the checks an order passed.
  risk.isKeepingPassedChecks = engine.isRecordingDecisions;
  // The order manager counts by scanning the working orders of every strategy; each runner
  // already tracks its own.
  workingOrders = (strategyId) => {
    const runner = strategyId === undefined ? null : engine.runner(strategyId);
    return runner ? runner.working.size : orderManager.openOrderCount(strategyId);
  };
  for (const slot of input.strategies) {
    const runner = engine.add({
      strategyId: slot.strategyId,
      symbol: slot.symbol,
      strategy: slot.strategy,
      params: slot.params ?? {},
      sizing: slot.sizing,
      protection: slot.protection ?? {},
    });
    // Every runner sees every bar of its series from the first, so its bar index is the series
    // index: the features of the whole series are computed once, in batch, instead of per bar.
    runner.featureSet.precompute(series[symbols.indexOf(slot.symbol)]!.bars);
  }

  // Bars seen per symbol (for bars held) and the trade list from fills.
  const symbolIndex = new Map(symbols.map((s, i) => [s, i]));
  const barsSeen = new Int32Array(series.length);
  const trades = new TradeBuilder();
  engine.onFill((fill, order, explanationId) => {
    trades.onFill(fill, { barIndex: barsSeen[symbolIndex.get(fill.symbol)!]!, order, explanationId });
  });

  const timeframes = series.map((s) => s.timeframeMs ?? inferTimeframeMs(s.bars.time));
  const total = series.reduce((n, s) => n + s.bars.time.length, 0);
  const times = new Float64Array(total + 1);
  const values = new Float64Array(total + 1);
  times[0] = clock.nowMs();
  values[0] = portfolio.equity();
  let points = 1;
  let exposedBars = 0;
  const cursor = new Int32Array(series.length);
  const group = new Int32Array(series.length);
  const isCloseFill = input.fill.marketFill === 'close';
  let done = 0;
  let nextProgress = PROGRESS_EVERY;
  const predictions = input.predictions ?? null;
  // Per-series handles, so the loop does no map lookups per bar.
  const books = symbols.map((symbol) => broker.book(symbol));
  const markets = symbols.map((symbol) => portfolio.market(symbol));
  const runnerLists = symbols.map((symbol) => engine.runnersFor(symbol));

  engine.start();
  // The per-bar steps run in a synchronous state machine (advance); it returns whenever order
  // actions are queued, the driver awaits the engine's drain, then advance continues from the
  // same step. Bars that need no order work never touch a promise.
  const OPEN = 0;
  const RANGE = 1;
  const CLOSE = 2;
  const CLOSE_FILL = 3;
  const RECORD = 4;
  let step = OPEN;
  let groupSize = 0;
  // The current timestamp and group close [t, closeMs] across suspensions of advance. Kept in a
  // typed array, not in variables the closure captures: a captured double is boxed on every write.
  const barTimes = new Float64Array(2);
  const seriesCount = series.length;
  const advance = (): boolean => {
    let t = barTimes[0]!;
    let closeMs = barTimes[1]!;
    for (;;) {
      if (step === OPEN) {
        // The next timestamp and the series with a bar opening at it.
        t = Infinity;
        for (let s = 0; s < seriesCount; s++) {
          const c = cursor[s]!;
          const time = series[s]!.bars.time;
          if (c < time.length && time[c]! < t) t = time[c]!;
        }
        if (t === Infinity) return true;
        groupSize = 0;
        closeMs = -Infinity;
        for (let s = 0; s < seriesCount; s++) {
          const c = cursor[s]!;
          const time = series[s]!.bars.time;
          if (c < time.length && time[c]! === t) {
            group[groupSize++] = s;
            const close = t + timeframes[s]!;
            if (close > closeMs) closeMs = close;
          }
        }
        barTimes[0] = t;
        barTimes[1] = closeMs;
        // 1. The open: market orders fill at it.
        clock.set(t);
        for (let g = 0; g < groupSize; g++) {
          const s = group[g]!;
          const b = series[s]!.bars;
          const c = cursor[s]!;
          isClosePending[s] = 0;
          broker.beginBar(
            books[s]!,
            t,
            t + timeframes[s]!,
            b.open[c]!,
            b.high[c]!,
            b.low[c]!,
            b.close[c]!,
            b.volume[c]!,
          );
          if (broker.workingCount > 0) broker.fillAtOpen(books[s]!);
        }
        step = RANGE;
        if (engine.hasPending()) return false;
      }
      if (step === RANGE) {
        // Resting orders against the bar's range (after the fills at the open placed their stops).
        if (broker.workingCount > 0)
          for (let g = 0; g < groupSize; g++) broker.fillInRange(books[group[g]!]!);
        step = CLOSE;
        if (engine.hasPending()) return false;
      }
      if (step === CLOSE) {
        // 2. The close: mark, predictions, bars to the strategies.
        clock.set(closeMs);
        for (let g = 0; g < groupSize; g++) {
          const s = group[g]!;
          const b = series[s]!.bars;
          const c = cursor[s]!;
          const close = b.close[c]!;
          books[s]!.isClosed = true;
          if (close > 0) markets[s]!.markPrice = close;
          isClosePending[s] = 1;
          barsSeen[s] = c;
          if (predictions) {
            const p = predictions.predict(symbols[s]!, c, t + timeframes[s]!);
            if (p) engine.onPrediction(p);
          }
          engine.deliverBar(
            runnerLists[s]!,
            t,
            t + timeframes[s]!,
            b.open[c]!,
            b.high[c]!,
            b.low[c]!,
            close,
            b.volume[c]!,
          );
        }
        step = CLOSE_FILL;
        if (engine.hasPending()) return false;
      }
      if (step === CLOSE_FILL) {
        // 3. Same-bar close fills.
        if (isCloseFill && broker.workingCount > 0)
          for (let g = 0; g < groupSize; g++) broker.fillAtClose(books[group[g]!]!);
        step = RECORD;
        if (engine.hasPending()) return false;
      }
      // 4. Equity after the close.
      times[points] = closeMs;
      values[points] = portfolio.equity();
      points++;
      for (let s = 0; s < seriesCount; s++) {
        if (markets[s]!.netQuantity !== 0) {
          exposedBars++;
          break;
        }
      }
      for (let g = 0; g < groupSize; g++) cursor[group[g]!]!++;
      done += groupSize;
      step = OPEN;
      if (done >= nextProgress) {
        nextProgress = done + PROGRESS_EVERY;
        if (input.isCancelled?.())
          throw appError('CANCELLED', `Backtest cancelled after ${done} of ${total} bars.`);
        input.onProgress?.(done, total);
      }
    }
  };
  // Order work is done in the call where the venue answers inside it; only cancels need a promise.
  while (!advance()) if (!engine.drainNow()) await engine.drain();
  engine.stop();
  orderManager.close();
  input.onProgress?.(done, total);

  // Every timestamp had its own point (one series, or none shared): the arrays are already the right length.
  const equityTimes = points === times.length ? times : times.slice(0, points);
  const equity = points === values.length ? values : values.slice(0, points);
  const allTrades = trades.all(
    (symbol) => series[symbolIndex.get(symbol)!]!.bars.time.length - 1,
    (symbol) => portfolio.markPrice(symbol),
  );
  const metrics = computeMetrics({
    times: equityTimes,
    values: equity,
    trades: allTrades,
    exposedBars,
    tradedNotional: broker.tradedNotional,
    fees: portfolio.feesPaid(),
  });
  const strategies: StrategyResult[] = engine.allRunners().map((r) => {
    const slot = r.slot;
    const unrealised = slot.quantity === 0 ? 0 : slot.quantity * (slot.market.markPrice - slot.averagePrice);
    return {
      strategyId: r.strategyId,
      symbol: r.symbol,
      quantity: slot.quantity,
      realisedPnl: slot.realisedPnl,
      unrealisedPnl: unrealised,
      fees: slot.feesPaid,
      netPnl: slot.realisedPnl + unrealised - slot.feesPaid,
      tradeCount: allTrades.filter((t) => t.strategyId === r.strategyId && !t.isOpen).length,
    };
  });
  return {
    times: equityTimes,
    equity,
    trades: allTrades,
    orders: orderManager.allOrders(),
    fills: broker.allFills(),
    decisions: engine.decisions,
    metrics,
    strategies,
    barCount: total,
    elapsedBars: done,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
