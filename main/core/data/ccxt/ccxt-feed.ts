import type { Scheduler, TimerHandle } from '../../clock.ts';
import type { RandomSource } from '../../random.ts';
import { appError, isAppErrorException } from '../../../../shared/errors.ts';
import {
  TIMEFRAME_MS,
  type BookLevel,
  type Candle,
  type FeedHealth,
  type FeedState,
  type MarketEvent,
  type Ticker,
  type Timeframe,
} from '../../../../shared/market.ts';
import {
  DEFAULT_BACKOFF,
  backoffDelayMs,
  classifyVenueError,
  delay,
  ensureMarket,
  ensureTimeframe,
  errorMessage,
  fetchOhlcvPages,
  type BackoffPolicy,
  type RetryContext,
} from './rest.ts';
import type { CcxtExchange } from './venues.ts';
import { STALE_AFTER_INTERVALS, type MarketFeed } from '../feed.ts';

/** What to stream for one unified symbol (`BTC/USDT`). */
export interface CcxtFeedSubscription {
  symbol: string;
  trades?: boolean;
  book?: boolean;
  timeframes?: Timeframe[];
  ticker?: boolean;
}

export type FeedTransport = 'auto' | 'websocket' | 'rest';

export interface CcxtFeedOptions {
  /** Venue id used in events and health (e.g. `binance`). */
  venue: string;
  exchange: CcxtExchange;
  scheduler: Scheduler;
  random: RandomSource;
  subscriptions: CcxtFeedSubscription[];
  /** auto: websocket where ccxt has a watch method for the venue, REST polling otherwise. */
  transport?: FeedTransport;
  /** Reconnect and REST retry policy (exponential backoff with jitter). */
  backoff?: Partial<BackoffPolicy>;
  /** REST polling period when a channel has no websocket. */
  pollIntervalMs?: number;
  /** Book levels per side in book events. */
  bookDepth?: number;
  /** Longest expected silence between messages; STALE_AFTER_INTERVALS (3) x this marks the subscription stale. */
  expectedIntervalMs?: number;
  /** Window over which messages/s is measured. */
  rateWindowMs?: number;
}

type ChannelName = 'trades' | 'book' | 'ticker' | `bars:${Timeframe}`;

interface BarState {
  timeframe: Timeframe;
  /** The bar being formed (latest values seen). */
  current: Candle | null;
  /** Open time of the last bar emitted as closed. */
  lastClosedMs: number | null;
}

interface SymbolState {
  symbol: string;
  subscription: CcxtFeedSubscription;
  health: FeedHealth;
  /** Channels that lost their connection and have not recovered (and backfilled) yet. */
  recovering: Set<ChannelName>;
  lastTradeId: number | null;
  lastTradeMs: number | null;
  bookSequence: number | null;
  bars: Map<Timeframe, BarState>;
  windowStartMs: number;
  windowCount: number;
}

type Listener<T> = (value: T) => void;

/**
 * Live market data from a ccxt venue: websocket (ccxt pro watch* methods) where the venue has it,
 * REST polling otherwise. Each (symbol, channel) runs its own loop; a dropped connection is retried
 * with exponential backoff and jitter, and after a reconnect any bars missed meanwhile are fetched
 * over REST before the subscription is marked live again. Bars are emitted closed exactly once.
 */
export class CcxtFeed implements MarketFeed {
  private readonly options: Required<Omit<CcxtFeedOptions, 'backoff'>> & { backoff: BackoffPolicy };
  private readonly symbolStates = new Map<string, SymbolState>();
  private readonly listeners = new Set<Listener<MarketEvent>>();
  private readonly tickerListeners = new Set<Listener<Ticker>>();
  private readonly abort = new AbortController();
  private staleTimer: TimerHandle | null = null;
  private isStopped = false;
  private isStarted = false;

  constructor(options: CcxtFeedOptions) {
    const transport = options.transport ?? 'auto';
    const pollIntervalMs = options.pollIntervalMs ?? 2_000;
    this.options = {
      ...options,
      transport,
      pollIntervalMs,
      bookDepth: options.bookDepth ?? 20,
      expectedIntervalMs: options.expectedIntervalMs ?? Math.max(5_000, pollIntervalMs * 2),
      rateWindowMs: options.rateWindowMs ?? 5_000,
      backoff: { ...DEFAULT_BACKOFF, maxAttempts: 20, ...options.backoff },
    };
    for (const sub of options.subscriptions) {
      if (this.symbolStates.has(sub.symbol))
        throw appError('BAD_INPUT', `Symbol ${sub.symbol} is subscribed twice; merge the subscriptions.`);
      this.symbolStates.set(sub.symbol, this.createState(sub));
    }
  }

