import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Engine } from '../engine.ts';
import { ManualScheduler } from '../clock.ts';
import { SeededRandom } from '../random.ts';
import { marketModule } from './module.ts';
import { CandleStore } from './candle-store.ts';
import { LiveBarRecorder, LIVE_BAR_FLUSH_MS } from './live-bar-recorder.ts';
import { openDatabase } from '../store/sqlite.ts';
import { marketMigrations } from '../store/market-migrations.ts';
import type { BarUpdate } from '../../../shared/contract/market.ts';
import type { RequestChannel, ResponseOf } from '../../../shared/contract/index.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 30, 12);
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-live-bars-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function startEngine(dataDir: string, scheduler: ManualScheduler): Engine {
  return new Engine({
    dataDir,
    resourcesDir: resolve(import.meta.dirname, '..', '..', '..', 'resources'),
    version: '0.0.0-test',
    scheduler,
    random: new SeededRandom(3),
    modules: [marketModule],
    moduleOptions: { demoSeed: 77 },
  });
}

async function ok<C extends RequestChannel>(
  engine: Engine,
  channel: C,
  payload: unknown,
): Promise<ResponseOf<C>> {
  const reply = await engine.dispatcher.dispatch(channel, payload, { origin: 'test' });
  if (!reply.ok) throw new Error(`${channel} failed: ${reply.error.code} ${reply.error.message}`);
  return reply.value as ResponseOf<C>;
}

describe('closed live bars are kept in market.db', () => {
  it('bars built live from the demo feed are in the store, and on the chart, after the engine stops and restarts', async () => {
    const dataDir = tempDir();
    const scheduler = new ManualScheduler(T0);
    const first = startEngine(dataDir, scheduler);
    const closed: BarUpdate[] = [];
    first.bus.listen((stream, payload) => {
      if (stream === 'market:bar' && (payload as BarUpdate).isClosed) closed.push(payload as BarUpdate);
    });
    await first.start();
    // 7 minutes and a bit: 7 closed 1m bars per symbol, the last ones closed just before stop.
    scheduler.advance(7 * 60_000 + 100);
    await first.stop();
    const liveMinutes = closed.filter(
      (u) => u.venue === 'demo' && u.symbol === 'BTC/USDT' && u.timeframe === '1m',
    );
    expect(liveMinutes).toHaveLength(7);

    // Straight from the file: every closed live bar, bit for bit.
    const db = new DatabaseSync(join(dataDir, 'market.db'), { readOnly: true });
    const stored = new CandleStore(db).query({ venue: 'demo', symbol: 'BTC/USDT', timeframe: '1m' });
    db.close();
    expect(Array.from(stored.time)).toEqual(liveMinutes.map((u) => u.bar.time));
    expect(Array.from(stored.close)).toEqual(liveMinutes.map((u) => u.bar.close));
    expect(Array.from(stored.volume)).toEqual(liveMinutes.map((u) => u.bar.volume));

    // An hour later: the chart's live series still holds the session's bars, and the live market
    // continues from the last stored close.
    const later = new ManualScheduler(T0 + 3_600_000);
    const second = startEngine(dataDir, later);
    await second.start();
    try {
      const series = await ok(second, 'market:series', {});
      expect(series.series).toContainEqual(
        expect.objectContaining({ venue: 'demo', symbol: 'BTC/USDT', timeframe: '1m', barCount: 7 }),
      );
      const candles = await ok(second, 'market:candles', {
        venue: 'demo',
        symbol: 'BTC/USDT',
        timeframe: '1m',
        limit: 20,
      });
      expect(candles.source).toBe('live');
      expect(Array.from(candles.time.subarray(-7))).toEqual(liveMinutes.map((u) => u.bar.time));
      expect(Array.from(candles.close.subarray(-7))).toEqual(liveMinutes.map((u) => u.bar.close));
      const ticker = (await ok(second, 'market:symbols', {})).tickers.find((t) => t.symbol === 'BTC/USDT');
      expect(ticker?.last).toBe(liveMinutes.at(-1)!.bar.close);
      // Older history is generated to end exactly where the recorded session begins.
      const before = await ok(second, 'market:candles', {
        venue: 'demo',
        symbol: 'BTC/USDT',
        timeframe: '1m',
        toMs: liveMinutes[0]!.bar.time,
        limit: 1,
        fromEnd: true,
      });
      expect(before.close[0]).toBe(liveMinutes[0]!.bar.open);
    } finally {
      await second.stop();
    }
  });

  it('writes in batches off the hot path, and writing the same bars again leaves one bar each', () => {
    const dir = tempDir();
    const market = openDatabase({
      name: 'market.db',
      path: join(dir, 'market.db'),
      migrations: marketMigrations,
      durability: 'normal',
    });
    try {
      const store = new CandleStore(market.db);
      const scheduler = new ManualScheduler(T0);
      const errors: unknown[] = [];
      const recorder = new LiveBarRecorder({ store, scheduler, onError: (err) => errors.push(err) });
      const key = { venue: 'binance', symbol: 'BTC/USDT', timeframe: '1m' as const };
      const bar = (i: number) => ({
        time: 1_700_000_040_000 + i * 60_000,
        open: 10 + i,
        high: 12 + i,
        low: 9 + i,
        close: 11 + i,
        volume: i,
      });
      for (let i = 0; i < 3; i++) recorder.record(key.venue, key.symbol, key.timeframe, bar(i));
      // Nothing is written when a bar closes; the batch goes at the next flush.
      expect(store.getSeries(key)).toBeNull();
      scheduler.advance(LIVE_BAR_FLUSH_MS);
      expect(store.getSeries(key)?.barCount).toBe(3);
      // A venue re-sending closed klines (reconnect backfill): same bars again, one changed.
      recorder.record(key.venue, key.symbol, key.timeframe, bar(1));
      recorder.record(key.venue, key.symbol, key.timeframe, { ...bar(2), close: 99 });
      recorder.record(key.venue, key.symbol, key.timeframe, bar(2));
      recorder.stop();
      const stored = store.query(key);
      expect(Array.from(stored.time)).toEqual([0, 1, 2].map((i) => bar(i).time));
      expect(Array.from(stored.close)).toEqual([11, 12, 13]);
      expect(errors).toEqual([]);
      // Stopped: later bars are not queued.
      recorder.record(key.venue, key.symbol, key.timeframe, bar(5));
      expect(recorder.pendingCount()).toBe(0);
    } finally {
      market.close();
    }
  });
});
