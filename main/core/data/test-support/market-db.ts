import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type OpenedDatabase } from '../../store/sqlite.ts';
import { marketMigrations } from '../../store/market-migrations.ts';
import { emptyCandleColumns, type CandleColumns } from '../../../../shared/market.ts';

/** A fresh market.db in its own temp folder (the real migrations), removed by cleanup(). */
export function openTempMarketDb(): { dir: string; path: string; market: OpenedDatabase; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-market-'));
  const path = join(dir, 'market.db');
  const market = openDatabase({
    name: 'market.db',
    path,
    migrations: marketMigrations,
    durability: 'normal',
  });
  return {
    dir,
    path,
    market,
    cleanup() {
      try {
        market.close();
      } catch {
        // already closed by the test
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Consistent bars at startMs, startMs+stepMs, ... with prices drifting from 100. */
export function makeBars(count: number, startMs: number, stepMs: number, seed = 1): CandleColumns {
  const c = emptyCandleColumns(count);
  let price = 100 + seed;
  for (let i = 0; i < count; i++) {
    const open = price;
    const close = price + Math.sin(i * 0.7 + seed);
    c.time[i] = startMs + i * stepMs;
    c.open[i] = open;
    c.close[i] = close;
    c.high[i] = Math.max(open, close) + 0.5;
    c.low[i] = Math.min(open, close) - 0.5;
    c.volume[i] = 10 + (i % 7);
    price = close;
  }
  return c;
}
