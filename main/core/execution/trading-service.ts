import type { DatabaseSync } from 'node:sqlite';
import type { Scheduler } from '../clock.ts';
import type { RandomSource } from '../random.ts';
import type { MarketFeed } from '../data/feed.ts';
import { DEFAULT_DEMO_SYMBOLS, type DemoSymbol } from '../data/demo-venue.ts';
import { AuditLedger, CheckpointSigner } from '../audit/audit-ledger.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import { RiskMonitor, type ProtectiveExit } from '../risk/risk-monitor.ts';
import { defaultRiskConfig, validateRiskConfig } from '../risk/risk-limits.ts';
import { FeedBookSource } from './feed-book-source.ts';
import { CashReservations } from './cash-reservations.ts';
import { OrderManager, type SubmitResult } from './order-manager.ts';
import { PaperBroker, jitterLatency, type PaperVenueStore } from './paper-broker.ts';
import { SqliteOrderJournal } from './sqlite-journal.ts';
import {
  KILL_SWITCH_ACK_KEY,
  KILL_SWITCH_STATE_KEY,
  killSwitchStateSchema,
  pendingKillSwitchRequest,
  readSetting,
  writeSetting,
  type KillSwitchRequest,
} from './kill-switch-store.ts';
import {
  isTerminalOrderState,
  type MarketRules,
  type Order,
  type OrderIntent,
  type Fill,
} from '../../../shared/trading.ts';
import type { Alert, RiskConfig, RiskState } from '../../../shared/contract/trading.ts';

/** Paper fees (fractions): 2 bps maker, 5 bps taker. */
export const PAPER_MAKER_FEE = 0.0002;
export const PAPER_TAKER_FEE = 0.0005;
export const DEFAULT_PAPER_CASH = 100_000;

/** Trading rules of the demo venue's symbols (from the demo symbol specs). */
export function demoMarketRules(symbols: readonly DemoSymbol[] = DEFAULT_DEMO_SYMBOLS): MarketRules[] {
  return symbols.map((s) => {
    const [base = s.symbol, quote = 'USDT'] = s.symbol.split('/');
    return {
      symbol: s.symbol,
      base,
      quote,
      tickSize: s.tickSize,
      quantityStep: s.quantityStep,
      minQuantity: s.quantityStep,
      maxQuantity: s.quantityStep * 1e9,
      // Binance's usual spot minimum (5 USDT); the FX pair's lot is already large.
      minNotional: 5,
      makerFeeRate: PAPER_MAKER_FEE,
      takerFeeRate: PAPER_TAKER_FEE,
    };
  });
}

export interface TradingServiceOptions {
  ledgerDb: DatabaseSync;
  dataDir: string;
  scheduler: Scheduler;
  random: RandomSource;
  feed: MarketFeed;
  rules: readonly MarketRules[];
  account?: string;
  /** The simulated venue's durable state (paper-venue.db); in-memory when absent. */
  paperStore?: PaperVenueStore;
  startingCash?: number;
  latency?: { baseMs: number; meanJitterMs: number };
  onAlert?: (alert: Alert) => void;
  onOrder?: (order: Order) => void;
  onFill?: (fill: Fill, order: Order | null) => void;
}

const SETTINGS_RISK = 'risk.config';
const UNKNOWN_POLL_MS = 2000;
/** How often the engine looks for a `vantage kill-switch` request. */
export const KILL_SWITCH_POLL_MS = 500;

/**
 * Everything an account trades with, wired the same way for the app (trading module) and the
 * CLI (`vantage run`): audit ledger and order journal on ledger.db, paper broker on the feed's
 * book, portfolio rebuilt from the journal's fills, risk engine, in-trade monitor, kill switch.
 * start() reconciles with the venue before anything may trade.
 */
export class TradingService {
  readonly audit: AuditLedger;
  readonly journal: SqliteOrderJournal;
  readonly portfolio: Portfolio;
  readonly broker: PaperBroker;
  readonly books: FeedBookSource;
  readonly orders: OrderManager;
  readonly risk: RiskEngine;
  readonly monitor: RiskMonitor;
  /** Cash working orders hold back (Portfolio.reservedCash; risk's available balance). */
  readonly reservations: CashReservations;
  readonly account: string;
  private readonly db: DatabaseSync;
  private readonly dataDir: string;
  private readonly scheduler: Scheduler;
  private readonly feed: MarketFeed;
  private readonly strategyStoppers = new Set<(reason: string) => void | Promise<void>>();
  private readonly riskListeners = new Set<(state: RiskState) => void>();
  private readonly unsubscribers: (() => void)[] = [];
  private readonly followed = new Set<string>();
  private killSwitchReason: string | null = null;
  private unknownTimer: { cancel(): void } | null = null;
  private killRequestTimer: { cancel(): void } | null = null;
  private isStarted = false;

