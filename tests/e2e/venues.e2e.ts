/// <reference lib="dom" />
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openApp, screenshot, useServeAndBrowser } from './support.ts';
import { describeWithData, testDataPath } from '../support/test-data.ts';
import { BinanceTestServer, type CandleRow } from '../binance-server/server.ts';
import { loadCandleRows, loadRecording, type Recording } from '../binance-server/recording.ts';

describeWithData('Watchlist: connect a live venue (local Binance server fed by a real recording)', () => {
  let venue: BinanceTestServer;
  let recording: Recording;
  let minuteBars: CandleRow[];

  beforeAll(async () => {
    recording = loadRecording([testDataPath('crypto', 'hftbacktest', 'spot', 'btcusdt_20240808.gz')]);
    // Real BTC/USDT bars re-timed to 1m bars around now: what the connect backfill asks for.
    const rows = loadCandleRows(testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json')).slice(
      -1700,
    );
    const endMs = Math.floor(Date.now() / 60_000) * 60_000 + 5 * 60_000;
    minuteBars = rows.map((r, i) => [endMs - (rows.length - i) * 60_000, r[1], r[2], r[3], r[4], r[5]]);
    venue = await new BinanceTestServer({
      recordings: [recording],
      candles: new Map([['BTCUSDT 1m', minuteBars]]),
    }).start();
  });
  afterAll(async () => {
    await venue?.close();
  });
  // Registered after the venue's hooks: starts once the venue listens, stops before it closes.
  const app = useServeAndBrowser(() => ({ env: { VANTAGE_VENUE_URL_BINANCE: venue.httpUrl } }));

  it('a typo in a symbol is refused with the reason; a good symbol streams into the watchlist and the chart', async () => {
    const { page, problems } = await openApp(app.browser, app.serve.url);
    await page.getByTestId('panel-menu').selectOption('watchlist');
    await page.getByTestId('venue-open').click();
    await page.getByTestId('venue-id').fill('binance');
    await page.getByTestId('venue-symbols').fill('BTC/USDT, NOPE/USDT');
    await page.getByTestId('venue-connect').click();
    await expect
      .poll(() => page.getByTestId('venue-error').textContent(), { timeout: 30_000 })
      .toContain('NOPE/USDT');
    expect(await page.getByTestId('venue-list').count()).toBe(0);

    await page.getByTestId('venue-symbols').fill('btc/usdt');
    await page.getByTestId('venue-connect').click();
    await expect
      .poll(() => page.getByTestId('venue-state-binance').textContent(), { timeout: 30_000 })
      .toMatch(/connecting|live/);
    await venue.waitForSubscribers(['btcusdt@trade']);
    const upTo = 3000;
    await venue.replay('BTCUSDT', upTo);
    const lastTrade = recording.events
      .slice(0, upTo)
      .filter((e) => e.stream === 'btcusdt@trade')
      .at(-1)!;
    const lastPrice = Number(lastTrade.data.p).toLocaleString('en-US', {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
    await expect
      .poll(() => page.getByTestId('watch-last-binance:BTC/USDT').textContent(), { timeout: 30_000 })
      .toBe(lastPrice);
    await expect
      .poll(() => page.getByTestId('watch-state-binance:BTC/USDT').textContent(), { timeout: 30_000 })
      .toBe('live');
    await expect.poll(() => page.getByTestId('venue-state-binance').textContent()).toBe('live');
    // The demo venue is still there beside it.
    expect(await page.getByTestId('watch-row-BTC/USDT').count()).toBe(1);
    await screenshot(page, 'watchlist-venue-connected');

    await page.getByTestId('watch-row-binance:BTC/USDT').click();
    await page.getByTestId('panel-menu').selectOption('chart');
    await expect.poll(() => page.getByTestId('chart-symbol').textContent()).toContain('binance');
    // The last day of 1m bars was backfilled over REST when the venue connected.
    await expect
      .poll(async () => Number(await page.getByTestId('chart-bar-count').textContent()), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(1439);
    await screenshot(page, 'chart-binance-backfilled');

    await page.getByTestId('panel-menu').selectOption('watchlist');
    await page.getByTestId('venue-disconnect-binance').click();
    await expect
      .poll(() => page.getByTestId('watch-row-binance:BTC/USDT').count(), { timeout: 30_000 })
      .toBe(0);
    expect(problems.pageErrors).toEqual([]);
  });
});
