import { Agent } from 'node:http';
import ccxt from 'ccxt';
import type { Exchange } from 'ccxt';
import { appError } from '../../../../shared/errors.ts';

export type CcxtExchange = Exchange;

export interface VenueConnectionOptions {
  /**
   * Replaces the origin of every API url of the venue (REST and websocket) with this one, e.g.
   * `http://127.0.0.1:8080`: a local test server or a self-hosted proxy. While it is set, a request to
   * any other origin is refused before it leaves the process (so nothing leaks to the real venue).
   */
  baseUrl?: string;
  /** Extra ccxt options merged over Vantage's defaults. */
  options?: Record<string, unknown>;
}

/** Every venue id ccxt knows (lower-case, e.g. `binance`, `kraken`). */
export function listVenueIds(): string[] {
  return [...ccxt.exchanges];
}

export function hasWebsocketClass(venueId: string): boolean {
  return venueId in (ccxt.pro as unknown as Record<string, unknown>);
}

// Binance's loadMarkets would otherwise also call the futures hosts (fapi/dapi) and the private
// sapi capital endpoint; spot is all the workstation reads for market data.
const VENUE_DEFAULT_OPTIONS: Record<string, Record<string, unknown>> = {
  binance: {
    fetchMarkets: { types: ['spot'] },
    fetchCurrencies: false,
    defaultType: 'spot',
    // watchTicker goes through watchTickers, whose default is the mini ticker (no bid/ask);
    // the full 24h ticker carries best bid/ask for the watchlist.
    watchTickers: { name: 'ticker' },
    // REST trade polling reads /api/v3/trades: the same trade ids as the @trade stream, so switching
    // transport keeps de-duplication by id working (aggTrades ids are a different sequence).
    fetchTradesMethod: 'publicGetTrades',
  },
};

/**
 * Creates a ccxt exchange for a venue: the websocket-capable (pro) class when ccxt has one, else the
 * REST class. `enableRateLimit` is always on: ccxt spaces requests by the venue's documented weights.
 */
export function createVenueExchange(venueId: string, connection: VenueConnectionOptions = {}): CcxtExchange {
  const id = venueId.toLowerCase();
  if (!ccxt.exchanges.includes(id)) {
    throw appError(
      'BAD_INPUT',
      `Unknown venue "${venueId}". Use a ccxt exchange id such as binance, kraken, coinbase or bybit.`,
      {
        venue: venueId,
      },
    );
  }
  const proClasses = ccxt.pro as unknown as Record<string, new (config: object) => CcxtExchange>;
  const restClasses = ccxt as unknown as Record<string, new (config: object) => CcxtExchange>;
  const ExchangeClass = proClasses[id] ?? restClasses[id];
  if (!ExchangeClass)
    throw appError('BAD_INPUT', `ccxt lists venue "${id}" but has no class for it.`, { venue: id });
  const exchange = new ExchangeClass({
    enableRateLimit: true,
    options: { ...VENUE_DEFAULT_OPTIONS[id], ...connection.options },
  });
  if (connection.baseUrl !== undefined) pinToOrigin(exchange, connection.baseUrl);
  return exchange;
}

/**
 * Rewrites every url under `urls.api` to the given origin (http(s) urls to it, ws(s) urls to its
 * websocket form), keeping paths, and installs a fetch that refuses any other origin.
 */
export function pinToOrigin(exchange: CcxtExchange, baseUrl: string): void {
  let origin: URL;
  try {
    origin = new URL(baseUrl);
  } catch {
    throw appError(
      'BAD_INPUT',
      `Venue base url "${baseUrl}" is not a url (expected e.g. http://127.0.0.1:8080).`,
    );
  }
  if (origin.protocol !== 'http:' && origin.protocol !== 'https:') {
    throw appError('BAD_INPUT', `Venue base url "${baseUrl}" must be http:// or https://.`);
  }
  const httpOrigin = `${origin.protocol}//${origin.host}`;
  const wsOrigin = `${origin.protocol === 'https:' ? 'wss:' : 'ws:'}//${origin.host}`;
  const rewrite = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const match = /^(https?|wss?):\/\/[^/]+(.*)$/.exec(value);
      if (!match) return value;
      const isWs = match[1]!.startsWith('ws');
      return `${isWs ? wsOrigin : httpOrigin}${match[2]}`;
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = rewrite(v);
      return out;
    }
    return value;
  };
  const urls = exchange.urls as Record<string, unknown>;
  urls.api = rewrite(urls.api);
  // ccxt opens plain ws:// connections only through an explicit http agent.
  if (wsOrigin.startsWith('ws:')) (exchange as unknown as { httpAgent: Agent }).httpAgent = new Agent();
  const realFetch = globalThis.fetch;
  const guardedFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const target = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!target.startsWith(`${httpOrigin}/`)) {
      return Promise.reject(
        appError(
          'VENUE_UNREACHABLE',
          `Refused a request to ${target}: this venue is pinned to ${httpOrigin}.`,
        ),
      );
    }
    return realFetch(input, init);
  };
  (exchange as unknown as { fetchImplementation: typeof fetch }).fetchImplementation =
    guardedFetch as typeof fetch;
}
