import { workerData } from 'node:worker_threads';
import { accumulate } from './histogram.ts';

/**
 * Helper thread for feature-parallel histogram building (see HistogramThreads in gbdt-threads.ts).
 * Waits on a shared control word, builds its slice of features for the rows the main thread names,
 * then counts itself done. All data lives in SharedArrayBuffers; nothing is copied per task.
 */

interface ThreadData {
  control: SharedArrayBuffer;
  codes: SharedArrayBuffer;
  gh: SharedArrayBuffer;
  idx: SharedArrayBuffer;
  hist: SharedArrayBuffer;
  featureCount: number;
  f0: number;
  f1: number;
}

const data = workerData as ThreadData;
const control = new Int32Array(data.control);
const codes = new Uint8Array(data.codes);
const gh = new Float64Array(data.gh);
const idx = new Uint32Array(data.idx);
const hist = new Float64Array(data.hist);

// Start from 0, not the current value: the main thread may already have posted the first task.
let seen = 0;
Atomics.add(control, 5, 1);
Atomics.notify(control, 5);
for (;;) {
  Atomics.wait(control, 0, seen);
  seen = Atomics.load(control, 0);
  if (Atomics.load(control, 4) === 1) break;
  accumulate(
    hist,
    codes,
    data.featureCount,
    idx,
    Atomics.load(control, 2),
    Atomics.load(control, 3),
    gh,
    data.f0,
    data.f1,
  );
  Atomics.add(control, 1, 1);
  Atomics.notify(control, 1);
}
