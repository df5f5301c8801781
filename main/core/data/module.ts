import type { EngineContext, EngineModule, ModuleInstance } from '../module.ts';
import type { Handlers } from '../host.ts';
import { appError, AppErrorException } from '../../../shared/errors.ts';
import { CandleStore } from './candle-store.ts';
import { CandleReader } from './candle-reader.ts';
import { DemoVenue, DEFAULT_DEMO_SYMBOLS, generateDemoHistory, type DemoSymbol } from './demo-venue.ts';
import { LiveBarRecorder } from './live-bar-recorder.ts';
import { TIMEFRAME_MS, emptyCandleColumns, type CandleColumns } from '../../../shared/market.ts';
import { MarketHub } from './market-hub.ts';
import { importCandles } from './import.ts';
import { ReplayFeed } from './replay.ts';

/** Days of 1m demo history generated at start (resampled for higher timeframes). */
export const DEMO_HISTORY_DAYS = 30;
export const DEFAULT_DEMO_SEED = 20261125;
/** The most bars one replay loads. */
export const MAX_REPLAY_BARS = 500_000;

/** Service names other modules use (context.services.get(...)). */
export const MARKET_STORE_SERVICE = 'market.store';
export const MARKET_FEEDS_SERVICE = 'market.feeds';
export const MARKET_DEMO_SERVICE = 'market.demo';
export const MARKET_READER_SERVICE = 'market.reader';

/**
 * The demo venue's 1m history for a symbol: the bars recorded by earlier sessions (market.db)
 * within the last DEMO_HISTORY_DAYS, preceded by generated bars that end at the first recorded
 * open. Without recorded bars: generated bars ending at the symbol's initial price. The live
 * market continues from the last close (returned as startPrice); while the app was closed, no
 * bars exist (the chart shows that time as absent rather than inventing it).
 */
export function composeDemoHistory(
  spec: DemoSymbol,
  seed: number,
  startMs: number,
  store: CandleStore | null,
): { history: CandleColumns; startPrice: number } {
  const minute = TIMEFRAME_MS['1m'];
  const barCount = DEMO_HISTORY_DAYS * 1440;
  const endOpenMs = Math.floor(startMs / minute) * minute;
  const firstOpenMs = endOpenMs - barCount * minute;
  const recorded = store
    ? store.query(
        { venue: 'demo', symbol: spec.symbol, timeframe: '1m' },
        { fromMs: firstOpenMs, toMs: endOpenMs },
      )
    : emptyCandleColumns(0);
  const n = recorded.time.length;
  if (n === 0)
    return { history: generateDemoHistory(spec, seed, startMs, barCount), startPrice: spec.initialPrice };
  const beforeCount = Math.round((recorded.time[0]! - firstOpenMs) / minute);
  const before =
    beforeCount > 0
      ? generateDemoHistory(
          { ...spec, initialPrice: recorded.open[0]! },
          seed,
          recorded.time[0]!,
          beforeCount,
        )
      : emptyCandleColumns(0);
  const history = emptyCandleColumns(beforeCount + n);
  for (const f of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
    history[f].set(before[f]);
    history[f].set(recorded[f], before.time.length);
  }
  return { history, startPrice: recorded.close[n - 1]! };
}

/**
 * The 'market' engine module: history store (market.db), the live market hub with the demo venue
 * connected by default (options.demo === false leaves it off; options.demoSeed picks the market),
 * and the market:* channels and streams.
 */
