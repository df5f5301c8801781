import { describe, expect, it } from 'vitest';
import {
  fillConfigSchema,
  type FillConfigInput,
  type SizingSpec,
} from '../../../shared/contract/backtest.ts';
import type { AppErrorException } from '../../../shared/errors.ts';
import { describeWithData, testDataPath } from '../../../tests/support/test-data.ts';
import { loadSeriesFile } from '../features/series-file.ts';
import type { CandleColumns } from '../features/types.ts';
import { createBuiltinStrategy } from '../strategy/builtins/index.ts';
import type { ProtectionSpec } from '../strategy/sizing.ts';
import type { Strategy, StrategyContext } from '../strategy/types.ts';
import { runBacktest, type BacktestInput, type PredictionSource } from './backtester.ts';
import { referenceSmaCrossTrades } from './reference-crossover.ts';
import { barsFromCloses, barsFromRows, randomWalk } from './test-support/bars.ts';

const QTY: SizingSpec = { kind: 'fixed-quantity', quantity: 2 };

function fill(input: FillConfigInput = {}) {
  return fillConfigSchema.parse({ makerFeeBps: 0, takerFeeBps: 0, ...input });
}

/** A scripted strategy: enters/exits on given bar indexes (a test double for decisions). */
function scripted(plan: {
  enterAt?: number[];
  exitAt?: number[];
  onBar?: (ctx: StrategyContext) => void;
}): Strategy {
  return {
    features: [],
    onBar(ctx) {
      if (plan.enterAt?.includes(ctx.bar.index)) ctx.enter('buy', `scripted entry ${ctx.bar.index}`);
      if (plan.exitAt?.includes(ctx.bar.index)) ctx.exit(`scripted exit ${ctx.bar.index}`);
      plan.onBar?.(ctx);
    },
  };
}

async function runOne(
  bars: CandleColumns,
  strategy: Strategy,
  options: Partial<BacktestInput> & { sizing?: SizingSpec; protection?: ProtectionSpec } = {},
) {
  return runBacktest({
    series: [{ symbol: 'TEST/USD', bars }],
    strategies: [
      {
        strategyId: 's',
        symbol: 'TEST/USD',
        strategy,
        sizing: options.sizing ?? QTY,
        protection: options.protection ?? {},
      },
    ],
    fill: options.fill ?? fill(),
    cash: options.cash ?? 100_000,
    ...(options.predictions ? { predictions: options.predictions } : {}),
    ...(options.risk ? { risk: options.risk } : {}),
  });
}

const ROWS: [number, number, number, number][] = [
  [100, 101, 99, 100],
  [100, 102, 99, 101],
  [101, 103, 100, 102],
  [104, 106, 103, 105], // index 3 opens at 104
  [105, 107, 104, 106],
  [106, 108, 105, 107],
  [110, 111, 109, 110], // index 6 opens at 110
  [110, 112, 108, 111],
];

