import type { Scheduler, TimerHandle } from '../clock.ts';
import type { FeedHealth, FeedState, MarketEvent } from '../../../shared/market.ts';

/**
 * One interface for every market data source (demo venue, replay, ccxt live). Consumers subscribe
 * per symbol and receive MarketEvents (trade, book, bar, health) in order.
 */
export type MarketListener = (event: MarketEvent) => void;

export interface FeedSubscription {
  unsubscribe(): void;
}

export interface MarketFeed {
  /** Venue id used in series keys ('demo', 'replay', 'binance', ...). */
  readonly venue: string;
  /** Symbols this feed can deliver. */
  symbols(): string[];
  /** Starts delivering symbol's events to listener (starting the feed's work for it if needed). */
  subscribe(symbol: string, listener: MarketListener): FeedSubscription;
  /** Health of every active subscription. */
  health(): FeedHealth[];
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** A feed marks a subscription stale after this many expected intervals without a message. */
export const STALE_AFTER_INTERVALS = 3;

/** Messages per second are measured over this window. */
const RATE_WINDOW_MS = 10_000;
const RATE_BUCKETS = 10;

interface Tracked {
  health: FeedHealth;
  /** Message counts per RATE_WINDOW_MS / RATE_BUCKETS bucket (ring). */
  buckets: Int32Array;
  bucketStartMs: number;
  bucketIndex: number;
  startedMs: number;
}

/**
 * Tracks the health of each (venue, symbol) subscription: last message time, messages/s, gaps,
 * and the state machine connecting -> live <-> stale, with reconnecting and failed set by the
 * transport. No message for STALE_AFTER_INTERVALS x the expected interval marks it stale and
 * emits a health event (risk halts trading on stale data); the next message makes it live again.
 */
export class FeedHealthMonitor {
  private readonly venue: string;
  private readonly scheduler: Scheduler;
  private readonly onChange: (health: FeedHealth) => void;
  private readonly tracked = new Map<string, Tracked>();
  private timer: TimerHandle | null = null;
  private readonly checkEveryMs: number;

  constructor(options: {
    venue: string;
    scheduler: Scheduler;
    onChange: (health: FeedHealth) => void;
    checkEveryMs?: number;
  }) {
    this.venue = options.venue;
    this.scheduler = options.scheduler;
    this.onChange = options.onChange;
    this.checkEveryMs = options.checkEveryMs ?? 250;
  }

  /** Begins tracking a subscription in state 'connecting'. */
  track(symbol: string, expectedIntervalMs: number): void {
    if (this.tracked.has(symbol)) return;
    const now = this.scheduler.nowMs();
    this.tracked.set(symbol, {
      health: {
        venue: this.venue,
        symbol,
        state: 'connecting',
        lastMessageMs: null,
        messagesPerSecond: 0,
        gaps: 0,
        expectedIntervalMs,
      },
      buckets: new Int32Array(RATE_BUCKETS),
      bucketStartMs: now,
      bucketIndex: 0,
      startedMs: now,
    });
    this.onChange(this.snapshot(symbol)!);
    this.ensureTimer();
  }

  untrack(symbol: string): void {
    this.tracked.delete(symbol);
    if (this.tracked.size === 0) this.stop();
  }

  /** A message arrived for symbol (any kind). */
  recordMessage(symbol: string): void {
    const t = this.tracked.get(symbol);
    if (!t) return;
    const now = this.scheduler.nowMs();
    this.rotate(t, now);
    t.buckets[t.bucketIndex] = t.buckets[t.bucketIndex]! + 1;
    t.health.lastMessageMs = now;
    if (t.health.state !== 'live') this.setStateOf(t, 'live', undefined);
  }

  /** A sequence break or missing bars were detected (the transport backfills or resyncs). */
  recordGap(symbol: string, message?: string): void {
    const t = this.tracked.get(symbol);
    if (!t) return;
    t.health.gaps++;
    if (message) t.health.message = message;
    this.onChange(this.snapshot(symbol)!);
  }

  /** Transport-driven states: reconnecting, failed, connecting (live and stale come from traffic). */
  setState(symbol: string, state: FeedState, message?: string): void {
    const t = this.tracked.get(symbol);
    if (t) this.setStateOf(t, state, message);
  }

  private setStateOf(t: Tracked, state: FeedState, message: string | undefined): void {
    if (t.health.state === state && t.health.message === message) return;
    t.health.state = state;
    if (message === undefined) delete t.health.message;
    else t.health.message = message;
    this.onChange(this.snapshot(t.health.symbol)!);
  }

  private rotate(t: Tracked, now: number): void {
    const bucketMs = RATE_WINDOW_MS / RATE_BUCKETS;
    while (now - t.bucketStartMs >= bucketMs) {
      t.bucketStartMs += bucketMs;
      t.bucketIndex = (t.bucketIndex + 1) % RATE_BUCKETS;
      t.buckets[t.bucketIndex] = 0;
      // After a long silence, skip whole windows at once.
      if (now - t.bucketStartMs > RATE_WINDOW_MS) {
        t.buckets.fill(0);
        t.bucketStartMs = now - ((now - t.bucketStartMs) % bucketMs);
      }
    }
  }

  snapshot(symbol: string): FeedHealth | null {
    const t = this.tracked.get(symbol);
    if (!t) return null;
    const now = this.scheduler.nowMs();
    this.rotate(t, now);
    let count = 0;
    for (const c of t.buckets) count += c;
    // The ring holds RATE_BUCKETS - 1 full buckets plus the current, partly elapsed one.
    const coveredMs = (RATE_BUCKETS - 1) * (RATE_WINDOW_MS / RATE_BUCKETS) + (now - t.bucketStartMs);
    const windowMs = Math.max(1, Math.min(coveredMs, now - t.startedMs));
    t.health.messagesPerSecond = Math.round((count / windowMs) * 1000 * 100) / 100;
    return { ...t.health };
  }

  all(): FeedHealth[] {
    return [...this.tracked.keys()].map((s) => this.snapshot(s)!);
  }

  /** Marks subscriptions stale that have been silent too long (runs on the scheduler). */
  check(): void {
    const now = this.scheduler.nowMs();
    for (const t of this.tracked.values()) {
      const since = t.health.lastMessageMs ?? t.startedMs;
      const limit = STALE_AFTER_INTERVALS * t.health.expectedIntervalMs;
      if ((t.health.state === 'live' || t.health.state === 'connecting') && now - since > limit) {
        this.setStateOf(
          t,
          'stale',
          `no data for ${now - since} ms (expected at least every ${t.health.expectedIntervalMs} ms)`,
        );
      }
    }
  }

  private ensureTimer(): void {
    if (this.timer) return;
    const tick = (): void => {
      this.check();
      this.timer = this.scheduler.schedule(this.checkEveryMs, tick);
    };
    this.timer = this.scheduler.schedule(this.checkEveryMs, tick);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
