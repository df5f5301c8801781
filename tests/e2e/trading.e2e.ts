/// <reference lib="dom" />
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openApp, screenshot, useServeAndBrowser } from './support.ts';

async function lastPrice(page: Page): Promise<number> {
  await expect
    .poll(
      async () => Number((await page.getByTestId('ticket-last-price').textContent())?.replace(/[^\d.]/g, '')),
      { timeout: 30_000 },
    )
    .toBeGreaterThan(0);
  return Number((await page.getByTestId('ticket-last-price').textContent())!.replace(/[^\d.]/g, ''));
}

async function showPanel(page: Page, id: string): Promise<void> {
  await page.getByTestId('panel-menu').selectOption(id);
}

describe('paper trading in Chromium against vantage serve', () => {
  const app = useServeAndBrowser();

  it('submits a paper order that fills, updates blotter and positions, and its chart marker opens its audit record', async () => {
    const { page, problems } = await openApp(app.browser, app.serve.url);
    await showPanel(page, 'order-ticket');
    await lastPrice(page);
    await page.getByTestId('ticket-side-buy').click();
    await page.getByTestId('ticket-type').selectOption('market');
    await page.getByTestId('ticket-size').fill('0.01');
    await expect
      .poll(() => page.getByTestId('ticket-risk-preview').isVisible(), { timeout: 30_000 })
      .toBe(true);
    await page.getByTestId('ticket-submit').click();
    await expect
      .poll(() => page.getByTestId('ticket-result').textContent(), { timeout: 30_000 })
      .toMatch(/^Sent buy 0\.01 BTC\/USDT/);
    const clientOrderId = /\(([^)]+)\)/.exec((await page.getByTestId('ticket-result').textContent())!)![1]!;

    await showPanel(page, 'blotter');
    await expect.poll(() => page.getByTestId('fill-row').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect
      .poll(() => page.getByTestId('position-quantity').first().textContent(), { timeout: 30_000 })
      .toBe('0.01');
    await screenshot(page, 'trading-blotter');

    await showPanel(page, 'chart');
    const marker = page.getByTestId(`chart-marker-${clientOrderId}`);
    await expect.poll(() => marker.count(), { timeout: 30_000 }).toBe(1);
    await marker.click();
    await expect
      .poll(() => page.getByTestId('audit-text').inputValue(), { timeout: 10_000 })
      .toBe(clientOrderId);
    await expect.poll(() => page.getByTestId('audit-record').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    const records = await page.getByTestId('audit-records').textContent();
    expect(records).toContain(clientOrderId);
    await screenshot(page, 'trading-marker-audit');
    expect(problems.pageErrors).toEqual([]);
  });

  it('rejects an order outside the 2% price band and shows why', async () => {
    const { page } = await openApp(app.browser, app.serve.url);
    await showPanel(page, 'order-ticket');
    const price = await lastPrice(page);
    await page.getByTestId('ticket-side-buy').click();
    await page.getByTestId('ticket-type').selectOption('limit');
    await page.getByTestId('ticket-size').fill('0.01');
    await page.getByTestId('ticket-price').fill((price * 1.05).toFixed(2));
    await expect
      .poll(() => page.getByTestId('ticket-risk-preview').textContent(), { timeout: 30_000 })
      .toContain('FAIL');
    await page.getByTestId('ticket-submit').click();
    await expect
      .poll(() => page.getByTestId('ticket-result').textContent(), { timeout: 30_000 })
      .toMatch(/^Rejected by risk: .*(band|reference)/i);
    await screenshot(page, 'trading-band-rejection');
  });

  it('kill switch cancels working orders and halts trading', async () => {
    const { page } = await openApp(app.browser, app.serve.url);
    await showPanel(page, 'order-ticket');
    const price = await lastPrice(page);
    await page.getByTestId('ticket-side-buy').click();
    await page.getByTestId('ticket-type').selectOption('limit');
    await page.getByTestId('ticket-size').fill('0.01');
    // 1% under the market: inside the band, and it rests.
    await page.getByTestId('ticket-price').fill((price * 0.99).toFixed(2));
    await page.getByTestId('ticket-submit').click();
    await expect
      .poll(() => page.getByTestId('ticket-result').textContent(), { timeout: 30_000 })
      .toMatch(/^Sent/);
    await showPanel(page, 'blotter');
    await expect
      .poll(() => page.getByTestId('working-order').count(), { timeout: 30_000 })
      .toBeGreaterThan(0);

    await page.keyboard.press('Control+Shift+K');
    await page.getByTestId('kill-switch-confirm').click();
    await expect
      .poll(() => page.getByTestId('kill-switch-state').textContent(), { timeout: 30_000 })
      .toContain('ENGAGED');
    await showPanel(page, 'blotter');
    await expect.poll(() => page.getByTestId('working-order').count(), { timeout: 30_000 }).toBe(0);
    await screenshot(page, 'trading-kill-switch');

    // While engaged, a new order is refused with the reason.
    await showPanel(page, 'order-ticket');
    await page.getByTestId('ticket-type').selectOption('market');
    await page.getByTestId('ticket-size').fill('0.01');
    await page.getByTestId('ticket-submit').click();
    await expect
      .poll(() => page.getByTestId('ticket-result').textContent(), { timeout: 30_000 })
      .toMatch(/Rejected by risk: .*kill/i);
  });
});
