import { AppErrorException, appError } from '../../../shared/errors.ts';
import { isTerminalOrderState, type Fill, type Order, type RiskVerdict } from '../../../shared/trading.ts';
import type { Clock } from '../clock.ts';
import type { OrderManager, SubmitResult } from '../execution/order-manager.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import { StrategyRunner, type OrderRole, type RunnerConfig, type StrategyAction } from './runner.ts';
import type { MarketTrade, Prediction } from './types.ts';

type SubmitAction = Extract<StrategyAction, { kind: 'submit' }>;

/**
 * A fill as the engine saw it, with the explanation id of the decision behind its order (null if
 * none). The order is the order manager's record, borrowed: read it during the call, never keep it.
 */
export type StrategyFillListener = (fill: Fill, order: Order | null, explanationId: string | null) => void;

export interface StrategyEngineOptions {
  orderManager: OrderManager;
  portfolio: Portfolio;
  clock: Clock;
}

/** A decision a strategy made and what became of it (for parity checks and the audit trail). */
export interface DecisionRecord {
  tsMs: number;
  strategyId: string;
  symbol: string;
  role: OrderRole;
  side: string;
  type: string;
  quantity: number;
  reason: string;
  explanationId: string | null;
  clientOrderId: string | null;
  outcome: 'sent' | 'risk-rejected' | 'invalid';
  message: string | null;
  /** The pre-trade verdict with every check (sent and risk-rejected orders); null for an invalid intent. */
  verdict: RiskVerdict | null;
}

/**
 * Runs many strategy instances (any number, on any symbols) against one order manager and
 * portfolio. The same engine runs live, on paper and in the backtester; only the feed, the clock
 * and the broker behind the order manager differ. Every order goes strategy -> risk (the order
 * manager's gate) -> order manager -> broker; fills come back to the strategy and the portfolio.
 *
 * Bars must be delivered at or after their close (onBar checks the clock): that is the
 * look-ahead guard at the engine's edge.
 */
export class StrategyEngine {
  private readonly orderManager: OrderManager;
  private readonly portfolio: Portfolio;
  private readonly clock: Clock;
  private readonly queue: StrategyAction[] = [];
  private readonly runners: StrategyRunner[] = [];
  private readonly byStrategy = new Map<string, StrategyRunner>();
  private readonly bySymbol = new Map<string, StrategyRunner[]>();
  /** Explanation id and role of each order this engine sent, by client id, while it can still fill. */
  private readonly orderInfo = new Map<string, { explanationId: string | null; role: OrderRole }>();
  private readonly fillListeners: StrategyFillListener[] = [];
  readonly decisions: DecisionRecord[] = [];
  private readonly unsubscribers: (() => void)[] = [];
  private isStarted = false;
  isRecordingDecisions = true;

  constructor(options: StrategyEngineOptions) {
    this.orderManager = options.orderManager;
    this.portfolio = options.portfolio;
    this.clock = options.clock;
    // Borrowing: the engine reads the order manager's records during the call; a strategy gets a copy.
    this.unsubscribers.push(
      this.orderManager.onOrder((order) => this.handleOrder(order), { isBorrowing: true }),
    );
    this.unsubscribers.push(
      this.orderManager.onFill((fill, order) => this.handleFill(fill, order), { isBorrowing: true }),
    );
  }

  add(config: RunnerConfig): StrategyRunner {
    if (this.byStrategy.has(config.strategyId))
      throw appError('STRATEGY_INVALID', `Strategy id '${config.strategyId}' is already running.`);
    const runner = new StrategyRunner(config, this.portfolio, this.queue);
    this.runners.push(runner);
    this.byStrategy.set(runner.strategyId, runner);
    let list = this.bySymbol.get(runner.symbol);
    if (!list) {
      list = [];
      this.bySymbol.set(runner.symbol, list);
    }
    list.push(runner);
    if (this.isStarted) runner.strategy.start?.(runner);
    return runner;
  }

  /** Called for every fill, after the strategy heard of it (the backtester's trade list). */
  onFill(listener: StrategyFillListener): void {
    this.fillListeners.push(listener);
  }

  runner(strategyId: string): StrategyRunner | null {
    return this.byStrategy.get(strategyId) ?? null;
  }

  allRunners(): readonly StrategyRunner[] {
    return this.runners;
  }

  /** The runners of a symbol (a live array: the backtester keeps it to skip a lookup per bar). */
  runnersFor(symbol: string): readonly StrategyRunner[] {
    let list = this.bySymbol.get(symbol);
    if (!list) {
      list = [];
      this.bySymbol.set(symbol, list);
    }
    return list;
  }

