import type { Scheduler } from '../clock.ts';
import type { RandomSource } from '../random.ts';
import type { BookSnapshot } from '../../../shared/market.ts';
import type { Fill, MarketRules, Order, OrderState } from '../../../shared/trading.ts';
import {
  BINANCE_CLIENT_ORDER_ID_PATTERN,
  type Broker,
  type CancelOutcome,
  type FillListener,
  type OrderUpdateListener,
  type SubmitOutcome,
  type VenueOrder,
} from './broker.ts';
import { floorToStep } from './precision.ts';

/**
 * Where the paper broker sees the market: the demo venue (feed-book-source.ts adapts any
 * MarketFeed) or a live feed's book. `subscribe` calls back after each book change.
 */
export interface BookSource {
  book(symbol: string): BookSnapshot | null;
  /** Last traded price (for stop triggers); falls back to the mid when no trade was seen. */
  lastPrice(symbol: string): number | null;
  subscribe(symbol: string, onChange: () => void): () => void;
}

/**
 * Optional durability for the simulated venue (the venue's own state, separate from ledger.db):
 * with it, a paper account survives restarts and reconciliation works exactly as against a real
 * venue. paper-store.ts keeps it in paper-venue.db.
 */
export interface PaperVenueStore {
  saveOrder(order: PaperOrder): void;
  /** The fill and the order's new state, in one transaction. */
  saveFill(fill: Fill, order: PaperOrder): void;
  loadOrders(): PaperOrder[];
  loadFills(): Fill[];
  nextId(): number;
}

export interface PaperOrder {
  order: Order;
  venueOrderId: string;
  state: OrderState;
  filledQuantity: number;
  averageFillPrice: number;
  updatedMs: number;
  /** Trailing stops: best price seen since acceptance. */
  trailAnchor: number | null;
  /** Stops: set once triggered (then it works as a market or limit order). */
  isTriggered: boolean;
}

export interface LatencyModel {
  /** One-way delay of a request to the venue and back, in ms. */
  delayMs(): number;
}

/** Base + exponential jitter (heavy right tail, like real round trips). */
export function jitterLatency(baseMs: number, meanJitterMs: number, random: RandomSource): LatencyModel {
  return {
    delayMs: () => Math.round(baseMs + (meanJitterMs > 0 ? -Math.log(1 - random.next()) * meanJitterMs : 0)),
  };
}

export interface PaperBrokerOptions {
  scheduler: Scheduler;
  books: BookSource;
  rules: readonly MarketRules[];
  latency?: LatencyModel;
  store?: PaperVenueStore;
  venue?: string;
  quoteCurrency?: string;
}

/**
 * A simulated venue filling against a real book: market orders walk the book level by level
 * (liquidity we took stays taken until the next snapshot), limit orders take what crosses and
 * rest the remainder, resting orders fill as maker when the book crosses them, IOC/FOK/post-only
 * honoured, stops and trailing stops trigger on the last price, maker/taker fees from the market
 * rules, and every request and reply delayed by the latency model on the injected scheduler.
 */
export class PaperBroker implements Broker {
  readonly venue: string;
  readonly clientOrderIdPattern = BINANCE_CLIENT_ORDER_ID_PATTERN;
  private readonly scheduler: Scheduler;
  private readonly books: BookSource;
  private readonly rules = new Map<string, MarketRules>();
  private readonly latency: LatencyModel;
  private readonly store: PaperVenueStore | null;
  private readonly quoteCurrency: string;
  private readonly orders = new Map<string, PaperOrder>();
  private readonly fills: Fill[] = [];
  private readonly fillListeners = new Set<FillListener>();
  private readonly updateListeners = new Set<OrderUpdateListener>();
  private readonly bookSubscriptions = new Map<string, () => void>();
  /** Quantity already taken at a price level of the current snapshot (key `${symbol}|${side}|${price}`). */
  private readonly taken = new Map<string, number>();
  private readonly snapshotSeen = new Map<string, number>();
  private memoryId = 0;

