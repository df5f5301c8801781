import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { EngineContext, EngineModule, ModuleInstance } from '../module.ts';
import type { Handlers } from '../host.ts';
import { appError, isAppErrorException } from '../../../shared/errors.ts';
import {
  TIMEFRAME_MS,
  emptyCandleColumns,
  type CandleColumns,
  type FeedHealth,
  type FeedState,
} from '../../../shared/market.ts';
import { VENUE_TRANSPORTS, type ConnectedVenue } from '../../../shared/contract/venues.ts';
import type { CandleStore } from './candle-store.ts';
import type { MarketHub } from './market-hub.ts';
import { MARKET_FEEDS_SERVICE, MARKET_STORE_SERVICE } from './module.ts';
import { CcxtFeed, type FeedTransport } from './ccxt/ccxt-feed.ts';
import { createVenueExchange, listVenueIds } from './ccxt/venues.ts';
import { errorMessage, fetchOhlcvPages } from './ccxt/rest.ts';

/** Connected venues are remembered here (in the data folder) and restored at the next start. */
export const VENUES_FILE = 'venues.json';
/** 1m bars fetched over REST on connect so the chart opens with recent history. */
export const CONNECT_BACKFILL_BARS = 1440;
/** A backfill that takes longer than this is abandoned (the live stream goes on without it). */
const BACKFILL_TIMEOUT_MS = 15_000;

const savedVenuesSchema = z.object({
  version: z.literal(1),
  venues: z.array(
    z.object({ venue: z.string(), symbols: z.array(z.string()).min(1), transport: z.enum(VENUE_TRANSPORTS) }),
  ),
});
type SavedVenue = z.infer<typeof savedVenuesSchema>['venues'][number];

interface Connection {
  saved: SavedVenue;
  feed: CcxtFeed | null;
  connectedMs: number | null;
  error: string | null;
}

/** Worst state first: one failed symbol makes the venue "failed" in the list. */
const STATE_RANK: Record<FeedState, number> = {
  failed: 0,
  stale: 1,
  reconnecting: 2,
  connecting: 3,
  live: 4,
};

function worstState(health: readonly FeedHealth[]): FeedState {
  let worst: FeedState = 'live';
  for (const h of health) if (STATE_RANK[h.state] < STATE_RANK[worst]) worst = h.state;
  return health.length === 0 ? 'connecting' : worst;
}

/**
 * The 'venues' module: live public market data from ccxt venues beside the demo venue. A connect
 * checks the venue id and every symbol against the venue's markets before anything is added (a
 * typo fails with BAD_INPUT and leaves nothing connected), backfills recent 1m bars over REST into
 * market.db, then streams trades and the book into the market hub (watchlist, chart, risk's stale
 * check). options.venueUrls pins a venue to another origin (a local test server or a proxy).
 */
