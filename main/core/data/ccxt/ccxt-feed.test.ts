import { afterEach, beforeAll, expect, it } from 'vitest';
import { ManualScheduler } from '../../clock.ts';
import { SeededRandom } from '../../random.ts';
import { SystemScheduler } from '../../../runtime/system-clock.ts';
import { describeWithData, testDataPath } from '../../../../tests/support/test-data.ts';
import { BinanceTestServer, type CandleRow } from '../../../../tests/binance-server/server.ts';
import { loadCandleRows, loadRecording, type Recording } from '../../../../tests/binance-server/recording.ts';
import type { Scheduler } from '../../clock.ts';
import type { Candle, FeedState, MarketEvent, Ticker, Trade } from '../../../../shared/market.ts';
import { isAppErrorException } from '../../../../shared/errors.ts';
import { CcxtFeed, type CcxtFeedOptions } from './ccxt-feed.ts';
import { createVenueExchange, type CcxtExchange } from './venues.ts';
import { fetchOhlcvPages, type BackoffPolicy } from './rest.ts';

const FAST_BACKOFF: BackoffPolicy = {
  initialDelayMs: 5,
  maxDelayMs: 40,
  maxAttempts: 5,
  rateLimitedDelayMs: 10,
};

let recording: Recording;
let ethRecording: Recording;
let candles: CandleRow[];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function startServer(): Promise<BinanceTestServer> {
  const server = await new BinanceTestServer({
    recordings: [recording, ethRecording],
    candles: new Map([['BTCUSDT 5m', candles]]),
  }).start();
  cleanups.push(() => server.close());
  return server;
}

/** A ccxt binance pinned to the server, recording every REST url ccxt builds. */
function pinnedExchange(server: BinanceTestServer): { exchange: CcxtExchange; urls: string[] } {
  const exchange = createVenueExchange('binance', { baseUrl: server.httpUrl });
  const urls: string[] = [];
  const original = exchange.fetch.bind(exchange);
  exchange.fetch = ((url: string, ...rest: unknown[]) => {
    urls.push(url);
    return (original as (...args: unknown[]) => Promise<unknown>)(url, ...rest);
  }) as typeof exchange.fetch;
  cleanups.push(() =>
    exchange.close().then(
      () => undefined,
      () => undefined,
    ),
  );
  return { exchange, urls };
}

function startFeed(
  options: Omit<CcxtFeedOptions, 'venue' | 'random' | 'scheduler'> & { scheduler?: Scheduler },
): { feed: CcxtFeed; events: MarketEvent[] } {
  const feed = new CcxtFeed({
    venue: 'binance',
    random: new SeededRandom(7),
    scheduler: new SystemScheduler(),
    backoff: FAST_BACKOFF,
    ...options,
  });
  const events: MarketEvent[] = [];
  feed.onEvent((e) => events.push(e));
  cleanups.push(() => feed.stop());
  return { feed, events };
}

/** Resolves on the first event (already seen or future) that satisfies the predicate. */
function waitForEvent(
  feed: CcxtFeed,
  seen: MarketEvent[],
  predicate: (e: MarketEvent) => boolean,
): Promise<MarketEvent> {
  const found = seen.find(predicate);
  if (found) return Promise.resolve(found);
  return new Promise((resolve) => {
    const off = feed.onEvent((e) => {
      if (predicate(e)) {
        off();
        resolve(e);
      }
    });
  });
}

/** Resolves once the condition holds, checking now and after every feed event. */
function waitUntil(feed: CcxtFeed, condition: () => boolean): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve) => {
    const off = feed.onEvent(() => {
      if (condition()) {
        off();
        resolve();
      }
    });
  });
}

/** The book Binance's documented procedure gives: snapshot, then every diff with u > lastUpdateId. */
class ReferenceBook {
  readonly bids = new Map<string, number>();
  readonly asks = new Map<string, number>();
  sequence: number;
  private hasBridged = false;

