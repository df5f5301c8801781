import type { Clock } from '../clock.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import type { PreTradeGate } from '../execution/order-manager.ts';
import { isMultipleOfStep } from '../execution/precision.ts';
import type { RiskConfig, RiskLimits } from '../../../shared/contract/trading.ts';
import type { MarketRules, Order, RiskCheckResult, RiskVerdict } from '../../../shared/trading.ts';
import { defaultRiskConfig, effectiveLimits } from './risk-limits.ts';

/** What the risk engine needs to know about the rest of the system (all injected). */
export interface RiskInputs {
  clock: Clock;
  portfolio: Portfolio;
  marketRules(symbol: string): MarketRules | null;
  /** Reference price for the band check and market-order notional (mid or last), null if none. */
  referencePrice(symbol: string): number | null;
  /** Engine time of the last market data for the symbol, null if never. */
  lastMarketDataMs(symbol: string): number | null;
  openOrderCount(strategyId?: string): number;
  hasUnknownOrder(symbol: string): boolean;
}

export type HaltKind = 'kill-switch' | 'daily-loss' | 'drawdown';

const DAY_MS = 86_400_000;
const RING_SIZE = 4096;
// The longest duplicate window the limits schema allows (shared/contract/trading.ts).
const MAX_DUPLICATE_WINDOW_MS = 86_400_000;
const SENT_SWEEP_MIN = 10_000;

interface LimitsEntry {
  limits: RiskLimits;
  /** Unit of the order-rate checks, written once per limits. */
  rateUnit: string;
}

/** One order shape a strategy sent (what makes two orders "identical" beside side and quantity). */
interface SentShape {
  type: string;
  price: number | null;
  stopPrice: number | null;
  tsMs: number;
}

/** Per side: quantity -> the shapes sent with that quantity (usually one or two: entry, stop, target). */
interface SentBySide {
  buy: Map<number, SentShape[]>;
  sell: Map<number, SentShape[]>;
}

function findShape(shapes: SentShape[] | undefined, order: Order): SentShape | undefined {
  if (!shapes) return undefined;
  for (const shape of shapes) {
    if (shape.type === order.type && shape.price === order.price && shape.stopPrice === order.stopPrice)
      return shape;
  }
  return undefined;
}

/**
 * Pre-trade checks (every rule, every order, each with value and limit) and the state they need:
 * order-rate windows, the duplicate-order window, halts, start-of-day and peak equity, and the
 * reduce-only marks the in-trade monitor sets. Orders that only reduce exposure pass the exposure
 * and loss halts (so a breached book can always be brought back inside its limits) but never the
 * kill switch's cancel-everything intent unless they are reduce-only.
 */
export class RiskEngine implements PreTradeGate {
  private config: RiskConfig;
  private readonly inputs: RiskInputs;
  // Effective limits by strategy, then symbol (no key strings built per order).
  private readonly limitsCache = new Map<string, Map<string, LimitsEntry>>();
  private readonly allowedSets = new WeakMap<readonly string[], Set<string>>();
  // Order timestamps for rate limits: one global ring and one per strategy (sliding windows).
  private readonly globalTimes = new Float64Array(RING_SIZE);
  private globalCount = 0;
  private readonly strategyTimes = new Map<string, { times: Float64Array; count: number }>();
  // Duplicate guard: when each strategy last sent each symbol/side/quantity (strategy -> symbol -> side -> quantity -> ms).
  private readonly lastSent = new Map<string, Map<string, SentBySide>>();
  private lastSentCount = 0;
  private lastSentSweepAt = SENT_SWEEP_MIN;
  private readonly halts = new Map<HaltKind, { message: string; sinceMs: number }>();
  private readonly reduceOnly = new Set<string>();
  private isAccountReduceOnly_ = false;
  startOfDayEquity: number;
  private startOfDayMs: number;
  peakEquity: number;

