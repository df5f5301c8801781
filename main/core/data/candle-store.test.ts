import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CandleStore, CHUNK_BARS } from './candle-store.ts';
import { CandleReader } from './candle-reader.ts';
import { makeBars, openTempMarketDb } from './test-support/market-db.ts';
import {
  TIMEFRAME_MS,
  candlesToColumns,
  columnsToCandles,
  type Candle,
  type SeriesKey,
} from '../../../shared/market.ts';
import { AppErrorException } from '../../../shared/errors.ts';

const key: SeriesKey = { venue: 'binance', symbol: 'BTC/USDT', timeframe: '1m' };
const M = TIMEFRAME_MS['1m'];
const T0 = Date.UTC(2024, 0, 1);

let temp: ReturnType<typeof openTempMarketDb>;
let store: CandleStore;
beforeEach(() => {
  temp = openTempMarketDb();
  store = new CandleStore(temp.market.db);
});
afterEach(() => temp.cleanup());

describe('candle store', () => {
  it('returns the stored bars in time order across many chunks', () => {
    const bars = makeBars(CHUNK_BARS * 3 + 17, T0 + 5 * M, M);
    expect(store.upsert(key, bars)).toEqual({ inserted: bars.time.length, updated: 0, unchanged: 0 });
    const back = store.query(key);
    expect(columnsToCandles(back)).toEqual(columnsToCandles(bars));
    expect(store.getSeries(key)).toEqual({
      ...key,
      firstMs: bars.time[0],
      lastMs: bars.time.at(-1),
      barCount: bars.time.length,
    });
  });

  it('re-upserting the same bars changes nothing and says so', () => {
    const bars = makeBars(3000, T0, M);
    store.upsert(key, bars);
    const before = temp.market.db.prepare('SELECT total_changes() AS n').get() as { n: number };
    expect(store.upsert(key, bars)).toEqual({ inserted: 0, updated: 0, unchanged: 3000 });
    const after = temp.market.db.prepare('SELECT total_changes() AS n').get() as { n: number };
    expect(after.n).toBe(before.n);
    expect(store.getSeries(key)?.barCount).toBe(3000);
  });

  it('replaces a bar with the same open time and keeps one bar', () => {
    store.upsert(key, makeBars(10, T0, M));
    const changed = candlesToColumns([
      { time: T0 + 3 * M, open: 1, high: 2, low: 0.5, close: 1.5, volume: 9 },
    ]);
    expect(store.upsert(key, changed)).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    const back = columnsToCandles(store.query(key));
    expect(back).toHaveLength(10);
    expect(back[3]).toEqual({ time: T0 + 3 * M, open: 1, high: 2, low: 0.5, close: 1.5, volume: 9 });
  });

  it('answers ranges with inclusive start, exclusive end, limits and scroll-back from the end', () => {
    store.upsert(key, makeBars(5000, T0, M));
    const mid = store.query(key, { fromMs: T0 + 1000 * M, toMs: T0 + 3000 * M });
    expect(mid.time.length).toBe(2000);
    expect(mid.time[0]).toBe(T0 + 1000 * M);
    expect(mid.time.at(-1)).toBe(T0 + 2999 * M);
    const first = store.query(key, { fromMs: T0 + 10 * M, limit: 5 });
    expect([...first.time]).toEqual([10, 11, 12, 13, 14].map((i) => T0 + i * M));
    const last = store.query(key, { toMs: T0 + 2050 * M, limit: 100, fromEnd: true });
    expect(last.time.length).toBe(100);
    expect(last.time[0]).toBe(T0 + 1950 * M);
    expect(last.time.at(-1)).toBe(T0 + 2049 * M);
    expect(store.query(key, { fromMs: T0 + 6000 * M }).time.length).toBe(0);
    expect(store.query({ ...key, symbol: 'ETH/USDT' }).time.length).toBe(0);
  });

  it('lists every series with its range and count', () => {
    store.upsert(key, makeBars(100, T0, M));
    store.upsert({ ...key, timeframe: '5m' }, makeBars(20, T0, 5 * M));
    store.upsert({ venue: 'demo', symbol: 'ETH/USDT', timeframe: '1h' }, makeBars(3, T0, 60 * M));
    expect(store.listSeries()).toEqual([
      {
        venue: 'binance',
        symbol: 'BTC/USDT',
        timeframe: '1m',
        firstMs: T0,
        lastMs: T0 + 99 * M,
        barCount: 100,
      },
      {
        venue: 'binance',
        symbol: 'BTC/USDT',
        timeframe: '5m',
        firstMs: T0,
        lastMs: T0 + 95 * M,
        barCount: 20,
      },
      { venue: 'demo', symbol: 'ETH/USDT', timeframe: '1h', firstMs: T0, lastMs: T0 + 120 * M, barCount: 3 },
    ]);
  });

  it('finds missing bars between stored ones', () => {
    const bars = makeBars(3000, T0, M);
    const keep = [...bars.time.keys()].filter((i) => !(i >= 10 && i < 13) && i !== 2500);
    const pick = (a: Float64Array): Float64Array => Float64Array.from(keep, (i) => a[i]!);
    store.upsert(key, {
      time: pick(bars.time),
      open: pick(bars.open),
      high: pick(bars.high),
      low: pick(bars.low),
      close: pick(bars.close),
      volume: pick(bars.volume),
    });
    expect(store.gaps(key)).toEqual({
      calendar: '24/7',
      gaps: [
        { fromMs: T0 + 10 * M, toMs: T0 + 12 * M, missingBars: 3 },
        { fromMs: T0 + 2500 * M, toMs: T0 + 2500 * M, missingBars: 1 },
      ],
      gapCount: 2,
      missingBars: 4,
      closures: [],
      closureCount: 0,
      closedBars: 0,
    });
  });

  it('rejects unsorted or misaligned bars and stores none of them', () => {
    const bars = makeBars(10, T0, M);
    bars.time[5] = bars.time[4]!;
    expect(() => store.upsert(key, bars)).toThrow(AppErrorException);
    const misaligned = makeBars(3, T0 + 1, M);
    expect(() => store.upsert(key, misaligned)).toThrow(/not a whole multiple of 1m/);
    expect(store.listSeries()).toEqual([]);
  });

  it('rolls back everything written inside a failed atomic block', () => {
    expect(() =>
      store.atomically(() => {
        store.upsert(key, makeBars(2000, T0, M));
        throw new Error('second file was bad');
      }),
    ).toThrow('second file was bad');
    expect(store.listSeries()).toEqual([]);
    expect(store.query(key).time.length).toBe(0);
  });

  it('reads the same bars on the reader thread as on the engine thread', async () => {
    store.upsert(key, makeBars(CHUNK_BARS * 4 + 3, T0, M));
    const reader = new CandleReader(temp.path);
    try {
      const range = { fromMs: T0 + 100 * M, toMs: T0 + 4000 * M };
      const [onWorker, all] = await Promise.all([reader.read(key, range), reader.read(key)]);
      expect(columnsToCandles(onWorker)).toEqual(columnsToCandles(store.query(key, range)));
      expect(all.time.length).toBe(CHUNK_BARS * 4 + 3);
      expect((await reader.read({ ...key, symbol: 'NONE' })).time.length).toBe(0);
    } finally {
      await reader.close();
    }
  });

  it('behaves like a map from open time to the last bar written (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 1000 })), {
            maxLength: 300,
          }),
          { maxLength: 6 },
        ),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 5000 }),
        (batches, a, b) => {
          store.deleteSeries(key);
          const model = new Map<number, Candle>();
          for (const batch of batches) {
            const byTime = new Map<number, Candle>();
            for (const [slot, price] of batch)
              byTime.set(T0 + slot * M, {
                time: T0 + slot * M,
                open: price,
                high: price + 1,
                low: price - 1,
                close: price,
                volume: slot,
              });
            const sorted = [...byTime.values()].sort((x, y) => x.time - y.time);
            store.upsert(key, candlesToColumns(sorted));
            for (const bar of sorted) model.set(bar.time, bar);
          }
          const from = T0 + Math.min(a, b) * M;
          const to = T0 + Math.max(a, b) * M;
          const expected = [...model.values()]
            .filter((c) => c.time >= from && c.time < to)
            .sort((x, y) => x.time - y.time);
          expect(columnsToCandles(store.query(key, { fromMs: from, toMs: to }))).toEqual(expected);
          expect(store.getSeries(key)?.barCount ?? 0).toBe(model.size);
        },
      ),
      { numRuns: 60 },
    );
  });
});