  constructor(snapshot: Recording['snapshot']) {
    for (const [p, q] of snapshot.bids) this.bids.set(p, Number(q));
    for (const [p, q] of snapshot.asks) this.asks.set(p, Number(q));
    this.sequence = snapshot.lastUpdateId;
  }

  apply(diff: { U: number; u: number; b: [string, string][]; a: [string, string][] }): void {
    if (diff.u <= this.sequence) return;
    if (!this.hasBridged) {
      expect(diff.U <= this.sequence + 1 && diff.u >= this.sequence + 1).toBe(true);
      this.hasBridged = true;
    } else {
      expect(diff.U).toBe(this.sequence + 1);
    }
    for (const [side, levels] of [
      [this.bids, diff.b],
      [this.asks, diff.a],
    ] as const) {
      for (const [p, q] of levels) {
        if (Number(q) === 0) side.delete(p);
        else side.set(p, Number(q));
      }
    }
    this.sequence = diff.u;
  }

  top(n: number): { bids: [number, number][]; asks: [number, number][] } {
    const sorted = (m: Map<string, number>, desc: boolean): [number, number][] =>
      [...m.entries()]
        .map(([p, q]) => [Number(p), q] as [number, number])
        .sort((x, y) => (desc ? y[0] - x[0] : x[0] - y[0]))
        .slice(0, n);
    return { bids: sorted(this.bids, true), asks: sorted(this.asks, false) };
  }
}