  constructor(inputs: RiskInputs, config: RiskConfig = defaultRiskConfig()) {
    this.inputs = inputs;
    this.config = config;
    const equity = inputs.portfolio.equity();
    this.startOfDayEquity = equity;
    this.peakEquity = equity;
    this.startOfDayMs = Math.floor(inputs.clock.nowMs() / DAY_MS) * DAY_MS;
  }

  getConfig(): RiskConfig {
    return this.config;
  }

  /** Replaces the config (validate and audit first: see RiskService.setLimits). */
  setConfig(config: RiskConfig): void {
    this.config = config;
    this.limitsCache.clear();
  }

  limitsFor(strategyId: string, symbol: string): RiskLimits {
    return this.limitsEntry(strategyId, symbol).limits;
  }

  private limitsEntry(strategyId: string, symbol: string): LimitsEntry {
    let bySymbol = this.limitsCache.get(strategyId);
    if (!bySymbol) {
      bySymbol = new Map();
      this.limitsCache.set(strategyId, bySymbol);
    }
    let entry = bySymbol.get(symbol);
    if (!entry) {
      const limits = effectiveLimits(this.config, strategyId, symbol);
      entry = { limits, rateUnit: `orders/${limits.orderRateWindowMs}ms` };
      bySymbol.set(symbol, entry);
    }
    return entry;
  }

  halt(kind: HaltKind, message: string): void {
    if (!this.halts.has(kind)) this.halts.set(kind, { message, sinceMs: this.inputs.clock.nowMs() });
  }

  clearHalt(kind: HaltKind): void {
    this.halts.delete(kind);
  }

  activeHalts(): { kind: HaltKind; message: string; sinceMs: number }[] {
    return [...this.halts].map(([kind, h]) => ({ kind, ...h }));
  }

  isHalted(kind: HaltKind): boolean {
    return this.halts.has(kind);
  }

  setReduceOnly(symbol: string | null, isOn: boolean): void {
    if (symbol === null) this.isAccountReduceOnly_ = isOn;
    else if (isOn) this.reduceOnly.add(symbol);
    else this.reduceOnly.delete(symbol);
  }

  isAccountReduceOnly(): boolean {
    return this.isAccountReduceOnly_;
  }

  reduceOnlySymbols(): string[] {
    return [...this.reduceOnly];
  }

  /** Rolls start-of-day equity at UTC midnight and tracks the equity peak; returns current equity. */
  updateEquityMarks(): number {
    const equity = this.inputs.portfolio.equity();
    const nowMs = this.inputs.clock.nowMs();
    const dayStart = Math.floor(nowMs / DAY_MS) * DAY_MS;
    if (dayStart !== this.startOfDayMs) {
      this.startOfDayMs = dayStart;
      this.startOfDayEquity = equity;
    }
    if (equity > this.peakEquity) this.peakEquity = equity;
    return equity;
  }

  dailyLossPct(equity: number): number {
    return this.startOfDayEquity > 0
      ? Math.max(0, ((this.startOfDayEquity - equity) / this.startOfDayEquity) * 100)
      : 0;
  }

  drawdownPct(equity: number): number {
    return this.peakEquity > 0 ? Math.max(0, ((this.peakEquity - equity) / this.peakEquity) * 100) : 0;
  }

  /**
   * Whether verdicts list the checks that passed too (default). A backtest that does not record
   * its decisions turns it off: its approved verdicts then carry no checks, refused ones only
   * the failed checks. A detailed check (order ticket preview) always lists every check.
   */
  isKeepingPassedChecks = true;

