import { ManualScheduler } from '../main/core/clock.ts';
import { DemoMarket, DEFAULT_DEMO_SYMBOLS, EVENT_TRADE } from '../main/core/data/demo-venue.ts';
import { FeaturePipeline } from '../main/core/features/pipeline.ts';
import { checkCard } from '../main/core/models/card.ts';
import { ModelSession } from '../main/core/models/session.ts';
import { linearOnnx, testCard } from '../main/core/models/test-models.ts';
import { Portfolio } from '../main/core/portfolio/portfolio.ts';
import { RiskEngine } from '../main/core/risk/risk-engine.ts';
import { defaultRiskConfig } from '../main/core/risk/risk-limits.ts';
import { OrderManager } from '../main/core/execution/order-manager.ts';
import { MemoryOrderJournal } from '../main/core/execution/journal.ts';
import { PaperBroker, type BookSource } from '../main/core/execution/paper-broker.ts';
import { demoMarketRules } from '../main/core/execution/trading-service.ts';
import type { BookSnapshot } from '../shared/market.ts';
import type { Order } from '../shared/trading.ts';
import { atMost, percentile, type Benchmark, type Figure } from './types.ts';

const TRADES = 20_000;
const F = 8;

/**
 * Decision latency in-process on the demo venue's BTC/USDT trade stream replayed at 5,000
 * trades/s of market time: trade received -> streaming features (8 return features on tick
 * bars) -> ONNX inference (linear model, CPU, batch 1) -> decision (threshold rule) -> all
 * pre-trade risk checks -> order manager (rounding, id, journal) -> paper broker receives the
 * order. The order journal is the in-memory one: the durable ledger write (one fsynced
 * transaction per intent) is reported separately by trading-ledger.
 */
