import { ManualScheduler } from '../main/core/clock.ts';
import { Portfolio } from '../main/core/portfolio/portfolio.ts';
import { RiskEngine } from '../main/core/risk/risk-engine.ts';
import { defaultRiskConfig } from '../main/core/risk/risk-limits.ts';
import type { MarketRules, Order } from '../shared/trading.ts';
import { atMost, percentile, type Benchmark, type Figure } from './types.ts';

const CHECKS = 200_000;
const RULES: MarketRules = {
  symbol: 'BTC/USDT',
  base: 'BTC',
  quote: 'USDT',
  tickSize: 0.01,
  quantityStep: 0.00001,
  minQuantity: 0.00001,
  maxQuantity: 9000,
  minNotional: 5,
  makerFeeRate: 0.0002,
  takerFeeRate: 0.0005,
};

/**
 * Pre-trade check of every rule (21 checks incl. rate windows with 4,096-order rings, duplicate
 * guard, exposure across 20 open positions) for one order, timed one call at a time.
 */
export const benchmark: Benchmark = {
  name: 'trading-risk',
  description: 'Risk engine: pre-trade check of all rules, per-order latency p50/p99 (target p99 <= 20 us).',
  run(): Promise<Figure[]> {
    const scheduler = new ManualScheduler(Date.UTC(2026, 0, 5, 12));
    const portfolio = new Portfolio({ startingCash: 1_000_000, currency: 'USDT' });
    for (let i = 0; i < 20; i++) {
      const symbol = i === 0 ? 'BTC/USDT' : `S${i}/USDT`;
      portfolio.applyFill({
        fillId: `f${i}`,
        clientOrderId: 'c',
        venueOrderId: null,
        symbol,
        side: i % 2 ? 'sell' : 'buy',
        price: i === 0 ? 64_000 : 100 + i,
        quantity: i === 0 ? 0.5 : 10,
        fee: 0,
        feeCurrency: 'USDT',
        tsMs: 0,
        isMaker: false,
        strategyId: `s${i % 3}`,
      });
      portfolio.mark(symbol, i === 0 ? 64_000 : 101 + i);
    }
    const config = defaultRiskConfig();
    config.global.maxOrdersPerWindow = 1_000_000;
    config.global.maxGlobalOrdersPerWindow = 1_000_000;
    config.global.allowedSymbols = Array.from({ length: 50 }, (_, i) =>
      i === 0 ? 'BTC/USDT' : `S${i}/USDT`,
    );
    const risk = new RiskEngine(
      {
        clock: scheduler,
        portfolio,
        marketRules: () => RULES,
        referencePrice: () => 64_000,
        lastMarketDataMs: () => scheduler.nowMs(),
        openOrderCount: () => 12,
        hasUnknownOrder: () => false,
      },
      config,
    );
    const order: Order = {
      clientOrderId: 'c',
      venueOrderId: null,
      venue: 'paper',
      account: 'paper',
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      quantity: 0.01,
      price: 64_010,
      stopPrice: null,
      trailing: null,
      tif: 'GTC',
      isPostOnly: false,
      isReduceOnly: false,
      strategyId: 's1',
      reason: 'bench',
      state: 'new',
      filledQuantity: 0,
      averageFillPrice: 0,
      createdMs: 0,
      updatedMs: 0,
      message: null,
      isExternal: false,
    };
    // Fill the rate rings and the duplicate window as a busy session would.
    for (let i = 0; i < 5000; i++) {
      risk.recordSubmitted({ ...order, quantity: 0.01 + i * 0.00001 });
      scheduler.advance(1);
    }
    let approved = 0;
    for (let i = 0; i < 20_000; i++) if (risk.check(order).isApproved) approved++; // warm-up
    const samples = new Float64Array(CHECKS);
    for (let i = 0; i < CHECKS; i++) {
      const t0 = performance.now();
      const verdict = risk.check(order);
      samples[i] = (performance.now() - t0) * 1000;
      if (verdict.isApproved) approved++;
    }
    samples.sort();
    const p99 = percentile(samples, 99);
    return Promise.resolve([
      { name: 'pre-trade check p50', value: percentile(samples, 50), unit: 'us' },
      {
        name: 'pre-trade check p99',
        value: p99,
        unit: 'us',
        ...atMost(p99, 20, 'us'),
        note: `${CHECKS} checks of 21 rules; ${approved > 0 ? 'approved' : 'REJECTED'} orders`,
      },
      { name: 'pre-trade check p99.9', value: percentile(samples, 99.9), unit: 'us' },
    ]);
  },
};
