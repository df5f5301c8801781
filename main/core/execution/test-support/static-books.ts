import type { BookSnapshot } from '../../../../shared/market.ts';
import type { MarketRules } from '../../../../shared/trading.ts';
import type { BookSource } from '../paper-broker.ts';

/** A BookSource the test drives: set a book (or a last price) and listeners are told. */
export class StaticBooks implements BookSource {
  private readonly books = new Map<string, BookSnapshot>();
  private readonly prices = new Map<string, number>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private version = 0;

  /** Sets a book from [price, quantity] pairs (bids best first, asks best first). */
  set(symbol: string, bids: [number, number][], asks: [number, number][], lastPrice?: number): void {
    this.books.set(symbol, {
      tsMs: ++this.version,
      bids: bids.map(([price, quantity]) => ({ price, quantity })),
      asks: asks.map(([price, quantity]) => ({ price, quantity })),
    });
    if (lastPrice !== undefined) this.prices.set(symbol, lastPrice);
    for (const l of this.listeners.get(symbol) ?? []) l();
  }

  book(symbol: string): BookSnapshot | null {
    return this.books.get(symbol) ?? null;
  }

  lastPrice(symbol: string): number | null {
    return this.prices.get(symbol) ?? null;
  }

  referencePrice(symbol: string): number | null {
    const b = this.books.get(symbol);
    if (!b?.bids[0] || !b.asks[0]) return null;
    return (b.bids[0].price + b.asks[0].price) / 2;
  }

  subscribe(symbol: string, onChange: () => void): () => void {
    let set = this.listeners.get(symbol);
    if (!set) {
      set = new Set();
      this.listeners.set(symbol, set);
    }
    set.add(onChange);
    return () => set.delete(onChange);
  }
}

export const BTC_RULES: MarketRules = {
  symbol: 'BTC/USDT',
  base: 'BTC',
  quote: 'USDT',
  tickSize: 0.01,
  quantityStep: 0.001,
  minQuantity: 0.001,
  maxQuantity: 1000,
  minNotional: 5,
  makerFeeRate: 0.0002,
  takerFeeRate: 0.0005,
};
