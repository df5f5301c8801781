import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ManualScheduler } from '../clock.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { RiskEngine, type RiskInputs } from './risk-engine.ts';
import { defaultRiskConfig, validateRiskConfig, DEFAULT_RISK_LIMITS } from './risk-limits.ts';
import type { RiskConfig } from '../../../shared/contract/trading.ts';
import type { MarketRules, Order } from '../../../shared/trading.ts';

const RULES: MarketRules = {
  symbol: 'BTC/USDT',
  base: 'BTC',
  quote: 'USDT',
  tickSize: 0.01,
  quantityStep: 0.001,
  minQuantity: 0.001,
  maxQuantity: 100,
  minNotional: 5,
  makerFeeRate: 0,
  takerFeeRate: 0,
};
const NOW = Date.UTC(2026, 0, 5, 12, 0, 0);

function order(partial: Partial<Order> = {}): Order {
  return {
    clientOrderId: 'c',
    venueOrderId: null,
    venue: 'paper',
    account: 'paper',
    symbol: 'BTC/USDT',
    side: 'buy',
    type: 'limit',
    quantity: 0.1,
    price: 100,
    stopPrice: null,
    trailing: null,
    tif: 'GTC',
    isPostOnly: false,
    isReduceOnly: false,
    strategyId: 's1',
    reason: 't',
    state: 'new',
    filledQuantity: 0,
    averageFillPrice: 0,
    createdMs: 0,
    updatedMs: 0,
    message: null,
    isExternal: false,
    ...partial,
  };
}

function setup(
  options: {
    config?: RiskConfig;
    reference?: number;
    cash?: number;
    openOrders?: number;
    hasUnknown?: boolean;
    lastDataMs?: number | null;
  } = {},
) {
  const scheduler = new ManualScheduler(NOW);
  const portfolio = new Portfolio({ startingCash: options.cash ?? 10_000, currency: 'USDT' });
  const inputs: RiskInputs = {
    clock: scheduler,
    portfolio,
    marketRules: () => RULES,
    referencePrice: () => options.reference ?? 100,
    lastMarketDataMs: () => (options.lastDataMs === undefined ? scheduler.nowMs() : options.lastDataMs),
    openOrderCount: () => options.openOrders ?? 0,
    hasUnknownOrder: () => options.hasUnknown ?? false,
  };
  const risk = new RiskEngine(inputs, options.config ?? defaultRiskConfig());
  return { scheduler, portfolio, risk };
}

function failed(risk: RiskEngine, o: Order): string[] {
  return risk
    .check(o)
    .checks.filter((c) => !c.isPassed)
    .map((c) => c.check);
}

