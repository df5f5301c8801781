import type { Scheduler, TimerHandle } from '../clock.ts';
import type { FeedSubscription, MarketFeed, MarketListener } from './feed.ts';
import { BarAggregator } from './bar-aggregator.ts';
import {
  TIMEFRAME_MS,
  type CandleColumns,
  type FeedHealth,
  type MarketEvent,
  type Timeframe,
  type TradeColumns,
} from '../../../shared/market.ts';

/**
 * Replays stored history as a feed: bars (emitted as closed bars at their close time) or trades
 * (emitted at their time, optionally aggregated into bars on the way), several series merged in
 * time order. Speed 1 = real time, n = n times faster, 'max' = as fast as possible (in batches
 * that yield to the scheduler between them). Deterministic: the same sources give the same event
 * sequence at any speed; only the timing differs. Pausable and resumable.
 */
export type ReplaySource =
  | { kind: 'bars'; symbol: string; timeframe: Timeframe; columns: CandleColumns }
  | { kind: 'trades'; symbol: string; trades: TradeColumns; ids?: readonly string[] };

export type ReplaySpeed = number | 'max';

export const MAX_REPLAY_SPEED = 1_000_000;

interface Cursor {
  source: ReplaySource;
  index: number;
  length: number;
  aggregator: BarAggregator | null;
}

export interface ReplayOptions {
  scheduler: Scheduler;
  sources: readonly ReplaySource[];
  speed?: ReplaySpeed;
  venue?: string;
  /** For trade sources: also emit closed bars of these timeframes. */
  barTimeframes?: readonly Timeframe[];
  /** Events per batch at 'max' speed before yielding to the scheduler. */
  batchSize?: number;
  onEnd?: () => void;
}

export type ReplayState = 'idle' | 'playing' | 'paused' | 'finished';

function eventTime(cursor: Cursor): number {
  const s = cursor.source;
  if (s.kind === 'bars') return s.columns.time[cursor.index]! + TIMEFRAME_MS[s.timeframe];
  return s.trades.tsMs[cursor.index]!;
}

export class ReplayFeed implements MarketFeed {
  readonly venue: string;
  private readonly scheduler: Scheduler;
  private readonly cursors: Cursor[];
  private readonly listeners = new Map<string, Set<MarketListener>>();
  private readonly batchSize: number;
  private readonly onEnd: (() => void) | undefined;
  private speed: ReplaySpeed;
  private timer: TimerHandle | null = null;
  private replayState: ReplayState = 'idle';
  /** Data time at the anchor, and the scheduler time of the anchor. */
  private anchorDataMs = 0;
  private anchorWallMs = 0;
  private emitted = 0;
  private lastEventMs: number | null = null;

  constructor(options: ReplayOptions) {
    this.venue = options.venue ?? 'replay';
    this.scheduler = options.scheduler;
    this.speed = validateSpeed(options.speed ?? 1);
    this.batchSize = options.batchSize ?? 10_000;
    this.onEnd = options.onEnd;
    this.cursors = options.sources.map((source) => {
      const length = source.kind === 'bars' ? source.columns.time.length : source.trades.tsMs.length;
      let aggregator: BarAggregator | null = null;
      if (source.kind === 'trades' && options.barTimeframes && options.barTimeframes.length > 0) {
        aggregator = new BarAggregator({
          timeframes: options.barTimeframes,
          onBar: (closed) =>
            this.emit(source.symbol, {
              kind: 'bar',
              venue: this.venue,
              symbol: source.symbol,
              timeframe: closed.timeframe,
              bar: closed.bar,
              isClosed: true,
            }),
        });
      }
      return { source, index: 0, length, aggregator };
    });
  }

  symbols(): string[] {
    return [...new Set(this.cursors.map((c) => c.source.symbol))];
  }

  subscribe(symbol: string, listener: MarketListener): FeedSubscription {
    let set = this.listeners.get(symbol);
    if (!set) {
      set = new Set();
      this.listeners.set(symbol, set);
    }
    set.add(listener);
    return { unsubscribe: () => void set.delete(listener) };
  }

  health(): FeedHealth[] {
    return [...this.listeners.keys()].map((symbol) => ({
      venue: this.venue,
      symbol,
      state: this.replayState === 'idle' ? 'connecting' : 'live',
      lastMessageMs: this.lastEventMs,
      messagesPerSecond: 0,
      gaps: 0,
      expectedIntervalMs: 0,
      message: this.replayState,
    }));
  }

  get state(): ReplayState {
    return this.replayState;
  }

  get eventCount(): number {
    return this.emitted;
  }

  /** Data time the replay has reached. */
  dataNowMs(): number {
    if (this.replayState !== 'playing' || this.speed === 'max') return this.anchorDataMs;
    return this.anchorDataMs + (this.scheduler.nowMs() - this.anchorWallMs) * this.speed;
  }