  constructor(options: TradingServiceOptions) {
    this.db = options.ledgerDb;
    this.dataDir = options.dataDir;
    this.scheduler = options.scheduler;
    this.feed = options.feed;
    this.account = options.account ?? 'paper';
    this.audit = new AuditLedger({ db: this.db, clock: this.scheduler });
    this.journal = new SqliteOrderJournal(this.db, this.audit);
    this.portfolio = new Portfolio({
      startingCash: options.startingCash ?? DEFAULT_PAPER_CASH,
      currency: 'USDT',
    });
    for (const fill of this.journal.loadFills()) this.portfolio.applyFill(fill);
    this.books = new FeedBookSource(this.feed, this.scheduler);
    const latency = options.latency ?? { baseMs: 5, meanJitterMs: 2 };
    this.broker = new PaperBroker({
      scheduler: this.scheduler,
      books: this.books,
      rules: options.rules,
      latency: jitterLatency(latency.baseMs, latency.meanJitterMs, options.random),
      ...(options.paperStore ? { store: options.paperStore } : {}),
      venue: 'paper',
    });
    this.orders = new OrderManager({
      broker: this.broker,
      journal: this.journal,
      portfolio: this.portfolio,
      clock: this.scheduler,
      account: this.account,
      clientIdPrefix: 'vt',
    });
    this.risk = new RiskEngine(
      {
        clock: this.scheduler,
        portfolio: this.portfolio,
        marketRules: (s) => this.broker.marketRules(s),
        referencePrice: (s) => this.books.referencePrice(s),
        lastMarketDataMs: (s) => this.books.lastUpdateMs(s),
        openOrderCount: (strategyId) => this.orders.openOrderCount(strategyId),
        hasUnknownOrder: (s) => this.orders.hasUnknownOrder(s),
      },
      this.loadRiskConfig(),
    );
    this.orders.setRiskGate(this.risk);
    this.reservations = new CashReservations({
      orders: this.orders,
      portfolio: this.portfolio,
      rules: (s) => this.broker.marketRules(s),
      referencePrice: (s) => this.books.referencePrice(s),
    });
    this.monitor = new RiskMonitor({
      clock: this.scheduler,
      risk: this.risk,
      portfolio: this.portfolio,
      orders: this.orders,
      journal: this.journal,
      raise: (alert) => options.onAlert?.(alert),
      onBreachHalt: (_kind, message) =>
        void this.engageKillSwitch({ reason: message, source: 'risk-breach', isFlattening: false }),
    });
    if (options.onOrder) this.unsubscribers.push(this.orders.onOrder(options.onOrder));
    this.unsubscribers.push(
      this.orders.onFill((fill, order) => {
        this.monitor.evaluate(fill.symbol);
        options.onFill?.(fill, order);
      }),
    );
    for (const order of this.orders.workingOrders()) this.follow(order.symbol);
  }

  /** Follows a symbol's market data (book for fills and risk, prices for the monitor). */
  follow(symbol: string): void {
    if (this.followed.has(symbol)) return;
    this.followed.add(symbol);
    this.unsubscribers.push(
      this.books.subscribe(symbol, () => {
        const price = this.books.lastPrice(symbol) ?? this.books.referencePrice(symbol);
        if (price !== null) this.monitor.onPrice(symbol, price);
      }),
    );
  }

  /** Reconciles with the venue (protocol step 4) and records the engine start; call before strategies run. */
  async start(): Promise<{ resolved: number; external: number; fillsApplied: number }> {
    this.audit.append('engine.start', { account: this.account, venue: this.broker.venue });
    const summary = await this.orders.reconcile();
    for (const o of this.orders.workingOrders()) {
      this.follow(o.symbol);
      if (o.isExternal)
        this.monitor.alert(
          'warning',
          'external-order',
          o.symbol,
          `Order ${o.clientOrderId} on ${o.symbol} was not placed by Vantage (EXTERNAL).`,
        );
    }
    this.audit.flush();
    this.isStarted = true;
    this.watchUnknown();
    // A kill switch engaged when the last engine stopped still holds (working orders cancelled).
    const state = readSetting(this.db, KILL_SWITCH_STATE_KEY, killSwitchStateSchema);
    if (state?.isEngaged && !this.risk.isHalted('kill-switch')) {
      await this.engageKillSwitch({
        reason: state.reason,
        source: `restart (engaged by ${state.source})`,
        isFlattening: false,
      });
    }
    await this.carryOutKillSwitchRequest();
    this.watchKillSwitchRequests();
    return summary;
  }

