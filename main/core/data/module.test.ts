import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Engine } from '../engine.ts';
import { Dispatcher, servePort } from '../host.ts';
import { createPortClient } from '../../../shared/client.ts';
import { createPortPair } from '../../../shared/protocol.ts';
import { ManualScheduler } from '../clock.ts';
import { SeededRandom } from '../random.ts';
import { marketModule, MARKET_FEEDS_SERVICE } from './module.ts';
import type { MarketHub } from './market-hub.ts';
import { testDataPath, hasTestData } from '../../../tests/support/test-data.ts';
import type { BarUpdate } from '../../../shared/contract/market.ts';
import type { RequestChannel, ResponseOf } from '../../../shared/contract/index.ts';
import type { AppError } from '../../../shared/errors.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 30, 12);
let dataDir: string;
let engine: Engine;
let scheduler: ManualScheduler;
let dispatcher: Dispatcher;
const published: { stream: string; payload: unknown }[] = [];

async function ok<C extends RequestChannel>(channel: C, payload: unknown): Promise<ResponseOf<C>> {
  const reply = await dispatcher.dispatch(channel, payload, { origin: 'test' });
  if (!reply.ok) throw new Error(`${channel} failed: ${reply.error.code} ${reply.error.message}`);
  return reply.value as ResponseOf<C>;
}

async function fail(channel: RequestChannel, payload: unknown): Promise<AppError> {
  const reply = await dispatcher.dispatch(channel, payload, { origin: 'test' });
  if (reply.ok) throw new Error(`${channel} unexpectedly succeeded`);
  return reply.error;
}

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vantage-market-module-'));
  scheduler = new ManualScheduler(T0);
  engine = new Engine({
    dataDir,
    resourcesDir: resolve(import.meta.dirname, '..', '..', '..', 'resources'),
    version: '0.0.0-test',
    scheduler,
    random: new SeededRandom(3),
    modules: [marketModule],
    moduleOptions: { demoSeed: 77 },
  });
  published.length = 0;
  engine.bus.listen((stream, payload) => published.push({ stream, payload }));
  await engine.start();
  dispatcher = new Dispatcher({ handlers: engine.handlerTable() });
});

