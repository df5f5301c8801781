import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../engine.ts';
import { SeededRandom } from '../random.ts';
import { SystemScheduler } from '../../runtime/system-clock.ts';
import { marketModule } from './module.ts';
import { VENUES_FILE, CONNECT_BACKFILL_BARS, venuesModule } from './venues-module.ts';
import { describeWithData, testDataPath } from '../../../tests/support/test-data.ts';
import { BinanceTestServer, type CandleRow } from '../../../tests/binance-server/server.ts';
import { loadCandleRows, loadRecording, type Recording } from '../../../tests/binance-server/recording.ts';
import type { ConnectedVenue } from '../../../shared/contract/venues.ts';
import type { Ticker } from '../../../shared/market.ts';

let recording: Recording;
let btc5m: CandleRow[];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/**
 * Real BTC/USDT closes (the Binance 5m file), re-timed to 1m bars that end at the current minute,
 * so the connect backfill ("the last day of 1m bars") finds them on the local server.
 */
function recentMinuteBars(count: number): CandleRow[] {
  // A few minutes past now too, so a minute that turns during the test still finds a full day.
  const endMs = Math.floor(Date.now() / 60_000) * 60_000 + 5 * 60_000;
  return btc5m.slice(-count).map((r, i) => [endMs - (count - i) * 60_000, r[1], r[2], r[3], r[4], r[5]]);
}

async function startEngine(dataDir: string, server: BinanceTestServer): Promise<Engine> {
  const engine = new Engine({
    dataDir,
    resourcesDir: dataDir,
    version: 'test',
    scheduler: new SystemScheduler(),
    random: new SeededRandom(5),
    modules: [marketModule, venuesModule],
    moduleOptions: { demo: false, venueUrls: { binance: server.httpUrl } },
  });
  await engine.start();
  return engine;
}

async function setup(minuteBars: CandleRow[] = []) {
  const server = await new BinanceTestServer({
    recordings: [recording],
    candles: new Map([['BTCUSDT 1m', minuteBars]]),
  }).start();
  const dataDir = mkdtempSync(join(tmpdir(), 'vantage-venues-'));
  const engine = await startEngine(dataDir, server);
  const state = { engine };
  cleanups.push(
    () => server.close(),
    () => state.engine.stop(),
    () => rmSync(dataDir, { recursive: true, force: true }),
  );
  return { server, dataDir, state };
}

async function call<T>(
  engine: Engine,
  channel: string,
  request: unknown,
): Promise<{ ok: true; value: T } | { ok: false; error: { code: string; message: string } }> {
  return (await engine.dispatcher.dispatch(channel as never, request as never, { origin: 'test' })) as never;
}

