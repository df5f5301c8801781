import { parentPort, workerData } from 'node:worker_threads';
import type { FeatureDefinition } from '../../../shared/feature-spec.ts';
import { createIndicator, featureOutputs } from './catalog.ts';
import { runIndicator, type CandleColumns } from './types.ts';

/**
 * Worker for computeFeatureColumnsParallel (parallel.ts): computes the features it is given over
 * the shared bar columns and writes each output column into its slot of the shared output buffer.
 * Same indicator code as every other path, so the numbers are identical to a serial run.
 */

export interface FeatureThreadTask {
  bars: SharedArrayBuffer;
  barCount: number;
  out: SharedArrayBuffer;
  features: FeatureDefinition[];
  /** First output column (in the whole spec's column order) of each feature. */
  firstColumns: number[];
}

export function runFeatureTask(task: FeatureThreadTask): void {
  const n = task.barCount;
  const view = (k: number): Float64Array => new Float64Array(task.bars, k * n * 8, n);
  const bars: CandleColumns = {
    time: view(0),
    open: view(1),
    high: view(2),
    low: view(3),
    close: view(4),
    volume: view(5),
  };
  task.features.forEach((feature, f) => {
    const outputs = featureOutputs(feature);
    const columns = runIndicator(createIndicator(feature), bars);
    outputs.outputIndexes.forEach((index, j) => {
      new Float64Array(task.out, (task.firstColumns[f]! + j) * n * 8, n).set(columns[index]!);
    });
  });
}

if (parentPort && workerData) {
  try {
    runFeatureTask(workerData as FeatureThreadTask);
    parentPort.postMessage({ ok: true });
  } catch (error) {
    parentPort.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
  }
}
