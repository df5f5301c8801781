import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { AuditLedger } from '../audit/audit-ledger.ts';
import type { OrderJournal } from './journal.ts';
import type { Fill, Order, OrderState } from '../../../shared/trading.ts';

const SEQUENCE_BLOCK = 64;

/**
 * The durable order journal in ledger.db (synchronous=FULL): every intent, transition and fill is
 * written with its audit record in one transaction, so a crash leaves either both or neither.
 * The intent is committed before the order is sent (docs/orders.md, step 1).
 */
export class SqliteOrderJournal implements OrderJournal {
  readonly isKeepingAudit = true;
  private readonly db: DatabaseSync;
  private readonly audit_: AuditLedger;
  private readonly upsertOrder: StatementSync;
  private readonly insertFill: StatementSync;
  private readonly bumpCounter: StatementSync;
  private readonly selectOrder: StatementSync;
  private sequenceNext = 1;
  private sequenceEnd = 0;

  constructor(db: DatabaseSync, audit: AuditLedger) {
    this.db = db;
    this.audit_ = audit;
    this.upsertOrder = db.prepare(
      `INSERT INTO orders (client_order_id, venue, account, symbol, strategy_id, state, created_ms, updated_ms, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (client_order_id) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms, body = excluded.body`,
    );
    this.insertFill = db.prepare(
      'INSERT OR IGNORE INTO fills (fill_id, client_order_id, symbol, ts_ms, body) VALUES (?, ?, ?, ?, ?)',
    );
    this.bumpCounter = db.prepare(
      `INSERT INTO counters (name, value) VALUES ('order-sequence', ?)
       ON CONFLICT (name) DO UPDATE SET value = value + excluded.value RETURNING value`,
    );
    this.selectOrder = db.prepare('SELECT body FROM orders WHERE client_order_id = ?');
  }

  nextOrderSequence(): number {
    // Numbers are reserved in committed blocks: one is never handed out twice, even across a
    // crash (the unused rest of a block is skipped), and most orders need no extra fsync.
    if (this.sequenceNext > this.sequenceEnd) {
      const row = this.audit_.transaction(() => this.bumpCounter.get(SEQUENCE_BLOCK) as { value: number });
      this.sequenceEnd = row.value;
      this.sequenceNext = row.value - SEQUENCE_BLOCK + 1;
    }
    return this.sequenceNext++;
  }

  recordIntent(order: Order, audit: Record<string, unknown>): void {
    this.audit_.transaction(() => {
      const existing = this.selectOrder.get(order.clientOrderId);
      if (existing) throw new Error(`duplicate client order id ${order.clientOrderId}`);
      this.write(order);
      this.audit_.append(order.isExternal ? 'order.external' : 'order.intent', {
        state: order.state,
        ...audit,
      });
    });
  }

  recordTransition(order: Order, _fromState: OrderState, audit: Record<string, unknown>): void {
    this.audit_.transaction(() => {
      this.write(order);
      this.audit_.append('order.transition', audit);
    });
  }

  recordFill(fill: Fill, order: Order | null): boolean {
    return this.audit_.transaction(() => {
      const result = this.insertFill.run(
        fill.fillId,
        fill.clientOrderId,
        fill.symbol,
        fill.tsMs,
        JSON.stringify(fill),
      );
      if (result.changes === 0) return false;
      this.audit_.append('fill', { ...fill });
      if (order) {
        this.write(order);
        this.audit_.append('order.transition', {
          clientOrderId: order.clientOrderId,
          to: order.state,
          filledQuantity: order.filledQuantity,
          event: 'fill',
          fillId: fill.fillId,
        });
      }
      return true;
    });
  }

  audit(type: string, payload: Record<string, unknown>): void {
    this.audit_.append(type, payload);
  }

  loadOrder(clientOrderId: string): Order | null {
    const row = this.selectOrder.get(clientOrderId) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as Order) : null;
  }

  loadOpenOrders(): Order[] {
    const rows = this.db
      .prepare(
        `SELECT body FROM orders WHERE state NOT IN ('filled', 'canceled', 'rejected', 'expired') ORDER BY created_ms, rowid`,
      )
      .all() as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as Order);
  }

  loadOrders(filter: { fromMs?: number; limit: number }): Order[] {
    const rows = this.db
      .prepare('SELECT body FROM orders WHERE updated_ms >= ? ORDER BY updated_ms DESC LIMIT ?')
      .all(filter.fromMs ?? 0, filter.limit) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as Order);
  }

  loadFills(): Fill[] {
    const rows = this.db.prepare('SELECT body FROM fills ORDER BY ts_ms, rowid').all() as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as Fill);
  }

  recentFills(limit: number): Fill[] {
    const rows = this.db
      .prepare('SELECT body FROM fills ORDER BY ts_ms DESC, rowid DESC LIMIT ?')
      .all(limit) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as Fill);
  }

  lastFillMs(): number {
    const row = this.db.prepare('SELECT MAX(ts_ms) AS ts FROM fills').get() as { ts: number | null };
    return row.ts ?? 0;
  }

  private write(order: Order): void {
    this.upsertOrder.run(
      order.clientOrderId,
      order.venue,
      order.account,
      order.symbol,
      order.strategyId,
      order.state,
      order.createdMs,
      order.updatedMs,
      JSON.stringify(order),
    );
  }
}