describe('fill model', () => {
  it('fills market orders decided at a close at the next open, with taker fee and slippage against the order', async () => {
    const run = await runOne(barsFromRows(ROWS), scripted({ enterAt: [2], exitAt: [5] }), {
      fill: fill({ takerFeeBps: 10, slippageBps: 50 }),
    });
    expect(run.fills).toHaveLength(2);
    const [entry, exit] = run.fills;
    expect(entry!.price).toBeCloseTo(104 * 1.005, 10);
    expect(entry!.tsMs).toBe(barsFromRows(ROWS).time[3]);
    expect(entry!.fee).toBeCloseTo(104 * 1.005 * 2 * 0.001, 10);
    expect(exit!.price).toBeCloseTo(110 * 0.995, 10);
    expect(run.trades).toHaveLength(1);
    const t = run.trades[0]!;
    expect(t.pnl).toBeCloseTo((110 * 0.995 - 104 * 1.005) * 2 - entry!.fee - exit!.fee, 9);
    expect(t.barsHeld).toBe(3);
    expect(t.entryReason).toBe('scripted entry 2');
    expect(t.exitReason).toBe('scripted exit 5');
  });

  it("charges fees in the account's currency whatever the symbol's quote asset is called", async () => {
    const run = await runBacktest({
      series: [{ symbol: 'BTC/USDT', bars: barsFromRows(ROWS) }],
      strategies: [
        {
          strategyId: 's',
          symbol: 'BTC/USDT',
          strategy: scripted({ enterAt: [2], exitAt: [5] }),
          sizing: QTY,
        },
      ],
      fill: fill({ takerFeeBps: 10 }),
      cash: 100_000,
      currency: 'USD',
    });
    expect(run.strategies[0]!.fees).toBeCloseTo((104 + 110) * 2 * 0.001, 10);
    expect(run.equity.at(-1)).toBeCloseTo(100_000 + (110 - 104) * 2 - (104 + 110) * 2 * 0.001, 8);
  });

  it("fills at the decision bar's close with fill 'close'", async () => {
    const run = await runOne(barsFromRows(ROWS), scripted({ enterAt: [2], exitAt: [5] }), {
      fill: fill({ marketFill: 'close' }),
    });
    expect(run.fills.map((f) => f.price)).toEqual([102, 107]);
    expect(run.trades[0]!.pnl).toBeCloseTo(10, 10);
  });

  it("adds a share of the bar's range as slippage", async () => {
    const run = await runOne(barsFromRows(ROWS), scripted({ enterAt: [2] }), {
      fill: fill({ slippageRangeShare: 0.25 }),
    });
    // Bar 3 range 106 - 103 = 3: a buy pays 0.75 over the open.
    expect(run.fills[0]!.price).toBeCloseTo(104.75, 10);
  });

  it('fills a limit buy at its price when the range reaches it and at the open when the bar gaps through it', async () => {
    const rows: [number, number, number, number][] = [
      [100, 101, 99, 100],
      [100, 101, 96, 97], // low 96 > 95: no fill
      [97, 98, 94, 96], // reaches 95: fill at 95
      [96, 97, 95.5, 96],
    ];
    const limitAt = (price: number): Strategy => ({
      features: [],
      onBar(ctx) {
        if (ctx.bar.index === 0)
          ctx.submit({ side: 'buy', type: 'limit', price, quantity: 1, reason: 'limit test' });
      },
    });
    const run = await runOne(barsFromRows(rows), limitAt(95), {
      fill: fill({ makerFeeBps: 2, takerFeeBps: 50 }),
    });
    expect(run.fills).toHaveLength(1);
    expect(run.fills[0]!.price).toBe(95);
    expect(run.fills[0]!.isMaker).toBe(true);
    expect(run.fills[0]!.fee).toBeCloseTo(95 * 0.0002, 12);
    expect(run.fills[0]!.tsMs).toBe(barsFromRows(rows).time[2]);
    const gapRows: [number, number, number, number][] = [
      [100, 101, 99, 100],
      [93, 94, 92, 93], // opens below the limit
    ];
    const gap = await runOne(barsFromRows(gapRows), limitAt(95));
    expect(gap.fills[0]!.price).toBe(93);
  });

  it('attaches a stop-loss and a take-profit to an entry; the stop fills at its price, or the open on a gap; the other then expires', async () => {
    const rows: [number, number, number, number][] = [
      [100, 100, 100, 100],
      [100, 101, 99, 100], // entry fills at 100 (stop 95, target 110)
      [100, 101, 94, 96], // low 94 crosses the stop: fill at 95
      [96, 112, 95, 111],
    ];
    const run = await runOne(barsFromRows(rows), scripted({ enterAt: [0] }), {
      protection: { stopLoss: 0.05, takeProfit: 0.1 },
    });
    expect(run.fills.map((f) => [f.side, f.price])).toEqual([
      ['buy', 100],
      ['sell', 95],
    ]);
    expect(run.trades[0]!.exitReason).toBe('stop-loss');
    const states = Object.fromEntries(run.orders.map((o) => [o.reason, o.state]));
    expect(states).toEqual({
      'scripted entry 0': 'filled',
      'stop-loss': 'filled',
      'take-profit': expect.stringMatching(/canceled|expired/),
    });

    const gapRows: [number, number, number, number][] = [
      [100, 100, 100, 100],
      [100, 101, 99, 100],
      [90, 91, 89, 90], // gaps through the stop at 95: fills at the open 90
    ];
    const gap = await runOne(barsFromRows(gapRows), scripted({ enterAt: [0] }), {
      protection: { stopLoss: 0.05 },
    });
    expect(gap.fills[1]!.price).toBe(90);

    const tpRows: [number, number, number, number][] = [
      [100, 100, 100, 100],
      [100, 101, 99, 100],
      [105, 111, 104, 109], // high 111 reaches the target 110: maker fill at 110
    ];
    const tp = await runOne(barsFromRows(tpRows), scripted({ enterAt: [0] }), {
      protection: { stopLoss: 0.05, takeProfit: 0.1 },
    });
    expect(tp.fills[1]!.price).toBeCloseTo(110, 9);
    expect(tp.fills[1]!.isMaker).toBe(true);
    expect(tp.trades[0]!.exitReason).toBe('take-profit');
  });

  it('moves a trailing stop up with the highs and fills on the pullback', async () => {
    const rows: [number, number, number, number][] = [
      [100, 100, 100, 100],
      [100, 100, 100, 100], // entry at 100; trail 10% -> stop 90
      [100, 120, 100, 118], // high 120 -> stop 108 from the next bar
      [118, 119, 109, 110], // low 109 > 108: holds
      [110, 111, 105, 106], // low 105 <= 108: fills at 108
    ];
    const run = await runOne(barsFromRows(rows), scripted({ enterAt: [0] }), {
      protection: { trailingStop: 0.1 },
    });
    expect(run.fills.map((f) => f.price)).toEqual([100, 108]);
    expect(run.trades[0]!.exitReason).toBe('trailing-stop');
  });

  it('caps fills at a share of bar volume and completes the order over later bars (partial fills)', async () => {
    const rows: [number, number, number, number, number][] = [
      [100, 100, 100, 100, 100],
      [101, 101, 101, 101, 100],
      [102, 102, 102, 102, 100],
      [103, 103, 103, 103, 100],
      [104, 104, 104, 104, 100],
    ];
    const run = await runOne(barsFromRows(rows), scripted({ enterAt: [0] }), {
      sizing: { kind: 'fixed-quantity', quantity: 25 },
      fill: fill({ participation: 0.1 }),
    });
    expect(run.fills.map((f) => [f.quantity, f.price])).toEqual([
      [10, 101],
      [10, 102],
      [5, 103],
    ]);
    expect(run.orders[0]!.state).toBe('filled');
    expect(run.orders[0]!.filledQuantity).toBe(25);
    expect(run.trades).toHaveLength(1);
    expect(run.trades[0]!.quantity).toBe(25);
    expect(run.trades[0]!.entryPrice).toBeCloseTo((10 * 101 + 10 * 102 + 5 * 103) / 25, 10);
  });
});

