/// <reference lib="dom" />
import { expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openApp, screenshot, useServeAndBrowser } from './support.ts';
import { describeWithData, testDataPath } from '../support/test-data.ts';

/** The panel that holds the Train section. */
const TRAIN_PANEL = 'model-manager';

/** Waits until the progress bar shows a training part-way through (polled on animation frames). */
async function waitForProgress(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const state = document.querySelector('[data-testid="train-state"]')?.textContent;
      const bar = document.querySelector<HTMLProgressElement>('[data-testid="train-progress"]');
      return state === 'running' && bar !== null && bar.value > 0 && bar.value < 1;
    },
    undefined,
    { timeout: 30_000, polling: 'raf' },
  );
}

describeWithData('Model manager: train a model from the app', () => {
  const app = useServeAndBrowser();

  it('imports the Binance 5m file, trains a small model with progress, shows its out-of-sample result, and cancels another', async () => {
    const { page, problems } = await openApp(app.browser, app.serve.url);
    await page.getByTestId('panel-menu').selectOption('data-manager');
    await page
      .getByTestId('import-file')
      .setInputFiles(testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json'));
    await page.getByTestId('import-venue').fill('binance');
    await page.getByTestId('import-symbol').fill('BTC/USDT');
    await page.getByTestId('import-run').click();
    await expect
      .poll(() => page.getByTestId('import-result').textContent(), { timeout: 30_000 })
      .toMatch(/Imported 65741 5m bars/);

    await page.getByTestId('panel-menu').selectOption(TRAIN_PANEL);
    await page.getByTestId('train-refresh').click();
    await expect.poll(() => page.getByTestId('train-series').inputValue()).toBe('binance:BTC/USDT:5m');
    await page.getByTestId('train-label').fill('sign:12');
    await page.getByTestId('train-trees').fill('40');
    await page.getByTestId('train-depth').fill('3');
    await page.getByTestId('train-folds').fill('2');
    await page.getByTestId('train-until').fill('2021-01-20');
    await page.getByTestId('train-name').fill('btc-5m-app');
    await page.getByTestId('train-start').click();
    await waitForProgress(page);
    await screenshot(page, 'training-progress');
    await expect.poll(() => page.getByTestId('train-state').textContent(), { timeout: 60_000 }).toBe('done');
    expect(await page.getByTestId('train-result-name').textContent()).toBe('btc-5m-app');
    const auc = Number(await page.getByTestId('train-result-auc').textContent());
    expect(auc).toBeGreaterThan(0.3);
    expect(auc).toBeLessThan(0.7);
    expect(await page.getByTestId('train-result').textContent()).toMatch(/walk-forward over 2 folds/);
    expect(readdirSync(join(app.serve.dataDir, 'models')).sort()).toEqual([
      'btc-5m-app.card.json',
      'btc-5m-app.onnx',
    ]);
    // The Model manager lists the new model as a user model straight away.
    await expect
      .poll(() => page.getByTestId('model-row-btc-5m-app').textContent(), { timeout: 10_000 })
      .toMatch(/user/);
    await screenshot(page, 'training-result');

    // A long run, cancelled part-way: the UI says so and nothing is saved.
    await page.getByTestId('train-trees').fill('3000');
    await page.getByTestId('train-until').fill('');
    await page.getByTestId('train-name').fill('cancelled-model');
    await page.getByTestId('train-start').click();
    await waitForProgress(page);
    await page.getByTestId('train-cancel').click();
    await expect
      .poll(() => page.getByTestId('train-state').textContent(), { timeout: 30_000 })
      .toBe('cancelled');
    expect(await page.getByTestId('train-message').textContent()).toMatch(/nothing was saved/);
    expect(existsSync(join(app.serve.dataDir, 'models', 'cancelled-model.onnx'))).toBe(false);
    expect(problems.pageErrors).toEqual([]);
  });
});
