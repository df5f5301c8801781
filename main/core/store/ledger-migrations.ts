import type { Migration } from './sqlite.ts';

/** ledger.db: orders, fills, positions, audit chain, settings. Append only; never edit a released migration. */
export const ledgerMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'settings',
    up(db) {
      db.exec(
        `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_ms INTEGER NOT NULL) STRICT`,
      );
    },
  },
  {
    version: 2,
    name: 'trading: audit chain, orders, fills, checkpoints',
    up(db) {
      // Append-only: the triggers make an UPDATE or DELETE through SQLite fail; verification
      // (docs/audit.md) catches edits made around them.
      db.exec(`CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL) STRICT`);
      db.exec(`CREATE INDEX audit_log_type_ts ON audit_log (type, ts_ms)`);
      db.exec(
        `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
      );
      db.exec(
        `CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
      );
      db.exec(`CREATE TABLE audit_checkpoints (
        seq INTEGER PRIMARY KEY, head_hash TEXT NOT NULL, ts_ms INTEGER NOT NULL,
        public_key TEXT NOT NULL, signature TEXT NOT NULL) STRICT`);
      db.exec(`CREATE TABLE orders (
        client_order_id TEXT PRIMARY KEY, venue TEXT NOT NULL, account TEXT NOT NULL, symbol TEXT NOT NULL,
        strategy_id TEXT NOT NULL, state TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
        body TEXT NOT NULL) STRICT`);
      db.exec(`CREATE INDEX orders_state ON orders (state)`);
      db.exec(`CREATE TABLE fills (
        fill_id TEXT PRIMARY KEY, client_order_id TEXT NOT NULL, symbol TEXT NOT NULL, ts_ms INTEGER NOT NULL,
        body TEXT NOT NULL) STRICT`);
      db.exec(`CREATE INDEX fills_ts ON fills (ts_ms)`);
      db.exec(`CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT`);
    },
  },
];
