import type { Clock, Scheduler } from '../clock.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import type { Broker, SubmitOutcome, VenueOrder } from './broker.ts';
import type { OrderJournal } from './journal.ts';
import { canTransition } from './order-state.ts';
import { StepGrid } from './precision.ts';
import { appError } from '../../../shared/errors.ts';
import {
  isTerminalOrderState,
  type Fill,
  type Order,
  type OrderIntent,
  type OrderState,
  type RiskVerdict,
} from '../../../shared/trading.ts';

/** The risk engine as the order manager uses it (main/core/risk/risk-engine.ts implements it). */
export interface PreTradeGate {
  /** Evaluates every pre-trade rule for a fully formed (rounded) order (isDetailed: messages for passed checks too). */
  check(order: Order, isDetailed?: boolean): RiskVerdict;
  /** The order passed and was persisted: rate and duplicate windows count it. */
  recordSubmitted(order: Order): void;
}

export interface OrderManagerLog {
  warn(object: Record<string, unknown>, message: string): void;
  info(object: Record<string, unknown>, message: string): void;
}

export type SubmitResult =
  | { status: 'risk-rejected'; order: null; verdict: RiskVerdict }
  | { status: 'sent'; order: Order; verdict: RiskVerdict };

export interface OrderManagerOptions {
  broker: Broker;
  journal: OrderJournal;
  portfolio: Portfolio;
  clock: Clock | Scheduler;
  account: string;
  risk?: PreTradeGate;
  log?: OrderManagerLog;
  /** A submit not answered within this time is UNKNOWN (never re-sent). Needs a Scheduler. */
  submitTimeoutMs?: number;
  /** Prefix of client order ids (venue format permitting); makes ids unique across sessions. */
  clientIdPrefix?: string;
}

export type OrderListener = (order: Order) => void;

interface Subscription<L> {
  listener: L;
  isBorrowing: boolean;
}

function subscribe<L>(set: Set<Subscription<L>>, listener: L, isBorrowing: boolean): () => void {
  const subscription = { listener, isBorrowing };
  set.add(subscription);
  return () => set.delete(subscription);
}
export type FillEventListener = (fill: Fill, order: Order | null) => void;

const DEFAULT_SUBMIT_TIMEOUT_MS = 10_000;
// The audit payload handed to a journal that keeps none (OrderJournal.isKeepingAudit false): the
// records are not built at all, so a backtest does not pay for what it would drop.
const NOT_KEPT: Record<string, unknown> = Object.freeze({});

/**
 * Orders from intent to terminal state, per the protocol in docs/orders.md:
 * 1. round to the market's precision, validate, run the risk gate;
 * 2. write the intent (pending-submit, unique client id) and its audit record in one journal
 *    transaction BEFORE sending;
 * 3. send with the client id: accepted -> accepted; definite refusal -> rejected; anything else
 *    -> unknown, never re-sent, resolved by asking the venue by client id (resolveUnknown,
 *    reconcile);
 * 4. fills are recorded once by fill id and applied to the portfolio once.
 * Invalid transitions are refused and logged, never applied.
 */
export class OrderManager {
  readonly account: string;
  private readonly broker: Broker;
  private readonly journal: OrderJournal;
  private readonly portfolio: Portfolio;
  private readonly clock: Clock | Scheduler;
  private risk: PreTradeGate | null;
  private readonly log: OrderManagerLog | null;
  private readonly submitTimeoutMs: number;
  private readonly clientIdPrefix: string;
  /** Orders not in a terminal state, by client id: the map stays as small as the working set. */
  private readonly working = new Map<string, Order>();
  /** Every order tracked this session, in the order first seen (allOrders). */
  private readonly tracked: Order[] = [];
  /** Client id -> order over `tracked`, extended only when an order not working is looked up. */
  private readonly trackedIndex = new Map<string, Order>();
  private indexedCount = 0;
  private readonly unknownBySymbol = new Map<string, number>();
  private readonly orderListeners = new Set<Subscription<OrderListener>>();
  private readonly fillListeners = new Set<Subscription<FillEventListener>>();
  private idSecond = NaN;
  private idHead = '';
  /** Rounding grids by step (quantity steps and tick sizes), built once per step. */
  private readonly grids = new Map<number, StepGrid>();
  private readonly unsubscribers: (() => void)[] = [];
  /** Invalid transitions refused since start (each is logged and audited). */
  refusedTransitions = 0;

