import { SeededRandom } from '../random.ts';
import type { Scheduler, TimerHandle } from '../clock.ts';
import { FeedHealthMonitor, type FeedSubscription, type MarketFeed, type MarketListener } from './feed.ts';
import {
  TIMEFRAME_MS,
  emptyCandleColumns,
  type BookLevel,
  type BookSnapshot,
  type CandleColumns,
  type FeedHealth,
  type MarketEvent,
  type Timeframe,
  type Trade,
  type TradeSide,
} from '../../../shared/market.ts';

/**
 * The demo venue: a deterministic, seeded market simulator (the default feed: no account, no
 * network). Model per symbol (docs/market-data.md):
 * - trades arrive as a Poisson process whose rate follows an intraday pattern (busier around the
 *   European and US opens, quiet in the Asian night);
 * - each trade moves the log mid by sigma * sqrt(h) * sqrt(1 / rate) * z, z Student-t (4 degrees of
 *   freedom, scaled to unit variance: fat tails), so variance per unit time follows activity;
 * - h is a GARCH(1,1) variance multiplier updated once a simulated minute from that minute's
 *   standardised return (volatility clustering);
 * - occasional jumps (Poisson, a few a day) move the mid by a normal log-return of jumpSigma;
 * - a bid/ask book: spread widens with volatility, at least one tick; depth levels every tick
 *   step with quantities growing away from the touch; buys print at the ask, sells at the bid.
 * Same seed and same start time, same market: every symbol draws from its own SeededRandom, so
 * the market of one symbol does not depend on which other symbols exist.
 */
export interface DemoSymbol {
  symbol: string;
  initialPrice: number;
  annualVolatility: number;
  tickSize: number;
  quantityStep: number;
  /** Average trades per second over a day. */
  tradesPerSecond: number;
  /** Half-spread at normal volatility, in basis points of the mid (at least half a tick). */
  halfSpreadBps: number;
  /** Median trade size in base units. */
  medianQuantity: number;
  jumpsPerDay: number;
  /** Standard deviation of a jump's log-return. */
  jumpSigma: number;
  bookLevels: number;
  /** Price distance between book levels, in ticks. */
  levelTicks: number;
}

export const DEFAULT_DEMO_SYMBOLS: readonly DemoSymbol[] = [
  {
    symbol: 'BTC/USDT',
    initialPrice: 64_000,
    annualVolatility: 0.6,
    tickSize: 0.01,
    quantityStep: 0.00001,
    tradesPerSecond: 4,
    halfSpreadBps: 0.5,
    medianQuantity: 0.02,
    jumpsPerDay: 2,
    jumpSigma: 0.006,
    bookLevels: 20,
    levelTicks: 50,
  },
  {
    symbol: 'ETH/USDT',
    initialPrice: 3_100,
    annualVolatility: 0.75,
    tickSize: 0.01,
    quantityStep: 0.0001,
    tradesPerSecond: 3,
    halfSpreadBps: 0.8,
    medianQuantity: 0.4,
    jumpsPerDay: 2,
    jumpSigma: 0.008,
    bookLevels: 20,
    levelTicks: 5,
  },
  {
    symbol: 'SOL/USDT',
    initialPrice: 145,
    annualVolatility: 0.95,
    tickSize: 0.01,
    quantityStep: 0.001,
    tradesPerSecond: 2,
    halfSpreadBps: 2,
    medianQuantity: 6,
    jumpsPerDay: 3,
    jumpSigma: 0.012,
    bookLevels: 20,
    levelTicks: 1,
  },
  {
    symbol: 'EUR/USD',
    initialPrice: 1.085,
    annualVolatility: 0.07,
    tickSize: 0.00001,
    quantityStep: 1000,
    tradesPerSecond: 1.5,
    halfSpreadBps: 0.4,
    medianQuantity: 100_000,
    jumpsPerDay: 0.5,
    jumpSigma: 0.002,
    bookLevels: 20,
    levelTicks: 2,
  },
];

export const DEMO_VENUE = 'demo';

const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;
const MINUTE_MS = 60_000;
const T_DOF = 4;
/** Student-t(4) has variance 4/2 = 2; this scales it to unit variance. */
const T_SCALE = Math.sqrt((T_DOF - 2) / T_DOF);
const GARCH_ALPHA = 0.1;
const GARCH_BETA = 0.88;
const GARCH_OMEGA = 1 - GARCH_ALPHA - GARCH_BETA;