describe('look-ahead guard', () => {
  it('refuses to read a bar that has not closed', async () => {
    const errors: string[] = [];
    const strategy: Strategy = {
      features: [],
      onBar(ctx) {
        expect(ctx.history.close(0)).toBe(ctx.bar.close);
        try {
          ctx.history.close(-1);
        } catch (error) {
          errors.push((error as AppErrorException).code);
        }
      },
    };
    await runOne(barsFromCloses([1, 2, 3]), strategy);
    expect(errors).toEqual(['STRATEGY_INVALID', 'STRATEGY_INVALID', 'STRATEGY_INVALID']);
  });

  it('makes the same decisions on a prefix of the data as on the whole series (no decision uses a later bar)', async () => {
    const bars = randomWalk(3000, 7);
    const prefix = { ...bars };
    for (const k of Object.keys(prefix) as (keyof CandleColumns)[]) prefix[k] = bars[k].slice(0, 1800);
    const make = () =>
      createBuiltinStrategy('rules', {
        entry: 'crosses_above(ema_8, sma_21) and rsi_14 < 75',
        exit: 'crosses_below(ema_8, sma_21) or close < bb_lower_20',
      });
    const full = await runOne(bars, make());
    const part = await runOne(prefix, make());
    const cut = prefix.time[1799]! + 60_000;
    const strip = (d: (typeof full.decisions)[number]) => ({
      tsMs: d.tsMs,
      side: d.side,
      quantity: d.quantity,
      reason: d.reason,
    });
    expect(part.decisions.length).toBeGreaterThan(10);
    expect(full.decisions.filter((d) => d.tsMs <= cut).map(strip)).toEqual(part.decisions.map(strip));
  });

  it('delivers each bar only after its close and each prediction not before its bar', async () => {
    const seen: [number, number][] = [];
    const strategy: Strategy = {
      features: [],
      onBar: (ctx) => void seen.push([ctx.bar.timeMs, ctx.bar.closeMs]),
    };
    const bars = barsFromCloses([1, 2, 3, 4]);
    await runOne(bars, strategy);
    expect(seen).toEqual([...bars.time].map((t) => [t, t + 60_000]));
    const early: PredictionSource = {
      predict: (symbol, i, closeMs) => ({
        symbol,
        tsMs: closeMs + 1,
        values: { p_up: 0.9 },
        explanationId: `x${i}`,
      }),
    };
    await expect(runOne(bars, strategy, { predictions: early })).rejects.toThrow(/look-ahead/);
  });
});