  /** `vantage kill-switch` asks through ledger.db; the engine carries it out and answers there. */
  private watchKillSwitchRequests(): void {
    this.killRequestTimer = this.scheduler.schedule(KILL_SWITCH_POLL_MS, () => {
      void this.carryOutKillSwitchRequest()
        .catch(() => undefined)
        .then(() => {
          if (this.killRequestTimer) this.watchKillSwitchRequests();
        });
    });
  }

  private async carryOutKillSwitchRequest(): Promise<void> {
    const request: KillSwitchRequest | null = pendingKillSwitchRequest(this.db);
    if (!request) return;
    let result = { canceled: 0, flattenOrders: 0 };
    if (request.action === 'engage') {
      result = await this.engageKillSwitch({
        reason: request.reason,
        source: 'cli',
        isFlattening: request.isFlattening,
      });
    } else if (this.risk.isHalted('kill-switch')) {
      this.releaseKillSwitch(`${request.reason} (cli)`);
    }
    writeSetting(
      this.db,
      KILL_SWITCH_ACK_KEY,
      { id: request.id, action: request.action, ...result, handledMs: this.scheduler.nowMs() },
      this.scheduler.nowMs(),
    );
  }

  /** Protocol step 3: UNKNOWN orders are asked about by client id until resolved (never re-sent). */
  private watchUnknown(): void {
    this.unknownTimer = this.scheduler.schedule(UNKNOWN_POLL_MS, () => {
      const hasUnknown = this.orders.workingOrders().some((o) => o.state === 'unknown');
      const work = hasUnknown ? this.orders.resolveUnknown() : Promise.resolve(0);
      void work
        .catch(() => 0)
        .then(() => {
          if (this.unknownTimer) this.watchUnknown();
        });
    });
  }

  get hasStarted(): boolean {
    return this.isStarted;
  }

  async submit(intent: OrderIntent): Promise<SubmitResult> {
    this.follow(intent.symbol);
    return this.orders.submit(intent);
  }

  preview(intent: OrderIntent): { order: Order; verdict: ReturnType<RiskEngine['check']> } {
    this.follow(intent.symbol);
    const { order } = this.orders.preview(intent);
    return { order, verdict: this.risk.check(order, true) };
  }

  attachExit(exit: ProtectiveExit): void {
    this.monitor.attachExit(exit);
  }

  /** Registers a hook the kill switch calls to stop strategies (the strategy runner registers one). */
  addStrategyStopper(stop: (reason: string) => void | Promise<void>): () => void {
    this.strategyStoppers.add(stop);
    return () => this.strategyStoppers.delete(stop);
  }

  onRiskChange(listener: (state: RiskState) => void): () => void {
    this.riskListeners.add(listener);
    return () => this.riskListeners.delete(listener);
  }

  /**
   * Kill switch: halts new risk, stops every strategy, cancels every working order, optionally
   * flattens every position with reduce-only market orders. Audited before anything else happens.
   */
  async engageKillSwitch(options: {
    reason: string;
    source: string;
    isFlattening: boolean;
  }): Promise<{ canceled: number; flattenOrders: number }> {
    this.audit.appendNow('kill-switch.engaged', {
      reason: options.reason,
      source: options.source,
      isFlattening: options.isFlattening,
    });
    this.killSwitchReason = options.reason;
    this.risk.halt('kill-switch', options.reason);
    writeSetting(
      this.db,
      KILL_SWITCH_STATE_KEY,
      { isEngaged: true, reason: options.reason, source: options.source, tsMs: this.scheduler.nowMs() },
      this.scheduler.nowMs(),
    );
    this.monitor.alert(
      'critical',
      'kill-switch',
      null,
      `Kill switch engaged (${options.source}): ${options.reason}`,
    );
    for (const stop of this.strategyStoppers)
      await Promise.resolve(stop(`kill switch: ${options.reason}`)).catch(() => undefined);
    const canceled = await this.orders.cancelAll({}, 'kill-switch');
    let flattenOrders = 0;
    if (options.isFlattening) {
      for (const p of this.portfolio.positions()) {
        const net = this.portfolio.netQuantity(p.symbol);
        if (net === 0 || p.strategyId !== this.firstStrategyWith(p.symbol)) continue;
        const result = await this.orders
          .submit({
            symbol: p.symbol,
            side: net > 0 ? 'sell' : 'buy',
            type: 'market',
            quantity: Math.abs(net),
            tif: 'IOC',
            isReduceOnly: true,
            strategyId: p.strategyId,
            reason: 'kill-switch flatten',
          })
          .catch(() => null);
        if (result?.status === 'sent') flattenOrders++;
      }
    }
    this.audit.appendNow('kill-switch.done', { canceled, flattenOrders });
    this.emitRisk();
    return { canceled, flattenOrders };
  }