describe('pre-trade checks', () => {
  it('passes a small order inside every limit and reports every check with value and limit', () => {
    const { risk } = setup();
    const verdict = risk.check(order());
    expect(verdict.isApproved).toBe(true);
    expect(verdict.reason).toBeNull();
    const names = verdict.checks.map((c) => c.check);
    for (const name of [
      'kill-switch',
      'daily-loss',
      'drawdown',
      'stale-feed',
      'unknown-order',
      'allowed-symbol',
      'trading-hours',
      'reduce-only',
      'venue-min-quantity',
      'venue-max-quantity',
      'venue-min-notional',
      'venue-precision',
      'price-band',
      'order-notional',
      'order-pct-available',
      'position-pct-equity',
      'gross-leverage',
      'open-orders',
      'order-rate-strategy',
      'order-rate-global',
      'duplicate-order',
    ]) {
      expect(names).toContain(name);
    }
    const position = verdict.checks.find((c) => c.check === 'position-pct-equity')!;
    expect(position.value).toBeCloseTo(0.1, 9);
    expect(position.limit).toBe(10);
  });

  it('rejects a limit price more than 2% from the reference (fat finger) with the numbers in the message', () => {
    const { risk } = setup();
    const verdict = risk.check(order({ price: 102.5 }));
    expect(verdict.isApproved).toBe(false);
    expect(verdict.reason).toMatch(/2\.50% from the reference 100 \(band 2%\)/);
    expect(risk.check(order({ price: 101.99 })).isApproved).toBe(true);
  });

  it('enforces position % of equity, gross leverage, order notional and % of available balance', () => {
    const { risk } = setup();
    expect(failed(risk, order({ quantity: 11 }))).toEqual(expect.arrayContaining(['position-pct-equity']));
    const config = defaultRiskConfig();
    config.global.maxOrderNotional = 500;
    const small = setup({ config });
    expect(failed(small.risk, order({ quantity: 6 }))).toContain('order-notional');
    const poor = setup({ cash: 100 });
    expect(failed(poor.risk, order({ quantity: 0.6 }))).toContain('order-pct-available');
  });

  it('enforces venue limits: minimum quantity and notional, precision', () => {
    const { risk } = setup();
    expect(failed(risk, order({ quantity: 0.0005 }))).toEqual(
      expect.arrayContaining(['venue-min-quantity', 'venue-precision']),
    );
    expect(failed(risk, order({ quantity: 0.01 }))).toContain('venue-min-notional');
    expect(failed(risk, order({ price: 100.005 }))).toContain('venue-precision');
  });

  it('throttles orders per strategy and globally over a sliding window on the injected clock', () => {
    const config = defaultRiskConfig();
    config.global.maxOrdersPerWindow = 3;
    config.global.maxGlobalOrdersPerWindow = 4;
    config.global.duplicateWindowMs = 0;
    const { risk, scheduler } = setup({ config });
    for (let i = 0; i < 3; i++) {
      const o = order({ quantity: 0.1 + i * 0.001 });
      expect(risk.check(o).isApproved).toBe(true);
      risk.recordSubmitted(o);
    }
    expect(failed(risk, order({ quantity: 0.2 }))).toEqual(['order-rate-strategy']);
    const other = order({ strategyId: 's2', quantity: 0.3 });
    expect(risk.check(other).isApproved).toBe(true);
    risk.recordSubmitted(other);
    expect(failed(risk, order({ strategyId: 's3', quantity: 0.4 }))).toEqual(['order-rate-global']);
    scheduler.advance(1001);
    expect(risk.check(order({ quantity: 0.2 })).isApproved).toBe(true);
  });

  it('refuses the same symbol/side/quantity again within the duplicate window', () => {
    const { risk, scheduler } = setup();
    risk.recordSubmitted(order());
    expect(failed(risk, order())).toEqual(['duplicate-order']);
    expect(
      risk.check(order({ side: 'sell' })).checks.find((c) => c.check === 'duplicate-order')?.isPassed,
    ).toBe(true);
    scheduler.advance(DEFAULT_RISK_LIMITS.duplicateWindowMs + 1);
    expect(risk.check(order()).isApproved).toBe(true);
  });

  it("does not take a position's stop-loss and take-profit (same side and size) for duplicates, nor a limit ladder", () => {
    const { risk } = setup();
    const isDuplicate = (o: Order) =>
      risk.check(o).checks.find((c) => c.check === 'duplicate-order')?.isPassed === false;
    const stopLoss = order({ side: 'sell', type: 'stop', price: null, stopPrice: 95, isReduceOnly: true });
    risk.recordSubmitted(stopLoss);
    expect(
      isDuplicate(
        order({ side: 'sell', type: 'take-profit', price: null, stopPrice: 110, isReduceOnly: true }),
      ),
    ).toBe(false);
    expect(
      isDuplicate(order({ side: 'sell', type: 'limit', price: 110, stopPrice: null, isReduceOnly: true })),
    ).toBe(false);
    expect(
      isDuplicate(order({ side: 'sell', type: 'stop', price: null, stopPrice: 94, isReduceOnly: true })),
    ).toBe(false);
    expect(isDuplicate(stopLoss)).toBe(true);
    risk.recordSubmitted(order({ price: 100 }));
    expect(isDuplicate(order({ price: 99 }))).toBe(false);
    expect(isDuplicate(order({ price: 100 }))).toBe(true);
  });

  it('counts duplicates per strategy: the same order from another strategy or the manual ticket is not a duplicate', () => {
    const { risk } = setup();
    risk.recordSubmitted(order({ strategyId: 's1' }));
    expect(risk.check(order({ strategyId: 's2' })).isApproved).toBe(true);
    expect(risk.check(order({ strategyId: 'manual' })).isApproved).toBe(true);
    risk.recordSubmitted(order({ strategyId: 'manual' }));
    expect(failed(risk, order({ strategyId: 'manual' }))).toEqual(['duplicate-order']);
    const verdict = risk.check(order({ strategyId: 's1' }));
    expect(verdict.reason).toBe(
      'Order not sent: s1 sent an identical limit buy 0.1 BTC/USDT order 0 ms ago (window 2000 ms) (duplicate-order).',
    );
    // Another symbol or quantity from the same strategy is a different order.
    expect(risk.check(order({ strategyId: 's1', quantity: 0.101 })).isApproved).toBe(true);
  });

  it('refuses a duplicate for exactly the configured window: sent 1,999 ms ago refused, 2,000 ms ago allowed', () => {
    const { risk, scheduler } = setup();
    risk.recordSubmitted(order());
    scheduler.advance(DEFAULT_RISK_LIMITS.duplicateWindowMs - 1);
    expect(failed(risk, order())).toEqual(['duplicate-order']);
    scheduler.advance(1);
    expect(risk.check(order()).isApproved).toBe(true);
  });

  it('turns the duplicate guard off with a window of 0, even for the same strategy in the same millisecond', () => {
    const config = defaultRiskConfig();
    config.global.duplicateWindowMs = 0;
    const { risk } = setup({ config });
    risk.recordSubmitted(order());
    const verdict = risk.check(order(), true);
    expect(verdict.isApproved).toBe(true);
    expect(verdict.checks.find((c) => c.check === 'duplicate-order')).toMatchObject({
      isPassed: true,
      value: 0,
      message: 'duplicate guard off (window 0 ms)',
    });
    // A window set per strategy applies to that strategy only.
    const perStrategy = defaultRiskConfig();
    perStrategy.strategies['fast'] = { duplicateWindowMs: 0 };
    const mixed = setup({ config: perStrategy });
    mixed.risk.recordSubmitted(order({ strategyId: 'fast' }));
    mixed.risk.recordSubmitted(order({ strategyId: 'slow' }));
    expect(mixed.risk.check(order({ strategyId: 'fast' })).isApproved).toBe(true);
    expect(failed(mixed.risk, order({ strategyId: 'slow' }))).toEqual(['duplicate-order']);
  });

  it('remembers orders sent while the window was 0 once a window is set', () => {
    const config = defaultRiskConfig();
    config.global.duplicateWindowMs = 0;
    const { risk, scheduler } = setup({ config });
    risk.recordSubmitted(order());
    scheduler.advance(500);
    risk.setConfig(defaultRiskConfig());
    expect(failed(risk, order())).toEqual(['duplicate-order']);
  });

  it('reports the same results for an approved order as a preview does, with messages only in the preview', () => {
    const { risk } = setup();
    const verdict = risk.check(order());
    const preview = risk.check(order(), true);
    expect(verdict.checks.map((c) => ({ ...c, message: '' }))).toEqual(
      preview.checks.map((c) => ({ ...c, message: '' })),
    );
    expect(verdict.checks.every((c) => c.message === '')).toBe(true);
    expect(preview.checks.every((c) => c.message !== '')).toBe(true);
    // A plain copy (as sent over the port) carries the results.
    expect(JSON.parse(JSON.stringify(verdict)).checks).toHaveLength(21);
    expect(structuredClone(verdict).checks).toHaveLength(21);
  });

  it('halts on a stale feed, an UNKNOWN order on the instrument, the kill switch, symbols not allowed and outside trading hours', () => {
    expect(failed(setup({ lastDataMs: NOW - 60_000 }).risk, order())).toEqual(['stale-feed']);
    expect(failed(setup({ lastDataMs: null }).risk, order())).toEqual(['stale-feed']);
    expect(failed(setup({ hasUnknown: true }).risk, order())).toEqual(['unknown-order']);
    const killed = setup();
    killed.risk.halt('kill-switch', 'test');
    expect(failed(killed.risk, order())).toEqual(['kill-switch']);
    const config = defaultRiskConfig();
    config.global.allowedSymbols = ['ETH/USDT'];
    config.global.tradingHours = { startMinuteUtc: 13 * 60, endMinuteUtc: 20 * 60 };
    expect(failed(setup({ config }).risk, order())).toEqual(['allowed-symbol', 'trading-hours']);
  });

  it('halts new risk after the daily loss limit but lets orders that reduce the position through', () => {
    const { risk, portfolio } = setup();
    portfolio.applyFill({
      fillId: 'f',
      clientOrderId: 'c',
      venueOrderId: null,
      symbol: 'BTC/USDT',
      side: 'buy',
      price: 100,
      quantity: 9,
      fee: 0,
      feeCurrency: 'USDT',
      tsMs: NOW,
      isMaker: false,
      strategyId: 's1',
    });
    portfolio.mark('BTC/USDT', 40); // equity 10,000 - 540 = 9,460: 5.4% down on the day
    expect(failed(risk, order({ quantity: 0.2, price: 100 }))).toContain('daily-loss');
    const reduce = risk.check(order({ side: 'sell', quantity: 1, price: 100 }));
    expect(reduce.checks.find((c) => c.check === 'daily-loss')?.isPassed).toBe(true);
  });

  it('a reduce-only order that would open a position is refused', () => {
    const { risk } = setup();
    expect(failed(risk, order({ isReduceOnly: true }))).toEqual(['reduce-only']);
  });

  it('per-symbol limits override per-strategy limits which override global ones', () => {
    const config = defaultRiskConfig();
    config.strategies['s1'] = { priceBandPct: 5 };
    config.symbols['BTC/USDT'] = { priceBandPct: 1 };
    const { risk } = setup({ config: validateRiskConfig(config) });
    expect(risk.limitsFor('s1', 'BTC/USDT').priceBandPct).toBe(1);
    expect(risk.limitsFor('s1', 'ETH/USDT').priceBandPct).toBe(5);
    expect(risk.limitsFor('s2', 'ETH/USDT').priceBandPct).toBe(2);
  });

  it('validates limit changes and names every problem', () => {
    const config = defaultRiskConfig() as unknown as { global: Record<string, unknown> };
    config.global['priceBandPct'] = -1;
    config.global['maxGrossLeverage'] = Number.NaN;
    expect(() => validateRiskConfig(config)).toThrow(
      /priceBandPct.*maxGrossLeverage|maxGrossLeverage.*priceBandPct/,
    );
    const rates = defaultRiskConfig();
    rates.global.maxOrdersPerWindow = 100;
    expect(() => validateRiskConfig(rates)).toThrow(/exceeds the global rate/);
  });
});

