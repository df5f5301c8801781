import type { Fill, MarketRules, Order, OrderSide, OrderState, OrderType } from '../../../shared/trading.ts';

/**
 * The venue as the order manager sees it: paper broker, backtest simulator or a live ccxt venue.
 * Outcomes follow the order protocol (docs/orders.md): a submit is 'accepted', definitely
 * 'rejected', or 'unknown' (timeout, 5xx, disconnect, unparsable reply). 'unknown' is never a
 * rejection: the order manager queries the venue by client id and never re-sends.
 */
export type SubmitOutcome =
  | { kind: 'accepted'; venueOrderId: string }
  | { kind: 'rejected'; reason: string }
  | { kind: 'unknown'; reason: string };

/** 'not-found': the venue has no working order with that id (already filled/cancelled or never seen). */
export type CancelOutcome =
  { kind: 'canceled' } | { kind: 'not-found'; reason: string } | { kind: 'unknown'; reason: string };

/** The venue's view of one order. */
export interface VenueOrder {
  clientOrderId: string;
  venueOrderId: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  quantity: number;
  price: number | null;
  state: OrderState;
  filledQuantity: number;
  averageFillPrice: number;
  updatedMs: number;
}

export type FillListener = (fill: Fill) => void;
export type OrderUpdateListener = (update: VenueOrder) => void;

export interface Unsubscribe {
  (): void;
}

export interface Broker {
  /** Venue id ('paper', 'backtest', 'binance', ...). */
  readonly venue: string;
  /** The venue's client order id format; ids the order manager makes must match it. */
  readonly clientOrderIdPattern: RegExp;
  /** Trading rules of a market, null when the venue does not list it. */
  marketRules(symbol: string): MarketRules | null;
  /** Sends a new order carrying order.clientOrderId. The order is the venue's own copy. */
  submit(order: Order): Promise<SubmitOutcome>;
  /**
   * Only for a venue that decides a submit at once, inside the call (the backtest's simulated
   * broker): the same outcome as submit(), returned directly, so the order manager applies it
   * without a turn of the event loop per order. Venues that talk to a network leave it out.
   * Unlike submit(), it gets the order manager's own record, not a copy: the venue must never
   * write to it and may keep it only for the fields that never change after submission (ids,
   * symbol, side, type, quantity, prices, trailing, time in force, flags, strategy).
   */
  submitNow?(order: Order): SubmitOutcome;
  cancel(order: Order): Promise<CancelOutcome>;
  /** Looks an order up by client id (the way to resolve an UNKNOWN order). */
  findByClientId(clientOrderId: string, symbol: string): Promise<VenueOrder | null>;
  /** Every working order on the venue (for reconciliation: unknown ones are flagged EXTERNAL). */
  openOrders(): Promise<VenueOrder[]>;
  /** Fills with tsMs >= sinceMs (for reconciliation after a restart or reconnect). */
  fillsSince(sinceMs: number): Promise<Fill[]>;
  onFill(listener: FillListener): Unsubscribe;
  onOrderUpdate(listener: OrderUpdateListener): Unsubscribe;
}

/** Binance's client order id rule (newClientOrderId): `^[.A-Z:/a-z0-9_-]{1,36}$`. */
export const BINANCE_CLIENT_ORDER_ID_PATTERN = /^[.A-Z:/a-z0-9_-]{1,36}$/;
