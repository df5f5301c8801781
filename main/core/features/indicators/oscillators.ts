import { type CandleColumns, Indicator, sourceAt } from '../types.ts';
import { Ema, type EmaSeed, RollingExtreme, RollingMean, Ring } from './kernels.ts';

/** TA-Lib's TA_IS_ZERO: |x| < 1e-14. */
export function isTalibZero(x: number): boolean {
  return x > -1e-14 && x < 1e-14;
}

/**
 * RSI (TA-Lib RSI, Wilder): average gain/loss seeded with the plain mean of the first `period`
 * changes (seed 'sma'; seed 'first' seeds with the first change, as pandas
 * ewm(alpha=1/period, adjust=False)), then avg = (avg·(period−1) + x) / period.
 * RSI = 100·gain/(gain+loss), 0 when both are ~0. First value at bar `period` ('first': bar 1).
 */
export class RsiIndicator extends Indicator {
  private readonly source: number;
  private readonly period: number;
  private readonly seedCount: number;
  private previous = NaN;
  private changes = 0;
  private gain = 0;
  private loss = 0;
  constructor(period: number, source: number, seed: EmaSeed = 'sma') {
    super(['value']);
    this.source = source;
    this.period = period;
    this.seedCount = seed === 'sma' ? period : 1;
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { open, high, low, close, volume } = bars;
    const code = this.source;
    const n = this.period;
    const seedCount = this.seedCount;
    const column = out[0]!;
    // State stays in the fields (not locals): measured, V8's on-stack-replaced loop boxed the
    // locals (~48 bytes a bar of garbage) and ran 3x slower.
    for (let i = start; i < end; i++) {
      const x = sourceAt(code, open, high, low, close, volume, i);
      const last = this.previous;
      this.previous = x;
      column[i] = NaN;
      if (Number.isNaN(last)) continue;
      const diff = x - last;
      const changes = ++this.changes;
      if (changes <= seedCount) {
        if (diff < 0) this.loss -= diff;
        else this.gain += diff;
        if (changes < seedCount) continue;
        this.gain /= seedCount;
        this.loss /= seedCount;
      } else {
        this.gain *= n - 1;
        this.loss *= n - 1;
        if (diff < 0) this.loss -= diff;
        else this.gain += diff;
        this.gain /= n;
        this.loss /= n;
      }
      const total = this.gain + this.loss;
      column[i] = isTalibZero(total) ? 0 : 100 * (this.gain / total);
    }
  }
}

/**
 * MACD (TA-Lib MACD): line = EMA(fast) − EMA(slow), signal = EMA(signal) of the line,
 * histogram = line − signal. With seed 'sma' TA-Lib's alignment is kept: the slow EMA is seeded
 * with the SMA of the first `slow` values, the fast EMA with the SMA of the `fast` values ending
 * on that same bar, the signal with the SMA of its first `signal` line values; all three outputs
 * start at bar slow+signal−2 (33 for 12/26/9). With seed 'first' (pandas ewm(adjust=False)) all
 * EMAs start at the first bar.
 */
export class MacdIndicator extends Indicator {
  private readonly source: number;
  private readonly fast: Ema;
  private readonly slow: Ema;
  private readonly signal: Ema;
  constructor(fastPeriod: number, slowPeriod: number, signalPeriod: number, source: number, seed: EmaSeed) {
    super(['line', 'signal', 'histogram']);
    this.source = source;
    // TA-Lib swaps the periods when slow < fast.
    const lo = Math.min(fastPeriod, slowPeriod);
    const hi = Math.max(fastPeriod, slowPeriod);
    this.fast = new Ema(lo, seed, false, seed === 'sma' ? hi : lo);
    this.slow = new Ema(hi, seed);
    this.signal = new Ema(signalPeriod, seed);
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { open, high, low, close, volume } = bars;
    const code = this.source;
    const { fast, slow, signal } = this;
    const lines = out[0]!;
    const signals = out[1]!;
    const histograms = out[2]!;
    for (let i = start; i < end; i++) {
      const x = sourceAt(code, open, high, low, close, volume, i);
      const f = fast.push(x);
      const s = slow.push(x);
      lines[i] = NaN;
      signals[i] = NaN;
      histograms[i] = NaN;
      if (Number.isNaN(s) || Number.isNaN(f)) continue;
      const line = f - s;
      const g = signal.push(line);
      if (Number.isNaN(g)) continue;
      lines[i] = line;
      signals[i] = g;
      histograms[i] = line - g;
    }
  }
}

/** Bars per stage of StochIndicator.compute (its scratch column). */
const STOCH_BLOCK = 1024;

/**
 * Stochastic (TA-Lib STOCH with SMA smoothing): fastK = 100·(close − LL)/(HH − LL) over
 * `fastK` bars (0 when HH = LL); k = SMA(slowK) of fastK; d = SMA(slowD) of k.
 * First value at bar fastK+slowK+slowD−3 (8 for 5/3/3).
 *
 * compute runs in stages over blocks of up to STOCH_BLOCK bars: fastK of the block, then its
 * slow %K, then %D, through a scratch column (NaN = no value, so the next stage skips the bar as
 * the one-loop version did). The four kernels hold independent state, so the numbers are the same
 * as one loop's; but each stage loop is small enough for V8 to inline its kernel whole (one loop
 * over all four did not: calls that box every double, measured ~1.6x slower at 1M bars).
 */
