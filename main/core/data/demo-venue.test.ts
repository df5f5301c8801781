import { describe, expect, it } from 'vitest';
import {
  DemoMarket,
  DemoVenue,
  DEFAULT_DEMO_SYMBOLS,
  EVENT_TRADE,
  generateDemoHistory,
  intradayActivity,
} from './demo-venue.ts';
import { aggregateTrades } from './bar-aggregator.ts';
import { ManualScheduler } from '../clock.ts';
import type { MarketEvent, TradeColumns } from '../../../shared/market.ts';

const T0 = Date.UTC(2026, 0, 5);
const DAY = 86_400_000;

function simulateTrades(
  seed: number,
  durationMs: number,
  symbolIndex: number,
): TradeColumns & { length: number } {
  const market = new DemoMarket({ seed, startMs: T0 });
  const cap = 2_000_000;
  const cols = {
    tsMs: new Float64Array(cap),
    price: new Float64Array(cap),
    quantity: new Float64Array(cap),
    side: new Int8Array(cap),
  };
  let k = 0;
  while (market.nextEventMs() < T0 + durationMs) {
    if (market.step() === EVENT_TRADE && market.lastSymbol === symbolIndex) market.writeLastTrade(cols, k++);
  }
  return {
    tsMs: cols.tsMs.subarray(0, k),
    price: cols.price.subarray(0, k),
    quantity: cols.quantity.subarray(0, k),
    side: cols.side.subarray(0, k),
    length: k,
  };
}

function logReturns(close: Float64Array): number[] {
  const r: number[] = [];
  for (let i = 1; i < close.length; i++) r.push(Math.log(close[i]! / close[i - 1]!));
  return r;
}

function kurtosis(x: number[]): number {
  const m = x.reduce((s, v) => s + v, 0) / x.length;
  let m2 = 0;
  let m4 = 0;
  for (const v of x) {
    m2 += (v - m) ** 2;
    m4 += (v - m) ** 4;
  }
  m2 /= x.length;
  m4 /= x.length;
  return m4 / (m2 * m2);
}

function autocorrelation(x: number[], lag: number): number {
  const m = x.reduce((s, v) => s + v, 0) / x.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    den += (x[i]! - m) ** 2;
    if (i >= lag) num += (x[i]! - m) * (x[i - lag]! - m);
  }
  return num / den;
}

function meanAcf(x: number[], lags: number): number {
  let s = 0;
  for (let lag = 1; lag <= lags; lag++) s += autocorrelation(x, lag);
  return s / lags;
}

