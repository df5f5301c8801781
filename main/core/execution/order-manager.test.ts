import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualScheduler } from '../clock.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { AuditLedger } from '../audit/audit-ledger.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import { defaultRiskConfig } from '../risk/risk-limits.ts';
import { OrderManager } from './order-manager.ts';
import { PaperBroker } from './paper-broker.ts';
import { SqliteOrderJournal } from './sqlite-journal.ts';
import { MemoryOrderJournal } from './journal.ts';
import {
  BINANCE_CLIENT_ORDER_ID_PATTERN,
  type Broker,
  type SubmitOutcome,
  type VenueOrder,
} from './broker.ts';
import { StaticBooks, BTC_RULES } from './test-support/static-books.ts';
import { openTempLedger } from './test-support/ledger.ts';
import { floorToStep, roundToStep, stepDecimals } from './precision.ts';
import type { Order, OrderIntent } from '../../../shared/trading.ts';

const SYMBOL = 'BTC/USDT';

/** Lets promises chained on the scheduler settle: microtasks, then 1 ms of scheduler time, repeated. */
async function drive<T>(scheduler: ManualScheduler, promise: Promise<T>): Promise<T> {
  let isDone = false;
  void promise.then(
    () => (isDone = true),
    () => (isDone = true),
  );
  for (let i = 0; i < 10_000 && !isDone; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    scheduler.advance(1);
  }
  return promise;
}

let env: ReturnType<typeof openTempLedger>;
beforeEach(() => {
  env = openTempLedger('vantage-orders-');
});
afterEach(() => env.cleanup());