export class StochIndicator extends Indicator {
  private readonly highest: RollingExtreme;
  private readonly lowest: RollingExtreme;
  private readonly slowK: RollingMean;
  private readonly slowD: RollingMean;
  private readonly scratch = new Float64Array(STOCH_BLOCK);
  constructor(fastK: number, slowK: number, slowD: number) {
    super(['k', 'd']);
    this.highest = new RollingExtreme(fastK, true);
    this.lowest = new RollingExtreme(fastK, false);
    this.slowK = new RollingMean(slowK);
    this.slowD = new RollingMean(slowD);
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    for (let from = start; from < end; from += STOCH_BLOCK) {
      const to = Math.min(end, from + STOCH_BLOCK);
      this.fastKStage(bars, from, to);
      this.slowKStage(to - from);
      this.slowDStage(from, to, out[0]!, out[1]!);
    }
  }
  /** scratch[i − from] = fastK of bar i, NaN while the high/low window fills. */
  private fastKStage(bars: CandleColumns, from: number, to: number): void {
    const { high, low, close } = bars;
    const { highest, lowest, scratch } = this;
    for (let i = from; i < to; i++) {
      const hh = highest.push(high[i]!);
      const ll = lowest.push(low[i]!);
      if (Number.isNaN(hh)) {
        scratch[i - from] = NaN;
        continue;
      }
      const range = hh - ll;
      scratch[i - from] = range !== 0 ? (100 * (close[i]! - ll)) / range : 0;
    }
  }
  /** scratch[j] = slow %K (fastK is finite, so NaN means no fastK or the mean still warming up). */
  private slowKStage(count: number): void {
    const { slowK, scratch } = this;
    for (let j = 0; j < count; j++) {
      const fastK = scratch[j]!;
      if (!Number.isNaN(fastK)) scratch[j] = slowK.push(fastK);
    }
  }
  private slowDStage(from: number, to: number, ks: Float64Array, ds: Float64Array): void {
    const { slowD, scratch } = this;
    for (let i = from; i < to; i++) {
      const k = scratch[i - from]!;
      ks[i] = NaN;
      ds[i] = NaN;
      if (Number.isNaN(k)) continue;
      const d = slowD.push(k);
      if (Number.isNaN(d)) continue;
      ks[i] = k;
      ds[i] = d;
    }
  }
}

/** Williams %R (TA-Lib WILLR): −100·(HH − close)/(HH − LL) over `period` bars, 0 when HH = LL. */
export class WillrIndicator extends Indicator {
  private readonly highest: RollingExtreme;
  private readonly lowest: RollingExtreme;
  constructor(period: number) {
    super(['value']);
    this.highest = new RollingExtreme(period, true);
    this.lowest = new RollingExtreme(period, false);
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { high, low, close } = bars;
    const { highest, lowest } = this;
    const column = out[0]!;
    for (let i = start; i < end; i++) {
      const hh = highest.push(high[i]!);
      const ll = lowest.push(low[i]!);
      if (Number.isNaN(hh)) {
        column[i] = NaN;
        continue;
      }
      const range = hh - ll;
      column[i] = range !== 0 ? (-100 * (hh - close[i]!)) / range : 0;
    }
  }
}

/**
 * CCI (TA-Lib CCI): tp = (h+l+c)/3; (tp − SMA(tp)) / (0.015 · mean |tp − SMA(tp)|), 0 when either
 * is zero. The mean deviation needs the whole window, so an update is O(period), not O(1).
 */
export class CciIndicator extends Indicator {
  private readonly mean: RollingMean;
  constructor(period: number) {
    super(['value']);
    this.mean = new RollingMean(period);
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { high, low, close } = bars;
    const mean = this.mean;
    const data = mean.ring.data;
    const period = mean.ring.period;
    const column = out[0]!;
    for (let i = start; i < end; i++) {
      const tp = (high[i]! + low[i]! + close[i]!) / 3;
      const average = mean.push(tp);
      if (Number.isNaN(average)) {
        column[i] = NaN;
        continue;
      }
      let deviation = 0;
      for (let k = 0; k < period; k++) deviation += Math.abs(data[k]! - average);
      deviation /= period;
      const distance = tp - average;
      column[i] = distance !== 0 && deviation !== 0 ? distance / (0.015 * deviation) : 0;
    }
  }
}

/** ROC (TA-Lib ROC): 100·(x / x[t−period] − 1), 0 when x[t−period] = 0. First value at bar `period`. */
export class RocIndicator extends Indicator {
  private readonly source: number;
  private readonly ring: Ring;
  constructor(period: number, source: number) {
    super(['value']);
    this.source = source;
    this.ring = new Ring(period + 1);
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { open, high, low, close, volume } = bars;
    const code = this.source;
    const ring = this.ring;
    const back = ring.period - 1;
    const column = out[0]!;
    for (let i = start; i < end; i++) {
      const x = sourceAt(code, open, high, low, close, volume, i);
      ring.push(x);
      if (!ring.isFull()) {
        column[i] = NaN;
        continue;
      }
      const past = ring.at(back);
      column[i] = past !== 0 ? (x / past - 1) * 100 : 0;
    }
  }
}

/** Momentum (TA-Lib MOM): x − x[t−period]. First value at bar `period`. */
export class MomIndicator extends Indicator {
  private readonly source: number;
  private readonly ring: Ring;
  constructor(period: number, source: number) {
    super(['value']);
    this.source = source;
    this.ring = new Ring(period + 1);
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { open, high, low, close, volume } = bars;
    const code = this.source;
    const ring = this.ring;
    const back = ring.period - 1;
    const column = out[0]!;
    for (let i = start; i < end; i++) {
      const x = sourceAt(code, open, high, low, close, volume, i);
      ring.push(x);
      column[i] = ring.isFull() ? x - ring.at(back) : NaN;
    }
  }
}
