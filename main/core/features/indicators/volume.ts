import { type CandleColumns, Indicator } from '../types.ts';
import { ExactSum } from '../exact-sum.ts';
import { Ring } from './kernels.ts';

/**
 * OBV (TA-Lib OBV): starts at the first bar's volume, then adds the volume on an up close and
 * subtracts it on a down close (unchanged on an equal close). Kept as an exact sum, so the value
 * never drifts however long the series. First value at bar 0.
 */
export class ObvIndicator extends Indicator {
  private readonly sum = new ExactSum();
  private previousClose = NaN;
  constructor() {
    super(['value']);
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { close, volume } = bars;
    const sum = this.sum;
    const column = out[0]!;
    for (let i = start; i < end; i++) {
      const c = close[i]!;
      const v = volume[i]!;
      const pc = this.previousClose;
      this.previousClose = c;
      if (Number.isNaN(pc)) sum.add(v);
      else if (c > pc) sum.add(v);
      else if (c < pc) sum.add(-v);
      column[i] = sum.value();
    }
  }
}

const DAY_MS = 86_400_000;

/**
 * VWAP of the typical price (h+l+c)/3 weighted by volume. TA-Lib has none; two named modes:
 * - 'rolling' (default, as python `ta`'s VolumeWeightedAveragePrice): over the last `period` bars,
 *   first value at bar period−1;
 * - 'session': cumulative since the start of the bar's UTC day (time div 86,400,000 ms), reset at
 *   each UTC midnight, first value on the first bar.
 * NaN while the volume in the window is zero. Sums are exact, so the value depends only on the window.
 */
export class VwapIndicator extends Indicator {
  private readonly isSession: boolean;
  private readonly prices: Ring;
  private readonly volumes: Ring;
  private readonly weighted = new ExactSum();
  private readonly volume = new ExactSum();
  private day = NaN;
  constructor(period: number, isSession: boolean) {
    super(['value']);
    this.isSession = isSession;
    this.prices = new Ring(isSession ? 1 : period);
    this.volumes = new Ring(isSession ? 1 : period);
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { time, high, low, close, volume } = bars;
    const { isSession, prices, volumes, weighted } = this;
    const volumeSum = this.volume;
    const column = out[0]!;
    for (let i = start; i < end; i++) {
      const v = volume[i]!;
      const tp = (high[i]! + low[i]! + close[i]!) / 3;
      if (isSession) {
        const day = Math.floor(time[i]! / DAY_MS);
        if (day !== this.day) {
          this.day = day;
          weighted.reset();
          volumeSum.reset();
        }
      } else {
        const wasFull = prices.isFull();
        const oldPrice = prices.push(tp);
        const oldVolume = volumes.push(v);
        if (wasFull) {
          weighted.addProduct(-oldPrice, oldVolume);
          volumeSum.add(-oldVolume);
        }
      }
      weighted.addProduct(tp, v);
      volumeSum.add(v);
      const total = volumeSum.value();
      column[i] = (isSession || prices.isFull()) && total !== 0 ? weighted.value() / total : NaN;
    }
  }
}