  constructor(options: OrderManagerOptions) {
    this.broker = options.broker;
    this.journal = options.journal;
    this.portfolio = options.portfolio;
    this.clock = options.clock;
    this.account = options.account;
    this.risk = options.risk ?? null;
    this.log = options.log ?? null;
    this.submitTimeoutMs = options.submitTimeoutMs ?? DEFAULT_SUBMIT_TIMEOUT_MS;
    this.clientIdPrefix = options.clientIdPrefix ?? 'vt';
    for (const order of this.journal.loadOpenOrders()) this.track(order);
    this.unsubscribers.push(this.broker.onFill((fill) => this.handleFill(fill)));
    this.unsubscribers.push(this.broker.onOrderUpdate((update) => this.handleVenueUpdate(update)));
  }

  /** Detaches from the broker (does not cancel anything). */
  close(): void {
    for (const u of this.unsubscribers.splice(0)) u();
  }

  setRiskGate(risk: PreTradeGate): void {
    this.risk = risk;
  }

  /**
   * Order events, in the order listeners subscribed. A listener gets its own copy of the order,
   * unless it subscribes as borrowing: then it gets the order manager's record, which it reads
   * during the call only and never writes or keeps (the strategy engine, once per event of
   * every order of a backtest, pays no copy for it).
   */
  onOrder(listener: OrderListener, options: { isBorrowing?: boolean } = {}): () => void {
    return subscribe(this.orderListeners, listener, options.isBorrowing ?? false);
  }

  /** Fills applied, with the order they advanced (a copy, or borrowed as for onOrder). */
  onFill(listener: FillEventListener, options: { isBorrowing?: boolean } = {}): () => void {
    return subscribe(this.fillListeners, listener, options.isBorrowing ?? false);
  }

  /** Orders this session tracks that are not terminal. */
  workingOrders(): Order[] {
    const out: Order[] = [];
    for (const o of this.working.values()) out.push({ ...o });
    return out;
  }

  /** Every order tracked since start (working ones plus those that ended in this session). */
  allOrders(): Order[] {
    return this.tracked.map((o) => ({ ...o }));
  }

  get(clientOrderId: string): Order | null {
    const o = this.lookup(clientOrderId) ?? this.journal.loadOrder(clientOrderId);
    return o ? { ...o } : null;
  }

  openOrderCount(strategyId?: string): number {
    let n = 0;
    for (const o of this.working.values()) {
      if (o.isExternal) continue;
      if (strategyId === undefined || o.strategyId === strategyId) n++;
    }
    return n;
  }

  /** Risk denies new orders on an instrument while one of its orders is UNKNOWN (protocol step 5). */
  hasUnknownOrder(symbol: string): boolean {
    return (this.unknownBySymbol.get(symbol) ?? 0) > 0;
  }