export const benchmark: Benchmark = {
  name: 'trading-decision',
  description:
    'Decision latency trade -> features -> inference -> decision -> risk -> order at the paper broker, p50/p99 with per-stage breakdown (target p99 <= 1 ms).',
  async run(): Promise<Figure[]> {
    const spec = DEFAULT_DEMO_SYMBOLS[0]!;
    const startMs = Date.UTC(2026, 0, 5, 12);
    const market = new DemoMarket({ seed: 11, startMs, symbols: [spec] });
    const scheduler = new ManualScheduler(startMs);
    let book: BookSnapshot = market.book(0);
    let last = market.quote(0).last;
    const books: BookSource = { book: () => book, lastPrice: () => last, subscribe: () => () => undefined };
    const weights = Array.from({ length: F }, (_, i) => (i % 2 === 0 ? 40 : -25));
    const bytes = linearOnnx(weights, 0);
    const checked = checkCard(testCard('bench-linear', bytes, F));
    const model = await ModelSession.create(bytes, checked.card, [F], { provider: 'cpu' });
    const pipeline = new FeaturePipeline(checked.spec);
    const portfolio = new Portfolio({ startingCash: 10_000_000, currency: 'USDT' });
    const broker = new PaperBroker({ scheduler, books, rules: demoMarketRules([spec]) });
    const brokerSaw = { atMs: 0 };
    const submit = broker.submit.bind(broker);
    broker.submit = (order: Order) => {
      brokerSaw.atMs = performance.now();
      return submit(order);
    };
    const orders = new OrderManager({
      broker,
      journal: new MemoryOrderJournal(),
      portfolio,
      clock: scheduler,
      account: 'bench',
      submitTimeoutMs: 60_000,
    });
    const config = defaultRiskConfig();
    Object.assign(config.global, {
      maxOrdersPerWindow: 1_000_000,
      maxGlobalOrdersPerWindow: 1_000_000,
      duplicateWindowMs: 0,
      maxOpenOrders: 100_000,
    });
    const risk = new RiskEngine(
      {
        clock: scheduler,
        portfolio,
        marketRules: (s) => broker.marketRules(s),
        referencePrice: () => last,
        lastMarketDataMs: () => scheduler.nowMs(),
        openOrderCount: () => 0,
        hasUnknownOrder: () => false,
      },
      config,
    );
    orders.setRiskGate(risk);

    const stages = {
      features: [] as number[],
      inference: [] as number[],
      decision: [] as number[],
      risk: [] as number[],
      order: [] as number[],
    };
    const total: number[] = [];
    const noOrder: number[] = [];
    let sent = 0;
    let refused = 0;
    let side: 'buy' | 'sell' = 'buy';
    let processed = 0;
    let traded = 0;
    const wallStart = performance.now();
    while (processed < TRADES) {
      if (market.step() !== EVENT_TRADE) {
        book = market.book(0);
        continue;
      }
      // Replay at 5,000 trades/s of market time.
      scheduler.advance(Math.max(0, startMs + traded * 0.2 - scheduler.nowMs()));
      traded++;
      const trade = market.trade(0);
      const t0 = performance.now();
      last = trade.price;
      portfolio.mark(spec.symbol, trade.price);
      const input = pipeline.update({
        time: trade.tsMs,
        open: trade.price,
        high: trade.price,
        low: trade.price,
        close: trade.price,
        volume: trade.quantity,
      });
      const t1 = performance.now();
      if (!input) continue;
      processed++;
      const prediction = (await model.runBatch(input, 1))[0]!;
      const t2 = performance.now();
      // Decision: trade when the score is strong, alternating sides so the book stays inside its limits.
      const isTrading = Math.abs(prediction) > 0.002 && processed % 5 === 0;
      const t3 = performance.now();
      if (processed > 500) {
        stages.features.push((t1 - t0) * 1000);
        stages.inference.push((t2 - t1) * 1000);
        stages.decision.push((t3 - t2) * 1000);
      }
      if (!isTrading) {
        if (processed > 500) noOrder.push((t3 - t0) * 1000);
        continue;
      }
      const intent = {
        symbol: spec.symbol,
        side,
        type: 'market' as const,
        quantity: 0.001 + (processed % 7) * 0.00001,
        tif: 'IOC' as const,
        strategyId: 'bench',
        reason: 'score',
      };
      side = side === 'buy' ? 'sell' : 'buy';
      const prepared = orders.prepare(intent);
      const t4a = performance.now();
      const verdict = risk.check(prepared);
      const t4 = performance.now();
      if (!verdict.isApproved) {
        refused++;
        continue;
      }
      brokerSaw.atMs = 0;
      const pending = orders.submit(intent);
      const t5 = brokerSaw.atMs;
      if (processed > 500 && t5 > 0) {
        stages.risk.push((t4 - t4a) * 1000);
        stages.order.push((t5 - t4) * 1000);
        total.push((t5 - t0) * 1000);
        sent++;
      }
      scheduler.advance(0);
      await pending;
    }
    const wallSeconds = (performance.now() - wallStart) / 1000;
    const sortAll = (a: number[]): Float64Array => Float64Array.from(a).sort();
    const totals = sortAll(total);
    const p99 = percentile(totals, 99);
    const figures: Figure[] = [
      {
        name: 'decision latency p50 (trade -> order at broker)',
        value: percentile(totals, 50),
        unit: 'us',
        note: `${sent} orders, ${refused} refused by risk; inference on ${model.provider}`,
      },
      {
        name: 'decision latency p99 (trade -> order at broker)',
        value: p99,
        unit: 'us',
        ...atMost(p99, 1000, 'us'),
      },
      { name: 'trade -> decision p99 (no order)', value: percentile(sortAll(noOrder), 99), unit: 'us' },
      {
        name: 'sustained trades processed',
        value: processed / wallSeconds,
        unit: 'trades/s',
        note: 'replayed at 5,000 trades/s of market time, processed as fast as possible',
      },
    ];
    for (const [stage, values] of Object.entries(stages)) {
      const sorted = sortAll(values);
      figures.push(
        { name: `stage ${stage} p50`, value: percentile(sorted, 50), unit: 'us' },
        { name: `stage ${stage} p99`, value: percentile(sorted, 99), unit: 'us' },
      );
    }
    return figures;
  },
};
