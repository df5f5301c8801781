import { join } from 'node:path';
import type { EngineContext, EngineModule, ModuleInstance } from '../module.ts';
import type { Handlers } from '../host.ts';
import type { MarketFeed } from '../data/feed.ts';
import type { TimerHandle } from '../clock.ts';
import { openDatabase, type OpenedDatabase } from '../store/sqlite.ts';
import { appError } from '../../../shared/errors.ts';
import { SqlitePaperStore, paperVenueMigrations } from './paper-store.ts';
import { TradingService, demoMarketRules } from './trading-service.ts';
import type { OrderIntent } from '../../../shared/trading.ts';
import { StrategyHost } from './strategy-host.ts';
import { MARKET_FEEDS_SERVICE } from '../data/module.ts';
import type { MarketHub } from '../data/market-hub.ts';
import { DEFAULT_MODEL, MODELS_SERVICE } from '../models/module.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { StrategyStartRequest } from '../../../shared/contract/strategies.ts';

/** Service name under which the trading service is shared (strategies submit through it). */
export const TRADING_SERVICE = 'trading';
const MARKET_DEMO_SERVICE = 'market.demo';
const PORTFOLIO_PUBLISH_MS = 250;
/** Settings key of the next strategy instance number: ids (and so position slots) are never reused. */
const SETTINGS_NEXT_INSTANCE = 'strategies.next-instance';

/**
 * The 'trading' engine module: the paper account on the demo venue (paper is the default
 * account), with risk, order manager, portfolio and the audit ledger on ledger.db; channels
 * orders:*, portfolio:get, risk:*, audit:*, strategies:*; streams orders:changed,
 * portfolio:changed, risk:changed, alerts:raised, strategies:changed, strategies:signal.
 * Reconciles with the venue before it accepts any order or starts any strategy.
 */
