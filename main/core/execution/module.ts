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

/** Service name under which the trading service is shared (strategies submit through it). */
export const TRADING_SERVICE = 'trading';
const MARKET_DEMO_SERVICE = 'market.demo';
const PORTFOLIO_PUBLISH_MS = 250;

/**
 * The 'trading' engine module: the paper account on the demo venue (paper is the default
 * account), with risk, order manager, portfolio and the audit ledger on ledger.db; channels
 * orders:*, portfolio:get, risk:*, audit:*; streams orders:changed, portfolio:changed,
 * risk:changed, alerts:raised. Reconciles with the venue before it accepts any order.
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
        'orders:submit': unavailable, 'orders:cancel': unavailable, 'orders:cancelAll': unavailable, 'orders:list': unavailable,
        'orders:preview': unavailable, 'portfolio:get': unavailable, 'risk:limits': unavailable, 'risk:setLimits': unavailable,
        'risk:killSwitch': unavailable, 'audit:query': unavailable, 'audit:verify': unavailable,
      };
      return { handlers };
    }
    let venueDb: OpenedDatabase;
    try {
      venueDb = openDatabase({ name: 'paper-venue.db', path: join(context.dataDir, 'paper-venue.db'), migrations: paperVenueMigrations, durability: 'full' });
    } catch (err) {
      context.reportProblem({ code: 'STORE_CORRUPT', message: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    let portfolioTimer: TimerHandle | null = null;
    const publishPortfolioSoon = (): void => {
      if (portfolioTimer) return;
      portfolioTimer = scheduler.schedule(PORTFOLIO_PUBLISH_MS, () => {
        portfolioTimer = null;
        bus.publish('portfolio:changed', service.portfolio.snapshot(scheduler.nowMs()));
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
    // Reconciliation runs in the background so the engine starts at once; every trading channel
    // waits for it (protocol step 4: nothing trades before the account is reconciled).
    let reconcileError: unknown = null;
    const ready = service.start().then(
      (reconciliation) => logger.info({ ...reconciliation }, 'trading: reconciled with the paper venue'),
      (err: unknown) => {
        reconcileError = err;
        context.reportProblem({ code: 'VENUE_ERROR', message: `Paper account reconciliation failed: ${err instanceof Error ? err.message : String(err)}. Trading is disabled.` });
      },
    );
    const whenReady = async (): Promise<void> => {
      await ready;
      if (reconcileError) throw appError('ENGINE_NOT_READY', 'The paper account could not be reconciled; trading is disabled (see engine status).');
    };
    context.services.set(TRADING_SERVICE, service);
    // Follow every symbol of the venue: books for fills and the risk reference, prices for the monitor.
    for (const symbol of feed.symbols()) service.follow(symbol);
    const unsubscribeBooks = feed.symbols().map((symbol) => service.books.subscribe(symbol, publishPortfolioSoon));

    const requireTrading = (): void => {
      if (!context.isTradingEnabled()) {
        throw appError('TRADING_HALTED', 'Trading is disabled: a store failed its integrity check or a halt is in force (see engine status).');
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
        const filter = { ...(req.symbol ? { symbol: req.symbol } : {}), ...(req.strategyId ? { strategyId: req.strategyId } : {}) };
        return { requested: await service.orders.cancelAll(filter, 'user cancel-all') };
      },
      'orders:list': async (req) => {
        await whenReady();
        return {
          orders: req.scope === 'recent' ? service.journal.loadOrders({ limit: req.limit }) : service.orders.workingOrders().slice(0, req.limit),
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
        if (req.action === 'engage') await service.engageKillSwitch({ reason: req.reason, source: 'user', isFlattening: req.isFlattening });
        else service.releaseKillSwitch(req.reason);
        return service.riskState();
      },
      'audit:query': (req) => {
        const { limit, ...rest } = req;
        const filter = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Parameters<typeof service.audit.query>[0];
        return { records: service.audit.query({ ...filter, limit }), headSeq: service.audit.head().seq };
      },
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
