import { describe, expect, it } from 'vitest';
import { randomWalk } from '../backtest/test-support/bars.ts';
import { FeatureSet } from './feature-names.ts';

const NAMES = [
  'sma_10',
  'ema_20',
  'wma_10',
  'rsi_14',
  'atr_14',
  'roc_5',
  'mom_3',
  'cci_20',
  'adx_14',
  'willr_14',
  'zscore_20',
  'volatility_20',
  'bb_upper_20',
  'bb_lower_20_3',
  'macd',
  'macd_signal',
  'macd_hist',
];

describe('FeatureSet precomputed for a backtest', () => {
  it('gives at every bar exactly what streaming gives (values and previous values, bit for bit)', () => {
    const bars = randomWalk(3_000, 11, 100, 0.01);
    const streaming = new FeatureSet(NAMES);
    const batch = new FeatureSet(NAMES);
    batch.precompute(bars);
    expect(batch.isPrecomputed).toBe(true);
    expect(streaming.isPrecomputed).toBe(false);
    let compared = 0;
    for (let i = 0; i < bars.time.length; i++) {
      streaming.step(
        bars.time[i]!,
        bars.open[i]!,
        bars.high[i]!,
        bars.low[i]!,
        bars.close[i]!,
        bars.volume[i]!,
      );
      batch.stepAt(i);
      for (let f = 0; f < NAMES.length; f++) {
        if (
          !Object.is(batch.values[f], streaming.values[f]) ||
          !Object.is(batch.previousValues[f], streaming.previousValues[f])
        )
          throw new Error(`${NAMES[f]} differs at bar ${i}: ${batch.values[f]} vs ${streaming.values[f]}`);
        if (Number.isFinite(streaming.values[f])) compared++;
      }
    }
    // Past the warm-up every feature has a value to compare.
    expect(compared).toBeGreaterThan(NAMES.length * (bars.time.length - 100));
  });
});