describe('rounding does not invent signals', () => {
  // At bar 11 the 3-bar and 6-bar averages are both exactly 100.48 (sums of cents 30144 = 60288/2);
  // a naive running float sum makes the fast one 100.48000000000002 and would cross a bar early.
  const CLOSES = [100.5, 100.4, 100.3, 100.2, 100.1, 100, 100.23, 100.8, 100.41, 100.43, 100.01, 101, 101.5];

  function exactCrossBars(closes: number[], fast: number, slow: number): { up: number[]; down: number[] } {
    // Exact rational recompute in integer cents: fast > slow  <=>  slow * sumFast > fast * sumSlow.
    const cents = closes.map((c) => Math.round(c * 100));
    const cmp = (i: number): number => {
      let sf = 0;
      let ss = 0;
      for (let k = 0; k < fast; k++) sf += cents[i - k]!;
      for (let k = 0; k < slow; k++) ss += cents[i - k]!;
      return Math.sign(slow * sf - fast * ss);
    };
    const up: number[] = [];
    const down: number[] = [];
    for (let i = slow; i < closes.length; i++) {
      if (cmp(i - 1) <= 0 && cmp(i) > 0) up.push(i);
      if (cmp(i - 1) >= 0 && cmp(i) < 0) down.push(i);
    }
    return { up, down };
  }

  it('takes the SMA crossover on the bar exact arithmetic says, not a bar early', async () => {
    let naive = 0;
    let naiveFast = NaN;
    for (let i = 0; i < 12; i++) {
      naive += CLOSES[i]!;
      if (i >= 3) naive -= CLOSES[i - 3]!;
      naiveFast = naive / 3;
    }
    expect(naiveFast).not.toBe(100.48); // the trap is real
    const exact = exactCrossBars(CLOSES, 3, 6);
    expect(exact.up).toContain(12);
    expect(exact.up).not.toContain(11);
    const bars = barsFromCloses(CLOSES);
    const run = await runOne(bars, createBuiltinStrategy('sma-cross', { fast: 3, slow: 6 }));
    const entryBars = run.decisions
      .filter((d) => d.role === 'entry')
      .map((d) => (d.tsMs - 60_000 - bars.time[0]!) / 60_000);
    const exitBars = run.decisions
      .filter((d) => d.role === 'exit')
      .map((d) => (d.tsMs - 60_000 - bars.time[0]!) / 60_000);
    expect(entryBars).toEqual(exact.up);
    expect(exitBars).toEqual(exact.down.filter((b) => b > (exact.up[0] ?? Infinity)));
  });
});