  constructor(options: PaperBrokerOptions) {
    this.venue = options.venue ?? 'paper';
    this.scheduler = options.scheduler;
    this.books = options.books;
    for (const r of options.rules) this.rules.set(r.symbol, r);
    this.latency = options.latency ?? { delayMs: () => 0 };
    this.store = options.store ?? null;
    this.quoteCurrency = options.quoteCurrency ?? 'USDT';
    if (this.store) {
      for (const o of this.store.loadOrders()) this.orders.set(o.order.clientOrderId, o);
      this.fills.push(...this.store.loadFills());
      for (const o of this.orders.values()) if (isOpen(o.state)) this.watch(o.order.symbol);
    }
  }

  marketRules(symbol: string): MarketRules | null {
    return this.rules.get(symbol) ?? null;
  }

  submit(order: Order): Promise<SubmitOutcome> {
    return this.afterLatency(() => this.accept(order));
  }

  cancel(order: Order): Promise<CancelOutcome> {
    return this.afterLatency((): CancelOutcome => {
      const o = this.orders.get(order.clientOrderId);
      if (!o || !isOpen(o.state))
        return { kind: 'not-found', reason: o ? `order is ${o.state}` : 'no such order' };
      this.setState(o, 'canceled');
      return { kind: 'canceled' };
    });
  }

  findByClientId(clientOrderId: string): Promise<VenueOrder | null> {
    return this.afterLatency(() => {
      const o = this.orders.get(clientOrderId);
      return o ? venueView(o) : null;
    });
  }

  openOrders(): Promise<VenueOrder[]> {
    return this.afterLatency(() => [...this.orders.values()].filter((o) => isOpen(o.state)).map(venueView));
  }

  fillsSince(sinceMs: number): Promise<Fill[]> {
    return this.afterLatency(() => this.fills.filter((f) => f.tsMs >= sinceMs));
  }

  onFill(listener: FillListener): () => void {
    this.fillListeners.add(listener);
    return () => this.fillListeners.delete(listener);
  }

  onOrderUpdate(listener: OrderUpdateListener): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  /** Stops watching books (the simulated venue keeps its state). */
  close(): void {
    for (const u of this.bookSubscriptions.values()) u();
    this.bookSubscriptions.clear();
  }

