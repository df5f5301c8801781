/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, openApp, screenshot, startServe, type ServeHandle } from './support.ts';
import { hasTestData, testDataPath } from '../support/test-data.ts';

describe('market data in Chromium against vantage serve', () => {
  let serve: ServeHandle;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vantage-e2e-market-'));
    serve = await startServe();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows demo candles on first launch and updates them live', async () => {
    const { page, problems } = await openApp(browser, serve.url);
    // Other main-area panels may share the chart's tab group; bring the chart to the front.
    await page.getByTestId('panel-menu').selectOption('chart');
    await expect
      .poll(() => page.getByTestId('chart-bar-count').textContent(), { timeout: 30_000 })
      .toMatch(/^\d{3,}$/);
    expect(await page.getByTestId('chart-symbol').textContent()).toContain('BTC/USDT');
    const first = await page.getByTestId('chart-last').textContent();
    // The demo venue trades several times a second; the forming bar's close moves.
    await expect
      .poll(() => page.getByTestId('chart-last').textContent(), { timeout: 30_000 })
      .not.toBe(first);
    await page.getByTestId('panel-menu').selectOption('watchlist');
    await expect
      .poll(() => page.getByTestId('watch-state-ETH/USDT').textContent(), { timeout: 30_000 })
      .toBe('live');
    await expect.poll(() => page.getByTestId('watch-last-ETH/USDT').textContent()).toMatch(/^[\d,]+\.\d+$/);
    await page.getByTestId('watch-row-ETH/USDT').click();
    await expect.poll(() => page.getByTestId('chart-symbol').textContent()).toContain('ETH/USDT');
    await page.getByTestId('tf-1h').click();
    await expect
      .poll(() => page.getByTestId('chart-bar-count').textContent(), { timeout: 30_000 })
      .toMatch(/^7\d\d$/);
    await screenshot(page, 'market-chart-demo');
    expect(problems.pageErrors).toEqual([]);
    // Not asserted here: lightweight-charts injects a <style> for its attribution logo, which the
    // page's CSP (style-src 'self') reports as a console error; CandleChart owns that fix.
    expect(problems.consoleErrors.filter((e) => !e.includes("style-src 'self'"))).toEqual([]);
  });

  it.skipIf(!hasTestData)(
    'importing a real Binance file shows its range, and the chart can show it',
    async () => {
      const { page } = await openApp(browser, serve.url);
      await page.getByTestId('panel-menu').selectOption('data-manager');
      await page
        .getByTestId('import-file')
        .setInputFiles(testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-1h.json'));
      await page.getByTestId('import-venue').fill('binance');
      await page.getByTestId('import-symbol').fill('BTC/USDT');
      await page.getByTestId('import-run').click();
      await expect
        .poll(() => page.getByTestId('import-result').textContent(), { timeout: 30_000 })
        .toMatch(/Imported 5482 1h bars/);
      const id = 'binance-BTC/USDT-1h';
      expect(await page.getByTestId(`series-first-${id}`).textContent()).toBe('2020-12-01 00:00');
      expect(await page.getByTestId(`series-last-${id}`).textContent()).toBe('2021-07-17 20:00');
      expect(await page.getByTestId(`series-bars-${id}`).textContent()).toBe('5482');
      await screenshot(page, 'market-data-manager-import');
      await page.getByTestId(`series-show-${id}`).click();
      await page.getByTestId('panel-menu').selectOption('chart');
      // The last 2,000 bars are drawn first, the rest of the series follows in the background.
      const chart = page.getByTestId('market-chart');
      await expect.poll(() => chart.getAttribute('data-series')).toBe('binance|BTC/USDT|1h');
      await expect.poll(() => chart.getAttribute('data-history'), { timeout: 30_000 }).toBe('complete');
      expect(await page.getByTestId('chart-bar-count').textContent()).toBe('5482');
      expect(await page.getByTestId('chart-symbol').textContent()).toContain('binance');
      // Replay the stored series as a live feed at full speed: the chart follows venue "replay".
      await page.getByTestId('replay-speed').selectOption('max');
      await page.getByTestId(`series-replay-${id}`).click();
      await expect.poll(() => page.getByTestId('chart-symbol').textContent()).toContain('replay');
      await expect
        .poll(async () => Number(await page.getByTestId('chart-bar-count').textContent()), {
          timeout: 30_000,
        })
        .toBeGreaterThanOrEqual(2000);
      await expect
        .poll(() => page.getByTestId('chart-last').textContent(), { timeout: 30_000 })
        .toBe('31723.09');
      await page.getByTestId('replay-stop').click();
    },
  );

  it('a malformed file shows its line errors and imports nothing', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(
      bad,
      'timestamp,open,high,low,close,volume\n1700000040000,10,11,9,10,1\n1700000100000,10,9,8,10.5,1\n1700000160000,x,11,9,10,1\n',
    );
    const { page } = await openApp(browser, serve.url);
    await page.getByTestId('panel-menu').selectOption('data-manager');
    await page.getByTestId('import-file').setInputFiles(bad);
    await page.getByTestId('import-venue').fill('test');
    await page.getByTestId('import-symbol').fill('BAD');
    await page.getByTestId('import-run').click();
    await expect
      .poll(() => page.getByTestId('import-errors').textContent(), { timeout: 30_000 })
      .toContain('bad.csv:3: high 9 is below max(open 10, close 10.5)');
    expect(await page.getByTestId('import-errors').textContent()).toContain(
      'bad.csv:4: open "x" is not a finite number',
    );
    expect(await page.getByTestId('series-table').textContent()).not.toContain('BAD');
    await screenshot(page, 'market-data-manager-errors');
  });
});