  private createState(sub: CcxtFeedSubscription): SymbolState {
    return {
      symbol: sub.symbol,
      subscription: sub,
      health: {
        venue: this.options.venue,
        symbol: sub.symbol,
        state: 'connecting',
        lastMessageMs: null,
        messagesPerSecond: 0,
        gaps: 0,
        expectedIntervalMs: this.options.expectedIntervalMs,
      },
      recovering: new Set(),
      lastTradeId: null,
      lastTradeMs: null,
      bookSequence: null,
      bars: new Map(
        (sub.timeframes ?? []).map((tf) => [tf, { timeframe: tf, current: null, lastClosedMs: null }]),
      ),
      windowStartMs: this.options.scheduler.nowMs(),
      windowCount: 0,
    };
  }

  get venue(): string {
    return this.options.venue;
  }

  /** Unified symbols this feed streams. */
  symbols(): string[] {
    return [...this.symbolStates.keys()];
  }

  /**
   * Events of one symbol only (health included). A symbol the feed does not stream yet is added
   * with trades and book (MarketFeed: subscribing starts the work); if the venue does not list it,
   * its health goes to failed with the reason.
   */
  subscribe(symbol: string, listener: Listener<MarketEvent>): { unsubscribe(): void } {
    const off = this.onEvent((e) => {
      if ((e.kind === 'health' ? e.health.symbol : e.symbol) === symbol) listener(e);
    });
    if (!this.symbolStates.has(symbol)) {
      void this.addSubscription({ symbol, trades: true, book: true }).catch((err: unknown) => {
        const state = this.symbolStates.get(symbol);
        if (state) this.markFailed(state, errorMessage(err));
      });
    }
    return { unsubscribe: off };
  }

  /**
   * Streams another symbol. Before start() it joins the initial set; after, its market is checked
   * (BAD_INPUT for an unknown symbol or timeframe) and its channels start at once.
   */
  async addSubscription(sub: CcxtFeedSubscription): Promise<void> {
    if (this.symbolStates.has(sub.symbol))
      throw appError('BAD_INPUT', `${this.options.venue} feed already streams ${sub.symbol}.`);
    const state = this.createState(sub);
    this.symbolStates.set(sub.symbol, state);
    if (!this.isStarted) return;
    this.emitHealth(state);
    await ensureMarket(this.options.venue, this.options.exchange, sub.symbol, this.retryContext());
    for (const tf of state.bars.keys()) ensureTimeframe(this.options.venue, this.options.exchange, tf);
    this.startChannels(state);
  }

  /** Every event of every symbol. */
  onEvent(listener: Listener<MarketEvent>): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  onTicker(listener: Listener<Ticker>): () => void {
    this.tickerListeners.add(listener);
    return () => void this.tickerListeners.delete(listener);
  }

  health(): FeedHealth[] {
    return [...this.symbolStates.values()].map((s) => ({ ...s.health }));
  }

  /** Venue sequence number (Binance: lastUpdateId) of the last book emitted for the symbol. */
  bookSequence(symbol: string): number | null {
    return this.symbolStates.get(symbol)?.bookSequence ?? null;
  }

  /** Whether channels of this feed use websockets or REST polling (decided per venue capability). */
  transportFor(channel: 'trades' | 'book' | 'bars' | 'ticker'): 'websocket' | 'rest' {
    if (this.options.transport !== 'auto') return this.options.transport;
    const has = this.options.exchange.has as Record<string, unknown>;
    const method = {
      trades: 'watchTrades',
      book: 'watchOrderBook',
      bars: 'watchOHLCV',
      ticker: 'watchTicker',
    }[channel];
    return has.ws && has[method] ? 'websocket' : 'rest';
  }

  /**
   * Loads markets, checks every symbol and timeframe (a typo fails here with BAD_INPUT, not later as
   * a "failed" feed), then starts the channel loops. Resolves once the loops are running.
   */
  async start(): Promise<void> {
    const ctx = this.retryContext();
    // Symbols added while markets load are checked too (loop until none is left unchecked).
    const states = new Set<SymbolState>();
    for (;;) {
      const pending = [...this.symbolStates.values()].filter((state) => !states.has(state));
      if (pending.length === 0) break;
      for (const state of pending) {
        await ensureMarket(this.options.venue, this.options.exchange, state.symbol, ctx);
        for (const tf of state.bars.keys()) ensureTimeframe(this.options.venue, this.options.exchange, tf);
        states.add(state);
      }
    }
    this.isStarted = true;
    for (const state of states) {
      this.emitHealth(state);
      this.startChannels(state);
    }
    this.scheduleStaleCheck();
  }

