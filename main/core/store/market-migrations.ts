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
];
