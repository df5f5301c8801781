/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  launchBrowser,
  openApp,
  screenshot,
  startServe,
  type PageProblems,
  type ServeHandle,
} from './support.ts';

/**
 * Strategies started from the app on the paper account (demo venue, real time): a signal needs a
 * 1m bar to close after the start, so each wait for a signal allows a bar and a half.
 */
const BAR_WAIT_MS = 100_000;
const TEST_TIMEOUT_MS = 200_000;

async function showPanel(page: Page, id: string): Promise<void> {
  await page.getByTestId('panel-menu').selectOption(id);
}

/** Fills the start form and starts; returns the new instance's id from the result line. */
async function startStrategy(
  page: Page,
  builtin: string,
  params: Record<string, string>,
  notional = '1000',
): Promise<string> {
  await showPanel(page, 'strategies');
  await page.getByTestId('strategy-builtin').selectOption(builtin);
  await expect
    .poll(() => page.getByTestId('strategy-symbol').inputValue(), { timeout: 30_000 })
    .toBe('BTC/USDT');
  await page.getByTestId('strategy-timeframe').selectOption('1m');
  for (const [name, value] of Object.entries(params))
    await page.getByTestId(`strategy-param-${name}`).fill(value);
  await page.getByTestId('strategy-sizing-kind').selectOption('fixed-notional');
  await page.getByTestId('strategy-sizing-notional').fill(notional);
  await page.getByTestId('strategy-start').press('Enter');
  // Ids are `<builtin>-<symbol>-<n>`: the line of this start, not one left from an earlier start.
  // A refusal shows on a field or the form instead: polling both makes a failure say why.
  // Model-driven starts warm the model's features up on 1,000 bars first: allow for a busy machine.
  const outcome = page
    .locator('[data-testid="strategy-start-result"], [data-testid^="strategy-error-"]')
    .first();
  await expect
    .poll(() => outcome.textContent(), { timeout: 60_000 })
    .toMatch(new RegExp(`^Started ${builtin}-\\S+`));
  const id = /^Started (\S+)/.exec((await page.getByTestId('strategy-start-result').textContent())!)![1]!;
  const row = page.locator(`[data-testid="strategy-row"][data-strategy-id="${id}"]`);
  await expect.poll(() => row.getAttribute('data-state'), { timeout: 30_000 }).toBe('running');
  return id;
}

/** Waits for the strategy's first signal in the Signals view and selects it; returns its id. */
async function selectFirstSignal(page: Page, strategyId: string): Promise<string> {
  await showPanel(page, 'signals');
  const rows = page.locator(`[data-testid="signal-row"][data-strategy-id="${strategyId}"]`);
  await expect.poll(() => rows.count(), { timeout: BAR_WAIT_MS }).toBeGreaterThan(0);
  const row = rows.last();
  const signalId = (await row.getAttribute('data-signal-id'))!;
  await row.click();
  await expect
    .poll(() => page.getByTestId('signal-detail').getAttribute('data-signal-id'), { timeout: 30_000 })
    .toBe(signalId);
  return signalId;
}