  private startChannels(state: SymbolState): void {
    const sub = state.subscription;
    if (sub.trades) void this.runChannel(state, 'trades');
    if (sub.book) void this.runChannel(state, 'book');
    if (sub.ticker) void this.runChannel(state, 'ticker');
    for (const tf of sub.timeframes ?? []) void this.runChannel(state, `bars:${tf}`);
  }

  /** Stops every loop and closes the venue's connections. */
  async stop(): Promise<void> {
    if (this.isStopped) return;
    this.isStopped = true;
    this.abort.abort();
    this.staleTimer?.cancel();
    try {
      await this.options.exchange.close();
    } catch {
      // Closing sockets that already dropped can throw; there is nothing left to release.
    }
    // Loops end as their pending watch rejects on close. They are not awaited: a venue class that
    // never settles a pending watch cannot hold stop() hostage, and emit() is silent from here on.
  }

  private retryContext(): RetryContext {
    return {
      scheduler: this.options.scheduler,
      random: this.options.random,
      policy: this.options.backoff,
      signal: this.abort.signal,
    };
  }

  private async runChannel(state: SymbolState, channel: ChannelName): Promise<void> {
    const kind = channel.startsWith('bars:') ? 'bars' : (channel as 'trades' | 'book' | 'ticker');
    const isWebsocket = this.transportFor(kind) === 'websocket';
    let failures = 0;
    let isFirstPoll = true;
    while (!this.isStopped) {
      try {
        if (!isWebsocket && !isFirstPoll)
          await delay(this.options.scheduler, this.options.pollIntervalMs, this.abort.signal);
        isFirstPoll = false;
        await this.step(state, channel, isWebsocket, failures > 0);
        if (this.isStopped) return;
        failures = 0;
        this.markRecovered(state, channel);
      } catch (err) {
        if (this.isStopped) return;
        const errorKind = classifyVenueError(err);
        if (errorKind === 'out-of-sync' && channel === 'book') {
          // The venue's update ids stopped chaining (lost messages): drop the subscription so the
          // next watch resubscribes and rebuilds the book from a fresh snapshot.
          this.addGap(state);
          await this.unwatchBook(state.symbol);
        } else if (errorKind !== 'network' && errorKind !== 'rate-limited') {
          this.markFailed(state, `${channel}: ${errorMessage(err)}`);
          return;
        }
        failures++;
        if (failures >= this.options.backoff.maxAttempts) {
          this.markFailed(state, `${channel}: gave up after ${failures} attempts: ${errorMessage(err)}`);
          return;
        }
        this.markRecovering(state, channel, errorMessage(err));
        try {
          await delay(
            this.options.scheduler,
            backoffDelayMs(failures, this.options.backoff, this.options.random, errorKind === 'rate-limited'),
            this.abort.signal,
          );
        } catch (cancelled) {
          if (isAppErrorException(cancelled)) return;
          throw cancelled;
        }
      }
    }
  }

  private async step(
    state: SymbolState,
    channel: ChannelName,
    isWebsocket: boolean,
    isRecovering: boolean,
  ): Promise<void> {
    const ex = this.options.exchange;
    const symbol = state.symbol;
    if (channel === 'trades') {
      // REST: the venue's most recent trades; already-seen ids are dropped and a jump counts a gap.
      const trades = isWebsocket ? await ex.watchTrades(symbol) : await ex.fetchTrades(symbol);
      this.handleTrades(state, trades);
    } else if (channel === 'book') {
      const book = isWebsocket
        ? await ex.watchOrderBook(symbol)
        : await ex.fetchOrderBook(symbol, this.options.bookDepth);
      this.handleBook(state, book);
    } else if (channel === 'ticker') {
      const ticker = isWebsocket ? await ex.watchTicker(symbol) : await ex.fetchTicker(symbol);
      this.handleTicker(state, ticker);
    } else {
      const bars = state.bars.get(channel.slice(5) as Timeframe)!;
      // After a lost connection the bar being formed is discarded: its final values were never seen.
      // Its REST copy arrives through the backfill below.
      if (isRecovering && bars.current !== null) {
        // Nothing closed yet: backfill from the discarded bar itself (as if the one before it had closed).
        if (bars.lastClosedMs === null) bars.lastClosedMs = bars.current.time - TIMEFRAME_MS[bars.timeframe];
        bars.current = null;
      }
      // REST: the first poll asks only for the last two bars (the closed one and the forming one):
      // like the websocket, the live feed starts now; history comes from the store.
      const rows = isWebsocket
        ? await ex.watchOHLCV(symbol, bars.timeframe)
        : bars.lastClosedMs === null
          ? await ex.fetchOHLCV(symbol, bars.timeframe, undefined, 2)
          : await ex.fetchOHLCV(symbol, bars.timeframe, bars.lastClosedMs + TIMEFRAME_MS[bars.timeframe]);
      await this.handleBarRows(state, bars, rows as unknown[][]);
    }
  }