  /** Every rule for one order. isDetailed: write a message for passed checks too (order ticket preview). */
  check(order: Order, isDetailed = false): RiskVerdict {
    const entry = this.limitsEntry(order.strategyId, order.symbol);
    const limits = entry.limits;
    const portfolio = this.inputs.portfolio;
    const nowMs = this.inputs.clock.nowMs();
    const symbol = order.symbol;
    const sign = order.side === 'buy' ? 1 : -1;
    const equity = this.updateEquityMarks();
    const net = portfolio.netQuantity(symbol);
    const after = net + sign * order.quantity;
    // Reduces: moves the net position towards zero without crossing it.
    const isReducing = net !== 0 && Math.sign(net) !== sign && order.quantity <= Math.abs(net) * (1 + 1e-12);
    const reference = this.inputs.referencePrice(symbol);
    const rules = this.inputs.marketRules(symbol);
    const priceForNotional = order.price ?? order.stopPrice ?? reference ?? 0;
    const notional = order.quantity * priceForNotional;
    const checks: RiskCheckResult[] = [];
    // A run that reads only whether an order passed (a backtest not recording its decisions)
    // keeps the failed checks alone: 21 result objects per order are most of a check's cost.
    const isKeepingAll = isDetailed || this.isKeepingPassedChecks;
    const add = (check: number, isPassed: boolean, value: number, limit: number, unit?: string): void => {
      if (isKeepingAll || !isPassed) checks.push(result(check, isPassed, value, limit, unit));
    };

    // Halts.
    const kill = this.halts.get('kill-switch');
    add(C_KILL_SWITCH, !kill || (order.isReduceOnly && isReducing), kill ? 1 : 0, 0);
    const dailyLoss = this.dailyLossPct(equity);
    add(
      C_DAILY_LOSS,
      (dailyLoss < limits.dailyLossLimitPct && !this.halts.has('daily-loss')) || isReducing,
      dailyLoss,
      limits.dailyLossLimitPct,
    );
    const drawdown = this.drawdownPct(equity);
    add(
      C_DRAWDOWN,
      (drawdown < limits.maxDrawdownPct && !this.halts.has('drawdown')) || isReducing,
      drawdown,
      limits.maxDrawdownPct,
    );
    const lastDataMs = this.inputs.lastMarketDataMs(symbol);
    const feedAge = lastDataMs === null ? Infinity : nowMs - lastDataMs;
    add(C_STALE_FEED, feedAge <= limits.maxFeedAgeMs, finiteOr(feedAge, -1), limits.maxFeedAgeMs);
    const hasUnknown = this.inputs.hasUnknownOrder(symbol);
    add(C_UNKNOWN_ORDER, !hasUnknown, hasUnknown ? 1 : 0, 0);

    // Where and when.
    const isAllowed = limits.allowedSymbols === null || this.allowedSet(limits.allowedSymbols).has(symbol);
    add(C_ALLOWED_SYMBOL, isAllowed, isAllowed ? 1 : 0, 1);
    const minuteOfDay = Math.floor((nowMs % DAY_MS) / 60_000);
    add(
      C_TRADING_HOURS,
      inTradingHours(limits.tradingHours, minuteOfDay),
      minuteOfDay,
      limits.tradingHours?.endMinuteUtc ?? 1440,
    );
    const mustReduce = this.isAccountReduceOnly_ || this.reduceOnly.has(symbol) || order.isReduceOnly;
    add(C_REDUCE_ONLY, !mustReduce || isReducing, isReducing ? 1 : 0, mustReduce ? 1 : 0);

    // Venue rules.
    if (rules) {
      add(C_VENUE_MIN_QUANTITY, order.quantity >= rules.minQuantity, order.quantity, rules.minQuantity);
      add(C_VENUE_MAX_QUANTITY, order.quantity <= rules.maxQuantity, order.quantity, rules.maxQuantity);
      add(C_VENUE_MIN_NOTIONAL, notional >= rules.minNotional, notional, rules.minNotional);
      const isPrecise =
        isMultipleOfStep(order.quantity, rules.quantityStep) &&
        (order.price === null || isMultipleOfStep(order.price, rules.tickSize)) &&
        (order.stopPrice === null || isMultipleOfStep(order.stopPrice, rules.tickSize));
      add(C_VENUE_PRECISION, isPrecise, isPrecise ? 1 : 0, 1);
    } else {
      add(C_VENUE_RULES, false, 0, 1);
    }

    // Price and size.
    const bandPrice = order.price;
    let band = 0;
    if (bandPrice !== null)
      band = reference && reference > 0 ? (Math.abs(bandPrice - reference) / reference) * 100 : Infinity;
    add(C_PRICE_BAND, band <= limits.priceBandPct, finiteOr(band, -1), limits.priceBandPct);
    const hasPrice = priceForNotional > 0;
    add(C_ORDER_NOTIONAL, hasPrice && notional <= limits.maxOrderNotional, notional, limits.maxOrderNotional);
    const available = portfolio.availableBalance();
    const pctAvailable = isReducing
      ? 0
      : available > 0
        ? (notional / available) * 100
        : notional > 0
          ? Infinity
          : 0;
    add(
      C_ORDER_PCT_AVAILABLE,
      pctAvailable <= limits.maxOrderPctOfAvailable,
      finiteOr(pctAvailable, -1),
      limits.maxOrderPctOfAvailable,
    );
    const markPrice = reference ?? portfolio.markPrice(symbol);
    const valuationPrice = markPrice > 0 ? markPrice : priceForNotional;
    const positionPct = equity > 0 ? ((Math.abs(after) * valuationPrice) / equity) * 100 : Infinity;
    add(
      C_POSITION_PCT_EQUITY,
      positionPct <= limits.maxPositionPctOfEquity || Math.abs(after) <= Math.abs(net),
      finiteOr(positionPct, -1),
      limits.maxPositionPctOfEquity,
    );
    const grossBefore = portfolio.grossExposure();
    const symbolGrossBefore = Math.abs(net) * (portfolio.markPrice(symbol) || valuationPrice);
    const grossAfter = grossBefore - symbolGrossBefore + Math.abs(after) * valuationPrice;
    const leverage = equity > 0 ? grossAfter / equity : Infinity;
    add(
      C_GROSS_LEVERAGE,
      leverage <= limits.maxGrossLeverage || Math.abs(after) <= Math.abs(net),
      finiteOr(leverage, -1),
      limits.maxGrossLeverage,
    );

    // Activity.
    const openOrders = this.inputs.openOrderCount(order.strategyId);
    add(C_OPEN_ORDERS, openOrders + 1 <= limits.maxOpenOrders, openOrders + 1, limits.maxOpenOrders);
    const windowStart = nowMs - limits.orderRateWindowMs;
    const strategyRate = countSince(this.strategyTimes.get(order.strategyId), windowStart) + 1;
    add(
      C_ORDER_RATE_STRATEGY,
      strategyRate <= limits.maxOrdersPerWindow,
      strategyRate,
      limits.maxOrdersPerWindow,
      entry.rateUnit,
    );
    const globalRate = countSince({ times: this.globalTimes, count: this.globalCount }, windowStart) + 1;
    add(
      C_ORDER_RATE_GLOBAL,
      globalRate <= limits.maxGlobalOrdersPerWindow,
      globalRate,
      limits.maxGlobalOrdersPerWindow,
      entry.rateUnit,
    );
    const duplicateAgeMs = this.duplicateAgeMs(order, nowMs, limits.duplicateWindowMs);
    const duplicates = Number.isNaN(duplicateAgeMs) ? 0 : 1;
    add(C_DUPLICATE_ORDER, duplicates === 0, duplicates, 0);

    let failed: RiskCheckResult | null = null;
    for (let i = 0; i < checks.length; i++) {
      if (!checks[i]!.isPassed) {
        failed = checks[i]!;
        break;
      }
    }
    if (failed === null && !isDetailed) return { isApproved: true, checks, reason: null };
    // Messages are written only where someone reads them (failed checks, or a detailed preview):
    // formatting 21 strings per order would cost more than the checks themselves.
    const facts: CheckFacts = {
      order,
      limits,
      rules,
      kill,
      feedAge,
      hasData: lastDataMs !== null,
      band,
      reference,
      hasPrice,
      pctAvailable,
      available,
      positionPct,
      leverage,
      duplicateAgeMs,
    };
    for (const c of checks) if (!c.isPassed || isDetailed) c.message = describeCheck(c, facts);
    return {
      isApproved: failed === null,
      checks,
      reason: failed === null ? null : `Order not sent: ${failed.message} (${failed.check}).`,
    };
  }