afterEach(async () => {
  await engine.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('market module', () => {
  it('starts the demo venue: symbols, live tickers and health, with no account and no network', async () => {
    const symbols = await ok('market:symbols', {});
    expect(symbols.symbols.map((s) => s.symbol)).toEqual(['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'EUR/USD']);
    scheduler.advance(2_000);
    const ticks = published.filter((p) => p.stream === 'market:ticks').at(-1)!.payload as {
      tickers: { symbol: string; last: number; bid: number; ask: number }[];
    };
    expect(ticks.tickers).toHaveLength(4);
    for (const t of ticks.tickers) expect(t.ask).toBeGreaterThan(t.bid);
    const health = await ok('market:health', {});
    expect(health.feeds.map((f) => f.state)).toEqual(['live', 'live', 'live', 'live']);
  });

  it('serves demo candles: history for every timeframe, then live bars that close on the minute', async () => {
    const first = await ok('market:candles', {
      venue: 'demo',
      symbol: 'BTC/USDT',
      timeframe: '1m',
      limit: 100,
    });
    expect(first.time).toHaveLength(100);
    expect(first.source).toBe('live');
    expect(first.hasMoreBefore).toBe(true);
    const lastHistory = first.time.at(-1)!;
    expect(lastHistory).toBe(Math.floor(T0 / 60_000) * 60_000 - 60_000);
    scheduler.advance(3 * 60_000);
    const closed = published
      .filter((p) => p.stream === 'market:bar')
      .map((p) => p.payload as BarUpdate)
      .filter((u) => u.isClosed && u.symbol === 'BTC/USDT' && u.timeframe === '1m');
    expect(closed.map((u) => u.bar.time)).toEqual([1, 2, 3].map((i) => lastHistory + i * 60_000));
    const after = await ok('market:candles', {
      venue: 'demo',
      symbol: 'BTC/USDT',
      timeframe: '1m',
      limit: 5,
    });
    expect(after.time.at(-1)).toBe(lastHistory + 3 * 60_000);
    expect(after.forming?.time).toBe(lastHistory + 4 * 60_000);
    const daily = await ok('market:candles', { venue: 'demo', symbol: 'ETH/USDT', timeframe: '1d' });
    expect(daily.time.length).toBeGreaterThanOrEqual(29);
    expect(daily.forming?.time).toBe(Date.UTC(2026, 0, 5));
    // Higher timeframes are the same market: the 1h bars are the 1m bars combined.
    const hours = await ok('market:candles', {
      venue: 'demo',
      symbol: 'SOL/USDT',
      timeframe: '1h',
      limit: 3,
    });
    const minutes = await ok('market:candles', {
      venue: 'demo',
      symbol: 'SOL/USDT',
      timeframe: '1m',
      fromMs: hours.time[0]!,
      toMs: hours.time[0]! + 3_600_000,
    });
    expect(minutes.time).toHaveLength(60);
    expect(hours.high[0]).toBe(Math.max(...minutes.high));
    expect(hours.close[0]).toBe(minutes.close.at(-1));
    const hub = engine.getService<MarketHub>(MARKET_FEEDS_SERVICE)!;
    expect(hub.latestBook('demo', 'BTC/USDT')!.bids.length).toBe(20);
  });

  it('sends candles through a message port (the Electron host) as Float64Array columns', async () => {
    const [engineSide, clientSide] = createPortPair();
    const detach = servePort(engineSide, { dispatcher, bus: engine.bus, scheduler, origin: 'test' });
    const client = createPortClient(clientSide);
    try {
      const reply = await client.request('market:candles', {
        venue: 'demo',
        symbol: 'BTC/USDT',
        timeframe: '1m',
        limit: 3000,
      });
      expect(reply.ok).toBe(true);
      if (!reply.ok) return;
      // Structured clone (as a MessagePort does) keeps them typed arrays: no JSON numbers.
      for (const column of [reply.value.time, reply.value.open, reply.value.close, reply.value.volume]) {
        expect(column).toBeInstanceOf(Float64Array);
        expect(column).toHaveLength(3000);
      }
      const direct = await ok('market:candles', {
        venue: 'demo',
        symbol: 'BTC/USDT',
        timeframe: '1m',
        limit: 3000,
      });
      expect(Array.from(reply.value.close)).toEqual(Array.from(direct.close));
    } finally {
      detach();
      client.close();
    }
  });

  it('rejects bad candle requests before any handler runs, and explains unknown series', async () => {
    expect((await fail('market:candles', { venue: 'demo', symbol: 'BTC/USDT', timeframe: '2m' })).code).toBe(
      'IPC_INVALID_PAYLOAD',
    );
    expect(
      (
        await fail('market:candles', {
          venue: 'demo',
          symbol: 'BTC/USDT',
          timeframe: '1m',
          limit: 10_000_000,
        })
      ).code,
    ).toBe('IPC_INVALID_PAYLOAD');
    expect(
      (await fail('market:candles', { venue: 'demo', symbol: 'BTC/USDT', timeframe: '1m', extra: 1 })).code,
    ).toBe('IPC_INVALID_PAYLOAD');
    const missing = await fail('market:candles', { venue: 'binance', symbol: 'DOGE/USDT', timeframe: '1h' });
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toMatch(/import or fetch it first/);
  });

  it('imports file content, lists the series with its range, and serves it from the store', async () => {
    const content =
      'timestamp,open,high,low,close,volume\n1700000040000,10,11,9,10.5,1\n1700000100000,10.5,12,10,11,2\n1700000220000,11,11.5,10.5,11.2,3\n';
    const report = await ok('market:import', {
      venue: 'test',
      symbol: 'ABC/USD',
      content,
      fileName: 'abc.csv',
    });
    expect(report).toMatchObject({
      timeframe: '1m',
      barCount: 3,
      inserted: 3,
      firstMs: 1700000040000,
      lastMs: 1700000220000,
    });
    expect((await ok('market:series', {})).series).toEqual([
      {
        venue: 'test',
        symbol: 'ABC/USD',
        timeframe: '1m',
        firstMs: 1700000040000,
        lastMs: 1700000220000,
        barCount: 3,
      },
    ]);
    expect(await ok('market:gaps', { venue: 'test', symbol: 'ABC/USD', timeframe: '1m' })).toEqual({
      calendar: '24/7',
      gaps: [{ fromMs: 1700000160000, toMs: 1700000160000, missingBars: 1 }],
      gapCount: 1,
      missingBars: 1,
      closures: [],
      closureCount: 0,
      closedBars: 0,
    });
    const candles = await ok('market:candles', {
      venue: 'test',
      symbol: 'ABC/USD',
      timeframe: '1m',
      fromMs: 1700000100000,
    });
    expect(candles).toMatchObject({ source: 'store', hasMoreBefore: true });
    // Columns come as Float64Arrays (structured clone / binary frames), never JSON number arrays.
    expect(candles.time).toBeInstanceOf(Float64Array);
    expect(Array.from(candles.time)).toEqual([1700000100000, 1700000220000]);
    expect(Array.from(candles.close)).toEqual([11, 11.2]);
    expect(await ok('market:deleteSeries', { venue: 'test', symbol: 'ABC/USD', timeframe: '1m' })).toEqual({
      deletedBars: 3,
    });
  });

  it('a malformed upload returns every bad line and stores nothing', async () => {
    const content =
      'Date,Open,High,Low,Close,Volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,0.9,0.5,1.5,10\n2024-01-03,x,2,0.5,1.5,10\n';
    const error = await fail('market:import', {
      venue: 'test',
      symbol: 'BAD',
      content,
      fileName: 'bad.csv',
      timeframe: '1d',
    });
    expect(error.code).toBe('DATA_INVALID');
    expect((error.details as { issues: { line: number }[] }).issues.map((i) => i.line)).toEqual([3, 4]);
    expect((await ok('market:series', {})).series).toEqual([]);
  });

  it.skipIf(!hasTestData)('imports a real Binance file through the contract', async () => {
    const content = readFileSync(testDataPath('crypto', 'nostalgiaforinfinity', 'ETH_USDT-1h.json'), 'utf8');
    const reply = await ok('market:import', {
      venue: 'binance',
      symbol: 'ETH/USDT',
      content,
      fileName: 'ETH_USDT-1h.json',
    });
    expect(reply).toMatchObject({ timeframe: '1h', barCount: 5482, firstMs: Date.UTC(2020, 11, 1) });
    const page = await ok('market:candles', {
      venue: 'binance',
      symbol: 'ETH/USDT',
      timeframe: '1h',
      toMs: Date.UTC(2021, 0, 1),
      limit: 24,
      fromEnd: true,
    });
    expect(page.time[0]).toBe(Date.UTC(2020, 11, 31));
    expect(page.time).toHaveLength(24);
  });
  it('replays a stored series as a live feed: bars at their close times, pausable, stoppable', async () => {
    const rows = Array.from(
      { length: 10 },
      (_, i) => `${1700000040000 + i * 60_000},10,11,9,${10 + i / 10},1`,
    );
    await ok('market:import', {
      venue: 'test',
      symbol: 'R/USD',
      content: `timestamp,open,high,low,close,volume\n${rows.join('\n')}\n`,
      fileName: 'r.csv',
    });
    expect(await ok('market:replay', { venue: 'test', symbol: 'R/USD', timeframe: '1m', speed: 60 })).toEqual(
      { venue: 'replay', symbol: 'R/USD', timeframe: '1m', barCount: 10 },
    );
    scheduler.advance(3_000);
    const three = await ok('market:candles', { venue: 'replay', symbol: 'R/USD', timeframe: '1m' });
    expect(Array.from(three.close)).toEqual([10, 10.1, 10.2]);
    expect(await ok('market:replayControl', { action: 'pause' })).toMatchObject({ state: 'paused' });
    scheduler.advance(10_000);
    expect(
      (await ok('market:candles', { venue: 'replay', symbol: 'R/USD', timeframe: '1m' })).time,
    ).toHaveLength(3);
    // A new speed keeps a paused replay paused until it is resumed.
    expect(await ok('market:replayControl', { action: 'speed', speed: 'max' })).toMatchObject({
      state: 'paused',
    });
    await ok('market:replayControl', { action: 'resume' });
    scheduler.advance(300);
    expect(
      (await ok('market:candles', { venue: 'replay', symbol: 'R/USD', timeframe: '1m' })).time,
    ).toHaveLength(10);
    const closed = published
      .filter((p) => p.stream === 'market:bar')
      .map((p) => p.payload as BarUpdate)
      .filter((u) => u.venue === 'replay');
    expect(closed.map((u) => u.bar.close)).toEqual([
      10, 10.1, 10.2, 10.3, 10.4, 10.5, 10.6, 10.7, 10.8, 10.9,
    ]);
    expect(await ok('market:replayControl', { action: 'stop' })).toEqual({ state: 'none', dataTimeMs: null });
    expect((await fail('market:candles', { venue: 'replay', symbol: 'R/USD', timeframe: '1m' })).code).toBe(
      'NOT_FOUND',
    );
    expect(
      (await fail('market:replay', { venue: 'test', symbol: 'NOPE', timeframe: '1m', speed: 1 })).code,
    ).toBe('NOT_FOUND');
  });
});