function rawActivity(hour: number): number {
  const hump = (centre: number, width: number): number => {
    let d = Math.abs(hour - centre);
    if (d > 12) d = 24 - d;
    return Math.exp(-(d * d) / (2 * width * width));
  };
  return 0.45 + 0.9 * hump(8, 1.5) + 1.3 * hump(14.5, 2);
}

/** Activity by minute of the UTC day, normalised to mean 1 (a table: this is on the per-event path). */
const ACTIVITY_BY_MINUTE = ((): Float64Array => {
  const table = new Float64Array(1440);
  let sum = 0;
  for (let i = 0; i < 1440; i++) {
    table[i] = rawActivity((i + 0.5) / 60);
    sum += table[i]!;
  }
  const mean = sum / 1440;
  for (let i = 0; i < 1440; i++) table[i] = table[i]! / mean;
  return table;
})();

/**
 * Activity multiplier by UTC time of day (mean 1 over a day): a floor plus humps at the European
 * (08:00) and US (14:30) opens.
 */
export function intradayActivity(tsMs: number): number {
  const minute = Math.floor((((tsMs % DAY_MS) + DAY_MS) % DAY_MS) / MINUTE_MS);
  return ACTIVITY_BY_MINUTE[minute]!;
}

function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Student-t with T_DOF = 4 degrees of freedom, unit variance, by Bailey's polar method
 * (t = u * sqrt(nu * (w^(-2/nu) - 1) / w)); for nu = 4, w^(-1/2) needs no log or pow.
 */
function studentT(random: SeededRandom): number {
  for (;;) {
    const u = 2 * random.next() - 1;
    const v = 2 * random.next() - 1;
    const w = u * u + v * v;
    if (w > 0 && w <= 1) return u * Math.sqrt((T_DOF * (1 / Math.sqrt(w) - 1)) / w) * T_SCALE;
  }
}

const BOOK_LEVELS_REFRESHED = 3;

export const EVENT_TRADE = 0;
export const EVENT_BOOK = 1;

/** One symbol's simulation state. Numbers only (no allocation per event). */
class SymbolSimulation {
  readonly spec: DemoSymbol;
  private readonly random: SeededRandom;
  private readonly invTick: number;
  private readonly invStep: number;
  private readonly sigmaPerMsSq: number;
  logMid: number;
  /** GARCH variance multiplier (long-run mean 1). */
  h = 1;
  nextTradeMs: number;
  nextBookMs: number;
  private minuteEndMs: number;
  private minuteReturn = 0;
  private minuteBaseVariance = 0;
  private readonly bookIntervalMs: number;
  // Last trade
  tradeMs = 0;
  tradePrice = 0;
  tradeQuantity = 0;
  tradeSide = 1;
  tradeSeq = 0;
  bid = 0;
  ask = 0;
  /** Half spread as a fraction of the mid (depends on h; updated when h is). */
  private spreadFactor: number;
  /** Touch prices the book levels were last laid out for. */
  private levelsBid = NaN;
  private levelsAsk = NaN;
  // Book (levels recomputed on book events)
  bookMs = 0;
  readonly bidPrices: Float64Array;
  readonly bidQuantities: Float64Array;
  readonly askPrices: Float64Array;
  readonly askQuantities: Float64Array;
  // Session statistics for tickers
  readonly openPrice: number;
  volume = 0;

