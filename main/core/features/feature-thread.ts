import { parentPort, workerData } from 'node:worker_threads';
import type { FeatureDefinition } from '../../../shared/feature-spec.ts';
import { createIndicator, featureOutputs } from './catalog.ts';
import type { CandleColumns } from './types.ts';

/**
 * Worker for computeFeatureColumnsParallel (parallel.ts): computes the features it is given over
 * the shared bar columns straight into their shared output columns (nothing is copied back). Same
 * indicator code as every other path, so the numbers are identical to a serial run. The thread
 * stays up between tasks (parallel.ts keeps a pool).
 */

export interface FeatureThreadTask {
  /**
   * time, open, high, low, close, volume: one shared buffer each (barCount doubles), or null for a
   * field none of the task's features reads (it is then an empty column; see BAR_FIELDS_READ).
   */
  bars: (SharedArrayBuffer | null)[];
  barCount: number;
  /** One shared buffer per output column of the whole spec, in column order. */
  out: SharedArrayBuffer[];
  features: FeatureDefinition[];
  /** First output column (in the whole spec's column order) of each feature. */
  firstColumns: number[];
}

export function runFeatureTask(task: FeatureThreadTask): void {
  const n = task.barCount;
  const view = (k: number): Float64Array => {
    const buffer = task.bars[k];
    return buffer ? new Float64Array(buffer, 0, n) : new Float64Array(0);
  };
  const bars: CandleColumns = {
    time: view(0),
    open: view(1),
    high: view(2),
    low: view(3),
    close: view(4),
    volume: view(5),
  };
  computeFeaturesInto(bars, n, task.out, task.features, task.firstColumns);
}

/**
 * Computes `features` over bars 0..n−1 straight into their shared output columns (`firstColumns`:
 * each feature's first column in `out`); outputs the spec does not pick go to scratch columns.
 * Fields none of the features reads may be empty columns, so n is given, not taken from `bars`.
 */
export function computeFeaturesInto(
  bars: CandleColumns,
  n: number,
  out: readonly SharedArrayBuffer[],
  features: readonly FeatureDefinition[],
  firstColumns: readonly number[],
): void {
  features.forEach((feature, f) => {
    const indicator = createIndicator(feature);
    const { outputIndexes } = featureOutputs(feature);
    const columns = indicator.outputs.map((_, index) => {
      const j = outputIndexes.indexOf(index);
      return j >= 0 ? new Float64Array(out[firstColumns[f]! + j]!, 0, n) : new Float64Array(n);
    });
    indicator.compute(bars, 0, n, columns);
  });
}

export type FeatureThreadReply = { ok: true } | { ok: false; message: string };

/** workerData of a pool thread; other threads that import this module (for runFeatureTask) do not listen. */
export const FEATURE_THREAD_MARKER = 'vantage-feature-thread';

if (parentPort && workerData === FEATURE_THREAD_MARKER) {
  const port = parentPort;
  port.on('message', (task: FeatureThreadTask) => {
    try {
      runFeatureTask(task);
      port.postMessage({ ok: true } satisfies FeatureThreadReply);
    } catch (error) {
      port.postMessage({
        ok: false,
        message: error instanceof Error ? error.message : String(error),
      } satisfies FeatureThreadReply);
    }
  });
}
