import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BarAggregator, aggregateTrades, resampleBars, type ClosedBar } from './bar-aggregator.ts';
import { ManualScheduler } from '../clock.ts';
import {
  TIMEFRAMES,
  TIMEFRAME_MS,
  columnsToCandles,
  type Candle,
  type Timeframe,
  type TradeColumns,
} from '../../../shared/market.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 0, 1);

function tradeColumns(trades: readonly { t: number; p: number; q: number }[]): TradeColumns {
  return {
    tsMs: Float64Array.from(trades, (x) => x.t),
    price: Float64Array.from(trades, (x) => x.p),
    quantity: Float64Array.from(trades, (x) => x.q),
    side: new Int8Array(trades.length).fill(1),
  };
}

/** Sorted trades spread over a few hours with quiet stretches (so flat bars happen). */
const tradesArb = fc
  .array(
    fc.record({
      dt: fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 30 * M })),
      p: fc.integer({ min: 1, max: 10_000 }),
      q: fc.integer({ min: 0, max: 100 }),
    }),
    { minLength: 1, maxLength: 200 },
  )
  .map((steps) => {
    let t = T0 + 12_345;
    return steps.map((s) => {
      t += s.dt;
      return { t, p: s.p / 100, q: s.q / 10 };
    });
  });

describe('bar aggregation', () => {
  it('closes a bar on time without trades and fills quiet minutes with flat bars at the last close', () => {
    const scheduler = new ManualScheduler(T0);
    const bars: ClosedBar[] = [];
    const agg = new BarAggregator({ timeframes: ['1m', '5m'], onBar: (b) => bars.push(b) });
    agg.start(scheduler);
    scheduler.advance(10_000);
    agg.add(scheduler.nowMs(), 100, 1);
    scheduler.advance(20_000);
    agg.add(scheduler.nowMs(), 103, 2);
    scheduler.advance(10_000);
    agg.add(scheduler.nowMs(), 99, 1);
    expect(bars).toEqual([]);
    scheduler.advance(20_000); // 12:01:00 - the first minute closes with no further trade
    expect(bars).toEqual([
      {
        timeframe: '1m',
        bar: { time: T0, open: 100, high: 103, low: 99, close: 99, volume: 4 },
        tradeCount: 3,
      },
    ]);
    scheduler.advance(3 * M); // three quiet minutes
    expect(bars.slice(1).map((b) => b.bar)).toEqual(
      [1, 2, 3].map((i) => ({ time: T0 + i * M, open: 99, high: 99, low: 99, close: 99, volume: 0 })),
    );
    scheduler.advance(M);
    expect(bars.filter((b) => b.timeframe === '5m')).toEqual([
      {
        timeframe: '5m',
        bar: { time: T0, open: 100, high: 103, low: 99, close: 99, volume: 4 },
        tradeCount: 3,
      },
    ]);
    agg.stop();
    scheduler.advance(10 * M);
    expect(bars).toHaveLength(6);
  });

  it('drops a trade that arrives after its bar closed and never changes the closed bar', () => {
    const bars: ClosedBar[] = [];
    const agg = new BarAggregator({ timeframes: ['1m'], onBar: (b) => bars.push(b) });
    agg.add(T0 + 1000, 10, 1);
    agg.add(T0 + M + 1000, 11, 1);
    expect(bars).toHaveLength(1);
    const closed = structuredClone(bars[0]);
    expect(agg.add(T0 + 30_000, 500, 9)).toBe(false);
    agg.advanceTo(T0 + 5 * M);
    expect(bars[0]).toEqual(closed);
    expect(agg.lateTrades).toBe(1);
    expect(new Set(bars.map((b) => b.bar.time)).size).toBe(bars.length);
  });

  it('waits closeDelayMs after the close for trades still in flight', () => {
    const scheduler = new ManualScheduler(T0);
    const bars: ClosedBar[] = [];
    const agg = new BarAggregator({ timeframes: ['1m'], onBar: (b) => bars.push(b), closeDelayMs: 500 });
    agg.start(scheduler);
    agg.add(T0 + 100, 10, 1);
    scheduler.advance(M + 200);
    expect(agg.add(T0 + M - 1, 12, 1)).toBe(true); // stamped 11:59.999, arrived 200 ms after the minute
    scheduler.advance(300);
    expect(bars.map((b) => b.bar.close)).toEqual([12]);
  });

  for (const tf of TIMEFRAMES) {
    it(`streaming and columnar aggregation give identical ${tf} bars (property)`, () => {
      fc.assert(
        fc.property(tradesArb, fc.integer({ min: 0, max: 3 }), (trades, extraBars) => {
          const until =
            Math.floor(trades.at(-1)!.t / TIMEFRAME_MS[tf]) * TIMEFRAME_MS[tf] + extraBars * TIMEFRAME_MS[tf];
          const streamed: Candle[] = [];
          const agg = new BarAggregator({ timeframes: [tf], onBar: (b) => streamed.push(b.bar) });
          for (const x of trades) agg.add(x.t, x.p, x.q);
          agg.advanceTo(until);
          expect(columnsToCandles(aggregateTrades(tradeColumns(trades), tf, { untilMs: until }))).toEqual(
            streamed,
          );
        }),
        { numRuns: 80 },
      );
    });
  }

  it('closed bars are contiguous, consistent and account for every trade (property)', () => {
    fc.assert(
      fc.property(tradesArb, fc.constantFrom<Timeframe>(...TIMEFRAMES), (trades, tf) => {
        const size = TIMEFRAME_MS[tf];
        const until = Math.floor(trades.at(-1)!.t / size) * size + size;
        const bars = columnsToCandles(aggregateTrades(tradeColumns(trades), tf, { untilMs: until }));
        let volume = 0;
        bars.forEach((b, i) => {
          if (i > 0) expect(b.time - bars[i - 1]!.time).toBe(size);
          expect(b.time % size).toBe(0);
          expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
          expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close));
          volume += b.volume;
          const inBar = trades.filter((x) => x.t >= b.time && x.t < b.time + size);
          if (inBar.length > 0) {
            expect(b.open).toBe(inBar[0]!.p);
            expect(b.close).toBe(inBar.at(-1)!.p);
            expect(b.high).toBe(Math.max(...inBar.map((x) => x.p)));
          } else {
            expect(b.volume).toBe(0);
            expect(b.open).toBe(bars[i - 1]!.close);
          }
        });
        expect(volume).toBeCloseTo(
          trades.reduce((s, x) => s + x.q, 0),
          6,
        );
      }),
      { numRuns: 150 },
    );
  });

  it('how the clock is interleaved with trades never changes the bars (property)', () => {
    fc.assert(
      fc.property(tradesArb, fc.array(fc.integer({ min: 0, max: 199 })), (trades, tickIndexes) => {
        const ticks = new Set(tickIndexes);
        const reference: ClosedBar[] = [];
        const interleaved: ClosedBar[] = [];
        const a = new BarAggregator({ timeframes: ['1m', '15m', '1h'], onBar: (b) => reference.push(b) });
        const b = new BarAggregator({ timeframes: ['1m', '15m', '1h'], onBar: (x) => interleaved.push(x) });
        trades.forEach((x, i) => {
          a.add(x.t, x.p, x.q);
          if (ticks.has(i)) b.advanceTo(x.t);
          b.add(x.t, x.p, x.q);
          if (ticks.has(i)) b.advanceTo(x.t);
        });
        const end = trades.at(-1)!.t + 2 * 3_600_000;
        a.advanceTo(end);
        b.advanceTo(end);
        const key = (c: ClosedBar): string => `${c.timeframe}@${c.bar.time}`;
        expect(interleaved.map(key).sort()).toEqual(reference.map(key).sort());
        expect(new Set(reference.map(key)).size).toBe(reference.length);
        expect(interleaved.sort((x, y) => key(x).localeCompare(key(y)))).toEqual(
          reference.sort((x, y) => key(x).localeCompare(key(y))),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('resampling 1m bars to 5m takes first open, max high, min low, last close and summed volume', () => {
    const oneMinute = aggregateTrades(
      tradeColumns(
        Array.from({ length: 10 }, (_, i) => ({ t: T0 + i * M + 1, p: 100 + ((i * 7) % 5), q: i + 1 })),
      ),
      '1m',
      { untilMs: T0 + 10 * M },
    );
    const { columns, sourceCounts } = resampleBars(oneMinute, '5m');
    expect(columnsToCandles(columns)).toEqual([
      { time: T0, open: 100, high: 104, low: 100, close: 103, volume: 15 },
      { time: T0 + 5 * M, open: 100, high: 104, low: 100, close: 103, volume: 40 },
    ]);
    expect([...sourceCounts]).toEqual([5, 5]);
  });
});
