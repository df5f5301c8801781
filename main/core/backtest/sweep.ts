import { Worker } from 'node:worker_threads';
import { AppErrorException, appError, type AppError } from '../../../shared/errors.ts';
import {
  MAX_SWEEP_RUNS,
  type BacktestConfig,
  type BacktestReport,
  type Metrics,
  type MetricName,
  type SweepResult,
  type SweepRow,
  type WalkForwardFold,
} from '../../../shared/contract/backtest.ts';
import type { CandleColumns } from '../features/types.ts';
import { resolveStrategyParams } from '../strategy/builtins/index.ts';
import { sortByMetric } from './metrics.ts';
import type { PredictionArrays } from './model-predictions.ts';

/**
 * Parameter sweeps and walk-forward runs on a pool of worker threads. The bars are copied once
 * into SharedArrayBuffers that every thread reads; jobs are handed out one at a time to idle
 * threads (a slow parameter set never holds up the others) and results are stored by job
 * index, so the output order never depends on thread timing. cancel() sets a shared flag that
 * running backtests check every 32k bars; the promise then rejects with CANCELLED.
 */

export type ParamValue = number | string;

export interface SweepJob {
  jobId: number;
  config: BacktestConfig;
  params: Record<string, ParamValue>;
  /** Bar index range [from, to). */
  from: number;
  to: number;
  isFullReport: boolean;
  maxCurvePoints: number;
}

export type ThreadMessage =
  | { type: 'metrics'; jobId: number; metrics: Metrics }
  | { type: 'report'; jobId: number; report: BacktestReport }
  | { type: 'progress'; jobId: number; done: number; total: number }
  | { type: 'error'; jobId: number; error: AppError };

export interface SweepProgress {
  phase: string;
  done: number;
  total: number;
}

export interface PoolOptions {
  threads: number;
  onProgress?: (progress: SweepProgress) => void;
}

/** Every combination of the axes' values, first axis slowest (row-major). */
export function expandGrid(
  grid: readonly { param: string; values: readonly ParamValue[] }[],
): Record<string, ParamValue>[] {
  const names = grid.map((a) => a.param);
  if (new Set(names).size !== names.length)
    throw appError('BAD_INPUT', `A parameter appears twice in the grid: ${names.join(', ')}.`);
  let rows: Record<string, ParamValue>[] = [{}];
  for (const axis of grid) {
    const next: Record<string, ParamValue>[] = [];
    for (const row of rows) for (const v of axis.values) next.push({ ...row, [axis.param]: v });
    rows = next;
    if (rows.length > MAX_SWEEP_RUNS)
      throw appError('BAD_INPUT', `The grid has more than ${MAX_SWEEP_RUNS} combinations; narrow it.`);
  }
  return rows;
}

/** A pool of backtest threads over one series. */
export class BacktestPool {
  private readonly workers: Worker[] = [];
  private readonly cancelFlag = new SharedArrayBuffer(4);
  private isClosed = false;

  constructor(
    symbol: string,
    bars: CandleColumns,
    threads: number,
    predictions: PredictionArrays | null = null,
  ) {
    const buffers = {} as Record<keyof CandleColumns, SharedArrayBuffer>;
    for (const key of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
      const shared = new SharedArrayBuffer(bars[key].length * 8);
      new Float64Array(shared).set(bars[key]);
      buffers[key] = shared;
    }
    const count = Math.max(1, Math.min(threads, 64));
    for (let i = 0; i < count; i++) {
      this.workers.push(
        new Worker(new URL('./sweep-thread.ts', import.meta.url), {
          workerData: { symbol, buffers, cancel: this.cancelFlag, predictions },
        }),
      );
    }
  }

  get threadCount(): number {
    return this.workers.length;
  }

  cancel(): void {
    Atomics.store(new Int32Array(this.cancelFlag), 0, 1);
  }