describe('demo venue', () => {
  it('the same seed gives the same market, a different seed a different one', () => {
    const a = simulateTrades(42, 3_600_000, 0);
    const b = simulateTrades(42, 3_600_000, 0);
    const c = simulateTrades(43, 3_600_000, 0);
    expect(a.length).toBeGreaterThan(1000);
    expect(Array.from(a.price)).toEqual(Array.from(b.price));
    expect(Array.from(a.tsMs)).toEqual(Array.from(b.tsMs));
    expect(Array.from(a.quantity)).toEqual(Array.from(b.quantity));
    expect(Array.from(c.price.subarray(0, 100))).not.toEqual(Array.from(a.price.subarray(0, 100)));
  });

  it('1m returns have fat tails and volatility clustering (BTC and SOL over two days)', () => {
    for (const symbolIndex of [0, 2]) {
      const trades = simulateTrades(7, 2 * DAY, symbolIndex);
      const bars = aggregateTrades(trades, '1m', { untilMs: T0 + 2 * DAY });
      expect(bars.time.length).toBe(2 * 1440);
      const r = logReturns(bars.close);
      const absR = r.map(Math.abs);
      expect(kurtosis(r)).toBeGreaterThan(3.5);
      // |returns| stay correlated for many minutes; returns themselves do not.
      expect(meanAcf(absR, 10)).toBeGreaterThan(0.1);
      expect(meanAcf(absR, 10)).toBeGreaterThan(Math.abs(meanAcf(r, 10)) + 0.05);
      // Annualised volatility near the spec (GARCH and jumps add some).
      const sd = Math.sqrt(r.reduce((s, v) => s + v * v, 0) / r.length);
      const annual = sd * Math.sqrt(365 * 1440);
      expect(annual).toBeGreaterThan(DEFAULT_DEMO_SYMBOLS[symbolIndex]!.annualVolatility * 0.6);
      expect(annual).toBeLessThan(DEFAULT_DEMO_SYMBOLS[symbolIndex]!.annualVolatility * 1.8);
    }
  });

  it('trades more around the European and US opens than in the Asian night', () => {
    const trades = simulateTrades(11, DAY, 1);
    const perHour = new Array<number>(24).fill(0);
    for (const t of trades.tsMs) perHour[Math.floor((t - T0) / 3_600_000)]!++;
    expect(perHour[14]!).toBeGreaterThan(2 * perHour[2]!);
    expect(perHour[8]!).toBeGreaterThan(1.5 * perHour[2]!);
    expect(intradayActivity(T0 + 14.5 * 3_600_000)).toBeGreaterThan(intradayActivity(T0 + 2 * 3_600_000));
  });

  it('books are sorted with a positive spread, and trades print at the touch', () => {
    const market = new DemoMarket({ seed: 5, startMs: T0 });
    let books = 0;
    let trades = 0;
    const violations: string[] = [];
    for (let i = 0; i < 50_000 && violations.length < 5; i++) {
      const kind = market.step();
      const q = market.quote(market.lastSymbol);
      if (!(q.ask > q.bid)) violations.push(`event ${i}: ask ${q.ask} <= bid ${q.bid}`);
      if (kind === EVENT_TRADE) {
        trades++;
        const trade = market.trade(market.lastSymbol);
        if (trade.price !== (trade.side === 'buy' ? q.ask : q.bid))
          violations.push(`event ${i}: ${trade.side} at ${trade.price}, touch ${q.bid}/${q.ask}`);
        if (!(trade.quantity > 0)) violations.push(`event ${i}: quantity ${trade.quantity}`);
      } else {
        books++;
        const book = market.book(market.lastSymbol);
        if (!(book.bids[0]!.price < book.asks[0]!.price)) violations.push(`event ${i}: crossed book`);
        for (let l = 1; l < book.bids.length; l++) {
          if (!(book.bids[l]!.price < book.bids[l - 1]!.price))
            violations.push(`event ${i}: bids not descending at level ${l}`);
          if (!(book.asks[l]!.price > book.asks[l - 1]!.price))
            violations.push(`event ${i}: asks not ascending at level ${l}`);
        }
        if (!book.bids.every((x) => x.quantity > 0) || !book.asks.every((x) => x.quantity > 0))
          violations.push(`event ${i}: empty level`);
      }
    }
    expect(violations).toEqual([]);
    expect(books).toBeGreaterThan(1000);
    expect(trades).toBeGreaterThan(1000);
  });

  it('emits trades and books in real time on the scheduler, in time order, and reports itself live', () => {
    const scheduler = new ManualScheduler(T0);
    const venue = new DemoVenue({ scheduler, seed: 9 });
    const events: MarketEvent[] = [];
    const sub = venue.subscribe('ETH/USDT', (e) => events.push(e));
    venue.start();
    scheduler.advance(60_000);
    const trades = events.filter((e) => e.kind === 'trade');
    const books = events.filter((e) => e.kind === 'book');
    expect(trades.length).toBeGreaterThan(60);
    expect(books.length).toBe(240);
    expect(events.every((e) => e.kind !== 'trade' || e.symbol === 'ETH/USDT')).toBe(true);
    const times = trades.map((e) => (e.kind === 'trade' ? e.trade.tsMs : 0));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(Math.max(...times)).toBeLessThanOrEqual(scheduler.nowMs());
    expect(venue.health()).toEqual([
      expect.objectContaining({
        venue: 'demo',
        symbol: 'ETH/USDT',
        state: 'live',
        lastMessageMs: expect.any(Number),
      }),
    ]);
    // Same seed through the real-time path = same prices as the fast path.
    const fast = simulateTrades(9, 60_000, 1);
    expect(trades.map((e) => (e.kind === 'trade' ? e.trade.price : 0))).toEqual(Array.from(fast.price));
    sub.unsubscribe();
    const count = events.length;
    scheduler.advance(10_000);
    expect(events.length).toBe(count);
    venue.stop();
  });

  it('generates minute history that ends at the live start price and has the same stylized facts', () => {
    const spec = DEFAULT_DEMO_SYMBOLS[0]!;
    const a = generateDemoHistory(spec, 3, T0, 5000);
    const b = generateDemoHistory(spec, 3, T0, 5000);
    expect(Array.from(a.close)).toEqual(Array.from(b.close));
    expect(a.time.at(-1)).toBe(T0 - 60_000);
    expect(a.close.at(-1)).toBe(spec.initialPrice);
    for (let i = 0; i < a.time.length; i++) {
      expect(a.high[i]!).toBeGreaterThanOrEqual(Math.max(a.open[i]!, a.close[i]!));
      expect(a.low[i]!).toBeLessThanOrEqual(Math.min(a.open[i]!, a.close[i]!));
      if (i > 0) expect(a.open[i]).toBe(a.close[i - 1]);
    }
    const r = logReturns(a.close);
    expect(kurtosis(r)).toBeGreaterThan(3.5);
    expect(meanAcf(r.map(Math.abs), 10)).toBeGreaterThan(Math.abs(meanAcf(r, 10)) + 0.05);
  });
});