  private allowedSet(list: readonly string[]): Set<string> {
    let set = this.allowedSets.get(list);
    if (!set) {
      set = new Set(list);
      this.allowedSets.set(list, set);
    }
    return set;
  }

  recordSubmitted(order: Order): void {
    const nowMs = this.inputs.clock.nowMs();
    this.globalTimes[this.globalCount % RING_SIZE] = nowMs;
    this.globalCount++;
    let s = this.strategyTimes.get(order.strategyId);
    if (!s) {
      s = { times: new Float64Array(RING_SIZE), count: 0 };
      this.strategyTimes.set(order.strategyId, s);
    }
    s.times[s.count % RING_SIZE] = nowMs;
    s.count++;
    // Recorded whatever the window now is: a window raised later still sees recent orders.
    let bySymbol = this.lastSent.get(order.strategyId);
    if (!bySymbol) {
      bySymbol = new Map();
      this.lastSent.set(order.strategyId, bySymbol);
    }
    let sides = bySymbol.get(order.symbol);
    if (!sides) {
      sides = { buy: new Map(), sell: new Map() };
      bySymbol.set(order.symbol, sides);
    }
    const byQuantity = order.side === 'buy' ? sides.buy : sides.sell;
    let shapes = byQuantity.get(order.quantity);
    const known = findShape(shapes, order);
    if (known) {
      known.tsMs = nowMs;
      return;
    }
    if (!shapes) {
      shapes = [];
      byQuantity.set(order.quantity, shapes);
    }
    shapes.push({ type: order.type, price: order.price, stopPrice: order.stopPrice, tsMs: nowMs });
    if (++this.lastSentCount > this.lastSentSweepAt) this.sweepLastSent(nowMs);
  }

