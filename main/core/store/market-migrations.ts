import type { Migration } from './sqlite.ts';

/** market.db: candles and trades. Append new migrations at the end; never edit a released one. */
export const marketMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'settings',
    up(db) {
      db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT`);
    },
  },
  {
    version: 2,
    name: 'candles',
    up(db) {
      // One row per stored series; first/last/count are kept up to date by the candle store so
      // listing series never scans bars.
      db.exec(`CREATE TABLE candle_series (
        id INTEGER PRIMARY KEY,
        venue TEXT NOT NULL,
        symbol TEXT NOT NULL,
        timeframe TEXT NOT NULL,
        first_ms INTEGER,
        last_ms INTEGER,
        bar_count INTEGER NOT NULL DEFAULT 0,
        UNIQUE (venue, symbol, timeframe)
      ) STRICT`);
      // Bars are stored column-wise in time-aligned chunks (see main/core/data/candle-store.ts):
      // a bar is still identified by (venue, symbol, timeframe, open time), but a range query
      // reads one blob per chunk instead of one row per bar. Large blobs belong in a rowid table
      // (SQLite's WITHOUT ROWID guidance), hence the unique key rather than WITHOUT ROWID.
      db.exec(`CREATE TABLE candle_chunks (
        id INTEGER PRIMARY KEY,
        series_id INTEGER NOT NULL REFERENCES candle_series(id) ON DELETE CASCADE,
        chunk_ms INTEGER NOT NULL,
        first_ms INTEGER NOT NULL,
        last_ms INTEGER NOT NULL,
        bar_count INTEGER NOT NULL,
        data BLOB NOT NULL,
        UNIQUE (series_id, chunk_ms)
      ) STRICT`);
    },
  },
];
