import { appError } from '../../../shared/errors.ts';
import type { FillConfig } from '../../../shared/contract/backtest.ts';
import type { Fill, MarketRules, Order, OrderState } from '../../../shared/trading.ts';
import type { Clock } from '../clock.ts';
import type {
  Broker,
  CancelOutcome,
  FillListener,
  OrderUpdateListener,
  SubmitOutcome,
  VenueOrder,
} from '../execution/broker.ts';
import { exitLevelByFraction, exitLevelByOffset } from '../risk/protective-exits.ts';

/**
 * The backtest venue: implements the same Broker interface as the paper and live brokers, so a
 * backtest drives the real order manager, risk gate and portfolio. It fills against bars with
 * the fill model below (docs/backtest-metrics.md, "Fill model"):
 *
 * - market orders decided at a bar's close fill at the next bar's open (fill 'next-open', the
 *   default) or at that bar's close (fill 'close');
 * - limit orders fill when the bar's range reaches the limit: at the limit price, or at the open
 *   when the bar opens through it (a gap); maker fee;
 * - stop, take-profit and trailing-stop orders trigger when the range reaches the trigger and fill
 *   at the trigger price, or the open when it gaps through; taker fee and slippage. A trailing
 *   stop is checked against the stop level carried from earlier bars before the bar's own high
 *   (low for a buy) moves it: the order of prices inside a bar is unknown, so the level never
 *   benefits from the same bar's extreme;
 * - stop-limit: triggers like a stop, then works as a limit at its price;
 * - slippage on taker fills: `slippageBps` of the price and/or `slippageRangeShare` of the bar's
 *   high-low range, always against the order;
 * - volume participation cap: at most `participation` x the bar's volume fills per bar and
 *   symbol (orders in arrival order); the rest stays working: partial fills;
 * - reduce-only orders never fill more than the strategy's position on this venue; an order with
 *   nothing left to reduce expires (a stop-loss after the take-profit closed the position).
 * Orders placed at a bar's close act from the next bar: the closed bar's range is the past.
 */

interface SimOrder {
  order: Order;
  venueOrderId: string;
  state: OrderState;
  filled: number;
  averagePrice: number;
  /** First bar sequence (per symbol) whose prices may fill it. */
  eligibleSeq: number;
  isTriggered: boolean;
  trailAnchor: number;
  updatedMs: number;
  /** The strategy's position in the symbol on this venue (shared by its orders). */
  position: VenuePosition;
  book: SymbolBook;
}

interface VenuePosition {
  quantity: number;
}

/** A symbol's market on the simulated venue; the backtester keeps one per series (no lookups per bar). */
export interface SymbolBook {
  symbol: string;
  rules: MarketRules;
  seq: number;
  isClosed: boolean;
  timeMs: number;
  closeMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Quantity still fillable in this bar under the participation cap. */
  budget: number;
  working: SimOrder[];
}

const FILL_PRICE_EPSILON = 1e-12;

export class SimulatedBroker implements Broker {
  readonly venue = 'backtest';
  readonly clientOrderIdPattern = /^[.A-Za-z0-9:/_-]{1,64}$/;
  private readonly config: FillConfig;
  private readonly clock: Clock;
  private readonly books = new Map<string, SymbolBook>();
  /**
   * Working orders live in their book's list; ended ones move to `ended` and are indexed by id
   * only when first looked up (a cancel that finds nothing working, an unknown order to resolve):
   * a backtest of tens of thousands of orders keeps no map entry per order.
   */
  private readonly ended: SimOrder[] = [];
  private endedIndex: Map<string, SimOrder> | null = null;
  private indexedCount = 0;
  private readonly fills: Fill[] = [];
  /** Position per strategy, then symbol (reduce-only orders never fill more than it). */
  private readonly positions = new Map<string, Map<string, VenuePosition>>();
  private readonly fillListeners = new Set<FillListener>();
  private readonly updateListeners = new Set<OrderUpdateListener>();
  private nextVenueId = 1;
  private nextFillId = 1;
  /** Notional traded (sum of |price x quantity|), for turnover. */
  tradedNotional = 0;
  workingCount = 0;
  /** Fees are charged in the account's currency (the backtest values everything in it). */
  private readonly feeCurrency: string;