describe('strategies, signals and explanations in Chromium against vantage serve', () => {
  let serve: ServeHandle;
  let browser: Browser;
  // One page for the whole file: the tests follow one session (strategies started earlier are
  // stopped by the kill switch later), and a page per test would leave live pages competing for CPU.
  let page: Page;
  let problems: PageProblems;
  let modelSignalId = '';

  beforeAll(async () => {
    serve = await startServe();
    browser = await launchBrowser();
    ({ page, problems } = await openApp(browser, serve.url));
  });
  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('shows parameter errors on their field, from the form and from the engine', async () => {
    await showPanel(page, 'strategies');
    await page.getByTestId('strategy-builtin').selectOption('sma-cross');
    await page.getByTestId('strategy-param-fast').fill('2.5');
    await page.getByTestId('strategy-sizing-notional').fill('');
    await page.getByTestId('strategy-start').press('Enter');
    await expect
      .poll(() => page.getByTestId('strategy-error-param.fast').textContent())
      .toMatch(/whole number/);
    await expect
      .poll(() => page.getByTestId('strategy-error-sizing.notional').textContent())
      .toMatch(/Required/);
    // In range for the form, out of range for the built-in (1..100000): the engine's refusal lands on the field.
    await page.getByTestId('strategy-param-fast').fill('0');
    await page.getByTestId('strategy-sizing-notional').fill('1000');
    await page.getByTestId('strategy-start').press('Enter');
    await expect
      .poll(() => page.getByTestId('strategy-error-param.fast').textContent(), { timeout: 30_000 })
      .toMatch(/fast/);
    expect(await page.getByTestId('strategy-start-result').count()).toBe(0);
    await screenshot(page, 'strategies-form-errors');
    expect(problems.pageErrors).toEqual([]);
  });

  it(
    'a rules strategy started from the app signals, and its signal shows the rules that fired and every risk check',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      // The entry holds on the first closed bar; the exit never does, so the position stays open.
      const strategyId = await startStrategy(page, 'rules', {
        entry: 'close > 0 and volume >= 0',
        exit: 'close < 0',
      });
      await selectFirstSignal(page, strategyId);

      const entry = page.locator('[data-testid="signal-rule"][data-rule="entry"]');
      await expect.poll(() => entry.getAttribute('data-is-true')).toBe('true');
      expect(await entry.textContent()).toContain('close > 0 and volume >= 0');
      expect(await entry.textContent()).toMatch(/close = \d/);

      const checks = page.getByTestId('signal-risk-check');
      expect(await checks.count()).toBeGreaterThan(3);
      const verdicts = await checks.evaluateAll((els) => els.map((e) => e.getAttribute('data-passed')));
      expect(verdicts.every((v) => v === 'true' || v === 'false')).toBe(true);
      expect(await page.getByTestId('signal-risk-checks').textContent()).toMatch(/pass/);
      expect(await page.getByTestId('signal-outcome').getAttribute('data-outcome')).toBe('sent');
      expect(await page.getByTestId('signal-verdict').getAttribute('data-approved')).toBe('true');
      expect(await page.getByTestId('signal-client-order-id').textContent()).toMatch(/^[A-Za-z0-9._:-]{4,}$/);
      expect(await page.getByTestId('signal-prediction').textContent()).toContain('No model');
      await screenshot(page, 'strategies-rules-signal');

      // The instance list counts the signal and shows the position it opened.
      await showPanel(page, 'strategies');
      const row = page.locator(`[data-testid="strategy-row"][data-strategy-id="${strategyId}"]`);
      await expect
        .poll(async () => Number(await row.getByTestId('strategy-signals').textContent()), {
          timeout: 30_000,
        })
        .toBeGreaterThanOrEqual(1);
      await expect
        .poll(async () => Number(await row.getByTestId('strategy-position').textContent()), {
          timeout: 30_000,
        })
        .toBeGreaterThan(0);
      await screenshot(page, 'strategies-instances');
      expect(problems.pageErrors).toEqual([]);
    },
  );

  it(
    'a signal whose order risk rejects shows the failing check and why, and its strategy stops with the Stop button',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      // 20,000 of BTC on a 100,000 paper account: over the 10%-of-equity position limit.
      const strategyId = await startStrategy(
        page,
        'rules',
        { entry: 'close > 0', exit: 'close < 0' },
        '20000',
      );
      await selectFirstSignal(page, strategyId);
      expect(await page.getByTestId('signal-outcome').getAttribute('data-outcome')).toBe('risk-rejected');
      expect(await page.getByTestId('signal-verdict').getAttribute('data-approved')).toBe('false');
      expect(await page.getByTestId('signal-verdict').textContent()).toMatch(/rejected: .*position/i);
      const failed = page.locator('[data-testid="signal-risk-check"][data-passed="false"]');
      expect(await failed.count()).toBeGreaterThan(0);
      expect(await failed.first().textContent()).toMatch(/position.*FAIL/);
      await screenshot(page, 'strategies-risk-rejected-signal');

      await showPanel(page, 'strategies');
      const row = page.locator(`[data-testid="strategy-row"][data-strategy-id="${strategyId}"]`);
      await row.getByTestId('strategy-stop').press('Enter');
      await expect.poll(() => row.getAttribute('data-state'), { timeout: 30_000 }).toBe('stopped');
      expect(await row.getByTestId('strategy-stop-reason').textContent()).toMatch(/user/);
      expect(await row.getByTestId('strategy-stop').count()).toBe(0);
      expect(await row.getByTestId('strategy-position').textContent()).toBe('0');
      expect(problems.pageErrors).toEqual([]);
    },
  );

  it(
    'a model-threshold signal shows the prediction and a waterfall that adds up to it',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      // Any p_up is above -1: it enters on the first closed bar; it never exits.
      const strategyId = await startStrategy(page, 'model-threshold', {
        output: 'p_up',
        enterAbove: '-1',
        exitBelow: '-2',
      });
      modelSignalId = await selectFirstSignal(page, strategyId);

      // The rules strategy's signal is listed too; the strategy filter leaves only this one's.
      const allCount = await page.getByTestId('signal-row').count();
      await page.getByTestId('signals-filter-strategy').selectOption(strategyId);
      await expect.poll(() => page.getByTestId('signal-row').count()).toBeLessThan(allCount);
      const shownIds = await page
        .getByTestId('signal-row')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-strategy-id')));
      expect(shownIds.length).toBeGreaterThan(0);
      expect(new Set(shownIds)).toEqual(new Set([strategyId]));

      expect(await page.getByTestId('signal-prediction-model').textContent()).toMatch(
        /^default-btc-5m v\S+ [0-9a-f]{12}$/,
      );
      const pUp = Number(
        await page
          .locator('[data-testid="signal-prediction-value"][data-output="p_up"]')
          .getAttribute('data-value'),
      );
      expect(pUp).toBeGreaterThanOrEqual(0);
      expect(pUp).toBeLessThanOrEqual(1);

      const bars = page.getByTestId('signal-waterfall').getByTestId('waterfall-bar');
      await expect.poll(() => bars.count(), { timeout: 30_000 }).toBeGreaterThan(1);
      const values = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
      const base = Number(await page.getByTestId('signal-explanation-base').getAttribute('data-value'));
      const prediction = Number(
        await page.getByTestId('signal-explanation-prediction').getAttribute('data-value'),
      );
      expect(values.every(Number.isFinite)).toBe(true);
      expect(Math.abs(base + values.reduce((a, b) => a + b, 0) - prediction)).toBeLessThanOrEqual(1e-5);
      // Largest contribution first.
      const sizes = values.map(Math.abs);
      expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
      expect(await page.getByTestId('signal-features').textContent()).toMatch(/rsi_14/);
      await screenshot(page, 'strategies-model-signal');
      await page.getByTestId('signals-filter-strategy').selectOption('');
      expect(problems.pageErrors).toEqual([]);
    },
  );

  it('a signal marker on the chart selects its signal in the Signals view', async () => {
    expect(modelSignalId).not.toBe('');
    await showPanel(page, 'chart');
    const marker = page.getByTestId(`chart-marker-signal:${modelSignalId}`);
    await expect.poll(() => marker.count(), { timeout: 30_000 }).toBe(1);
    // Markers are focusable buttons over the canvas; Enter activates one like a click does
    // (a click at its spot can land on a neighbouring bar's fill marker when bars are a few px apart).
    await marker.press('Enter');
    await expect
      .poll(() => page.getByTestId('signal-detail').getAttribute('data-signal-id'), { timeout: 30_000 })
      .toBe(modelSignalId);
    expect(await page.getByTestId('signals-panel').isVisible()).toBe(true);
    await screenshot(page, 'strategies-marker-selects-signal');
    expect(problems.pageErrors).toEqual([]);
  });

  it('the Stop button stops one strategy and leaves the others running', async () => {
    const strategyId = await startStrategy(page, 'sma-cross', { fast: '5', slow: '20' });
    const row = page.locator(`[data-testid="strategy-row"][data-strategy-id="${strategyId}"]`);
    await row.getByTestId('strategy-stop').press('Enter');
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 30_000 }).toBe('stopped');
    expect(await row.getByTestId('strategy-stop-reason').textContent()).toMatch(/user/);
    expect(await row.getByTestId('strategy-stop').count()).toBe(0);
    expect(await page.locator('[data-testid="strategy-row"][data-state="running"]').count()).toBe(2);
    await screenshot(page, 'strategies-stopped-by-user');
    expect(problems.pageErrors).toEqual([]);
  });

  it('the kill switch stops every running strategy with its reason and cancels working orders', async () => {
    // A resting limit 1% under the market: a working order for the kill switch to cancel.
    await showPanel(page, 'order-ticket');
    await expect
      .poll(
        async () =>
          Number((await page.getByTestId('ticket-last-price').textContent())?.replace(/[^\d.]/g, '')),
        { timeout: 30_000 },
      )
      .toBeGreaterThan(0);
    const price = Number((await page.getByTestId('ticket-last-price').textContent())!.replace(/[^\d.]/g, ''));
    await page.getByTestId('ticket-side-buy').press('Enter');
    await page.getByTestId('ticket-type').selectOption('limit');
    await page.getByTestId('ticket-size').fill('0.01');
    await page.getByTestId('ticket-price').fill((price * 0.99).toFixed(2));
    await page.getByTestId('ticket-submit').press('Enter');
    await expect
      .poll(() => page.getByTestId('ticket-result').textContent(), { timeout: 30_000 })
      .toMatch(/^Sent/);
    await showPanel(page, 'blotter');
    await expect
      .poll(() => page.getByTestId('working-order').count(), { timeout: 30_000 })
      .toBeGreaterThan(0);

    await showPanel(page, 'strategies');
    const running = page.locator('[data-testid="strategy-row"][data-state="running"]');
    await expect.poll(() => running.count(), { timeout: 30_000 }).toBe(2);
    const runningIds = await running.evaluateAll((els) =>
      els.map((e) => e.getAttribute('data-strategy-id')!),
    );

    await showPanel(page, 'risk');
    await page.getByTestId('kill-switch').press('Enter');
    await page.getByTestId('kill-switch-confirm').press('Enter');
    await expect
      .poll(() => page.getByTestId('kill-switch-state').textContent(), { timeout: 30_000 })
      .toContain('ENGAGED');

    await showPanel(page, 'strategies');
    // The two that were running, and the two stopped earlier with their Stop buttons.
    await expect
      .poll(() => page.locator('[data-testid="strategy-row"][data-state="stopped"]').count(), {
        timeout: 30_000,
      })
      .toBe(4);
    for (const id of runningIds) {
      const row = page.locator(`[data-testid="strategy-row"][data-strategy-id="${id}"]`);
      expect(await row.getAttribute('data-state')).toBe('stopped');
      expect(await row.getByTestId('strategy-stop-reason').textContent()).toMatch(/kill switch/i);
    }
    expect(await page.getByTestId('strategy-stop').count()).toBe(0);
    await screenshot(page, 'strategies-kill-switch');

    await showPanel(page, 'blotter');
    await expect.poll(() => page.getByTestId('working-order').count(), { timeout: 30_000 }).toBe(0);
    expect(problems.pageErrors).toEqual([]);
  });
});
