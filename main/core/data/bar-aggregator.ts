import type { Scheduler, TimerHandle } from '../clock.ts';
import {
  TIMEFRAME_MS,
  emptyCandleColumns,
  sliceCandleColumns,
  type Candle,
  type CandleColumns,
  type Timeframe,
  type Trade,
  type TradeColumns,
} from '../../../shared/market.ts';

/**
 * Bars from trades. Semantics (docs/market-data.md):
 * - a bar covers [open, open + timeframe) in UTC, aligned to the epoch;
 * - it closes when the clock reaches its close time (+ closeDelayMs) or a later trade arrives,
 *   whichever comes first; an interval with no trade closes as a flat bar (O=H=L=C = the last
 *   close, volume 0) once a price is known;
 * - a closed bar is emitted exactly once and never changes: a trade older than the forming bar is
 *   counted as late and dropped.
 */

export interface ClosedBar {
  timeframe: Timeframe;
  bar: Candle;
  /** Number of trades in the bar (0 for a flat bar). */
  tradeCount: number;
}

interface Forming {
  openMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  tradeCount: number;
}

export interface BarAggregatorOptions {
  timeframes: readonly Timeframe[];
  onBar: (closed: ClosedBar) => void;
  /** Price for flat bars before the first trade; without it bars start at the first trade. */
  initialPrice?: number;
  /** Time to wait after a bar's close for trades still in flight (venue latency). Default 0. */
  closeDelayMs?: number;
}

export class BarAggregator {
  private readonly timeframes: readonly Timeframe[];
  private readonly onBar: (closed: ClosedBar) => void;
  private readonly closeDelayMs: number;
  private readonly forming = new Map<Timeframe, Forming>();
  /** Open time of the next bar to be formed per timeframe (after the last closed one). */
  private readonly nextOpenMs = new Map<Timeframe, number>();
  private lastPrice: number | null;
  private timer: TimerHandle | null = null;
  lateTrades = 0;

  constructor(options: BarAggregatorOptions) {
    this.timeframes = [...options.timeframes];
    this.onBar = options.onBar;
    this.closeDelayMs = options.closeDelayMs ?? 0;
    this.lastPrice = options.initialPrice ?? null;
  }

  /** The bar still forming for a timeframe (a copy), or null before any price is known. */
  formingBar(timeframe: Timeframe): Candle | null {
    const f = this.forming.get(timeframe);
    return f
      ? { time: f.openMs, open: f.open, high: f.high, low: f.low, close: f.close, volume: f.volume }
      : null;
  }

  /**
   * Continues a bar that history already started (e.g. the current hour when history ends
   * mid-hour): trades then extend it instead of opening a new one. Only before any trade.
   */
  seedForming(timeframe: Timeframe, bar: Candle): void {
    if (!this.timeframes.includes(timeframe) || bar.time % TIMEFRAME_MS[timeframe] !== 0) return;
    this.forming.set(timeframe, {
      openMs: bar.time,
      open: bar.open,
      high: bar.high,
      low: bar.low,
      close: bar.close,
      volume: bar.volume,
      tradeCount: 1,
    });
    this.nextOpenMs.set(timeframe, bar.time);
    this.lastPrice = bar.close;
  }

  /** Feeds one trade. Returns false when the trade is late (its bar already closed) and was dropped. */
  addTrade(trade: Trade): boolean {
    return this.add(trade.tsMs, trade.price, trade.quantity);
  }

  add(tsMs: number, price: number, quantity: number): boolean {
    // A trade first closes every bar that ended before it.
    this.advanceTo(tsMs, false);
    let isLate = false;
    for (const tf of this.timeframes) {
      const size = TIMEFRAME_MS[tf];
      const openMs = Math.floor(tsMs / size) * size;
      const next = this.nextOpenMs.get(tf);
      if (next !== undefined && openMs < next) {
        isLate = true;
        continue;
      }
      const f = this.forming.get(tf);
      if (!f || f.openMs !== openMs) {
        this.forming.set(tf, {
          openMs,
          open: price,
          high: price,
          low: price,
          close: price,
          volume: quantity,
          tradeCount: 1,
        });
        this.nextOpenMs.set(tf, openMs);
      } else {
        if (f.tradeCount === 0) {
          // A bar opened by the clock (flat so far) takes its open from the first trade's price.
          f.open = f.high = f.low = price;
        }
        if (price > f.high) f.high = price;
        if (price < f.low) f.low = price;
        f.close = price;
        f.volume += quantity;
        f.tradeCount++;
      }
    }
    if (isLate) {
      this.lateTrades++;
      return false;
    }
    this.lastPrice = price;
    return true;
  }

  /**
   * Closes every bar whose close time (+ delay, when clock-driven) is at or before nowMs, and the
   * flat bars of empty intervals in between, in time order per timeframe.
   */
  advanceTo(nowMs: number, isClockDriven = true): void {
    const horizon = isClockDriven ? nowMs - this.closeDelayMs : nowMs;
    for (const tf of this.timeframes) {
      const size = TIMEFRAME_MS[tf];
      let f = this.forming.get(tf);
      if (!f) {
        if (this.lastPrice === null) continue;
        // Known price but no bar yet (initialPrice): start the bar containing the horizon.
        const openMs = Math.floor(horizon / size) * size;
        f = flat(openMs, this.lastPrice);
        this.forming.set(tf, f);
        this.nextOpenMs.set(tf, openMs);
        continue;
      }
      while (f.openMs + size <= horizon) {
        this.onBar({
          timeframe: tf,
          bar: { time: f.openMs, open: f.open, high: f.high, low: f.low, close: f.close, volume: f.volume },
          tradeCount: f.tradeCount,
        });
        f = flat(f.openMs + size, f.close);
        this.forming.set(tf, f);
        this.nextOpenMs.set(tf, f.openMs);
      }
    }
  }