  constructor(config: FillConfig, clock: Clock, symbols: readonly string[], quoteCurrency = 'USD') {
    this.config = config;
    this.clock = clock;
    this.feeCurrency = quoteCurrency;
    for (const symbol of symbols) {
      const [base = symbol, quote = quoteCurrency] = symbol.split('/');
      this.books.set(symbol, {
        symbol,
        rules: {
          symbol,
          base,
          quote,
          tickSize: config.tickSize,
          quantityStep: config.quantityStep,
          minQuantity: config.quantityStep,
          maxQuantity: Number.MAX_VALUE,
          minNotional: config.minNotional,
          makerFeeRate: config.makerFeeBps / 10_000,
          takerFeeRate: config.takerFeeBps / 10_000,
        },
        seq: 0,
        isClosed: false,
        timeMs: NaN,
        closeMs: NaN,
        open: NaN,
        high: NaN,
        low: NaN,
        close: NaN,
        volume: NaN,
        budget: Infinity,
        working: [],
      });
    }
  }

  marketRules(symbol: string): MarketRules | null {
    return this.books.get(symbol)?.rules ?? null;
  }

  submit(order: Order): Promise<SubmitOutcome> {
    return Promise.resolve(this.submitNow(order));
  }

  /**
   * The simulated venue decides inside the call (see Broker.submitNow). `order` is the order
   * manager's record: this venue reads only its fixed fields and keeps its own state in SimOrder.
   */
  submitNow(order: Order): SubmitOutcome {
    const book = this.books.get(order.symbol);
    if (!book) return { kind: 'rejected', reason: `backtest has no data for ${order.symbol}` };
    if (order.quantity * (order.price ?? book.close) < book.rules.minNotional) {
      return { kind: 'rejected', reason: `notional below the minimum of ${book.rules.minNotional}` };
    }
    const venueOrderId = `b${this.nextVenueId++}`;
    const reference = Number.isFinite(book.close) ? book.close : book.open;
    const sim: SimOrder = {
      order,
      venueOrderId,
      state: 'accepted',
      filled: 0,
      averagePrice: 0,
      // Placed after the bar closed: only later bars may fill it.
      eligibleSeq: book.isClosed ? book.seq + 1 : book.seq,
      isTriggered: false,
      trailAnchor: reference,
      updatedMs: this.clock.nowMs(),
      position: this.positionOf(order.strategyId, order.symbol),
      book,
    };
    book.working.push(sim);
    this.workingCount++;
    return { kind: 'accepted', venueOrderId };
  }

  private positionOf(strategyId: string, symbol: string): VenuePosition {
    let bySymbol = this.positions.get(strategyId);
    if (!bySymbol) {
      bySymbol = new Map();
      this.positions.set(strategyId, bySymbol);
    }
    let position = bySymbol.get(symbol);
    if (!position) {
      position = { quantity: 0 };
      bySymbol.set(symbol, position);
    }
    return position;
  }

  cancel(order: Order): Promise<CancelOutcome> {
    const sim = this.lookup(order.clientOrderId);
    if (!sim || !isWorking(sim.state))
      return Promise.resolve({ kind: 'not-found', reason: 'no working order with this id' });
    this.finish(sim, 'canceled');
    return Promise.resolve({ kind: 'canceled' });
  }

  findByClientId(clientOrderId: string): Promise<VenueOrder | null> {
    const sim = this.lookup(clientOrderId);
    return Promise.resolve(sim ? venueView(sim) : null);
  }

  openOrders(): Promise<VenueOrder[]> {
    const open: VenueOrder[] = [];
    for (const book of this.books.values()) for (const sim of book.working) open.push(venueView(sim));
    return Promise.resolve(open);
  }

  fillsSince(sinceMs: number): Promise<Fill[]> {
    return Promise.resolve(this.fills.filter((f) => f.tsMs >= sinceMs));
  }

  onFill(listener: FillListener): () => void {
    this.fillListeners.add(listener);
    return () => this.fillListeners.delete(listener);
  }

  onOrderUpdate(listener: OrderUpdateListener): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  allFills(): readonly Fill[] {
    return this.fills;
  }

  book(symbol: string): SymbolBook {
    const book = this.books.get(symbol);
    if (!book) throw appError('BACKTEST_FAILED', `no market ${symbol} in this backtest`);
    return book;
  }

