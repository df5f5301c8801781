/// <reference lib="dom" />
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { openApp, screenshot, useServeAndBrowser } from './support.ts';

describe('the app in Chromium against vantage serve', () => {
  const app = useServeAndBrowser();

  it('shows the real engine values in the System panel', async () => {
    const { page, problems } = await openApp(app.browser, app.serve.url);
    await page.getByTestId('panel-menu').selectOption('system');
    await expect.poll(() => page.getByTestId('system-state').textContent()).toBe('ready');
    expect(await page.getByTestId('system-data-dir').textContent()).toBe(app.serve.dataDir);
    expect(await page.getByTestId('system-node-version').textContent()).toMatch(/^24\./);
    expect(await page.getByTestId('system-ort-version').textContent()).toBe('1.30.0');
    expect(await page.getByTestId('system-provider').textContent()).toBe('cpu');
    expect(await page.getByTestId('system-transport').textContent()).toBe('websocket');
    expect(await page.getByTestId('db-market.db-integrity').textContent()).toBe('ok');
    expect(await page.getByTestId('db-ledger.db-integrity').textContent()).toBe('ok');
    expect(await page.getByTestId('status-connection').textContent()).toBe('connected');
    expect(await page.getByTestId('status-provider').textContent()).toContain('cpu');
    await screenshot(page, 'system-panel-dark');
    await page.getByTestId('theme-toggle').click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await screenshot(page, 'system-panel-light');
    expect(problems.pageErrors).toEqual([]);
    // CSP violations and failed loads are reported as console errors.
    expect(problems.consoleErrors).toEqual([]);
  });

  it('exposes no require or process globals to the page', async () => {
    const { page } = await openApp(app.browser, app.serve.url);
    const globals = await page.evaluate(() => ({
      require: typeof (globalThis as Record<string, unknown>).require,
      process: typeof (globalThis as Record<string, unknown>).process,
      module: typeof (globalThis as Record<string, unknown>).module,
    }));
    expect(globals).toEqual({ require: 'undefined', process: 'undefined', module: 'undefined' });
  });

  it('keeps the panel layout across a reload', async () => {
    const { page } = await openApp(app.browser, app.serve.url);
    const saved = await page.evaluate(() => localStorage.getItem('vantage.layout.v1'));
    expect(saved).toContain('system');
    await page.reload();
    await page.waitForSelector('[data-app-ready="true"]');
    // The same panels in the same groups after the reload (sizes may be re-normalised).
    const shape = (json: string | null) => {
      const layout = JSON.parse(json ?? '{}') as { panels?: Record<string, unknown>; grid?: unknown };
      const groups: string[][] = [];
      const walk = (node: unknown): void => {
        const n = node as { type?: string; data?: unknown };
        if (n?.type === 'leaf') groups.push([...((n.data as { views?: string[] }).views ?? [])].sort());
        else if (Array.isArray(n?.data)) n.data.forEach(walk);
      };
      walk((layout.grid as { root?: unknown })?.root);
      return { panels: Object.keys(layout.panels ?? {}).sort(), groups: groups.sort() };
    };
    expect(shape(await page.evaluate(() => localStorage.getItem('vantage.layout.v1')))).toEqual(shape(saved));
    // Every panel is there, and an arrangement change is saved.
    await page.getByTestId('panel-menu').selectOption('system');
    await expect.poll(() => page.getByTestId('system-panel').isVisible()).toBe(true);
    await expect.poll(() => page.evaluate(() => localStorage.getItem('vantage.layout.v1'))).not.toBe(saved);
  });

  it('refuses a page load or a WebSocket without the token', async () => {
    const base = `http://127.0.0.1:${app.serve.port}`;
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/?token=wrong`)).status).toBe(401);
    expect((await fetch(`${base}/?token=${app.serve.token}`)).status).toBe(200);
    const outcome = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${app.serve.port}/ws`);
      ws.on('open', () => resolve('open'));
      ws.on('error', () => resolve('refused'));
      ws.on('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode}`));
    });
    expect(outcome).toMatch(/^refused/);
  });

  it('validates WebSocket requests like every other host', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${app.serve.port}/ws?token=${app.serve.token}`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const replies: unknown[] = [];
    const got = new Promise<void>((resolve) => {
      ws.on('message', (d) => {
        replies.push(JSON.parse(d.toString()));
        if (replies.length === 3) resolve();
      });
    });
    ws.send(JSON.stringify({ t: 'req', id: 1, channel: 'engine:ping', payload: { nonce: 'x' } }));
    ws.send(JSON.stringify({ t: 'req', id: 2, channel: 'engine:nope', payload: {} }));
    ws.send('not json');
    await got;
    ws.close();
    const byId = (id: number) =>
      replies.find((r) => (r as { id?: number }).id === id) as {
        reply: { ok: boolean; error: { code: string } };
      };
    expect(byId(1).reply.error.code).toBe('IPC_INVALID_PAYLOAD');
    expect(byId(2).reply.error.code).toBe('IPC_UNKNOWN_CHANNEL');
    const malformed = replies.find((r) => (r as { t: string }).t === 'err') as {
      reply: { error: { code: string } };
    };
    expect(malformed.reply.error.code).toBe('IPC_INVALID_PAYLOAD');
  });
});
