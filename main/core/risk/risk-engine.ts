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

interface SentBySide {
  buy: Map<number, number>;
  sell: Map<number, number>;
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
    return this.startOfDayEquity > 0 ? Math.max(0, ((this.startOfDayEquity - equity) / this.startOfDayEquity) * 100) : 0;
  }

  drawdownPct(equity: number): number {
    return this.peakEquity > 0 ? Math.max(0, ((this.peakEquity - equity) / this.peakEquity) * 100) : 0;
  }

  /**
   * Every rule for one order. isDetailed: write a message for passed checks too (order ticket
   * preview). Every rule is evaluated for every order; an approved order's results are kept as
   * numbers and become RiskCheckResult objects only when `verdict.checks` is read (an order
   * manager sending thousands of orders a second rarely reads them).
   */
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
    const f = new Float64Array(FACT_COUNT);

    // Halts.
    const kill = this.halts.get('kill-switch');
    put(f, C_KILL_SWITCH, !kill || (order.isReduceOnly && isReducing), kill ? 1 : 0, 0);
    const dailyLoss = this.dailyLossPct(equity);
    put(f, C_DAILY_LOSS, (dailyLoss < limits.dailyLossLimitPct && !this.halts.has('daily-loss')) || isReducing, dailyLoss, limits.dailyLossLimitPct);
    const drawdown = this.drawdownPct(equity);
    put(f, C_DRAWDOWN, (drawdown < limits.maxDrawdownPct && !this.halts.has('drawdown')) || isReducing, drawdown, limits.maxDrawdownPct);
    const lastDataMs = this.inputs.lastMarketDataMs(symbol);
    const feedAge = lastDataMs === null ? Infinity : nowMs - lastDataMs;
    put(f, C_STALE_FEED, feedAge <= limits.maxFeedAgeMs, finiteOr(feedAge, -1), limits.maxFeedAgeMs);
    f[X_FEED_AGE] = feedAge;
    f[X_HAS_DATA] = lastDataMs === null ? 0 : 1;
    const hasUnknown = this.inputs.hasUnknownOrder(symbol);
    put(f, C_UNKNOWN_ORDER, !hasUnknown, hasUnknown ? 1 : 0, 0);

    // Where and when.
    const isAllowed = limits.allowedSymbols === null || this.allowedSet(limits.allowedSymbols).has(symbol);
    put(f, C_ALLOWED_SYMBOL, isAllowed, isAllowed ? 1 : 0, 1);
    const minuteOfDay = Math.floor((nowMs % DAY_MS) / 60_000);
    put(f, C_TRADING_HOURS, inTradingHours(limits.tradingHours, minuteOfDay), minuteOfDay, limits.tradingHours?.endMinuteUtc ?? 1440);
    const mustReduce = this.isAccountReduceOnly_ || this.reduceOnly.has(symbol) || order.isReduceOnly;
    put(f, C_REDUCE_ONLY, !mustReduce || isReducing, isReducing ? 1 : 0, mustReduce ? 1 : 0);

    // Venue rules.
    if (rules) {
      put(f, C_VENUE_MIN_QUANTITY, order.quantity >= rules.minQuantity, order.quantity, rules.minQuantity);
      put(f, C_VENUE_MAX_QUANTITY, order.quantity <= rules.maxQuantity, order.quantity, rules.maxQuantity);
      put(f, C_VENUE_MIN_NOTIONAL, notional >= rules.minNotional, notional, rules.minNotional);
      const isPrecise =
        isMultipleOfStep(order.quantity, rules.quantityStep) &&
        (order.price === null || isMultipleOfStep(order.price, rules.tickSize)) &&
        (order.stopPrice === null || isMultipleOfStep(order.stopPrice, rules.tickSize));
      put(f, C_VENUE_PRECISION, isPrecise, isPrecise ? 1 : 0, 1);
    } else {
      put(f, C_VENUE_RULES, false, 0, 1);
    }

    // Price and size.
    const bandPrice = order.price;
    let band = 0;
    if (bandPrice !== null) band = reference && reference > 0 ? (Math.abs(bandPrice - reference) / reference) * 100 : Infinity;
    put(f, C_PRICE_BAND, band <= limits.priceBandPct, finiteOr(band, -1), limits.priceBandPct);
    f[X_BAND] = band;
    const hasPrice = priceForNotional > 0;
    put(f, C_ORDER_NOTIONAL, hasPrice && notional <= limits.maxOrderNotional, notional, limits.maxOrderNotional);
    const available = portfolio.availableBalance();
    const pctAvailable = isReducing ? 0 : available > 0 ? (notional / available) * 100 : notional > 0 ? Infinity : 0;
    put(f, C_ORDER_PCT_AVAILABLE, pctAvailable <= limits.maxOrderPctOfAvailable, finiteOr(pctAvailable, -1), limits.maxOrderPctOfAvailable);
    f[X_PCT_AVAILABLE] = pctAvailable;
    f[X_AVAILABLE] = available;
    const markPrice = reference ?? portfolio.markPrice(symbol);
    const valuationPrice = markPrice > 0 ? markPrice : priceForNotional;
    const positionPct = equity > 0 ? ((Math.abs(after) * valuationPrice) / equity) * 100 : Infinity;
    put(f, C_POSITION_PCT_EQUITY, positionPct <= limits.maxPositionPctOfEquity || Math.abs(after) <= Math.abs(net), finiteOr(positionPct, -1), limits.maxPositionPctOfEquity);
    f[X_POSITION_PCT] = positionPct;
    const grossBefore = portfolio.grossExposure();
    const symbolGrossBefore = Math.abs(net) * (portfolio.markPrice(symbol) || valuationPrice);
    const grossAfter = grossBefore - symbolGrossBefore + Math.abs(after) * valuationPrice;
    const leverage = equity > 0 ? grossAfter / equity : Infinity;
    put(f, C_GROSS_LEVERAGE, leverage <= limits.maxGrossLeverage || Math.abs(after) <= Math.abs(net), finiteOr(leverage, -1), limits.maxGrossLeverage);
    f[X_LEVERAGE] = leverage;

    // Activity.
    const openOrders = this.inputs.openOrderCount(order.strategyId);
    put(f, C_OPEN_ORDERS, openOrders + 1 <= limits.maxOpenOrders, openOrders + 1, limits.maxOpenOrders);
    const windowStart = nowMs - limits.orderRateWindowMs;
    const strategyRate = countSince(this.strategyTimes.get(order.strategyId), windowStart) + 1;
    put(f, C_ORDER_RATE_STRATEGY, strategyRate <= limits.maxOrdersPerWindow, strategyRate, limits.maxOrdersPerWindow);
    const globalRate = countSince({ times: this.globalTimes, count: this.globalCount }, windowStart) + 1;
    put(f, C_ORDER_RATE_GLOBAL, globalRate <= limits.maxGlobalOrdersPerWindow, globalRate, limits.maxGlobalOrdersPerWindow);
    const duplicateAgeMs = this.duplicateAgeMs(order, nowMs, limits.duplicateWindowMs);
    const duplicates = Number.isNaN(duplicateAgeMs) ? 0 : 1;
    put(f, C_DUPLICATE_ORDER, duplicates === 0, duplicates, 0);
    f[X_DUPLICATE_AGE] = duplicateAgeMs;
    f[X_REFERENCE] = reference ?? NaN;
    f[X_HAS_PRICE] = hasPrice ? 1 : 0;

    const facts: CheckFacts = { order, limits, rules, kill, rateUnit: entry.rateUnit, values: f };
    let failed = -1;
    for (let c = 0; c < CHECK_COUNT; c++) {
      if (isPresent(c, rules !== null) && f[c * 3] === 0) {
        failed = c;
        break;
      }
    }
    if (failed < 0 && !isDetailed) return approvedVerdict(facts);
    const checks = buildChecks(facts, isDetailed);
    return { isApproved: failed < 0, checks, reason: failed < 0 ? null : `Order not sent: ${describeCheck(failed, facts)} (${CHECK_NAMES[failed]}).` };
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
    const sizeBefore = byQuantity.size;
    byQuantity.set(order.quantity, nowMs);
    if (byQuantity.size > sizeBefore && ++this.lastSentCount > this.lastSentSweepAt) this.sweepLastSent(nowMs);
  }

  /**
   * How long ago the same strategy sent the same symbol, side and quantity, if within the window
   * (NaN when not, or when the window is 0: the guard is off). Orders of other strategies, or the
   * manual ticket's ('manual'), are never duplicates of this one.
   */
  private duplicateAgeMs(order: Order, nowMs: number, windowMs: number): number {
    if (!(windowMs > 0)) return NaN;
    const sides = this.lastSent.get(order.strategyId)?.get(order.symbol);
    if (!sides) return NaN;
    const lastMs = (order.side === 'buy' ? sides.buy : sides.sell).get(order.quantity);
    if (lastMs === undefined) return NaN;
    const ageMs = nowMs - lastMs;
    return ageMs < windowMs ? ageMs : NaN;
  }

  /** Bounds the duplicate memory: forgets orders older than the longest window allowed; amortised O(1) per order. */
  private sweepLastSent(nowMs: number): void {
    const oldestMs = nowMs - MAX_DUPLICATE_WINDOW_MS;
    let kept = 0;
    for (const bySymbol of this.lastSent.values()) {
      for (const sides of bySymbol.values()) {
        for (const byQuantity of [sides.buy, sides.sell]) {
          for (const [quantity, tsMs] of byQuantity) {
            if (tsMs < oldestMs) byQuantity.delete(quantity);
            else kept++;
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

function inTradingHours(hours: { startMinuteUtc: number; endMinuteUtc: number } | null, minute: number): boolean {
  if (!hours) return true;
  const { startMinuteUtc: start, endMinuteUtc: end } = hours;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

// The checks in the order they are reported, and where each one's numbers sit in a facts array:
// [isPassed (1/0), value, limit] at 3 x index, then the extra numbers messages are written from.
const CHECK_NAMES = [
  'kill-switch', 'daily-loss', 'drawdown', 'stale-feed', 'unknown-order', 'allowed-symbol', 'trading-hours', 'reduce-only',
  'venue-min-quantity', 'venue-max-quantity', 'venue-min-notional', 'venue-precision', 'venue-rules',
  'price-band', 'order-notional', 'order-pct-available', 'position-pct-equity', 'gross-leverage',
  'open-orders', 'order-rate-strategy', 'order-rate-global', 'duplicate-order',
] as const;
const CHECK_UNITS: readonly string[] = [
  'flag', '%', '%', 'ms', 'orders', 'flag', 'minute UTC', 'flag',
  'base', 'base', 'quote', 'flag', 'flag',
  '%', 'quote', '%', '%', 'x',
  'orders', '', '', 'orders',
];
const CHECK_COUNT = CHECK_NAMES.length;
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
const X_FEED_AGE = CHECK_COUNT * 3;
const X_HAS_DATA = X_FEED_AGE + 1;
const X_BAND = X_FEED_AGE + 2;
const X_REFERENCE = X_FEED_AGE + 3;
const X_HAS_PRICE = X_FEED_AGE + 4;
const X_PCT_AVAILABLE = X_FEED_AGE + 5;
const X_AVAILABLE = X_FEED_AGE + 6;
const X_POSITION_PCT = X_FEED_AGE + 7;
const X_LEVERAGE = X_FEED_AGE + 8;
const X_DUPLICATE_AGE = X_FEED_AGE + 9;
const FACT_COUNT = X_FEED_AGE + 10;

function put(f: Float64Array, check: number, isPassed: boolean, value: number, limit: number): void {
  f[check * 3] = isPassed ? 1 : 0;
  f[check * 3 + 1] = value;
  f[check * 3 + 2] = limit;
}

/** With market rules the four venue checks are reported; without, the single venue-rules failure. */
function isPresent(check: number, hasRules: boolean): boolean {
  if (check === C_VENUE_RULES) return !hasRules;
  if (check >= C_VENUE_MIN_QUANTITY && check <= C_VENUE_PRECISION) return hasRules;
  return true;
}

/** What one check() decided, kept as numbers (see the layout above) until someone reads the results. */
interface CheckFacts {
  order: Order;
  limits: RiskLimits;
  rules: MarketRules | null;
  kill: { message: string; sinceMs: number } | undefined;
  rateUnit: string;
  values: Float64Array;
}

function buildChecks(facts: CheckFacts, isDetailed: boolean): RiskCheckResult[] {
  const f = facts.values;
  const hasRules = facts.rules !== null;
  const checks: RiskCheckResult[] = [];
  for (let c = 0; c < CHECK_COUNT; c++) {
    if (!isPresent(c, hasRules)) continue;
    const isPassed = f[c * 3] === 1;
    checks.push({
      check: CHECK_NAMES[c]!,
      isPassed,
      value: f[c * 3 + 1]!,
      limit: f[c * 3 + 2]!,
      unit: c === C_ORDER_RATE_STRATEGY || c === C_ORDER_RATE_GLOBAL ? facts.rateUnit : CHECK_UNITS[c]!,
      // Messages are written only where someone reads them (failed checks, or a detailed preview).
      message: isPassed && !isDetailed ? '' : describeCheck(c, facts),
    });
  }
  return checks;
}

/** An approved verdict whose results are built on first read (then kept). */
function approvedVerdict(facts: CheckFacts): RiskVerdict {
  let checks: RiskCheckResult[] | null = null;
  return {
    isApproved: true,
    reason: null,
    get checks(): RiskCheckResult[] {
      checks ??= buildChecks(facts, false);
      return checks;
    },
    set checks(value: RiskCheckResult[]) {
      checks = value;
    },
  };
}

function describeCheck(check: number, facts: CheckFacts): string {
  const { order, limits, values: f } = facts;
  const symbol = order.symbol;
  const rules = facts.rules!;
  const isPassed = f[check * 3] === 1;
  const value = f[check * 3 + 1]!;
  switch (check) {
    case C_KILL_SWITCH:
      return facts.kill ? `kill switch engaged: ${facts.kill.message}` : 'kill switch off';
    case C_DAILY_LOSS:
      return `daily loss ${fmt(value)}% of start-of-day equity (limit ${limits.dailyLossLimitPct}%)`;
    case C_DRAWDOWN:
      return `drawdown ${fmt(value)}% from peak equity (limit ${limits.maxDrawdownPct}%)`;
    case C_STALE_FEED:
      return f[X_HAS_DATA] === 0 ? `no market data for ${symbol}` : `last market data ${Math.round(f[X_FEED_AGE]!)} ms ago (limit ${limits.maxFeedAgeMs} ms)`;
    case C_UNKNOWN_ORDER:
      return value === 1 ? `an order on ${symbol} is in UNKNOWN state; new orders wait until it is resolved` : 'no unknown orders';
    case C_ALLOWED_SYMBOL:
      return value === 1 ? `${symbol} allowed` : `${symbol} is not in the allowed symbols`;
    case C_TRADING_HOURS:
      return isPassed ? 'inside trading hours' : `outside trading hours (minute ${value} UTC)`;
    case C_REDUCE_ONLY: {
      const mustReduce = f[check * 3 + 2] === 1;
      const isReducing = value === 1;
      if (!mustReduce) return 'not reduce-only';
      return isReducing ? 'reduces the position' : `${order.isReduceOnly ? 'reduce-only order' : `${symbol} is reduce-only`} but this order would open or grow a position`;
    }
    case C_VENUE_MIN_QUANTITY:
      return `quantity ${order.quantity} (venue minimum ${rules.minQuantity})`;
    case C_VENUE_MAX_QUANTITY:
      return `quantity ${order.quantity} (venue maximum ${rules.maxQuantity})`;
    case C_VENUE_MIN_NOTIONAL:
      return `notional ${fmt(value)} (venue minimum ${rules.minNotional})`;
    case C_VENUE_PRECISION:
      return value === 1 ? 'quantity and prices on the venue grid' : `quantity must be a multiple of ${rules.quantityStep} and prices of ${rules.tickSize}`;
    case C_VENUE_RULES:
      return `no trading rules known for ${symbol}`;
    case C_PRICE_BAND: {
      const reference = f[X_REFERENCE]!;
      if (order.price === null) return 'no limit price';
      return !Number.isNaN(reference) && reference !== 0
        ? `price ${order.price} is ${fmt(f[X_BAND]!)}% from the reference ${reference} (band ${limits.priceBandPct}%)`
        : 'no reference price to check the band against';
    }
    case C_ORDER_NOTIONAL:
      return f[X_HAS_PRICE] === 1 ? `notional ${fmt(value)} (limit ${limits.maxOrderNotional})` : 'no price to value the order';
    case C_ORDER_PCT_AVAILABLE:
      return `order is ${fmt(f[X_PCT_AVAILABLE]!)}% of the available balance ${fmt(f[X_AVAILABLE]!)} (limit ${limits.maxOrderPctOfAvailable}%)`;
    case C_POSITION_PCT_EQUITY:
      return `position after the order ${fmt(f[X_POSITION_PCT]!)}% of equity (limit ${limits.maxPositionPctOfEquity}%)`;
    case C_GROSS_LEVERAGE:
      return `gross leverage after the order ${fmt(f[X_LEVERAGE]!)}x (limit ${limits.maxGrossLeverage}x)`;
    case C_OPEN_ORDERS:
      return `${value - 1} open orders for ${order.strategyId} (limit ${limits.maxOpenOrders})`;
    case C_ORDER_RATE_STRATEGY:
      return `${value} orders from ${order.strategyId} in ${limits.orderRateWindowMs} ms (limit ${limits.maxOrdersPerWindow})`;
    case C_ORDER_RATE_GLOBAL:
      return `${value} orders in ${limits.orderRateWindowMs} ms (limit ${limits.maxGlobalOrdersPerWindow})`;
    case C_DUPLICATE_ORDER: {
      const ageMs = f[X_DUPLICATE_AGE]!;
      if (!(limits.duplicateWindowMs > 0)) return 'duplicate guard off (window 0 ms)';
      return Number.isNaN(ageMs)
        ? `no identical order from ${order.strategyId} in the last ${limits.duplicateWindowMs} ms`
        : `${order.strategyId} sent an identical ${order.side} ${order.quantity} ${symbol} order ${Math.round(ageMs)} ms ago (window ${limits.duplicateWindowMs} ms)`;
    }
    default:
      return CHECK_NAMES[check] ?? 'unknown check';
  }
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}