  private async unwatchBook(symbol: string): Promise<void> {
    const ex = this.options.exchange as CcxtExchange & {
      unWatchOrderBook?: (symbol: string) => Promise<unknown>;
    };
    if (!(ex.has as Record<string, unknown>).unWatchOrderBook || typeof ex.unWatchOrderBook !== 'function')
      return;
    try {
      await ex.unWatchOrderBook(symbol);
    } catch {
      // If unsubscribing fails the connection is unusable anyway; the retry reconnects.
    }
  }

  private handleTrades(
    state: SymbolState,
    trades: { id?: string; timestamp?: number; price?: number; amount?: number; side?: string }[],
  ): void {
    let count = 0;
    for (const t of trades) {
      if (t.price === undefined || t.amount === undefined || t.timestamp === undefined) continue;
      const numericId = t.id !== undefined && /^\d+$/.test(t.id) ? Number(t.id) : null;
      if (numericId !== null && state.lastTradeId !== null) {
        // Binance trade ids are consecutive per symbol: a repeat is a duplicate after reconnect or a
        // REST re-poll; a jump means trades were missed (counted as a gap).
        if (numericId <= state.lastTradeId) continue;
        if (numericId > state.lastTradeId + 1) this.addGap(state);
      }
      if (numericId !== null) state.lastTradeId = numericId;
      state.lastTradeMs = t.timestamp;
      count++;
      this.emit({
        kind: 'trade',
        venue: this.options.venue,
        symbol: state.symbol,
        trade: {
          tsMs: t.timestamp,
          price: t.price,
          quantity: t.amount,
          side: t.side === 'sell' ? 'sell' : 'buy',
          id: t.id ?? '',
        },
      });
    }
    this.countMessages(state, count);
  }

  private handleBook(
    state: SymbolState,
    book: { bids: unknown[][]; asks: unknown[][]; timestamp?: number; nonce?: number },
  ): void {
    const depth = this.options.bookDepth;
    const levels = (side: unknown[][]): BookLevel[] =>
      side.slice(0, depth).map((l) => ({ price: Number(l[0]), quantity: Number(l[1]) }));
    state.bookSequence = book.nonce ?? null;
    this.countMessages(state, 1);
    this.emit({
      kind: 'book',
      venue: this.options.venue,
      symbol: state.symbol,
      book: {
        tsMs: book.timestamp ?? this.options.scheduler.nowMs(),
        bids: levels(book.bids),
        asks: levels(book.asks),
      },
    });
  }

  private handleTicker(
    state: SymbolState,
    t: { timestamp?: number; last?: number; bid?: number; ask?: number; open?: number; baseVolume?: number },
  ): void {
    if (t.last === undefined) return;
    this.countMessages(state, 1);
    const ticker: Ticker = {
      venue: this.options.venue,
      symbol: state.symbol,
      tsMs: t.timestamp ?? this.options.scheduler.nowMs(),
      last: t.last,
      bid: t.bid ?? t.last,
      ask: t.ask ?? t.last,
      referencePrice: t.open ?? t.last,
      volume24h: t.baseVolume ?? 0,
    };
    for (const l of this.tickerListeners) l(ticker);
  }

  private async handleBarRows(state: SymbolState, bars: BarState, rows: unknown[][]): Promise<void> {
    const tfMs = TIMEFRAME_MS[bars.timeframe];
    let count = 0;
    for (const row of rows) {
      const candle = toCandle(row);
      if (candle === null) continue;
      count++;
      const current = bars.current;
      if (current !== null && candle.time < current.time) continue;
      if (bars.lastClosedMs !== null && candle.time <= bars.lastClosedMs) continue;
      if (current !== null && candle.time === current.time) {
        bars.current = candle;
        this.emitBar(state, bars.timeframe, candle, false);
        continue;
      }
      // A newer bar: the one being formed is final now (Binance sends its closing update first).
      if (current !== null) this.closeBar(state, bars, current);
      if (bars.lastClosedMs !== null && candle.time > bars.lastClosedMs + tfMs) {
        await this.backfillBars(state, bars, candle.time);
      }
      bars.current = candle;
      this.emitBar(state, bars.timeframe, candle, false);
    }
    this.countMessages(state, count);
  }