describe('backtester', () => {
  it('is deterministic: the same input gives the same trades, orders and equity', async () => {
    const bars = randomWalk(5000, 3);
    const make = () => createBuiltinStrategy('sma-cross', { fast: 5, slow: 20 });
    const options = {
      fill: fill({ takerFeeBps: 10, slippageBps: 3, participation: 0.5 }),
      protection: { stopLoss: 0.02, trailingStop: 0.03 },
    };
    const a = await runOne(bars, make(), options);
    const b = await runOne(bars, make(), options);
    expect(a.trades.length).toBeGreaterThan(20);
    expect(JSON.stringify(b.trades)).toBe(JSON.stringify(a.trades));
    expect(JSON.stringify(b.orders)).toBe(JSON.stringify(a.orders));
    expect([...b.equity]).toEqual([...a.equity]);
  });

  it('matches a plain Float64Array loop computing the same SMA crossover trades', async () => {
    const bars = randomWalk(20_000, 11);
    const run = await runOne(bars, createBuiltinStrategy('sma-cross', { fast: 10, slow: 30 }), {
      fill: fill({ takerFeeBps: 10 }),
    });
    const ref = referenceSmaCrossTrades(bars, 10, 30, 2, 0.001);
    const closed = run.trades.filter((t) => !t.isOpen);
    expect(closed.length).toBe(ref.count);
    for (let i = 0; i < ref.count; i++) {
      expect(closed[i]!.entryPrice).toBe(ref.entryPrice[i]);
      expect(closed[i]!.exitPrice).toBe(ref.exitPrice[i]);
      expect(closed[i]!.pnl).toBeCloseTo(ref.pnl[i]!, 9);
    }
  });

  it('runs 100 strategies on 4 symbols, each with its own P&L that adds up to the account', async () => {
    const symbols = ['AAA/USD', 'BBB/USD', 'CCC/USD', 'DDD/USD'];
    const series = symbols.map((symbol, i) => ({ symbol, bars: randomWalk(1500, 100 + i) }));
    const strategies = Array.from({ length: 100 }, (_, k) => ({
      strategyId: `s${k}`,
      symbol: symbols[k % 4]!,
      strategy: createBuiltinStrategy('sma-cross', { fast: 2 + (k % 7), slow: 12 + (k % 11) }),
      sizing: { kind: 'fixed-quantity', quantity: 1 + (k % 3) } as SizingSpec,
    }));
    const cash = 1_000_000;
    // 100 instances act on the same bar close: above the live default of 50 orders/s account-wide.
    const risk = { maxGlobalOrdersPerWindow: 1000 };
    const run = await runBacktest({ series, strategies, fill: fill({ takerFeeBps: 5 }), cash, risk });
    expect(run.decisions.every((d) => d.outcome === 'sent')).toBe(true);
    expect(run.strategies).toHaveLength(100);
    const total = run.strategies.reduce((s, r) => s + r.netPnl, 0);
    expect(total).toBeCloseTo(run.equity[run.equity.length - 1]! - cash, 6);
    expect(new Set(run.strategies.map((s) => s.netPnl)).size).toBeGreaterThan(50);
    // Each instance trades as it would alone.
    for (const k of [0, 37, 99]) {
      const solo = await runBacktest({
        series: [series[k % 4]!],
        strategies: [strategies[k]!].map((s) => ({
          ...s,
          strategy: createBuiltinStrategy('sma-cross', { fast: 2 + (k % 7), slow: 12 + (k % 11) }),
        })),
        fill: fill({ takerFeeBps: 5 }),
        cash,
        risk,
      });
      expect(solo.strategies[0]!.netPnl).toBeCloseTo(run.strategies[k]!.netPnl, 9);
      expect(solo.trades.length).toBe(run.trades.filter((t) => t.strategyId === `s${k}`).length);
    }
  });

  it('applies the account-wide order rate limit to many instances deciding on the same bar', async () => {
    const series = [{ symbol: 'AAA/USD', bars: barsFromCloses([1, 1, 1, 2, 3]) }];
    const strategies = Array.from({ length: 60 }, (_, k) => ({
      strategyId: `s${k}`,
      symbol: 'AAA/USD',
      strategy: scripted({ enterAt: [2] }),
      sizing: QTY,
    }));
    const run = await runBacktest({ series, strategies, fill: fill(), cash: 1_000_000 });
    expect(run.decisions.filter((d) => d.outcome === 'sent')).toHaveLength(50);
    expect(
      run.decisions
        .filter((d) => d.outcome === 'risk-rejected')
        .every((d) => d.message!.includes('order-rate-global')),
    ).toBe(true);
  });

  it('applies a duplicate-order window per strategy: two strategies may send the same order on the same bar, one strategy not twice', async () => {
    const bars = barsFromCloses([1, 1, 1, 2, 3]);
    const series = [{ symbol: 'AAA/USD', bars }];
    const risk = { duplicateWindowMs: 60_000 };
    const strategies = ['a', 'b'].map((strategyId) => ({
      strategyId,
      symbol: 'AAA/USD',
      strategy: scripted({ enterAt: [2] }),
      sizing: QTY,
    }));
    const pair = await runBacktest({ series, strategies, fill: fill(), cash: 1_000_000, risk });
    expect(pair.decisions.map((d) => [d.strategyId, d.outcome])).toEqual([
      ['a', 'sent'],
      ['b', 'sent'],
    ]);
    const twice = scripted({
      onBar: (ctx) => {
        if (ctx.bar.index !== 2) return;
        ctx.submit({ side: 'buy', type: 'market', quantity: 1, reason: 'first' });
        ctx.submit({ side: 'buy', type: 'market', quantity: 1, reason: 'second' });
      },
    });
    const guarded = await runOne(bars, twice, { risk });
    expect(guarded.decisions.map((d) => d.outcome)).toEqual(['sent', 'risk-rejected']);
    expect(guarded.decisions[1]!.message).toContain('(duplicate-order)');
    // The backtest default window is 0: the guard is off and both orders go out.
    const unguarded = await runOne(bars, twice);
    expect(unguarded.decisions.map((d) => d.outcome)).toEqual(['sent', 'sent']);
  });

  it('sends every order through the risk engine: a breached limit rejects the entry and nothing trades', async () => {
    const run = await runOne(barsFromRows(ROWS), scripted({ enterAt: [2] }), {
      risk: { maxOrderNotional: 50 },
    });
    expect(run.fills).toHaveLength(0);
    expect(run.decisions).toHaveLength(1);
    expect(run.decisions[0]!.outcome).toBe('risk-rejected');
    expect(run.decisions[0]!.message).toContain('order-notional');
  });

  it('carries the explanation id of the prediction behind a model-threshold trade', async () => {
    const bars = barsFromCloses([100, 101, 102, 103, 104, 105, 106, 107]);
    // Test double for the model: p_up high on bars 1-3, low from bar 5.
    const fake: PredictionSource = {
      predict: (symbol, i, closeMs) => ({
        symbol,
        tsMs: closeMs,
        values: { p_up: i >= 1 && i <= 3 ? 0.7 : 0.3 },
        explanationId: `expl-${i}`,
      }),
    };
    const run = await runOne(
      bars,
      createBuiltinStrategy('model-threshold', { enterAbove: 0.6, exitBelow: 0.4 }),
      { predictions: fake },
    );
    expect(run.trades).toHaveLength(1);
    expect(run.trades[0]!.explanationId).toBe('expl-1');
    expect(run.trades[0]!.entryReason).toContain('p_up 0.7000 > 0.6');
    expect(run.decisions.map((d) => d.explanationId)).toEqual(['expl-1', 'expl-4']);
  });

  it('runs a hybrid strategy whose rules read the model, features and the bar', async () => {
    const bars = randomWalk(400, 5);
    const fake: PredictionSource = {
      predict: (symbol, i, closeMs) => ({
        symbol,
        tsMs: closeMs,
        values: { p_up: (i % 20) / 20 },
        explanationId: `e${i}`,
      }),
    };
    const run = await runOne(
      bars,
      createBuiltinStrategy('hybrid', {
        entry: 'model.p_up > 0.8 and close > sma_10',
        exit: 'model.p_up < 0.2',
      }),
      { predictions: fake },
    );
    expect(run.trades.length).toBeGreaterThan(2);
    for (const d of run.decisions.filter((x) => x.role === 'entry'))
      expect(Number(d.explanationId!.slice(1)) % 20).toBeGreaterThan(16);
  });

  it('refuses bad input with clear errors', async () => {
    await expect(runBacktest({ series: [], strategies: [], fill: fill(), cash: 1 })).rejects.toThrow(
      /at least one series/,
    );
    const bars = barsFromCloses([1, 2, 3]);
    bars.time[2] = bars.time[1]!;
    await expect(runOne(bars, scripted({}))).rejects.toThrow(/must increase/);
    expect(() => createBuiltinStrategy('sma-cross', { fast: 30, slow: 10 })).toThrow(
      /fast \(30\) must be less than slow/,
    );
    expect(() => createBuiltinStrategy('sma-cross', { speed: 3 })).toThrow(/no parameter 'speed'/);
    expect(() => createBuiltinStrategy('nope')).toThrow(/Unknown strategy/);
    expect(() => createBuiltinStrategy('rules', { entry: 'close >', exit: 'true' })).toThrow(/column 8/);
  });
});

describeWithData('backtest on real data', () => {
  it('reproduces the plain-loop SMA crossover trades on ORCL 1995-2014 daily bars', async () => {
    const bars = loadSeriesFile(testDataPath('backtrader', 'orcl-1995-2014.txt'));
    const run = await runOne(bars, createBuiltinStrategy('sma-cross', { fast: 10, slow: 30 }), {
      sizing: { kind: 'fixed-quantity', quantity: 10 },
      fill: fill({ takerFeeBps: 10 }),
    });
    const ref = referenceSmaCrossTrades(bars, 10, 30, 10, 0.001);
    const closed = run.trades.filter((t) => !t.isOpen);
    expect(ref.count).toBeGreaterThan(50);
    expect(closed.map((t) => [t.entryPrice, t.exitPrice])).toEqual(
      Array.from({ length: ref.count }, (_, i) => [ref.entryPrice[i], ref.exitPrice[i]]),
    );
    expect(run.metrics.tradeCount).toBe(ref.count);
  });
});
