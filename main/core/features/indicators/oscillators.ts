import { Indicator, sourceValue } from '../types.ts';
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
  step(_t: number, o: number, h: number, l: number, c: number, v: number): void {
    const x = sourceValue(this.source, o, h, l, c, v);
    const previous = this.previous;
    this.previous = x;
    this.values[0] = NaN;
    if (Number.isNaN(previous)) return;
    const diff = x - previous;
    const n = this.period;
    const seedCount = this.seedCount;
    this.changes++;
    if (this.changes <= seedCount) {
      if (diff < 0) this.loss -= diff;
      else this.gain += diff;
      if (this.changes < seedCount) return;
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
    this.values[0] = isTalibZero(total) ? 0 : 100 * (this.gain / total);
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
  step(_t: number, o: number, h: number, l: number, c: number, v: number): void {
    const x = sourceValue(this.source, o, h, l, c, v);
    const fast = this.fast.push(x);
    const slow = this.slow.push(x);
    const out = this.values;
    out[0] = NaN;
    out[1] = NaN;
    out[2] = NaN;
    if (Number.isNaN(slow) || Number.isNaN(fast)) return;
    const line = fast - slow;
    const signal = this.signal.push(line);
    if (Number.isNaN(signal)) return;
    out[0] = line;
    out[1] = signal;
    out[2] = line - signal;
  }
}

/**
 * Stochastic (TA-Lib STOCH with SMA smoothing): fastK = 100·(close − LL)/(HH − LL) over
 * `fastK` bars (0 when HH = LL); k = SMA(slowK) of fastK; d = SMA(slowD) of k.
 * First value at bar fastK+slowK+slowD−3 (8 for 5/3/3).
 */
export class StochIndicator extends Indicator {
  private readonly highest: RollingExtreme;
  private readonly lowest: RollingExtreme;
  private readonly slowK: RollingMean;
  private readonly slowD: RollingMean;
  constructor(fastK: number, slowK: number, slowD: number) {
    super(['k', 'd']);
    this.highest = new RollingExtreme(fastK, true);
    this.lowest = new RollingExtreme(fastK, false);
    this.slowK = new RollingMean(slowK);
    this.slowD = new RollingMean(slowD);
  }
  step(_t: number, _o: number, h: number, l: number, c: number): void {
    const hh = this.highest.push(h);
    const ll = this.lowest.push(l);
    this.values[0] = NaN;
    this.values[1] = NaN;
    if (Number.isNaN(hh)) return;
    const range = hh - ll;
    const fastK = range !== 0 ? (100 * (c - ll)) / range : 0;
    const k = this.slowK.push(fastK);
    if (Number.isNaN(k)) return;
    const d = this.slowD.push(k);
    if (Number.isNaN(d)) return;
    this.values[0] = k;
    this.values[1] = d;
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
  step(_t: number, _o: number, h: number, l: number, c: number): void {
    const hh = this.highest.push(h);
    const ll = this.lowest.push(l);
    if (Number.isNaN(hh)) {
      this.values[0] = NaN;
      return;
    }
    const range = hh - ll;
    this.values[0] = range !== 0 ? (-100 * (hh - c)) / range : 0;
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
  step(_t: number, _o: number, h: number, l: number, c: number): void {
    const tp = (h + l + c) / 3;
    const average = this.mean.push(tp);
    if (Number.isNaN(average)) {
      this.values[0] = NaN;
      return;
    }
    const ring = this.mean.ring;
    let deviation = 0;
    for (let i = 0; i < ring.period; i++) deviation += Math.abs(ring.data[i]! - average);
    deviation /= ring.period;
    const distance = tp - average;
    this.values[0] = distance !== 0 && deviation !== 0 ? distance / (0.015 * deviation) : 0;
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
  step(_t: number, o: number, h: number, l: number, c: number, v: number): void {
    const x = sourceValue(this.source, o, h, l, c, v);
    this.ring.push(x);
    if (!this.ring.isFull()) {
      this.values[0] = NaN;
      return;
    }
    const past = this.ring.at(this.ring.period - 1);
    this.values[0] = past !== 0 ? (x / past - 1) * 100 : 0;
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
  step(_t: number, o: number, h: number, l: number, c: number, v: number): void {
    const x = sourceValue(this.source, o, h, l, c, v);
    this.ring.push(x);
    this.values[0] = this.ring.isFull() ? x - this.ring.at(this.ring.period - 1) : NaN;
  }
}
