import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../main/core/store/sqlite.ts';
import { marketMigrations } from '../main/core/store/market-migrations.ts';
import { CandleStore } from '../main/core/data/candle-store.ts';
import { CandleReader } from '../main/core/data/candle-reader.ts';
import { parseCandleText } from '../main/core/data/import.ts';
import { emptyCandleColumns, sliceCandleColumns, type CandleColumns } from '../shared/market.ts';
import { hasTestData, testDataPath } from '../tests/support/test-data.ts';
import { atLeast, atMost, percentile, type Benchmark, type Figure } from './types.ts';

const BARS = 1_000_000;
const BATCH = 100_000;
const T0 = Date.UTC(2020, 0, 1);

function syntheticBars(count: number): CandleColumns {
  const c = emptyCandleColumns(count);
  let price = 100;
  for (let i = 0; i < count; i++) {
    const close = price * (1 + Math.sin(i * 0.37) * 0.001);
    c.time[i] = T0 + i * 60_000;
    c.open[i] = price;
    c.close[i] = close;
    c.high[i] = Math.max(price, close) * 1.0005;
    c.low[i] = Math.min(price, close) * 0.9995;
    c.volume[i] = 1 + (i % 13);
    price = close;
  }
  return c;
}

export const benchmark: Benchmark = {
  name: 'market-store',
  description:
    'market.db candle store: upsert rate (1,000,000 1m bars in 100k batches), range query of 1,000,000 bars into typed arrays (engine thread and reader thread), real-file import.',
  async run(): Promise<Figure[]> {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-store-'));
    const figures: Figure[] = [];
    try {
      const market = openDatabase({
        name: 'market.db',
        path: join(dir, 'market.db'),
        migrations: marketMigrations,
        durability: 'normal',
      });
      const store = new CandleStore(market.db);
      const key = { venue: 'bench', symbol: 'BTC/USDT', timeframe: '1m' as const };
      const bars = syntheticBars(BARS);

      let t = performance.now();
      for (let i = 0; i < BARS; i += BATCH)
        store.upsert(key, sliceCandleColumns(bars, i, Math.min(BARS, i + BATCH)));
      const upsertRate = BARS / ((performance.now() - t) / 1000);
      figures.push({
        name: 'upsert new bars (1,000,000 x 1m, 100k per transaction)',
        value: Math.round(upsertRate),
        unit: 'bars/s',
        ...atLeast(Math.round(upsertRate), 500_000, 'bars/s'),
      });

      t = performance.now();
      const again = store.upsert(key, bars);
      const reRate = BARS / ((performance.now() - t) / 1000);
      figures.push({
        name: 're-upsert identical bars (idempotent, nothing written)',
        value: Math.round(reRate),
        unit: 'bars/s',
        note: `unchanged ${again.unchanged}`,
      });

      const samples: number[] = [];
      const cpuSamples: number[] = [];
      for (let run = 0; run < 7; run++) {
        const cpu0 = process.cpuUsage();
        t = performance.now();
        const columns = store.query(key);
        samples.push(performance.now() - t);
        const cpu = process.cpuUsage(cpu0);
        cpuSamples.push((cpu.user + cpu.system) / 1000);
        if (columns.time.length !== BARS) throw new Error(`query returned ${columns.time.length} bars`);
      }
      samples.sort((a, b) => a - b);
      const p50 = Math.round(percentile(samples, 50) * 10) / 10;
      cpuSamples.sort((a, b) => a - b);
      figures.push({
        name: 'range query 1,000,000 bars -> typed arrays (engine thread, median of 7)',
        value: p50,
        unit: 'ms',
        ...atMost(p50, 200, 'ms'),
        note: `CPU time median ${Math.round(percentile(cpuSamples, 50))} ms (load average ${loadavg()[0]!.toFixed(1)})`,
      });

      const reader = new CandleReader(join(dir, 'market.db'));
      try {
        await reader.read(key, { limit: 10 }); // worker start-up is not part of a query
        const workerSamples: number[] = [];
        for (let run = 0; run < 7; run++) {
          t = performance.now();
          const columns = await reader.read(key);
          workerSamples.push(performance.now() - t);
          if (columns.time.length !== BARS) throw new Error(`reader returned ${columns.time.length} bars`);
        }
        workerSamples.sort((a, b) => a - b);
        const w50 = Math.round(percentile(workerSamples, 50) * 10) / 10;
        figures.push({
          name: 'range query 1,000,000 bars on the reader thread (incl. transfer, median of 7)',
          value: w50,
          unit: 'ms',
          ...atMost(w50, 200, 'ms'),
        });
      } finally {
        await reader.close();
      }

      if (hasTestData) {
        const text = readFileSync(testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json'), 'utf8');
        t = performance.now();
        const parsed = parseCandleText(text, {
          fileName: 'BTC_USDT-5m.json',
          format: 'json',
          timeframe: '5m',
        });
        store.upsert({ venue: 'binance', symbol: 'BTC/USDT', timeframe: '5m' }, parsed.columns);
        const rate = parsed.columns.time.length / ((performance.now() - t) / 1000);
        figures.push({
          name: 'import real file end to end (Binance BTC 5m JSON: parse, validate, upsert)',
          value: Math.round(rate),
          unit: 'bars/s',
          note: `${parsed.columns.time.length} bars`,
        });
      }
      market.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};
