import { Worker } from 'node:worker_threads';
import { appError } from '../../../shared/errors.ts';
import { accumulate, histogramSize } from './histogram.ts';

/**
 * Feature-parallel histogram building on worker threads. The main thread and each helper own a
 * contiguous slice of the features; a task (rows idx[start..end)) is posted through a shared control
 * word, each thread fills its slice of one shared histogram, and the main thread copies it out.
 * Codes, gradients and the row index live in SharedArrayBuffers the trainer writes directly.
 *
 * Control words: [0] task sequence, [1] helpers done, [2] start, [3] end, [4] quit, [5] helpers started.
 *
 * If the helpers do not start (e.g. a build that cannot load the thread's module), the first build
 * waits a bounded time and then falls back to this thread alone: same results, only slower.
 */
export class HistogramThreads {
  readonly codes: Uint8Array;
  readonly gh: Float64Array;
  readonly idx: Uint32Array;
  private readonly hist: Float64Array;
  private readonly control: Int32Array;
  private readonly workers: Worker[] = [];
  private readonly featureCount: number;
  private readonly mainF1: number;
  private failure: Error | null = null;
  private state: 'starting' | 'running' | 'single' = 'starting';

  private readonly startTimeoutMs: number;

  constructor(
    rows: number,
    featureCount: number,
    threads: number,
    options: { threadModule?: URL; startTimeoutMs?: number } = {},
  ) {
    this.startTimeoutMs = options.startTimeoutMs ?? 15_000;
    this.featureCount = featureCount;
    const buffers = {
      control: new SharedArrayBuffer(6 * 4),
      codes: new SharedArrayBuffer(rows * featureCount),
      gh: new SharedArrayBuffer(rows * 2 * 8),
      idx: new SharedArrayBuffer(rows * 4),
      hist: new SharedArrayBuffer(histogramSize(featureCount) * 8),
    };
    this.control = new Int32Array(buffers.control);
    this.codes = new Uint8Array(buffers.codes);
    this.gh = new Float64Array(buffers.gh);
    this.idx = new Uint32Array(buffers.idx);
    this.hist = new Float64Array(buffers.hist);
    const bounds = Array.from({ length: threads + 1 }, (_, i) => Math.round((i * featureCount) / threads));
    this.mainF1 = bounds[1]!;
    for (let t = 1; t < threads; t++) {
      const worker = new Worker(options.threadModule ?? new URL('./histogram-thread.ts', import.meta.url), {
        workerData: { ...buffers, featureCount, f0: bounds[t]!, f1: bounds[t + 1]! },
      });
      worker.on('error', (error) => {
        this.failure = error;
      });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** Waits (bounded) for every helper to report that it started; false if they did not. */
  private helpersStarted(): boolean {
    const c = this.control;
    const deadline = performance.now() + this.startTimeoutMs;
    for (;;) {
      const started = Atomics.load(c, 5);
      if (started >= this.workers.length) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(c, 5, started, left);
    }
  }

  /** Fills target with the histogram of rows idx[start..end). */
  build(target: Float64Array, start: number, end: number): void {
    if (this.state === 'starting') {
      this.state = this.helpersStarted() ? 'running' : 'single';
      if (this.state === 'single') this.close();
    }
    if (this.state === 'single') {
      accumulate(target, this.codes, this.featureCount, this.idx, start, end, this.gh, 0, this.featureCount);
      return;
    }
    const c = this.control;
    Atomics.store(c, 2, start);
    Atomics.store(c, 3, end);
    Atomics.store(c, 1, 0);
    Atomics.add(c, 0, 1);
    Atomics.notify(c, 0);
    accumulate(this.hist, this.codes, this.featureCount, this.idx, start, end, this.gh, 0, this.mainF1);
    const helpers = this.workers.length;
    for (;;) {
      const done = Atomics.load(c, 1);
      if (done >= helpers) break;
      // Bounded waits so a helper that died (its error arrives as an event) cannot hang training.
      if (Atomics.wait(c, 1, done, 30_000) === 'timed-out')
        throw appError(
          'TRAINING_FAILED',
          `histogram helper thread did not answer${this.failure ? `: ${this.failure.message}` : ''}`,
        );
    }
    target.set(this.hist);
  }

  close(): void {
    Atomics.store(this.control, 4, 1);
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
    for (const worker of this.workers) void worker.terminate();
  }
}
