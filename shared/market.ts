/**
 * Market data domain types shared by the engine (feeds, store, aggregation) and the renderer.
 * Times are ms since the Unix epoch, UTC. Bars are identified by their open time.
 */

export const TIMEFRAMES = ['1m', '5m', '15m', '1h', '4h', '1d'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

const MINUTE_MS = 60_000;

/** Length of one bar of each timeframe, in ms. */
export const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = {
  '1m': MINUTE_MS,
  '5m': 5 * MINUTE_MS,
  '15m': 15 * MINUTE_MS,
  '1h': 60 * MINUTE_MS,
  '4h': 240 * MINUTE_MS,
  '1d': 1440 * MINUTE_MS,
};

export function isTimeframe(value: string): value is Timeframe {
  return (TIMEFRAMES as readonly string[]).includes(value);
}

export function timeframeMs(timeframe: Timeframe): number {
  return TIMEFRAME_MS[timeframe];
}

/**
 * Open time of the bar that contains tsMs. Bars are aligned to the Unix epoch (UTC), which is
 * how Binance and most venues align them (1d bars open at 00:00 UTC, 4h bars at 00,04,...).
 */
export function barOpenMs(tsMs: number, timeframe: Timeframe): number {
  const size = TIMEFRAME_MS[timeframe];
  return Math.floor(tsMs / size) * size;
}

/** Open time of the bar after the one containing tsMs (= close time of that bar). */
export function barCloseMs(tsMs: number, timeframe: Timeframe): number {
  return barOpenMs(tsMs, timeframe) + TIMEFRAME_MS[timeframe];
}

/** One OHLCV bar. `time` is the bar's open time. */
export interface Candle {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/**
 * Bars as columns: the hot-path representation (store queries, aggregation, features, charts).
 * All arrays have the same length; `time` is strictly increasing.
 */
export interface CandleColumns {
  time: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

export const CANDLE_FIELDS = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;

export function emptyCandleColumns(length = 0): CandleColumns {
  return {
    time: new Float64Array(length),
    open: new Float64Array(length),
    high: new Float64Array(length),
    low: new Float64Array(length),
    close: new Float64Array(length),
    volume: new Float64Array(length),
  };
}

export function candleColumnsLength(columns: CandleColumns): number {
  return columns.time.length;
}

export function candlesToColumns(candles: readonly Candle[]): CandleColumns {
  const columns = emptyCandleColumns(candles.length);
  for (let i = 0; i < candles.length; i++) {
    const c = candles[i]!;
    columns.time[i] = c.time;
    columns.open[i] = c.open;
    columns.high[i] = c.high;
    columns.low[i] = c.low;
    columns.close[i] = c.close;
    columns.volume[i] = c.volume;
  }
  return columns;
}

export function columnsToCandles(columns: CandleColumns): Candle[] {
  const out: Candle[] = new Array<Candle>(columns.time.length);
  for (let i = 0; i < columns.time.length; i++) {
    out[i] = {
      time: columns.time[i]!,
      open: columns.open[i]!,
      high: columns.high[i]!,
      low: columns.low[i]!,
      close: columns.close[i]!,
      volume: columns.volume[i]!,
    };
  }
  return out;
}

/** Rows [start, end) of the columns as views (no copy). */
export function sliceCandleColumns(columns: CandleColumns, start: number, end: number): CandleColumns {
  return {
    time: columns.time.subarray(start, end),
    open: columns.open.subarray(start, end),
    high: columns.high.subarray(start, end),
    low: columns.low.subarray(start, end),
    close: columns.close.subarray(start, end),
    volume: columns.volume.subarray(start, end),
  };
}

export type TradeSide = 'buy' | 'sell';

/** One trade (print). `side` is the aggressor (taker) side. */
export interface Trade {
  tsMs: number;
  price: number;
  quantity: number;
  side: TradeSide;
  id: string;
}

/** Trades as columns for the aggregation fast path. side: +1 buy, -1 sell. */
export interface TradeColumns {
  tsMs: Float64Array;
  price: Float64Array;
  quantity: Float64Array;
  side: Int8Array;
}

export interface BookLevel {
  price: number;
  quantity: number;
}

/** Order book top levels. bids best (highest) first, asks best (lowest) first. */
export interface BookSnapshot {
  tsMs: number;
  bids: BookLevel[];
  asks: BookLevel[];
}

/** Last trade and top of book for a symbol (the watchlist row). */
export interface Ticker {
  venue: string;
  symbol: string;
  tsMs: number;
  last: number;
  bid: number;
  ask: number;
  /** Price 24 h ago (or at the start of the session when less history is known). */
  referencePrice: number;
  volume24h: number;
}

export const FEED_STATES = ['connecting', 'live', 'stale', 'reconnecting', 'failed'] as const;
export type FeedState = (typeof FEED_STATES)[number];

/** Health of one subscription (venue + symbol) as the feed sees it. */
export interface FeedHealth {
  venue: string;
  symbol: string;
  state: FeedState;
  /** Engine time of the last message, null before the first. */
  lastMessageMs: number | null;
  /** Messages per second over the last measurement window. */
  messagesPerSecond: number;
  /** Number of detected gaps (sequence breaks, missing bars) since the subscription started. */
  gaps: number;
  /** Expected largest interval between messages; no message for 3x this marks the feed stale. */
  expectedIntervalMs: number;
  message?: string;
}

/** Identifies a stored or streamed series. */
export interface SeriesKey {
  venue: string;
  symbol: string;
  timeframe: Timeframe;
}

/** What a feed emits. Bars are emitted once, when closed, and never changed afterwards. */
export type MarketEvent =
  | { kind: 'trade'; venue: string; symbol: string; trade: Trade }
  | { kind: 'book'; venue: string; symbol: string; book: BookSnapshot }
  | { kind: 'bar'; venue: string; symbol: string; timeframe: Timeframe; bar: Candle; isClosed: boolean }
  | { kind: 'health'; health: FeedHealth };