  private afterLatency<T>(fn: () => T): Promise<T> {
    const delay = this.latency.delayMs();
    return new Promise<T>((resolve, reject) => {
      this.scheduler.schedule(delay, () => {
        try {
          resolve(fn());
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }

  private nextId(): number {
    return this.store ? this.store.nextId() : ++this.memoryId;
  }

  private accept(order: Order): SubmitOutcome {
    const existing = this.orders.get(order.clientOrderId);
    // Binance: a client id already used by an open order is refused (a re-send would be a duplicate).
    if (existing) return { kind: 'rejected', reason: `duplicate client order id ${order.clientOrderId}` };
    const rules = this.rules.get(order.symbol);
    if (!rules) return { kind: 'rejected', reason: `unknown symbol ${order.symbol}` };
    if (order.quantity < rules.minQuantity || order.quantity > rules.maxQuantity) {
      return {
        kind: 'rejected',
        reason: `quantity ${order.quantity} outside [${rules.minQuantity}, ${rules.maxQuantity}]`,
      };
    }
    const book = this.currentBook(order.symbol);
    if (!book) return { kind: 'rejected', reason: `no market data for ${order.symbol}` };
    if (order.isPostOnly && order.price !== null && this.crosses(order.side, order.price, book)) {
      return { kind: 'rejected', reason: 'post-only order would take liquidity' };
    }
    if (order.tif === 'FOK' && (order.type === 'market' || order.type === 'limit')) {
      const available = this.availableQuantity(
        order.symbol,
        order.side,
        order.type === 'limit' ? order.price : null,
        book,
      );
      if (available < order.quantity) {
        const paper = this.record(order, 'expired');
        this.emitUpdate(paper);
        return { kind: 'accepted', venueOrderId: paper.venueOrderId };
      }
    }
    if (order.type === 'market' && this.availableQuantity(order.symbol, order.side, null, book) <= 0) {
      return { kind: 'rejected', reason: 'no liquidity on the book' };
    }
    const paper = this.record(order, 'accepted');
    this.watch(order.symbol);
    this.work(paper, true);
    return { kind: 'accepted', venueOrderId: paper.venueOrderId };
  }

  private record(order: Order, state: OrderState): PaperOrder {
    const paper: PaperOrder = {
      order: { ...order },
      venueOrderId: `P${this.nextId()}`,
      state,
      filledQuantity: 0,
      averageFillPrice: 0,
      updatedMs: Math.floor(this.scheduler.nowMs()),
      trailAnchor: null,
      isTriggered: false,
    };
    this.orders.set(order.clientOrderId, paper);
    this.store?.saveOrder(paper);
    return paper;
  }

  private watch(symbol: string): void {
    if (this.bookSubscriptions.has(symbol)) return;
    this.bookSubscriptions.set(
      symbol,
      this.books.subscribe(symbol, () => this.onBook(symbol)),
    );
  }

  private onBook(symbol: string): void {
    for (const o of this.orders.values()) {
      if (o.order.symbol === symbol && isOpen(o.state)) this.work(o, false);
    }
  }

  private currentBook(symbol: string): BookSnapshot | null {
    const book = this.books.book(symbol);
    if (!book) return null;
    if (this.snapshotSeen.get(symbol) !== book.tsMs) {
      // A new snapshot replaces the liquidity we consumed from the previous one.
      this.snapshotSeen.set(symbol, book.tsMs);
      for (const key of [...this.taken.keys()]) if (key.startsWith(`${symbol}|`)) this.taken.delete(key);
    }
    return book;
  }

  private crosses(side: 'buy' | 'sell', price: number, book: BookSnapshot): boolean {
    if (side === 'buy') return book.asks.length > 0 && price >= book.asks[0]!.price;
    return book.bids.length > 0 && price <= book.bids[0]!.price;
  }

  private availableQuantity(
    symbol: string,
    side: 'buy' | 'sell',
    limit: number | null,
    book: BookSnapshot,
  ): number {
    let total = 0;
    for (const level of side === 'buy' ? book.asks : book.bids) {
      if (limit !== null && (side === 'buy' ? level.price > limit : level.price < limit)) break;
      total += Math.max(0, level.quantity - (this.taken.get(`${symbol}|${side}|${level.price}`) ?? 0));
    }
    return total;
  }

  /** Tries to trigger and fill an open order against the current book (isArrival: it just came in, so it takes). */
  private work(o: PaperOrder, isArrival: boolean): void {
    const order = o.order;
    const book = this.currentBook(order.symbol);
    if (!book) return;
    const last = this.books.lastPrice(order.symbol) ?? mid(book);
    if (last === null) return;
    let limit: number | null = order.type === 'limit' ? order.price : null;
    if (
      order.type === 'stop' ||
      order.type === 'stop-limit' ||
      order.type === 'take-profit' ||
      order.type === 'trailing-stop'
    ) {
      if (!o.isTriggered) {
        if (!this.isTriggered(o, last)) return;
        o.isTriggered = true;
        this.store?.saveOrder(o);
      }
      limit =
        order.type === 'stop-limit' || (order.type === 'take-profit' && order.price !== null)
          ? order.price
          : null;
    }
    const remaining = order.quantity - o.filledQuantity;
    const levels = order.side === 'buy' ? book.asks : book.bids;
    const rules = this.rules.get(order.symbol)!;
    let left = remaining;
    for (const level of levels) {
      if (left <= 0) break;
      if (limit !== null && (order.side === 'buy' ? level.price > limit : level.price < limit)) break;
      const key = `${order.symbol}|${order.side}|${level.price}`;
      const free = level.quantity - (this.taken.get(key) ?? 0);
      if (free <= 0) continue;
      const quantity = floorToStep(Math.min(free, left), rules.quantityStep);
      if (quantity <= 0) continue;
      this.taken.set(key, (this.taken.get(key) ?? 0) + quantity);
      // A resting limit order that the market moved through fills at its own price, as maker.
      const isMaker = !isArrival && limit !== null && order.type === 'limit';
      const price = isMaker ? limit! : level.price;
      this.fill(o, quantity, price, isMaker, rules);
      left = order.quantity - o.filledQuantity;
    }
    if (o.state === 'filled') return;
    if (order.type === 'market' || order.tif === 'IOC' || order.tif === 'FOK') {
      // Unfilled rest of an IOC (and of a market order that ran out of book) is cancelled.
      this.setState(o, o.filledQuantity > 0 ? 'canceled' : 'expired');
    }
  }

  private isTriggered(o: PaperOrder, last: number): boolean {
    const order = o.order;
    if (order.type === 'trailing-stop') {
      const t = order.trailing!;
      const best =
        o.trailAnchor === null
          ? last
          : order.side === 'sell'
            ? Math.max(o.trailAnchor, last)
            : Math.min(o.trailAnchor, last);
      if (best !== o.trailAnchor) {
        o.trailAnchor = best;
        this.store?.saveOrder(o);
      }
      const offset = t.offsetQuote ?? best * (t.offsetFraction ?? 0);
      return order.side === 'sell' ? last <= best - offset : last >= best + offset;
    }
    const stop = order.stopPrice!;
    // Stops trigger on adverse moves (sell below, buy above); take-profits on favourable ones.
    if (order.type === 'take-profit') return order.side === 'sell' ? last >= stop : last <= stop;
    return order.side === 'sell' ? last <= stop : last >= stop;
  }

  private fill(o: PaperOrder, quantity: number, price: number, isMaker: boolean, rules: MarketRules): void {
    const filled = o.filledQuantity + quantity;
    o.averageFillPrice = (o.averageFillPrice * o.filledQuantity + price * quantity) / filled;
    o.filledQuantity = filled;
    const fee = price * quantity * (isMaker ? rules.makerFeeRate : rules.takerFeeRate);
    const fill: Fill = {
      fillId: `${this.venue}-t${this.nextId()}`,
      clientOrderId: o.order.clientOrderId,
      venueOrderId: o.venueOrderId,
      symbol: o.order.symbol,
      side: o.order.side,
      price,
      quantity,
      fee,
      feeCurrency: this.quoteCurrency,
      tsMs: Math.floor(this.scheduler.nowMs()),
      isMaker,
      strategyId: o.order.strategyId,
    };
    this.fills.push(fill);
    o.state = filled >= o.order.quantity * (1 - 1e-9) ? 'filled' : 'partially-filled';
    o.updatedMs = fill.tsMs;
    this.store?.saveFill(fill, o);
    this.emitUpdate(o);
    for (const l of this.fillListeners) l(fill);
  }

  private setState(o: PaperOrder, state: OrderState): void {
    o.state = state;
    o.updatedMs = Math.floor(this.scheduler.nowMs());
    this.store?.saveOrder(o);
    this.emitUpdate(o);
  }

  private emitUpdate(o: PaperOrder): void {
    const view = venueView(o);
    for (const l of this.updateListeners) l(view);
  }
}

function isOpen(state: OrderState): boolean {
  return state === 'accepted' || state === 'partially-filled';
}

function mid(book: BookSnapshot): number | null {
  const bid = book.bids[0]?.price;
  const ask = book.asks[0]?.price;
  if (bid === undefined || ask === undefined) return bid ?? ask ?? null;
  return (bid + ask) / 2;
}

function venueView(o: PaperOrder): VenueOrder {
  return {
    clientOrderId: o.order.clientOrderId,
    venueOrderId: o.venueOrderId,
    symbol: o.order.symbol,
    side: o.order.side,
    type: o.order.type,
    quantity: o.order.quantity,
    price: o.order.price,
    state: o.state,
    filledQuantity: o.filledQuantity,
    averageFillPrice: o.averageFillPrice,
    updatedMs: o.updatedMs,
  };
}
