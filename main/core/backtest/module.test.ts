import { afterEach, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../engine.ts';
import { SeededRandom } from '../random.ts';
import { SystemScheduler } from '../../runtime/system-clock.ts';
import { marketModule } from '../data/module.ts';
import { backtestModule } from './module.ts';
import { describeWithData, testDataPath } from '../../../tests/support/test-data.ts';
import type { Reply } from '../../../shared/errors.ts';
import type { BacktestReport, SweepResult } from '../../../shared/contract/backtest.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function engineWithBtc(): Promise<Engine> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vantage-backtest-module-'));
  const engine = new Engine({
    dataDir,
    resourcesDir: dataDir,
    version: 'test',
    scheduler: new SystemScheduler(),
    random: new SeededRandom(1),
    modules: [marketModule, backtestModule],
    moduleOptions: { demo: false },
  });
  await engine.start();
  cleanups.push(
    () => engine.stop(),
    () => rmSync(dataDir, { recursive: true, force: true }),
  );
  const content = readFileSync(testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json'), 'utf8');
  const imported = await engine.dispatcher.dispatch(
    'market:import',
    { venue: 'binance', symbol: 'BTC/USDT', timeframe: '5m', content, fileName: 'BTC_USDT-5m.json' },
    { origin: 'test' },
  );
  expect(imported.ok).toBe(true);
  return engine;
}

const series = { venue: 'binance', symbol: 'BTC/USDT', timeframe: '5m' } as const;

describeWithData('backtest engine module', () => {
  it('runs a backtest over a stored series with progress, and a sweep whose rows sort by any metric', async () => {
    const engine = await engineWithBtc();
    const phases = new Set<string>();
    engine.bus.listen((stream, payload) => {
      if (stream === 'backtest:progress') phases.add((payload as { phase: string }).phase);
    });
    const run = (await engine.dispatcher.dispatch(
      'backtest:run',
      {
        runId: 'r1',
        series,
        config: {
          strategy: { id: 'sma-cross', params: { fast: 10, slow: 30 } },
          sizing: { kind: 'fixed-quantity', quantity: 0.01 },
        },
      },
      { origin: 'test' },
    )) as Reply<BacktestReport>;
    expect(run.ok).toBe(true);
    if (!run.ok) return;
    expect(run.value.symbol).toBe('BTC/USDT');
    expect(run.value.barCount).toBeGreaterThan(60_000);
    expect(run.value.trades.length).toBeGreaterThan(100);
    expect(run.value.equity.length).toBeLessThanOrEqual(5000);
    expect(run.value.metrics.tradeCount).toBe(run.value.trades.filter((t) => !t.isOpen).length);
    expect(phases.has('bars')).toBe(true);

    const sweep = (await engine.dispatcher.dispatch(
      'backtest:sweep',
      {
        runId: 's1',
        series,
        config: { strategy: { id: 'sma-cross' } },
        grid: [
          { param: 'fast', values: [5, 10] },
          { param: 'slow', values: [50, 100] },
        ],
        threads: 2,
      },
      { origin: 'test' },
    )) as Reply<SweepResult>;
    expect(sweep.ok).toBe(true);
    if (sweep.ok) expect(sweep.value.rows).toHaveLength(4);
  });

  it('cancels a running sweep by run id and refuses bad requests', async () => {
    const engine = await engineWithBtc();
    const pending = engine.dispatcher.dispatch(
      'backtest:sweep',
      {
        runId: 'big',
        series,
        config: { strategy: { id: 'sma-cross' } },
        grid: [
          { param: 'fast', values: [2, 3, 4, 5, 6, 7, 8, 9, 11, 12] },
          { param: 'slow', values: [20, 40, 60, 80] },
        ],
        threads: 2,
      },
      { origin: 'test' },
    );
    await new Promise<void>((resolve) => {
      const off = engine.bus.listen((stream) => {
        if (stream === 'backtest:progress') {
          off();
          resolve();
        }
      });
    });
    const cancelled = await engine.dispatcher.dispatch(
      'backtest:cancel',
      { runId: 'big' },
      { origin: 'test' },
    );
    expect(cancelled).toEqual({ ok: true, value: { isCancelled: true } });
    const result = await pending;
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('CANCELLED');
    const unknown = await engine.dispatcher.dispatch(
      'backtest:run',
      { runId: 'x', series: { ...series, symbol: 'ETH/USDT' }, config: { strategy: { id: 'sma-cross' } } },
      { origin: 'test' },
    );
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.error.code).toBe('NOT_FOUND');
    const badStrategy = await engine.dispatcher.dispatch(
      'backtest:run',
      { runId: 'y', series, config: { strategy: { id: 'sma-cross', params: { fast: 50, slow: 10 } } } },
      { origin: 'test' },
    );
    expect(badStrategy.ok).toBe(false);
    if (!badStrategy.ok) expect(badStrategy.error.code).toBe('STRATEGY_INVALID');
    const strategies = (await engine.dispatcher.dispatch(
      'backtest:strategies',
      {},
      { origin: 'test' },
    )) as Reply<{ id: string }[]>;
    expect(strategies.ok && strategies.value.map((s) => s.id)).toContain('hybrid');
  });
});
