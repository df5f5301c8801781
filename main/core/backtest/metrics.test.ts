import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { computeMetrics, curveStats, drawdownCurve, MS_PER_YEAR, sortByMetric } from './metrics.ts';
import { kellyFraction, sizeQuantity, TradeStats } from '../strategy/sizing.ts';
import type { TradeRecord } from '../../../shared/contract/backtest.ts';

const trade = (pnl: number): TradeRecord => ({
  strategyId: 's',
  symbol: 'X',
  side: 'long',
  entryTime: 0,
  exitTime: 1,
  quantity: 1,
  entryPrice: 1,
  exitPrice: 1,
  fees: 0,
  pnl,
  returnPct: 0,
  barsHeld: 1,
  entryReason: '',
  exitReason: '',
  explanationId: null,
  isOpen: false,
});

describe('metrics', () => {
  it('computes the documented definitions on a hand-checked curve', () => {
    const times = [0, 1, 2, 3].map((y) => y * MS_PER_YEAR);
    const values = [100, 110, 99, 120];
    const s = curveStats(times, values);
    expect(s.totalReturn).toBeCloseTo(0.2, 12);
    expect(s.cagr).toBeCloseTo(Math.pow(1.2, 1 / 3) - 1, 12);
    expect(s.maxDrawdown).toBeCloseTo(0.1, 12);
    expect(s.maxDrawdownDurationBars).toBe(2);
    expect(s.maxDrawdownDurationMs).toBeCloseTo(2 * MS_PER_YEAR, 3);
    const r = [0.1, -0.1, 120 / 99 - 1];
    const mean = (r[0]! + r[1]! + r[2]!) / 3;
    const std = Math.sqrt(r.reduce((a, x) => a + (x - mean) ** 2, 0) / 2);
    expect(s.annualVolatility).toBeCloseTo(std, 12); // one bar per year
    expect(s.sharpe).toBeCloseTo(mean / std, 12);
    expect(s.sortino).toBeCloseTo(mean / Math.sqrt(0.01 / 3), 12);
    expect(s.calmar).toBeCloseTo(s.cagr! / 0.1, 12);
    const m = computeMetrics({
      times,
      values,
      trades: [trade(10), trade(-5), trade(20)],
      exposedBars: 2,
      tradedNotional: 300,
      fees: 3,
    });
    expect(m.winRate).toBeCloseTo(2 / 3, 12);
    expect(m.profitFactor).toBeCloseTo(6, 12);
    expect(m.averageWin).toBe(15);
    expect(m.averageLoss).toBe(-5);
    expect(m.exposure).toBeCloseTo(2 / 3, 12);
    expect(m.turnover).toBeCloseTo(300 / ((100 + 110 + 99 + 120) / 4), 12);
    expect(m.tradeCount).toBe(3);
    expect(
      computeMetrics({
        times,
        values: [100, 100, 100, 100],
        trades: [],
        exposedBars: 0,
        tradedNotional: 0,
        fees: 0,
      }),
    ).toMatchObject({ sharpe: null, profitFactor: null, winRate: null, maxDrawdown: 0 });
  });

  it('keeps drawdown within [-1, 0] and zero at every new high (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (values) => {
          const dd = drawdownCurve(values);
          let peak = -Infinity;
          values.forEach((v, i) => {
            expect(dd[i]).toBeLessThanOrEqual(0);
            expect(dd[i]).toBeGreaterThanOrEqual(-1);
            if (v >= peak) {
              expect(dd[i]).toBe(0);
              peak = v;
            }
          });
        },
      ),
    );
  });

  it('sorts rows best first by any metric, nulls last', () => {
    const row = (sharpe: number | null, maxDrawdown: number | null) => ({
      metrics: {
        ...computeMetrics({
          times: [0],
          values: [1],
          trades: [],
          exposedBars: 0,
          tradedNotional: 0,
          fees: 0,
        }),
        sharpe,
        maxDrawdown,
      },
    });
    const rows = [row(1, 0.3), row(null, null), row(2, 0.1), row(0.5, 0.2)];
    expect(sortByMetric(rows, 'sharpe').map((r) => r.metrics.sharpe)).toEqual([2, 1, 0.5, null]);
    expect(sortByMetric(rows, 'maxDrawdown').map((r) => r.metrics.maxDrawdown)).toEqual([
      0.1,
      0.2,
      0.3,
      null,
    ]);
    expect(sortByMetric(rows, 'sharpe', 'asc').map((r) => r.metrics.sharpe)).toEqual([0.5, 1, 2, null]);
  });
});

describe('position sizing', () => {
  const stats = new TradeStats();
  const base = { price: 50, equity: 10_000, returnStdPerBar: 0.01, stats };
  it('sizes fixed quantity, fixed notional and percent of equity', () => {
    expect(sizeQuantity({ kind: 'fixed-quantity', quantity: 3 }, base)).toBe(3);
    expect(sizeQuantity({ kind: 'fixed-notional', notional: 1000 }, base)).toBe(20);
    expect(sizeQuantity({ kind: 'percent-equity', percent: 25 }, base)).toBe(50);
  });
  it('targets an annual volatility, capped by leverage, and waits for the lookback', () => {
    // 1% per bar x sqrt(10000) = 100% a year; a 20% target holds 0.2 x equity.
    expect(
      sizeQuantity(
        {
          kind: 'volatility-target',
          annualVolatility: 0.2,
          lookbackBars: 20,
          barsPerYear: 10_000,
          maxLeverage: 1,
        },
        base,
      ),
    ).toBeCloseTo(40, 9);
    expect(
      sizeQuantity(
        {
          kind: 'volatility-target',
          annualVolatility: 5,
          lookbackBars: 20,
          barsPerYear: 10_000,
          maxLeverage: 2,
        },
        base,
      ),
    ).toBeCloseTo(400, 9);
    expect(
      sizeQuantity(
        {
          kind: 'volatility-target',
          annualVolatility: 0.2,
          lookbackBars: 20,
          barsPerYear: 10_000,
          maxLeverage: 1,
        },
        { ...base, returnStdPerBar: NaN },
      ),
    ).toBe(0);
  });
  it('sizes capped Kelly from the closed trades, with a fallback before enough trades and none for a losing record', () => {
    const s = new TradeStats();
    const kelly = { kind: 'kelly', cap: 0.25, fraction: 0.5, minTrades: 4, fallbackPercent: 5 } as const;
    expect(sizeQuantity(kelly, { ...base, stats: s })).toBe(10); // 5% of 10,000 / 50
    for (const pnl of [30, 30, -10, -10]) s.record(pnl);
    expect(kellyFraction(s)).toBeCloseTo(0.5 - 0.5 / 3, 12);
    expect(sizeQuantity(kelly, { ...base, stats: s })).toBeCloseTo((10_000 * (1 / 3) * 0.5) / 50, 9);
    const losing = new TradeStats();
    for (const pnl of [5, -20, -20, -20]) losing.record(pnl);
    expect(sizeQuantity(kelly, { ...base, stats: losing })).toBe(0);
    const great = new TradeStats();
    for (const pnl of [50, 50, 50, -1]) great.record(pnl);
    expect(sizeQuantity(kelly, { ...base, stats: great })).toBeCloseTo((10_000 * 0.25) / 50, 9);
  });
});