describe('risk invariants (property)', () => {
  const stateArb = fc.record({
    cash: fc.double({ min: 100, max: 1e6, noNaN: true }),
    position: fc.double({ min: -50, max: 50, noNaN: true }),
    entry: fc.double({ min: 50, max: 150, noNaN: true }),
    reference: fc.double({ min: 50, max: 150, noNaN: true }),
    openOrders: fc.nat(30),
    limits: fc.record({
      maxPositionPctOfEquity: fc.double({ min: 1, max: 100, noNaN: true }),
      maxGrossLeverage: fc.double({ min: 0.5, max: 10, noNaN: true }),
      maxOrderNotional: fc.double({ min: 10, max: 1e6, noNaN: true }),
      maxOrderPctOfAvailable: fc.double({ min: 1, max: 100, noNaN: true }),
      priceBandPct: fc.double({ min: 0.1, max: 10, noNaN: true }),
      maxOpenOrders: fc.integer({ min: 1, max: 60 }),
    }),
  });
  const orderArb = fc.record({
    side: fc.constantFrom('buy' as const, 'sell' as const),
    quantity: fc.integer({ min: 1, max: 30_000 }).map((n) => n / 1000),
    type: fc.constantFrom('limit' as const, 'market' as const),
    priceOffset: fc.double({ min: -0.12, max: 0.12, noNaN: true }),
    isReduceOnly: fc.boolean(),
  });

  it('an approved order never breaches any limit', () => {
    let approved = 0;
    fc.assert(
      fc.property(stateArb, orderArb, (s, o) => {
        const config = defaultRiskConfig();
        Object.assign(config.global, s.limits);
        const { risk, portfolio } = setup({
          config,
          cash: s.cash,
          reference: s.reference,
          openOrders: s.openOrders,
        });
        const quantity = Math.round(Math.abs(s.position) * 1000) / 1000;
        if (quantity > 0) {
          portfolio.applyFill({
            fillId: 'f',
            clientOrderId: 'c',
            venueOrderId: null,
            symbol: 'BTC/USDT',
            side: s.position > 0 ? 'buy' : 'sell',
            price: s.entry,
            quantity,
            fee: 0,
            feeCurrency: 'USDT',
            tsMs: NOW,
            isMaker: false,
            strategyId: 's1',
          });
        }
        portfolio.mark('BTC/USDT', s.reference);
        const candidate = order({
          side: o.side,
          quantity: o.quantity,
          type: o.type,
          price: o.type === 'limit' ? Math.round(s.reference * (1 + o.priceOffset) * 100) / 100 : null,
          isReduceOnly: o.isReduceOnly,
        });
        const verdict = risk.check(candidate);
        if (!verdict.isApproved) return;
        approved++;
        // Independent re-computation of every limit.
        const equity = portfolio.equity();
        const net = portfolio.netQuantity('BTC/USDT');
        const sign = o.side === 'buy' ? 1 : -1;
        const after = net + sign * o.quantity;
        const isExposureShrinking = Math.abs(after) <= Math.abs(net);
        const price = candidate.price ?? s.reference;
        const notional = o.quantity * price;
        const isReducing = net !== 0 && Math.sign(net) !== sign && o.quantity <= Math.abs(net);
        expect(notional).toBeLessThanOrEqual(s.limits.maxOrderNotional);
        expect(notional).toBeGreaterThanOrEqual(RULES.minNotional);
        if (!isReducing)
          expect((notional / portfolio.availableBalance()) * 100).toBeLessThanOrEqual(
            s.limits.maxOrderPctOfAvailable + 1e-9,
          );
        if (!isExposureShrinking) {
          expect(((Math.abs(after) * s.reference) / equity) * 100).toBeLessThanOrEqual(
            s.limits.maxPositionPctOfEquity + 1e-9,
          );
          expect((Math.abs(after) * s.reference) / equity).toBeLessThanOrEqual(
            s.limits.maxGrossLeverage + 1e-9,
          );
        }
        if (candidate.price !== null)
          expect((Math.abs(candidate.price - s.reference) / s.reference) * 100).toBeLessThanOrEqual(
            s.limits.priceBandPct + 1e-9,
          );
        expect(s.openOrders + 1).toBeLessThanOrEqual(s.limits.maxOpenOrders);
        if (o.isReduceOnly) expect(isReducing).toBe(true);
      }),
      { numRuns: 2000 },
    );
    // The property must not hold vacuously.
    expect(approved).toBeGreaterThan(100);
  });
});

describe('verdicts without the passed checks (backtests that record no decisions)', () => {
  it('approve and refuse exactly as the full verdicts do, with the same failed checks and reason', () => {
    const full = setup({ reference: 100 });
    const lean = setup({ reference: 100 });
    lean.risk.isKeepingPassedChecks = false;
    const orders = [
      order({ price: 100 }),
      order({ price: 150 }), // outside the 2% band
      order({ quantity: 1000 }), // beyond the balance and the position limits
      order({ quantity: 0.0001 }), // below the venue minimum
    ];
    expect(orders.map((o) => full.risk.check(o).isApproved)).toEqual([true, false, false, false]);
    for (const o of orders) {
      const a = full.risk.check(o);
      const b = lean.risk.check(o);
      expect(b.isApproved).toBe(a.isApproved);
      expect(b.reason).toBe(a.reason);
      expect(b.checks).toEqual(a.checks.filter((c) => !c.isPassed));
    }
    expect(lean.risk.check(orders[0]!).checks).toEqual([]);
    // A detailed check (the order ticket's preview) lists every check whatever the setting.
    expect(lean.risk.check(orders[0]!, true).checks).toHaveLength(
      full.risk.check(orders[0]!, true).checks.length,
    );
  });
});