  /** A new bar starts in `book`: its prices become the venue's market for fills. */
  beginBar(
    book: SymbolBook,
    timeMs: number,
    closeMs: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
  ): void {
    book.seq++;
    book.isClosed = false;
    book.timeMs = timeMs;
    book.closeMs = closeMs;
    book.open = open;
    book.high = high;
    book.low = low;
    book.close = close;
    book.volume = volume;
    book.budget = this.config.participation > 0 ? this.config.participation * volume : Infinity;
  }

  /** Market orders waiting for this bar fill at its open. */
  fillAtOpen(book: SymbolBook): void {
    if (book.working.length === 0) return;
    for (const sim of workingSnapshot(book)) {
      if (sim.order.type !== 'market' || sim.eligibleSeq > book.seq || !isWorking(sim.state)) continue;
      this.execute(book, sim, this.takerPrice(book, sim, book.open), false, book.timeMs);
    }
  }

  /** Limit, stop, take-profit and trailing orders against this bar's range. */
  fillInRange(book: SymbolBook): void {
    if (book.working.length === 0) return;
    for (const sim of workingSnapshot(book)) {
      if (sim.eligibleSeq > book.seq || !isWorking(sim.state)) continue;
      this.tryRange(book, sim);
    }
  }

  /** With marketFill 'close', market orders placed at the bar's close (book.isClosed) fill at it. */
  fillAtClose(book: SymbolBook): void {
    if (this.config.marketFill !== 'close' || book.working.length === 0) return;
    for (const sim of workingSnapshot(book)) {
      if (sim.order.type !== 'market' || !isWorking(sim.state)) continue;
      this.execute(book, sim, this.takerPrice(book, sim, book.close), false, book.closeMs);
    }
  }

  private takerPrice(book: SymbolBook, sim: SimOrder, price: number): number {
    const slip =
      price * (this.config.slippageBps / 10_000) + (book.high - book.low) * this.config.slippageRangeShare;
    return sim.order.side === 'buy' ? price + slip : Math.max(FILL_PRICE_EPSILON, price - slip);
  }

  private tryRange(book: SymbolBook, sim: SimOrder): void {
    const o = sim.order;
    const isBuy = o.side === 'buy';
    const { open, high, low } = book;
    switch (o.type) {
      case 'limit': {
        const limit = o.price!;
        if (isBuy ? low <= limit : high >= limit)
          this.execute(book, sim, isBuy ? Math.min(open, limit) : Math.max(open, limit), true, book.timeMs);
        return;
      }
      case 'stop': {
        const stop = o.stopPrice!;
        if (isBuy ? high >= stop : low <= stop)
          this.execute(
            book,
            sim,
            this.takerPrice(book, sim, isBuy ? Math.max(open, stop) : Math.min(open, stop)),
            false,
            book.timeMs,
          );
        return;
      }
      case 'take-profit': {
        const trigger = o.stopPrice!;
        if (isBuy ? low <= trigger : high >= trigger)
          this.execute(
            book,
            sim,
            this.takerPrice(book, sim, isBuy ? Math.min(open, trigger) : Math.max(open, trigger)),
            false,
            book.timeMs,
          );
        return;
      }
      case 'stop-limit': {
        const stop = o.stopPrice!;
        const limit = o.price!;
        if (!sim.isTriggered) {
          if (!(isBuy ? high >= stop : low <= stop)) return;
          sim.isTriggered = true;
          const at = isBuy ? Math.max(open, stop) : Math.min(open, stop);
          if (isBuy ? at <= limit : at >= limit) this.execute(book, sim, at, true, book.timeMs);
          return;
        }
        if (isBuy ? low <= limit : high >= limit)
          this.execute(book, sim, isBuy ? Math.min(open, limit) : Math.max(open, limit), true, book.timeMs);
        return;
      }
      case 'trailing-stop': {
        const t = o.trailing!;
        // A buy trailing stop protects a short position.
        const stop =
          t.offsetFraction !== undefined
            ? exitLevelByFraction(sim.trailAnchor, t.offsetFraction, !isBuy, 'loss')
            : exitLevelByOffset(sim.trailAnchor, t.offsetQuote!, !isBuy, 'loss');
        if (isBuy ? high >= stop : low <= stop) {
          this.execute(
            book,
            sim,
            this.takerPrice(book, sim, isBuy ? Math.max(open, stop) : Math.min(open, stop)),
            false,
            book.timeMs,
          );
          return;
        }
        sim.trailAnchor = isBuy ? Math.min(sim.trailAnchor, low) : Math.max(sim.trailAnchor, high);
        return;
      }
      default:
        return;
    }
  }

