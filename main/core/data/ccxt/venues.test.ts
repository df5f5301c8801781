import { afterEach, describe, expect, it, vi } from 'vitest';
import { isAppErrorException } from '../../../../shared/errors.ts';
import { SeededRandom } from '../../random.ts';
import { DEFAULT_BACKOFF, backoffDelayMs } from './rest.ts';
import { createVenueExchange } from './venues.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

function allUrls(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) allUrls(v, out);
  return out;
}

describe('venue exchanges', () => {
  it('points every binance api url (REST and websocket) at the pinned origin', () => {
    const exchange = createVenueExchange('binance', { baseUrl: 'http://127.0.0.1:9' });
    const urls = allUrls((exchange.urls as Record<string, unknown>).api);
    expect(urls.length).toBeGreaterThan(20);
    const offOrigin = urls.filter(
      (u) => !u.startsWith('http://127.0.0.1:9/') && !u.startsWith('ws://127.0.0.1:9/'),
    );
    expect(offOrigin).toEqual([]);
    expect((exchange.urls as unknown as { api: { public: string; ws: { spot: string } } }).api.public).toBe(
      'http://127.0.0.1:9/api/v3',
    );
    expect((exchange.urls as unknown as { api: { ws: { spot: string } } }).api.ws.spot).toBe(
      'ws://127.0.0.1:9/ws',
    );
  });

  it('refuses a request to any other origin before it leaves the process', async () => {
    // Installed first, so the guard's "real" fetch is this stub: nothing can leave even if the guard failed.
    const realFetch = vi
      .spyOn(globalThis, 'fetch')
      .mockRejectedValue(new Error('network disabled in this test'));
    const exchange = createVenueExchange('binance', { baseUrl: 'http://127.0.0.1:9' });
    const error = await exchange.fetch('https://api.binance.com/api/v3/time', 'GET').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toContain('pinned to http://127.0.0.1:9');
    expect(realFetch).not.toHaveBeenCalled();
  });

  it('rejects an unknown venue and a base url that is not http', () => {
    const unknown = (() => {
      try {
        createVenueExchange('nosuchvenue');
      } catch (e) {
        return e;
      }
    })();
    expect(isAppErrorException(unknown) && unknown.code).toBe('BAD_INPUT');
    expect(() => createVenueExchange('binance', { baseUrl: 'ftp://127.0.0.1' })).toThrow(
      'must be http:// or https://',
    );
  });

  it('spreads reconnect delays with jitter inside the capped exponential step', () => {
    const random = new SeededRandom(3);
    for (let attempt = 1; attempt <= 12; attempt++) {
      const step = Math.min(DEFAULT_BACKOFF.maxDelayMs, DEFAULT_BACKOFF.initialDelayMs * 2 ** (attempt - 1));
      const delays = Array.from({ length: 50 }, () => backoffDelayMs(attempt, DEFAULT_BACKOFF, random));
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(step / 2);
      expect(Math.max(...delays)).toBeLessThanOrEqual(step);
      expect(new Set(delays).size).toBeGreaterThan(40);
    }
    expect(backoffDelayMs(1, DEFAULT_BACKOFF, random, true)).toBeGreaterThanOrEqual(
      DEFAULT_BACKOFF.rateLimitedDelayMs,
    );
  });
});
