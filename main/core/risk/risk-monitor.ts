import type { Clock } from '../clock.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import type { OrderManager } from '../execution/order-manager.ts';
import type { OrderJournal } from '../execution/journal.ts';
import type { RiskEngine } from './risk-engine.ts';
import { exitLevelByFraction } from './protective-exits.ts';
import type { Alert } from '../../../shared/contract/trading.ts';

/** A protective exit held by the engine for a venue without the native order type. */
export interface ProtectiveExit {
  symbol: string;
  strategyId: string;
  /** Close the position if the price falls to (long) / rises to (short) this price. */
  stopLossPrice?: number;
  takeProfitPrice?: number;
  /** Trailing stop as a fraction of the best price since attached. */
  trailingFraction?: number;
}

interface ExitState extends ProtectiveExit {
  bestPrice: number | null;
  isFiring: boolean;
}

export type AlertSink = (alert: Alert) => void;

/**
 * The in-trade monitor: on every price move it re-evaluates exposure against the limits; a
 * symbol over its position limit becomes reduce-only and the account over its leverage limit
 * becomes reduce-only (each with an alert); the daily loss limit and the drawdown breaker halt
 * new risk and engage the kill switch. It also enforces stop-loss, take-profit and trailing
 * exits for venues that have no native order for them, by sending reduce-only market orders.
 */
export class RiskMonitor {
  private readonly clock: Clock;
  private readonly risk: RiskEngine;
  private readonly portfolio: Portfolio;
  private readonly orders: OrderManager;
  private readonly journal: OrderJournal;
  private readonly raise: AlertSink;
  private readonly onBreachHalt: (kind: 'daily-loss' | 'drawdown', message: string) => void;
  private readonly exits = new Map<string, ExitState>();
  private alertSeq = 0;

  constructor(options: {
    clock: Clock;
    risk: RiskEngine;
    portfolio: Portfolio;
    orders: OrderManager;
    journal: OrderJournal;
    raise: AlertSink;
    /** Called once when a loss halt trips (the trading service engages the kill switch). */
    onBreachHalt: (kind: 'daily-loss' | 'drawdown', message: string) => void;
  }) {
    this.clock = options.clock;
    this.risk = options.risk;
    this.portfolio = options.portfolio;
    this.orders = options.orders;
    this.journal = options.journal;
    this.raise = options.raise;
    this.onBreachHalt = options.onBreachHalt;
  }

  attachExit(exit: ProtectiveExit): void {
    this.exits.set(`${exit.strategyId}\u0000${exit.symbol}`, { ...exit, bestPrice: null, isFiring: false });
    this.journal.audit('risk.exit-attached', { ...exit });
  }

  detachExit(strategyId: string, symbol: string): void {
    this.exits.delete(`${strategyId}\u0000${symbol}`);
  }

  /** A new price for a symbol: mark, re-evaluate limits, fire exits. */
  onPrice(symbol: string, price: number): void {
    this.portfolio.mark(symbol, price);
    this.evaluate(symbol);
    this.fireExits(symbol, price);
  }

