import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Migration } from '../store/sqlite.ts';
import type { Fill } from '../../../shared/trading.ts';
import type { PaperOrder, PaperVenueStore } from './paper-broker.ts';

/**
 * The simulated venue's own book of orders and fills (paper-venue.db in the data folder), kept
 * apart from ledger.db just as a real venue's state is: reconciliation after a crash compares the
 * two. synchronous=FULL: what the venue "acknowledged" survives a crash.
 */
export const paperVenueMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'paper venue orders and fills',
    up(db) {
      db.exec(`CREATE TABLE paper_orders (client_order_id TEXT PRIMARY KEY, body TEXT NOT NULL) STRICT`);
      db.exec(
        `CREATE TABLE paper_fills (fill_id TEXT PRIMARY KEY, ts_ms INTEGER NOT NULL, body TEXT NOT NULL) STRICT`,
      );
      db.exec(`CREATE TABLE paper_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT`);
    },
  },
];

export class SqlitePaperStore implements PaperVenueStore {
  private readonly db: DatabaseSync;
  private readonly upsertOrder: StatementSync;
  private readonly insertFill: StatementSync;
  private readonly bump: StatementSync;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.upsertOrder = db.prepare(
      'INSERT INTO paper_orders (client_order_id, body) VALUES (?, ?) ON CONFLICT (client_order_id) DO UPDATE SET body = excluded.body',
    );
    this.insertFill = db.prepare('INSERT OR IGNORE INTO paper_fills (fill_id, ts_ms, body) VALUES (?, ?, ?)');
    this.bump = db.prepare(
      `INSERT INTO paper_counters (name, value) VALUES ('id', 1) ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`,
    );
  }

  saveOrder(order: PaperOrder): void {
    this.upsertOrder.run(order.order.clientOrderId, JSON.stringify(order));
  }

  saveFill(fill: Fill, order: PaperOrder): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      this.insertFill.run(fill.fillId, fill.tsMs, JSON.stringify(fill));
      this.upsertOrder.run(order.order.clientOrderId, JSON.stringify(order));
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  loadOrders(): PaperOrder[] {
    return (this.db.prepare('SELECT body FROM paper_orders ORDER BY rowid').all() as { body: string }[]).map(
      (r) => JSON.parse(r.body) as PaperOrder,
    );
  }

  loadFills(): Fill[] {
    return (
      this.db.prepare('SELECT body FROM paper_fills ORDER BY ts_ms, rowid').all() as { body: string }[]
    ).map((r) => JSON.parse(r.body) as Fill);
  }

  nextId(): number {
    return (this.bump.get() as { value: number }).value;
  }
}