export const venuesModule: EngineModule = {
  name: 'venues',
  start(context: EngineContext): ModuleInstance {
    const { scheduler, random, bus, logger } = context;
    const hub = context.services.get(MARKET_FEEDS_SERVICE) as MarketHub | undefined;
    const store = context.services.get(MARKET_STORE_SERVICE) as CandleStore | undefined;
    const venueUrls = (context.options.venueUrls ?? {}) as Record<string, string>;
    const file = join(context.dataDir, VENUES_FILE);
    const connections = new Map<string, Connection>();
    let isStopped = false;

    const list = (): ConnectedVenue[] => {
      const byVenue = new Map<string, string[]>();
      for (const { venue, symbol } of hub?.symbols() ?? [])
        byVenue.set(venue, [...(byVenue.get(venue) ?? []), symbol]);
      const health = hub?.health() ?? [];
      const out: ConnectedVenue[] = [];
      for (const [venue, symbols] of byVenue) {
        if (connections.has(venue)) continue;
        out.push({
          venue,
          kind: venue === 'demo' ? 'demo' : venue === 'replay' ? 'replay' : 'ccxt',
          symbols,
          transport: null,
          state: worstState(health.filter((h) => h.venue === venue)),
          connectedMs: null,
          error: null,
        });
      }
      for (const [venue, c] of connections) {
        out.push({
          venue,
          kind: 'ccxt',
          symbols: c.saved.symbols,
          transport: c.feed ? c.feed.transportFor('trades') : null,
          state: c.feed ? worstState(health.filter((h) => h.venue === venue)) : 'failed',
          connectedMs: c.connectedMs,
          error: c.error,
        });
      }
      return out;
    };
    const publish = (): void => bus.publish('venues:changed', { venues: list() });

    /** Written to a temp file and renamed, so a crash never leaves a half-written list. */
    const save = (): void => {
      const data = { version: 1 as const, venues: [...connections.values()].map((c) => c.saved) };
      writeFileSync(`${file}.tmp`, JSON.stringify(data, null, 2));
      renameSync(`${file}.tmp`, file);
    };

    /** Recent 1m bars over REST into market.db, then the stored tail as the hub's history. */
    const backfill = async (
      venue: string,
      symbol: string,
      exchange: Parameters<typeof fetchOhlcvPages>[1],
    ): Promise<CandleColumns | null> => {
      if (!store) return null;
      const key = { venue, symbol, timeframe: '1m' as const };
      const nowMs = scheduler.nowMs();
      const untilMs = Math.floor(nowMs / TIMEFRAME_MS['1m']) * TIMEFRAME_MS['1m'];
      const sinceMs = untilMs - CONNECT_BACKFILL_BARS * TIMEFRAME_MS['1m'];
      const abort = new AbortController();
      const timer = scheduler.schedule(BACKFILL_TIMEOUT_MS, () => abort.abort());
      try {
        for await (const page of fetchOhlcvPages(
          venue,
          exchange,
          symbol,
          '1m',
          { sinceMs, untilMs },
          { scheduler, random, signal: abort.signal },
        )) {
          if (page.bars.length === 0 || isStopped || abort.signal.aborted) break;
          const columns = emptyCandleColumns(page.bars.length);
          page.bars.forEach((b, i) => {
            columns.time[i] = b.time;
            columns.open[i] = b.open;
            columns.high[i] = b.high;
            columns.low[i] = b.low;
            columns.close[i] = b.close;
            columns.volume[i] = b.volume;
          });
          store.upsert(key, columns);
        }
      } catch (err) {
        logger.warn(
          { venue, symbol, err: errorMessage(err) },
          'recent-bar backfill failed; the chart starts from live bars',
        );
      } finally {
        timer.cancel();
      }
      const history = store.query(key, { fromMs: sinceMs, limit: CONNECT_BACKFILL_BARS, fromEnd: true });
      return history.time.length > 0 ? history : null;
    };

    const connect = async (saved: SavedVenue): Promise<ConnectedVenue> => {
      if (!hub)
        throw appError('ENGINE_NOT_READY', 'The market hub is not running, so no venue can be connected.');
      const { venue } = saved;
      if (venue === 'demo' || venue === 'replay')
        throw appError('BAD_INPUT', `"${venue}" is a built-in feed, not a ccxt venue.`);
      if (hub.feed(venue) || connections.get(venue)?.feed)
        throw appError(
          'CONFLICT',
          `${venue} is already connected; disconnect it first to change its symbols.`,
        );
      const symbols = [...new Set(saved.symbols)];
      const baseUrl = venueUrls[venue];
      // Validates the venue id (BAD_INPUT naming it) before anything else happens.
      const exchange = createVenueExchange(venue, baseUrl === undefined ? {} : { baseUrl });
      const feed = new CcxtFeed({
        venue,
        exchange,
        scheduler,
        random,
        transport: saved.transport as FeedTransport,
        subscriptions: symbols.map((symbol) => ({ symbol, trades: true, book: true })),
      });
      try {
        // Loads markets and checks every symbol (BAD_INPUT for one the venue does not list).
        await feed.start();
        const histories = new Map<string, CandleColumns | null>();
        for (const symbol of symbols) histories.set(symbol, await backfill(venue, symbol, exchange));
        if (isStopped) throw appError('ENGINE_NOT_READY', 'The engine is stopping.');
        hub.addFeed(feed, { symbols, history: (symbol) => histories.get(symbol) ?? null });
      } catch (err) {
        await feed.stop();
        throw isAppErrorException(err)
          ? err
          : appError('VENUE_UNREACHABLE', `${venue}: ${errorMessage(err)}`, { venue });
      }
      connections.set(venue, {
        saved: { ...saved, symbols },
        feed,
        connectedMs: scheduler.nowMs(),
        error: null,
      });
      logger.info({ venue, symbols, transport: feed.transportFor('trades') }, 'venue connected');
      return list().find((v) => v.venue === venue)!;
    };

    const restore = async (): Promise<void> => {
      if (!existsSync(file)) return;
      let saved: SavedVenue[];
      try {
        saved = savedVenuesSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).venues;
      } catch (err) {
        logger.error(
          { file, err: errorMessage(err) },
          'the saved venue list is unreadable; no venue restored (the file is left as it is)',
        );
        return;
      }
      for (const s of saved) {
        if (isStopped) return;
        try {
          await connect(s);
        } catch (err) {
          // Kept in the list as failed (and in the file): the user sees why and can retry or disconnect.
          connections.set(s.venue, { saved: s, feed: null, connectedMs: null, error: errorMessage(err) });
          logger.warn({ venue: s.venue, err: errorMessage(err) }, 'could not restore a venue connection');
        }
        publish();
      }
    };
    void restore();

    const handlers: Handlers = {
      'venues:list': () => ({ venues: list(), available: listVenueIds() }),
      'venues:connect': async (req) => {
        const failed = connections.get(req.venue);
        if (failed && !failed.feed) connections.delete(req.venue);
        try {
          const result = await connect({ venue: req.venue, symbols: req.symbols, transport: req.transport });
          save();
          return result;
        } finally {
          publish();
        }
      },
      'venues:disconnect': async (req) => {
        const c = connections.get(req.venue);
        if (!c) {
          if (hub?.feed(req.venue))
            throw appError('BAD_INPUT', `${req.venue} is a built-in feed and stays connected.`);
          throw appError('NOT_FOUND', `${req.venue} is not connected.`);
        }
        connections.delete(req.venue);
        if (c.feed) await hub?.removeFeed(req.venue);
        save();
        publish();
        logger.info({ venue: req.venue }, 'venue disconnected');
        return { venue: req.venue, isDisconnected: true };
      },
    };

    return {
      handlers,
      stop: async () => {
        isStopped = true;
        for (const [venue, c] of connections) if (c.feed) await hub?.removeFeed(venue);
        connections.clear();
      },
    };
  },
};