  /** Re-evaluates exposure and loss limits (also called after fills). */
  evaluate(symbol: string | null): void {
    const equity = this.risk.updateEquityMarks();
    const limits = this.risk.limitsFor('manual', symbol ?? '');
    if (symbol !== null) {
      const exposure = Math.abs(this.portfolio.netQuantity(symbol)) * this.portfolio.markPrice(symbol);
      const pct = equity > 0 ? (exposure / equity) * 100 : 0;
      const isOver = pct > limits.maxPositionPctOfEquity;
      const isMarked = this.risk.reduceOnlySymbols().includes(symbol);
      if (isOver && !isMarked) {
        this.risk.setReduceOnly(symbol, true);
        this.alert(
          'warning',
          'position-limit',
          symbol,
          `${symbol} position is ${pct.toFixed(2)}% of equity, over the ${limits.maxPositionPctOfEquity}% limit: ${symbol} is reduce-only until it is back inside.`,
        );
      } else if (!isOver && isMarked) {
        this.risk.setReduceOnly(symbol, false);
        this.alert(
          'info',
          'position-limit',
          symbol,
          `${symbol} position is back inside its limit (${pct.toFixed(2)}% of equity).`,
        );
      }
    }
    const leverage = equity > 0 ? this.portfolio.grossExposure() / equity : 0;
    const isLeverageOver = leverage > limits.maxGrossLeverage;
    if (isLeverageOver !== this.risk.isAccountReduceOnly()) {
      this.risk.setReduceOnly(null, isLeverageOver);
      this.alert(
        isLeverageOver ? 'warning' : 'info',
        'leverage',
        null,
        isLeverageOver
          ? `Gross leverage ${leverage.toFixed(2)}x is over the ${limits.maxGrossLeverage}x limit: the account is reduce-only.`
          : `Gross leverage ${leverage.toFixed(2)}x is back inside the limit.`,
      );
    }
    const loss = this.risk.dailyLossPct(equity);
    if (loss >= limits.dailyLossLimitPct && !this.risk.isHalted('daily-loss')) {
      const message = `Daily loss ${loss.toFixed(2)}% of start-of-day equity reached the ${limits.dailyLossLimitPct}% limit: trading halted.`;
      this.risk.halt('daily-loss', message);
      this.alert('critical', 'daily-loss', null, message);
      this.onBreachHalt('daily-loss', message);
    }
    const drawdown = this.risk.drawdownPct(equity);
    if (drawdown >= limits.maxDrawdownPct && !this.risk.isHalted('drawdown')) {
      const message = `Drawdown ${drawdown.toFixed(2)}% from peak equity reached the ${limits.maxDrawdownPct}% breaker: trading halted.`;
      this.risk.halt('drawdown', message);
      this.alert('critical', 'drawdown', null, message);
      this.onBreachHalt('drawdown', message);
    }
  }

  private fireExits(symbol: string, price: number): void {
    for (const exit of this.exits.values()) {
      if (exit.symbol !== symbol || exit.isFiring) continue;
      const slot = this.portfolio.slot(exit.strategyId, symbol);
      const quantity = slot.quantity;
      if (quantity === 0) continue;
      const isLong = quantity > 0;
      exit.bestPrice =
        exit.bestPrice === null
          ? price
          : isLong
            ? Math.max(exit.bestPrice, price)
            : Math.min(exit.bestPrice, price);
      let why: string | null = null;
      if (
        exit.stopLossPrice !== undefined &&
        (isLong ? price <= exit.stopLossPrice : price >= exit.stopLossPrice)
      )
        why = 'stop-loss';
      else if (
        exit.takeProfitPrice !== undefined &&
        (isLong ? price >= exit.takeProfitPrice : price <= exit.takeProfitPrice)
      )
        why = 'take-profit';
      else if (exit.trailingFraction !== undefined) {
        const trigger = exitLevelByFraction(exit.bestPrice, exit.trailingFraction, isLong, 'loss');
        if (isLong ? price <= trigger : price >= trigger) why = 'trailing-stop';
      }
      if (!why) continue;
      exit.isFiring = true;
      const reason = why;
      this.alert(
        'info',
        reason,
        symbol,
        `${reason} for ${exit.strategyId} on ${symbol} at ${price}: closing ${Math.abs(quantity)}.`,
      );
      void this.orders
        .submit({
          symbol,
          side: isLong ? 'sell' : 'buy',
          type: 'market',
          quantity: Math.abs(quantity),
          tif: 'IOC',
          isReduceOnly: true,
          strategyId: exit.strategyId,
          reason,
        })
        .then((r) => {
          if (r.status === 'sent') this.exits.delete(`${exit.strategyId}\u0000${symbol}`);
          else {
            exit.isFiring = false;
            this.alert(
              'critical',
              reason,
              symbol,
              `${reason} exit on ${symbol} was refused by risk: ${r.verdict.reason ?? ''}`,
            );
          }
        })
        .catch((err: unknown) => {
          exit.isFiring = false;
          this.alert(
            'critical',
            reason,
            symbol,
            `${reason} exit on ${symbol} failed: ${err instanceof Error ? err.message : String(err)}`,
          );
        });
    }
  }

  alert(severity: Alert['severity'], kind: string, symbol: string | null, message: string): void {
    const alert: Alert = {
      id: `a${this.clock.nowMs()}-${++this.alertSeq}`,
      tsMs: this.clock.nowMs(),
      severity,
      kind,
      symbol,
      message,
    };
    this.journal.audit('alert', { ...alert });
    this.raise(alert);
  }
}
