import type { Scheduler, TimerHandle } from '../clock.ts';
import type { FeedSubscription, MarketFeed, MarketListener } from './feed.ts';
import { BarAggregator } from './bar-aggregator.ts';
import { resampleBars } from './bar-aggregator.ts';
import type { RangeQuery } from './candle-store.ts';
import {
  TIMEFRAMES,
  TIMEFRAME_MS,
  emptyCandleColumns,
  sliceCandleColumns,
  type BookSnapshot,
  type Candle,
  type CandleColumns,
  type FeedHealth,
  type MarketEvent,
  type Ticker,
  type Timeframe,
} from '../../../shared/market.ts';

/**
 * The live side of market data: every connected feed's subscriptions, their bars for every
 * timeframe (aggregated from trades, closed on the scheduler's clock), tickers and health.
 * Other modules reach it through the 'market.feeds' service: subscribe() for raw events (risk,
 * paper fills, strategies), tickers(), latestBook(), health(), liveCandles().
 */

/** Growable columns for live bars (append-only: a closed bar never changes). */
class BarSeries {
  private columns: CandleColumns;
  length = 0;

  constructor(initial?: CandleColumns) {
    const n = initial?.time.length ?? 0;
    this.columns = emptyCandleColumns(Math.max(1024, n * 2));
    if (initial && n > 0) {
      for (const f of ['time', 'open', 'high', 'low', 'close', 'volume'] as const)
        this.columns[f].set(initial[f]);
      this.length = n;
    }
  }

  append(bar: Candle): void {
    if (this.length > 0 && bar.time <= this.columns.time[this.length - 1]!) return;
    if (this.length === this.columns.time.length) {
      const bigger = emptyCandleColumns(this.length * 2);
      for (const f of ['time', 'open', 'high', 'low', 'close', 'volume'] as const)
        bigger[f].set(this.columns[f]);
      this.columns = bigger;
    }
    const i = this.length++;
    this.columns.time[i] = bar.time;
    this.columns.open[i] = bar.open;
    this.columns.high[i] = bar.high;
    this.columns.low[i] = bar.low;
    this.columns.close[i] = bar.close;
    this.columns.volume[i] = bar.volume;
  }

  view(): CandleColumns {
    return sliceCandleColumns(this.columns, 0, this.length);
  }
}