  /**
   * How long ago the same strategy sent the same order (symbol, side, quantity, type, limit and stop
   * price), if within the window (NaN when not, or when the window is 0: the guard is off). Orders
   * of other strategies, or the manual ticket's ('manual'), are never duplicates of this one; nor
   * are a position's stop-loss and take-profit (same size, different type or price).
   */
  private duplicateAgeMs(order: Order, nowMs: number, windowMs: number): number {
    if (!(windowMs > 0)) return NaN;
    const sides = this.lastSent.get(order.strategyId)?.get(order.symbol);
    if (!sides) return NaN;
    const shape = findShape((order.side === 'buy' ? sides.buy : sides.sell).get(order.quantity), order);
    if (shape === undefined) return NaN;
    const ageMs = nowMs - shape.tsMs;
    return ageMs < windowMs ? ageMs : NaN;
  }

  /** Bounds the duplicate memory: forgets orders older than the longest window allowed; amortised O(1) per order. */
  private sweepLastSent(nowMs: number): void {
    const oldestMs = nowMs - MAX_DUPLICATE_WINDOW_MS;
    let kept = 0;
    for (const bySymbol of this.lastSent.values()) {
      for (const sides of bySymbol.values()) {
        for (const byQuantity of [sides.buy, sides.sell]) {
          for (const [quantity, shapes] of byQuantity) {
            const recent = shapes.filter((shape) => shape.tsMs >= oldestMs);
            if (recent.length === 0) byQuantity.delete(quantity);
            else byQuantity.set(quantity, recent);
            kept += recent.length;
          }
        }
      }
    }
    this.lastSentCount = kept;
    this.lastSentSweepAt = Math.max(SENT_SWEEP_MIN, 2 * kept);
  }
}

