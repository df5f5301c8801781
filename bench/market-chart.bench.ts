/// <reference lib="dom" />
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDatabase } from '../main/core/store/sqlite.ts';
import { marketMigrations } from '../main/core/store/market-migrations.ts';
import { CandleStore } from '../main/core/data/candle-store.ts';
import { emptyCandleColumns } from '../shared/market.ts';
import { launchBrowser, startServe } from '../tests/e2e/support.ts';
import { atMost, percentile, type Benchmark, type Figure } from './types.ts';

const BARS = 200_000;
const LIBRARY = resolve(
  import.meta.dirname,
  '..',
  'node_modules',
  'lightweight-charts',
  'dist',
  'lightweight-charts.standalone.production.js',
);

interface Timing {
  fetchMs: number;
  paintMs: number;
  totalMs: number;
  bars: number;
}

export const benchmark: Benchmark = {
  name: 'market-chart',
  description:
    'Time to first paint of 200,000 stored 1m bars in Chromium: market:candles over the WebSocket from `vantage serve`, then lightweight-charts candles + volume painted (two animation frames). Needs `npm run build:web`.',
  async run(): Promise<Figure[]> {
    const dataDir = mkdtempSync(join(tmpdir(), 'vantage-bench-chart-'));
    try {
      const market = openDatabase({
        name: 'market.db',
        path: join(dataDir, 'market.db'),
        migrations: marketMigrations,
        durability: 'normal',
      });
      const bars = emptyCandleColumns(BARS);
      let price = 30_000;
      for (let i = 0; i < BARS; i++) {
        const close = price * (1 + Math.sin(i * 0.05) * 0.002);
        bars.time[i] = Date.UTC(2024, 0, 1) + i * 60_000;
        bars.open[i] = price;
        bars.close[i] = close;
        bars.high[i] = Math.max(price, close) * 1.001;
        bars.low[i] = Math.min(price, close) * 0.999;
        bars.volume[i] = 1 + (i % 29);
        price = close;
      }
      new CandleStore(market.db).upsert({ venue: 'bench', symbol: 'BTC/USDT', timeframe: '1m' }, bars);
      market.close();
      const serve = await startServe({ dataDir });
      const browser = await launchBrowser();
      try {
        // bypassCSP only so the benchmark can add the chart library from a file; the app itself is unchanged.
        const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
        const page = await context.newPage();
        await page.goto(serve.url);
        await page.waitForSelector('[data-app-ready="true"]', { timeout: 60_000 });
        await page.addScriptTag({ path: LIBRARY });
        const timings: Timing[] = [];
        for (let run = 0; run < 5; run++) {
          timings.push(
            await page.evaluate(
              async ({ token, count }) => {
                const t0 = performance.now();
                const ws = new WebSocket(`ws://${location.host}/ws?token=${encodeURIComponent(token)}`);
                await new Promise((r) => ws.addEventListener('open', r, { once: true }));
                const reply = await new Promise<{
                  ok: boolean;
                  value: {
                    time: number[];
                    open: number[];
                    high: number[];
                    low: number[];
                    close: number[];
                    volume: number[];
                  };
                }>((r) => {
                  ws.addEventListener(
                    'message',
                    (e) => r((JSON.parse(e.data as string) as { reply: never }).reply),
                    { once: true },
                  );
                  ws.send(
                    JSON.stringify({
                      t: 'req',
                      id: 1,
                      channel: 'market:candles',
                      payload: { venue: 'bench', symbol: 'BTC/USDT', timeframe: '1m', limit: count },
                    }),
                  );
                });
                ws.close();
                const t1 = performance.now();
                const v = reply.value;
                const n = v.time.length;
                const candles = new Array<{
                  time: number;
                  open: number;
                  high: number;
                  low: number;
                  close: number;
                }>(n);
                const volume = new Array<{ time: number; value: number }>(n);
                for (let i = 0; i < n; i++) {
                  const time = v.time[i]! / 1000;
                  candles[i] = {
                    time,
                    open: v.open[i]!,
                    high: v.high[i]!,
                    low: v.low[i]!,
                    close: v.close[i]!,
                  };
                  volume[i] = { time, value: v.volume[i]! };
                }
                const host = document.createElement('div');
                host.style.cssText = 'position:fixed;left:0;top:0;width:1200px;height:700px;z-index:9999';
                document.body.appendChild(host);
                const lib = (
                  window as unknown as {
                    LightweightCharts: Record<string, unknown> & {
                      createChart: (
                        el: HTMLElement,
                        o: object,
                      ) => {
                        addSeries: (d: unknown, o?: object) => { setData: (d: unknown[]) => void };
                        remove: () => void;
                      };
                    };
                  }
                ).LightweightCharts;
                const chart = lib.createChart(host, { width: 1200, height: 700 });
                chart.addSeries(lib.CandlestickSeries).setData(candles);
                chart.addSeries(lib.HistogramSeries, { priceScaleId: 'volume' }).setData(volume);
                await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
                const t2 = performance.now();
                chart.remove();
                host.remove();
                return { fetchMs: t1 - t0, paintMs: t2 - t1, totalMs: t2 - t0, bars: n };
              },
              { token: serve.token, count: BARS },
            ),
          );
        }
        if (timings.some((t) => t.bars !== BARS))
          throw new Error(`expected ${BARS} bars, got ${timings.map((t) => t.bars).join(', ')}`);
        const median = (key: keyof Timing): number =>
          Math.round(
            percentile(
              timings.map((t) => t[key]).sort((a, b) => a - b),
              50,
            ),
          );
        const total = median('totalMs');
        return [
          {
            name: 'time to first paint, 200,000 bars (fetch + candles + volume), median of 5',
            value: total,
            unit: 'ms',
            ...atMost(total, 1000, 'ms'),
            note: `load average ${loadavg()[0]!.toFixed(1)} during the run`,
          },
          {
            name: 'of which market:candles over the WebSocket (200,000 bars as JSON)',
            value: median('fetchMs'),
            unit: 'ms',
          },
          { name: 'of which building series data and painting', value: median('paintMs'), unit: 'ms' },
        ];
      } finally {
        await browser.close();
        await serve.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