  /** Fetches the closed bars between the last one emitted and `beforeMs` over REST and emits them. */
  private async backfillBars(state: SymbolState, bars: BarState, beforeMs: number): Promise<void> {
    this.addGap(state);
    const sinceMs = bars.lastClosedMs! + TIMEFRAME_MS[bars.timeframe];
    const pages = fetchOhlcvPages(
      this.options.venue,
      this.options.exchange,
      state.symbol,
      bars.timeframe,
      { sinceMs, untilMs: beforeMs },
      this.retryContext(),
    );
    for await (const page of pages) {
      for (const bar of page.bars) this.closeBar(state, bars, bar);
    }
  }

  private closeBar(state: SymbolState, bars: BarState, bar: Candle): void {
    if (bars.lastClosedMs !== null && bar.time <= bars.lastClosedMs) return;
    bars.lastClosedMs = bar.time;
    this.emitBar(state, bars.timeframe, bar, true);
  }

  private emitBar(state: SymbolState, timeframe: Timeframe, bar: Candle, isClosed: boolean): void {
    this.emit({
      kind: 'bar',
      venue: this.options.venue,
      symbol: state.symbol,
      timeframe,
      bar: { ...bar },
      isClosed,
    });
  }

  private countMessages(state: SymbolState, count: number): void {
    if (count === 0) return;
    const now = this.options.scheduler.nowMs();
    state.health.lastMessageMs = now;
    state.windowCount += count;
    const elapsed = now - state.windowStartMs;
    if (elapsed >= this.options.rateWindowMs) {
      state.health.messagesPerSecond = (state.windowCount * 1000) / elapsed;
      state.windowStartMs = now;
      state.windowCount = 0;
    }
    if (
      (state.health.state === 'connecting' || state.health.state === 'stale') &&
      state.recovering.size === 0
    ) {
      this.setState(state, 'live');
    }
  }

  private addGap(state: SymbolState): void {
    state.health.gaps++;
  }

  private markRecovering(state: SymbolState, channel: ChannelName, message: string): void {
    if (state.health.state === 'failed') return;
    state.recovering.add(channel);
    this.setState(state, 'reconnecting', `${channel}: ${message}`);
  }

  private markRecovered(state: SymbolState, channel: ChannelName): void {
    if (!state.recovering.delete(channel)) return;
    if (state.recovering.size === 0 && state.health.state === 'reconnecting') this.setState(state, 'live');
  }

  private markFailed(state: SymbolState, message: string): void {
    this.setState(state, 'failed', message);
  }

  private setState(state: SymbolState, next: FeedState, message?: string): void {
    if (state.health.state === 'failed') return;
    if (state.health.state === next && state.health.message === message) return;
    state.health.state = next;
    if (message === undefined) delete state.health.message;
    else state.health.message = message;
    this.emitHealth(state);
  }

  private emitHealth(state: SymbolState): void {
    this.emit({ kind: 'health', health: { ...state.health } });
  }

  private scheduleStaleCheck(): void {
    const interval = this.options.expectedIntervalMs;
    // Checked four times per interval, so silence is noticed within a quarter interval of the limit.
    this.staleTimer = this.options.scheduler.schedule(Math.max(50, interval / 4), () => {
      if (this.isStopped) return;
      const now = this.options.scheduler.nowMs();
      for (const state of this.symbolStates.values()) {
        const last = state.health.lastMessageMs;
        if (state.health.state === 'live' && last !== null && now - last > STALE_AFTER_INTERVALS * interval) {
          this.setState(
            state,
            'stale',
            `no data for ${((now - last) / 1000).toFixed(1)} s (expected every ${interval / 1000} s)`,
          );
        }
      }
      this.scheduleStaleCheck();
    });
  }

  private emit(event: MarketEvent): void {
    if (this.isStopped) return;
    for (const l of this.listeners) l(event);
  }
}

function toCandle(row: unknown[]): Candle | null {
  const [t, o, h, l, c, v] = row;
  if (
    typeof t !== 'number' ||
    typeof o !== 'number' ||
    typeof h !== 'number' ||
    typeof l !== 'number' ||
    typeof c !== 'number'
  )
    return null;
  return { time: t, open: o, high: h, low: l, close: c, volume: typeof v === 'number' ? v : 0 };
}
