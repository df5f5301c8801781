import { describe, expect, it } from 'vitest';
import { backtestConfigSchema } from '../../../shared/contract/backtest.ts';
import { AppErrorException } from '../../../shared/errors.ts';
import { runConfiguredBacktest } from './report.ts';
import { sortByMetric } from './metrics.ts';
import { expandGrid, startReportJob, startSweep } from './sweep.ts';
import { randomWalk } from './test-support/bars.ts';

const config = backtestConfigSchema.parse({
  strategy: { id: 'sma-cross', params: {} },
  sizing: { kind: 'fixed-quantity', quantity: 1 },
  fill: { takerFeeBps: 5 },
});

describe('parameter sweeps on worker threads', () => {
  it('expands a grid row-major and refuses duplicate axes', () => {
    expect(
      expandGrid([
        { param: 'fast', values: [5, 10] },
        { param: 'slow', values: [20, 30, 40] },
      ]),
    ).toEqual([
      { fast: 5, slow: 20 },
      { fast: 5, slow: 30 },
      { fast: 5, slow: 40 },
      { fast: 10, slow: 20 },
      { fast: 10, slow: 30 },
      { fast: 10, slow: 40 },
    ]);
    expect(() =>
      expandGrid([
        { param: 'fast', values: [1] },
        { param: 'fast', values: [2] },
      ]),
    ).toThrow(/appears twice/);
  });

  it('runs every combination on 2 threads, in grid order, with the same metrics as a run in this thread', async () => {
    const bars = randomWalk(20_000, 21);
    const progress: number[] = [];
    const sweep = startSweep({
      symbol: 'X/USD',
      bars,
      config,
      grid: [
        { param: 'fast', values: [5, 10] },
        { param: 'slow', values: [20, 30, 50] },
      ],
      threads: 2,
      onProgress: (p) => progress.push(p.done),
    });
    const result = await sweep.result;
    expect(result.rows.map((r) => r.params)).toEqual(
      expandGrid([
        { param: 'fast', values: [5, 10] },
        { param: 'slow', values: [20, 30, 50] },
      ]),
    );
    expect(progress.at(-1)).toBe(6);
    const local = await runConfiguredBacktest(
      { ...config, strategy: { id: 'sma-cross', params: { fast: 10, slow: 30 } } },
      'X/USD',
      bars,
    );
    expect(result.rows[4]!.metrics).toEqual(local.run.metrics);
    const bySharpe = sortByMetric(result.rows, 'sharpe');
    for (let i = 1; i < bySharpe.length; i++)
      expect(
        (bySharpe[i - 1]!.metrics.sharpe ?? -Infinity) >= (bySharpe[i]!.metrics.sharpe ?? -Infinity),
      ).toBe(true);
    const byDrawdown = sortByMetric(result.rows, 'maxDrawdown');
    expect(byDrawdown[0]!.metrics.maxDrawdown).toBe(
      Math.min(...result.rows.map((r) => r.metrics.maxDrawdown!)),
    );
  });

  it('walks forward: optimises each in-sample window and tests the winner on the following out-of-sample one', async () => {
    const bars = randomWalk(30_000, 8);
    const result = await startSweep({
      symbol: 'X/USD',
      bars,
      config,
      grid: [
        { param: 'fast', values: [5, 10] },
        { param: 'slow', values: [30, 60] },
      ],
      threads: 2,
      walkForward: { folds: 3, inSampleShare: 0.7, objective: 'totalReturn' },
    }).result;
    expect(result.folds).toHaveLength(3);
    for (const fold of result.folds!) {
      expect(fold.inSample[1]).toBeLessThan(fold.outOfSample[0]);
      expect([5, 10]).toContain(fold.bestParams.fast);
      const window = await runConfiguredBacktest(
        {
          ...config,
          strategy: { id: 'sma-cross', params: fold.bestParams },
          startMs: fold.outOfSample[0],
          endMs: fold.outOfSample[1],
        },
        'X/USD',
        bars,
      );
      expect(window.run.metrics).toEqual(fold.outOfSampleMetrics);
    }
  });

  it('cancels a running sweep: the promise fails with CANCELLED', async () => {
    const bars = randomWalk(300_000, 4);
    let sweep: ReturnType<typeof startSweep> | null = null;
    sweep = startSweep({
      symbol: 'X/USD',
      bars,
      config,
      grid: [
        { param: 'fast', values: [2, 3, 4, 5, 6, 7, 8, 9] },
        { param: 'slow', values: [20, 30, 40, 50] },
      ],
      threads: 2,
      onProgress: () => sweep?.cancel(),
    });
    const error = await sweep.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppErrorException);
    expect((error as AppErrorException).code).toBe('CANCELLED');
  });

  it('refuses a bad parameter value before starting any thread', () => {
    expect(() =>
      startSweep({
        symbol: 'X/USD',
        bars: randomWalk(100, 1),
        config,
        grid: [{ param: 'fast', values: [-1] }],
        threads: 2,
      }),
    ).toThrow(/fast = -1/);
  });

  it('runs one full report on a thread with bar progress', async () => {
    const bars = randomWalk(70_000, 9);
    const seen: number[] = [];
    const report = await startReportJob(
      'X/USD',
      bars,
      { ...config, strategy: { id: 'sma-cross', params: { fast: 10, slow: 30 } } },
      500,
      (done) => seen.push(done),
    ).result;
    expect(report.equity.length).toBeLessThanOrEqual(500);
    expect(report.barCount).toBe(70_000);
    expect(report.trades.length).toBeGreaterThan(10);
    expect(seen.length).toBeGreaterThan(1);
  });
});