  /** Rounds and validates an intent into an order (state 'new') without sending anything. */
  prepare(intent: OrderIntent): Order {
    const rules = this.broker.marketRules(intent.symbol);
    if (!rules)
      throw appError('ORDER_INVALID', `Order not sent: ${this.broker.venue} does not list ${intent.symbol}.`);
    validateIntent(intent);
    const quantity = this.grid(rules.quantityStep).floor(intent.quantity);
    if (!(quantity > 0)) {
      throw appError(
        'ORDER_INVALID',
        `Order not sent: quantity ${intent.quantity} rounds to 0 at the ${intent.symbol} step of ${rules.quantityStep}.`,
      );
    }
    const nowMs = Math.floor(this.clock.nowMs());
    const sequence = this.journal.nextOrderSequence();
    const clientOrderId = this.makeClientOrderId(nowMs, sequence);
    if (!this.broker.clientOrderIdPattern.test(clientOrderId)) {
      throw new Error(
        `client order id ${clientOrderId} does not match ${this.broker.venue}'s format ${this.broker.clientOrderIdPattern}`,
      );
    }
    return {
      clientOrderId,
      venueOrderId: null,
      venue: this.broker.venue,
      account: this.account,
      symbol: intent.symbol,
      side: intent.side,
      type: intent.type,
      quantity,
      // Buy limits round down and sell limits up: rounding never makes the price worse for us.
      price:
        intent.price === undefined
          ? null
          : intent.side === 'buy'
            ? this.grid(rules.tickSize).floor(intent.price)
            : this.grid(rules.tickSize).ceil(intent.price),
      // Stops round away from the market side's favour: a sell stop lower, a buy stop higher, never tighter.
      stopPrice:
        intent.stopPrice === undefined
          ? null
          : intent.side === 'buy'
            ? this.grid(rules.tickSize).ceil(intent.stopPrice)
            : this.grid(rules.tickSize).floor(intent.stopPrice),
      trailing: intent.trailing ?? null,
      tif: intent.tif,
      isPostOnly: intent.isPostOnly ?? false,
      isReduceOnly: intent.isReduceOnly ?? false,
      strategyId: intent.strategyId ?? 'manual',
      reason: intent.reason,
      state: 'new',
      filledQuantity: 0,
      averageFillPrice: 0,
      createdMs: nowMs,
      updatedMs: nowMs,
      message: null,
      isExternal: false,
    };
  }

