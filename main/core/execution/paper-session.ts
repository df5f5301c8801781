import { join } from 'node:path';
import type { Scheduler } from '../clock.ts';
import { SeededRandom } from '../random.ts';
import { openDatabase, type OpenedDatabase } from '../store/sqlite.ts';
import { ledgerMigrations } from '../store/ledger-migrations.ts';
import { DemoVenue, DEFAULT_DEMO_SYMBOLS } from '../data/demo-venue.ts';
import { BarAggregator } from '../data/bar-aggregator.ts';
import { StrategyEngine } from '../strategy/engine.ts';
import { createBuiltinStrategy } from '../strategy/builtins/index.ts';
import { parseSizing, type ProtectionSpec, type SizingInput } from '../strategy/sizing.ts';
import type { StrategyParams } from '../strategy/types.ts';
import { SqlitePaperStore, paperVenueMigrations } from './paper-store.ts';
import { TradingService, demoMarketRules } from './trading-service.ts';
import { appError } from '../../../shared/errors.ts';
import { TIMEFRAME_MS, type Timeframe } from '../../../shared/market.ts';
import type { Fill, Order } from '../../../shared/trading.ts';
import type { Alert } from '../../../shared/contract/trading.ts';

export interface PaperSessionOptions {
  dataDir: string;
  scheduler: Scheduler;
  symbol: string;
  /** A built-in strategy id, or 'none' (no strategy: the account is reconciled, watched and stopped cleanly). */
  strategy: string;
  params: StrategyParams;
  timeframe: Timeframe;
  sizing: SizingInput;
  protection: ProtectionSpec;
  seed: number;
  /**
   * Market time runs this many times faster than real time (--speed): the stale-feed limit is
   * scaled by it for this session, so it still means the same real-time silence.
   */
  speed?: number;
  onFill?: (fill: Fill) => void;
  onOrder?: (order: Order) => void;
  onAlert?: (alert: Alert) => void;
}

export interface SessionSummary {
  strategy: string;
  symbol: string;
  startedMs: number;
  stoppedMs: number;
  bars: number;
  ordersSent: number;
  ordersRejectedByRisk: number;
  fills: number;
  canceledAtStop: number;
  stillWorking: number;
  position: number;
  realisedPnl: number;
  unrealisedPnl: number;
  feesPaid: number;
  equity: number;
  auditHeadSeq: number;
  isAuditOk: boolean;
  reconciliation: { resolved: number; external: number; fillsApplied: number };
}

/**
 * A headless paper session (`vantage run`): the demo venue, the paper account and the strategy
 * engine wired exactly as in the app (TradingService: risk, order manager, portfolio, audit on
 * ledger.db; paper venue state in paper-venue.db), bars built from the venue's trades.
 */
export class PaperSession {
  readonly service: TradingService;
  private readonly options: PaperSessionOptions;
  private readonly ledger: OpenedDatabase;
  private readonly venueDb: OpenedDatabase;
  private readonly demo: DemoVenue;
  private readonly engine: StrategyEngine | null;
  private readonly aggregator: BarAggregator;
  private unsubscribeTrades: (() => void) | null = null;
  private chain: Promise<void> = Promise.resolve();
  private bars = 0;
  private rejectedByRisk = 0;
  private fills = 0;
  private startedMs = 0;
  private reconciliation = { resolved: 0, external: 0, fillsApplied: 0 };
  private isStopped = false;