  constructor(spec: DemoSymbol, seed: number, startMs: number, bookIntervalMs: number, startPrice?: number) {
    this.spec = spec;
    this.random = new SeededRandom((seed ^ hashString(spec.symbol)) >>> 0);
    this.invTick = Math.round(1 / spec.tickSize);
    this.invStep = Math.round(1 / spec.quantityStep) || 1;
    this.sigmaPerMsSq = (spec.annualVolatility * spec.annualVolatility) / YEAR_MS;
    this.logMid = Math.log(startPrice ?? spec.initialPrice);
    this.openPrice = this.roundPrice(Math.exp(this.logMid));
    this.bookIntervalMs = bookIntervalMs;
    this.minuteEndMs = Math.floor(startMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    this.nextTradeMs = startMs + this.tradeGap(startMs);
    this.nextBookMs = startMs;
    this.bidPrices = new Float64Array(spec.bookLevels);
    this.bidQuantities = new Float64Array(spec.bookLevels);
    this.askPrices = new Float64Array(spec.bookLevels);
    this.askQuantities = new Float64Array(spec.bookLevels);
    this.tradePrice = this.openPrice;
    this.spreadFactor = (spec.halfSpreadBps * (0.6 + 0.4 * Math.sqrt(this.h))) / 10_000;
    this.updateTouch();
    for (let i = 0; i < spec.bookLevels; i++) {
      this.bidQuantities[i] = this.levelDepth(i);
      this.askQuantities[i] = this.levelDepth(i);
    }
  }

  roundPrice(p: number): number {
    return Math.round(p * this.invTick) / this.invTick;
  }

  private tradeGap(atMs: number, activity = intradayActivity(atMs)): number {
    const ratePerMs = (this.spec.tradesPerSecond / 1000) * activity;
    let u = this.random.next();
    if (u === 0) u = Number.MIN_VALUE;
    return -Math.log(u) / ratePerMs;
  }

  nextEventMs(): number {
    return this.nextTradeMs < this.nextBookMs ? this.nextTradeMs : this.nextBookMs;
  }

  /** Best bid/ask for the current mid and volatility: spread widens with h, at least one tick. */
  private updateTouch(): void {
    const mid = Math.exp(this.logMid);
    const halfSpread = Math.max(this.spreadFactor * mid, this.spec.tickSize / 2);
    const bid = Math.floor((mid - halfSpread) * this.invTick) / this.invTick;
    const ask = Math.ceil((mid + halfSpread) * this.invTick) / this.invTick;
    this.bid = bid;
    this.ask = ask > bid ? ask : this.roundPrice(bid + this.spec.tickSize);
  }

  bestBid(): number {
    return this.bid;
  }

  bestAsk(): number {
    return this.ask;
  }

  private closeMinutesUntil(tsMs: number): void {
    if (tsMs < this.minuteEndMs) return;
    while (tsMs >= this.minuteEndMs) {
      if (this.minuteBaseVariance > 0) {
        const z2 = (this.minuteReturn * this.minuteReturn) / this.minuteBaseVariance;
        this.h = Math.min(25, Math.max(0.05, GARCH_OMEGA + GARCH_ALPHA * z2 + GARCH_BETA * this.h));
      } else {
        this.h = GARCH_OMEGA + (GARCH_ALPHA + GARCH_BETA) * this.h;
      }
      this.minuteReturn = 0;
      this.minuteBaseVariance = 0;
      this.minuteEndMs += MINUTE_MS;
    }
    this.spreadFactor = (this.spec.halfSpreadBps * (0.6 + 0.4 * Math.sqrt(this.h))) / 10_000;
    this.updateTouch();
  }

  private levelDepth(level: number): number {
    const depth = this.spec.medianQuantity * 3 * (1 + 0.35 * level) * (0.5 + this.random.next());
    return Math.max(1, Math.round(depth * this.invStep)) / this.invStep;
  }

  /** Processes this symbol's next event; returns EVENT_TRADE or EVENT_BOOK. */
  step(): number {
    if (this.nextTradeMs <= this.nextBookMs) {
      const t = this.nextTradeMs;
      this.closeMinutesUntil(t);
      const activity = intradayActivity(t);
      const ratePerMs = (this.spec.tradesPerSecond / 1000) * activity;
      const baseVariance = this.sigmaPerMsSq / ratePerMs;
      let r = Math.sqrt(baseVariance * this.h) * studentT(this.random);
      const jumpProbability = this.spec.jumpsPerDay / DAY_MS / ratePerMs;
      if (this.random.next() < jumpProbability) r += this.spec.jumpSigma * this.random.normal();
      this.logMid += r;
      this.minuteReturn += r;
      this.minuteBaseVariance += baseVariance;
      this.updateTouch();
      // Aggressor side follows the move (buyers lift the ask as the price rises), with noise.
      const isBuy = r > 0 ? this.random.next() < 0.8 : this.random.next() < 0.2;
      this.tradeSide = isBuy ? 1 : -1;
      this.tradePrice = isBuy ? this.ask : this.bid;
      // Lognormal size (median medianQuantity), larger when the market is busy.
      const q = this.spec.medianQuantity * Math.exp(0.9 * this.random.normal()) * Math.sqrt(activity);
      this.tradeQuantity = Math.max(1, Math.round(q * this.invStep)) / this.invStep;
      this.tradeMs = Math.floor(t);
      this.tradeSeq++;
      this.volume += this.tradeQuantity;
      this.nextTradeMs = t + this.tradeGap(t, activity);
      return EVENT_TRADE;
    }
    const t = this.nextBookMs;
    this.closeMinutesUntil(t);
    const step = this.spec.levelTicks / this.invTick;
    const levels = this.spec.bookLevels;
    if (this.bid !== this.levelsBid || this.ask !== this.levelsAsk) {
      for (let i = 0; i < levels; i++) {
        this.bidPrices[i] = this.roundPrice(this.bid - i * step);
        this.askPrices[i] = this.roundPrice(this.ask + i * step);
      }
      this.levelsBid = this.bid;
      this.levelsAsk = this.ask;
    }
    // Like a venue's depth diff: a few levels per side change size each update.
    for (let k = 0; k < BOOK_LEVELS_REFRESHED; k++) {
      const b = this.random.int(levels);
      this.bidQuantities[b] = this.levelDepth(b);
      const a = this.random.int(levels);
      this.askQuantities[a] = this.levelDepth(a);
    }
    this.bookMs = Math.floor(t);
    this.nextBookMs = t + this.bookIntervalMs;
    return EVENT_BOOK;
  }

  trade(): Trade {
    const side: TradeSide = this.tradeSide > 0 ? 'buy' : 'sell';
    return {
      tsMs: this.tradeMs,
      price: this.tradePrice,
      quantity: this.tradeQuantity,
      side,
      id: String(this.tradeSeq),
    };
  }

  book(): BookSnapshot {
    const bids: BookLevel[] = [];
    const asks: BookLevel[] = [];
    for (let i = 0; i < this.spec.bookLevels; i++) {
      bids.push({ price: this.bidPrices[i]!, quantity: this.bidQuantities[i]! });
      asks.push({ price: this.askPrices[i]!, quantity: this.askQuantities[i]! });
    }
    return { tsMs: this.bookMs, bids, asks };
  }
}

export interface DemoMarketOptions {
  seed: number;
  startMs: number;
  symbols?: readonly DemoSymbol[];
  /** A book snapshot per symbol every this many ms (default 250). */
  bookIntervalMs?: number;
  /** Start prices by symbol (e.g. the close of generated history). */
  startPrices?: Readonly<Record<string, number>>;
}

/** The simulation without timers: events in time order, as fast as the caller asks. */
export class DemoMarket {
  readonly symbols: readonly DemoSymbol[];
  private readonly sims: SymbolSimulation[];
  /** Next event time per symbol (cached: the pick below runs once per event). */
  private readonly nextTimes: Float64Array;
  /** Kind of the last event (EVENT_TRADE / EVENT_BOOK) and its symbol index. */
  lastKind = EVENT_BOOK;
  lastSymbol = 0;

