import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { appError } from '../../../shared/errors.ts';
import type { FeatureSpec, IndicatorId } from '../../../shared/feature-spec.ts';
import { featureOutputs } from './catalog.ts';
import { runFeatureTask, type FeatureThreadTask } from './feature-thread.ts';
import { checkBars, computeFeatureColumns, type FeatureColumns } from './pipeline.ts';
import type { CandleColumns } from './types.ts';

/**
 * computeFeatureColumns on several threads: features are independent, so each thread computes a
 * share of them (same indicator code, identical numbers) over bar columns held once in a
 * SharedArrayBuffer and writes into one shared output buffer: nothing is copied back.
 * Below MIN_PARALLEL_BARS, or with one thread, it is the serial function (threads cost ~50 ms to start).
 */

export const MIN_PARALLEL_BARS = 100_000;

/** Rough relative cost per bar (measured with bench/features.bench.ts), for balancing the shares. */
const COST: Record<IndicatorId, number> = {
  sma: 1,
  ema: 0.7,
  wma: 2,
  dema: 0.8,
  tema: 0.9,
  rsi: 0.8,
  macd: 1.5,
  bbands: 2,
  atr: 0.8,
  stoch: 3.5,
  willr: 1.2,
  cci: 1.8,
  roc: 0.6,
  mom: 0.4,
  obv: 0.6,
  adx: 1.8,
  vwap: 2,
  returns: 1,
  volatility: 2.5,
  zscore: 1.8,
  volume_zscore: 1.8,
};

export async function computeFeatureColumnsParallel(
  bars: CandleColumns,
  spec: FeatureSpec,
  threads = availableParallelism(),
): Promise<FeatureColumns> {
  const n = bars.close.length;
  const threadCount = Math.max(1, Math.min(threads, spec.features.length));
  if (threadCount === 1 || n < MIN_PARALLEL_BARS) return computeFeatureColumns(bars, spec);
  checkBars(bars);

  const shared = new SharedArrayBuffer(6 * n * 8);
  [bars.time, bars.open, bars.high, bars.low, bars.close, bars.volume].forEach((column, k) =>
    new Float64Array(shared, k * n * 8, n).set(column),
  );
  const names: string[] = [];
  const firstColumns: number[] = [];
  for (const feature of spec.features) {
    firstColumns.push(names.length);
    names.push(...featureOutputs(feature).names);
  }
  const out = new SharedArrayBuffer(names.length * n * 8);

  // Longest-processing-time-first: heaviest feature to the least loaded thread.
  const shares = Array.from({ length: threadCount }, () => ({ load: 0, indexes: [] as number[] }));
  const order = spec.features
    .map((f, i) => i)
    .sort((a, b) => COST[spec.features[b]!.indicator] - COST[spec.features[a]!.indicator]);
  for (const i of order) {
    const lightest = shares.reduce((best, s) => (s.load < best.load ? s : best));
    lightest.indexes.push(i);
    lightest.load += COST[spec.features[i]!.indicator];
  }
  const task = (indexes: number[]): FeatureThreadTask => ({
    bars: shared,
    barCount: n,
    out,
    features: indexes.map((i) => spec.features[i]!),
    firstColumns: indexes.map((i) => firstColumns[i]!),
  });

  const helpers = shares.slice(1).map(
    (share) =>
      new Promise<void>((resolve, reject) => {
        const worker = new Worker(new URL('./feature-thread.ts', import.meta.url), {
          workerData: task(share.indexes),
        });
        worker.once('message', (message: { ok: boolean; message?: string }) => {
          void worker.terminate();
          if (message.ok) resolve();
          else reject(appError('INTERNAL', `Feature thread failed: ${message.message}`));
        });
        worker.once('error', (error) =>
          reject(appError('INTERNAL', `Feature thread failed: ${error.message}`)),
        );
      }),
  );
  // The calling thread takes the first share while the helpers run.
  runFeatureTask(task(shares[0]!.indexes));
  await Promise.all(helpers);
  return { names, columns: names.map((_, c) => new Float64Array(out, c * n * 8, n)) };
}
