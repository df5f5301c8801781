import type { Scheduler, TimerHandle } from '../clock.ts';
import type { CandleStore } from './candle-store.ts';
import { emptyCandleColumns, type Candle, type SeriesKey, type Timeframe } from '../../../shared/market.ts';

/** How often recorded bars are written to market.db (ms of the scheduler's time). */
export const LIVE_BAR_FLUSH_MS = 5_000;

/**
 * Writes the closed bars of live feeds (demo venue, ccxt venues) to market.db, so a restart keeps
 * the session's history. Off the hot path: record() only queues; the queue is written every
 * LIVE_BAR_FLUSH_MS in one transaction (and at stop). Idempotent: bars are upserted by
 * (venue, symbol, timeframe, open time), so writing a bar twice leaves one bar.
 */
export class LiveBarRecorder {
  private readonly store: CandleStore;
  private readonly scheduler: Scheduler;
  private readonly flushEveryMs: number;
  private readonly onError: (err: unknown, barCount: number) => void;
  private readonly pending = new Map<string, { key: SeriesKey; bars: Candle[] }>();
  private timer: TimerHandle | null = null;
  private isStopped = false;

  constructor(options: {
    store: CandleStore;
    scheduler: Scheduler;
    flushEveryMs?: number;
    /** A failed write: its bars are dropped (market.db is written by this thread only, so a failure is not transient). */
    onError: (err: unknown, barCount: number) => void;
  }) {
    this.store = options.store;
    this.scheduler = options.scheduler;
    this.flushEveryMs = options.flushEveryMs ?? LIVE_BAR_FLUSH_MS;
    this.onError = options.onError;
  }

  /** Queues a closed bar. */
  record(venue: string, symbol: string, timeframe: Timeframe, bar: Candle): void {
    if (this.isStopped) return;
    const id = `${venue}\u0000${symbol}\u0000${timeframe}`;
    let entry = this.pending.get(id);
    if (!entry) {
      entry = { key: { venue, symbol, timeframe }, bars: [] };
      this.pending.set(id, entry);
    }
    entry.bars.push(bar);
    this.timer ??= this.scheduler.schedule(this.flushEveryMs, () => {
      this.timer = null;
      this.flush();
    });
  }

  /** Bars queued and not yet written. */
  pendingCount(): number {
    let n = 0;
    for (const entry of this.pending.values()) n += entry.bars.length;
    return n;
  }

  /** Writes every queued bar now, all series in one transaction; returns the number written. */
  flush(): number {
    if (this.pending.size === 0) return 0;
    const entries = [...this.pending.values()];
    const count = this.pendingCount();
    try {
      this.store.atomically(() => {
        for (const { key, bars } of entries) {
          // Closed bars arrive in time order; sort anyway and keep the last of equal times
          // (a venue may re-send a closed kline), since upsert wants strictly increasing times.
          bars.sort((a, b) => a.time - b.time);
          const unique = bars.filter((b, i) => i === bars.length - 1 || bars[i + 1]!.time !== b.time);
          const columns = emptyCandleColumns(unique.length);
          unique.forEach((b, i) => {
            columns.time[i] = b.time;
            columns.open[i] = b.open;
            columns.high[i] = b.high;
            columns.low[i] = b.low;
            columns.close[i] = b.close;
            columns.volume[i] = b.volume;
          });
          this.store.upsert(key, columns);
        }
      });
      return count;
    } catch (err) {
      this.onError(err, count);
      return 0;
    } finally {
      this.pending.clear();
    }
  }

  /** Writes what is queued and stops recording. */
  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.isStopped = true;
    this.flush();
  }
}
