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
  private readonly limitsCache = new Map<string, RiskLimits>();
  private readonly allowedSets = new WeakMap<readonly string[], Set<string>>();
  // Order timestamps for rate limits: one global ring and one per strategy (sliding windows).
  private readonly globalTimes = new Float64Array(RING_SIZE);
  private globalCount = 0;
  private readonly strategyTimes = new Map<string, { times: Float64Array; count: number }>();
  // Last time each symbol/side/quantity was sent, for the duplicate guard.
  private readonly lastSent = new Map<string, number>();
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
    const key = `${strategyId}\u0000${symbol}`;
    let limits = this.limitsCache.get(key);
    if (!limits) {
      limits = effectiveLimits(this.config, strategyId, symbol);
      this.limitsCache.set(key, limits);
    }
    return limits;
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

  /** Every rule for one order. isDetailed: write a message for passed checks too (order ticket preview). */
  check(order: Order, isDetailed = false): RiskVerdict {
    isDetailedNow = isDetailed;
    const checks: RiskCheckResult[] = [];
    const limits = this.limitsFor(order.strategyId, order.symbol);
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

    // Halts.
    const kill = this.halts.get('kill-switch');
    checks.push(result('kill-switch', !kill || (order.isReduceOnly && isReducing), kill ? 1 : 0, 0, 'flag', () => kill ? `kill switch engaged: ${kill.message}` : 'kill switch off'));
    const dailyLoss = this.dailyLossPct(equity);
    const isDailyOk = (dailyLoss < limits.dailyLossLimitPct && !this.halts.has('daily-loss')) || isReducing;
    checks.push(result('daily-loss', isDailyOk, dailyLoss, limits.dailyLossLimitPct, '%', () => `daily loss ${fmt(dailyLoss)}% of start-of-day equity (limit ${limits.dailyLossLimitPct}%)`));
    const drawdown = this.drawdownPct(equity);
    const isDrawdownOk = (drawdown < limits.maxDrawdownPct && !this.halts.has('drawdown')) || isReducing;
    checks.push(result('drawdown', isDrawdownOk, drawdown, limits.maxDrawdownPct, '%', () => `drawdown ${fmt(drawdown)}% from peak equity (limit ${limits.maxDrawdownPct}%)`));
    const lastDataMs = this.inputs.lastMarketDataMs(symbol);
    const feedAge = lastDataMs === null ? Infinity : nowMs - lastDataMs;
    checks.push(result('stale-feed', feedAge <= limits.maxFeedAgeMs, finiteOr(feedAge, -1), limits.maxFeedAgeMs, 'ms', () => lastDataMs === null ? `no market data for ${symbol}` : `last market data ${Math.round(feedAge)} ms ago (limit ${limits.maxFeedAgeMs} ms)`));
    const hasUnknown = this.inputs.hasUnknownOrder(symbol);
    checks.push(result('unknown-order', !hasUnknown, hasUnknown ? 1 : 0, 0, 'orders', () => hasUnknown ? `an order on ${symbol} is in UNKNOWN state; new orders wait until it is resolved` : 'no unknown orders'));

    // Where and when.
    const isAllowed = limits.allowedSymbols === null || this.allowedSet(limits.allowedSymbols).has(symbol);
    checks.push(result('allowed-symbol', isAllowed, isAllowed ? 1 : 0, 1, 'flag', () => isAllowed ? `${symbol} allowed` : `${symbol} is not in the allowed symbols`));
    const minuteOfDay = Math.floor((nowMs % DAY_MS) / 60_000);
    const isInHours = inTradingHours(limits.tradingHours, minuteOfDay);
    checks.push(result('trading-hours', isInHours, minuteOfDay, limits.tradingHours?.endMinuteUtc ?? 1440, 'minute UTC', () => isInHours ? 'inside trading hours' : `outside trading hours (minute ${minuteOfDay} UTC)`));
    const mustReduce = this.isAccountReduceOnly_ || this.reduceOnly.has(symbol) || order.isReduceOnly;
    checks.push(result('reduce-only', !mustReduce || isReducing, isReducing ? 1 : 0, mustReduce ? 1 : 0, 'flag', () => mustReduce ? (isReducing ? 'reduces the position' : `${order.isReduceOnly ? 'reduce-only order' : `${symbol} is reduce-only`} but this order would open or grow a position`) : 'not reduce-only'));

    // Venue rules.
    if (rules) {
      checks.push(result('venue-min-quantity', order.quantity >= rules.minQuantity, order.quantity, rules.minQuantity, 'base', () => `quantity ${order.quantity} (venue minimum ${rules.minQuantity})`));
      checks.push(result('venue-max-quantity', order.quantity <= rules.maxQuantity, order.quantity, rules.maxQuantity, 'base', () => `quantity ${order.quantity} (venue maximum ${rules.maxQuantity})`));
      checks.push(result('venue-min-notional', notional >= rules.minNotional, notional, rules.minNotional, 'quote', () => `notional ${fmt(notional)} (venue minimum ${rules.minNotional})`));
      const isPrecise =
        isMultipleOfStep(order.quantity, rules.quantityStep) &&
        (order.price === null || isMultipleOfStep(order.price, rules.tickSize)) &&
        (order.stopPrice === null || isMultipleOfStep(order.stopPrice, rules.tickSize));
      checks.push(result('venue-precision', isPrecise, isPrecise ? 1 : 0, 1, 'flag', () => isPrecise ? 'quantity and prices on the venue grid' : `quantity must be a multiple of ${rules.quantityStep} and prices of ${rules.tickSize}`));
    } else {
      checks.push(result('venue-rules', false, 0, 1, 'flag', () => `no trading rules known for ${symbol}`));
    }

    // Price and size.
    const bandPrice = order.price;
    let band = 0;
    if (bandPrice !== null) band = reference && reference > 0 ? (Math.abs(bandPrice - reference) / reference) * 100 : Infinity;
    checks.push(result('price-band', band <= limits.priceBandPct, finiteOr(band, -1), limits.priceBandPct, '%', () => bandPrice === null ? 'no limit price' : reference ? `price ${bandPrice} is ${fmt(band)}% from the reference ${reference} (band ${limits.priceBandPct}%)` : 'no reference price to check the band against'));
    const hasPrice = priceForNotional > 0;
    checks.push(result('order-notional', hasPrice && notional <= limits.maxOrderNotional, notional, limits.maxOrderNotional, 'quote', () => hasPrice ? `notional ${fmt(notional)} (limit ${limits.maxOrderNotional})` : 'no price to value the order'));
    const available = portfolio.availableBalance();
    const pctAvailable = isReducing ? 0 : available > 0 ? (notional / available) * 100 : notional > 0 ? Infinity : 0;
    checks.push(result('order-pct-available', pctAvailable <= limits.maxOrderPctOfAvailable, finiteOr(pctAvailable, -1), limits.maxOrderPctOfAvailable, '%', () => `order is ${fmt(pctAvailable)}% of the available balance ${fmt(available)} (limit ${limits.maxOrderPctOfAvailable}%)`));
    const markPrice = reference ?? portfolio.markPrice(symbol);
    const valuationPrice = markPrice > 0 ? markPrice : priceForNotional;
    const positionPct = equity > 0 ? ((Math.abs(after) * valuationPrice) / equity) * 100 : Infinity;
    const isPositionOk = positionPct <= limits.maxPositionPctOfEquity || Math.abs(after) <= Math.abs(net);
    checks.push(result('position-pct-equity', isPositionOk, finiteOr(positionPct, -1), limits.maxPositionPctOfEquity, '%', () => `position after the order ${fmt(positionPct)}% of equity (limit ${limits.maxPositionPctOfEquity}%)`));
    const grossBefore = portfolio.grossExposure();
    const symbolGrossBefore = Math.abs(net) * (portfolio.markPrice(symbol) || valuationPrice);
    const grossAfter = grossBefore - symbolGrossBefore + Math.abs(after) * valuationPrice;
    const leverage = equity > 0 ? grossAfter / equity : Infinity;
    const isLeverageOk = leverage <= limits.maxGrossLeverage || Math.abs(after) <= Math.abs(net);
    checks.push(result('gross-leverage', isLeverageOk, finiteOr(leverage, -1), limits.maxGrossLeverage, 'x', () => `gross leverage after the order ${fmt(leverage)}x (limit ${limits.maxGrossLeverage}x)`));

    // Activity.
    const openOrders = this.inputs.openOrderCount(order.strategyId);
    checks.push(result('open-orders', openOrders + 1 <= limits.maxOpenOrders, openOrders + 1, limits.maxOpenOrders, 'orders', () => `${openOrders} open orders for ${order.strategyId} (limit ${limits.maxOpenOrders})`));
    const windowStart = nowMs - limits.orderRateWindowMs;
    const strategyRate = countSince(this.strategyTimes.get(order.strategyId), windowStart) + 1;
    checks.push(result('order-rate-strategy', strategyRate <= limits.maxOrdersPerWindow, strategyRate, limits.maxOrdersPerWindow, `orders/${limits.orderRateWindowMs}ms`, () => `${strategyRate} orders from ${order.strategyId} in ${limits.orderRateWindowMs} ms (limit ${limits.maxOrdersPerWindow})`));
    const globalRate = countSince({ times: this.globalTimes, count: this.globalCount }, windowStart) + 1;
    checks.push(result('order-rate-global', globalRate <= limits.maxGlobalOrdersPerWindow, globalRate, limits.maxGlobalOrdersPerWindow, `orders/${limits.orderRateWindowMs}ms`, () => `${globalRate} orders in ${limits.orderRateWindowMs} ms (limit ${limits.maxGlobalOrdersPerWindow})`));
    const duplicates = this.countDuplicates(order, nowMs - limits.duplicateWindowMs);
    checks.push(result('duplicate-order', duplicates === 0, duplicates, 0, 'orders', () => duplicates === 0 ? 'no identical order in the window' : `an identical ${order.side} ${order.quantity} ${symbol} order was sent less than ${limits.duplicateWindowMs} ms ago`));

    let reason: string | null = null;
    for (const c of checks) {
      if (!c.isPassed) {
        reason = `Order not sent: ${c.message} (${c.check}).`;
        break;
      }
    }
    return { isApproved: reason === null, checks, reason };
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
    this.lastSent.set(duplicateKey(order), nowMs);
    // Bound the map: forget entries older than a day (longer than any duplicate window).
    if (this.lastSent.size > 10_000) {
      for (const [key, tsMs] of this.lastSent) if (tsMs < nowMs - 86_400_000) this.lastSent.delete(key);
    }
  }

  private countDuplicates(order: Order, sinceMs: number): number {
    const last = this.lastSent.get(duplicateKey(order));
    return last !== undefined && last >= sinceMs ? 1 : 0;
  }
}

function duplicateKey(order: Order): string {
  return `${order.symbol}|${order.side}|${order.quantity}`;
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

// Messages are written only where someone reads them (failed checks, or a detailed preview):
// formatting 21 strings per order would cost more than the checks themselves.
let isDetailedNow = false;
function result(check: string, isPassed: boolean, value: number, limit: number, unit: string, message: () => string): RiskCheckResult {
  return { check, isPassed, value, limit, unit, message: isPassed && !isDetailedNow ? '' : message() };
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}