  private execute(book: SymbolBook, sim: SimOrder, price: number, isMaker: boolean, tsMs: number): void {
    const o = sim.order;
    let quantity = o.quantity - sim.filled;
    if (o.isReduceOnly) {
      const position = sim.position.quantity;
      const reducible = o.side === 'sell' ? Math.max(0, position) : Math.max(0, -position);
      if (reducible <= 0) {
        this.finish(sim, 'expired');
        return;
      }
      quantity = Math.min(quantity, reducible);
    }
    if (quantity > book.budget) quantity = floorTo(book.budget, book.rules.quantityStep);
    if (!(quantity > 0)) return;
    book.budget -= quantity;
    const rate = isMaker ? book.rules.makerFeeRate : book.rules.takerFeeRate;
    const fee = price * quantity * rate;
    sim.averagePrice = (sim.averagePrice * sim.filled + price * quantity) / (sim.filled + quantity);
    sim.filled += quantity;
    sim.updatedMs = tsMs;
    this.tradedNotional += price * quantity;
    sim.position.quantity += o.side === 'buy' ? quantity : -quantity;
    const isComplete =
      sim.filled >= o.quantity * (1 - 1e-12) ||
      (o.isReduceOnly && this.reducibleAfter(sim) <= 0 && sim.filled > 0);
    const fill: Fill = {
      fillId: `f${this.nextFillId++}`,
      clientOrderId: o.clientOrderId,
      venueOrderId: sim.venueOrderId,
      symbol: o.symbol,
      side: o.side,
      price,
      quantity,
      fee,
      feeCurrency: this.feeCurrency,
      tsMs,
      isMaker,
      strategyId: o.strategyId,
    };
    this.fills.push(fill);
    if (isComplete && sim.filled >= o.quantity * (1 - 1e-12)) this.removeWorking(sim, 'filled');
    else sim.state = 'partially-filled';
    for (const l of this.fillListeners) l(fill);
    // A reduce-only order that closed the whole position but was larger ends here (venues cancel the rest).
    if (isWorking(sim.state) && o.isReduceOnly && this.reducibleAfter(sim) <= 0) this.finish(sim, 'expired');
  }

  private reducibleAfter(sim: SimOrder): number {
    const position = sim.position.quantity;
    return sim.order.side === 'sell' ? position : -position;
  }

  /** Every order this venue accepted, working or ended, by client id. */
  private lookup(clientOrderId: string): SimOrder | undefined {
    for (const book of this.books.values()) {
      for (const sim of book.working) if (sim.order.clientOrderId === clientOrderId) return sim;
    }
    this.endedIndex ??= new Map();
    for (; this.indexedCount < this.ended.length; this.indexedCount++) {
      const ended = this.ended[this.indexedCount]!;
      this.endedIndex.set(ended.order.clientOrderId, ended);
    }
    return this.endedIndex.get(clientOrderId);
  }

  private removeWorking(sim: SimOrder, state: OrderState): void {
    sim.state = state;
    const list = sim.book.working;
    const i = list.indexOf(sim);
    if (i >= 0) {
      if (i === list.length - 1) list.pop();
      else list.splice(i, 1);
      this.workingCount--;
      this.ended.push(sim);
    }
  }

  private finish(sim: SimOrder, state: OrderState): void {
    this.removeWorking(sim, state);
    sim.updatedMs = this.clock.nowMs();
    const view = venueView(sim);
    for (const l of this.updateListeners) l(view);
  }
}

/** The working orders to go through: a fill may end the order at hand, so a list of several is copied first. */
function workingSnapshot(book: SymbolBook): readonly SimOrder[] {
  return book.working.length === 1 ? [book.working[0]!] : book.working.slice();
}

function isWorking(state: OrderState): boolean {
  return state === 'accepted' || state === 'partially-filled';
}

function floorTo(value: number, step: number): number {
  return Math.floor(value / step + 1e-9) * step;
}

function venueView(sim: SimOrder): VenueOrder {
  return {
    clientOrderId: sim.order.clientOrderId,
    venueOrderId: sim.venueOrderId,
    symbol: sim.order.symbol,
    side: sim.order.side,
    type: sim.order.type,
    quantity: sim.order.quantity,
    price: sim.order.price,
    state: sim.state,
    filledQuantity: sim.filled,
    averageFillPrice: sim.averagePrice,
    updatedMs: sim.updatedMs,
  };
}
