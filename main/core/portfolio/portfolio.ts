import type {
  AccountSummary,
  Fill,
  OrderSide,
  PortfolioSnapshot,
  Position,
} from '../../../shared/trading.ts';

/**
 * Positions, cash and P&L in one quote currency. Positions are kept per (strategy, symbol) and
 * summed per symbol for exposure; quantities are signed (short allowed: margin accounts).
 *
 * Two entry points:
 * - applyFill(fill): idempotent by fill id (a fill seen twice changes nothing), used live, in paper
 *   trading and when reconciling fills after a restart;
 * - applyTrade(slot, ...): the allocation-free fast path for a backtest's hot loop, on a slot
 *   obtained once with slot(strategyId, symbol).
 * Average price: a fill that grows a position moves the average; one that reduces it realises
 * (price - average) x closed quantity and leaves the average; one that flips it opens the
 * remainder at the fill price.
 */
export interface PositionSlot {
  readonly symbol: string;
  readonly strategyId: string;
  /** Signed base quantity. */
  quantity: number;
  averagePrice: number;
  realisedPnl: number;
  feesPaid: number;
  readonly market: SymbolState;
}

export interface SymbolState {
  readonly symbol: string;
  markPrice: number;
  /** Net signed quantity across strategies. */
  netQuantity: number;
  readonly slots: PositionSlot[];
}

// Below this (relative to the trade size) a position is flat: float noise, not inventory.
const FLAT_EPSILON = 1e-9;

export interface PortfolioOptions {
  startingCash: number;
  currency: string;
}

export class Portfolio {
  readonly currency: string;
  cash: number;
  private readonly symbols = new Map<string, SymbolState>();
  private readonly symbolList: SymbolState[] = [];
  /** Slots by strategy, then symbol (no key string built per fill). */
  private readonly slotsByStrategy = new Map<string, Map<string, PositionSlot>>();
  private readonly seenFillIds = new Set<string>();
  private realisedTotal = 0;
  private feesTotal = 0;
  /** Quote cash reserved by working buy orders (and margin for sells that open shorts); the trading service keeps it (execution/cash-reservations.ts). */
  reservedCash = 0;
  lastUpdateMs = 0;

  constructor(options: PortfolioOptions) {
    if (!Number.isFinite(options.startingCash) || options.startingCash < 0) {
      throw new Error(`starting cash must be a finite number >= 0, got ${options.startingCash}`);
    }
    this.cash = options.startingCash;
    this.currency = options.currency;
  }

  /** The market state of a symbol (created on first use). */
  market(symbol: string): SymbolState {
    let state = this.symbols.get(symbol);
    if (!state) {
      state = { symbol, markPrice: 0, netQuantity: 0, slots: [] };
      this.symbols.set(symbol, state);
      this.symbolList.push(state);
    }
    return state;
  }

  /** The position slot of a strategy in a symbol (created on first use); keep it for applyTrade. */
  slot(strategyId: string, symbol: string): PositionSlot {
    let bySymbol = this.slotsByStrategy.get(strategyId);
    if (!bySymbol) {
      bySymbol = new Map();
      this.slotsByStrategy.set(strategyId, bySymbol);
    }
    let slot = bySymbol.get(symbol);
    if (!slot) {
      const market = this.market(symbol);
      slot = { symbol, strategyId, quantity: 0, averagePrice: 0, realisedPnl: 0, feesPaid: 0, market };
      bySymbol.set(symbol, slot);
      market.slots.push(slot);
    }
    return slot;
  }

  hasFill(fillId: string): boolean {
    return this.seenFillIds.has(fillId);
  }

  /**
   * Applies a fill once: returns false (and changes nothing) when its id was applied before.
   * feeCurrency other than the account currency is taken to be the base asset (Binance charges
   * spot fees in the received asset) and converted at the fill price.
   */
  applyFill(fill: Fill): boolean {
    if (!(fill.quantity > 0) || !(fill.price > 0) || !Number.isFinite(fill.fee)) {
      // A fill seen before is ignored whatever it holds; a new invalid one is a broken invariant.
      if (this.seenFillIds.has(fill.fillId)) return false;
      throw new Error(
        `invalid fill ${fill.fillId}: quantity ${fill.quantity}, price ${fill.price}, fee ${fill.fee}`,
      );
    }
    // One lookup: a known id leaves the set's size unchanged.
    const known = this.seenFillIds.size;
    this.seenFillIds.add(fill.fillId);
    if (this.seenFillIds.size === known) return false;
    const feeQuote =
      fill.feeCurrency === this.currency || fill.feeCurrency === '' ? fill.fee : fill.fee * fill.price;
    this.applyTrade(
      this.slot(fill.strategyId, fill.symbol),
      fill.side === 'buy' ? 1 : -1,
      fill.quantity,
      fill.price,
      feeQuote,
    );
    if (fill.tsMs > this.lastUpdateMs) this.lastUpdateMs = fill.tsMs;
    return true;
  }

