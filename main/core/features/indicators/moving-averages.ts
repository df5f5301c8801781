import { Indicator, sourceValue } from '../types.ts';
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
  step(_t: number, o: number, h: number, l: number, c: number, v: number): void {
    this.values[0] = this.mean.push(sourceValue(this.source, o, h, l, c, v));
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
  step(_t: number, o: number, h: number, l: number, c: number, v: number): void {
    this.values[0] = this.ema.push(sourceValue(this.source, o, h, l, c, v));
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
  step(_t: number, o: number, h: number, l: number, c: number, v: number): void {
    const x = sourceValue(this.source, o, h, l, c, v);
    if (this.ring.isFull()) {
      this.weighted.addSum(this.sum, -1);
      this.weighted.addProduct(this.period, x);
      this.sum.replace(x, this.ring.push(x));
    } else {
      this.weighted.addProduct(this.ring.count + 1, x);
      this.ring.push(x);
      this.sum.add(x);
    }
    this.values[0] = this.ring.isFull() ? this.weighted.quotient(this.divisor) : NaN;
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
  step(_t: number, o: number, h: number, l: number, c: number, v: number): void {
    const e1 = this.ema1.push(sourceValue(this.source, o, h, l, c, v));
    if (Number.isNaN(e1)) {
      this.values[0] = NaN;
      return;
    }
    const e2 = this.ema2.push(e1);
    this.values[0] = Number.isNaN(e2) ? NaN : 2 * e1 - e2;
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
  step(_t: number, o: number, h: number, l: number, c: number, v: number): void {
    this.values[0] = NaN;
    const e1 = this.ema1.push(sourceValue(this.source, o, h, l, c, v));
    if (Number.isNaN(e1)) return;
    const e2 = this.ema2.push(e1);
    if (Number.isNaN(e2)) return;
    const e3 = this.ema3.push(e2);
    if (!Number.isNaN(e3)) this.values[0] = 3 * e1 - 3 * e2 + e3;
  }
}
