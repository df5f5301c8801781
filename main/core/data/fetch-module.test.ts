import { afterEach, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../engine.ts';
import { SeededRandom } from '../random.ts';
import { SystemScheduler } from '../../runtime/system-clock.ts';
import { marketModule } from './module.ts';
import { historyFetchModule } from './fetch-module.ts';
import { describeWithData, testDataPath } from '../../../tests/support/test-data.ts';
import { BinanceTestServer, type CandleRow } from '../../../tests/binance-server/server.ts';
import { loadCandleRows } from '../../../tests/binance-server/recording.ts';
import type { FetchJob } from '../../../shared/contract/history.ts';

let candles: CandleRow[];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const server = await new BinanceTestServer({ candles: new Map([['BTCUSDT 5m', candles]]) }).start();
  const dataDir = mkdtempSync(join(tmpdir(), 'vantage-history-'));
  const engine = new Engine({
    dataDir,
    resourcesDir: dataDir,
    version: 'test',
    scheduler: new SystemScheduler(),
    random: new SeededRandom(3),
    modules: [marketModule, historyFetchModule],
    moduleOptions: { demo: false, venueUrls: { binance: server.httpUrl } },
  });
  await engine.start();
  cleanups.push(
    () => server.close(),
    () => engine.stop(),
    () => rmSync(dataDir, { recursive: true, force: true }),
  );
  return { server, engine };
}

function waitForJob(engine: Engine, jobId: string, isDone: (job: FetchJob) => boolean): Promise<FetchJob> {
  return new Promise((resolve) => {
    const off = engine.bus.listen((stream, payload) => {
      if (stream !== 'history:changed') return;
      const job = (payload as { jobs: FetchJob[] }).jobs.find((j) => j.jobId === jobId);
      if (job && isDone(job)) {
        off();
        resolve(job);
      }
    });
  });
}

describeWithData('history downloads from the engine (Data manager fetch)', () => {
  beforeAll(() => {
    candles = loadCandleRows(testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json'));
  });

  it('downloads a range into market.db with progress, then a second run fetches nothing new', async () => {
    const { engine } = await setup();
    const sinceMs = candles[0]![0];
    const untilMs = candles[2500]![0];
    const progress: number[] = [];
    engine.bus.listen((stream, payload) => {
      if (stream === 'history:changed') progress.push((payload as { jobs: FetchJob[] }).jobs[0]!.fetchedBars);
    });
    const started = await engine.dispatcher.dispatch(
      'history:fetch',
      { venue: 'binance', symbol: 'BTC/USDT', timeframe: '5m', sinceMs, untilMs },
      { origin: 'test' },
    );
    expect(started.ok).toBe(true);
    const jobId = (started as { value: FetchJob }).value.jobId;
    const done = await waitForJob(engine, jobId, (j) => j.state !== 'running');
    expect(done).toMatchObject({ state: 'done', fetchedBars: 2500, insertedBars: 2500 });
    // Progress was reported page by page (Binance pages hold at most 1000 bars).
    expect(progress.filter((p) => p > 0 && p < 2500).length).toBeGreaterThanOrEqual(2);
    const series = await engine.dispatcher.dispatch('market:series', {}, { origin: 'test' });
    expect(series).toMatchObject({
      ok: true,
      value: {
        series: [{ venue: 'binance', symbol: 'BTC/USDT', timeframe: '5m', barCount: 2500, firstMs: sinceMs }],
      },
    });

    const again = await engine.dispatcher.dispatch(
      'history:fetch',
      { venue: 'binance', symbol: 'BTC/USDT', timeframe: '5m', sinceMs, untilMs },
      { origin: 'test' },
    );
    const second = await waitForJob(
      engine,
      (again as { value: FetchJob }).value.jobId,
      (j) => j.state !== 'running',
    );
    expect(second).toMatchObject({ state: 'done', insertedBars: 0 });
  });

  it('cancels a running download and keeps the pages already stored', async () => {
    const { server, engine } = await setup();
    let klines = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    server.setRequestGate((request) =>
      request.path === '/api/v3/klines' && ++klines >= 2 ? held : Promise.resolve(),
    );
    const started = await engine.dispatcher.dispatch(
      'history:fetch',
      {
        venue: 'binance',
        symbol: 'BTC/USDT',
        timeframe: '5m',
        sinceMs: candles[0]![0],
        untilMs: candles[5000]![0],
      },
      { origin: 'test' },
    );
    const jobId = (started as { value: FetchJob }).value.jobId;
    await waitForJob(engine, jobId, (j) => j.fetchedBars >= 1000);
    const cancelled = waitForJob(engine, jobId, (j) => j.state !== 'running');
    await engine.dispatcher.dispatch('history:cancel', { jobId }, { origin: 'test' });
    const requestsAtCancel = klines;
    release();
    expect(await cancelled).toMatchObject({ state: 'cancelled' });
    // At most the page already on its way when the cancel arrived; nothing after it.
    expect(klines).toBeLessThanOrEqual(requestsAtCancel + 1);
    const series = await engine.dispatcher.dispatch('market:series', {}, { origin: 'test' });
    const stored = (series as { value: { series: { barCount: number }[] } }).value.series[0]!.barCount;
    expect(stored).toBeGreaterThanOrEqual(1000);
    expect(stored).toBeLessThanOrEqual(2000);
  });

  it('refuses an unknown venue and a duplicate download with clear errors', async () => {
    const { engine, server } = await setup();
    const unknown = await engine.dispatcher.dispatch(
      'history:fetch',
      { venue: 'nosuchvenue', symbol: 'BTC/USDT', timeframe: '5m', sinceMs: 0 },
      { origin: 'test' },
    );
    expect(unknown).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    server.setRequestGate((request) => (request.path === '/api/v3/klines' ? held : Promise.resolve()));
    const request = {
      venue: 'binance',
      symbol: 'BTC/USDT',
      timeframe: '5m',
      sinceMs: candles[0]![0],
      untilMs: candles[100]![0],
    };
    const first = await engine.dispatcher.dispatch('history:fetch', request, { origin: 'test' });
    expect(first.ok).toBe(true);
    const duplicate = await engine.dispatcher.dispatch('history:fetch', request, { origin: 'test' });
    expect(duplicate).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    const done = waitForJob(engine, (first as { value: FetchJob }).value.jobId, (j) => j.state !== 'running');
    release();
    expect((await done).state).toBe('done');
  });
});
