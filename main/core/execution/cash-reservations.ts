import type { Portfolio } from '../portfolio/portfolio.ts';
import type { OrderManager } from './order-manager.ts';
import { isTerminalOrderState, type MarketRules, type Order } from '../../../shared/trading.ts';

/**
 * Cash held back by working orders, kept in Portfolio.reservedCash so the risk check "max order as
 * % of available balance" sees available = cash - reserved:
 * - a buy reserves its unfilled quantity x its price (limit price; stop price for stops; the
 *   reference price when it was placed for market and trailing orders) plus the taker fee;
 * - a reduce-only order (either side) reserves nothing: it can only shrink a position;
 * - a sell reserves cash only for the part that would open or grow a short (the unfilled quantity
 *   beyond the account's long position, valued the same way: 1x margin). A sell that reduces a
 *   long position reserves nothing: the paper account is a margin account, and a strategy's
 *   stop-loss and take-profit each cover the whole position (one cancels the other), so holding
 *   the base back for one would refuse the other.
 * Reservations follow every order event (placed, partially filled, filled, cancelled, rejected,
 * expired) and are rebuilt from the working orders at start-up.
 */
export class CashReservations {
  private readonly portfolio: Portfolio;
  private readonly rules: (symbol: string) => MarketRules | null;
  private readonly referencePrice: (symbol: string) => number | null;
  private readonly reserved = new Map<string, number>();
  /** Price each order is valued at, fixed when first seen (a market order's reference price). */
  private readonly unitPrice = new Map<string, number>();
  private total = 0;
  private readonly unsubscribe: () => void;

  constructor(options: {
    orders: Pick<OrderManager, 'workingOrders' | 'onOrder'>;
    portfolio: Portfolio;
    rules: (symbol: string) => MarketRules | null;
    referencePrice: (symbol: string) => number | null;
  }) {
    this.portfolio = options.portfolio;
    this.rules = options.rules;
    this.referencePrice = options.referencePrice;
    for (const order of options.orders.workingOrders()) this.update(order);
    this.unsubscribe = options.orders.onOrder((order) => this.update(order));
  }

  /** Cash reserved by one order (0 when it reserves none). */
  reservedFor(clientOrderId: string): number {
    return this.reserved.get(clientOrderId) ?? 0;
  }

  close(): void {
    this.unsubscribe();
  }

  private update(order: Order): void {
    const id = order.clientOrderId;
    const remaining = order.quantity - order.filledQuantity;
    let amount = 0;
    if (!isTerminalOrderState(order.state) && remaining > 0) {
      const price = this.priceOf(order);
      // Reduce-only orders only shrink a position (the protective pair of one position would reserve it twice).
      const quantity = order.isReduceOnly
        ? 0
        : order.side === 'buy'
          ? remaining
          : Math.max(0, remaining - Math.max(0, this.portfolio.netQuantity(order.symbol)));
      amount = quantity * price * (1 + (this.rules(order.symbol)?.takerFeeRate ?? 0));
    } else this.unitPrice.delete(id);
    const before = this.reserved.get(id) ?? 0;
    if (amount > 0) this.reserved.set(id, amount);
    else this.reserved.delete(id);
    this.total += amount - before;
    // Sums of many adds and removes drift by rounding: an empty book is exactly zero.
    if (this.reserved.size === 0) this.total = 0;
    this.portfolio.reservedCash = this.total;
  }

  private priceOf(order: Order): number {
    const known = this.unitPrice.get(order.clientOrderId);
    if (known !== undefined) return known;
    const price =
      order.price ??
      order.stopPrice ??
      this.referencePrice(order.symbol) ??
      this.portfolio.markPrice(order.symbol);
    const value = price > 0 ? price : 0;
    if (value > 0) this.unitPrice.set(order.clientOrderId, value);
    return value;
  }
}