function setup(options: { broker?: Broker; latencyMs?: number; withRisk?: boolean } = {}) {
  const scheduler = new ManualScheduler(1_700_000_000_000);
  const books = new StaticBooks();
  books.set(
    SYMBOL,
    [
      [99.99, 1],
      [99.5, 2],
      [99, 5],
    ],
    [
      [100.01, 0.5],
      [100.5, 1],
      [101, 5],
    ],
    100,
  );
  const audit = new AuditLedger({ db: env.ledger.db, clock: scheduler });
  const journal = new SqliteOrderJournal(env.ledger.db, audit);
  const portfolio = new Portfolio({ startingCash: 1_000_000, currency: 'USDT' });
  const paper = new PaperBroker({
    scheduler,
    books,
    rules: [BTC_RULES],
    latency: { delayMs: () => options.latencyMs ?? 3 },
  });
  const broker = options.broker ?? paper;
  const orders = new OrderManager({
    broker,
    journal,
    portfolio,
    clock: scheduler,
    account: 'paper',
    submitTimeoutMs: 1000,
  });
  let risk: RiskEngine | null = null;
  if (options.withRisk) {
    risk = new RiskEngine(
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
  }
  const submit = (intent: Partial<OrderIntent> = {}) =>
    drive(
      scheduler,
      orders.submit({
        symbol: SYMBOL,
        side: 'buy',
        type: 'market',
        quantity: 0.2,
        tif: 'GTC',
        reason: 'test',
        ...intent,
      }),
    );
  return { scheduler, books, audit, journal, portfolio, paper, orders, risk, submit };
}

describe('paper broker fills', () => {
  it('a market order walks the book level by level, paying taker fees', async () => {
    const { submit, portfolio, orders } = setup();
    const result = await submit({ quantity: 1.2 });
    expect(result.status).toBe('sent');
    expect(result.order?.state).toBe('filled');
    const fills = orders.get(result.order!.clientOrderId)!;
    expect(fills.filledQuantity).toBeCloseTo(1.2, 9);
    // 0.5 @ 100.01 + 0.7 @ 100.5
    expect(fills.averageFillPrice).toBeCloseTo((0.5 * 100.01 + 0.7 * 100.5) / 1.2, 9);
    expect(portfolio.feesPaid()).toBeCloseTo((0.5 * 100.01 + 0.7 * 100.5) * 0.0005, 9);
    expect(portfolio.netQuantity(SYMBOL)).toBeCloseTo(1.2, 9);
  });

  it('a limit order takes what crosses, rests the rest, and fills as maker when the market reaches it', async () => {
    const { submit, books, orders, portfolio } = setup();
    const result = await submit({ type: 'limit', price: 100.01, quantity: 0.8 });
    expect(result.order?.state).toBe('partially-filled');
    expect(result.order?.filledQuantity).toBeCloseTo(0.5, 9);
    books.set(SYMBOL, [[99.9, 1]], [[100, 2]], 100);
    const order = orders.get(result.order!.clientOrderId)!;
    expect(order.state).toBe('filled');
    expect(portfolio.feesPaid()).toBeCloseTo(0.5 * 100.01 * 0.0005 + 0.3 * 100.01 * 0.0002, 9);
  });

  it('IOC cancels the unfilled rest, FOK that cannot fill entirely expires, post-only that would cross is rejected', async () => {
    const { submit } = setup();
    const ioc = await submit({ type: 'limit', price: 100.01, quantity: 0.8, tif: 'IOC' });
    expect(ioc.order).toMatchObject({ state: 'canceled', filledQuantity: 0.5 });
    const fok = await submit({ type: 'limit', price: 100.5, quantity: 5, tif: 'FOK' });
    expect(fok.order).toMatchObject({ state: 'expired', filledQuantity: 0 });
    const postOnly = await submit({ type: 'limit', price: 101, quantity: 0.1, isPostOnly: true });
    expect(postOnly.order).toMatchObject({ state: 'rejected' });
    expect(postOnly.order?.message).toMatch(/post-only/);
  });

  it('a sell stop triggers when the last price falls to it and a trailing stop follows the best price', async () => {
    const { submit, books, orders, portfolio } = setup();
    await submit({ quantity: 1 });
    const stop = await submit({ side: 'sell', type: 'stop', stopPrice: 95, quantity: 0.4 });
    const trail = await submit({
      side: 'sell',
      type: 'trailing-stop',
      trailing: { offsetFraction: 0.05 },
      quantity: 0.3,
    });
    expect(stop.order?.state).toBe('accepted');
    books.set(SYMBOL, [[109, 5]], [[110, 5]], 110); // best 110: trailing trigger 104.5
    expect(orders.get(trail.order!.clientOrderId)!.state).toBe('accepted');
    books.set(SYMBOL, [[104, 5]], [[104.2, 5]], 104.2);
    expect(orders.get(trail.order!.clientOrderId)!.state).toBe('filled');
    expect(orders.get(stop.order!.clientOrderId)!.state).toBe('accepted');
    books.set(SYMBOL, [[94.5, 5]], [[95, 5]], 94.9);
    expect(orders.get(stop.order!.clientOrderId)!.state).toBe('filled');
    expect(portfolio.netQuantity(SYMBOL)).toBeCloseTo(0.3, 9);
  });
});

describe('order protocol', () => {
  it('writes the intent and its audit record before the venue sees the order', async () => {
    let seenInLedger: unknown = null;
    const base = setup();
    const spy: Broker = Object.assign(Object.create(base.paper) as PaperBroker, {
      submit: (order: Order): Promise<SubmitOutcome> => {
        seenInLedger = {
          order: env.ledger.db
            .prepare('SELECT state FROM orders WHERE client_order_id = ?')
            .get(order.clientOrderId),
          audit: env.ledger.db
            .prepare(
              "SELECT COUNT(*) AS n FROM audit_log WHERE type = 'order.intent' AND instr(payload, ?) > 0",
            )
            .get(order.clientOrderId),
        };
        return base.paper.submit(order);
      },
    });
    const { submit } = setup({ broker: spy });
    await submit();
    expect(seenInLedger).toEqual({ order: { state: 'pending-submit' }, audit: { n: 1 } });
  });

  it('makes unique client order ids in the venue format and rounds to the market grid', async () => {
    const { submit } = setup();
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await submit({ type: 'limit', side: 'buy', price: 99.123456, quantity: 0.0019999 });
      expect(r.order!.clientOrderId).toMatch(BINANCE_CLIENT_ORDER_ID_PATTERN);
      expect(r.order!.quantity).toBe(0.001);
      expect(r.order!.price).toBe(99.12);
      ids.add(r.order!.clientOrderId);
    }
    expect(ids.size).toBe(20);
  });

  it('a timed-out submit becomes UNKNOWN, is never re-sent, blocks the instrument and resolves by client id', async () => {
    const base = setup();
    let submits = 0;
    const received: Order[] = [];
    const slow: Broker = Object.assign(Object.create(base.paper) as PaperBroker, {
      // The venue takes the order but the reply never comes back.
      submit: (order: Order): Promise<SubmitOutcome> => {
        submits++;
        received.push(order);
        return new Promise<SubmitOutcome>(() => undefined);
      },
      findByClientId: (id: string): Promise<VenueOrder | null> => {
        const o = received.find((r) => r.clientOrderId === id);
        return Promise.resolve(
          o
            ? {
                clientOrderId: id,
                venueOrderId: 'V1',
                symbol: o.symbol,
                side: o.side,
                type: o.type,
                quantity: o.quantity,
                price: o.price,
                state: 'accepted',
                filledQuantity: 0,
                averageFillPrice: 0,
                updatedMs: 0,
              }
            : null,
        );
      },
    });
    const { submit, orders, risk } = setup({ broker: slow, withRisk: true });
    const first = await submit({ type: 'limit', price: 99, quantity: 0.1 });
    expect(first.order?.state).toBe('unknown');
    expect(orders.hasUnknownOrder(SYMBOL)).toBe(true);
    const second = await submit({ type: 'limit', price: 98, quantity: 0.1 });
    expect(second.status).toBe('risk-rejected');
    expect(second.verdict.checks.find((c) => c.check === 'unknown-order')?.isPassed).toBe(false);
    expect(submits).toBe(1);
    expect(await orders.resolveUnknown()).toBe(1);
    expect(orders.get(first.order!.clientOrderId)?.state).toBe('accepted');
    expect(orders.get(first.order!.clientOrderId)?.venueOrderId).toBe('V1');
    expect(orders.hasUnknownOrder(SYMBOL)).toBe(false);
    expect(submits).toBe(1);
    expect(risk).not.toBeNull();
  });

  it('an UNKNOWN order the venue never saw stays UNKNOWN during the grace period, then is closed as rejected, never re-sent', async () => {
    const base = setup();
    let submits = 0;
    const lost: Broker = Object.assign(Object.create(base.paper) as PaperBroker, {
      submit: (): Promise<SubmitOutcome> => {
        submits++;
        return Promise.resolve({ kind: 'unknown', reason: 'HTTP 503' });
      },
      findByClientId: (): Promise<VenueOrder | null> => Promise.resolve(null),
    });
    const { submit, orders, scheduler } = setup({ broker: lost });
    const r = await submit();
    expect(r.order?.state).toBe('unknown');
    await drive(scheduler, orders.resolveUnknown());
    expect(orders.get(r.order!.clientOrderId)?.state).toBe('unknown');
    scheduler.advance(30_000);
    await drive(scheduler, orders.resolveUnknown());
    expect(orders.get(r.order!.clientOrderId)).toMatchObject({
      state: 'rejected',
      message: expect.stringMatching(/never received/) as unknown,
    });
    expect(orders.hasUnknownOrder(SYMBOL)).toBe(false);
    expect(submits).toBe(1);
  });

  it('a submit that throws is UNKNOWN, not rejected', async () => {
    const base = setup();
    const failing: Broker = Object.assign(Object.create(base.paper) as PaperBroker, {
      submit: (): Promise<SubmitOutcome> => Promise.reject(new Error('ECONNRESET')),
    });
    const { submit } = setup({ broker: failing });
    const r = await submit();
    expect(r.order?.state).toBe('unknown');
    expect(r.order?.message).toMatch(/ECONNRESET/);
  });

  it('refuses and logs invalid transitions', async () => {
    const warnings: string[] = [];
    const { paper, scheduler, journal, portfolio, orders: other } = setup();
    other.close();
    const orders = new OrderManager({
      broker: paper,
      journal,
      portfolio,
      clock: scheduler,
      account: 'paper',
      log: { warn: (_o, m) => warnings.push(m), info: () => undefined },
    });
    const r = await drive(
      scheduler,
      orders.submit({ symbol: SYMBOL, side: 'buy', type: 'market', quantity: 0.1, tif: 'GTC', reason: 't' }),
    );
    expect(r.order?.state).toBe('filled');
    orders.handleVenueUpdate({
      clientOrderId: r.order!.clientOrderId,
      venueOrderId: 'x',
      symbol: SYMBOL,
      side: 'buy',
      type: 'market',
      quantity: 0.1,
      price: null,
      state: 'canceled',
      filledQuantity: 0,
      averageFillPrice: 0,
      updatedMs: 0,
    });
    expect(orders.get(r.order!.clientOrderId)?.state).toBe('filled');
    expect(orders.refusedTransitions).toBe(1);
    expect(warnings).toContain('invalid order transition refused');
  });

  it('cancels a resting order and refuses to cancel a filled one', async () => {
    const { submit, orders, scheduler } = setup();
    const resting = await submit({ type: 'limit', price: 95, quantity: 0.1 });
    const canceled = await drive(scheduler, orders.cancel(resting.order!.clientOrderId));
    expect(canceled.state).toBe('canceled');
    const filled = await submit();
    await expect(orders.cancel(filled.order!.clientOrderId)).rejects.toMatchObject({
      code: 'ORDER_STATE_INVALID',
    });
  });

  it('reconciles at start-up: orders by client id, fills while offline applied once, unknown venue orders flagged EXTERNAL', async () => {
    const first = setup();
    const resting = await first.submit({ type: 'limit', price: 99, quantity: 0.3 });
    first.orders.close();
    // While we are "offline" the book moves through our order and someone places an order by hand.
    first.books.set(SYMBOL, [[98, 1]], [[98.5, 1]], 98.5);
    const manual = await drive(
      first.scheduler,
      first.paper.submit({
        ...resting.order!,
        clientOrderId: 'web_manual_1',
        price: 90,
        state: 'pending-submit',
        filledQuantity: 0,
      }),
    );
    expect(manual.kind).toBe('accepted');
    const portfolio = new Portfolio({ startingCash: 1_000_000, currency: 'USDT' });
    for (const f of first.journal.loadFills()) portfolio.applyFill(f);
    const restarted = new OrderManager({
      broker: first.paper,
      journal: first.journal,
      portfolio,
      clock: first.scheduler,
      account: 'paper',
    });
    const summary = await drive(first.scheduler, restarted.reconcile());
    expect(summary).toEqual({ resolved: 1, external: 1, fillsApplied: 1 });
    expect(restarted.get(resting.order!.clientOrderId)?.state).toBe('filled');
    expect(restarted.get('web_manual_1')).toMatchObject({ isExternal: true, state: 'accepted' });
    expect(portfolio.netQuantity(SYMBOL)).toBeCloseTo(0.3, 9);
    const again = await drive(first.scheduler, restarted.reconcile());
    expect(again.fillsApplied).toBe(0);
    expect(portfolio.netQuantity(SYMBOL)).toBeCloseTo(0.3, 9);
  });

  it('works the same on the in-memory journal used by backtests', async () => {
    const scheduler = new ManualScheduler(0);
    const books = new StaticBooks();
    books.set(SYMBOL, [[99, 10]], [[100, 10]], 100);
    const portfolio = new Portfolio({ startingCash: 10_000, currency: 'USDT' });
    const broker = new PaperBroker({ scheduler, books, rules: [BTC_RULES] });
    const orders = new OrderManager({
      broker,
      journal: new MemoryOrderJournal(),
      portfolio,
      clock: scheduler,
      account: 'backtest',
    });
    const r = await drive(
      scheduler,
      orders.submit({ symbol: SYMBOL, side: 'buy', type: 'market', quantity: 1, tif: 'IOC', reason: 'bt' }),
    );
    expect(r.order?.state).toBe('filled');
    expect(portfolio.netQuantity(SYMBOL)).toBe(1);
  });

  it('gives listeners copies, and borrowing listeners the record itself; ended orders stay listed and findable', async () => {
    const { submit, orders } = setup();
    const copies: Order[] = [];
    const borrowed: Order[] = [];
    const fillCopies: (Order | null)[] = [];
    const borrowedAtFill: (Order | null)[] = [];
    const stopCopies = orders.onOrder((o) => copies.push(o));
    orders.onOrder((o) => borrowed.push(o), { isBorrowing: true });
    orders.onFill((_f, o) => fillCopies.push(o));
    orders.onFill((_f, o) => borrowedAtFill.push(o), { isBorrowing: true });
    const first = await submit();
    expect(first.order!.state).toBe('filled');
    expect(copies).toHaveLength(borrowed.length);
    expect(copies[0]!.state).toBe('pending-submit');
    expect(copies.at(-1)!.state).toBe('filled');
    // Every borrowed event is the one record, now filled; every copy is its own object.
    expect(new Set(borrowed).size).toBe(1);
    expect(borrowed[0]!.state).toBe('filled');
    expect(new Set(copies).size).toBe(copies.length);
    expect(borrowedAtFill[0]).toBe(borrowed[0]);
    expect(fillCopies[0]).not.toBe(borrowed[0]);
    expect(fillCopies[0]).toEqual(borrowed[0]);
    // A copy is the listener's own: writing to it changes nothing in the order manager.
    copies[0]!.state = 'canceled';
    expect(orders.get(first.order!.clientOrderId)!.state).toBe('filled');
    stopCopies();
    const count = copies.length;
    const second = await submit({ type: 'limit', price: 95, quantity: 0.1 });
    expect(copies).toHaveLength(count);
    expect(orders.allOrders().map((o) => o.clientOrderId)).toEqual([
      first.order!.clientOrderId,
      second.order!.clientOrderId,
    ]);
    expect(orders.workingOrders().map((o) => o.clientOrderId)).toEqual([second.order!.clientOrderId]);
    expect(orders.openOrderCount()).toBe(1);
    expect(orders.get(first.order!.clientOrderId)!.state).toBe('filled');
  });

  it('rejects intents that cannot be orders with a message naming the problem', () => {
    const { orders } = setup();
    const bad: Partial<OrderIntent>[] = [
      { quantity: NaN },
      { quantity: -1 },
      { type: 'limit' },
      { type: 'stop' },
      { type: 'market', isPostOnly: true },
      { type: 'trailing-stop' },
      { quantity: 0.0001 },
    ];
    for (const b of bad) {
      expect(() =>
        orders.prepare({
          symbol: SYMBOL,
          side: 'buy',
          type: 'market',
          quantity: 1,
          tif: 'GTC',
          reason: 't',
          ...b,
        }),
      ).toThrow(/Order not sent/);
    }
  });
});

describe('precision', () => {
  it('rounds to steps without float residue', () => {
    expect(stepDecimals(0.001)).toBe(3);
    expect(stepDecimals(1e-8)).toBe(8);
    expect(stepDecimals(5)).toBe(0);
    expect(floorToStep(0.3, 0.1)).toBe(0.3);
    expect(floorToStep(0.29999, 0.1)).toBe(0.2);
    expect(roundToStep(64000.005, 0.01)).toBe(64000.01);
    expect(floorToStep(1.23456789, 0.00001)).toBe(1.23456);
  });
});