  private nextCursor(): Cursor | null {
    let best: Cursor | null = null;
    let bestTime = Infinity;
    for (const c of this.cursors) {
      if (c.index >= c.length) continue;
      const t = eventTime(c);
      if (t < bestTime) {
        bestTime = t;
        best = c;
      }
    }
    return best;
  }

  private emit(symbol: string, event: MarketEvent): void {
    const set = this.listeners.get(symbol);
    if (!set) return;
    for (const listener of set) listener(event);
  }

  private emitOne(cursor: Cursor): void {
    const s = cursor.source;
    const i = cursor.index++;
    this.emitted++;
    if (s.kind === 'bars') {
      const c = s.columns;
      this.lastEventMs = c.time[i]! + TIMEFRAME_MS[s.timeframe];
      this.emit(s.symbol, {
        kind: 'bar',
        venue: this.venue,
        symbol: s.symbol,
        timeframe: s.timeframe,
        bar: {
          time: c.time[i]!,
          open: c.open[i]!,
          high: c.high[i]!,
          low: c.low[i]!,
          close: c.close[i]!,
          volume: c.volume[i]!,
        },
        isClosed: true,
      });
    } else {
      const t = s.trades;
      this.lastEventMs = t.tsMs[i]!;
      cursor.aggregator?.add(t.tsMs[i]!, t.price[i]!, t.quantity[i]!);
      this.emit(s.symbol, {
        kind: 'trade',
        venue: this.venue,
        symbol: s.symbol,
        trade: {
          tsMs: t.tsMs[i]!,
          price: t.price[i]!,
          quantity: t.quantity[i]!,
          side: t.side[i]! < 0 ? 'sell' : 'buy',
          id: s.ids?.[i] ?? String(i),
        },
      });
    }
  }

  /** Emits everything due at data time dataMs (all of it at 'max' speed, batch by batch). */
  private pump(): void {
    this.timer = null;
    if (this.replayState !== 'playing') return;
    if (this.speed === 'max') {
      let n = 0;
      for (let c = this.nextCursor(); c && n < this.batchSize; c = this.nextCursor(), n++) {
        this.anchorDataMs = eventTime(c);
        this.emitOne(c);
      }
    } else {
      const dataNow = this.dataNowMs();
      for (let c = this.nextCursor(); c && eventTime(c) <= dataNow; c = this.nextCursor()) this.emitOne(c);
    }
    const next = this.nextCursor();
    if (!next) {
      this.finish();
      return;
    }
    const delay =
      this.speed === 'max' ? 0 : Math.max(0, Math.ceil((eventTime(next) - this.dataNowMs()) / this.speed));
    this.timer = this.scheduler.schedule(delay, () => this.pump());
  }

  private finish(): void {
    // Trade replays close their last bars at the end of the data.
    for (const c of this.cursors) {
      if (c.aggregator && c.source.kind === 'trades' && c.length > 0)
        c.aggregator.advanceTo(c.source.trades.tsMs[c.length - 1]! + 1, false);
    }
    this.replayState = 'finished';
    this.onEnd?.();
  }

  start(): void {
    if (this.replayState !== 'idle') return;
    // The data clock starts where the data starts: the first bar's open (it is emitted at its
    // close, one timeframe later) or the first trade.
    let startMs = Infinity;
    for (const c of this.cursors) {
      if (c.length === 0) continue;
      startMs = Math.min(
        startMs,
        c.source.kind === 'bars' ? c.source.columns.time[0]! : c.source.trades.tsMs[0]!,
      );
    }
    this.anchorDataMs = Number.isFinite(startMs) ? startMs : 0;
    this.anchorWallMs = this.scheduler.nowMs();
    this.replayState = 'playing';
    this.pump();
  }

  pause(): void {
    if (this.replayState !== 'playing') return;
    this.anchorDataMs = this.dataNowMs();
    this.replayState = 'paused';
    this.timer?.cancel();
    this.timer = null;
  }

  resume(): void {
    if (this.replayState !== 'paused') return;
    this.anchorWallMs = this.scheduler.nowMs();
    this.replayState = 'playing';
    this.pump();
  }

  setSpeed(speed: ReplaySpeed): void {
    const wasPlaying = this.replayState === 'playing';
    if (wasPlaying) this.pause();
    this.speed = validateSpeed(speed);
    if (wasPlaying) this.resume();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    if (this.replayState === 'playing' || this.replayState === 'paused') this.replayState = 'finished';
  }
}

function validateSpeed(speed: ReplaySpeed): ReplaySpeed {
  if (speed === 'max') return speed;
  if (!Number.isFinite(speed) || speed < 1 || speed > MAX_REPLAY_SPEED) {
    throw new RangeError(`Replay speed must be between 1 and ${MAX_REPLAY_SPEED} (or 'max'), got ${speed}.`);
  }
  return speed;
}