  constructor(options: PaperSessionOptions) {
    this.options = options;
    const spec = DEFAULT_DEMO_SYMBOLS.find((s) => s.symbol === options.symbol);
    if (!spec) {
      throw appError('BAD_INPUT', `The demo venue has no symbol ${options.symbol}; it has ${DEFAULT_DEMO_SYMBOLS.map((s) => s.symbol).join(', ')}.`);
    }
    // Validate the strategy before opening anything.
    const strategy = options.strategy === 'none' ? null : createBuiltinStrategy(options.strategy, options.params);
    const sizing = parseSizing(options.sizing);
    this.ledger = openDatabase({ name: 'ledger.db', path: join(options.dataDir, 'ledger.db'), migrations: ledgerMigrations, durability: 'full' });
    try {
      this.venueDb = openDatabase({ name: 'paper-venue.db', path: join(options.dataDir, 'paper-venue.db'), migrations: paperVenueMigrations, durability: 'full' });
    } catch (err) {
      this.ledger.close();
      throw err;
    }
    this.demo = new DemoVenue({ scheduler: options.scheduler, seed: options.seed, symbols: [spec] });
    this.service = new TradingService({
      ledgerDb: this.ledger.db,
      dataDir: options.dataDir,
      scheduler: options.scheduler,
      random: new SeededRandom(options.seed),
      feed: this.demo,
      rules: demoMarketRules([spec]),
      paperStore: new SqlitePaperStore(this.venueDb.db),
      onFill: (fill) => {
        this.fills++;
        options.onFill?.(fill);
      },
      ...(options.onOrder ? { onOrder: options.onOrder } : {}),
      ...(options.onAlert ? { onAlert: options.onAlert } : {}),
    });
    const speed = options.speed ?? 1;
    if (speed > 1) {
      const config = structuredClone(this.service.risk.getConfig());
      config.global.maxFeedAgeMs = Math.min(86_400_000, Math.round(config.global.maxFeedAgeMs * speed));
      this.service.risk.setConfig(config);
      this.service.audit.append('session.risk-override', { maxFeedAgeMs: config.global.maxFeedAgeMs, speed, why: 'stale-feed limit scaled to market time' });
    }
    this.engine = strategy
      ? new StrategyEngine({ orderManager: this.service.orders, portfolio: this.service.portfolio, clock: options.scheduler })
      : null;
    if (this.engine && strategy) {
      this.engine.add({ strategyId: options.strategy, symbol: options.symbol, strategy, params: options.params, sizing, protection: options.protection });
      this.service.addStrategyStopper(() => this.engine?.stop());
    }
    const timeframeMs = TIMEFRAME_MS[options.timeframe];
    this.aggregator = new BarAggregator({
      timeframes: [options.timeframe],
      onBar: ({ bar }) => {
        this.bars++;
        const engine = this.engine;
        if (!engine || this.isStopped) return;
        engine.onBar(options.symbol, bar.time, bar.time + timeframeMs, bar.open, bar.high, bar.low, bar.close, bar.volume);
        // Orders are performed one bar at a time, in order.
        this.chain = this.chain.then(() => engine.drain()).then(() => this.auditDecisions()).catch((err: unknown) => {
          options.onAlert?.({ id: `session-${bar.time}`, tsMs: options.scheduler.nowMs(), severity: 'critical', kind: 'strategy-error', symbol: options.symbol, message: err instanceof Error ? err.message : String(err) });
        });
      },
    });
  }

  /** Every strategy decision (and what became of it) goes to the audit chain. */
  private auditDecisions(): void {
    const decisions = this.engine?.decisions;
    if (!decisions) return;
    for (const d of decisions) {
      if (d.outcome === 'risk-rejected') this.rejectedByRisk++;
      this.service.audit.append('strategy.decision', { ...d });
    }
    decisions.length = 0;
  }

  /** Starts the venue, reconciles the account (before any strategy runs), then starts the strategy. */
  async start(): Promise<void> {
    this.startedMs = this.options.scheduler.nowMs();
    this.demo.start();
    this.service.follow(this.options.symbol);
    this.reconciliation = await this.service.start();
    const subscription = this.demo.subscribe(this.options.symbol, (event) => {
      if (event.kind === 'trade') this.aggregator.add(event.trade.tsMs, event.trade.price, event.trade.quantity);
    });
    this.unsubscribeTrades = () => subscription.unsubscribe();
    this.aggregator.start(this.options.scheduler);
    this.engine?.start();
    this.service.audit.append('session.start', { strategy: this.options.strategy, symbol: this.options.symbol, params: { ...this.options.params }, timeframe: this.options.timeframe });
  }

  /**
   * Clean stop: the strategy stops, pending strategy work finishes, every working order is
   * cancelled, the ledger is flushed and a signed checkpoint written.
   */
  async stop(): Promise<SessionSummary> {
    this.isStopped = true;
    this.engine?.stop();
    this.aggregator.stop();
    this.unsubscribeTrades?.();
    await this.chain;
    const sent = this.service.orders.allOrders().filter((o) => !o.isExternal);
    const { canceled } = await this.service.stop({ isCancellingOrders: true });
    const stillWorking = this.service.orders.workingOrders().length;
    this.demo.stop();
    const verify = this.service.audit.verify();
    this.service.checkpoint();
    const p = this.service.portfolio;
    const summary: SessionSummary = {
      strategy: this.options.strategy,
      symbol: this.options.symbol,
      startedMs: this.startedMs,
      stoppedMs: this.options.scheduler.nowMs(),
      bars: this.bars,
      ordersSent: sent.length,
      ordersRejectedByRisk: this.rejectedByRisk,
      fills: this.fills,
      canceledAtStop: canceled,
      stillWorking,
      position: p.netQuantity(this.options.symbol),
      realisedPnl: p.realisedPnl(),
      unrealisedPnl: p.unrealisedPnl(),
      feesPaid: p.feesPaid(),
      equity: p.equity(),
      auditHeadSeq: this.service.audit.head().seq,
      isAuditOk: verify.isOk,
      reconciliation: this.reconciliation,
    };
    this.venueDb.close();
    this.ledger.close();
    return summary;
  }
}