  constructor(options: DemoMarketOptions) {
    this.symbols = options.symbols ?? DEFAULT_DEMO_SYMBOLS;
    const bookIntervalMs = options.bookIntervalMs ?? 250;
    this.sims = this.symbols.map(
      (spec, i) =>
        new SymbolSimulation(
          spec,
          options.seed,
          options.startMs + (i * bookIntervalMs) / this.symbols.length,
          bookIntervalMs,
          options.startPrices?.[spec.symbol],
        ),
    );
    this.nextTimes = Float64Array.from(this.sims, (sim) => sim.nextEventMs());
  }

  /** Time of the next event (ms, fractional internally). */
  nextEventMs(): number {
    let best = Infinity;
    const times = this.nextTimes;
    for (let i = 0; i < times.length; i++) if (times[i]! < best) best = times[i]!;
    return best;
  }

  /** Processes the next event of any symbol; returns its kind. Details via trade()/book(). */
  step(): number {
    let index = 0;
    let best = Infinity;
    const times = this.nextTimes;
    for (let i = 0; i < times.length; i++) {
      if (times[i]! < best) {
        best = times[i]!;
        index = i;
      }
    }
    const sim = this.sims[index]!;
    this.lastSymbol = index;
    this.lastKind = sim.step();
    times[index] = sim.nextEventMs();
    return this.lastKind;
  }

  trade(symbolIndex: number): Trade {
    return this.sims[symbolIndex]!.trade();
  }

  book(symbolIndex: number): BookSnapshot {
    return this.sims[symbolIndex]!.book();
  }

