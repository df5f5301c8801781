import type { Fill, Order, OrderState } from '../../../shared/trading.ts';

/**
 * Where the order manager persists orders, their transitions, fills and the audit records that go
 * with them. Live and paper trading use the SQLite ledger (sqlite-journal.ts: intent and audit in
 * one ledger.db transaction before anything is sent); backtests use MemoryOrderJournal so the hot
 * loop never touches a disk.
 */
export interface OrderJournal {
  /**
   * Whether audit payloads are kept. False (the in-memory journal of a backtest, by default): the
   * payloads would be dropped, so the order manager does not build them and passes an empty one.
   */
  readonly isKeepingAudit: boolean;
  /** Unique, never reused client order id sequence number (survives restarts when durable). */
  nextOrderSequence(): number;
  /** Persists a new order (state pending-submit) and its audit record atomically, before sending. */
  recordIntent(order: Order, audit: Record<string, unknown>): void;
  /** Persists an order's new state and the audit record of the transition atomically. */
  recordTransition(order: Order, fromState: OrderState, audit: Record<string, unknown>): void;
  /**
   * Persists a fill with its audit record and, in the same transaction, the order it advanced
   * (so a crash never leaves a recorded fill without its order progress); false (nothing written)
   * when the fill id is known.
   */
  recordFill(fill: Fill, order: Order | null): boolean;
  /** Any other audited event (risk verdict, kill switch, limit change, reconciliation). */
  audit(type: string, payload: Record<string, unknown>): void;
  loadOrder(clientOrderId: string): Order | null;
  /** Orders not in a terminal state, oldest first. */
  loadOpenOrders(): Order[];
  /** Every fill, oldest first (to rebuild the portfolio at start-up). */
  loadFills(): Fill[];
  /** Latest fill time known (reconciliation asks the venue for fills since a little before it). */
  lastFillMs(): number;
}

/**
 * In-memory journal for backtests and tests: same semantics, no durability. With
 * isKeepingRecords false (a backtest) it keeps only the order sequence: the order manager holds
 * the orders, the broker the fills and the portfolio the fill ids it applied, and the backtest's
 * simulated venue never repeats a fill, so copies here would only be memory a long run pays for.
 */
export class MemoryOrderJournal implements OrderJournal {
  private sequence = 0;
  private readonly orders = new Map<string, Order>();
  private readonly fillIds = new Set<string>();
  private readonly fills: Fill[] = [];
  private latestFillMs = 0;
  /** Audit records kept only when asked (backtests usually do not need them). */
  readonly auditRecords: { type: string; payload: Record<string, unknown> }[] = [];
  readonly isKeepingAudit: boolean;
  readonly isKeepingRecords: boolean;

  constructor(options: { isKeepingAudit?: boolean; isKeepingRecords?: boolean } = {}) {
    this.isKeepingAudit = options.isKeepingAudit ?? false;
    this.isKeepingRecords = options.isKeepingRecords ?? true;
  }

  nextOrderSequence(): number {
    return ++this.sequence;
  }

  recordIntent(order: Order, audit: Record<string, unknown>): void {
    if (this.isKeepingRecords) {
      if (this.orders.has(order.clientOrderId))
        throw new Error(`duplicate client order id ${order.clientOrderId}`);
      this.orders.set(order.clientOrderId, { ...order });
    }
    if (this.isKeepingAudit) this.auditRecords.push({ type: 'order.intent', payload: audit });
  }

  recordTransition(order: Order, _fromState: OrderState, audit: Record<string, unknown>): void {
    if (this.isKeepingRecords) this.orders.set(order.clientOrderId, { ...order });
    if (this.isKeepingAudit) this.auditRecords.push({ type: 'order.transition', payload: audit });
  }

  recordFill(fill: Fill, order: Order | null): boolean {
    if (this.isKeepingRecords) {
      // One lookup: a known id leaves the set's size unchanged.
      const known = this.fillIds.size;
      this.fillIds.add(fill.fillId);
      if (this.fillIds.size === known) return false;
      if (order) this.orders.set(order.clientOrderId, { ...order });
      this.fills.push(fill);
    }
    if (fill.tsMs > this.latestFillMs) this.latestFillMs = fill.tsMs;
    if (this.isKeepingAudit) this.auditRecords.push({ type: 'fill', payload: { ...fill } });
    return true;
  }

  audit(type: string, payload: Record<string, unknown>): void {
    if (this.isKeepingAudit) this.auditRecords.push({ type, payload });
  }

  loadOrder(clientOrderId: string): Order | null {
    const order = this.orders.get(clientOrderId);
    return order ? { ...order } : null;
  }

  loadOpenOrders(): Order[] {
    const out: Order[] = [];
    for (const o of this.orders.values()) {
      if (o.state !== 'filled' && o.state !== 'canceled' && o.state !== 'rejected' && o.state !== 'expired')
        out.push({ ...o });
    }
    return out;
  }

  loadFills(): Fill[] {
    return [...this.fills];
  }

  lastFillMs(): number {
    return this.latestFillMs;
  }
}