  /** makeClientOrderId with the prefix and session part kept while the second is the same. */
  private makeClientOrderId(nowMs: number, sequence: number): string {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.idSecond) {
      this.idSecond = second;
      this.idHead = `${this.clientIdPrefix}_${second.toString(36)}_`;
    }
    return this.idHead + sequence.toString(36);
  }

  private grid(step: number): StepGrid {
    let grid = this.grids.get(step);
    if (!grid) {
      grid = new StepGrid(step);
      this.grids.set(step, grid);
    }
    return grid;
  }

  /** The risk verdict an intent would get now (order ticket preview); sends and records nothing. */
  preview(intent: OrderIntent): { order: Order; verdict: RiskVerdict | null } {
    const order = this.prepare(intent);
    return { order, verdict: this.risk ? this.risk.check(order, true) : null };
  }

  /**
   * Risk check, persist, send. Resolves once the venue answered (or the submit timed out into
   * UNKNOWN). Throws ORDER_INVALID for an intent that cannot become an order.
   */
  async submit(intent: OrderIntent): Promise<SubmitResult> {
    const begun = this.beginSubmit(intent);
    if (begun.status === 'risk-rejected') return begun;
    const order = begun.order;
    const outcome = this.broker.submitNow ? this.sendNow(order) : await this.sendWithTimeout(order);
    this.applySubmitOutcome(order, outcome);
    return { status: 'sent', order: { ...order }, verdict: begun.verdict };
  }

  /** Whether submitNow can be used: the venue answers inside the call (Broker.submitNow). */
  get canSubmitNow(): boolean {
    return this.broker.submitNow !== undefined;
  }

  /**
   * submit() for a venue that answers inside the call (canSubmitNow; the backtest's simulated
   * broker): the same protocol steps, done before it returns, so a backtest pays no promise per order.
   */
  submitNow(intent: OrderIntent, options: { isBorrowing?: boolean } = {}): SubmitResult {
    if (!this.broker.submitNow)
      throw new Error(`submitNow: ${this.broker.venue} answers asynchronously; use submit().`);
    const begun = this.beginSubmit(intent);
    if (begun.status === 'risk-rejected') return begun;
    const order = begun.order;
    this.applySubmitOutcome(order, this.sendNow(order));
    // Borrowing (as for onOrder): the caller reads the order during the call only.
    return { status: 'sent', order: options.isBorrowing ? order : { ...order }, verdict: begun.verdict };
  }

  /**
   * Protocol steps before sending: round and validate, risk check, then the intent and its audit
   * record persisted in one journal transaction, the order tracked (state pending-submit).
   */
  private beginSubmit(
    intent: OrderIntent,
  ):
    | { status: 'risk-rejected'; order: null; verdict: RiskVerdict }
    | { status: 'begun'; order: Order; verdict: RiskVerdict } {
    const order = this.prepare(intent);
    const verdict: RiskVerdict = this.risk
      ? this.risk.check(order)
      : { isApproved: true, checks: [], reason: null };
    const isAudited = this.journal.isKeepingAudit;
    if (!verdict.isApproved) {
      this.journal.audit(
        'risk.rejected',
        isAudited
          ? {
              clientOrderId: order.clientOrderId,
              intent: intentRecord(order),
              verdict: verdictRecord(verdict),
            }
          : NOT_KEPT,
      );
      return { status: 'risk-rejected', order: null, verdict };
    }
    order.state = 'pending-submit';
    // Protocol step 1: intent + audit in one transaction before anything is sent.
    this.journal.recordIntent(
      order,
      isAudited ? { intent: intentRecord(order), verdict: verdictRecord(verdict) } : NOT_KEPT,
    );
    this.track(order);
    this.risk?.recordSubmitted(order);
    this.emitOrder(order);
    return { status: 'begun', order, verdict };
  }

  /** A venue that answers inside the call (Broker.submitNow): no timeout to arm, no turn of the event loop. */
  private sendNow(order: Order): SubmitOutcome {
    try {
      // The order manager's own record, not a copy: the venue reads it inside the call and
      // keeps only what never changes after submission (see Broker.submitNow).
      return this.broker.submitNow!(order);
    } catch (err) {
      // A thrown error is not a refusal: the request may have reached the venue.
      return {
        kind: 'unknown',
        reason: `submit failed: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  }

  private async sendWithTimeout(order: Order): Promise<SubmitOutcome> {
    const send = this.broker.submit({ ...order }).catch(
      // A thrown error is not a refusal: the request may have reached the venue.
      (err: unknown): SubmitOutcome => ({
        kind: 'unknown',
        reason: `submit failed: ${err instanceof Error ? err.message : String(err)}`,
      }),
    );
    if (!('schedule' in this.clock)) return send;
    const scheduler = this.clock;
    let timer: { cancel(): void } | null = null;
    const timeout = new Promise<SubmitOutcome>((resolve) => {
      timer = scheduler.schedule(this.submitTimeoutMs, () =>
        resolve({ kind: 'unknown', reason: `no reply within ${this.submitTimeoutMs} ms` }),
      );
    });
    try {
      return await Promise.race([send, timeout]);
    } finally {
      (timer as { cancel(): void } | null)?.cancel();
    }
  }

  private applySubmitOutcome(order: Order, outcome: SubmitOutcome): void {
    // Fills or updates may already have moved the order on (fast venues report fills first).
    if (order.state !== 'pending-submit') {
      if (outcome.kind === 'accepted' && order.venueOrderId === null) {
        order.venueOrderId = outcome.venueOrderId;
        this.persist(order, order.state, { event: 'venue-id', venueOrderId: outcome.venueOrderId });
      }
      return;
    }
    if (outcome.kind === 'accepted') {
      order.venueOrderId = outcome.venueOrderId;
      this.transition(order, 'accepted', { event: 'accepted', venueOrderId: outcome.venueOrderId });
    } else if (outcome.kind === 'rejected') {
      order.message = outcome.reason;
      this.transition(order, 'rejected', { event: 'rejected', reason: outcome.reason });
    } else {
      order.message = outcome.reason;
      this.transition(order, 'unknown', { event: 'unknown', reason: outcome.reason });
    }
  }

  /** Requests cancellation; the order stays pending-cancel until the venue confirms. */
  async cancel(clientOrderId: string, reason = 'user'): Promise<Order> {
    const order = this.lookup(clientOrderId);
    if (!order) throw appError('NOT_FOUND', `No working order ${clientOrderId}.`);
    if (isTerminalOrderState(order.state)) {
      throw appError(
        'ORDER_STATE_INVALID',
        `Order ${clientOrderId} is already ${order.state}; nothing to cancel.`,
      );
    }
    if (order.state === 'pending-submit') {
      throw appError(
        'ORDER_STATE_INVALID',
        `Order ${clientOrderId} is still being sent; cancel it once the venue answered.`,
      );
    }
    const previous: OrderState = order.state === 'pending-cancel' ? 'accepted' : order.state;
    if (order.state !== 'pending-cancel')
      this.transition(order, 'pending-cancel', { event: 'cancel-requested', reason });
    const outcome = await this.broker
      .cancel({ ...order })
      .catch(
        (err: unknown) =>
          ({ kind: 'unknown', reason: err instanceof Error ? err.message : String(err) }) as const,
      );
    if (order.state !== 'pending-cancel') return { ...order };
    if (outcome.kind === 'canceled') {
      this.transition(order, 'canceled', { event: 'canceled', reason });
    } else if (outcome.kind === 'not-found') {
      // Not working at the venue: ask what became of it rather than guessing.
      const venueOrder = await this.broker
        .findByClientId(order.clientOrderId, order.symbol)
        .catch(() => null);
      if (venueOrder) this.handleVenueUpdate(venueOrder);
      else if (order.state === 'pending-cancel') {
        this.transition(order, previous === 'unknown' ? 'rejected' : 'expired', {
          event: 'not-found-at-venue',
          reason: outcome.reason,
        });
      }
    } else {
      order.message = `cancel outcome unknown: ${outcome.reason}`;
      this.transition(order, 'unknown', { event: 'cancel-unknown', reason: outcome.reason });
    }
    return { ...order };
  }

  /** Cancels every working order (optionally of one strategy or symbol); returns how many were asked. */
  async cancelAll(
    filter: { strategyId?: string; symbol?: string } = {},
    reason = 'cancel-all',
  ): Promise<number> {
    const targets = [...this.working.values()].filter(
      (o) =>
        o.state !== 'pending-submit' &&
        !o.isExternal &&
        (filter.strategyId === undefined || o.strategyId === filter.strategyId) &&
        (filter.symbol === undefined || o.symbol === filter.symbol),
    );
    await Promise.all(targets.map((o) => this.cancel(o.clientOrderId, reason).catch(() => undefined)));
    return targets.length;
  }

  /**
   * Asks the venue about every UNKNOWN order by client id; never re-sends. An order the venue does
   * not know is closed as rejected only after graceMs (it may still be in flight to the venue).
   */
  async resolveUnknown(graceMs = 30_000): Promise<number> {
    let resolved = 0;
    for (const order of [...this.working.values()]) {
      if (order.state !== 'unknown') continue;
      const venueOrder = await this.broker
        .findByClientId(order.clientOrderId, order.symbol)
        .catch(() => undefined);
      if (venueOrder === undefined || order.state !== 'unknown') continue; // venue unreachable, or resolved meanwhile
      if (venueOrder === null) {
        if (Math.floor(this.clock.nowMs()) - order.updatedMs < graceMs) continue;
        // The venue never received it: the intent is kept (no loss) and closed as rejected (no re-send).
        order.message = 'the venue has no order with this client id; it was never received';
        this.transition(order, 'rejected', { event: 'not-found-at-venue' });
      } else {
        this.handleVenueUpdate(venueOrder);
      }
      resolved++;
    }
    return resolved;
  }

  /**
   * Start-up / reconnect reconciliation (protocol step 4): local open orders by client id, venue
   * open orders (unknown ones recorded as EXTERNAL), fills since the last checkpoint applied
   * idempotently by venue trade id. Runs before any strategy.
   */
  async reconcile(): Promise<{ resolved: number; external: number; fillsApplied: number }> {
    const resolved = await this.resolveLocalOpen();
    let external = 0;
    for (const venueOrder of await this.broker.openOrders()) {
      if (this.lookup(venueOrder.clientOrderId) || this.journal.loadOrder(venueOrder.clientOrderId)) continue;
      const order = externalOrder(venueOrder, this.broker.venue, this.account);
      this.journal.recordIntent(order, { external: true, venueOrder: { ...venueOrder } });
      this.track(order);
      this.emitOrder(order);
      external++;
    }
    // Ask for fills from a minute before the last one we know: the venue's clock and ours differ.
    const sinceMs = Math.max(0, this.journal.lastFillMs() - 60_000);
    let fillsApplied = 0;
    for (const fill of await this.broker.fillsSince(sinceMs)) if (this.handleFill(fill)) fillsApplied++;
    const summary = { resolved, external, fillsApplied };
    this.journal.audit('reconciliation', {
      ...summary,
      venue: this.broker.venue,
      account: this.account,
      sinceMs,
    });
    return summary;
  }

  private async resolveLocalOpen(): Promise<number> {
    let resolved = 0;
    for (const order of [...this.working.values()]) {
      if (order.isExternal) continue;
      const venueOrder = await this.broker.findByClientId(order.clientOrderId, order.symbol);
      if (venueOrder) this.handleVenueUpdate(venueOrder);
      else if (order.state === 'pending-submit' || order.state === 'unknown') {
        order.message = 'the venue has no order with this client id; it was never received';
        this.transition(order, 'rejected', { event: 'not-found-at-venue' });
      } else {
        order.message = 'no longer known to the venue';
        this.transition(order, 'expired', { event: 'not-found-at-venue' });
      }
      resolved++;
    }
    return resolved;
  }

  /** A fill from the venue: recorded once (with the order's progress, atomically), applied to the portfolio once. */
  handleFill(fill: Fill): boolean {
    const order = this.lookup(fill.clientOrderId) ?? null;
    const withStrategy =
      order && fill.strategyId !== order.strategyId ? { ...fill, strategyId: order.strategyId } : fill;
    if (!order) {
      if (!this.journal.recordFill(withStrategy, null)) return false;
      this.portfolio.applyFill(withStrategy);
      for (const s of this.fillListeners) s.listener(withStrategy, null);
      return true;
    }
    // The order's progress is written into it and persisted with the fill in one transaction; a
    // fill the journal already knows changes nothing, so the previous values are put back.
    const previousFilled = order.filledQuantity;
    const previousAverage = order.averageFillPrice;
    const previousVenueOrderId = order.venueOrderId;
    const previousUpdatedMs = order.updatedMs;
    const previousState = order.state;
    const filled = previousFilled + fill.quantity;
    order.filledQuantity = filled;
    order.averageFillPrice = (previousAverage * previousFilled + fill.price * fill.quantity) / filled;
    order.venueOrderId = previousVenueOrderId ?? fill.venueOrderId;
    order.updatedMs = Math.floor(this.clock.nowMs());
    const target: OrderState = filled >= order.quantity * (1 - 1e-9) ? 'filled' : 'partially-filled';
    if (target !== previousState) {
      if (canTransition(previousState, target)) order.state = target;
      else {
        this.refusedTransitions++;
        this.log?.warn(
          { clientOrderId: order.clientOrderId, from: previousState, to: target, fillId: fill.fillId },
          'invalid order transition refused',
        );
      }
    }
    if (!this.journal.recordFill(withStrategy, order)) {
      order.filledQuantity = previousFilled;
      order.averageFillPrice = previousAverage;
      order.venueOrderId = previousVenueOrderId;
      order.updatedMs = previousUpdatedMs;
      order.state = previousState;
      return false;
    }
    this.portfolio.applyFill(withStrategy);
    if (previousState === 'unknown' && order.state !== 'unknown') this.adjustUnknown(order.symbol, -1);
    if (isTerminalOrderState(order.state)) this.working.delete(order.clientOrderId);
    this.emitOrder(order);
    // One copy, made for the first listener that is not borrowing, as for order events.
    let copy: Order | null = null;
    for (const s of this.fillListeners)
      s.listener(withStrategy, s.isBorrowing ? order : (copy ??= { ...order }));
    return true;
  }

  /** An order update from the venue (user stream, query reply). Fills arrive separately via handleFill. */
  handleVenueUpdate(update: VenueOrder): void {
    const order = this.lookup(update.clientOrderId);
    if (!order) return;
    if (update.venueOrderId && !order.venueOrderId) order.venueOrderId = update.venueOrderId;
    let target = update.state;
    // Fill-driven states come from handleFill so quantities and the portfolio stay consistent; a
    // venue saying 'filled' before its fills arrive leaves the order where the fills put it.
    if (target === 'filled' || target === 'partially-filled') {
      if (order.state === 'pending-submit' || order.state === 'unknown') target = 'accepted';
      else return;
    }
    if (target === order.state) return;
    if (
      target === 'pending-submit' ||
      target === 'new' ||
      target === 'unknown' ||
      target === 'pending-cancel'
    )
      return;
    this.transition(order, target, {
      event: 'venue-update',
      venueState: update.state,
      venueOrderId: update.venueOrderId,
    });
  }

  private transition(order: Order, to: OrderState, detail: Record<string, unknown>): boolean {
    const from = order.state;
    if (!canTransition(from, to)) {
      this.refusedTransitions++;
      this.log?.warn(
        { clientOrderId: order.clientOrderId, from, to, detail },
        'invalid order transition refused',
      );
      this.journal.audit('order.transition-refused', {
        clientOrderId: order.clientOrderId,
        from,
        to,
        detail,
      });
      return false;
    }
    if (from === 'unknown') this.adjustUnknown(order.symbol, -1);
    if (to === 'unknown') this.adjustUnknown(order.symbol, +1);
    order.state = to;
    if (isTerminalOrderState(to)) this.working.delete(order.clientOrderId);
    this.persist(order, from, detail);
    return true;
  }

  private persist(order: Order, from: OrderState, detail: Record<string, unknown>): void {
    order.updatedMs = Math.floor(this.clock.nowMs());
    this.journal.recordTransition(
      order,
      from,
      this.journal.isKeepingAudit
        ? {
            clientOrderId: order.clientOrderId,
            from,
            to: order.state,
            filledQuantity: order.filledQuantity,
            ...detail,
          }
        : NOT_KEPT,
    );
    this.emitOrder(order);
  }

  private adjustUnknown(symbol: string, delta: number): void {
    const n = (this.unknownBySymbol.get(symbol) ?? 0) + delta;
    if (n <= 0) this.unknownBySymbol.delete(symbol);
    else this.unknownBySymbol.set(symbol, n);
  }

  private track(order: Order): void {
    this.tracked.push(order);
    if (!isTerminalOrderState(order.state)) this.working.set(order.clientOrderId, order);
    if (order.state === 'unknown') this.adjustUnknown(order.symbol, +1);
  }

  /** The order this session tracks with this client id, working or ended. */
  private lookup(clientOrderId: string): Order | undefined {
    const order = this.working.get(clientOrderId);
    if (order) return order;
    const tracked = this.tracked;
    for (; this.indexedCount < tracked.length; this.indexedCount++) {
      const o = tracked[this.indexedCount]!;
      this.trackedIndex.set(o.clientOrderId, o);
    }
    return this.trackedIndex.get(clientOrderId);
  }

  private emitOrder(order: Order): void {
    // One copy, made for the first listener that is not borrowing, shared by all that are not.
    let copy: Order | null = null;
    for (const s of this.orderListeners) s.listener(s.isBorrowing ? order : (copy ??= { ...order }));
  }
}

/**
 * `<prefix>_<session base36>_<sequence base36>`: within Binance's `^[.A-Z:/a-z0-9_-]{1,36}$`,
 * unique because the sequence is persisted and never reused.
 */
export function makeClientOrderId(prefix: string, nowMs: number, sequence: number): string {
  return `${prefix}_${Math.floor(nowMs / 1000).toString(36)}_${sequence.toString(36)}`;
}

function invalid(intent: OrderIntent, message: string): never {
  throw appError('ORDER_INVALID', `Order not sent: ${message}`, { symbol: intent.symbol });
}

function checkPositive(intent: OrderIntent, v: number | undefined, name: string): void {
  if (v !== undefined && (!Number.isFinite(v) || v <= 0))
    invalid(intent, `${name} must be a positive number, got ${v}.`);
}

function validateIntent(intent: OrderIntent): void {
  if (!Number.isFinite(intent.quantity) || intent.quantity <= 0)
    invalid(intent, `quantity must be a positive number, got ${intent.quantity}.`);
  checkPositive(intent, intent.price, 'price');
  checkPositive(intent, intent.stopPrice, 'stop price');
  switch (intent.type) {
    case 'market':
      if (intent.price !== undefined) invalid(intent, 'a market order takes no limit price.');
      if (intent.isPostOnly) invalid(intent, 'a market order cannot be post-only.');
      break;
    case 'limit':
      if (intent.price === undefined) invalid(intent, 'a limit order needs a price.');
      break;
    case 'stop':
      if (intent.stopPrice === undefined) invalid(intent, 'a stop order needs a stop price.');
      break;
    case 'stop-limit':
      if (intent.stopPrice === undefined || intent.price === undefined)
        invalid(intent, 'a stop-limit order needs a stop price and a limit price.');
      break;
    case 'take-profit':
      if (intent.stopPrice === undefined)
        invalid(intent, 'a take-profit order needs a trigger (stop) price.');
      break;
    case 'trailing-stop': {
      const t = intent.trailing;
      const hasFraction = t?.offsetFraction !== undefined;
      const hasQuote = t?.offsetQuote !== undefined;
      if (!t || hasFraction === hasQuote)
        invalid(intent, 'a trailing stop needs exactly one of offsetFraction or offsetQuote.');
      if (hasFraction && !(t!.offsetFraction! > 0 && t!.offsetFraction! < 1))
        invalid(intent, 'trailing offset fraction must be in (0, 1).');
      if (hasQuote && !(t!.offsetQuote! > 0 && Number.isFinite(t!.offsetQuote!)))
        invalid(intent, 'trailing offset must be a positive number.');
      break;
    }
  }
  if (intent.isPostOnly && intent.tif !== 'GTC')
    invalid(intent, 'post-only orders must be GTC (an IOC/FOK post-only order could never rest).');
  if (intent.isPostOnly && intent.type !== 'limit') invalid(intent, 'only limit orders can be post-only.');
}

function intentRecord(order: Order): Record<string, unknown> {
  return {
    clientOrderId: order.clientOrderId,
    venue: order.venue,
    account: order.account,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    quantity: order.quantity,
    price: order.price,
    stopPrice: order.stopPrice,
    trailing: order.trailing,
    tif: order.tif,
    isPostOnly: order.isPostOnly,
    isReduceOnly: order.isReduceOnly,
    strategyId: order.strategyId,
    reason: order.reason,
  };
}

export function verdictRecord(verdict: RiskVerdict): Record<string, unknown> {
  return {
    isApproved: verdict.isApproved,
    reason: verdict.reason,
    checks: verdict.checks.map((c) => ({
      check: c.check,
      isPassed: c.isPassed,
      value: c.value,
      limit: c.limit,
      unit: c.unit,
    })),
  };
}

function externalOrder(v: VenueOrder, venue: string, account: string): Order {
  return {
    clientOrderId: v.clientOrderId,
    venueOrderId: v.venueOrderId,
    venue,
    account,
    symbol: v.symbol,
    side: v.side,
    type: v.type,
    quantity: v.quantity,
    price: v.price,
    stopPrice: null,
    trailing: null,
    tif: 'GTC',
    isPostOnly: false,
    isReduceOnly: false,
    strategyId: 'external',
    reason: 'found on the venue by reconciliation; not placed by Vantage',
    state: v.state === 'pending-submit' || v.state === 'new' ? 'accepted' : v.state,
    filledQuantity: v.filledQuantity,
    averageFillPrice: v.averageFillPrice,
    createdMs: v.updatedMs,
    updatedMs: v.updatedMs,
    message: 'EXTERNAL: not placed by Vantage',
    isExternal: true,
  };
}
