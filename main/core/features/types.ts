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

/**
 * The value of a source for bar i of the columns; a switch on a loop-invariant code (not a
 * closure) so the indicator loops stay monomorphic and only the needed columns are read.
 */
export function sourceAt(
  code: number,
  open: Float64Array,
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  volume: Float64Array,
  i: number,
): number {
  // close (the default) first and tiny, so this inlines; other sources take the switch.
  return code === 0 ? close[i]! : otherSourceAt(code, open, high, low, volume, close, i);
}

function otherSourceAt(
  code: number,
  open: Float64Array,
  high: Float64Array,
  low: Float64Array,
  volume: Float64Array,
  close: Float64Array,
  i: number,
): number {
  switch (code) {
    case 1:
      return open[i]!;
    case 2:
      return high[i]!;
    case 3:
      return low[i]!;
    case 4:
      return volume[i]!;
    case 5:
      return (high[i]! + low[i]!) / 2;
    case 6:
      return (high[i]! + low[i]! + close[i]!) / 3;
    default:
      return (open[i]! + high[i]! + low[i]! + close[i]!) / 4;
  }
}

/** One bar as columns of length 1: what `step` hands to `compute` (single-threaded, used and released within one call). */
const STEP_BAR: CandleColumns = {
  time: new Float64Array(1),
  open: new Float64Array(1),
  high: new Float64Array(1),
  low: new Float64Array(1),
  close: new Float64Array(1),
  volume: new Float64Array(1),
};

/**
 * One indicator instance: the single implementation behind both streaming and batch use.
 * `compute(bars, start, end, out)` consumes bars start..end−1 in order and writes output j of bar i
 * to out[j][i] (NaN while warming up). Streaming (`step`/`update`) is `compute` over a one-bar
 * block whose outputs are views of `values`; batch (`runIndicator`) is one `compute` over the whole
 * columns. Same code, same state transitions, so the results are identical bit for bit.
 *
 * Why blocks rather than a per-bar method called from a shared loop: a per-bar call passes six
 * doubles (boxed as heap numbers when the call is not inlined) and leaves the indicator's state in
 * object fields between bars; measured at 1M bars x 20 features it was about half the batch time
 * plus a scavenge every ~100k bars. Inside one `compute` the loop keeps its state in registers and
 * calls only monomorphic kernels (kernels.ts) that V8 inlines.
 */
export abstract class Indicator {
  readonly outputs: readonly string[];
  /** Outputs for the latest bar, in `outputs` order; overwritten by every step. */
  readonly values: Float64Array;
  /**
   * values[j] as a one-element column, so a one-bar `compute` writes straight into `values`.
   * A caller that holds the bar as one-bar columns may call `compute(bar, 0, 1, valueColumns)`
   * itself (FeaturePipeline: one dispatch per indicator instead of step's two).
   */
  readonly valueColumns: readonly Float64Array[];

  constructor(outputs: readonly string[]) {
    this.outputs = outputs;
    this.values = new Float64Array(outputs.length).fill(NaN);
    this.valueColumns = outputs.map((_, j) => this.values.subarray(j, j + 1));
  }

  /** Consumes bars [start, end) of `bars` in order; writes output j of bar i to out[j][i]. */
  abstract compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void;

  /** Streaming use: consume one bar; its outputs are then in `values`. */
  step(time: number, open: number, high: number, low: number, close: number, volume: number): void {
    const bar = STEP_BAR;
    bar.time[0] = time;
    bar.open[0] = open;
    bar.high[0] = high;
    bar.low[0] = low;
    bar.close[0] = close;
    bar.volume[0] = volume;
    this.compute(bar, 0, 1, this.valueColumns);
  }

  /** Streaming use: consume one bar, return its outputs (the shared `values` array). */
  update(bar: Bar): Float64Array {
    this.step(bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume);
    return this.values;
  }
}

/**
 * Batch use: runs `indicator` over whole columns; one Float64Array per output, aligned with the
 * bars. It runs the same `compute` as streaming use, so results are identical bit for bit.
 */
export function runIndicator(indicator: Indicator, bars: CandleColumns): Float64Array[] {
  const n = bars.close.length;
  const columns = indicator.outputs.map(() => new Float64Array(n));
  indicator.compute(bars, 0, n, columns);
  return columns;
}
