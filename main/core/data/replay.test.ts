import { describe, expect, it } from 'vitest';
import { ReplayFeed, type ReplaySource } from './replay.ts';
import { ManualScheduler } from '../clock.ts';
import { makeBars } from './test-support/market-db.ts';
import type { MarketEvent } from '../../../shared/market.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 0, 1);

function barsSource(symbol = 'BTC/USDT', count = 30): ReplaySource {
  return { kind: 'bars', symbol, timeframe: '1m', columns: makeBars(count, T0, M) };
}

function collect(feed: ReplayFeed, symbol: string): MarketEvent[] {
  const events: MarketEvent[] = [];
  feed.subscribe(symbol, (e) => events.push(e));
  return events;
}

describe('replay feed', () => {
  it('plays 1m bars at 60x: one bar per second of scheduler time, each at its close', () => {
    const scheduler = new ManualScheduler(5_000_000);
    const feed = new ReplayFeed({ scheduler, sources: [barsSource()], speed: 60 });
    const events = collect(feed, 'BTC/USDT');
    feed.start();
    expect(events).toHaveLength(0);
    scheduler.advance(999);
    expect(events).toHaveLength(0);
    scheduler.advance(1);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'bar', timeframe: '1m', isClosed: true, bar: { time: T0 } });
    scheduler.advance(9_000);
    expect(events).toHaveLength(10);
    expect(feed.dataNowMs()).toBe(T0 + 10 * M);
  });

  it('pausing stops events, resuming continues where it left off', () => {
    const scheduler = new ManualScheduler(0);
    const feed = new ReplayFeed({ scheduler, sources: [barsSource()], speed: 60 });
    const events = collect(feed, 'BTC/USDT');
    feed.start();
    scheduler.advance(5_500);
    expect(events).toHaveLength(5);
    feed.pause();
    scheduler.advance(60_000);
    expect(events).toHaveLength(5);
    expect(feed.state).toBe('paused');
    feed.resume();
    scheduler.advance(500);
    expect(events).toHaveLength(6);
    feed.setSpeed(600);
    scheduler.advance(1_000);
    expect(events).toHaveLength(16);
  });

  it('gives the same events in the same order at any speed, merging series by time', () => {
    const run = (speed: number | 'max'): string[] => {
      const scheduler = new ManualScheduler(0);
      let isDone = false;
      const feed = new ReplayFeed({
        scheduler,
        sources: [
          barsSource('BTC/USDT', 40),
          { kind: 'bars', symbol: 'ETH/USDT', timeframe: '5m', columns: makeBars(8, T0, 5 * M, 3) },
        ],
        speed,
        batchSize: 7,
        onEnd: () => (isDone = true),
      });
      const log: string[] = [];
      for (const s of feed.symbols())
        feed.subscribe(s, (e) => e.kind === 'bar' && log.push(`${e.symbol}@${e.bar.time}:${e.bar.close}`));
      feed.start();
      while (!isDone) scheduler.advance(1_000);
      expect(feed.state).toBe('finished');
      return log;
    };
    const max = run('max');
    expect(max).toHaveLength(48);
    expect(run(1000)).toEqual(max);
    expect(run(7)).toEqual(max);
  });

  it('replays trades and closes their bars as the data clock passes', () => {
    const scheduler = new ManualScheduler(0);
    const ts = [T0 + 1000, T0 + 20_000, T0 + 61_000, T0 + 200_000];
    const feed = new ReplayFeed({
      scheduler,
      sources: [
        {
          kind: 'trades',
          symbol: 'X',
          trades: {
            tsMs: Float64Array.from(ts),
            price: Float64Array.from([10, 12, 11, 9]),
            quantity: Float64Array.from([1, 1, 2, 3]),
            side: Int8Array.from([1, -1, 1, -1]),
          },
        },
      ],
      speed: 'max',
      barTimeframes: ['1m'],
    });
    const events = collect(feed, 'X');
    feed.start();
    scheduler.advance(0);
    const bars = events.flatMap((e) => (e.kind === 'bar' ? [e.bar] : []));
    expect(
      events.filter((e) => e.kind === 'trade').map((e) => (e.kind === 'trade' ? e.trade.side : '')),
    ).toEqual(['buy', 'sell', 'buy', 'sell']);
    expect(bars).toEqual([
      { time: T0, open: 10, high: 12, low: 10, close: 12, volume: 2 },
      { time: T0 + M, open: 11, high: 11, low: 11, close: 11, volume: 2 },
      { time: T0 + 2 * M, open: 11, high: 11, low: 11, close: 11, volume: 0 },
    ]);
  });

  it('rejects speeds outside 1..1,000,000', () => {
    expect(() => new ReplayFeed({ scheduler: new ManualScheduler(0), sources: [], speed: 0.5 })).toThrow(
      RangeError,
    );
    expect(() => new ReplayFeed({ scheduler: new ManualScheduler(0), sources: [], speed: Infinity })).toThrow(
      RangeError,
    );
  });
});
