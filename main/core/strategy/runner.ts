import { appError } from '../../../shared/errors.ts';
import type { OrderIntent, OrderSide } from '../../../shared/trading.ts';
import type { PositionSlot } from '../portfolio/portfolio.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import { exitLevelByFraction } from '../risk/protective-exits.ts';
import { FeatureSet } from './feature-names.ts';
import { sizeQuantity, TradeStats, type ProtectionSpec, type SizingSpec } from './sizing.ts';
import type {
  BarView,
  EnterOptions,
  FeatureView,
  HistoryView,
  PortfolioView,
  PositionView,
  Prediction,
  Strategy,
  StrategyContext,
  StrategyOrder,
  StrategyParams,
} from './types.ts';

/** What a runner asks the engine to do; the engine performs actions in order (deterministic). */
export type OrderRole = 'entry' | 'exit' | 'protective' | 'order';

export type StrategyAction =
  | {
      kind: 'submit';
      runner: StrategyRunner;
      intent: OrderIntent;
      explanationId: string | null;
      role: OrderRole;
    }
  | { kind: 'cancel-all'; runner: StrategyRunner; reason: string; onlyProtective: boolean };

export interface RunnerConfig {
  strategyId: string;
  symbol: string;
  strategy: Strategy;
  params?: StrategyParams;
  sizing: SizingSpec;
  protection?: ProtectionSpec;
  /** Closed bars kept for ctx.history (default 256). */
  historyBars?: number;
}

const DEFAULT_HISTORY_BARS = 256;
// Volatility-target sizing looks at this many one-bar log returns unless its spec says otherwise.
const DEFAULT_VOL_LOOKBACK = 20;

class BarRing {
  readonly capacity: number;
  readonly time: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  head = 0;
  count = 0;
  constructor(capacity: number) {
    this.capacity = capacity;
    this.time = new Float64Array(capacity);
    this.open = new Float64Array(capacity);
    this.high = new Float64Array(capacity);
    this.low = new Float64Array(capacity);
    this.close = new Float64Array(capacity);
    this.volume = new Float64Array(capacity);
  }
  push(t: number, o: number, h: number, l: number, c: number, v: number): void {
    const i = this.head;
    this.time[i] = t;
    this.open[i] = o;
    this.high[i] = h;
    this.low[i] = l;
    this.close[i] = c;
    this.volume[i] = v;
    this.head = i + 1 === this.capacity ? 0 : i + 1;
    if (this.count < this.capacity) this.count++;
  }
  slot(back: number): number {
    // Look-ahead guard: back < 0 would be a bar that has not closed yet.
    if (!(back >= 0) || !Number.isInteger(back)) {
      throw appError(
        'STRATEGY_INVALID',
        `history read ${back} bars back: only closed bars (back >= 0) can be read; a negative index is the future.`,
      );
    }
    if (back >= this.count)
      throw appError(
        'STRATEGY_INVALID',
        `history read ${back} bars back but only ${this.count} closed bars are kept.`,
      );
    let i = this.head - 1 - back;
    if (i < 0) i += this.capacity;
    return i;
  }
}

/** Rolling standard deviation of one-bar log returns, for volatility-target sizing. */
class ReturnStd {
  private readonly ring: Float64Array;
  private head = 0;
  private count = 0;
  private sum = 0;
  private sumSquares = 0;
  private previous = NaN;
  constructor(lookback: number) {
    this.ring = new Float64Array(lookback);
  }
  push(close: number): void {
    const previous = this.previous;
    this.previous = close;
    if (!(previous > 0) || !(close > 0)) return;
    const r = Math.log(close / previous);
    const n = this.ring.length;
    if (this.count === n) {
      const old = this.ring[this.head]!;
      this.sum -= old;
      this.sumSquares -= old * old;
    } else this.count++;
    this.ring[this.head] = r;
    this.head = (this.head + 1) % n;
    this.sum += r;
    this.sumSquares += r * r;
  }
  value(): number {
    const n = this.count;
    if (n < this.ring.length || n < 2) return NaN;
    const mean = this.sum / n;
    return Math.sqrt(Math.max(0, (this.sumSquares - n * mean * mean) / (n - 1)));
  }
}

/**
 * One strategy instance on one symbol: owns its features, history, sizing and protective-exit
 * policy, and is the strategy's context object. Order requests become actions the engine
 * performs through the order manager (risk checks included).
 */