describeWithData('live venues (ccxt) connected from the app, against a local Binance server', () => {
  beforeAll(() => {
    recording = loadRecording([testDataPath('crypto', 'hftbacktest', 'spot', 'btcusdt_20240808.gz')]);
    btc5m = loadCandleRows(testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json'));
  });

  it("streams a connected symbol's recorded trades into the watchlist tickers", async () => {
    const { server, state } = await setup();
    const connected = await call<ConnectedVenue>(state.engine, 'venues:connect', {
      venue: 'binance',
      symbols: ['BTC/USDT'],
    });
    expect(connected.ok).toBe(true);
    if (!connected.ok) return;
    expect(connected.value).toMatchObject({
      venue: 'binance',
      kind: 'ccxt',
      symbols: ['BTC/USDT'],
      transport: 'websocket',
      error: null,
    });

    await server.waitForSubscribers(['btcusdt@trade']);
    const upTo = 4000;
    await server.replay('BTCUSDT', upTo);
    const trades = recording.events.slice(0, upTo).filter((e) => e.stream === 'btcusdt@trade');
    const lastPrice = Number(trades.at(-1)!.data.p);
    await vi.waitFor(
      async () => {
        const symbols = await call<{ symbols: { venue: string; symbol: string }[]; tickers: Ticker[] }>(
          state.engine,
          'market:symbols',
          {},
        );
        if (!symbols.ok) throw new Error(symbols.error.message);
        expect(symbols.value.symbols).toContainEqual({ venue: 'binance', symbol: 'BTC/USDT' });
        expect(symbols.value.tickers.find((t) => t.venue === 'binance')?.last).toBe(lastPrice);
      },
      { timeout: 20_000, interval: 50 },
    );
    const list = await call<{ venues: ConnectedVenue[]; available: string[] }>(
      state.engine,
      'venues:list',
      {},
    );
    expect(list.ok && list.value.venues.find((v) => v.venue === 'binance')?.state).toBe('live');
    expect(list.ok && list.value.available).toContain('kraken');
  });

  it('refuses an unknown symbol or venue with a clear error and connects nothing', async () => {
    const { server, dataDir, state } = await setup();
    const badSymbol = await call(state.engine, 'venues:connect', {
      venue: 'binance',
      symbols: ['BTC/USDT', 'NOPE/USDT'],
    });
    expect(badSymbol).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(!badSymbol.ok && badSymbol.error.message).toContain('NOPE/USDT');
    const badVenue = await call(state.engine, 'venues:connect', {
      venue: 'notavenue',
      symbols: ['BTC/USDT'],
    });
    expect(badVenue).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(!badVenue.ok && badVenue.error.message).toContain('notavenue');
    const list = await call<{ venues: ConnectedVenue[] }>(state.engine, 'venues:list', {});
    expect(list.ok && list.value.venues).toEqual([]);
    expect(existsSync(join(dataDir, VENUES_FILE))).toBe(false);
    expect(server.connectionCount).toBe(0);
  });

  it('backfills the last day of 1m bars into market.db so the chart opens with history', async () => {
    const rows = recentMinuteBars(CONNECT_BACKFILL_BARS + 200);
    const { state } = await setup(rows);
    const connected = await call(state.engine, 'venues:connect', { venue: 'binance', symbols: ['BTC/USDT'] });
    expect(connected.ok).toBe(true);
    const series = await call<{
      series: { venue: string; symbol: string; timeframe: string; barCount: number }[];
    }>(state.engine, 'market:series', {});
    const stored = series.ok
      ? series.value.series.find((s) => s.venue === 'binance' && s.timeframe === '1m')
      : undefined;
    expect(stored?.barCount).toBe(CONNECT_BACKFILL_BARS);
    const candles = await call<{ time: ArrayLike<number>; close: ArrayLike<number>; source: string }>(
      state.engine,
      'market:candles',
      { venue: 'binance', symbol: 'BTC/USDT', timeframe: '1m', limit: 5000 },
    );
    expect(candles.ok).toBe(true);
    if (!candles.ok) return;
    expect(candles.value.source).toBe('live');
    expect(candles.value.time.length).toBeGreaterThanOrEqual(CONNECT_BACKFILL_BARS - 1);
    // No trade was replayed: every bar the chart gets is a backfilled one, equal to the venue's row.
    const byTime = new Map(rows.map((r) => [r[0], r]));
    for (let i = 0; i < candles.value.time.length; i++) {
      expect(candles.value.close[i]).toBe(byTime.get(candles.value.time[i]!)?.[4]);
    }
  });

  it('remembers connected venues across a restart and forgets them on disconnect', async () => {
    const { server, dataDir, state } = await setup();
    expect((await call(state.engine, 'venues:connect', { venue: 'binance', symbols: ['BTC/USDT'] })).ok).toBe(
      true,
    );
    expect(JSON.parse(readFileSync(join(dataDir, VENUES_FILE), 'utf8'))).toEqual({
      version: 1,
      venues: [{ venue: 'binance', symbols: ['BTC/USDT'], transport: 'auto' }],
    });
    const again = await call(state.engine, 'venues:connect', { venue: 'binance', symbols: ['ETH/USDT'] });
    expect(again).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });

    await state.engine.stop();
    state.engine = await startEngine(dataDir, server);
    await vi.waitFor(
      async () => {
        const list = await call<{ venues: ConnectedVenue[] }>(state.engine, 'venues:list', {});
        expect(list.ok && list.value.venues.map((v) => [v.venue, v.symbols, v.error])).toEqual([
          ['binance', ['BTC/USDT'], null],
        ]);
      },
      { timeout: 20_000, interval: 50 },
    );

    const off = await call<{ isDisconnected: boolean }>(state.engine, 'venues:disconnect', {
      venue: 'binance',
    });
    expect(off).toMatchObject({ ok: true, value: { isDisconnected: true } });
    const symbols = await call<{ symbols: unknown[] }>(state.engine, 'market:symbols', {});
    expect(symbols.ok && symbols.value.symbols).toEqual([]);
    expect(JSON.parse(readFileSync(join(dataDir, VENUES_FILE), 'utf8')).venues).toEqual([]);
    const missing = await call(state.engine, 'venues:disconnect', { venue: 'binance' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('keeps an unreadable saved list as it is and starts with no venue', async () => {
    const server = await new BinanceTestServer({ recordings: [recording] }).start();
    const dataDir = mkdtempSync(join(tmpdir(), 'vantage-venues-'));
    cleanups.push(
      () => server.close(),
      () => rmSync(dataDir, { recursive: true, force: true }),
    );
    writeFileSync(join(dataDir, VENUES_FILE), '{"version": 1, "venues": [ truncated');
    const engine = await startEngine(dataDir, server);
    cleanups.push(() => engine.stop());
    const list = await call<{ venues: ConnectedVenue[] }>(engine, 'venues:list', {});
    expect(list.ok && list.value.venues).toEqual([]);
    expect(readFileSync(join(dataDir, VENUES_FILE), 'utf8')).toBe('{"version": 1, "venues": [ truncated');
  });
});
