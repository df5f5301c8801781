import { type CandleColumns, Indicator, sourceAt } from '../types.ts';
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
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { open, high, low, close, volume } = bars;
    const code = this.source;
    const { moments, deviationsUp, deviationsDown } = this;
    const uppers = out[0]!;
    const middles = out[1]!;
    const lowers = out[2]!;
    for (let i = start; i < end; i++) {
      if (!moments.push(sourceAt(code, open, high, low, close, volume, i))) {
        uppers[i] = NaN;
        middles[i] = NaN;
        lowers[i] = NaN;
        continue;
      }
      const middle = moments.mean;
      const sigma = moments.std(0);
      uppers[i] = middle + deviationsUp * sigma;
      middles[i] = middle;
      lowers[i] = middle - deviationsDown * sigma;
    }
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
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { high, low, close } = bars;
    const average = this.average;
    const column = out[0]!;
    for (let i = start; i < end; i++) {
      const pc = this.previousClose;
      this.previousClose = close[i]!;
      column[i] = Number.isNaN(pc) ? NaN : average.push(trueRange(high[i]!, low[i]!, pc));
    }
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
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { open, high, low, close, volume } = bars;
    const code = this.source;
    const { ring, isLog } = this;
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
      column[i] = isLog ? Math.log(x / past) : x / past - 1;
    }
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
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { open, high, low, close, volume } = bars;
    const code = this.source;
    const { moments, isLog, ddof, scale } = this;
    const column = out[0]!;
    for (let i = start; i < end; i++) {
      const x = sourceAt(code, open, high, low, close, volume, i);
      const last = this.previous;
      this.previous = x;
      column[i] = NaN;
      if (Number.isNaN(last)) continue;
      const r = isLog ? Math.log(x / last) : x / last - 1;
      if (moments.push(r)) column[i] = moments.std(ddof) * scale;
    }
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
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { open, high, low, close, volume } = bars;
    const code = this.source;
    const { moments, ddof } = this;
    const n = moments.ring.period;
    const column = out[0]!;
    for (let i = start; i < end; i++) {
      const x = sourceAt(code, open, high, low, close, volume, i);
      if (!moments.push(x)) {
        column[i] = NaN;
        continue;
      }
      // z = (n·x − Σx) / (n·std), with n·std = sqrt(scaled·n/(n − ddof)): no rounded mean involved.
      const scaled = moments.scaled;
      const distance = moments.scaledDistance(x);
      column[i] = scaled > 0 && distance !== 0 ? distance / Math.sqrt((scaled * n) / (n - ddof)) : 0;
    }
  }
}