function countSince(ring: { times: Float64Array; count: number } | undefined, sinceMs: number): number {
  if (!ring) return 0;
  const kept = Math.min(ring.count, RING_SIZE);
  // k-th newest (1-based) is at (count - k) % RING_SIZE; find the largest k whose time > sinceMs.
  let lo = 0;
  let hi = kept;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    const t = ring.times[(ring.count - mid) % RING_SIZE]!;
    if (t > sinceMs) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function inTradingHours(
  hours: { startMinuteUtc: number; endMinuteUtc: number } | null,
  minute: number,
): boolean {
  if (!hours) return true;
  const { startMinuteUtc: start, endMinuteUtc: end } = hours;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

// Check names and units, by the index check() passes to result().
const CHECK_NAMES = [
  'kill-switch',
  'daily-loss',
  'drawdown',
  'stale-feed',
  'unknown-order',
  'allowed-symbol',
  'trading-hours',
  'reduce-only',
  'venue-min-quantity',
  'venue-max-quantity',
  'venue-min-notional',
  'venue-precision',
  'venue-rules',
  'price-band',
  'order-notional',
  'order-pct-available',
  'position-pct-equity',
  'gross-leverage',
  'open-orders',
  'order-rate-strategy',
  'order-rate-global',
  'duplicate-order',
] as const;
const CHECK_UNITS: readonly string[] = [
  'flag',
  '%',
  '%',
  'ms',
  'orders',
  'flag',
  'minute UTC',
  'flag',
  'base',
  'base',
  'quote',
  'flag',
  'flag',
  '%',
  'quote',
  '%',
  '%',
  'x',
  'orders',
  'orders/window',
  'orders/window',
  'orders',
];
const C_KILL_SWITCH = 0;
const C_DAILY_LOSS = 1;
const C_DRAWDOWN = 2;
const C_STALE_FEED = 3;
const C_UNKNOWN_ORDER = 4;
const C_ALLOWED_SYMBOL = 5;
const C_TRADING_HOURS = 6;
const C_REDUCE_ONLY = 7;
const C_VENUE_MIN_QUANTITY = 8;
const C_VENUE_MAX_QUANTITY = 9;
const C_VENUE_MIN_NOTIONAL = 10;
const C_VENUE_PRECISION = 11;
const C_VENUE_RULES = 12;
const C_PRICE_BAND = 13;
const C_ORDER_NOTIONAL = 14;
const C_ORDER_PCT_AVAILABLE = 15;
const C_POSITION_PCT_EQUITY = 16;
const C_GROSS_LEVERAGE = 17;
const C_OPEN_ORDERS = 18;
const C_ORDER_RATE_STRATEGY = 19;
const C_ORDER_RATE_GLOBAL = 20;
const C_DUPLICATE_ORDER = 21;

/** A check's result; its message is written later, and only where someone reads it (see check()). */
function result(
  check: number,
  isPassed: boolean,
  value: number,
  limit: number,
  unit = CHECK_UNITS[check]!,
): RiskCheckResult {
  return { check: CHECK_NAMES[check]!, isPassed, value, limit, unit, message: '' };
}

/** What the messages of one check() are written from, besides each result's own numbers. */
interface CheckFacts {
  order: Order;
  limits: RiskLimits;
  rules: MarketRules | null;
  kill: { message: string; sinceMs: number } | undefined;
  feedAge: number;
  hasData: boolean;
  band: number;
  reference: number | null;
  hasPrice: boolean;
  pctAvailable: number;
  available: number;
  positionPct: number;
  leverage: number;
  /** NaN: no duplicate in the window (or the guard is off). */
  duplicateAgeMs: number;
}

function describeCheck(r: RiskCheckResult, f: CheckFacts): string {
  const { order, limits } = f;
  const symbol = order.symbol;
  const rules = f.rules!;
  switch (r.check) {
    case 'kill-switch':
      return f.kill ? `kill switch engaged: ${f.kill.message}` : 'kill switch off';
    case 'daily-loss':
      return `daily loss ${fmt(r.value)}% of start-of-day equity (limit ${limits.dailyLossLimitPct}%)`;
    case 'drawdown':
      return `drawdown ${fmt(r.value)}% from peak equity (limit ${limits.maxDrawdownPct}%)`;
    case 'stale-feed':
      return f.hasData
        ? `last market data ${Math.round(f.feedAge)} ms ago (limit ${limits.maxFeedAgeMs} ms)`
        : `no market data for ${symbol}`;
    case 'unknown-order':
      return r.value === 1
        ? `an order on ${symbol} is in UNKNOWN state; new orders wait until it is resolved`
        : 'no unknown orders';
    case 'allowed-symbol':
      return r.value === 1 ? `${symbol} allowed` : `${symbol} is not in the allowed symbols`;
    case 'trading-hours':
      return r.isPassed ? 'inside trading hours' : `outside trading hours (minute ${r.value} UTC)`;
    case 'reduce-only':
      if (r.limit !== 1) return 'not reduce-only';
      return r.value === 1
        ? 'reduces the position'
        : `${order.isReduceOnly ? 'reduce-only order' : `${symbol} is reduce-only`} but this order would open or grow a position`;
    case 'venue-min-quantity':
      return `quantity ${order.quantity} (venue minimum ${rules.minQuantity})`;
    case 'venue-max-quantity':
      return `quantity ${order.quantity} (venue maximum ${rules.maxQuantity})`;
    case 'venue-min-notional':
      return `notional ${fmt(r.value)} (venue minimum ${rules.minNotional})`;
    case 'venue-precision':
      return r.value === 1
        ? 'quantity and prices on the venue grid'
        : `quantity must be a multiple of ${rules.quantityStep} and prices of ${rules.tickSize}`;
    case 'venue-rules':
      return `no trading rules known for ${symbol}`;
    case 'price-band':
      if (order.price === null) return 'no limit price';
      return f.reference
        ? `price ${order.price} is ${fmt(f.band)}% from the reference ${f.reference} (band ${limits.priceBandPct}%)`
        : 'no reference price to check the band against';
    case 'order-notional':
      return f.hasPrice
        ? `notional ${fmt(r.value)} (limit ${limits.maxOrderNotional})`
        : 'no price to value the order';
    case 'order-pct-available':
      return `order is ${fmt(f.pctAvailable)}% of the available balance ${fmt(f.available)} (limit ${limits.maxOrderPctOfAvailable}%)`;
    case 'position-pct-equity':
      return `position after the order ${fmt(f.positionPct)}% of equity (limit ${limits.maxPositionPctOfEquity}%)`;
    case 'gross-leverage':
      return `gross leverage after the order ${fmt(f.leverage)}x (limit ${limits.maxGrossLeverage}x)`;
    case 'open-orders':
      return `${r.value - 1} open orders for ${order.strategyId} (limit ${limits.maxOpenOrders})`;
    case 'order-rate-strategy':
      return `${r.value} orders from ${order.strategyId} in ${limits.orderRateWindowMs} ms (limit ${limits.maxOrdersPerWindow})`;
    case 'order-rate-global':
      return `${r.value} orders in ${limits.orderRateWindowMs} ms (limit ${limits.maxGlobalOrdersPerWindow})`;
    case 'duplicate-order':
      if (!(limits.duplicateWindowMs > 0)) return 'duplicate guard off (window 0 ms)';
      return Number.isNaN(f.duplicateAgeMs)
        ? `no identical order from ${order.strategyId} in the last ${limits.duplicateWindowMs} ms`
        : `${order.strategyId} sent an identical ${order.type} ${order.side} ${order.quantity} ${symbol} order ${Math.round(f.duplicateAgeMs)} ms ago (window ${limits.duplicateWindowMs} ms)`;
    default:
      return r.check;
  }
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}