  /** Fast path: no id check, no allocation. sign +1 buy, -1 sell; fee in the account currency. */
  applyTrade(slot: PositionSlot, sign: 1 | -1, quantity: number, price: number, feeQuote: number): void {
    const before = slot.quantity;
    const signedQuantity = sign * quantity;
    this.cash -= signedQuantity * price + feeQuote;
    slot.feesPaid += feeQuote;
    this.feesTotal += feeQuote;
    if (before === 0 || before > 0 === sign > 0) {
      const absBefore = Math.abs(before);
      slot.averagePrice = (absBefore * slot.averagePrice + quantity * price) / (absBefore + quantity);
      slot.quantity = before + signedQuantity;
    } else {
      const absBefore = Math.abs(before);
      const closed = quantity < absBefore ? quantity : absBefore;
      const pnl = closed * (price - slot.averagePrice) * (before > 0 ? 1 : -1);
      slot.realisedPnl += pnl;
      this.realisedTotal += pnl;
      let after = before + signedQuantity;
      if (Math.abs(after) <= FLAT_EPSILON * Math.max(quantity, absBefore)) after = 0;
      slot.quantity = after;
      if (after === 0) slot.averagePrice = 0;
      else if (after > 0 !== before > 0) slot.averagePrice = price;
    }
    const market = slot.market;
    let net = market.netQuantity + signedQuantity;
    if (Math.abs(net) <= FLAT_EPSILON * Math.max(quantity, Math.abs(market.netQuantity))) net = 0;
    market.netQuantity = net;
    if (market.markPrice === 0) market.markPrice = price;
  }

  /** Marks a symbol at a price (last trade or mid); unrealised P&L and equity follow. */
  mark(symbol: string, price: number): void {
    if (!(price > 0) || !Number.isFinite(price)) return;
    this.market(symbol).markPrice = price;
  }

  markPrice(symbol: string): number {
    return this.symbols.get(symbol)?.markPrice ?? 0;
  }

  /** Net signed quantity of a symbol across strategies. */
  netQuantity(symbol: string): number {
    return this.symbols.get(symbol)?.netQuantity ?? 0;
  }

  equity(): number {
    let value = this.cash;
    const list = this.symbolList;
    for (let i = 0; i < list.length; i++) {
      const m = list[i]!;
      value += m.netQuantity * m.markPrice;
    }
    return value;
  }

  grossExposure(): number {
    let gross = 0;
    const list = this.symbolList;
    for (let i = 0; i < list.length; i++) {
      const m = list[i]!;
      gross += Math.abs(m.netQuantity * m.markPrice);
    }
    return gross;
  }

  netExposure(): number {
    let net = 0;
    for (const m of this.symbolList) net += m.netQuantity * m.markPrice;
    return net;
  }

  unrealisedPnl(): number {
    let total = 0;
    for (const m of this.symbolList) {
      for (const s of m.slots) if (s.quantity !== 0) total += s.quantity * (m.markPrice - s.averagePrice);
    }
    return total;
  }

  realisedPnl(): number {
    return this.realisedTotal;
  }

  feesPaid(): number {
    return this.feesTotal;
  }

  availableBalance(): number {
    return Math.max(0, this.cash - this.reservedCash);
  }

  /** Quantity that a reduce-only order on side may trade without opening or flipping the net position. */
  reducibleQuantity(symbol: string, side: OrderSide): number {
    const net = this.netQuantity(symbol);
    if (side === 'sell') return net > 0 ? net : 0;
    return net < 0 ? -net : 0;
  }

  summary(): AccountSummary {
    return {
      currency: this.currency,
      cash: this.cash,
      equity: this.equity(),
      grossExposure: this.grossExposure(),
      netExposure: this.netExposure(),
      realisedPnl: this.realisedTotal,
      unrealisedPnl: this.unrealisedPnl(),
      feesPaid: this.feesTotal,
      availableBalance: this.availableBalance(),
    };
  }

  positions(): Position[] {
    const out: Position[] = [];
    for (const m of this.symbolList) {
      for (const s of m.slots) {
        if (s.quantity === 0 && s.realisedPnl === 0 && s.feesPaid === 0) continue;
        out.push({
          symbol: s.symbol,
          strategyId: s.strategyId,
          quantity: s.quantity,
          averagePrice: s.averagePrice,
          markPrice: m.markPrice,
          realisedPnl: s.realisedPnl,
          unrealisedPnl: s.quantity === 0 ? 0 : s.quantity * (m.markPrice - s.averagePrice),
          feesPaid: s.feesPaid,
        });
      }
    }
    return out;
  }

  snapshot(tsMs: number): PortfolioSnapshot {
    const positions = this.positions();
    const byStrategy = new Map<
      string,
      { strategyId: string; realisedPnl: number; unrealisedPnl: number; feesPaid: number }
    >();
    for (const p of positions) {
      let s = byStrategy.get(p.strategyId);
      if (!s) {
        s = { strategyId: p.strategyId, realisedPnl: 0, unrealisedPnl: 0, feesPaid: 0 };
        byStrategy.set(p.strategyId, s);
      }
      s.realisedPnl += p.realisedPnl;
      s.unrealisedPnl += p.unrealisedPnl;
      s.feesPaid += p.feesPaid;
    }
    return { tsMs, account: this.summary(), positions, strategies: [...byStrategy.values()] };
  }
}