export class StrategyRunner implements StrategyContext {
  readonly strategyId: string;
  readonly symbol: string;
  readonly params: Readonly<StrategyParams>;
  readonly strategy: Strategy;
  readonly sizing: SizingSpec;
  readonly protection: ProtectionSpec;
  readonly featureSet: FeatureSet;
  readonly stats = new TradeStats();
  readonly slot: PositionSlot;
  prediction: Prediction | null = null;
  /** Working orders of this strategy by client id, with their role. */
  readonly working = new Map<string, OrderRole>();
  barIndex = -1;
  openedAtIndex = -1;
  /** Realised P&L + fees at the moment the current position opened (for the closed trade's P&L). */
  openBaseline = 0;
  private readonly portfolioRef: Portfolio;
  private readonly queue: StrategyAction[];
  private readonly ring: BarRing;
  private readonly returnStd: ReturnStd;
  private readonly barView: { -readonly [K in keyof BarView]: BarView[K] };
  readonly history: HistoryView;
  readonly features: FeatureView;
  readonly position: PositionView;
  readonly portfolio: PortfolioView;

  constructor(config: RunnerConfig, portfolio: Portfolio, queue: StrategyAction[]) {
    this.strategyId = config.strategyId;
    this.symbol = config.symbol;
    this.params = Object.freeze({ ...(config.params ?? {}) });
    this.strategy = config.strategy;
    this.sizing = config.sizing;
    this.protection = config.protection ?? {};
    this.portfolioRef = portfolio;
    this.queue = queue;
    this.slot = portfolio.slot(this.strategyId, this.symbol);
    this.featureSet = new FeatureSet(config.strategy.features);
    this.ring = new BarRing(Math.max(2, config.historyBars ?? DEFAULT_HISTORY_BARS));
    this.returnStd = new ReturnStd(
      config.sizing.kind === 'volatility-target' ? config.sizing.lookbackBars : DEFAULT_VOL_LOOKBACK,
    );
    this.barView = {
      symbol: this.symbol,
      timeMs: NaN,
      closeMs: NaN,
      open: NaN,
      high: NaN,
      low: NaN,
      close: NaN,
      volume: NaN,
      index: -1,
    };
    const ring = this.ring;
    this.history = {
      get length() {
        return ring.count;
      },
      open: (back) => ring.open[ring.slot(back)]!,
      high: (back) => ring.high[ring.slot(back)]!,
      low: (back) => ring.low[ring.slot(back)]!,
      close: (back) => ring.close[ring.slot(back)]!,
      volume: (back) => ring.volume[ring.slot(back)]!,
      timeMs: (back) => ring.time[ring.slot(back)]!,
    };
    const fs = this.featureSet;
    this.features = {
      value: (name) => {
        const i = fs.indexOf(name);
        if (i < 0)
          throw appError(
            'STRATEGY_INVALID',
            `Strategy ${this.strategyId} reads feature '${name}' it did not declare (declared: ${fs.names.join(', ') || 'none'}).`,
          );
        return fs.values[i]!;
      },
      index: (name) => {
        const i = fs.indexOf(name);
        if (i < 0)
          throw appError(
            'STRATEGY_INVALID',
            `Strategy ${this.strategyId} reads feature '${name}' it did not declare (declared: ${fs.names.join(', ') || 'none'}).`,
          );
        return i;
      },
      at: (i) => fs.values[i]!,
      previous: (i) => fs.previousValues[i]!,
    };
    const slot = this.slot;
    const barsHeld = (): number =>
      slot.quantity === 0 || this.openedAtIndex < 0 ? 0 : this.barIndex - this.openedAtIndex;
    this.position = {
      get quantity() {
        return slot.quantity;
      },
      get averagePrice() {
        return slot.averagePrice;
      },
      get realisedPnl() {
        return slot.realisedPnl;
      },
      get feesPaid() {
        return slot.feesPaid;
      },
      get unrealisedPnl() {
        return slot.quantity === 0 ? 0 : slot.quantity * (slot.market.markPrice - slot.averagePrice);
      },
      get barsHeld() {
        return barsHeld();
      },
    };
    this.portfolio = {
      equity: () => portfolio.equity(),
      cash: () => portfolio.cash,
      strategyPnl: () =>
        slot.realisedPnl -
        slot.feesPaid +
        (slot.quantity === 0 ? 0 : slot.quantity * (slot.market.markPrice - slot.averagePrice)),
    };
  }

  get bar(): BarView {
    return this.barView;
  }

  get workingOrderCount(): number {
    return this.working.size;
  }

  get isEntryPending(): boolean {
    for (const role of this.working.values()) if (role === 'entry') return true;
    return false;
  }

