import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Portfolio } from '../portfolio/portfolio.ts';
import { CashReservations } from './cash-reservations.ts';
import type { MarketRules, Order, OrderState } from '../../../shared/trading.ts';

const RULES: MarketRules = {
  symbol: 'BTC/USDT',
  base: 'BTC',
  quote: 'USDT',
  tickSize: 0.01,
  quantityStep: 0.00001,
  minQuantity: 0.00001,
  maxQuantity: 1000,
  minNotional: 5,
  makerFeeRate: 0.0002,
  takerFeeRate: 0.0005,
};

function order(
  id: number,
  side: 'buy' | 'sell',
  quantity: number,
  price: number,
  isReduceOnly = false,
): Order {
  return {
    clientOrderId: `o${id}`,
    venueOrderId: null,
    venue: 'paper',
    account: 'paper',
    symbol: 'BTC/USDT',
    side,
    type: 'limit',
    quantity,
    price,
    stopPrice: null,
    trailing: null,
    tif: 'GTC',
    isPostOnly: false,
    isReduceOnly,
    strategyId: 's',
    reason: 'test',
    state: 'pending-submit',
    filledQuantity: 0,
    averageFillPrice: 0,
    createdMs: 0,
    updatedMs: 0,
    message: null,
    isExternal: false,
  };
}

/** The order manager as the reservations see it: working orders and order events. */
class FakeOrders {
  readonly orders = new Map<string, Order>();
  private listener: ((o: Order) => void) | null = null;
  workingOrders(): Order[] {
    return [...this.orders.values()].filter(
      (o) => !['filled', 'canceled', 'rejected', 'expired'].includes(o.state),
    );
  }
  onOrder(listener: (o: Order) => void): () => void {
    this.listener = listener;
    return () => (this.listener = null);
  }
  emit(o: Order): void {
    this.orders.set(o.clientOrderId, { ...o });
    this.listener?.({ ...o });
  }
}

type Step =
  | { kind: 'place'; side: 'buy' | 'sell'; quantity: number; price: number; isReduceOnly: boolean }
  | { kind: 'fill'; pick: number; fraction: number }
  | { kind: 'end'; pick: number; state: OrderState };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('place' as const),
    side: fc.constantFrom('buy' as const, 'sell' as const),
    quantity: fc.double({ min: 0.001, max: 2, noNaN: true }),
    price: fc.double({ min: 100, max: 100_000, noNaN: true }),
    isReduceOnly: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('fill' as const),
    pick: fc.nat(),
    fraction: fc.double({ min: 0.05, max: 1, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant('end' as const),
    pick: fc.nat(),
    state: fc.constantFrom<OrderState>('canceled', 'rejected', 'expired'),
  }),
);

describe('cash reserved by working orders', () => {
  it('equals what the working orders hold after any sequence of placements, fills and cancels, and is zero when none works (property)', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const portfolio = new Portfolio({ startingCash: 1_000_000, currency: 'USDT' });
        const orders = new FakeOrders();
        const reservations = new CashReservations({
          orders,
          portfolio,
          rules: () => RULES,
          referencePrice: () => null,
        });
        let id = 0;
        let fillId = 0;
        for (const s of steps) {
          const working = orders.workingOrders();
          if (s.kind === 'place') {
            const o = order(++id, s.side, s.quantity, s.price, s.isReduceOnly);
            orders.emit(o);
            orders.emit({ ...o, state: 'accepted' });
          } else if (working.length > 0) {
            const o = working[s.pick % working.length]!;
            if (s.kind === 'end') orders.emit({ ...o, state: s.state });
            else {
              const quantity = (o.quantity - o.filledQuantity) * s.fraction;
              portfolio.applyFill({
                fillId: `f${++fillId}`,
                clientOrderId: o.clientOrderId,
                venueOrderId: null,
                symbol: o.symbol,
                side: o.side,
                quantity,
                price: o.price!,
                fee: 0,
                feeCurrency: 'USDT',
                isMaker: true,
                strategyId: 's',
                tsMs: 0,
              });
              const filledQuantity = o.filledQuantity + quantity;
              // The order manager's rule: filled once within 1e-9 of the quantity.
              orders.emit({
                ...o,
                filledQuantity,
                state: filledQuantity >= o.quantity * (1 - 1e-9) ? 'filled' : 'partially-filled',
              });
            }
          }
          // Every working order holds exactly its own reservation; the total is their sum.
          let expected = 0;
          for (const o of orders.workingOrders()) expected += reservations.reservedFor(o.clientOrderId);
          expect(portfolio.reservedCash).toBeCloseTo(expected, 6);
          expect(portfolio.reservedCash).toBeGreaterThanOrEqual(0);
          for (const o of orders.workingOrders()) {
            const remaining = o.quantity - o.filledQuantity;
            if (o.side === 'buy' && !o.isReduceOnly)
              expect(reservations.reservedFor(o.clientOrderId)).toBeCloseTo(remaining * o.price! * 1.0005, 6);
            if (o.isReduceOnly) expect(reservations.reservedFor(o.clientOrderId)).toBe(0);
          }
          if (orders.workingOrders().length === 0) expect(portfolio.reservedCash).toBe(0);
          expect(portfolio.availableBalance()).toBeCloseTo(
            Math.max(0, portfolio.cash - portfolio.reservedCash),
            6,
          );
        }
        reservations.close();
      }),
    );
  });

  it('rebuilds the reservations of orders still working at start-up', () => {
    const portfolio = new Portfolio({ startingCash: 10_000, currency: 'USDT' });
    const orders = new FakeOrders();
    orders.emit({ ...order(1, 'buy', 0.1, 50_000), state: 'accepted' });
    new CashReservations({ orders, portfolio, rules: () => RULES, referencePrice: () => null });
    expect(portfolio.reservedCash).toBeCloseTo(0.1 * 50_000 * 1.0005, 9);
    expect(portfolio.availableBalance()).toBeCloseTo(10_000 - 5002.5, 9);
  });
});