  isCancelled(): boolean {
    return Atomics.load(new Int32Array(this.cancelFlag), 0) === 1;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** Runs jobs on the idle threads; results in job order. Rejects on the first error or on cancel. */
  run(
    jobs: readonly SweepJob[],
    onJobDone?: (done: number) => void,
    onBarProgress?: (done: number, total: number) => void,
  ): Promise<ThreadMessage[]> {
    return new Promise((resolve, reject) => {
      const results: ThreadMessage[] = new Array(jobs.length);
      let next = 0;
      let finished = 0;
      let isSettled = false;
      const fail = (error: AppErrorException): void => {
        if (isSettled) return;
        isSettled = true;
        cleanup();
        reject(error);
      };
      const handlers = new Map<
        Worker,
        { message: (m: ThreadMessage) => void; error: (e: Error) => void; exit: (code: number) => void }
      >();
      const cleanup = (): void => {
        for (const [w, h] of handlers) {
          w.off('message', h.message);
          w.off('error', h.error);
          w.off('exit', h.exit);
        }
      };
      const feed = (w: Worker): void => {
        if (isSettled) return;
        if (this.isCancelled()) {
          fail(
            new AppErrorException('CANCELLED', `Cancelled after ${finished} of ${jobs.length} backtests.`),
          );
          return;
        }
        if (next < jobs.length) w.postMessage(jobs[next++]);
      };
      if (jobs.length === 0) {
        resolve([]);
        return;
      }
      for (const w of this.workers) {
        const h = {
          message: (m: ThreadMessage) => {
            if (m.type === 'progress') {
              onBarProgress?.(m.done, m.total);
              return;
            }
            if (m.type === 'error') {
              fail(new AppErrorException(m.error.code, m.error.message, m.error.details));
              return;
            }
            results[m.jobId] = m;
            finished++;
            onJobDone?.(finished);
            if (finished === jobs.length) {
              isSettled = true;
              cleanup();
              resolve(results);
            } else feed(w);
          },
          error: (e: Error) =>
            fail(new AppErrorException('BACKTEST_FAILED', `backtest thread failed: ${e.message}`)),
          exit: (code: number) =>
            fail(new AppErrorException('BACKTEST_FAILED', `backtest thread exited with code ${code}`)),
        };
        handlers.set(w, h);
        w.on('message', h.message);
        w.on('error', h.error);
        w.on('exit', h.exit);
      }
      for (const w of this.workers) feed(w);
    });
  }
}

export interface SweepInput {
  symbol: string;
  bars: CandleColumns;
  config: BacktestConfig;
  grid: readonly { param: string; values: readonly ParamValue[] }[];
  threads: number;
  walkForward?: { folds: number; inSampleShare: number; objective: MetricName };
  onProgress?: (progress: SweepProgress) => void;
  /** Model outputs for model-driven strategies (computed once for the whole series). */
  predictions?: PredictionArrays;
}

export interface SweepHandle {
  result: Promise<Omit<SweepResult, 'runId'>>;
  cancel(): void;
}

/** Starts a sweep (or walk-forward) on worker threads. */
export function startSweep(input: SweepInput): SweepHandle {
  const sets = expandGrid(input.grid);
  // Check every parameter set before any thread starts (a bad value fails the whole request now).
  for (const params of sets)
    resolveStrategyParams(input.config.strategy.id, { ...input.config.strategy.params, ...params });
  const pool = new BacktestPool(
    input.symbol,
    input.bars,
    Math.min(input.threads, sets.length * (input.walkForward?.folds ?? 1)),
    input.predictions ?? null,
  );
  const started = performance.now();
  const n = input.bars.time.length;
  const job = (jobId: number, params: Record<string, ParamValue>, from: number, to: number): SweepJob => ({
    jobId,
    config: input.config,
    params,
    from,
    to,
    isFullReport: false,
    maxCurvePoints: 0,
  });
  const run = async (): Promise<Omit<SweepResult, 'runId'>> => {
    try {
      if (!input.walkForward) {
        const total = sets.length;
        const results = await pool.run(
          sets.map((p, i) => job(i, p, 0, n)),
          (done) => input.onProgress?.({ phase: 'sweep', done, total }),
        );
        const rows: SweepRow[] = sets.map((params, i) => ({
          params,
          metrics: (results[i] as Extract<ThreadMessage, { type: 'metrics' }>).metrics,
        }));
        return { rows, elapsedMs: performance.now() - started };
      }
      const { folds, inSampleShare, objective } = input.walkForward;
      // Rolling windows: the series is cut into `folds` equal windows; each is split into an
      // in-sample part (optimised) and the out-of-sample rest (tested with the winner).
      const windows = Array.from({ length: folds }, (_, k) => {
        const from = Math.floor((k * n) / folds);
        const to = Math.floor(((k + 1) * n) / folds);
        const split = from + Math.floor((to - from) * inSampleShare);
        return { from, split, to };
      });
      if (windows.some((w) => w.split - w.from < 2 || w.to - w.split < 2))
        throw appError('BAD_INPUT', `${n} bars are too few for ${folds} walk-forward folds.`);
      const total = folds * sets.length + folds;
      const isJobs = windows.flatMap((w, k) =>
        sets.map((p, i) => job(k * sets.length + i, p, w.from, w.split)),
      );
      const isResults = await pool.run(isJobs, (done) =>
        input.onProgress?.({ phase: 'walk-forward in-sample', done, total }),
      );
      const best = windows.map((_, k) => {
        const rows = sets.map((params, i) => ({
          params,
          metrics: (isResults[k * sets.length + i] as Extract<ThreadMessage, { type: 'metrics' }>).metrics,
        }));
        return sortByMetric(rows, objective)[0]!;
      });
      const oosResults = await pool.run(
        windows.map((w, k) => job(k, best[k]!.params, w.split, w.to)),
        (done) =>
          input.onProgress?.({
            phase: 'walk-forward out-of-sample',
            done: folds * sets.length + done,
            total,
          }),
      );
      const t = input.bars.time;
      const foldRecords: WalkForwardFold[] = windows.map((w, k) => ({
        fold: k,
        inSample: [t[w.from]!, t[w.split - 1]!],
        outOfSample: [t[w.split]!, t[w.to - 1]!],
        bestParams: best[k]!.params,
        inSampleMetrics: best[k]!.metrics,
        outOfSampleMetrics: (oosResults[k] as Extract<ThreadMessage, { type: 'metrics' }>).metrics,
      }));
      const rows: SweepRow[] = sets.map((params, i) => ({
        params,
        metrics: (isResults[i] as Extract<ThreadMessage, { type: 'metrics' }>).metrics,
      }));
      return { rows, folds: foldRecords, elapsedMs: performance.now() - started };
    } finally {
      await pool.close();
    }
  };
  return { result: run(), cancel: () => pool.cancel() };
}

export interface ReportJobHandle {
  result: Promise<BacktestReport>;
  cancel(): void;
}

/** One full backtest on a worker thread (the engine's event loop stays free). */
export function startReportJob(
  symbol: string,
  bars: CandleColumns,
  config: BacktestConfig,
  maxCurvePoints: number,
  onProgress?: (done: number, total: number) => void,
  predictions: PredictionArrays | null = null,
): ReportJobHandle {
  resolveStrategyParams(config.strategy.id, config.strategy.params);
  const pool = new BacktestPool(symbol, bars, 1, predictions);
  const run = async (): Promise<BacktestReport> => {
    try {
      const [m] = await pool.run(
        [{ jobId: 0, config, params: {}, from: 0, to: bars.time.length, isFullReport: true, maxCurvePoints }],
        undefined,
        onProgress,
      );
      return (m as Extract<ThreadMessage, { type: 'report' }>).report;
    } finally {
      await pool.close();
    }
  };
  return { result: run(), cancel: () => pool.cancel() };
}
