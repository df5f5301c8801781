/**
 * Trading domain types shared by the engine (risk, order manager, brokers, portfolio, backtester)
 * and the renderer. Quantities are in base units, prices and money in the quote currency,
 * times in ms since the Unix epoch (UTC). Backtests and live trading use these same types.
 */

export const ORDER_SIDES = ['buy', 'sell'] as const;
export type OrderSide = (typeof ORDER_SIDES)[number];

export const ORDER_TYPES = ['market', 'limit', 'stop', 'stop-limit', 'take-profit', 'trailing-stop'] as const;
export type OrderType = (typeof ORDER_TYPES)[number];

/** GTC: rests until filled or cancelled; IOC: fill what can be filled now, cancel the rest; FOK: all now or nothing. */
export const TIME_IN_FORCE = ['GTC', 'IOC', 'FOK'] as const;
export type TimeInForce = (typeof TIME_IN_FORCE)[number];

export const ORDER_STATES = [
  'new',
  'pending-submit',
  'accepted',
  'partially-filled',
  'filled',
  'pending-cancel',
  'canceled',
  'rejected',
  'expired',
  'unknown',
] as const;
export type OrderState = (typeof ORDER_STATES)[number];

/** States an order never leaves. */
export const TERMINAL_ORDER_STATES: readonly OrderState[] = ['filled', 'canceled', 'rejected', 'expired'];

export function isTerminalOrderState(state: OrderState): boolean {
  return state === 'filled' || state === 'canceled' || state === 'rejected' || state === 'expired';
}

/** Working: could still fill (includes unknown, which the venue may hold). */
export function isWorkingOrderState(state: OrderState): boolean {
  return !isTerminalOrderState(state) && state !== 'new';
}

export function sideSign(side: OrderSide): 1 | -1 {
  return side === 'buy' ? 1 : -1;
}

/** Trailing stop: the stop follows the best price by an offset (absolute quote units or a fraction). */
export interface TrailingSpec {
  /** Offset as a fraction of the price (0.01 = 1%). Exactly one of offsetFraction/offsetQuote is set. */
  offsetFraction?: number;
  offsetQuote?: number;
}

/** What a strategy or the PM's ticket asks for, before risk and before any id is assigned. */
export interface OrderIntent {
  symbol: string;
  side: OrderSide;
  type: OrderType;
  /** Base units, > 0. Rounded down to the market's quantity step by the order manager. */
  quantity: number;
  /** Limit price (limit, stop-limit; optional for take-profit as a limit). */
  price?: number;
  /** Trigger price (stop, stop-limit, take-profit). */
  stopPrice?: number;
  trailing?: TrailingSpec;
  tif: TimeInForce;
  /** Maker only: rejected rather than crossing the book. */
  isPostOnly?: boolean;
  /** May only reduce an existing position (never open or flip one). */
  isReduceOnly?: boolean;
  /** Strategy that asked for it; 'manual' for the PM's ticket. */
  strategyId?: string;
  /** Why: signal id, 'manual', 'stop-loss', 'kill-switch flatten', ... (audited). */
  reason: string;
}

/** An order as the order manager and the ledger know it. */
export interface Order {
  clientOrderId: string;
  venueOrderId: string | null;
  venue: string;
  account: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  quantity: number;
  price: number | null;
  stopPrice: number | null;
  trailing: TrailingSpec | null;
  tif: TimeInForce;
  isPostOnly: boolean;
  isReduceOnly: boolean;
  strategyId: string;
  reason: string;
  state: OrderState;
  filledQuantity: number;
  /** Volume-weighted average fill price; 0 before the first fill. */
  averageFillPrice: number;
  createdMs: number;
  updatedMs: number;
  /** Why it was rejected, expired or became unknown. */
  message: string | null;
  /** A venue order the ledger did not know (found by reconciliation). */
  isExternal: boolean;
}

/** One execution. fillId is the venue's trade id: fills are applied idempotently by it. */
export interface Fill {
  fillId: string;
  clientOrderId: string;
  venueOrderId: string | null;
  symbol: string;
  side: OrderSide;
  price: number;
  quantity: number;
  fee: number;
  feeCurrency: string;
  tsMs: number;
  isMaker: boolean;
  strategyId: string;
}

/** A position per strategy and symbol (quantity signed: > 0 long, < 0 short). */
export interface Position {
  symbol: string;
  strategyId: string;
  quantity: number;
  averagePrice: number;
  markPrice: number;
  realisedPnl: number;
  unrealisedPnl: number;
  feesPaid: number;
}

/** Account-level summary in the quote currency. */
export interface AccountSummary {
  currency: string;
  cash: number;
  equity: number;
  grossExposure: number;
  netExposure: number;
  realisedPnl: number;
  unrealisedPnl: number;
  feesPaid: number;
  /** Cash not reserved by working buy orders (for the % of available balance check). */
  availableBalance: number;
}

export interface PortfolioSnapshot {
  tsMs: number;
  account: AccountSummary;
  positions: Position[];
  /** Per strategy: realised/unrealised P&L and fees. */
  strategies: { strategyId: string; realisedPnl: number; unrealisedPnl: number; feesPaid: number }[];
}

/** A market's trading rules (from the venue's metadata: ccxt market limits/precision, demo venue spec). */
export interface MarketRules {
  symbol: string;
  base: string;
  quote: string;
  /** Price increment (tick size). */
  tickSize: number;
  /** Quantity increment (lot step). */
  quantityStep: number;
  minQuantity: number;
  maxQuantity: number;
  minNotional: number;
  /** Fee rates as fractions (0.001 = 10 bps). */
  makerFeeRate: number;
  takerFeeRate: number;
}

/** One pre-trade check's verdict: measured value against the limit, with headroom (limit - value, in the check's unit). */
export interface RiskCheckResult {
  check: string;
  isPassed: boolean;
  value: number;
  limit: number;
  unit: string;
  message: string;
}

export interface RiskVerdict {
  isApproved: boolean;
  checks: RiskCheckResult[];
  /** The first failed check's message, null when approved. */
  reason: string | null;
}