  /** A bar closed: update history and features, then let the strategy decide. */
  deliverBar(
    timeMs: number,
    closeMs: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
  ): void {
    const b = this.barView;
    this.barIndex++;
    b.timeMs = timeMs;
    b.closeMs = closeMs;
    b.open = open;
    b.high = high;
    b.low = low;
    b.close = close;
    b.volume = volume;
    b.index = this.barIndex;
    this.ring.push(timeMs, open, high, low, close, volume);
    if (this.featureSet.isPrecomputed) this.featureSet.stepAt(this.barIndex);
    else this.featureSet.step(timeMs, open, high, low, close, volume);
    if (this.sizing.kind === 'volatility-target') this.returnStd.push(close);
    this.strategy.onBar(this);
  }

  enter(side: OrderSide, reason: string, options?: EnterOptions): void {
    const quantity =
      options?.quantity ??
      sizeQuantity(this.sizing, {
        price: this.barView.close,
        equity: this.portfolioRef.equity(),
        returnStdPerBar: this.returnStd.value(),
        stats: this.stats,
      });
    if (!(quantity > 0)) return;
    this.queue.push({
      kind: 'submit',
      runner: this,
      intent: {
        symbol: this.symbol,
        side,
        type: 'market',
        quantity,
        tif: 'GTC',
        strategyId: this.strategyId,
        reason,
      },
      explanationId: options?.explanationId ?? null,
      role: 'entry',
    });
  }

  exit(reason: string, options?: { explanationId?: string }): void {
    if (this.working.size > 0)
      this.queue.push({ kind: 'cancel-all', runner: this, reason, onlyProtective: false });
    const q = this.slot.quantity;
    if (q === 0) return;
    this.queue.push({
      kind: 'submit',
      runner: this,
      intent: {
        symbol: this.symbol,
        side: q > 0 ? 'sell' : 'buy',
        type: 'market',
        quantity: Math.abs(q),
        tif: 'GTC',
        isReduceOnly: true,
        strategyId: this.strategyId,
        reason,
      },
      explanationId: options?.explanationId ?? null,
      role: 'exit',
    });
  }

  submit(order: StrategyOrder): void {
    const intent: OrderIntent = {
      symbol: this.symbol,
      side: order.side,
      type: order.type,
      quantity: order.quantity,
      tif: order.tif ?? 'GTC',
      strategyId: this.strategyId,
      reason: order.reason,
    };
    if (order.price !== undefined) intent.price = order.price;
    if (order.stopPrice !== undefined) intent.stopPrice = order.stopPrice;
    if (order.trailing !== undefined) intent.trailing = order.trailing;
    if (order.isReduceOnly !== undefined) intent.isReduceOnly = order.isReduceOnly;
    this.queue.push({
      kind: 'submit',
      runner: this,
      intent,
      explanationId: order.explanationId ?? null,
      role: 'order',
    });
  }

  cancelAll(reason: string): void {
    this.queue.push({ kind: 'cancel-all', runner: this, reason, onlyProtective: false });
  }

  /** Protective exits for a position just opened at averagePrice (called by the engine). */
  queueProtection(averagePrice: number): void {
    const q = this.slot.quantity;
    if (q === 0) return;
    const isLong = q > 0;
    const side: OrderSide = isLong ? 'sell' : 'buy';
    const quantity = Math.abs(q);
    const p = this.protection;
    const base = {
      symbol: this.symbol,
      side,
      quantity,
      tif: 'GTC' as const,
      isReduceOnly: true,
      strategyId: this.strategyId,
    };
    if (p.stopLoss !== undefined) {
      const stopPrice = exitLevelByFraction(averagePrice, p.stopLoss, isLong, 'loss');
      this.queue.push({
        kind: 'submit',
        runner: this,
        intent: { ...base, type: 'stop', stopPrice, reason: 'stop-loss' },
        explanationId: null,
        role: 'protective',
      });
    }
    if (p.takeProfit !== undefined) {
      const price = exitLevelByFraction(averagePrice, p.takeProfit, isLong, 'profit');
      if (price > 0)
        this.queue.push({
          kind: 'submit',
          runner: this,
          intent: { ...base, type: 'limit', price, reason: 'take-profit' },
          explanationId: null,
          role: 'protective',
        });
    }
    if (p.trailingStop !== undefined) {
      this.queue.push({
        kind: 'submit',
        runner: this,
        intent: {
          ...base,
          type: 'trailing-stop',
          trailing: { offsetFraction: p.trailingStop },
          reason: 'trailing-stop',
        },
        explanationId: null,
        role: 'protective',
      });
    }
  }

  hasProtection(): boolean {
    const p = this.protection;
    return p.stopLoss !== undefined || p.takeProfit !== undefined || p.trailingStop !== undefined;
  }
}
