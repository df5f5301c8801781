import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { appError } from '../../../shared/errors.ts';
import type { FeatureSpec, IndicatorId } from '../../../shared/feature-spec.ts';
import { featureOutputs } from './catalog.ts';
import {
  FEATURE_THREAD_MARKER,
  runFeatureTask,
  type FeatureThreadReply,
  type FeatureThreadTask,
} from './feature-thread.ts';
import { checkBars, computeFeatureColumns, type FeatureColumns } from './pipeline.ts';
import type { CandleColumns } from './types.ts';

/**
 * computeFeatureColumns on several threads: features are independent, so each thread computes a
 * share of them (same indicator code, identical numbers) over bar columns held once in shared
 * memory, straight into shared output columns: nothing is copied back.
 *
 * Why one shared buffer per column (not one for all): on the development VM first-touching fresh
 * memory costs ~3 ms per MB; glibc serves one buffer above 32 MB from a new mmap every call (all
 * fresh pages), while 8 MB columns are recycled from its heap once earlier ones are freed.
 * Why a pool: starting a thread (and loading the indicator modules in it) cost ~50-100 ms a call;
 * the helper threads now start on first use and then wait, unref'd, for the next call.
 * Below MIN_PARALLEL_BARS, or with one thread, it is the serial function.
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

  const shared = [bars.time, bars.open, bars.high, bars.low, bars.close, bars.volume].map((column) => {
    const buffer = new SharedArrayBuffer(n * 8);
    new Float64Array(buffer).set(column);
    return buffer;
  });
  const names: string[] = [];
  const firstColumns: number[] = [];
  for (const feature of spec.features) {
    firstColumns.push(names.length);
    names.push(...featureOutputs(feature).names);
  }
  const out = names.map(() => new SharedArrayBuffer(n * 8));

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

  const helpers = shares.slice(1).map((share, h) => runOnHelper(h, task(share.indexes)));
  // The calling thread takes the first share while the helpers run.
  runFeatureTask(task(shares[0]!.indexes));
  await Promise.all(helpers);
  return { names, columns: out.map((buffer) => new Float64Array(buffer)) };
}

/** Helper threads, started on first use and kept (unref'd while idle) for the next calls. */
const pool: (Worker | undefined)[] = [];

function helper(index: number): Worker {
  let worker = pool[index];
  if (!worker) {
    worker = new Worker(new URL('./feature-thread.ts', import.meta.url), {
      workerData: FEATURE_THREAD_MARKER,
    });
    worker.unref();
    const started = worker;
    // A thread that died (or errored) is replaced on the next call.
    started.once('exit', () => {
      if (pool[index] === started) pool[index] = undefined;
    });
    pool[index] = worker;
  }
  return worker;
}

function runOnHelper(index: number, task: FeatureThreadTask): Promise<void> {
  const worker = helper(index);
  return new Promise<void>((resolve, reject) => {
    const settle = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      worker.unref();
    };
    const onMessage = (message: FeatureThreadReply): void => {
      settle();
      if (message.ok) resolve();
      else reject(appError('INTERNAL', `Feature thread failed: ${message.message}`));
    };
    const onError = (error: Error): void => {
      settle();
      pool[index] = undefined;
      reject(appError('INTERNAL', `Feature thread failed: ${error.message}`));
    };
    const onExit = (): void => {
      settle();
      reject(appError('INTERNAL', 'Feature thread exited before finishing its task.'));
    };
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
    // Held while working so the process waits for the result.
    worker.ref();
    worker.postMessage(task);
  });
}
