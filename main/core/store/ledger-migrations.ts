import type { Migration } from './sqlite.ts';

/** ledger.db: orders, fills, positions, audit chain, settings. Append only; never edit a released migration. */
export const ledgerMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'settings',
    up(db) {
      db.exec(`CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_ms INTEGER NOT NULL) STRICT`);
    },
  },
];
