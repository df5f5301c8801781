/// <reference lib="dom" />
import { expect, it } from 'vitest';

import { openApp, screenshot, useServeAndBrowser } from './support.ts';
import { describeWithData, testDataPath } from '../support/test-data.ts';

describeWithData('Backtest lab in Chromium against vantage serve', () => {
  const app = useServeAndBrowser();

  it('runs an SMA crossover on real ORCL daily bars; metrics and trades appear; a trade moves the chart', async () => {
    const { page, problems } = await openApp(app.browser, app.serve.url);
    await page.getByTestId('panel-menu').selectOption('data-manager');
    await page.getByTestId('import-file').setInputFiles(testDataPath('backtrader', 'orcl-1995-2014.txt'));
    await page.getByTestId('import-venue').fill('yahoo');
    await page.getByTestId('import-symbol').fill('ORCL');
    await page.getByTestId('import-timeframe').selectOption('1d');
    await page.getByTestId('import-run').click();
    await expect
      .poll(() => page.getByTestId('import-result').textContent(), { timeout: 60_000 })
      .toContain('5036');

    await page.getByTestId('panel-menu').selectOption('backtest-lab');
    await page.getByTestId('bt-series').selectOption('yahoo|ORCL|1d');
    await page.getByTestId('bt-strategy').selectOption('sma-cross');
    await page.getByTestId('bt-param-fast').fill('10');
    await page.getByTestId('bt-param-slow').fill('30');
    await page.getByTestId('bt-quantity').fill('100');
    await page.getByTestId('bt-run').click();
    await expect.poll(() => page.getByTestId('bt-metrics').isVisible(), { timeout: 90_000 }).toBe(true);
    const trades = Number(
      ((await page.getByTestId('bt-metric-tradeCount').textContent()) ?? '').replace(/\D/g, ''),
    );
    expect(trades).toBeGreaterThan(10);
    await expect
      .poll(() => page.getByTestId('bt-trades').getByTestId('table-row').count())
      .toBeGreaterThan(10);
    expect(await page.getByTestId('bt-metric-sharpe').textContent()).toMatch(/sharpe-?\d/);
    await screenshot(page, 'backtest-lab-results');

    // Sort by P&L, click the best trade: the chart shows ORCL around that trade's entry.
    await page.getByTestId('bt-trades').getByTestId('sort-pnl').click();
    const row = page.getByTestId('bt-trades').getByTestId('table-row').first();
    const entryText = (await row.locator('td').first().textContent())!;
    const entryMs = Date.parse(`${entryText.replace(' ', 'T')}:00Z`);
    await row.click();
    await expect
      .poll(() => page.getByTestId('chart-symbol').textContent(), { timeout: 30_000 })
      .toContain('ORCL');
    await expect
      .poll(
        async () => {
          const chart = page.getByTestId('market-chart');
          const from = Number(await chart.getAttribute('data-visible-from-ms'));
          const to = Number(await chart.getAttribute('data-visible-to-ms'));
          return from <= entryMs && entryMs <= to;
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    await screenshot(page, 'backtest-lab-trade-on-chart');
    expect(problems.pageErrors).toEqual([]);
  });
});
