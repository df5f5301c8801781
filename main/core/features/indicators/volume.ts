import { Indicator } from '../types.ts';
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
  step(_t: number, _o: number, _h: number, _l: number, c: number, v: number): void {
    const pc = this.previousClose;
    this.previousClose = c;
    if (Number.isNaN(pc)) this.sum.add(v);
    else if (c > pc) this.sum.add(v);
    else if (c < pc) this.sum.add(-v);
    this.values[0] = this.sum.value();
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
  step(t: number, _o: number, h: number, l: number, c: number, v: number): void {
    const tp = (h + l + c) / 3;
    if (this.isSession) {
      const day = Math.floor(t / DAY_MS);
      if (day !== this.day) {
        this.day = day;
        this.weighted.reset();
        this.volume.reset();
      }
    } else {
      const wasFull = this.prices.isFull();
      const oldPrice = this.prices.push(tp);
      const oldVolume = this.volumes.push(v);
      if (wasFull) {
        this.weighted.addProduct(-oldPrice, oldVolume);
        this.volume.add(-oldVolume);
      }
    }
    this.weighted.addProduct(tp, v);
    this.volume.add(v);
    const volume = this.volume.value();
    this.values[0] =
      (this.isSession || this.prices.isFull()) && volume !== 0 ? this.weighted.value() / volume : NaN;
  }
}
