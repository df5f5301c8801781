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
  /** time, open, high, low, close, volume: one shared buffer each, barCount doubles. */
  bars: SharedArrayBuffer[];
  barCount: number;
  /** One shared buffer per output column of the whole spec, in column order. */
  out: SharedArrayBuffer[];
  features: FeatureDefinition[];
  /** First output column (in the whole spec's column order) of each feature. */
  firstColumns: number[];
}

export function runFeatureTask(task: FeatureThreadTask): void {
  const n = task.barCount;
  const view = (k: number): Float64Array => new Float64Array(task.bars[k]!, 0, n);
  const bars: CandleColumns = {
    time: view(0),
    open: view(1),
    high: view(2),
    low: view(3),
    close: view(4),
    volume: view(5),
  };
  task.features.forEach((feature, f) => {
    const indicator = createIndicator(feature);
    const { outputIndexes } = featureOutputs(feature);
    // Outputs the spec picks go straight to their shared column; the others to scratch.
    const columns = indicator.outputs.map((_, index) => {
      const j = outputIndexes.indexOf(index);
      return j >= 0 ? new Float64Array(task.out[task.firstColumns[f]! + j]!, 0, n) : new Float64Array(n);
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
