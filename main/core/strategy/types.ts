import type {
  OrderIntent,
  OrderSide,
  OrderType,
  TimeInForce,
  TrailingSpec,
  Order,
  Fill,
} from '../../../shared/trading.ts';

/**
 * The strategy API. A strategy sees closed bars, market trades, model predictions and its own
 * order events, reads read-only views of its features and position, and asks for orders by
 * calling enter/exit/submit on its context. It never sees the broker, the order manager or the
 * clock: the same strategy object runs in a backtest, on paper and live (docs/strategies.md).
 */

/** One closed bar (time = open time; closeMs = when it closed and became visible). */
export interface BarView {
  readonly symbol: string;
  readonly timeMs: number;
  readonly closeMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** Bars this strategy has seen before this one (0 for the first). */
  readonly index: number;
}

/** Closed bars, newest first: back = 0 is the latest closed bar. A negative back is the future and throws. */
export interface HistoryView {
  readonly length: number;
  open(back: number): number;
  high(back: number): number;
  low(back: number): number;
  close(back: number): number;
  volume(back: number): number;
  timeMs(back: number): number;
}

/** Indicator values for the latest closed bar (NaN while warming up). Names: docs/strategies.md. */
export interface FeatureView {
  value(name: string): number;
  /** A fast handle: index once at start(), then read with at(index) every bar. */
  index(name: string): number;
  at(index: number): number;
  /** Value of the feature `back` closed bars ago (0 = latest); kept for the last 2 bars. */
  previous(index: number): number;
}

export interface PositionView {
  /** Signed base quantity of this strategy in its symbol (> 0 long, < 0 short). */
  readonly quantity: number;
  readonly averagePrice: number;
  readonly realisedPnl: number;
  readonly feesPaid: number;
  /** Unrealised P&L at the latest mark. */
  readonly unrealisedPnl: number;
  /** Closed bars since the position was opened (0 when flat). */
  readonly barsHeld: number;
}

export interface PortfolioView {
  equity(): number;
  cash(): number;
  /** This strategy's own realised + unrealised P&L net of fees, across its symbol. */
  strategyPnl(): number;
}

/** A model output for a bar of a symbol, with the id of its explanation (per-feature contributions). */
export interface Prediction {
  symbol: string;
  /** The bar the prediction was made for (its close time: predictions never precede the bar). */
  tsMs: number;
  /** Output values by name, e.g. { p_up: 0.61 }. */
  values: Readonly<Record<string, number>>;
  explanationId: string | null;
}

export interface MarketTrade {
  symbol: string;
  tsMs: number;
  price: number;
  quantity: number;
  side: OrderSide;
}

export type StrategyOrderEvent =
  | { kind: 'order'; order: Order }
  | { kind: 'fill'; fill: Fill; order: Order | null }
  | { kind: 'risk-rejected'; reason: string; intent: OrderIntent }
  | { kind: 'invalid'; reason: string; intent: OrderIntent };

/** A raw order a strategy may ask for; symbol and strategy id are filled in by the runtime. */
export interface StrategyOrder {
  side: OrderSide;
  type: OrderType;
  quantity: number;
  price?: number;
  stopPrice?: number;
  trailing?: TrailingSpec;
  tif?: TimeInForce;
  isReduceOnly?: boolean;
  reason: string;
  explanationId?: string;
}

export interface EnterOptions {
  /** Model explanation behind the decision (carried into the trade list). */
  explanationId?: string;
  /** Overrides the sizing policy for this entry (base units). */
  quantity?: number;
}

export interface StrategyContext {
  readonly strategyId: string;
  readonly symbol: string;
  readonly params: Readonly<Record<string, number | string | boolean>>;
  readonly bar: BarView;
  readonly history: HistoryView;
  readonly features: FeatureView;
  readonly position: PositionView;
  readonly portfolio: PortfolioView;
  /** Latest prediction for this symbol not newer than the latest closed bar; null before the first. */
  readonly prediction: Prediction | null;
  /** Orders of this strategy still working (entries waiting for their fill, protective stops). */
  readonly workingOrderCount: number;
  /** True while an entry order is working (not yet fully filled). */
  readonly isEntryPending: boolean;
  /** Opens a position sized by the sizing policy, with the configured stop-loss/take-profit/trailing stop. */
  enter(side: OrderSide, reason: string, options?: EnterOptions): void;
  /** Closes the whole position at market and cancels this strategy's working orders. */
  exit(reason: string, options?: { explanationId?: string }): void;
  submit(order: StrategyOrder): void;
  cancelAll(reason: string): void;
}

export interface Strategy {
  /** Feature names read through ctx.features (sma_10, rsi_14, bb_upper_20, ...). */
  readonly features: readonly string[];
  start?(ctx: StrategyContext): void;
  stop?(ctx: StrategyContext): void;
  onBar(ctx: StrategyContext): void;
  onTrade?(ctx: StrategyContext, trade: MarketTrade): void;
  onPrediction?(ctx: StrategyContext, prediction: Prediction): void;
  onOrderEvent?(ctx: StrategyContext, event: StrategyOrderEvent): void;
}

export type ParamValue = number | string | boolean;
export type StrategyParams = Record<string, ParamValue>;
