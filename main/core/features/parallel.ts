import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { appError } from '../../../shared/errors.ts';
import type { FeatureDefinition, FeatureSpec, IndicatorId } from '../../../shared/feature-spec.ts';
import { featureOutputs, indicatorInfo, resolveParams } from './catalog.ts';
import {
  computeFeaturesInto,
  FEATURE_THREAD_MARKER,
  type FeatureThreadReply,
  type FeatureThreadTask,
} from './feature-thread.ts';
import { checkBars, computeFeatureColumns, type FeatureColumns } from './pipeline.ts';
import type { CandleColumns, Source } from './types.ts';

/**
 * computeFeatureColumns on several threads: features are independent, so each thread computes a
 * share of them (same indicator code, identical numbers) straight into shared output columns:
 * nothing is copied back. The helper threads read the bar fields they need from one shared copy.
 *
 * Why one shared buffer per column (not one for all): on the development VM first-touching fresh
 * memory costs ~3 ms per MB; glibc serves one buffer above 32 MB from a new mmap every call (all
 * fresh pages), while 8 MB columns are recycled from its heap once earlier ones are freed.
 * Why a pool: starting a thread (and loading the indicator modules in it) cost ~50-100 ms a call;
 * the helper threads now start on first use and then wait, unref'd, for the next call.
 * Below MIN_PARALLEL_BARS, or with one thread, it is the serial function.
 */

export const MIN_PARALLEL_BARS = 100_000;

/**
 * Rough relative compute cost per bar (ms per 1M bars / 10, measured with the features benchmark);
 * each output column adds OUTPUT_COST (writing 8 MB of fresh memory: ~20 ms of page faults here).
 */
const COST: Record<IndicatorId, number> = {
  sma: 2.2,
  ema: 0.6,
  wma: 5.8,
  dema: 1,
  tema: 1.5,
  rsi: 1.2,
  macd: 1.7,
  bbands: 5,
  atr: 0.8,
  stoch: 11,
  willr: 3.8,
  cci: 4.5,
  roc: 0.6,
  mom: 0.7,
  obv: 1.3,
  adx: 1.7,
  vwap: 6.3,
  returns: 1.4,
  volatility: 7.5,
  zscore: 5,
  volume_zscore: 5,
};
const OUTPUT_COST = 2;

/** Bar fields (indexes into time, open, high, low, close, volume) each `source` reads. */
const SOURCE_FIELDS: Record<Source, number[]> = {
  close: [4],
  open: [1],
  high: [2],
  low: [3],
  volume: [5],
  hl2: [2, 3],
  hlc3: [2, 3, 4],
  ohlc4: [1, 2, 3, 4],
};

/** Bar fields an indicator without a `source` parameter reads; an indicator not listed gets all. */
const BAR_FIELDS_READ: Partial<Record<IndicatorId, number[]>> = {
  atr: [2, 3, 4],
  stoch: [2, 3, 4],
  willr: [2, 3, 4],
  cci: [2, 3, 4],
  adx: [2, 3, 4],
  obv: [4, 5],
  vwap: [0, 2, 3, 4, 5],
  volume_zscore: [5],
};

/** Which bar fields (time, open, high, low, close, volume) the features read. */
function fieldsRead(features: readonly FeatureDefinition[]): boolean[] {
  const read = [false, false, false, false, false, false];
  for (const feature of features) {
    const params = resolveParams(feature);
    const fields =
      typeof params.source === 'string'
        ? SOURCE_FIELDS[params.source as Source]
        : (BAR_FIELDS_READ[feature.indicator] ?? [0, 1, 2, 3, 4, 5]);
    for (const k of fields) read[k] = true;
  }
  return read;
}

/** Copying one bar field into fresh shared memory (~25 ms per 1M bars), in COST units. */
const COPY_COST = 2.5;

interface Share {
  load: number;
  /** Indexes into spec.features. */
  indexes: number[];
}

/** Longest-processing-time-first: heaviest feature to the least loaded thread; thread 0 starts at `ownLoad`. */
function makeShares(spec: FeatureSpec, threadCount: number, ownLoad: number): Share[] {
  const cost = (feature: FeatureDefinition): number =>
    COST[feature.indicator] + OUTPUT_COST * indicatorInfo(feature.indicator).outputs.length;
  const shares: Share[] = Array.from({ length: threadCount }, (_, t) => ({
    load: t === 0 ? ownLoad : 0,
    indexes: [],
  }));
  const order = spec.features
    .map((f, i) => i)
    .sort((a, b) => cost(spec.features[b]!) - cost(spec.features[a]!));
  for (const i of order) {
    const lightest = shares.reduce((best, s) => (s.load < best.load ? s : best));
    lightest.indexes.push(i);
    lightest.load += cost(spec.features[i]!);
  }
  return shares;
}

/** The features of the helper threads' shares (all but thread 0's). */
function helperFeatures(spec: FeatureSpec, shares: readonly Share[]): FeatureDefinition[] {
  return shares.slice(1).flatMap((share) => share.indexes.map((i) => spec.features[i]!));
}

export async function computeFeatureColumnsParallel(
  bars: CandleColumns,
  spec: FeatureSpec,
  threads = availableParallelism(),
): Promise<FeatureColumns> {
  const n = bars.close.length;
  const threadCount = Math.max(1, Math.min(threads, spec.features.length));
  if (threadCount === 1 || n < MIN_PARALLEL_BARS) return computeFeatureColumns(bars, spec);
  checkBars(bars);

  const names: string[] = [];
  const firstColumns: number[] = [];
  for (const feature of spec.features) {
    firstColumns.push(names.length);
    names.push(...featureOutputs(feature).names);
  }
  const out = names.map(() => new SharedArrayBuffer(n * 8));

  // The calling thread also copies the bar fields the helpers read (below): its share starts
  // with that load, so the shares are made twice, the second time knowing what is copied.
  let shares = makeShares(spec, threadCount, 0);
  const copies = fieldsRead(helperFeatures(spec, shares)).filter(Boolean).length;
  shares = makeShares(spec, threadCount, COPY_COST * copies);

  // The helpers read the bars from shared memory: a copy of only the fields their features read
  // (copying fresh memory costs ~3 ms per MB on the development VM, before any helper can start).
  // The calling thread reads the caller's columns as they are.
  const read = fieldsRead(helperFeatures(spec, shares));
  const columns = [bars.time, bars.open, bars.high, bars.low, bars.close, bars.volume];
  const shared = columns.map((column, k) => {
    if (!read[k]) return null;
    const buffer = new SharedArrayBuffer(n * 8);
    new Float64Array(buffer).set(column);
    return buffer;
  });
  const task = (indexes: number[]): FeatureThreadTask => ({
    bars: shared,
    barCount: n,
    out,
    features: indexes.map((i) => spec.features[i]!),
    firstColumns: indexes.map((i) => firstColumns[i]!),
  });

  const helpers = shares.slice(1).map((share, h) => runOnHelper(h, task(share.indexes)));
  // The calling thread takes the first share while the helpers run.
  const own = shares[0]!.indexes;
  computeFeaturesInto(
    bars,
    n,
    out,
    own.map((i) => spec.features[i]!),
    own.map((i) => firstColumns[i]!),
  );
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