  /** Last trade price, best bid/ask, session open and volume of a symbol. */
  quote(symbolIndex: number): {
    last: number;
    bid: number;
    ask: number;
    open: number;
    volume: number;
    tsMs: number;
  } {
    const sim = this.sims[symbolIndex]!;
    return {
      last: sim.tradePrice,
      bid: sim.bestBid(),
      ask: sim.bestAsk(),
      open: sim.openPrice,
      volume: sim.volume,
      tsMs: Math.max(sim.tradeMs, sim.bookMs),
    };
  }

  /** Fast path: the trade of the last event as raw numbers (no allocation). */
  lastTradeNumbers(): { tsMs: number; price: number; quantity: number; side: number } {
    const sim = this.sims[this.lastSymbol]!;
    return { tsMs: sim.tradeMs, price: sim.tradePrice, quantity: sim.tradeQuantity, side: sim.tradeSide };
  }

  /** Writes the last trade into columns at index k (fast path for generation). */
  writeLastTrade(
    columns: { tsMs: Float64Array; price: Float64Array; quantity: Float64Array; side: Int8Array },
    k: number,
  ): void {
    const sim = this.sims[this.lastSymbol]!;
    columns.tsMs[k] = sim.tradeMs;
    columns.price[k] = sim.tradePrice;
    columns.quantity[k] = sim.tradeQuantity;
    columns.side[k] = sim.tradeSide;
  }
}

/**
 * History for the demo venue's charts before the live simulation starts: minute bars from the
 * same model at bar level (t-distributed minute returns with GARCH variance, jumps, intraday
 * activity), ending at endMs. Deterministic in (seed, symbol, endMs).
 */
export function generateDemoHistory(
  spec: DemoSymbol,
  seed: number,
  endMs: number,
  barCount: number,
  timeframe: Timeframe = '1m',
): CandleColumns {
  const size = TIMEFRAME_MS[timeframe];
  const random = new SeededRandom((seed ^ hashString(`${spec.symbol}#history`)) >>> 0);
  const out = emptyCandleColumns(barCount);
  const lastOpen = Math.floor(endMs / size) * size - size;
  const firstOpen = lastOpen - (barCount - 1) * size;
  const invTick = Math.round(1 / spec.tickSize);
  const invStep = Math.round(1 / spec.quantityStep) || 1;
  const baseVariance = ((spec.annualVolatility * spec.annualVolatility) / YEAR_MS) * size;
  // Walk backwards from the live start price so history ends where the live market begins.
  const returns = new Float64Array(barCount);
  const hs = new Float64Array(barCount);
  let h = 1;
  for (let i = 0; i < barCount; i++) {
    const activity = intradayActivity(firstOpen + i * size);
    let r = Math.sqrt(baseVariance * h * activity) * studentT(random);
    if (random.next() < (spec.jumpsPerDay * size) / DAY_MS) r += spec.jumpSigma * random.normal();
    returns[i] = r;
    hs[i] = h;
    const z2 = (r * r) / (baseVariance * activity);
    h = Math.min(25, Math.max(0.05, GARCH_OMEGA + GARCH_ALPHA * z2 + GARCH_BETA * h));
  }
  let logClose = Math.log(spec.initialPrice);
  for (let i = barCount - 1; i >= 0; i--) {
    const logOpen = logClose - returns[i]!;
    const open = Math.round(Math.exp(logOpen) * invTick) / invTick;
    const close = Math.round(Math.exp(logClose) * invTick) / invTick;
    const wiggle = Math.sqrt(baseVariance * hs[i]!) * 0.5;
    const high =
      Math.round(Math.max(open, close) * Math.exp(Math.abs(random.normal()) * wiggle) * invTick) / invTick;
    const low =
      Math.round(Math.min(open, close) * Math.exp(-Math.abs(random.normal()) * wiggle) * invTick) / invTick;
    const activity = intradayActivity(firstOpen + i * size);
    const trades = spec.tradesPerSecond * (size / 1000) * activity;
    const volume =
      Math.round(
        spec.medianQuantity *
          1.5 *
          trades *
          Math.exp(0.4 * random.normal()) *
          (1 + Math.abs(returns[i]!) / Math.sqrt(baseVariance)) *
          invStep,
      ) / invStep;
    out.time[i] = firstOpen + i * size;
    out.open[i] = open;
    out.high[i] = Math.max(high, open, close);
    out.low[i] = Math.min(low, open, close);
    out.close[i] = close;
    out.volume[i] = volume;
    logClose = logOpen;
  }
  return out;
}

/**
 * The demo venue as a real-time feed on the injected scheduler: the simulation runs forward in
 * step with the scheduler's clock and emits trades and book snapshots to subscribers.
 */
export class DemoVenue implements MarketFeed {
  readonly venue = DEMO_VENUE;
  readonly market: DemoMarket;
  private readonly scheduler: Scheduler;
  private readonly listeners = new Map<string, Set<MarketListener>>();
  private readonly monitor: FeedHealthMonitor;
  private readonly indexBySymbol = new Map<string, number>();
  private timer: TimerHandle | null = null;
  private isRunning = false;