export const marketModule: EngineModule = {
  name: 'market',
  start(context: EngineContext): ModuleInstance {
    const { scheduler, bus, logger } = context;
    const store = context.marketDb ? new CandleStore(context.marketDb.db) : null;
    const reader = context.marketDb ? new CandleReader(context.marketDb.path) : null;
    // Closed bars of live feeds go to market.db (not the replay venue's: they come from there).
    const recorder = store
      ? new LiveBarRecorder({
          store,
          scheduler,
          onError: (err, barCount) =>
            logger.error(
              { err, barCount },
              'could not store closed live bars in market.db; they were dropped',
            ),
        })
      : null;
    const hub = new MarketHub({
      scheduler,
      onBars: (updates) => {
        for (const u of updates) {
          bus.publish('market:bar', u);
          if (u.isClosed && recorder && u.venue !== 'replay')
            recorder.record(u.venue, u.symbol, u.timeframe, u.bar);
        }
      },
      onTickers: (tickers) => bus.publish('market:ticks', { tickers }),
      onHealth: (feeds) => bus.publish('market:health', { feeds }),
    });
    context.services.set(MARKET_FEEDS_SERVICE, hub);
    if (store) context.services.set(MARKET_STORE_SERVICE, store);
    if (reader) context.services.set(MARKET_READER_SERVICE, reader);

    if (context.options.demo !== false) {
      const rawSeed = context.options.demoSeed;
      const seed = typeof rawSeed === 'number' && Number.isSafeInteger(rawSeed) ? rawSeed : DEFAULT_DEMO_SEED;
      const startMs = scheduler.nowMs();
      const histories = new Map(
        DEFAULT_DEMO_SYMBOLS.map((spec) => [spec.symbol, composeDemoHistory(spec, seed, startMs, store)]),
      );
      const startPrices = Object.fromEntries([...histories].map(([symbol, h]) => [symbol, h.startPrice]));
      const demo = new DemoVenue({ scheduler, seed, startMs, startPrices });
      hub.addFeed(demo, { history: (symbol) => histories.get(symbol)?.history ?? null });
      demo.start();
      context.services.set(MARKET_DEMO_SERVICE, demo);
      logger.info({ seed, symbols: demo.symbols() }, 'demo venue started');
    }

    const requireStore = (): CandleStore => {
      if (!store)
        throw appError(
          'STORE_CORRUPT',
          'market.db is not available (it failed its integrity check at start-up); stored candles cannot be read or imported.',
        );
      return store;
    };

    let replay: ReplayFeed | null = null;

    const handlers: Handlers = {
      'market:symbols': () => ({ symbols: hub.symbols(), tickers: hub.tickers() }),
      'market:candles': async (req) => {
        if (req.fromMs !== undefined && req.toMs !== undefined && req.fromMs > req.toMs) {
          throw appError('BAD_INPUT', `fromMs (${req.fromMs}) is after toMs (${req.toMs}).`);
        }
        const range = {
          ...(req.fromMs !== undefined ? { fromMs: req.fromMs } : {}),
          ...(req.toMs !== undefined ? { toMs: req.toMs } : {}),
          limit: req.limit ?? 5000,
          fromEnd: req.fromEnd ?? req.fromMs === undefined,
        };
        const live = hub.liveCandles(req.venue, req.symbol, req.timeframe, range);
        if (live) {
          return {
            venue: req.venue,
            symbol: req.symbol,
            timeframe: req.timeframe,
            ...live.columns,
            forming: live.forming,
            hasMoreBefore: live.hasMoreBefore,
            source: 'live' as const,
          };
        }
        const key = { venue: req.venue, symbol: req.symbol, timeframe: req.timeframe };
        const info = requireStore().getSeries(key);
        if (!info) {
          throw appError(
            'NOT_FOUND',
            `No ${req.timeframe} bars for ${req.symbol} on ${req.venue}: it is neither a live symbol nor a stored series (import or fetch it first).`,
            key,
          );
        }
        // Large reads run on the reader thread so the engine thread keeps serving feeds.
        const columns = reader ? await reader.read(key, range) : requireStore().query(key, range);
        const firstMs = columns.time[0];
        return {
          ...key,
          ...columns,
          forming: null,
          hasMoreBefore: firstMs !== undefined && info.firstMs !== null && info.firstMs < firstMs,
          source: 'store' as const,
        };
      },
      'market:series': () => ({ series: requireStore().listSeries() }),
      'market:gaps': (req) =>
        requireStore().gaps(
          { venue: req.venue, symbol: req.symbol, timeframe: req.timeframe },
          { maxGaps: req.maxGaps ?? 1000 },
        ),
      'market:import': (req) => {
        try {
          const report = importCandles(requireStore(), {
            venue: req.venue,
            symbol: req.symbol,
            content: req.content,
            fileName: req.fileName,
            ...(req.timeframe ? { timeframe: req.timeframe } : {}),
            ...(req.format ? { format: req.format } : {}),
            ...(req.timestampUnit ? { timestampUnit: req.timestampUnit } : {}),
            ...(req.timeLabel ? { timeLabel: req.timeLabel } : {}),
          });
          logger.info(
            {
              venue: report.venue,
              symbol: report.symbol,
              timeframe: report.timeframe,
              bars: report.barCount,
              inserted: report.inserted,
            },
            'candles imported',
          );
          return report;
        } catch (err) {
          if (err instanceof AppErrorException) throw err;
          throw appError(
            'DATA_IMPORT_FAILED',
            `Import of ${req.fileName} failed: ${err instanceof Error ? err.message : String(err)}. Nothing was imported.`,
          );
        }
      },
      'market:deleteSeries': (req) => ({
        deletedBars: requireStore().deleteSeries({
          venue: req.venue,
          symbol: req.symbol,
          timeframe: req.timeframe,
        }),
      }),
      'market:replay': async (req) => {
        const key = { venue: req.venue, symbol: req.symbol, timeframe: req.timeframe };
        if (!requireStore().getSeries(key))
          throw appError(
            'NOT_FOUND',
            `No stored ${req.timeframe} bars for ${req.symbol} on ${req.venue} to replay.`,
            key,
          );
        const range = {
          ...(req.fromMs !== undefined ? { fromMs: req.fromMs } : {}),
          ...(req.toMs !== undefined ? { toMs: req.toMs } : {}),
          limit: MAX_REPLAY_BARS,
        };
        const columns = reader ? await reader.read(key, range) : requireStore().query(key, range);
        await hub.removeFeed('replay');
        const feed = new ReplayFeed({
          scheduler,
          sources: [{ kind: 'bars', symbol: req.symbol, timeframe: req.timeframe, columns }],
          speed: req.speed,
        });
        replay = feed;
        hub.addFeed(feed);
        feed.start();
        logger.info({ ...key, bars: columns.time.length, speed: req.speed }, 'replay started');
        return {
          venue: 'replay' as const,
          symbol: req.symbol,
          timeframe: req.timeframe,
          barCount: columns.time.length,
        };
      },
      'market:replayControl': async (req) => {
        const feed = replay;
        if (!feed) return { state: 'none' as const, dataTimeMs: null };
        if (req.action === 'pause') feed.pause();
        else if (req.action === 'resume') feed.resume();
        else if (req.action === 'speed') {
          if (req.speed === undefined)
            throw appError('BAD_INPUT', 'action "speed" needs a speed (1..1,000,000 or "max").');
          feed.setSpeed(req.speed);
        } else {
          await hub.removeFeed('replay');
          replay = null;
          return { state: 'none' as const, dataTimeMs: null };
        }
        return { state: feed.state, dataTimeMs: feed.dataNowMs() };
      },
      'market:health': () => ({ feeds: hub.health() }),
    };

    return {
      handlers,
      async stop() {
        // Bars that closed since the hub's last publish, then everything queued, into market.db.
        hub.flush();
        await hub.stop();
        recorder?.stop();
        await reader?.close();
      },
    };
  },
};