export const tradingModule: EngineModule = {
  name: 'trading',
  start(context: EngineContext): ModuleInstance {
    const { bus, scheduler, logger } = context;
    const ledger = context.ledgerDb;
    const feed = context.services.get(MARKET_DEMO_SERVICE) as MarketFeed | undefined;
    if (!ledger || !feed) {
      const why = !ledger
        ? 'ledger.db is not available (it failed its integrity check at start-up): trading is disabled.'
        : 'no market feed for paper trading (the demo venue is off).';
      const unavailable = (): never => {
        throw appError(ledger ? 'ENGINE_NOT_READY' : 'STORE_CORRUPT', why);
      };
      const handlers: Handlers = {
        'orders:submit': unavailable,
        'orders:cancel': unavailable,
        'orders:cancelAll': unavailable,
        'orders:list': unavailable,
        'orders:preview': unavailable,
        'portfolio:get': unavailable,
        'risk:limits': unavailable,
        'risk:setLimits': unavailable,
        'risk:killSwitch': unavailable,
        'audit:query': unavailable,
        'audit:verify': unavailable,
        'strategies:start': unavailable,
        'strategies:stop': unavailable,
        'strategies:list': unavailable,
        'strategies:signals': unavailable,
        'strategies:signal': unavailable,
      };
      return { handlers };
    }
    let venueDb: OpenedDatabase;
    try {
      venueDb = openDatabase({
        name: 'paper-venue.db',
        path: join(context.dataDir, 'paper-venue.db'),
        migrations: paperVenueMigrations,
        durability: 'full',
      });
    } catch (err) {
      context.reportProblem({
        code: 'STORE_CORRUPT',
        message: err instanceof Error ? err.message : String(err),
      });
      throw err;
    }
    let portfolioTimer: TimerHandle | null = null;
    const publishPortfolioSoon = (): void => {
      if (portfolioTimer) return;
      portfolioTimer = scheduler.schedule(PORTFOLIO_PUBLISH_MS, () => {
        portfolioTimer = null;
        bus.publish('portfolio:changed', service.portfolio.snapshot(scheduler.nowMs()));
        // Strategy P&L moves with the same prices and fills.
        if (strategies.list().some((i) => i.state === 'running')) publishStrategies();
      });
    };
    const service: TradingService = new TradingService({
      ledgerDb: ledger.db,
      dataDir: context.dataDir,
      scheduler,
      random: context.random,
      feed,
      rules: demoMarketRules(),
      paperStore: new SqlitePaperStore(venueDb.db),
      onAlert: (alert) => bus.publish('alerts:raised', alert),
      onOrder: (order) => bus.publish('orders:changed', order),
      onFill: () => publishPortfolioSoon(),
    });
    service.onRiskChange((state) => bus.publish('risk:changed', state));
    const publishStrategies = (): void => bus.publish('strategies:changed', { instances: strategies.list() });
    const hub = context.services.get(MARKET_FEEDS_SERVICE) as MarketHub | undefined;
    const strategies: StrategyHost = new StrategyHost({
      service,
      feed,
      scheduler,
      random: context.random,
      // Warm-up from the bars the market module already holds for the symbol (history + live).
      history: (symbol, timeframe, bars) => {
        const live = hub?.liveCandles(feed.venue, symbol, timeframe, { limit: bars, fromEnd: true });
        return live ? { bars: live.columns, forming: live.forming } : null;
      },
      models: () => (context.services.get(MODELS_SERVICE) as ModelRegistry | undefined) ?? null,
      defaultModel: () => {
        const registry = context.services.get(MODELS_SERVICE) as ModelRegistry | undefined;
        const list = registry?.list() ?? [];
        return list.some((m) => m.name === DEFAULT_MODEL && m.status !== 'invalid')
          ? DEFAULT_MODEL
          : (list.find((m) => m.status === 'loaded')?.name ?? null);
      },
      nextInstanceNumber: () => {
        const row = ledger.db
          .prepare('SELECT value FROM settings WHERE key = ?')
          .get(SETTINGS_NEXT_INSTANCE) as { value: string } | undefined;
        const n = row ? Number(row.value) : 1;
        ledger.db
          .prepare(
            'INSERT INTO settings (key, value, updated_ms) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms',
          )
          .run(SETTINGS_NEXT_INSTANCE, String(n + 1), Math.floor(scheduler.nowMs()));
        return n;
      },
      onChange: publishStrategies,
      onSignal: (signal) => bus.publish('strategies:signal', signal),
      onFailure: (strategyId, message) =>
        bus.publish('alerts:raised', {
          id: `strategy-failed-${strategyId}`,
          tsMs: scheduler.nowMs(),
          severity: 'critical',
          kind: 'strategy-error',
          symbol: null,
          message: `Strategy ${strategyId} stopped: ${message}`,
        }),
    });
    // Reconciliation runs in the background so the engine starts at once; every trading channel
    // waits for it (protocol step 4: nothing trades before the account is reconciled).
    let reconcileError: unknown = null;
    const ready = service.start().then(
      (reconciliation) => logger.info({ ...reconciliation }, 'trading: reconciled with the paper venue'),
      (err: unknown) => {
        reconcileError = err;
        context.reportProblem({
          code: 'VENUE_ERROR',
          message: `Paper account reconciliation failed: ${err instanceof Error ? err.message : String(err)}. Trading is disabled.`,
        });
      },
    );
    const whenReady = async (): Promise<void> => {
      await ready;
      if (reconcileError)
        throw appError(
          'ENGINE_NOT_READY',
          'The paper account could not be reconciled; trading is disabled (see engine status).',
        );
    };
    context.services.set(TRADING_SERVICE, service);
    // Follow every symbol of the venue: books for fills and the risk reference, prices for the monitor.
    for (const symbol of feed.symbols()) service.follow(symbol);
    const unsubscribeBooks = feed
      .symbols()
      .map((symbol) => service.books.subscribe(symbol, publishPortfolioSoon));

    const requireTrading = (): void => {
      if (!context.isTradingEnabled()) {
        throw appError(
          'TRADING_HALTED',
          'Trading is disabled: a store failed its integrity check or a halt is in force (see engine status).',
        );
      }
    };
    const handlers: Handlers = {
      'orders:submit': async (req) => {
        await whenReady();
        requireTrading();
        const result = await service.submit(req as OrderIntent);
        return { status: result.status, order: result.order, verdict: result.verdict };
      },
      'orders:preview': async (req) => {
        await whenReady();
        return service.preview(req as OrderIntent);
      },
      'orders:cancel': async (req) => {
        await whenReady();
        return service.orders.cancel(req.clientOrderId, 'user');
      },
      'orders:cancelAll': async (req) => {
        await whenReady();
        const filter = {
          ...(req.symbol ? { symbol: req.symbol } : {}),
          ...(req.strategyId ? { strategyId: req.strategyId } : {}),
        };
        return { requested: await service.orders.cancelAll(filter, 'user cancel-all') };
      },
      'orders:list': async (req) => {
        await whenReady();
        return {
          orders:
            req.scope === 'recent'
              ? service.journal.loadOrders({ limit: req.limit })
              : service.orders.workingOrders().slice(0, req.limit),
          fills: service.journal.recentFills(Math.min(req.limit, 500)),
        };
      },
      'portfolio:get': async () => {
        await whenReady();
        return service.portfolio.snapshot(scheduler.nowMs());
      },
      'risk:limits': () => service.riskState(),
      'risk:setLimits': (req) => service.setLimits(req.config, req.reason, 'user'),
      'risk:killSwitch': async (req) => {
        // The kill switch never waits for reconciliation: halting must always be possible.
        if (req.action === 'engage')
          await service.engageKillSwitch({
            reason: req.reason,
            source: 'user',
            isFlattening: req.isFlattening,
          });
        else service.releaseKillSwitch(req.reason);
        return service.riskState();
      },
      'audit:query': (req) => {
        const { limit, ...rest } = req;
        const filter = Object.fromEntries(
          Object.entries(rest).filter(([, v]) => v !== undefined),
        ) as Parameters<typeof service.audit.query>[0];
        return { records: service.audit.query({ ...filter, limit }), headSeq: service.audit.head().seq };
      },
      'strategies:start': async (req) => {
        await whenReady();
        requireTrading();
        const r = req as StrategyStartRequest;
        return strategies.start({
          builtin: r.builtin,
          symbol: r.symbol,
          timeframe: r.timeframe,
          params: r.params,
          sizing: r.sizing,
          protection: r.protection,
          model: r.model,
        });
      },
      'strategies:stop': async (req) => {
        await whenReady();
        return strategies.stop(req.strategyId, 'stopped by the user');
      },
      'strategies:list': () => ({ instances: strategies.list() }),
      'strategies:signals': (req) => ({
        signals: strategies.signals({ strategyId: req.strategyId, symbol: req.symbol, limit: req.limit }),
      }),
      'strategies:signal': (req) => strategies.signal(req.signalId),
      'audit:verify': () => {
        const started = performance.now();
        const checkpoint = service.audit.latestCheckpoint();
        const result = service.audit.verify(checkpoint ? { checkpoint } : {});
        return { ...result, durationMs: performance.now() - started };
      },
    };

    return {
      handlers,
      async stop() {
        // Strategies stop first; their working orders stay on the venue like every other one (below).
        await strategies.stopAll('engine stop', { isCancellingOrders: false });
        strategies.close();
        portfolioTimer?.cancel();
        for (const u of unsubscribeBooks) u();
        // Working paper orders stay on the (durable) paper venue, as they would on a real one;
        // the next start reconciles them.
        await service.stop({ isCancellingOrders: false });
        service.checkpoint();
        venueDb.close();
      },
    };
  },
};