  constructor(options: {
    scheduler: Scheduler;
    seed: number;
    symbols?: readonly DemoSymbol[];
    bookIntervalMs?: number;
    startMs?: number;
    /** Start prices by symbol (e.g. the last stored close, so a restart continues the market). */
    startPrices?: Readonly<Record<string, number>>;
  }) {
    this.scheduler = options.scheduler;
    this.market = new DemoMarket({
      seed: options.seed,
      startMs: options.startMs ?? options.scheduler.nowMs(),
      ...(options.symbols ? { symbols: options.symbols } : {}),
      ...(options.bookIntervalMs ? { bookIntervalMs: options.bookIntervalMs } : {}),
      ...(options.startPrices ? { startPrices: options.startPrices } : {}),
    });
    this.market.symbols.forEach((s, i) => this.indexBySymbol.set(s.symbol, i));
    this.monitor = new FeedHealthMonitor({
      venue: DEMO_VENUE,
      scheduler: this.scheduler,
      onChange: (health) => this.emit(health.symbol, { kind: 'health', health }),
    });
  }

  symbols(): string[] {
    return this.market.symbols.map((s) => s.symbol);
  }

  symbolIndex(symbol: string): number | undefined {
    return this.indexBySymbol.get(symbol);
  }

  subscribe(symbol: string, listener: MarketListener): FeedSubscription {
    const index = this.indexBySymbol.get(symbol);
    if (index === undefined)
      throw new Error(`The demo venue has no symbol ${symbol}; it has ${this.symbols().join(', ')}.`);
    let set = this.listeners.get(symbol);
    if (!set) {
      set = new Set();
      this.listeners.set(symbol, set);
      // Book snapshots arrive every bookIntervalMs (250 ms); 1 s leaves room for a busy engine thread.
      this.monitor.track(symbol, 1000);
    }
    set.add(listener);
    return {
      unsubscribe: () => {
        set.delete(listener);
        if (set.size === 0) {
          this.listeners.delete(symbol);
          this.monitor.untrack(symbol);
        }
      },
    };
  }

  health(): FeedHealth[] {
    return this.monitor.all();
  }

  private emit(symbol: string, event: MarketEvent): void {
    const set = this.listeners.get(symbol);
    if (!set) return;
    for (const listener of set) listener(event);
  }

  /** Runs the simulation up to the scheduler's now, emitting every event on the way. */
  private catchUp(): void {
    const now = this.scheduler.nowMs();
    while (this.market.nextEventMs() <= now) {
      const kind = this.market.step();
      const index = this.market.lastSymbol;
      const symbol = this.market.symbols[index]!.symbol;
      if (!this.listeners.has(symbol)) continue;
      this.monitor.recordMessage(symbol);
      if (kind === EVENT_TRADE)
        this.emit(symbol, { kind: 'trade', venue: DEMO_VENUE, symbol, trade: this.market.trade(index) });
      else this.emit(symbol, { kind: 'book', venue: DEMO_VENUE, symbol, book: this.market.book(index) });
    }
  }

  start(): void {
    if (this.isRunning) return;
    this.isRunning = true;
    const arm = (): void => {
      if (!this.isRunning) return;
      const delay = Math.max(0, Math.ceil(this.market.nextEventMs() - this.scheduler.nowMs()));
      this.timer = this.scheduler.schedule(delay, () => {
        this.catchUp();
        arm();
      });
    };
    this.catchUp();
    arm();
  }

  stop(): void {
    this.isRunning = false;
    this.timer?.cancel();
    this.timer = null;
    this.monitor.stop();
  }
}
