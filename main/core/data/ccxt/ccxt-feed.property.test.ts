import ccxt from 'ccxt';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Scheduler, TimerHandle } from '../../clock.ts';
import { SeededRandom } from '../../random.ts';
import type { Candle, MarketEvent } from '../../../../shared/market.ts';
import { CcxtFeed } from './ccxt-feed.ts';
import type { CcxtExchange } from './venues.ts';

const TF_MS = 60_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % TF_MS);

/** Timers fire on the next turn of the event loop; time stands still (so nothing goes stale). */
class InstantScheduler implements Scheduler {
  nowMs(): number {
    return T0;
  }
  schedule(_delayMs: number, fn: () => void): TimerHandle {
    const handle = setImmediate(fn);
    return { cancel: () => clearImmediate(handle) };
  }
}

type Row = [number, number, number, number, number, number];

/** What the stream delivers to one watchOHLCV call: a batch of updates, or a dropped connection. */
type Step = { kind: 'batch'; rows: Row[] } | { kind: 'drop' };

/**
 * A venue with the ccxt surface the feed uses for bars: watchOHLCV plays a script, fetchOHLCV
 * answers from the venue's true closed bars (Binance semantics: since inclusive, until inclusive).
 */
function fakeVenue(truth: Row[], script: Step[]): { exchange: CcxtExchange; exhausted: Promise<void> } {
  let signalExhausted = (): void => undefined;
  let rejectPending = (_error: Error): void => undefined;
  const exhausted = new Promise<void>((resolve) => (signalExhausted = resolve));
  const fake = {
    has: { ws: true, watchOHLCV: true },
    timeframes: { '1m': '1m' },
    markets: { 'BTC/USDT': {} },
    loadMarkets: () => Promise.resolve(fake.markets),
    watchOHLCV: (): Promise<Row[]> => {
      const step = script.shift();
      if (!step) {
        signalExhausted();
        return new Promise((_resolve, reject) => (rejectPending = reject));
      }
      if (step.kind === 'drop')
        return Promise.reject(new ccxt.NetworkError('connection closed by remote server, closing code 1006'));
      // ccxt returns the latest version of each bar touched since the previous call, oldest first.
      const latest = new Map<number, Row>();
      for (const r of step.rows) latest.set(r[0], r);
      return Promise.resolve([...latest.values()].sort((a, b) => a[0] - b[0]));
    },
    fetchOHLCV: (
      _s: string,
      _tf: string,
      since: number,
      limit: number,
      params: { until: number },
    ): Promise<Row[]> =>
      Promise.resolve(truth.filter((r) => r[0] >= since && r[0] <= params.until).slice(0, limit)),
    close: () => {
      rejectPending(new ccxt.ExchangeClosedByUser('closed by user'));
      return Promise.resolve();
    },
  };
  return { exchange: fake as unknown as CcxtExchange, exhausted };
}

/** Bars with 1..4 updates each; the last update of a bar carries its final (true) values. */
const venueArb = fc.integer({ min: 3, max: 30 }).chain((barCount) =>
  fc.record({
    updatesPerBar: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: barCount, maxLength: barCount }),
    prices: fc.array(fc.integer({ min: 1_000, max: 2_000 }), {
      minLength: barCount * 4,
      maxLength: barCount * 4,
    }),
    // Where connections drop (as fractions of the update stream) and how many updates are lost.
    drops: fc.array(
      fc.record({
        at: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        lost: fc.integer({ min: 0, max: 12 }),
      }),
      { maxLength: 3 },
    ),
    batchSize: fc.integer({ min: 1, max: 5 }),
  }),
);

describe('ccxt feed bar invariants', () => {
  it('emits every closed bar exactly once, in order, with the venue values, through any drops', async () => {
    await fc.assert(
      fc.asyncProperty(venueArb, async ({ updatesPerBar, prices, drops, batchSize }) => {
        const truth: Row[] = [];
        const updates: Row[] = [];
        updatesPerBar.forEach((n, i) => {
          const t = T0 + i * TF_MS;
          const open = prices[i * 4]!;
          let high = open;
          let low = open;
          for (let k = 1; k <= n; k++) {
            const close = prices[i * 4 + k - 1]!;
            high = Math.max(high, close);
            low = Math.min(low, close);
            updates.push([t, open, high, low, close, k * 1.5]);
          }
          truth.push(updates[updates.length - 1]!);
        });
        // The stream: batches of updates, with drops that lose some updates (the venue moves on).
        const script: Step[] = [];
        const dropAt = new Map(drops.map((d) => [Math.floor(d.at * updates.length), d.lost]));
        const seen: Row[] = [];
        let batch: Row[] = [];
        for (let i = 0; i < updates.length; i++) {
          const lost = dropAt.get(i);
          if (lost !== undefined) {
            if (batch.length) script.push({ kind: 'batch', rows: batch });
            batch = [];
            script.push({ kind: 'drop' });
            i += lost;
            if (i >= updates.length) break;
            // A resumed stream always carries a bar's final update before the next bar (Binance does).
          }
          batch.push(updates[i]!);
          seen.push(updates[i]!);
          if (batch.length >= batchSize) {
            script.push({ kind: 'batch', rows: batch });
            batch = [];
          }
        }
        if (batch.length) script.push({ kind: 'batch', rows: batch });
        if (seen.length === 0) return;

        const endsDisconnected = script.at(-1)?.kind === 'drop';
        const { exchange, exhausted } = fakeVenue(truth, script);
        const feed = new CcxtFeed({
          venue: 'fake',
          exchange,
          scheduler: new InstantScheduler(),
          random: new SeededRandom(1),
          subscriptions: [{ symbol: 'BTC/USDT', timeframes: ['1m'] }],
          backoff: { maxAttempts: 100 },
        });
        const events: MarketEvent[] = [];
        feed.onEvent((e) => events.push(e));
        await feed.start();
        await exhausted;
        await feed.stop();

        const closed = events.flatMap((e) => (e.kind === 'bar' && e.isClosed ? [e.bar] : []));
        const firstSeen = seen[0]![0];
        const lastSeen = seen[seen.length - 1]![0];
        const expected: Candle[] = truth
          .filter((r) => r[0] >= firstSeen && r[0] < lastSeen)
          .map(([time, open, high, low, close, volume]) => ({ time, open, high, low, close, volume }));
        expect(closed).toEqual(expected);
        const finalState = feed.health()[0]!.state;
        expect(finalState).toBe(endsDisconnected ? 'reconnecting' : 'live');
      }),
      { numRuns: 150 },
    );
  });
});
