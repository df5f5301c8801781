import { afterEach, beforeEach, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithData, testDataPath } from '../../../tests/support/test-data.ts';
import { runCliProcess } from '../test-support/run-cli.ts';
import { METRIC_NAMES, type BacktestReport } from '../../../shared/contract/backtest.ts';
import { loadSeriesFile } from '../../core/features/series-file.ts';
import { referenceSmaCrossTrades } from '../../core/backtest/reference-crossover.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-backtest-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// Each case spawns the CLI (several processes for the usage errors); the shared test machine is slow.
const CLI_TIMEOUT_MS = 240_000;

describeWithData('vantage backtest (CLI on real data)', () => {
  const orcl = testDataPath('backtrader', 'orcl-1995-2014.txt');
  const btc = testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json');

  it(
    'backtests an SMA crossover on ORCL daily bars into report.json and a self-contained HTML report',
    async () => {
      const out = join(dir, 'report.json');
      const html = join(dir, 'report.html');
      const result = await runCliProcess([
        'backtest',
        '--data',
        orcl,
        '--strategy',
        'sma-cross',
        '--param',
        'fast=10',
        '--param',
        'slow=30',
        '--size',
        '10',
        '--fees-bps',
        '10',
        '--cash',
        '100000',
        '--out',
        out,
        '--html',
        html,
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('sma-cross on orcl-1995-2014');
      const report = JSON.parse(readFileSync(out, 'utf8')) as BacktestReport;
      expect(Object.keys(report.metrics).sort()).toEqual([...METRIC_NAMES].sort());
      expect(report.config.strategy).toEqual({ id: 'sma-cross', params: { fast: 10, slow: 30 } });
      expect(report.config.sizing).toEqual({ kind: 'fixed-quantity', quantity: 10 });
      expect(report.config.fill.takerFeeBps).toBe(10);
      const closed = report.trades.filter((t) => !t.isOpen);
      expect(closed.length).toBe(report.metrics.tradeCount);
      for (const t of report.trades) {
        for (const key of [
          'entryTime',
          'exitTime',
          'side',
          'quantity',
          'entryPrice',
          'exitPrice',
          'fees',
          'pnl',
        ])
          expect(t).toHaveProperty(key);
      }
      // The same trades as an independent plain loop over the same file.
      const ref = referenceSmaCrossTrades(loadSeriesFile(orcl), 10, 30, 10, 0.001);
      expect(closed.map((t) => t.entryPrice)).toEqual([...ref.entryPrice.subarray(0, ref.count)]);
      expect(closed.reduce((s, t) => s + t.pnl, 0)).toBeCloseTo(
        [...ref.pnl.subarray(0, ref.count)].reduce((a, b) => a + b, 0),
        6,
      );
      expect(report.equity[0]).toEqual([report.firstMs, 100_000]);
      expect(report.equity).toHaveLength(report.barCount + 1);
      expect(report.benchmark.metrics.totalReturn).toBeGreaterThan(1);
      const page = readFileSync(html, 'utf8');
      expect(page).toContain('<svg');
      expect(page).toContain('Drawdown');
      expect(page).not.toMatch(/<script|<link|src=|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'runs on the Binance 5m file with same-bar close fills, stops and JSON output',
    async () => {
      const out = join(dir, 'btc.json');
      const result = await runCliProcess([
        '--json',
        'backtest',
        '--data',
        btc,
        '--param',
        'fast=20',
        '--param',
        'slow=60',
        '--size',
        '0.01',
        '--fill',
        'close',
        '--fees-bps',
        '5',
        '--stop-loss-pct',
        '1',
        '--out',
        out,
      ]);
      expect(result.code, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout) as { barCount: number; metrics: Record<string, number> };
      expect(summary.barCount).toBeGreaterThan(60_000);
      const report = JSON.parse(readFileSync(out, 'utf8')) as BacktestReport;
      expect(report.config.fill.marketFill).toBe('close');
      expect(report.trades.some((t) => t.exitReason === 'stop-loss')).toBe(true);
      expect(summary.metrics.tradeCount).toBe(report.metrics.tradeCount);
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'backtests the bundled default model with model-threshold; trades carry explanation ids models:explain resolves',
    async () => {
      const out = join(dir, 'model.json');
      const result = await runCliProcess([
        'backtest',
        '--data',
        btc,
        '--strategy',
        'model-threshold',
        '--param',
        'enterAbove=0.55',
        '--param',
        'exitBelow=0.5',
        '--size',
        '0.01',
        '--out',
        out,
      ]);
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(readFileSync(out, 'utf8')) as BacktestReport;
      expect(report.config.model).toBe('default-btc-5m');
      expect(report.trades.length).toBeGreaterThan(10);
      for (const t of report.trades) {
        expect(t.explanationId).toMatch(/^default-btc-5m@\d+$/);
        // The explained bar is the decision bar: it closed no later than the entry fill.
        expect(Number(t.explanationId!.split('@')[1]) + 5 * 60_000).toBeLessThanOrEqual(t.entryTime);
        expect(t.entryReason).toMatch(/^model p_up 0\.\d{4} > 0\.55$/);
      }
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'exits 2 on bad usage and 1 on a missing file, writing nothing',
    async () => {
      const out = join(dir, 'never.json');
      const unknown = await runCliProcess(['backtest', '--data', orcl, '--strategy', 'moon', '--out', out]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('Unknown strategy');
      const badParam = await runCliProcess([
        'backtest',
        '--data',
        orcl,
        '--param',
        'fast=50',
        '--param',
        'slow=10',
        '--out',
        out,
      ]);
      expect(badParam.code).toBe(2);
      expect(badParam.stderr).toContain('fast (50) must be less than slow (10)');
      const badRule = await runCliProcess([
        'backtest',
        '--data',
        orcl,
        '--strategy',
        'rules',
        '--param',
        'entry=close >> 3',
        '--param',
        'exit=true',
        '--out',
        out,
      ]);
      expect(badRule.code).toBe(2);
      expect(badRule.stderr).toContain('column 8');
      const badFill = await runCliProcess(['backtest', '--data', orcl, '--fill', 'tomorrow']);
      expect(badFill.code).toBe(2);
      const missing = await runCliProcess(['backtest', '--data', join(dir, 'nope.json')]);
      expect(missing.code).toBe(1);
      expect(existsSync(out)).toBe(false);
    },
    CLI_TIMEOUT_MS,
  );
});
