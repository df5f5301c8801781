/// <reference lib="dom" />
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openApp, screenshot, useServeAndBrowser } from './support.ts';
import { describeWithData, testDataPath } from '../support/test-data.ts';
import { BinanceTestServer } from '../binance-server/server.ts';
import { loadCandleRows } from '../binance-server/recording.ts';

describeWithData('Data manager: fetch from a venue (local Binance server)', () => {
  let venue: BinanceTestServer;

  beforeAll(async () => {
    const candles = loadCandleRows(testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json'));
    venue = await new BinanceTestServer({ candles: new Map([['BTCUSDT 5m', candles]]) }).start();
  });
  afterAll(async () => {
    await venue?.close();
  });
  // Registered after the venue's hooks: starts once the venue listens, stops before it closes.
  const app = useServeAndBrowser(() => ({ env: { VANTAGE_VENUE_URL_BINANCE: venue.httpUrl } }));

  it('downloads a range with progress and lists the stored series', async () => {
    const { page, problems } = await openApp(app.browser, app.serve.url);
    await page.getByTestId('panel-menu').selectOption('data-manager');
    await page.getByTestId('fetch-venue').fill('binance');
    await page.getByTestId('fetch-symbol').fill('BTC/USDT');
    await page.getByTestId('fetch-timeframe').selectOption('5m');
    await page.getByTestId('fetch-since').fill('2020-12-01');
    await page.getByTestId('fetch-until').fill('2020-12-15');
    await page.getByTestId('fetch-start').click();
    await expect
      .poll(() => page.getByTestId('fetch-job-state').first().textContent(), { timeout: 60_000 })
      .toBe('done');
    // 14 days of 5m bars: 4,032 in the source file for that range.
    const id = 'binance-BTC/USDT-5m';
    await expect
      .poll(() => page.getByTestId(`series-bars-${id}`).textContent(), { timeout: 30_000 })
      .toBe('4032');
    expect(await page.getByTestId(`series-first-${id}`).textContent()).toBe('2020-12-01 00:00');
    await screenshot(page, 'data-manager-fetch');
    expect(problems.pageErrors).toEqual([]);
    expect(venue.requests.some((r) => r.path === '/api/v3/klines')).toBe(true);
  });
});