  /** Delivers a closed bar to the given runners (see onBar; same look-ahead check). */
  deliverBar(
    list: readonly StrategyRunner[],
    timeMs: number,
    closeMs: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
  ): void {
    if (this.clock.nowMs() < closeMs) {
      throw appError(
        'INTERNAL',
        `look-ahead: bar ${timeMs} closes at ${closeMs} but was delivered at ${this.clock.nowMs()}`,
      );
    }
    for (let i = 0; i < list.length; i++)
      list[i]!.deliverBar(timeMs, closeMs, open, high, low, close, volume);
  }

  symbols(): string[] {
    return [...this.bySymbol.keys()];
  }

  start(): void {
    if (this.isStarted) return;
    this.isStarted = true;
    for (const r of this.runners) r.strategy.start?.(r);
  }

  stop(): void {
    if (!this.isStarted) return;
    this.isStarted = false;
    for (const r of this.runners) r.strategy.stop?.(r);
    for (const u of this.unsubscribers.splice(0)) u();
  }

  /** A bar of `symbol` closed at closeMs. Strategies on the symbol decide; their orders wait in the queue (drain()). */
  onBar(
    symbol: string,
    timeMs: number,
    closeMs: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
  ): void {
    if (this.clock.nowMs() < closeMs) {
      throw appError(
        'INTERNAL',
        `look-ahead: bar ${symbol} ${timeMs} closes at ${closeMs} but was delivered at ${this.clock.nowMs()}`,
      );
    }
    const list = this.bySymbol.get(symbol);
    if (!list) return;
    for (let i = 0; i < list.length; i++)
      list[i]!.deliverBar(timeMs, closeMs, open, high, low, close, volume);
  }

  onPrediction(prediction: Prediction): void {
    if (prediction.tsMs > this.clock.nowMs()) {
      throw appError(
        'INTERNAL',
        `look-ahead: prediction for ${prediction.symbol} at ${prediction.tsMs} delivered at ${this.clock.nowMs()}`,
      );
    }
    const list = this.bySymbol.get(prediction.symbol);
    if (!list) return;
    for (const r of list) {
      r.prediction = prediction;
      r.strategy.onPrediction?.(r, prediction);
    }
  }

  onTrade(trade: MarketTrade): void {
    const list = this.bySymbol.get(trade.symbol);
    if (!list) return;
    for (const r of list) r.strategy.onTrade?.(r, trade);
  }

  hasPending(): boolean {
    return this.queue.length > 0;
  }

