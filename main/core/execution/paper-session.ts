import { join } from 'node:path';
import type { Scheduler } from '../clock.ts';
import { SeededRandom } from '../random.ts';
import { openDatabase, type OpenedDatabase } from '../store/sqlite.ts';
import { ledgerMigrations } from '../store/ledger-migrations.ts';
import { DemoVenue, DEFAULT_DEMO_SYMBOLS, generateDemoHistory } from '../data/demo-venue.ts';
import { builtinInfo, createBuiltinStrategy } from '../strategy/builtins/index.ts';
import { parseSizing, type ProtectionSpec, type SizingInput } from '../strategy/sizing.ts';
import type { StrategyParams } from '../strategy/types.ts';
import type { ModelSource } from '../strategy/live-model.ts';
import { SqlitePaperStore, paperVenueMigrations } from './paper-store.ts';
import { TradingService, demoMarketRules } from './trading-service.ts';
import { StrategyHost } from './strategy-host.ts';
import { appError } from '../../../shared/errors.ts';
import type { Timeframe } from '../../../shared/market.ts';
import type { Fill, Order } from '../../../shared/trading.ts';
import type { Alert } from '../../../shared/contract/trading.ts';
import type { Signal } from '../../../shared/contract/strategies.ts';

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
  /** Model registry for model-driven strategies (model-threshold, hybrid), and the model to use. */
  models?: ModelSource;
  model?: string;
  onFill?: (fill: Fill) => void;
  onSignal?: (signal: Signal) => void;
  onOrder?: (order: Order) => void;
  onAlert?: (alert: Alert) => void;
}

export interface SessionSummary {
  strategy: string;
  symbol: string;
  startedMs: number;
  stoppedMs: number;
  bars: number;
  signals: number;
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
 * host wired exactly as in the app (TradingService: risk, order manager, portfolio, audit on
 * ledger.db; paper venue state in paper-venue.db; StrategyHost: bars from the venue's trades,
 * features warmed up on the demo venue's history, signals recorded in the audit ledger).
 */
export class PaperSession {
  readonly service: TradingService;
  readonly strategies: StrategyHost;
  private readonly options: PaperSessionOptions;
  private readonly ledger: OpenedDatabase;
  private readonly venueDb: OpenedDatabase;
  private readonly demo: DemoVenue;
  private fills = 0;
  private startedMs = 0;
  private reconciliation = { resolved: 0, external: 0, fillsApplied: 0 };

  constructor(options: PaperSessionOptions) {
    this.options = options;
    const spec = DEFAULT_DEMO_SYMBOLS.find((s) => s.symbol === options.symbol);
    if (!spec) {
      throw appError(
        'BAD_INPUT',
        `The demo venue has no symbol ${options.symbol}; it has ${DEFAULT_DEMO_SYMBOLS.map((s) => s.symbol).join(', ')}.`,
      );
    }
    // Validate the strategy before opening anything.
    if (options.strategy !== 'none') {
      createBuiltinStrategy(options.strategy, options.params);
      if (builtinInfo(options.strategy).isModelDriven && !options.models) {
        throw appError(
          'STRATEGY_INVALID',
          `${options.strategy} needs a model registry to read predictions from.`,
        );
      }
    }
    parseSizing(options.sizing);
    this.ledger = openDatabase({
      name: 'ledger.db',
      path: join(options.dataDir, 'ledger.db'),
      migrations: ledgerMigrations,
      durability: 'full',
    });
    try {
      this.venueDb = openDatabase({
        name: 'paper-venue.db',
        path: join(options.dataDir, 'paper-venue.db'),
        migrations: paperVenueMigrations,
        durability: 'full',
      });
    } catch (err) {
      this.ledger.close();
      throw err;
    }
    const startMs = options.scheduler.nowMs();
    this.demo = new DemoVenue({ scheduler: options.scheduler, seed: options.seed, symbols: [spec], startMs });
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
      this.service.audit.append('session.risk-override', {
        maxFeedAgeMs: config.global.maxFeedAgeMs,
        speed,
        why: 'stale-feed limit scaled to market time',
      });
    }
    this.strategies = new StrategyHost({
      service: this.service,
      feed: this.demo,
      scheduler: options.scheduler,
      random: new SeededRandom(options.seed),
      // The demo venue's own history (what the app's charts show before the live market) warms the indicators.
      history: (symbol, timeframe, bars) => {
        const s = DEFAULT_DEMO_SYMBOLS.find((d) => d.symbol === symbol);
        return s
          ? { bars: generateDemoHistory(s, options.seed, startMs, bars, timeframe), forming: null }
          : null;
      },
      ...(options.models ? { models: () => options.models ?? null } : {}),
      ...(options.onSignal ? { onSignal: options.onSignal } : {}),
      onFailure: (strategyId, message) =>
        options.onAlert?.({
          id: `strategy-failed-${strategyId}`,
          tsMs: options.scheduler.nowMs(),
          severity: 'critical',
          kind: 'strategy-error',
          symbol: options.symbol,
          message: `Strategy ${strategyId} stopped: ${message}`,
        }),
    });
  }

  /** Starts the venue, reconciles the account (before any strategy runs), then starts the strategy. */
  async start(): Promise<void> {
    this.startedMs = this.options.scheduler.nowMs();
    this.demo.start();
    this.service.follow(this.options.symbol);
    this.reconciliation = await this.service.start();
    if (this.options.strategy !== 'none') {
      await this.strategies.start({
        // The strategy's name is its id in the headless session (its positions carry over between runs).
        strategyId: this.options.strategy,
        builtin: this.options.strategy,
        symbol: this.options.symbol,
        timeframe: this.options.timeframe,
        params: this.options.params,
        sizing: this.options.sizing,
        protection: this.options.protection,
        ...(this.options.model !== undefined ? { model: this.options.model } : {}),
      });
    }
    this.service.audit.append('session.start', {
      strategy: this.options.strategy,
      symbol: this.options.symbol,
      params: { ...this.options.params },
      timeframe: this.options.timeframe,
    });
  }

  /**
   * Clean stop: the strategy stops, pending strategy work finishes, every working order is
   * cancelled, the ledger is flushed and a signed checkpoint written.
   */
  async stop(): Promise<SessionSummary> {
    await this.strategies.stopAll('session stop', { isCancellingOrders: false });
    this.strategies.close();
    const instance = this.strategies.instance(this.options.strategy);
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
      bars: instance?.bars ?? 0,
      signals: instance?.signals ?? 0,
      ordersSent: sent.length,
      ordersRejectedByRisk: this.strategies.rejectedByRisk(this.options.strategy),
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