  releaseKillSwitch(reason: string): void {
    this.audit.appendNow('kill-switch.released', { reason });
    this.killSwitchReason = null;
    this.risk.clearHalt('kill-switch');
    writeSetting(
      this.db,
      KILL_SWITCH_STATE_KEY,
      { isEngaged: false, reason, source: 'release', tsMs: this.scheduler.nowMs() },
      this.scheduler.nowMs(),
    );
    this.emitRisk();
  }

  private firstStrategyWith(symbol: string): string | undefined {
    return this.portfolio.positions().find((p) => p.symbol === symbol && p.quantity !== 0)?.strategyId;
  }

  /** Validates, audits (before and after) and applies new limits. */
  setLimits(input: unknown, reason: string, actor: string): RiskState {
    const config = validateRiskConfig(input);
    const before = this.risk.getConfig();
    this.audit.transaction(() => {
      writeSetting(this.db, SETTINGS_RISK, config, this.scheduler.nowMs());
      this.audit.append('risk.limits-changed', { before, after: config, reason, actor });
    });
    this.risk.setConfig(config);
    this.emitRisk();
    return this.riskState();
  }

  private loadRiskConfig(): RiskConfig {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(SETTINGS_RISK) as
      { value: string } | undefined;
    if (!row) return defaultRiskConfig();
    return validateRiskConfig(JSON.parse(row.value));
  }

  riskState(): RiskState {
    const equity = this.risk.updateEquityMarks();
    const limits = this.risk.getConfig().global;
    const utilisation: RiskState['utilisation'] = [
      {
        check: 'gross-leverage',
        symbol: null,
        value: equity > 0 ? this.portfolio.grossExposure() / equity : 0,
        limit: limits.maxGrossLeverage,
        unit: 'x',
      },
      {
        check: 'daily-loss',
        symbol: null,
        value: this.risk.dailyLossPct(equity),
        limit: limits.dailyLossLimitPct,
        unit: '%',
      },
      {
        check: 'drawdown',
        symbol: null,
        value: this.risk.drawdownPct(equity),
        limit: limits.maxDrawdownPct,
        unit: '%',
      },
      {
        check: 'open-orders',
        symbol: null,
        value: this.orders.openOrderCount(),
        limit: limits.maxOpenOrders,
        unit: 'orders',
      },
    ];
    for (const p of this.portfolio.positions()) {
      if (p.quantity === 0) continue;
      const l = this.risk.limitsFor(p.strategyId, p.symbol);
      utilisation.push({
        check: 'position-pct-equity',
        symbol: p.symbol,
        value:
          equity > 0 ? ((Math.abs(this.portfolio.netQuantity(p.symbol)) * p.markPrice) / equity) * 100 : 0,
        limit: l.maxPositionPctOfEquity,
        unit: '%',
      });
    }
    return {
      config: this.risk.getConfig(),
      isKillSwitchEngaged: this.risk.isHalted('kill-switch'),
      killSwitchReason: this.killSwitchReason,
      halts: this.risk
        .activeHalts()
        .map((h) => ({ kind: h.kind, symbol: null, message: h.message, sinceMs: h.sinceMs })),
      reduceOnlySymbols: this.risk.reduceOnlySymbols(),
      isAccountReduceOnly: this.risk.isAccountReduceOnly(),
      utilisation,
      startOfDayEquity: this.risk.startOfDayEquity,
      peakEquity: this.risk.peakEquity,
    };
  }

  private emitRisk(): void {
    if (this.riskListeners.size === 0) return;
    const state = this.riskState();
    for (const l of this.riskListeners) l(state);
  }

  /** Signs a checkpoint of the audit chain with the data folder's key. */
  checkpoint(): ReturnType<AuditLedger['checkpoint']> {
    return this.audit.checkpoint(CheckpointSigner.load(this.dataDir));
  }

  /** Clean stop: cancels working orders (unless told not to), records the stop, flushes the ledger. */
  async stop(
    options: { isCancellingOrders: boolean } = { isCancellingOrders: true },
  ): Promise<{ canceled: number }> {
    this.unknownTimer?.cancel();
    this.unknownTimer = null;
    this.killRequestTimer?.cancel();
    this.killRequestTimer = null;
    let canceled = 0;
    if (options.isCancellingOrders) canceled = await this.orders.cancelAll({}, 'engine stop');
    const working = this.orders.workingOrders().filter((o) => !isTerminalOrderState(o.state)).length;
    this.audit.append('engine.stop', {
      account: this.account,
      canceled,
      stillWorking: working,
      equity: this.portfolio.equity(),
    });
    this.audit.flush();
    for (const u of this.unsubscribers.splice(0)) u();
    this.reservations.close();
    this.orders.close();
    this.broker.close();
    this.books.close();
    return { canceled };
  }
}
