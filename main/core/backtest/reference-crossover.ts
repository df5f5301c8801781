import { RollingMean } from '../features/indicators/kernels.ts';
import type { CandleColumns } from '../features/types.ts';

/**
 * The floor: SMA crossover trades computed by a plain loop over Float64Array columns, with no
 * strategy, risk, order manager or portfolio. Long only, market orders at the next bar's open,
 * fee as a fraction of notional on each fill, the same exact-sum averages as the features
 * pipeline. Used as an independent reference in tests and as the baseline in the benchmark.
 */
export interface ReferenceTrades {
  count: number;
  /** Bar index of the decision (entry) and its fill price, per trade. */
  entryIndex: Int32Array;
  exitIndex: Int32Array;
  entryPrice: Float64Array;
  exitPrice: Float64Array;
  pnl: Float64Array;
}

export function referenceSmaCrossTrades(
  bars: CandleColumns,
  fast: number,
  slow: number,
  quantity: number,
  feeRate: number,
): ReferenceTrades {
  const n = bars.close.length;
  const close = bars.close;
  const open = bars.open;
  const fastMean = new RollingMean(fast);
  const slowMean = new RollingMean(slow);
  const capacity = Math.max(16, n >> 1);
  const entryIndex = new Int32Array(capacity);
  const exitIndex = new Int32Array(capacity);
  const entryPrice = new Float64Array(capacity);
  const exitPrice = new Float64Array(capacity);
  const pnl = new Float64Array(capacity);
  let count = 0;
  let previousFast = NaN;
  let previousSlow = NaN;
  // 0 flat, 1 long, 2 entry pending (fills next open), 3 exit pending.
  let state = 0;
  for (let i = 0; i < n; i++) {
    if (state === 2) {
      entryPrice[count] = open[i]!;
      state = 1;
    } else if (state === 3) {
      const entry = entryPrice[count]!;
      const exit = open[i]!;
      exitPrice[count] = exit;
      pnl[count] = (exit - entry) * quantity - (entry + exit) * quantity * feeRate;
      count++;
      state = 0;
    }
    const f = fastMean.push(close[i]!);
    const s = slowMean.push(close[i]!);
    if (
      f - f === 0 &&
      s - s === 0 &&
      previousFast - previousFast === 0 &&
      previousSlow - previousSlow === 0
    ) {
      if (state === 0 && previousFast <= previousSlow && f > s) {
        entryIndex[count] = i;
        state = 2;
      } else if (state === 1 && previousFast >= previousSlow && f < s) {
        exitIndex[count] = i;
        state = 3;
      }
    }
    previousFast = f;
    previousSlow = s;
  }
  return { count, entryIndex, exitIndex, entryPrice, exitPrice, pnl };
}
