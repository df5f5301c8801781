import { type CandleColumns, Indicator } from '../types.ts';
import { isTalibZero } from './oscillators.ts';
import { trueRange } from './volatility.ts';

/**
 * ADX with +DI and −DI (TA-Lib ADX, PLUS_DI, MINUS_DI). From bar 1: +DM = h − prevH when it is
 * positive and larger than prevL − l, else 0 (−DM mirrored); TR as ATR. +DM, −DM and TR are
 * Wilder-summed: seeded with the plain sum of the first period−1 values, then
 * s = s − s/period + x. DI = 100·DM/TR (0 when TR ≈ 0), first at bar `period`;
 * DX = 100·|+DI − −DI|/(+DI + −DI); ADX = mean of the first `period` DX (first at bar 2·period−1),
 * then (adx·(period−1) + dx)/period. Like TA-Lib, a bar whose TR or DI sum is ≈ 0 (|x| < 1e-14)
 * adds 0 to the seed sum and leaves the ADX unchanged afterwards.
 */
export class AdxIndicator extends Indicator {
  private readonly period: number;
  private bars = 0;
  private previousHigh = NaN;
  private previousLow = NaN;
  private previousClose = NaN;
  private plusDm = 0;
  private minusDm = 0;
  private range = 0;
  private dxSum = 0;
  private dxCount = 0;
  private adx = NaN;
  constructor(period: number) {
    super(['adx', 'plus_di', 'minus_di']);
    this.period = period;
  }
  compute(bars: CandleColumns, start: number, end: number, out: readonly Float64Array[]): void {
    const { high, low, close } = bars;
    const adxs = out[0]!;
    const plusDis = out[1]!;
    const minusDis = out[2]!;
    const n = this.period;
    // State stays in the fields, not locals: see RsiIndicator.compute.
    for (let i = start; i < end; i++) {
      const h = high[i]!;
      const l = low[i]!;
      adxs[i] = NaN;
      plusDis[i] = NaN;
      minusDis[i] = NaN;
      const index = this.bars++;
      const ph = this.previousHigh;
      const pl = this.previousLow;
      const pc = this.previousClose;
      this.previousHigh = h;
      this.previousLow = l;
      this.previousClose = close[i]!;
      if (index === 0) continue;
      const diffPlus = h - ph;
      const diffMinus = pl - l;
      let plus = 0;
      let minus = 0;
      if (diffMinus > 0 && diffPlus < diffMinus) minus = diffMinus;
      else if (diffPlus > 0 && diffPlus > diffMinus) plus = diffPlus;
      const tr = trueRange(h, l, pc);
      if (index < n) {
        this.plusDm += plus;
        this.minusDm += minus;
        this.range += tr;
        continue;
      }
      this.plusDm = this.plusDm - this.plusDm / n + plus;
      this.minusDm = this.minusDm - this.minusDm / n + minus;
      this.range = this.range - this.range / n + tr;
      let plusDi = 0;
      let minusDi = 0;
      let dx = NaN;
      if (!isTalibZero(this.range)) {
        plusDi = 100 * (this.plusDm / this.range);
        minusDi = 100 * (this.minusDm / this.range);
        const sum = plusDi + minusDi;
        if (!isTalibZero(sum)) dx = 100 * (Math.abs(minusDi - plusDi) / sum);
      }
      plusDis[i] = plusDi;
      minusDis[i] = minusDi;
      if (this.dxCount < n) {
        this.dxCount++;
        if (!Number.isNaN(dx)) this.dxSum += dx;
        if (this.dxCount === n) this.adx = this.dxSum / n;
      } else if (!Number.isNaN(dx)) {
        this.adx = (this.adx * (n - 1) + dx) / n;
      }
      adxs[i] = this.adx;
    }
  }
}
