/**
 * Bars as the feature code sees them. Structural on purpose: shared/market.ts candle columns (or any
 * object with these Float64Array fields) can be passed as they are, without copying.
 */
export interface Bar {
  /** Bar open time, ms since the Unix epoch (UTC). */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface CandleColumns {
  time: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

/** Which bar field a single-series indicator reads (TA-Lib reads close unless told otherwise). */
export const SOURCES = ['close', 'open', 'high', 'low', 'volume', 'hl2', 'hlc3', 'ohlc4'] as const;
export type Source = (typeof SOURCES)[number];

export function sourceCode(source: Source): number {
  return SOURCES.indexOf(source);
}

/** The value of a source for one bar; a switch (not a closure) so the hot loop stays monomorphic. */
export function sourceValue(
  code: number,
  open: number,
  high: number,
  low: number,
  close: number,
  volume: number,
): number {
  switch (code) {
    case 0:
      return close;
    case 1:
      return open;
    case 2:
      return high;
    case 3:
      return low;
    case 4:
      return volume;
    case 5:
      return (high + low) / 2;
    case 6:
      return (high + low + close) / 3;
    default:
      return (open + high + low + close) / 4;
  }
}

/**
 * One indicator instance: the single implementation behind both streaming and batch use.
 * `step` consumes one bar and leaves the indicator's outputs for that bar in `values`
 * (NaN while warming up). Batch runs (`runIndicator`) call the very same `step` over columns,
 * so batch and streaming results are identical by construction, bit for bit.
 */
export abstract class Indicator {
  readonly outputs: readonly string[];
  /** Outputs for the latest bar, in `outputs` order; overwritten by every step. */
  readonly values: Float64Array;

  constructor(outputs: readonly string[]) {
    this.outputs = outputs;
    this.values = new Float64Array(outputs.length).fill(NaN);
  }

  abstract step(time: number, open: number, high: number, low: number, close: number, volume: number): void;

  /** Streaming use: consume one bar, return its outputs (the shared `values` array). */
  update(bar: Bar): Float64Array {
    this.step(bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume);
    return this.values;
  }
}

type Runner = (indicator: Indicator, bars: CandleColumns) => Float64Array[];

/** The batch loop. Never called directly: runIndicator uses one private copy per indicator class. */
function batchLoop(indicator: Indicator, bars: CandleColumns): Float64Array[] {
  const n = bars.close.length;
  const { time, open, high, low, close, volume } = bars;
  const values = indicator.values;
  const columns = indicator.outputs.map(() => new Float64Array(n));
  if (columns.length === 1) {
    const out = columns[0]!;
    for (let i = 0; i < n; i++) {
      indicator.step(time[i]!, open[i]!, high[i]!, low[i]!, close[i]!, volume[i]!);
      out[i] = values[0]!;
    }
    return columns;
  }
  const k = columns.length;
  for (let i = 0; i < n; i++) {
    indicator.step(time[i]!, open[i]!, high[i]!, low[i]!, close[i]!, volume[i]!);
    for (let j = 0; j < k; j++) columns[j]![i] = values[j]!;
  }
  return columns;
}

const runners = new WeakMap<object, Runner>();

/**
 * Batch use: runs `indicator` over whole columns; one Float64Array per output, aligned with the
 * bars. It calls the same `step` as streaming use, so results are identical bit for bit.
 *
 * Why a copy of the loop per indicator class: V8 keeps type feedback per function, so one shared
 * loop calling twenty different `step` methods becomes megamorphic (no inlining, ~25 ns a call,
 * half the batch time at 1M bars x 20 features). A copy compiled from the same source per class
 * keeps each call site monomorphic and inlined. The source is this module's own batchLoop.
 */
export function runIndicator(indicator: Indicator, bars: CandleColumns): Float64Array[] {
  const key = indicator.constructor;
  let runner = runners.get(key);
  if (!runner) {
    try {
      runner = new Function(`return ${batchLoop.toString()}`)() as Runner; // a fresh copy of batchLoop (see above)
    } catch {
      // A host that forbids compiling code (or a bundler that rewrote the source) only costs speed.
      runner = batchLoop;
    }
    runners.set(key, runner);
  }
  return runner(indicator, bars);
}
