import { describe, expect, it } from 'vitest';
import { FeedHealthMonitor } from './feed.ts';
import { ManualScheduler } from '../clock.ts';
import type { FeedHealth } from '../../../shared/market.ts';

function setup(): { scheduler: ManualScheduler; monitor: FeedHealthMonitor; changes: FeedHealth[] } {
  const scheduler = new ManualScheduler(1_000_000);
  const changes: FeedHealth[] = [];
  const monitor = new FeedHealthMonitor({ venue: 'binance', scheduler, onChange: (h) => changes.push(h) });
  return { scheduler, monitor, changes };
}

describe('feed health', () => {
  it('goes connecting -> live on the first message and stale after 3x the expected interval of silence', () => {
    const { scheduler, monitor, changes } = setup();
    monitor.track('BTC/USDT', 1000);
    expect(changes.map((c) => c.state)).toEqual(['connecting']);
    scheduler.advance(200);
    monitor.recordMessage('BTC/USDT');
    expect(changes.at(-1)).toMatchObject({ state: 'live', lastMessageMs: 1_000_200 });
    scheduler.advance(2900);
    expect(changes.at(-1)!.state).toBe('live');
    scheduler.advance(400);
    expect(changes.at(-1)).toMatchObject({ state: 'stale', symbol: 'BTC/USDT', venue: 'binance' });
    expect(changes.at(-1)!.message).toMatch(/no data for 3[0-9]{3} ms \(expected at least every 1000 ms\)/);
    expect(changes.filter((c) => c.state === 'stale')).toHaveLength(1);
    scheduler.advance(10_000);
    expect(changes.filter((c) => c.state === 'stale')).toHaveLength(1);
    monitor.recordMessage('BTC/USDT');
    expect(changes.at(-1)).toMatchObject({ state: 'live' });
    expect(changes.at(-1)!.message).toBeUndefined();
    monitor.stop();
  });

  it('a subscription that never receives data goes stale too', () => {
    const { scheduler, monitor, changes } = setup();
    monitor.track('ETH/USDT', 500);
    scheduler.advance(1800); // 3 x 500 ms, detected at the next 250 ms check
    expect(changes.map((c) => c.state)).toEqual(['connecting', 'stale']);
    monitor.stop();
  });

  it('measures messages per second over the last ten seconds and counts gaps', () => {
    const { scheduler, monitor } = setup();
    monitor.track('BTC/USDT', 1000);
    for (let i = 0; i < 200; i++) {
      scheduler.advance(50); // 20 messages/s for 10 s
      monitor.recordMessage('BTC/USDT');
    }
    expect(monitor.snapshot('BTC/USDT')!.messagesPerSecond).toBeCloseTo(20, 0);
    for (let i = 0; i < 100; i++) {
      scheduler.advance(200); // then 5/s for 20 s
      monitor.recordMessage('BTC/USDT');
    }
    expect(monitor.snapshot('BTC/USDT')!.messagesPerSecond).toBeCloseTo(5, 0);
    monitor.recordGap('BTC/USDT', 'depth sequence break 101 -> 105');
    monitor.recordGap('BTC/USDT');
    expect(monitor.snapshot('BTC/USDT')).toMatchObject({
      gaps: 2,
      message: 'depth sequence break 101 -> 105',
    });
    monitor.stop();
  });

  it('reports transport states (reconnecting, failed) set by the feed', () => {
    const { monitor, changes } = setup();
    monitor.track('BTC/USDT', 1000);
    monitor.recordMessage('BTC/USDT');
    monitor.setState('BTC/USDT', 'reconnecting', 'socket closed (1006); retry 2 in 1.8 s');
    monitor.setState('BTC/USDT', 'failed', 'gave up after 10 attempts');
    expect(changes.map((c) => c.state)).toEqual(['connecting', 'live', 'reconnecting', 'failed']);
    expect(monitor.all()).toEqual([
      expect.objectContaining({ state: 'failed', message: 'gave up after 10 attempts' }),
    ]);
    monitor.untrack('BTC/USDT');
    expect(monitor.all()).toEqual([]);
  });
});
