import { parentPort, workerData } from 'node:worker_threads';
import { AppErrorException } from '../../../shared/errors.ts';
import type { BacktestConfig } from '../../../shared/contract/backtest.ts';
import type { CandleColumns } from '../features/types.ts';
import { buildReport, runConfiguredBacktest } from './report.ts';
import type { SweepJob, ThreadMessage } from './sweep.ts';
import { predictionSource, type PredictionArrays } from './model-predictions.ts';

/** Worker-thread entry for the sweep pool (sweep.ts): runs jobs one at a time, honours the shared cancel flag. */

interface ThreadData {
  symbol: string;
  buffers: Record<keyof CandleColumns, SharedArrayBuffer>;
  cancel: SharedArrayBuffer;
  predictions: PredictionArrays | null;
}

const data = workerData as ThreadData;
const cancel = new Int32Array(data.cancel);
const bars = Object.fromEntries(
  Object.entries(data.buffers).map(([k, b]) => [k, new Float64Array(b)]),
) as unknown as CandleColumns;
const isCancelled = (): boolean => Atomics.load(cancel, 0) === 1;

/** Model outputs aligned with the bars, re-based to a job's range. */
function predictionsFor(from: number, to: number) {
  const p = data.predictions;
  if (!p) return {};
  const values = Object.fromEntries(Object.entries(p.values).map(([k, v]) => [k, v.subarray(from, to)]));
  return { predictions: predictionSource({ ...p, time: p.time.subarray(from, to), values }) };
}

function slice(from: number, to: number): CandleColumns {
  return {
    time: bars.time.subarray(from, to),
    open: bars.open.subarray(from, to),
    high: bars.high.subarray(from, to),
    low: bars.low.subarray(from, to),
    close: bars.close.subarray(from, to),
    volume: bars.volume.subarray(from, to),
  };
}

function post(message: ThreadMessage): void {
  parentPort!.postMessage(message);
}

parentPort!.on('message', (job: SweepJob) => {
  void (async () => {
    try {
      const config: BacktestConfig = {
        ...job.config,
        strategy: { ...job.config.strategy, params: { ...job.config.strategy.params, ...job.params } },
      };
      const started = performance.now();
      const range = slice(job.from, job.to);
      const { run, bars: used } = await runConfiguredBacktest(config, data.symbol, range, {
        isCancelled,
        isMetricsOnly: !job.isFullReport,
        ...predictionsFor(job.from, job.to),
        ...(job.isFullReport
          ? {
              onProgress: (done: number, total: number) =>
                post({ type: 'progress', jobId: job.jobId, done, total }),
            }
          : {}),
      });
      if (job.isFullReport)
        post({
          type: 'report',
          jobId: job.jobId,
          report: buildReport(
            config,
            data.symbol,
            used,
            run,
            performance.now() - started,
            job.maxCurvePoints,
          ),
        });
      else post({ type: 'metrics', jobId: job.jobId, metrics: run.metrics });
    } catch (error) {
      const appError =
        error instanceof AppErrorException
          ? error.toAppError()
          : { code: 'BACKTEST_FAILED' as const, message: (error as Error).message };
      post({ type: 'error', jobId: job.jobId, error: appError });
    }
  })();
});
