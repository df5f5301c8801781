/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, openApp, screenshot, startServe, type ServeHandle } from './support.ts';
import { linearOnnx, testCard } from '../../main/core/models/test-models.ts';

describe('models in Chromium against vantage serve', () => {
  let serve: ServeHandle;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vantage-e2e-models-'));
    serve = await startServe({ env: { VANTAGE_FORCE_CPU: '1' } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('selecting a bar on the chart explains the prediction there, and the waterfall adds up to it', async () => {
    const { page, problems } = await openApp(browser, serve.url);
    await page.getByTestId('panel-menu').selectOption('chart');
    await expect
      .poll(() => page.getByTestId('chart-bar-count').textContent(), { timeout: 30_000 })
      .toMatch(/^\d{3,}$/);
    // The prediction pane under the chart is filled from the default model.
    await expect
      .poll(() => page.getByTestId('prediction-pane').textContent(), { timeout: 30_000 })
      .toMatch(/default-btc-5m margin · \d{3,} points/);

    const chart = page.getByTestId('market-chart');
    const box = (await chart.boundingBox())!;
    await chart.click({ position: { x: box.width * 0.5, y: box.height * 0.3 } });
    await page.getByTestId('panel-menu').selectOption('explanation');
    const bars = page.getByTestId('explanation-waterfall').getByTestId('waterfall-bar');
    await expect.poll(() => bars.count(), { timeout: 30_000 }).toBe(16);

    const values = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
    const base = Number(await page.getByTestId('explanation-base').getAttribute('data-value'));
    const prediction = Number(await page.getByTestId('explanation-prediction').getAttribute('data-value'));
    const sum = values.reduce((a, b) => a + b, 0);
    expect(Math.abs(base + sum - prediction)).toBeLessThanOrEqual(1e-5);
    // Sorted by size, largest first.
    const sizes = values.map(Math.abs);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    await screenshot(page, 'models-explanation');
    expect(problems.pageErrors).toEqual([]);
  });

  it('the model manager shows the loaded model with provider and latency, and names the field of a bad import', async () => {
    const { page, problems } = await openApp(browser, serve.url);
    await page.getByTestId('panel-menu').selectOption('model-manager');
    const row = page.getByTestId('model-row-default-btc-5m');
    await expect
      .poll(() => row.getByTestId('model-status').textContent(), { timeout: 30_000 })
      .toBe('loaded');
    expect(await row.getByTestId('model-provider').textContent()).toBe('cpu');
    // Where its batch-1 runs execute, and the load-time timing that decided it.
    await row.getByRole('button', { name: 'default-btc-5m' }).click();
    await expect
      .poll(() => page.getByTestId('model-placement').textContent(), { timeout: 10_000 })
      .toMatch(
        /^batch-1 runs on the (engine thread|inference worker) .*p98 of 256 timed runs \d+ µs, budget 100 µs/,
      );

    const bytes = linearOnnx([0.5, -0.5], 0);
    writeFileSync(join(dir, 'lin.onnx'), bytes);
    writeFileSync(
      join(dir, 'bad.card.json'),
      JSON.stringify({ ...testCard('e2e-lin', bytes, 2), sha256: 'f'.repeat(64) }),
    );
    writeFileSync(join(dir, 'good.card.json'), JSON.stringify(testCard('e2e-lin', bytes, 2)));
    await page.getByTestId('import-onnx').setInputFiles(join(dir, 'lin.onnx'));
    await page.getByTestId('import-card').setInputFiles(join(dir, 'bad.card.json'));
    await page.getByTestId('import-submit').click();
    await expect
      .poll(() => page.getByTestId('import-error').getAttribute('data-field'), { timeout: 30_000 })
      .toBe('sha256');

    await page.getByTestId('import-card').setInputFiles(join(dir, 'good.card.json'));
    await page.getByTestId('import-submit').click();
    await expect
      .poll(() => page.getByTestId('import-ok').textContent(), { timeout: 30_000 })
      .toContain('e2e-lin');
    await page.getByTestId('load-e2e-lin').click();
    await expect
      .poll(() => page.getByTestId('model-row-e2e-lin').getByTestId('model-status').textContent(), {
        timeout: 30_000,
      })
      .toBe('loaded');
    await screenshot(page, 'models-manager');
    expect(problems.pageErrors).toEqual([]);
  });
});
