import { SeededRandom } from '../main/core/random.ts';
import { availableParallelism } from 'node:os';
import { computeFeatureColumns, FeaturePipeline, parseFeatureSpec } from '../main/core/features/pipeline.ts';
import { computeFeatureColumnsParallel } from '../main/core/features/parallel.ts';
import type { CandleColumns } from '../main/core/features/types.ts';
import { atMost, percentile, type Benchmark, type Figure } from './types.ts';

const BATCH_BARS = 1_000_000;
const STREAM_BARS = 200_000;

/** 20 features covering every indicator family (27 columns: MACD, Bollinger, Stochastic and ADX have several outputs). */
const SPEC = parseFeatureSpec({
  features: [
    { name: 'sma_20', indicator: 'sma', params: { period: 20 } },
    { name: 'ema_20', indicator: 'ema', params: { period: 20 } },
    { name: 'wma_20', indicator: 'wma', params: { period: 20 } },
    { name: 'dema_20', indicator: 'dema', params: { period: 20 } },
    { name: 'tema_20', indicator: 'tema', params: { period: 20 } },
    { name: 'rsi_14', indicator: 'rsi' },
    { name: 'macd', indicator: 'macd' },
    { name: 'bb', indicator: 'bbands', params: { period: 20 } },
    { name: 'atr_14', indicator: 'atr' },
    { name: 'stoch', indicator: 'stoch' },
    { name: 'willr_14', indicator: 'willr' },
    { name: 'cci_20', indicator: 'cci', params: { period: 20 } },
    { name: 'roc_10', indicator: 'roc' },
    { name: 'mom_10', indicator: 'mom' },
    { name: 'obv', indicator: 'obv' },
    { name: 'adx', indicator: 'adx' },
    { name: 'vwap', indicator: 'vwap' },
    { name: 'ret_1', indicator: 'returns' },
    { name: 'vol_20', indicator: 'volatility' },
    { name: 'vz_20', indicator: 'volume_zscore' },
  ],
});

/** A seeded random walk with realistic OHLCV shape (5m-like bars). */
export function syntheticBars(count: number, seed = 42): CandleColumns {
  const random = new SeededRandom(seed);
  const bars: CandleColumns = {
    time: new Float64Array(count),
    open: new Float64Array(count),
    high: new Float64Array(count),
    low: new Float64Array(count),
    close: new Float64Array(count),
    volume: new Float64Array(count),
  };
  let price = 30_000;
  for (let i = 0; i < count; i++) {
    const open = price;
    price = Math.max(1, price * (1 + 0.002 * random.normal()));
    bars.time[i] = 1_600_000_000_000 + i * 300_000;
    bars.open[i] = open;
    bars.close[i] = price;
    bars.high[i] = Math.max(open, price) * (1 + 0.001 * random.next());
    bars.low[i] = Math.min(open, price) * (1 - 0.001 * random.next());
    bars.volume[i] = 100 + 900 * random.next();
  }
  return bars;
}

export const benchmark: Benchmark = {
  name: 'features',
  description: `feature pipeline: batch ${BATCH_BARS.toLocaleString('en')} bars x 20 features, streaming update of 20 features per bar`,
  async run(): Promise<Figure[]> {
    const bars = syntheticBars(BATCH_BARS);
    const columns = computeFeatureColumns(syntheticBars(5_000), SPEC).columns.length; // warm-up (JIT)
    const batchMs: number[] = [];
    for (let run = 0; run < 3; run++) {
      const t0 = performance.now();
      computeFeatureColumns(bars, SPEC);
      batchMs.push(performance.now() - t0);
    }
    batchMs.sort((a, b) => a - b);
    const batchSeconds = batchMs[1]! / 1000;
    const threads = availableParallelism();
    const parallelMs: number[] = [];
    for (let run = 0; run < 3; run++) {
      const t0 = performance.now();
      await computeFeatureColumnsParallel(bars, SPEC, threads);
      parallelMs.push(performance.now() - t0);
    }
    parallelMs.sort((a, b) => a - b);
    const parallelSeconds = parallelMs[1]! / 1000;

    // Streaming: time blocks of 1,000 updates (timer resolution) and report per-bar figures.
    const pipeline = new FeaturePipeline(SPEC);
    const bar = { time: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
    const BLOCK = 1000;
    const blockUs: number[] = [];
    for (let start = 0; start + BLOCK <= STREAM_BARS; start += BLOCK) {
      const t0 = performance.now();
      for (let i = start; i < start + BLOCK; i++) {
        bar.time = bars.time[i]!;
        bar.open = bars.open[i]!;
        bar.high = bars.high[i]!;
        bar.low = bars.low[i]!;
        bar.close = bars.close[i]!;
        bar.volume = bars.volume[i]!;
        pipeline.update(bar);
      }
      blockUs.push(((performance.now() - t0) * 1000) / BLOCK);
    }
    const steady = blockUs.slice(20).sort((a, b) => a - b); // skip the JIT warm-up blocks
    const meanUs = steady.reduce((a, b) => a + b, 0) / steady.length;
    return [
      {
        name: `batch ${BATCH_BARS} bars x 20 features (${columns} columns), one thread, median of 3`,
        value: batchSeconds,
        unit: 's',
        ...atMost(batchSeconds, 1, 's'),
      },
      {
        name: `batch ${BATCH_BARS} bars x 20 features, ${threads} threads (computeFeatureColumnsParallel), median of 3`,
        value: parallelSeconds,
        unit: 's',
        ...atMost(parallelSeconds, 1, 's'),
        note: 'helper threads come from a pool started by the first of the 3 runs (that run includes starting them); the bar fields the helpers read are copied to shared memory every run',
      },
      {
        name: 'batch throughput, one thread',
        value: (BATCH_BARS * 20) / batchSeconds,
        unit: 'feature-values/s',
      },
      {
        name: 'streaming update, 20 features per bar (mean)',
        value: meanUs,
        unit: 'us',
        ...atMost(meanUs, 5, 'us'),
      },
      {
        name: 'streaming update per bar p99 of 1,000-bar blocks',
        value: percentile(steady, 99),
        unit: 'us',
        note: 'per-bar average within each block of 1,000 updates',
      },
    ];
  },
};
