import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Portfolio } from './portfolio.ts';
import type { Fill } from '../../../shared/trading.ts';

function fill(partial: Partial<Fill> & Pick<Fill, 'fillId' | 'side' | 'price' | 'quantity'>): Fill {
  return {
    clientOrderId: 'c1',
    venueOrderId: null,
    symbol: 'BTC/USDT',
    fee: 0,
    feeCurrency: 'USDT',
    tsMs: 1,
    isMaker: false,
    strategyId: 's1',
    ...partial,
  };
}

const fillArb = fc.record({
  fillId: fc.string({ minLength: 1, maxLength: 6 }),
  side: fc.constantFrom('buy' as const, 'sell' as const),
  price: fc.double({ min: 1, max: 1000, noNaN: true }),
  quantity: fc.double({ min: 0.001, max: 10, noNaN: true }),
  fee: fc.double({ min: 0, max: 1, noNaN: true }),
  symbol: fc.constantFrom('BTC/USDT', 'ETH/USDT'),
  strategyId: fc.constantFrom('a', 'b'),
});

function state(p: Portfolio): unknown {
  return { cash: p.cash, positions: p.positions(), realised: p.realisedPnl(), fees: p.feesPaid() };
}

describe('portfolio', () => {
  it('moves the average price on buys and realises P&L on sells', () => {
    const p = new Portfolio({ startingCash: 10_000, currency: 'USDT' });
    p.applyFill(fill({ fillId: 'a', side: 'buy', price: 100, quantity: 2, fee: 0.2 }));
    p.applyFill(fill({ fillId: 'b', side: 'buy', price: 130, quantity: 1 }));
    expect(p.slot('s1', 'BTC/USDT').averagePrice).toBeCloseTo(110, 10);
    p.applyFill(fill({ fillId: 'c', side: 'sell', price: 120, quantity: 1.5 }));
    const pos = p.positions()[0]!;
    expect(pos.quantity).toBeCloseTo(1.5, 12);
    expect(pos.averagePrice).toBeCloseTo(110, 10);
    expect(pos.realisedPnl).toBeCloseTo(15, 10);
    expect(p.cash).toBeCloseTo(10_000 - 200 - 0.2 - 130 + 180, 10);
    p.mark('BTC/USDT', 140);
    expect(p.unrealisedPnl()).toBeCloseTo(1.5 * 30, 10);
    expect(p.equity()).toBeCloseTo(p.cash + 1.5 * 140, 10);
  });

  it('opens the remainder at the fill price when a fill flips the position', () => {
    const p = new Portfolio({ startingCash: 0, currency: 'USDT' });
    p.applyFill(fill({ fillId: 'a', side: 'buy', price: 100, quantity: 1 }));
    p.applyFill(fill({ fillId: 'b', side: 'sell', price: 90, quantity: 3 }));
    const pos = p.positions()[0]!;
    expect(pos.quantity).toBeCloseTo(-2, 12);
    expect(pos.averagePrice).toBe(90);
    expect(pos.realisedPnl).toBeCloseTo(-10, 10);
  });

  it('converts a fee charged in the base asset at the fill price', () => {
    const p = new Portfolio({ startingCash: 1000, currency: 'USDT' });
    p.applyFill(fill({ fillId: 'a', side: 'buy', price: 100, quantity: 1, fee: 0.001, feeCurrency: 'BTC' }));
    expect(p.feesPaid()).toBeCloseTo(0.1, 12);
  });

  it('applying the same fills twice changes nothing (property)', () => {
    fc.assert(
      fc.property(fc.array(fillArb, { maxLength: 40 }), (fills) => {
        const once = new Portfolio({ startingCash: 50_000, currency: 'USDT' });
        const twice = new Portfolio({ startingCash: 50_000, currency: 'USDT' });
        for (const f of fills) once.applyFill(fill(f));
        for (const f of fills) twice.applyFill(fill(f));
        for (const f of fills) expect(twice.applyFill(fill(f))).toBe(false);
        expect(state(twice)).toEqual(state(once));
      }),
    );
  });

  it('conserves value: equity = starting cash + realised + unrealised - fees (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fillArb, { maxLength: 40 }),
        fc.double({ min: 1, max: 1000, noNaN: true }),
        (fills, markPrice) => {
          const p = new Portfolio({ startingCash: 50_000, currency: 'USDT' });
          const unique = new Map(fills.map((f) => [f.fillId, f]));
          for (const f of unique.values()) p.applyFill(fill(f));
          p.mark('BTC/USDT', markPrice);
          p.mark('ETH/USDT', markPrice / 2);
          const expected = 50_000 + p.realisedPnl() + p.unrealisedPnl() - p.feesPaid();
          expect(p.equity()).toBeCloseTo(expected, 4);
        },
      ),
    );
  });

  it('the fast path gives the same result as applyFill', () => {
    fc.assert(
      fc.property(fc.array(fillArb, { maxLength: 30 }), (fills) => {
        const a = new Portfolio({ startingCash: 1000, currency: 'USDT' });
        const b = new Portfolio({ startingCash: 1000, currency: 'USDT' });
        fills.forEach((f, i) => {
          a.applyFill(fill({ ...f, fillId: String(i) }));
          b.applyTrade(b.slot(f.strategyId, f.symbol), f.side === 'buy' ? 1 : -1, f.quantity, f.price, f.fee);
        });
        expect(state(b)).toEqual(state(a));
      }),
    );
  });
});