  /** Closes bars on time from the scheduler's clock, even when no trade arrives. */
  start(scheduler: Scheduler): void {
    this.stop();
    const smallest = Math.min(...this.timeframes.map((tf) => TIMEFRAME_MS[tf]));
    const arm = (): void => {
      const now = scheduler.nowMs();
      const nextClose =
        Math.floor((now - this.closeDelayMs) / smallest) * smallest + smallest + this.closeDelayMs;
      this.timer = scheduler.schedule(nextClose - now, () => {
        this.advanceTo(scheduler.nowMs());
        arm();
      });
    };
    this.advanceTo(scheduler.nowMs());
    arm();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}

function flat(openMs: number, price: number): Forming {
  return { openMs, open: price, high: price, low: price, close: price, volume: 0, tradeCount: 0 };
}

export interface AggregateOptions {
  /** Bars whose close time is at or before this are returned; default: all but the last (still forming). */
  untilMs?: number;
  /** Emit flat bars for empty intervals between trades (default true, as the streaming aggregator does). */
  fillGaps?: boolean;
}

/**
 * Columnar fast path: the closed bars of sorted trades in one pass (no allocation per trade).
 * Gives the same bars as BarAggregator fed the same trades and advanced to untilMs.
 */
export function aggregateTrades(
  trades: TradeColumns,
  timeframe: Timeframe,
  options: AggregateOptions = {},
): CandleColumns {
  const n = trades.tsMs.length;
  if (n === 0) return emptyCandleColumns(0);
  const size = TIMEFRAME_MS[timeframe];
  const fillGaps = options.fillGaps ?? true;
  const ts = trades.tsMs;
  const px = trades.price;
  const qty = trades.quantity;
  const firstOpen = Math.floor(ts[0]! / size) * size;
  const lastTs = ts[n - 1]!;
  const untilMs = options.untilMs ?? Math.floor(lastTs / size) * size;
  const capacity = fillGaps
    ? Math.max(0, Math.floor((Math.max(untilMs, lastTs + size) - firstOpen) / size) + 1)
    : n;
  const out = emptyCandleColumns(capacity);
  const oT = out.time;
  const oO = out.open;
  const oH = out.high;
  const oL = out.low;
  const oC = out.close;
  const oV = out.volume;
  let k = -1;
  let barOpen = -Infinity;
  let barEnd = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = ts[i]!;
    const p = px[i]!;
    if (t >= barEnd) {
      const open = Math.floor(t / size) * size;
      if (fillGaps && k >= 0) {
        const c = oC[k]!;
        for (let gap = barOpen + size; gap < open; gap += size) {
          k++;
          oT[k] = gap;
          oO[k] = c;
          oH[k] = c;
          oL[k] = c;
          oC[k] = c;
          oV[k] = 0;
        }
      }
      k++;
      barOpen = open;
      barEnd = open + size;
      oT[k] = open;
      oO[k] = p;
      oH[k] = p;
      oL[k] = p;
      oC[k] = p;
      oV[k] = qty[i]!;
    } else if (t >= barOpen) {
      if (p > oH[k]!) oH[k] = p;
      if (p < oL[k]!) oL[k] = p;
      oC[k] = p;
      oV[k] = oV[k]! + qty[i]!;
    }
    // t < barOpen: unsorted (late) trade; dropped exactly as the streaming aggregator drops it.
  }
  // Flat bars after the last trade up to untilMs.
  if (fillGaps) {
    const c = oC[k]!;
    for (let open = barOpen + size; open + size <= untilMs; open += size) {
      k++;
      oT[k] = open;
      oO[k] = c;
      oH[k] = c;
      oL[k] = c;
      oC[k] = c;
      oV[k] = 0;
    }
  }
  let count = k + 1;
  while (count > 0 && oT[count - 1]! + size > untilMs) count--;
  return sliceCandleColumns(out, 0, count);
}

export interface ResampledBars {
  columns: CandleColumns;
  /** Source bars in each target bar (a complete 1h bar from 5m bars has 12). */
  sourceCounts: Int32Array;
}

/** Combines bars into a larger timeframe: first open, max high, min low, last close, summed volume. */
export function resampleBars(columns: CandleColumns, target: Timeframe): ResampledBars {
  const size = TIMEFRAME_MS[target];
  const n = columns.time.length;
  const out = emptyCandleColumns(n);
  const counts = new Int32Array(n);
  let k = -1;
  let currentOpen = NaN;
  for (let i = 0; i < n; i++) {
    const open = Math.floor(columns.time[i]! / size) * size;
    if (open !== currentOpen) {
      k++;
      currentOpen = open;
      out.time[k] = open;
      out.open[k] = columns.open[i]!;
      out.high[k] = columns.high[i]!;
      out.low[k] = columns.low[i]!;
      out.close[k] = columns.close[i]!;
      out.volume[k] = columns.volume[i]!;
      counts[k] = 1;
    } else {
      if (columns.high[i]! > out.high[k]!) out.high[k] = columns.high[i]!;
      if (columns.low[i]! < out.low[k]!) out.low[k] = columns.low[i]!;
      out.close[k] = columns.close[i]!;
      out.volume[k] = out.volume[k]! + columns.volume[i]!;
      counts[k] = counts[k]! + 1;
    }
  }
  return { columns: sliceCandleColumns(out, 0, k + 1), sourceCounts: counts.subarray(0, k + 1) };
}