function lowerBound(times: Float64Array, value: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Applies a RangeQuery to in-memory columns; returns a copy and whether older bars remain. */
export function selectRange(
  columns: CandleColumns,
  range: RangeQuery,
): { columns: CandleColumns; hasMoreBefore: boolean } {
  let start = range.fromMs === undefined ? 0 : lowerBound(columns.time, range.fromMs);
  let end = range.toMs === undefined ? columns.time.length : lowerBound(columns.time, range.toMs);
  if (end < start) end = start;
  if (range.limit !== undefined && end - start > range.limit) {
    if (range.fromEnd) start = end - range.limit;
    else end = start + range.limit;
  }
  const view = sliceCandleColumns(columns, start, end);
  const copy = emptyCandleColumns(end - start);
  for (const f of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) copy[f].set(view[f]);
  return { columns: copy, hasMoreBefore: start > 0 };
}

interface LiveSymbol {
  venue: string;
  symbol: string;
  aggregator: BarAggregator;
  series: Map<Timeframe, BarSeries>;
  last: number;
  bid: number;
  ask: number;
  tsMs: number;
  book: BookSnapshot | null;
  hasUpdate: boolean;
  subscription: FeedSubscription;
}

export interface MarketHubOptions {
  scheduler: Scheduler;
  /** Closed bars (once each) and forming bars (throttled) for publishing. */
  onBars?: (
    updates: { venue: string; symbol: string; timeframe: Timeframe; bar: Candle; isClosed: boolean }[],
  ) => void;
  onTickers?: (tickers: Ticker[]) => void;
  onHealth?: (feeds: FeedHealth[]) => void;
  /** How often forming bars and tickers are published (ms). */
  publishEveryMs?: number;
}

export class MarketHub {
  private readonly scheduler: Scheduler;
  private readonly feeds = new Map<string, MarketFeed>();
  private readonly live = new Map<string, LiveSymbol>();
  private readonly listeners = new Map<string, Set<MarketListener>>();
  private readonly options: MarketHubOptions;
  private readonly pendingClosed: {
    venue: string;
    symbol: string;
    timeframe: Timeframe;
    bar: Candle;
    isClosed: boolean;
  }[] = [];
  private timer: TimerHandle | null = null;
  private isHealthChanged = false;

  constructor(options: MarketHubOptions) {
    this.scheduler = options.scheduler;
    this.options = options;
  }

  private static key(venue: string, symbol: string): string {
    return `${venue}\u0000${symbol}`;
  }

  /**
   * Connects a feed: subscribes its symbols, aggregates their trades into bars for every
   * timeframe and tracks tickers. history gives 1m bars that end where the live feed starts
   * (higher timeframes are resampled from them, so every timeframe shows the same market).
   */
  addFeed(
    feed: MarketFeed,
    options: { symbols?: readonly string[]; history?: (symbol: string) => CandleColumns | null } = {},
  ): void {
    if (this.feeds.has(feed.venue)) throw new Error(`A feed for venue ${feed.venue} is already connected.`);
    this.feeds.set(feed.venue, feed);
    for (const symbol of options.symbols ?? feed.symbols()) {
      const history = options.history?.(symbol) ?? null;
      const series = new Map<Timeframe, BarSeries>();
      const aggregator = new BarAggregator({
        timeframes: TIMEFRAMES,
        ...(history && history.time.length > 0
          ? { initialPrice: history.close[history.time.length - 1]! }
          : {}),
        onBar: (closed) => {
          series.get(closed.timeframe)?.append(closed.bar);
          this.pendingClosed.push({
            venue: feed.venue,
            symbol,
            timeframe: closed.timeframe,
            bar: closed.bar,
            isClosed: true,
          });
        },
      });
      for (const tf of TIMEFRAMES) {
        if (!history || history.time.length === 0) {
          series.set(tf, new BarSeries());
          continue;
        }
        const bars = tf === '1m' ? history : resampleBars(history, tf).columns;
        const n = bars.time.length;
        // The last resampled bar may be the still-open one (history ended mid-bar): it continues live.
        const isOpenBar = n > 0 && bars.time[n - 1]! + TIMEFRAME_MS[tf] > this.scheduler.nowMs();
        if (isOpenBar && tf !== '1m') {
          aggregator.seedForming(tf, {
            time: bars.time[n - 1]!,
            open: bars.open[n - 1]!,
            high: bars.high[n - 1]!,
            low: bars.low[n - 1]!,
            close: bars.close[n - 1]!,
            volume: bars.volume[n - 1]!,
          });
          series.set(tf, new BarSeries(sliceCandleColumns(bars, 0, n - 1)));
        } else series.set(tf, new BarSeries(bars));
      }
      const state: LiveSymbol = {
        venue: feed.venue,
        symbol,
        aggregator,
        series,
        last: history && history.time.length > 0 ? history.close[history.time.length - 1]! : NaN,
        bid: NaN,
        ask: NaN,
        tsMs: 0,
        book: null,
        hasUpdate: false,
        subscription: { unsubscribe: () => undefined },
      };
      this.live.set(MarketHub.key(feed.venue, symbol), state);
      state.subscription = feed.subscribe(symbol, (event) => this.onEvent(state, event));
      aggregator.start(this.scheduler);
    }
    this.ensureTimer();
  }

  async removeFeed(venue: string): Promise<void> {
    const feed = this.feeds.get(venue);
    if (!feed) return;
    for (const [k, s] of this.live) {
      if (s.venue !== venue) continue;
      s.subscription.unsubscribe();
      s.aggregator.stop();
      this.live.delete(k);
    }
    this.feeds.delete(venue);
    await feed.stop();
  }

  private onEvent(state: LiveSymbol, event: MarketEvent): void {
    switch (event.kind) {
      case 'trade':
        state.aggregator.addTrade(event.trade);
        state.last = event.trade.price;
        state.tsMs = event.trade.tsMs;
        state.hasUpdate = true;
        break;
      case 'book': {
        state.book = event.book;
        const bestBid = event.book.bids[0];
        const bestAsk = event.book.asks[0];
        if (bestBid) state.bid = bestBid.price;
        if (bestAsk) state.ask = bestAsk.price;
        state.tsMs = Math.max(state.tsMs, event.book.tsMs);
        state.hasUpdate = true;
        break;
      }
      case 'bar':
        // Feeds that deliver bars (replay, venue klines) rather than trades.
        if (event.isClosed) {
          state.series.get(event.timeframe)?.append(event.bar);
          this.pendingClosed.push({
            venue: state.venue,
            symbol: state.symbol,
            timeframe: event.timeframe,
            bar: event.bar,
            isClosed: true,
          });
          state.last = event.bar.close;
          state.tsMs = event.bar.time + TIMEFRAME_MS[event.timeframe];
          state.hasUpdate = true;
        }
        break;
      case 'health':
        this.isHealthChanged = true;
        break;
    }
    const set = this.listeners.get(MarketHub.key(state.venue, state.symbol));
    if (set) for (const listener of set) listener(event);
  }

  /** Raw events of one (venue, symbol) subscription, in order. */
  subscribe(venue: string, symbol: string, listener: MarketListener): FeedSubscription {
    const k = MarketHub.key(venue, symbol);
    let set = this.listeners.get(k);
    if (!set) {
      set = new Set();
      this.listeners.set(k, set);
    }
    set.add(listener);
    return { unsubscribe: () => void set.delete(listener) };
  }

  symbols(): { venue: string; symbol: string }[] {
    return [...this.live.values()].map((s) => ({ venue: s.venue, symbol: s.symbol }));
  }

  hasSymbol(venue: string, symbol: string): boolean {
    return this.live.has(MarketHub.key(venue, symbol));
  }

  feed(venue: string): MarketFeed | undefined {
    return this.feeds.get(venue);
  }

  latestBook(venue: string, symbol: string): BookSnapshot | null {
    return this.live.get(MarketHub.key(venue, symbol))?.book ?? null;
  }

  tickers(): Ticker[] {
    const now = this.scheduler.nowMs();
    const out: Ticker[] = [];
    for (const s of this.live.values()) {
      const minutes = s.series.get('1m')!.view();
      // Reference: the close 24 h ago (or the first bar known); volume over the last 24 h.
      const from = lowerBound(minutes.time, now - 86_400_000);
      let volume = s.aggregator.formingBar('1m')?.volume ?? 0;
      for (let i = from; i < minutes.time.length; i++) volume += minutes.volume[i]!;
      const referencePrice =
        minutes.time.length > 0 ? minutes.open[Math.min(from, minutes.time.length - 1)]! : s.last;
      if (!Number.isFinite(s.last)) continue;
      out.push({
        venue: s.venue,
        symbol: s.symbol,
        tsMs: s.tsMs,
        last: s.last,
        bid: Number.isFinite(s.bid) ? s.bid : s.last,
        ask: Number.isFinite(s.ask) ? s.ask : s.last,
        referencePrice,
        volume24h: volume,
      });
    }
    return out;
  }

  health(): FeedHealth[] {
    return [...this.feeds.values()].flatMap((f) => f.health());
  }

  /** Live bars of a subscribed symbol (history + bars closed since), or null if not live. */
  liveCandles(
    venue: string,
    symbol: string,
    timeframe: Timeframe,
    range: RangeQuery,
  ): { columns: CandleColumns; forming: Candle | null; hasMoreBefore: boolean } | null {
    const s = this.live.get(MarketHub.key(venue, symbol));
    if (!s) return null;
    const { columns, hasMoreBefore } = selectRange(s.series.get(timeframe)!.view(), range);
    const forming = s.aggregator.formingBar(timeframe);
    const isFormingInRange = forming !== null && (range.toMs === undefined || forming.time < range.toMs);
    return { columns, forming: isFormingInRange ? forming : null, hasMoreBefore };
  }

  /** Publishes closed bars, forming bars, tickers and health (on the scheduler, throttled). */
  flush(): void {
    const updates = this.pendingClosed.splice(0);
    for (const s of this.live.values()) {
      if (!s.hasUpdate) continue;
      for (const tf of TIMEFRAMES) {
        const bar = s.aggregator.formingBar(tf);
        if (bar) updates.push({ venue: s.venue, symbol: s.symbol, timeframe: tf, bar, isClosed: false });
      }
    }
    if (updates.length > 0) this.options.onBars?.(updates);
    const isAnyUpdate = [...this.live.values()].some((s) => s.hasUpdate);
    for (const s of this.live.values()) s.hasUpdate = false;
    if (isAnyUpdate) this.options.onTickers?.(this.tickers());
    if (this.isHealthChanged) {
      this.isHealthChanged = false;
      this.options.onHealth?.(this.health());
    }
  }

  private ensureTimer(): void {
    if (this.timer) return;
    const every = this.options.publishEveryMs ?? 250;
    const tick = (): void => {
      this.flush();
      this.timer = this.scheduler.schedule(every, tick);
    };
    this.timer = this.scheduler.schedule(every, tick);
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    for (const venue of [...this.feeds.keys()]) await this.removeFeed(venue);
  }
}
