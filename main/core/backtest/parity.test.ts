import { expect, it } from 'vitest';
import { candlesToColumns, type Candle } from '../../../shared/market.ts';
import { ManualScheduler } from '../clock.ts';
import { BarAggregator } from '../data/bar-aggregator.ts';
import { DEFAULT_DEMO_SYMBOLS, DemoVenue } from '../data/demo-venue.ts';
import { FeedBookSource } from '../execution/feed-book-source.ts';
import { MemoryOrderJournal } from '../execution/journal.ts';
import { OrderManager } from '../execution/order-manager.ts';
import { PaperBroker } from '../execution/paper-broker.ts';
import { demoMarketRules } from '../execution/trading-service.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import { StrategyEngine, type DecisionRecord } from '../strategy/engine.ts';
import { createBuiltinStrategy } from '../strategy/builtins/index.ts';
import { fillConfigSchema } from '../../../shared/contract/backtest.ts';
import { BACKTEST_RISK_LIMITS, runBacktest } from './backtester.ts';

const SYMBOL = 'BTC/USDT';
const START_MS = Date.UTC(2026, 0, 5, 9, 0, 0);
const MINUTES = 150;
const SIZING = { kind: 'fixed-quantity', quantity: 0.01 } as const;

/** A paper session on the demo venue: demo trades -> 1m bars -> strategy -> risk -> order manager -> paper broker (book fills). */
async function paperSession(): Promise<{
  bars: Candle[];
  decisions: DecisionRecord[];
  orders: ReturnType<OrderManager['allOrders']>;
}> {
  const scheduler = new ManualScheduler(START_MS);
  const venue = new DemoVenue({
    scheduler,
    seed: 11,
    symbols: [DEFAULT_DEMO_SYMBOLS.find((s) => s.symbol === SYMBOL)!],
  });
  const books = new FeedBookSource(venue, scheduler);
  const broker = new PaperBroker({ scheduler, books, rules: demoMarketRules(), quoteCurrency: 'USDT' });
  const portfolio = new Portfolio({ startingCash: 1_000_000, currency: 'USDT' });
  const orderManager = new OrderManager({
    broker,
    journal: new MemoryOrderJournal(),
    portfolio,
    clock: scheduler,
    account: 'paper',
  });
  const risk = new RiskEngine(
    {
      clock: scheduler,
      portfolio,
      marketRules: (s) => broker.marketRules(s),
      referencePrice: (s) => books.referencePrice(s),
      lastMarketDataMs: (s) => books.lastUpdateMs(s),
      openOrderCount: (id) => orderManager.openOrderCount(id),
      hasUnknownOrder: (s) => orderManager.hasUnknownOrder(s),
    },
    { global: BACKTEST_RISK_LIMITS, strategies: {}, symbols: {} },
  );
  orderManager.setRiskGate(risk);
  const engine = new StrategyEngine({ orderManager, portfolio, clock: scheduler });
  engine.add({
    strategyId: 'sma',
    symbol: SYMBOL,
    strategy: createBuiltinStrategy('sma-cross', { fast: 3, slow: 8 }),
    sizing: SIZING,
  });
  engine.start();
  const bars: Candle[] = [];
  let chain = Promise.resolve();
  const aggregator = new BarAggregator({
    timeframes: ['1m'],
    onBar: ({ bar }) => {
      bars.push(bar);
      portfolio.mark(SYMBOL, bar.close);
      engine.onBar(SYMBOL, bar.time, bar.time + 60_000, bar.open, bar.high, bar.low, bar.close, bar.volume);
      chain = chain.then(() => engine.drain());
    },
  });
  // The paper venue's view of the book (and the risk engine's reference price and feed age).
  books.subscribe(SYMBOL, () => undefined);
  venue.subscribe(SYMBOL, (event) => {
    if (event.kind === 'trade') aggregator.addTrade(event.trade);
  });
  venue.start();
  for (let second = 0; second < MINUTES * 60; second++) {
    scheduler.advance(1000);
    // Let the order manager's promises (submit -> paper venue reply) settle between steps.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await chain;
  venue.stop();
  engine.stop();
  return { bars, decisions: engine.decisions, orders: orderManager.allOrders() };
}

it('replays a recorded paper session on the demo venue through the backtester with the same decisions and orders', async () => {
  const paper = await paperSession();
  expect(paper.bars.length).toBeGreaterThanOrEqual(MINUTES - 2);
  expect(paper.decisions.length).toBeGreaterThan(6);
  expect(paper.decisions.every((d) => d.outcome === 'sent')).toBe(true);

  const bars = candlesToColumns(paper.bars);
  const replay = await runBacktest({
    series: [{ symbol: SYMBOL, bars, timeframeMs: 60_000 }],
    strategies: [
      {
        strategyId: 'sma',
        symbol: SYMBOL,
        strategy: createBuiltinStrategy('sma-cross', { fast: 3, slow: 8 }),
        sizing: SIZING,
      },
    ],
    fill: fillConfigSchema.parse({ tickSize: 0.01, quantityStep: 0.00001 }),
    cash: 1_000_000,
    currency: 'USDT',
  });

  // A decision belongs to the last bar that closed before it (live: when the bar's closing trade arrived).
  const closes = paper.bars.map((b) => b.time + 60_000);
  const barOf = (tsMs: number): number => {
    let k = -1;
    for (let i = 0; i < closes.length; i++) if (closes[i]! <= tsMs) k = i;
    return k;
  };
  const shape = (d: DecisionRecord, bar: number) => ({
    bar,
    role: d.role,
    side: d.side,
    type: d.type,
    quantity: d.quantity,
    reason: d.reason,
    outcome: d.outcome,
  });
  expect(replay.decisions.map((d) => shape(d, barOf(d.tsMs)))).toEqual(
    paper.decisions.map((d) => shape(d, barOf(d.tsMs))),
  );
  const orderShape = (o: (typeof paper.orders)[number]) => ({
    side: o.side,
    type: o.type,
    quantity: o.quantity,
    reason: o.reason,
    strategyId: o.strategyId,
  });
  expect(replay.orders.map(orderShape)).toEqual(paper.orders.map(orderShape));
  // Both filled every order they sent (prices differ: the paper venue walks the book, the backtest uses the next open).
  expect(paper.orders.filter((o) => o.state !== 'filled').length).toBeLessThanOrEqual(1);
  expect(replay.orders.filter((o) => o.state !== 'filled').length).toBeLessThanOrEqual(1);
}, 120_000);
