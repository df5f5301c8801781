import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../clock.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { OrderManager } from '../execution/order-manager.ts';
import { MemoryOrderJournal } from '../execution/journal.ts';
import { PaperBroker } from '../execution/paper-broker.ts';
import { StaticBooks, BTC_RULES } from '../execution/test-support/static-books.ts';
import { RiskEngine } from './risk-engine.ts';
import { RiskMonitor } from './risk-monitor.ts';
import { defaultRiskConfig } from './risk-limits.ts';
import type { Alert } from '../../../shared/contract/trading.ts';
import type { OrderIntent } from '../../../shared/trading.ts';

const SYMBOL = 'BTC/USDT';

async function drive<T>(scheduler: ManualScheduler, promise: Promise<T>): Promise<T> {
  let isDone = false;
  void promise.then(
    () => (isDone = true),
    () => (isDone = true),
  );
  for (let i = 0; i < 1000 && !isDone; i++) {
    await new Promise<void>((r) => setImmediate(r));
    scheduler.advance(1);
  }
  return promise;
}

function setup() {
  const scheduler = new ManualScheduler(Date.UTC(2026, 0, 5, 12));
  const books = new StaticBooks();
  books.set(SYMBOL, [[99.9, 1000]], [[100, 1000]], 100);
  const portfolio = new Portfolio({ startingCash: 10_000, currency: 'USDT' });
  const journal = new MemoryOrderJournal({ isKeepingAudit: true });
  const broker = new PaperBroker({ scheduler, books, rules: [BTC_RULES] });
  const orders = new OrderManager({ broker, journal, portfolio, clock: scheduler, account: 'paper' });
  const risk = new RiskEngine(
    {
      clock: scheduler,
      portfolio,
      marketRules: () => BTC_RULES,
      referencePrice: (s) => books.referencePrice(s),
      lastMarketDataMs: () => scheduler.nowMs(),
      openOrderCount: (id) => orders.openOrderCount(id),
      hasUnknownOrder: (s) => orders.hasUnknownOrder(s),
    },
    defaultRiskConfig(),
  );
  orders.setRiskGate(risk);
  const alerts: Alert[] = [];
  const halts: string[] = [];
  const monitor = new RiskMonitor({
    clock: scheduler,
    risk,
    portfolio,
    orders,
    journal,
    raise: (a) => alerts.push(a),
    onBreachHalt: (kind) => halts.push(kind),
  });
  const buy = (quantity: number, extra: Partial<OrderIntent> = {}) =>
    drive(
      scheduler,
      orders.submit({
        symbol: SYMBOL,
        side: 'buy',
        type: 'market',
        quantity,
        tif: 'IOC',
        reason: 't',
        strategyId: 's1',
        ...extra,
      }),
    );
  return { scheduler, books, portfolio, journal, orders, risk, monitor, alerts, halts, buy };
}

describe('in-trade monitor', () => {
  it('a price move that pushes a position over its limit makes the symbol reduce-only with an alert, and lifts it when back inside', async () => {
    const { buy, monitor, risk, alerts, books } = setup();
    expect((await buy(9)).status).toBe('sent'); // 900 of 10,000 equity: 9%
    monitor.onPrice(SYMBOL, 130); // 1,170 of 10,270: 11.4%
    expect(risk.reduceOnlySymbols()).toEqual([SYMBOL]);
    expect(alerts.at(-1)).toMatchObject({ severity: 'warning', kind: 'position-limit', symbol: SYMBOL });
    books.set(SYMBOL, [[129.9, 1000]], [[130, 1000]], 130);
    const more = await buy(1);
    expect(more.status).toBe('risk-rejected');
    expect(more.verdict.checks.find((c) => c.check === 'reduce-only')?.isPassed).toBe(false);
    monitor.onPrice(SYMBOL, 105);
    expect(risk.reduceOnlySymbols()).toEqual([]);
  });

  it('the daily loss limit halts new risk and calls the kill-switch hook once', async () => {
    const { buy, monitor, risk, halts, alerts } = setup();
    await buy(9);
    monitor.onPrice(SYMBOL, 40); // loses 540 = 5.4% of start-of-day equity
    monitor.onPrice(SYMBOL, 39);
    expect(risk.isHalted('daily-loss')).toBe(true);
    expect(halts).toEqual(['daily-loss']);
    expect(alerts.some((a) => a.severity === 'critical' && a.kind === 'daily-loss')).toBe(true);
  });

  it('enforces a stop-loss with a reduce-only market order when the venue has no native stop', async () => {
    const { buy, monitor, portfolio, journal, scheduler, books } = setup();
    await buy(5);
    monitor.attachExit({ symbol: SYMBOL, strategyId: 's1', stopLossPrice: 95 });
    monitor.onPrice(SYMBOL, 97);
    expect(portfolio.netQuantity(SYMBOL)).toBe(5);
    books.set(SYMBOL, [[94.5, 1000]], [[94.6, 1000]], 94.5);
    monitor.onPrice(SYMBOL, 94.5);
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((r) => setImmediate(r));
      scheduler.advance(1);
    }
    expect(portfolio.netQuantity(SYMBOL)).toBe(0);
    const exits = journal.auditRecords.filter(
      (r) => r.type === 'order.intent' && JSON.stringify(r.payload).includes('"reason":"stop-loss"'),
    );
    expect(exits).toHaveLength(1);
    expect(JSON.stringify(exits[0]!.payload)).toContain('"isReduceOnly":true');
  });

  it('a trailing exit follows the best price', async () => {
    const { buy, monitor, portfolio, scheduler, books } = setup();
    await buy(5);
    monitor.attachExit({ symbol: SYMBOL, strategyId: 's1', trailingFraction: 0.05 });
    monitor.onPrice(SYMBOL, 110);
    monitor.onPrice(SYMBOL, 105); // 4.5% off the best: holds
    expect(portfolio.netQuantity(SYMBOL)).toBe(5);
    books.set(SYMBOL, [[104, 1000]], [[104.1, 1000]], 104);
    monitor.onPrice(SYMBOL, 104); // 5.5% off 110: exits
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((r) => setImmediate(r));
      scheduler.advance(1);
    }
    expect(portfolio.netQuantity(SYMBOL)).toBe(0);
  });
});