describeWithData('ccxt feed against the local Binance server', () => {
  beforeAll(() => {
    recording = loadRecording([
      testDataPath('crypto', 'hftbacktest', 'spot', 'btcusdt_20240808.gz'),
      testDataPath('crypto', 'hftbacktest', 'spot', 'btcusdt_20240809.gz'),
    ]);
    candles = loadCandleRows(testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json'));
    ethRecording = loadRecording([testDataPath('crypto', 'hftbacktest', 'spot', 'ethusdt_20240808.gz')]);
  });

  it('rebuilds the recorded order book and every recorded trade through ccxt websockets', async () => {
    const server = await startServer();
    const { exchange, urls } = pinnedExchange(server);
    const { feed, events } = startFeed({
      exchange,
      subscriptions: [{ symbol: 'BTC/USDT', trades: true, book: true }],
    });
    await feed.start();
    expect(feed.transportFor('book')).toBe('websocket');
    await server.waitForSubscribers(['btcusdt@depth@100ms', 'btcusdt@trade']);

    const depthIndexes: number[] = [];
    recording.events.forEach((e, i) => {
      if (e.stream.endsWith('@depth@100ms')) depthIndexes.push(i);
    });
    const checkpoints = [0.1, 0.4, 0.7, 1].map(
      (f) => depthIndexes[Math.min(depthIndexes.length - 1, Math.floor(f * depthIndexes.length))]!,
    );
    const reference = new ReferenceBook(recording.snapshot);
    let applied = 0;
    for (const checkpoint of checkpoints) {
      await server.replay('BTCUSDT', checkpoint + 1);
      for (; applied <= checkpoint; applied++) {
        const e = recording.events[applied]!;
        if (e.stream.endsWith('@depth@100ms')) reference.apply(e.data as never);
      }
      const target = reference.sequence;
      await waitUntil(feed, () => (feed.bookSequence('BTC/USDT') ?? 0) >= target);
      expect(feed.bookSequence('BTC/USDT')).toBe(target);
      const lastBook = events.findLast((e) => e.kind === 'book');
      if (lastBook?.kind !== 'book') throw new Error('no book event');
      const expected = reference.top(20);
      expect(lastBook.book.bids.map((l) => [l.price, l.quantity])).toEqual(expected.bids);
      expect(lastBook.book.asks.map((l) => [l.price, l.quantity])).toEqual(expected.asks);
    }

    await server.replay('BTCUSDT');
    const recordedTrades = recording.events
      .filter((e) => e.stream.endsWith('@trade'))
      .map((e) => e.data as { t: number; p: string; q: string; T: number; m: boolean });
    const lastId = String(recordedTrades[recordedTrades.length - 1]!.t);
    await waitForEvent(feed, events, (e) => e.kind === 'trade' && e.trade.id === lastId);
    const trades = events
      .filter((e): e is Extract<MarketEvent, { kind: 'trade' }> => e.kind === 'trade')
      .map((e) => e.trade);
    expect(trades.length).toBe(19_904);
    expect(trades.map((t): Trade => t)).toEqual(
      recordedTrades.map((t) => ({
        id: String(t.t),
        price: Number(t.p),
        quantity: Number(t.q),
        tsMs: t.T,
        side: t.m ? 'sell' : 'buy',
      })),
    );
    const breaks = trades.filter((t, i) => i > 0 && Number(t.id) !== Number(trades[i - 1]!.id) + 1);
    expect(breaks).toEqual([]);
    expect(feed.health()[0]).toMatchObject({ state: 'live', gaps: 0 });

    // Every REST call went to the local server, and the server saw exactly those calls.
    expect(urls.every((u) => u.startsWith(`${server.httpUrl}/`))).toBe(true);
    expect(server.requests.map((r) => r.path)).toEqual(urls.map((u) => new URL(u).pathname));
    expect(new Set(server.requests.map((r) => r.path))).toEqual(
      new Set(['/api/v3/exchangeInfo', '/api/v3/depth']),
    );
    expect(Object.keys(exchange.clients).every((u) => u.startsWith(`${server.wsUrl}/`))).toBe(true);
  });

  it('keeps two symbols apart: each book and trade stream matches its own recording', async () => {
    const server = await startServer();
    const { exchange } = pinnedExchange(server);
    const subscriptions = [
      { symbol: 'BTC/USDT', trades: true, book: true },
      { symbol: 'ETH/USDT', trades: true, book: true },
    ];
    const { feed, events } = startFeed({ exchange, subscriptions });
    await feed.start();
    await server.waitForSubscribers([
      'btcusdt@depth@100ms',
      'btcusdt@trade',
      'ethusdt@depth@100ms',
      'ethusdt@trade',
    ]);
    const btcEnd = Math.floor(recording.events.length / 5);
    await Promise.all([server.replay('BTCUSDT', btcEnd), server.replay('ETHUSDT')]);
    const cases = [
      { symbol: 'BTC/USDT', rec: recording, end: btcEnd },
      { symbol: 'ETH/USDT', rec: ethRecording, end: ethRecording.events.length },
    ];
    for (const { symbol, rec, end } of cases) {
      const reference = new ReferenceBook(rec.snapshot);
      const recordedTrades: string[] = [];
      for (const e of rec.events.slice(0, end)) {
        if (e.stream.endsWith('@depth@100ms')) reference.apply(e.data as never);
        if (e.stream.endsWith('@trade')) recordedTrades.push(String((e.data as { t: number }).t));
      }
      await waitUntil(feed, () => feed.bookSequence(symbol) === reference.sequence);
      await waitForEvent(
        feed,
        events,
        (e) => e.kind === 'trade' && e.symbol === symbol && e.trade.id === recordedTrades.at(-1),
      );
      const lastBook = events.findLast((e) => e.kind === 'book' && e.symbol === symbol);
      if (lastBook?.kind !== 'book') throw new Error(`no ${symbol} book`);
      expect(lastBook.book.bids.map((l) => [l.price, l.quantity])).toEqual(reference.top(20).bids);
      expect(lastBook.book.asks.map((l) => [l.price, l.quantity])).toEqual(reference.top(20).asks);
      expect(events.flatMap((e) => (e.kind === 'trade' && e.symbol === symbol ? [e.trade.id] : []))).toEqual(
        recordedTrades,
      );
    }
    expect(feed.health().map((h) => [h.symbol, h.state, h.gaps])).toEqual([
      ['BTC/USDT', 'live', 0],
      ['ETH/USDT', 'live', 0],
    ]);
  });

  it('starts streaming a symbol subscribed after start, and fails one the venue does not list', async () => {
    const server = await startServer();
    const { exchange } = pinnedExchange(server);
    const { feed } = startFeed({ exchange, subscriptions: [{ symbol: 'BTC/USDT', trades: true }] });
    await feed.start();
    const eth: MarketEvent[] = [];
    feed.subscribe('ETH/USDT', (e) => eth.push(e));
    await server.waitForSubscribers(['ethusdt@trade', 'ethusdt@depth@100ms']);
    const firstTrades = ethRecording.events
      .flatMap((e, i) => (e.stream.endsWith('@trade') ? [i] : []))
      .slice(0, 50);
    await server.replay('ETHUSDT', firstTrades.at(-1)! + 1);
    await waitUntil(feed, () => eth.filter((e) => e.kind === 'trade').length >= 50);
    expect(eth.filter((e) => e.kind === 'trade')).toHaveLength(50);
    expect(eth.every((e) => (e.kind === 'health' ? e.health.symbol : e.symbol) === 'ETH/USDT')).toBe(true);

    const xrp: MarketEvent[] = [];
    feed.subscribe('XRP/USDT', (e) => xrp.push(e));
    await waitUntil(feed, () => feed.health().some((h) => h.symbol === 'XRP/USDT' && h.state === 'failed'));
    const failed = xrp.findLast((e) => e.kind === 'health');
    expect(failed?.kind === 'health' && failed.health.message).toContain('binance has no market "XRP/USDT"');
  });

  it('resyncs the book from a fresh snapshot after depth messages are lost, ending on the recorded book', async () => {
    const server = await startServer();
    const { exchange } = pinnedExchange(server);
    const { feed, events } = startFeed({ exchange, subscriptions: [{ symbol: 'BTC/USDT', book: true }] });
    await feed.start();
    await server.waitForSubscribers(['btcusdt@depth@100ms']);
    const depthIndexes = recording.events.flatMap((e, i) => (e.stream.endsWith('@depth@100ms') ? [i] : []));
    const end = depthIndexes[1500]!;
    await server.replay('BTCUSDT', depthIndexes[500]!);
    const seenU = (recording.events[depthIndexes[499]!]!.data as { u: number }).u;
    await waitUntil(feed, () => feed.bookSequence('BTC/USDT') === seenU);
    // 20 diffs never reach the client: the next one it sees does not chain.
    await server.replay('BTCUSDT', depthIndexes[520]!, { isLost: true });
    await server.replay('BTCUSDT', end + 1);
    const reference = new ReferenceBook(recording.snapshot);
    for (const i of depthIndexes.filter((i) => i <= end)) reference.apply(recording.events[i]!.data as never);
    await waitUntil(
      feed,
      () => feed.bookSequence('BTC/USDT') === reference.sequence && feed.health()[0]!.state === 'live',
    );
    const lastBook = events.findLast((e) => e.kind === 'book');
    if (lastBook?.kind !== 'book') throw new Error('no book event');
    const expected = reference.top(20);
    expect(lastBook.book.bids.map((l) => [l.price, l.quantity])).toEqual(expected.bids);
    expect(lastBook.book.asks.map((l) => [l.price, l.quantity])).toEqual(expected.asks);
    expect(feed.health()[0]!.gaps).toBe(1);
    expect(server.requests.filter((r) => r.path === '/api/v3/depth')).toHaveLength(2);
  });

  it('pages fetchOHLCV across more than 1000 bars exactly like the stored source', async () => {
    const server = await startServer();
    const { exchange } = pinnedExchange(server);
    await exchange.loadMarkets();
    const since = candles[0]![0];
    const until = candles[2500]![0];
    const bars: Candle[] = [];
    for await (const page of fetchOhlcvPages(
      'binance',
      exchange,
      'BTC/USDT',
      '5m',
      { sinceMs: since, untilMs: until },
      { scheduler: new SystemScheduler(), random: new SeededRandom(1) },
    )) {
      bars.push(...page.bars);
    }
    const expected = candles
      .slice(0, 2500)
      .map(([time, open, high, low, close, volume]) => ({ time, open, high, low, close, volume }));
    expect(bars).toEqual(expected);
    const klineRequests = server.requests.filter((r) => r.path === '/api/v3/klines');
    expect(klineRequests.map((r) => Number(r.query.startTime))).toEqual([
      since,
      candles[1000]![0],
      candles[2000]![0],
    ]);
    expect(klineRequests.every((r) => r.query.limit === '1000')).toBe(true);
  });

  it('retries a 429 rate-limit answer after a backoff instead of failing', async () => {
    const server = await startServer();
    const { exchange } = pinnedExchange(server);
    await exchange.loadMarkets();
    server.rejectNextRequests(2);
    const retries: string[] = [];
    const ctx = {
      scheduler: new SystemScheduler(),
      random: new SeededRandom(1),
      policy: FAST_BACKOFF,
      onRetry: (r: { kind: string }) => retries.push(r.kind),
    };
    const pages = [];
    for await (const page of fetchOhlcvPages(
      'binance',
      exchange,
      'BTC/USDT',
      '5m',
      { sinceMs: candles[0]![0], untilMs: candles[10]![0] },
      ctx,
    ))
      pages.push(page);
    expect(pages.flatMap((p) => p.bars)).toHaveLength(10);
    expect(retries).toEqual(['rate-limited', 'rate-limited']);
    expect(server.requests.filter((r) => r.path === '/api/v3/klines').map((r) => r.status)).toEqual([
      429, 429, 200,
    ]);

    // A venue that keeps refusing ends in a typed error, not a hang.
    server.rejectNextRequests(100);
    const failing = fetchOhlcvPages(
      'binance',
      exchange,
      'BTC/USDT',
      '5m',
      { sinceMs: candles[0]![0], untilMs: candles[10]![0] },
      { ...ctx, policy: { ...FAST_BACKOFF, maxAttempts: 3 } },
    );
    const error = await failing.next().catch((e: unknown) => e);
    expect(isAppErrorException(error) && error.code).toBe('VENUE_RATE_LIMITED');
  });

  it('after a dropped connection, backfills the missed bars over REST before going live again', async () => {
    const server = await startServer();
    const { exchange } = pinnedExchange(server);
    const scheduler = new ManualScheduler(1_700_000_000_000);
    const { feed, events } = startFeed({
      exchange,
      scheduler,
      subscriptions: [{ symbol: 'BTC/USDT', timeframes: ['5m'] }],
    });
    server.setKlineLimitMs(candles[10]![0]);
    await feed.start();
    await server.waitForSubscribers(['btcusdt@kline_5m']);
    for (let i = 0; i < 10; i++) server.publishKline('BTCUSDT', '5m', candles[i]!, true);
    server.publishKline('BTCUSDT', '5m', candles[10]!, false);
    await waitForEvent(
      feed,
      events,
      (e) => e.kind === 'bar' && !e.isClosed && e.bar.time === candles[10]![0],
    );

    // The venue moves on while we are disconnected: bars 10..14 close, 15 is forming.
    server.dropConnections();
    await waitForEvent(feed, events, (e) => e.kind === 'health' && e.health.state === 'reconnecting');
    server.setKlineLimitMs(candles[15]![0]);
    scheduler.advance(FAST_BACKOFF.maxDelayMs);
    await server.waitForSubscribers(['btcusdt@kline_5m']);
    server.publishKline('BTCUSDT', '5m', candles[15]!, false);
    await waitUntil(feed, () => feed.health()[0]!.state === 'live');
    expect(events.some((e) => e.kind === 'bar' && !e.isClosed && e.bar.time === candles[15]![0])).toBe(true);

    const closed = events
      .filter((e): e is Extract<MarketEvent, { kind: 'bar' }> => e.kind === 'bar' && e.isClosed)
      .map((e) => e.bar);
    expect(closed).toEqual(
      candles
        .slice(0, 15)
        .map(([time, open, high, low, close, volume]) => ({ time, open, high, low, close, volume })),
    );
    const states = events
      .filter((e) => e.kind === 'health')
      .map((e) => (e.kind === 'health' ? e.health.state : null));
    expect(states).toEqual<FeedState[]>(['connecting', 'live', 'reconnecting', 'live']);
    // Live again only once bar 14 (the last missed one) was backfilled.
    const liveAgain = events.findLastIndex((e) => e.kind === 'health' && e.health.state === 'live');
    const lastBackfilled = events.findIndex(
      (e) => e.kind === 'bar' && e.isClosed && e.bar.time === candles[14]![0],
    );
    expect(lastBackfilled).toBeLessThan(liveAgain);
    expect(feed.health()[0]).toMatchObject({ state: 'live', gaps: 1 });
    const klineQueries = server.requests.filter((r) => r.path === '/api/v3/klines');
    expect(klineQueries.map((r) => Number(r.query.startTime))).toEqual([candles[10]![0]]);
  });

  it('polls REST when websockets are not used, starting at the current bar and emitting each closed bar once', async () => {
    const server = await startServer();
    const { exchange } = pinnedExchange(server);
    server.setKlineLimitMs(candles[20]![0]);
    const { feed, events } = startFeed({
      exchange,
      transport: 'rest',
      pollIntervalMs: 10,
      subscriptions: [{ symbol: 'BTC/USDT', timeframes: ['5m'] }],
    });
    await feed.start();
    expect(feed.transportFor('bars')).toBe('rest');
    await waitForEvent(feed, events, (e) => e.kind === 'bar' && e.isClosed && e.bar.time === candles[19]![0]);
    server.setKlineLimitMs(candles[25]![0]);
    await waitForEvent(feed, events, (e) => e.kind === 'bar' && e.isClosed && e.bar.time === candles[24]![0]);
    const closedTimes = events
      .filter((e) => e.kind === 'bar' && e.isClosed)
      .map((e) => (e.kind === 'bar' ? e.bar.time : 0));
    expect(closedTimes).toEqual(candles.slice(19, 25).map((c) => c[0]));
    expect(server.connectionCount).toBe(0);
  });

  it('marks a silent subscription stale after 3x the expected interval and live again on the next message', async () => {
    const server = await startServer();
    const { exchange } = pinnedExchange(server);
    const scheduler = new ManualScheduler(1_700_000_000_000);
    const { feed, events } = startFeed({
      exchange,
      scheduler,
      expectedIntervalMs: 2_000,
      subscriptions: [{ symbol: 'BTC/USDT', timeframes: ['5m'] }],
    });
    await feed.start();
    await server.waitForSubscribers(['btcusdt@kline_5m']);
    server.publishKline('BTCUSDT', '5m', candles[0]!, false);
    await waitUntil(feed, () => feed.health()[0]!.state === 'live');
    scheduler.advance(6_000);
    expect(feed.health()[0]!.state).toBe('live');
    scheduler.advance(500);
    expect(feed.health()[0]).toMatchObject({
      state: 'stale',
      message: 'no data for 6.5 s (expected every 2 s)',
    });
    server.publishKline('BTCUSDT', '5m', candles[0]!, true);
    await waitUntil(feed, () => feed.health()[0]!.state === 'live');
    const states = events.flatMap((e) => (e.kind === 'health' ? [e.health.state] : []));
    expect(states).toEqual<FeedState[]>(['connecting', 'live', 'stale', 'live']);
  });

  it('streams the 24h ticker as watchlist rows', async () => {
    const server = await startServer();
    const { exchange } = pinnedExchange(server);
    const { feed } = startFeed({ exchange, subscriptions: [{ symbol: 'BTC/USDT', ticker: true }] });
    const tickers: Ticker[] = [];
    const got = new Promise<void>((resolve) => feed.onTicker((t) => (tickers.push(t), resolve())));
    await feed.start();
    await server.waitForSubscribers(['btcusdt@ticker']);
    // Built from the recording's last trade and best bid/offer at that moment.
    const trades = recording.events
      .filter((e) => e.stream.endsWith('@trade'))
      .map((e) => e.data as { p: string; T: number });
    const book = recording.events.findLast((e) => e.stream.endsWith('@bookTicker'))!.data as {
      b: string;
      a: string;
    };
    const last = trades[trades.length - 1]!;
    server.publish('btcusdt@ticker', {
      e: '24hrTicker',
      E: last.T,
      s: 'BTCUSDT',
      p: '0',
      P: '0',
      w: last.p,
      x: trades[0]!.p,
      c: last.p,
      Q: '0.001',
      b: book.b,
      B: '1.0',
      a: book.a,
      A: '1.0',
      o: trades[0]!.p,
      h: last.p,
      l: last.p,
      v: '12345.6',
      q: '0',
      O: last.T - 86_400_000,
      C: last.T,
      F: 1,
      L: 2,
      n: 2,
    });
    await got;
    expect(tickers[0]).toEqual({
      venue: 'binance',
      symbol: 'BTC/USDT',
      tsMs: last.T,
      last: Number(last.p),
      bid: Number(book.b),
      ask: Number(book.a),
      referencePrice: Number(trades[0]!.p),
      volume24h: 12345.6,
    });
  });

  it('polls recent trades over REST without losing or repeating any', async () => {
    const server = await startServer();
    const { exchange } = pinnedExchange(server);
    const { feed, events } = startFeed({
      exchange,
      transport: 'rest',
      pollIntervalMs: 5,
      subscriptions: [{ symbol: 'BTC/USDT', trades: true }],
    });
    await feed.start();
    const tradeIndexes = recording.events.flatMap((e, i) => (e.stream.endsWith('@trade') ? [i] : []));
    // Steps of 300 trades stay under the 500 a poll returns, as a polling period must.
    for (let n = 300; n <= 1200; n += 300) {
      await server.replay('BTCUSDT', tradeIndexes[n - 1]! + 1);
      const id = String((recording.events[tradeIndexes[n - 1]!]!.data as { t: number }).t);
      await waitForEvent(feed, events, (e) => e.kind === 'trade' && e.trade.id === id);
    }
    const got = events.flatMap((e) => (e.kind === 'trade' ? [e.trade] : []));
    const expected = tradeIndexes.slice(0, 1200).map((i) => {
      const t = recording.events[i]!.data as { t: number; p: string; q: string; T: number; m: boolean };
      return {
        id: String(t.t),
        price: Number(t.p),
        quantity: Number(t.q),
        tsMs: t.T,
        side: t.m ? 'sell' : 'buy',
      };
    });
    expect(got).toEqual(expected);
    expect(feed.health()[0]).toMatchObject({ state: 'live', gaps: 0 });
    expect(new Set(server.requests.map((r) => r.path))).toEqual(
      new Set(['/api/v3/exchangeInfo', '/api/v3/trades']),
    );
  });

  it('rejects an unknown symbol at start with a clear error', async () => {
    const server = await startServer();
    const { exchange } = pinnedExchange(server);
    const { feed } = startFeed({ exchange, subscriptions: [{ symbol: 'BTC/USDX', trades: true }] });
    const error = await feed.start().catch((e: unknown) => e);
    expect(isAppErrorException(error) && error.code).toBe('BAD_INPUT');
    expect(String((error as Error).message)).toContain('BTC/USDX');
  });
});
