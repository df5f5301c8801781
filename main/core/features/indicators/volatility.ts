import { Indicator, sourceValue } from '../types.ts';
import { type EmaSeed, RollingMoments, Ring, WilderAverage } from './kernels.ts';

/**
 * Bollinger Bands (TA-Lib BBANDS with SMA): middle = SMA(period), upper/lower = middle ± k·σ with σ
 * the population standard deviation (divide by n) of the window. First value at bar period−1.
 */
export class BbandsIndicator extends Indicator {
  private readonly source: number;
  private readonly moments: RollingMoments;
  private readonly deviationsUp: number;
  private readonly deviationsDown: number;
  constructor(period: number, deviationsUp: number, deviationsDown: number, source: number) {
    super(['upper', 'middle', 'lower']);
    this.source = source;
    this.moments = new RollingMoments(period);
    this.deviationsUp = deviationsUp;
    this.deviationsDown = deviationsDown;
  }
  step(_t: number, o: number, h: number, l: number, c: number, v: number): void {
    const out = this.values;
    if (!this.moments.push(sourceValue(this.source, o, h, l, c, v))) {
      out[0] = NaN;
      out[1] = NaN;
      out[2] = NaN;
      return;
    }
    const middle = this.moments.mean;
    const sigma = this.moments.std(0);
    out[0] = middle + this.deviationsUp * sigma;
    out[1] = middle;
    out[2] = middle - this.deviationsDown * sigma;
  }
}

/**
 * ATR (TA-Lib ATR): true range TR = max(h − l, |h − prevClose|, |l − prevClose|) from bar 1;
 * seeded with the mean of the first `period` TRs (seed 'first': with the first TR, as pandas
 * ewm(alpha=1/period, adjust=False)), then Wilder: (atr·(period−1) + TR)/period.
 * First value at bar `period` ('first': bar 1).
 */
export class AtrIndicator extends Indicator {
  private readonly average: WilderAverage;
  private previousClose = NaN;
  constructor(period: number, seed: EmaSeed = 'sma') {
    super(['value']);
    this.average = new WilderAverage(period, seed === 'sma' ? period : 1);
  }
  step(_t: number, _o: number, h: number, l: number, c: number): void {
    const pc = this.previousClose;
    this.previousClose = c;
    if (Number.isNaN(pc)) {
      this.values[0] = NaN;
      return;
    }
    this.values[0] = this.average.push(trueRange(h, l, pc));
  }
}

export function trueRange(high: number, low: number, previousClose: number): number {
  let range = high - low;
  const up = Math.abs(high - previousClose);
  const down = Math.abs(low - previousClose);
  if (up > range) range = up;
  if (down > range) range = down;
  return range;
}

/** Returns over `period` bars: log ln(x/x[t−period]) or simple x/x[t−period] − 1. First value at bar `period`. */
export class ReturnsIndicator extends Indicator {
  private readonly source: number;
  private readonly ring: Ring;
  private readonly isLog: boolean;
  constructor(period: number, isLog: boolean, source: number) {
    super(['value']);
    this.source = source;
    this.isLog = isLog;
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
    this.values[0] = this.isLog ? Math.log(x / past) : x / past - 1;
  }
}

/**
 * Rolling volatility: standard deviation (ddof 1 = sample, pandas' default; 0 = population) of the
 * last `period` one-bar log (or simple) returns, times sqrt(annualisation). First value at bar `period`.
 */
export class VolatilityIndicator extends Indicator {
  private readonly source: number;
  private readonly moments: RollingMoments;
  private readonly isLog: boolean;
  private readonly ddof: number;
  private readonly scale: number;
  private previous = NaN;
  constructor(period: number, ddof: number, isLog: boolean, annualisation: number, source: number) {
    super(['value']);
    this.source = source;
    this.moments = new RollingMoments(period);
    this.isLog = isLog;
    this.ddof = ddof;
    this.scale = Math.sqrt(annualisation);
  }
  step(_t: number, o: number, h: number, l: number, c: number, v: number): void {
    const x = sourceValue(this.source, o, h, l, c, v);
    const previous = this.previous;
    this.previous = x;
    this.values[0] = NaN;
    if (Number.isNaN(previous)) return;
    const r = this.isLog ? Math.log(x / previous) : x / previous - 1;
    if (this.moments.push(r)) this.values[0] = this.moments.std(this.ddof) * this.scale;
  }
}

/**
 * Rolling z-score: (x − mean) / std over the last `period` values (ddof 0 by default, like
 * Bollinger; pandas' rolling().std() is ddof 1). 0 when the window is constant (std = 0).
 * First value at bar period−1. volume_zscore is this indicator on the volume column.
 */
export class ZscoreIndicator extends Indicator {
  private readonly source: number;
  private readonly moments: RollingMoments;
  private readonly ddof: number;
  constructor(period: number, ddof: number, source: number) {
    super(['value']);
    this.source = source;
    this.moments = new RollingMoments(period);
    this.ddof = ddof;
  }
  step(_t: number, o: number, h: number, l: number, c: number, v: number): void {
    const x = sourceValue(this.source, o, h, l, c, v);
    if (!this.moments.push(x)) {
      this.values[0] = NaN;
      return;
    }
    // z = (n·x − Σx) / (n·std), with n·std = sqrt(scaled·n/(n − ddof)): no rounded mean involved.
    const n = this.moments.ring.period;
    const scaled = this.moments.scaled;
    const distance = this.moments.scaledDistance(x);
    this.values[0] = scaled > 0 && distance !== 0 ? distance / Math.sqrt((scaled * n) / (n - this.ddof)) : 0;
  }
}
