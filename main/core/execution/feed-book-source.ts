import type { MarketFeed, FeedSubscription } from '../data/feed.ts';
import type { BookSnapshot } from '../../../shared/market.ts';
import type { BookSource } from './paper-broker.ts';

/**
 * A BookSource over any MarketFeed (demo venue, replay, ccxt live): keeps each subscribed
 * symbol's latest book and last trade price and notifies listeners after every change.
 */
export class FeedBookSource implements BookSource {
  private readonly feed: MarketFeed;
  private readonly books = new Map<string, BookSnapshot>();
  private readonly lastPrices = new Map<string, number>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly subscriptions = new Map<string, FeedSubscription>();
  private readonly lastUpdates = new Map<string, number>();
  private readonly clock: { nowMs(): number } | null;

  constructor(feed: MarketFeed, clock?: { nowMs(): number }) {
    this.feed = feed;
    this.clock = clock ?? null;
  }

  /** Engine time of the symbol's last book or trade, null before the first (stale-feed check). */
  lastUpdateMs(symbol: string): number | null {
    return this.lastUpdates.get(symbol) ?? null;
  }

  /** Mid of the best bid and ask, else the last trade. */
  referencePrice(symbol: string): number | null {
    const book = this.books.get(symbol);
    const bid = book?.bids[0]?.price;
    const ask = book?.asks[0]?.price;
    if (bid !== undefined && ask !== undefined) return (bid + ask) / 2;
    return this.lastPrices.get(symbol) ?? null;
  }

  /** Starts following a symbol (subscribe() does it too). */
  follow(symbol: string): void {
    if (this.subscriptions.has(symbol)) return;
    this.subscriptions.set(
      symbol,
      this.feed.subscribe(symbol, (event) => {
        if (event.kind === 'book') this.books.set(symbol, event.book);
        else if (event.kind === 'trade') this.lastPrices.set(symbol, event.trade.price);
        else return;
        this.lastUpdates.set(
          symbol,
          this.clock ? this.clock.nowMs() : event.kind === 'book' ? event.book.tsMs : event.trade.tsMs,
        );
        const set = this.listeners.get(symbol);
        if (set) for (const l of set) l();
      }),
    );
  }

  book(symbol: string): BookSnapshot | null {
    return this.books.get(symbol) ?? null;
  }

  lastPrice(symbol: string): number | null {
    return this.lastPrices.get(symbol) ?? null;
  }

  subscribe(symbol: string, onChange: () => void): () => void {
    this.follow(symbol);
    let set = this.listeners.get(symbol);
    if (!set) {
      set = new Set();
      this.listeners.set(symbol, set);
    }
    set.add(onChange);
    return () => set.delete(onChange);
  }

  close(): void {
    for (const s of this.subscriptions.values()) s.unsubscribe();
    this.subscriptions.clear();
    this.listeners.clear();
  }
}