  /** Performs queued order actions in order, including those that their own events cause. */
  async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const action = this.queue.shift()!;
      if (action.kind === 'cancel-all') {
        const runner = action.runner;
        const ids = [...runner.working]
          .filter(([, role]) => !action.onlyProtective || role === 'protective')
          .map(([id]) => id);
        for (const id of ids) {
          const order = this.orderManager.get(id);
          if (!order || isTerminalOrderState(order.state) || order.state === 'pending-submit') continue;
          await this.orderManager.cancel(id, action.reason).catch(() => undefined);
        }
        continue;
      }
      const record = this.beginDecision(action);
      try {
        // The role must be known before the first order event arrives (it arrives inside submit).
        this.pendingRole = action;
        this.endDecision(action, record, await this.orderManager.submit(action.intent));
      } catch (error) {
        this.failDecision(action, record, error);
      } finally {
        this.pendingRole = null;
      }
    }
  }

  /**
   * drain() without a turn of the event loop, for a venue that answers inside the call (the
   * backtest): performs queued submits in order and stops at the first cancel (cancels await
   * the venue). True when the queue is empty; false when drain() must carry on.
   */
  drainNow(): boolean {
    if (!this.orderManager.canSubmitNow) return this.queue.length === 0;
    while (this.queue.length > 0) {
      const action = this.queue[0]!;
      if (action.kind !== 'submit') return false;
      this.queue.shift();
      const record = this.beginDecision(action);
      try {
        this.pendingRole = action;
        this.endDecision(action, record, this.orderManager.submitNow(action.intent, { isBorrowing: true }));
      } catch (error) {
        this.failDecision(action, record, error);
      } finally {
        this.pendingRole = null;
      }
    }
    return true;
  }

  private beginDecision(action: SubmitAction): DecisionRecord | null {
    if (!this.isRecordingDecisions) return null;
    const { runner, intent } = action;
    const record: DecisionRecord = {
      tsMs: this.clock.nowMs(),
      strategyId: runner.strategyId,
      symbol: runner.symbol,
      role: action.role,
      side: intent.side,
      type: intent.type,
      quantity: intent.quantity,
      reason: intent.reason,
      explanationId: action.explanationId,
      clientOrderId: null,
      outcome: 'sent',
      message: null,
      verdict: null,
    };
    this.decisions.push(record);
    return record;
  }

  private endDecision(action: SubmitAction, record: DecisionRecord | null, result: SubmitResult): void {
    if (record) record.verdict = result.verdict;
    if (result.status === 'risk-rejected') {
      if (record) {
        record.outcome = 'risk-rejected';
        record.message = result.verdict.reason;
      }
      action.runner.strategy.onOrderEvent?.(action.runner, {
        kind: 'risk-rejected',
        reason: result.verdict.reason ?? 'rejected by risk',
        intent: action.intent,
      });
    } else if (record) {
      record.clientOrderId = result.order.clientOrderId;
      record.quantity = result.order.quantity;
    }
  }

  /** An intent that cannot become an order is the strategy's to hear about; anything else is a bug. */
  private failDecision(action: SubmitAction, record: DecisionRecord | null, error: unknown): void {
    if (!(error instanceof AppErrorException) || error.code !== 'ORDER_INVALID') throw error;
    if (record) {
      record.outcome = 'invalid';
      record.message = error.message;
    }
    action.runner.strategy.onOrderEvent?.(action.runner, {
      kind: 'invalid',
      reason: error.message,
      intent: action.intent,
    });
  }

  private pendingRole: SubmitAction | null = null;

  private handleOrder(order: Order): void {
    const runner = this.byStrategy.get(order.strategyId);
    if (!runner) return;
    let info = this.orderInfo.get(order.clientOrderId);
    if (!info && this.pendingRole && this.pendingRole.runner === runner) {
      info = { explanationId: this.pendingRole.explanationId, role: this.pendingRole.role };
      this.orderInfo.set(order.clientOrderId, info);
    }
    const role = info?.role ?? 'order';
    if (isTerminalOrderState(order.state)) {
      // A filled order's last fill comes right after this event (handleFill still needs the info).
      if (order.state !== 'filled') this.orderInfo.delete(order.clientOrderId);
      const wasWorking = runner.working.delete(order.clientOrderId);
      // An entry that ended (filled, or cancelled after a partial fill) opens the protective exits.
      if (
        wasWorking &&
        role === 'entry' &&
        order.filledQuantity > 0 &&
        runner.hasProtection() &&
        runner.slot.quantity !== 0
      ) {
        runner.queueProtection(runner.slot.averagePrice);
      }
    } else {
      runner.working.set(order.clientOrderId, role);
    }
    runner.strategy.onOrderEvent?.(runner, { kind: 'order', order: { ...order } });
  }

  private handleFill(fill: Fill, order: Order | null): void {
    const info = this.orderInfo.get(fill.clientOrderId);
    this.handleStrategyFill(fill, order);
    const explanationId = info?.explanationId ?? null;
    for (let i = 0; i < this.fillListeners.length; i++) this.fillListeners[i]!(fill, order, explanationId);
    if (info && order && isTerminalOrderState(order.state)) this.orderInfo.delete(fill.clientOrderId);
  }

  private handleStrategyFill(fill: Fill, order: Order | null): void {
    const runner = this.byStrategy.get(fill.strategyId);
    if (!runner) return;
    const slot = runner.slot;
    const q = slot.quantity;
    const signed = fill.side === 'buy' ? fill.quantity : -fill.quantity;
    const before = q - signed;
    const isOpening = before === 0 || (q !== 0 && Math.sign(q) !== Math.sign(before));
    if (q === 0 || (before !== 0 && Math.sign(q) !== Math.sign(before))) {
      // A position closed (or flipped): its P&L net of fees feeds Kelly sizing.
      runner.stats.record(slot.realisedPnl - slot.feesPaid - runner.openBaseline);
      runner.openedAtIndex = -1;
      if (q === 0 && runner.working.size > 0)
        this.queue.push({ kind: 'cancel-all', runner, reason: 'position closed', onlyProtective: true });
    }
    if (isOpening && q !== 0) {
      runner.openedAtIndex = runner.barIndex;
      // The opening fill's fee belongs to the new position.
      runner.openBaseline = slot.realisedPnl - (slot.feesPaid - fill.fee);
    }
    runner.strategy.onOrderEvent?.(runner, { kind: 'fill', fill, order: order && { ...order } });
  }
}
