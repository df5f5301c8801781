import { type CandleColumns, Indicator, sourceAt } from '../types.ts';
import { ExactSum } from '../exact-sum.ts';
import { Ema, type EmaSeed, RollingMean, Ring } from './kernels.ts';

/** SMA (TA-Lib SMA): mean of the last `period` values; first value at bar period−1. */
export class SmaIndicator extends Indicator {
  private readonly source: number;
  private readonly mean: RollingMean;
  constructor(period: number, source: number) {
    super(['value']);
    this.source = source;
    this.mean = new RollingMean(period);
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { open, high, low, close, volume } = bars;
    const code = this.source;
    const mean = this.mean;
    const column = out[0]!;
    for (let i = start; i < end; i++)
      column[i] = mean.push(sourceAt(code, open, high, low, close, volume, i));
  }
}

/** EMA (TA-Lib EMA with seed 'sma'; pandas ewm with seed 'first' / adjust). */
export class EmaIndicator extends Indicator {
  private readonly source: number;
  private readonly ema: Ema;
  constructor(period: number, source: number, seed: EmaSeed, isAdjusted: boolean) {
    super(['value']);
    this.source = source;
    this.ema = new Ema(period, seed, isAdjusted);
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { open, high, low, close, volume } = bars;
    const code = this.source;
    const ema = this.ema;
    const column = out[0]!;
    for (let i = start; i < end; i++) column[i] = ema.push(sourceAt(code, open, high, low, close, volume, i));
  }
}

/**
 * WMA (TA-Lib WMA): weights 1..period, newest heaviest; first value at bar period−1.
 * O(1) via Σi·x_i ← Σi·x_i + period·x_new − Σx_window, both kept as exact sums.
 */
export class WmaIndicator extends Indicator {
  private readonly source: number;
  private readonly period: number;
  private readonly ring: Ring;
  private readonly sum = new ExactSum();
  private readonly weighted = new ExactSum();
  private readonly divisor: number;
  constructor(period: number, source: number) {
    super(['value']);
    this.source = source;
    this.period = period;
    this.ring = new Ring(period);
    this.divisor = (period * (period + 1)) / 2;
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { open, high, low, close, volume } = bars;
    const code = this.source;
    const { ring, sum, weighted, period, divisor } = this;
    const column = out[0]!;
    for (let i = start; i < end; i++) {
      const x = sourceAt(code, open, high, low, close, volume, i);
      if (ring.isFull()) {
        weighted.addSum(sum, -1);
        weighted.addProduct(period, x);
        sum.replace(x, ring.push(x));
      } else {
        weighted.addProduct(ring.count + 1, x);
        ring.push(x);
        sum.add(x);
      }
      column[i] = ring.isFull() ? weighted.quotient(divisor) : NaN;
    }
  }
}

/** DEMA (TA-Lib DEMA): 2·EMA − EMA(EMA); first value at bar 2·(period−1). */
export class DemaIndicator extends Indicator {
  private readonly source: number;
  private readonly ema1: Ema;
  private readonly ema2: Ema;
  constructor(period: number, source: number, seed: EmaSeed) {
    super(['value']);
    this.source = source;
    this.ema1 = new Ema(period, seed);
    this.ema2 = new Ema(period, seed);
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { open, high, low, close, volume } = bars;
    const code = this.source;
    const { ema1, ema2 } = this;
    const column = out[0]!;
    for (let i = start; i < end; i++) {
      const e1 = ema1.push(sourceAt(code, open, high, low, close, volume, i));
      if (Number.isNaN(e1)) {
        column[i] = NaN;
        continue;
      }
      const e2 = ema2.push(e1);
      column[i] = Number.isNaN(e2) ? NaN : 2 * e1 - e2;
    }
  }
}

/** TEMA (TA-Lib TEMA): 3·e1 − 3·e2 + e3 with e2 = EMA(e1), e3 = EMA(e2); first value at bar 3·(period−1). */
export class TemaIndicator extends Indicator {
  private readonly source: number;
  private readonly ema1: Ema;
  private readonly ema2: Ema;
  private readonly ema3: Ema;
  constructor(period: number, source: number, seed: EmaSeed) {
    super(['value']);
    this.source = source;
    this.ema1 = new Ema(period, seed);
    this.ema2 = new Ema(period, seed);
    this.ema3 = new Ema(period, seed);
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { open, high, low, close, volume } = bars;
    const code = this.source;
    const { ema1, ema2, ema3 } = this;
    const column = out[0]!;
    for (let i = start; i < end; i++) {
      column[i] = NaN;
      const e1 = ema1.push(sourceAt(code, open, high, low, close, volume, i));
      if (Number.isNaN(e1)) continue;
      const e2 = ema2.push(e1);
      if (Number.isNaN(e2)) continue;
      const e3 = ema3.push(e2);
      if (!Number.isNaN(e3)) column[i] = 3 * e1 - 3 * e2 + e3;
    }
  }
}
