import type { TradeRecord } from '../../../shared/contract/backtest.ts';
import type { Fill, Order } from '../../../shared/trading.ts';

/**
 * Builds round-trip trades from fills, per strategy and symbol. A trade opens when the position
 * leaves zero and closes when it returns to zero; a fill that flips the position closes the trade
 * and opens the next with the remainder (its fee split by quantity). Entry and exit prices are
 * volume-weighted over the fills; P&L is (exit - average entry) x closed quantity for a long
 * (mirrored for a short) minus every fee of the trade.
 */
interface OpenTrade {
  strategyId: string;
  symbol: string;
  sign: 1 | -1;
  position: number;
  entryTime: number;
  entryQuantity: number;
  entryNotional: number;
  /** The fill price while every entry (exit) fill had the same price: reported exactly, not as notional / quantity. */
  entryUniformPrice: number;
  exitUniformPrice: number;
  exitQuantity: number;
  exitNotional: number;
  exitTime: number;
  fees: number;
  grossPnl: number;
  entryBar: number;
  entryReason: string;
  exitReason: string | null;
  explanationId: string | null;
  /** Opening order among all trades (open trades are listed in it). */
  openedSeq: number;
}

export interface FillContext {
  /** Bars of the fill's symbol seen so far (for bars held). */
  barIndex: number;
  /** The order the fill belongs to (its reason). */
  order: Order | null;
  explanationId: string | null;
}

export class TradeBuilder {
  readonly closed: TradeRecord[] = [];
  /**
   * The open trade of each strategy and symbol, in a holder that stays in place (a trade opening
   * and closing on every crossover does not add and delete map entries).
   */
  private readonly open = new Map<string, Map<string, { trade: OpenTrade | null }>>();
  private openedCount = 0;

  onFill(fill: Fill, context: FillContext): void {
    let bySymbol = this.open.get(fill.strategyId);
    if (!bySymbol) {
      bySymbol = new Map();
      this.open.set(fill.strategyId, bySymbol);
    }
    let holder = bySymbol.get(fill.symbol);
    if (!holder) {
      holder = { trade: null };
      bySymbol.set(fill.symbol, holder);
    }
    const sign: 1 | -1 = fill.side === 'buy' ? 1 : -1;
    let remaining = fill.quantity;
    const reason = context.order?.reason ?? 'unknown';
    let trade = holder.trade ?? undefined;
    if (trade && trade.sign !== sign) {
      const closing = Math.min(remaining, trade.position);
      trade.exitQuantity += closing;
      trade.exitNotional += closing * fill.price;
      trade.exitUniformPrice =
        trade.exitQuantity === closing || trade.exitUniformPrice === fill.price ? fill.price : NaN;
      trade.exitTime = fill.tsMs;
      trade.fees += (fill.fee * closing) / fill.quantity;
      trade.grossPnl += trade.sign * (fill.price - trade.entryNotional / trade.entryQuantity) * closing;
      trade.position -= closing;
      trade.exitReason = reason;
      if (context.explanationId !== null) trade.explanationId ??= context.explanationId;
      remaining -= closing;
      // Float noise left by partial fills is not a position.
      if (trade.position <= 1e-9 * trade.entryQuantity) {
        this.closed.push(finish(trade, context.barIndex, false));
        holder.trade = null;
        trade = undefined;
      }
      if (remaining <= 1e-12 * fill.quantity) return;
    }
    if (!trade) {
      trade = {
        strategyId: fill.strategyId,
        symbol: fill.symbol,
        sign,
        position: 0,
        entryTime: fill.tsMs,
        entryQuantity: 0,
        entryNotional: 0,
        entryUniformPrice: fill.price,
        exitUniformPrice: NaN,
        exitQuantity: 0,
        exitNotional: 0,
        exitTime: NaN,
        fees: 0,
        grossPnl: 0,
        entryBar: context.barIndex,
        entryReason: reason,
        exitReason: null,
        explanationId: context.explanationId,
        openedSeq: this.openedCount++,
      };
      holder.trade = trade;
    }
    trade.entryQuantity += remaining;
    trade.entryNotional += remaining * fill.price;
    if (trade.entryUniformPrice !== fill.price) trade.entryUniformPrice = NaN;
    trade.position += remaining;
    trade.fees += (fill.fee * remaining) / fill.quantity;
  }

  /** Closed trades followed by the still-open ones (marked isOpen, P&L at the mark). */
  all(lastBarIndex: (symbol: string) => number, markPrice: (symbol: string) => number): TradeRecord[] {
    const out = [...this.closed];
    // Still-open trades in the order they opened.
    const open: OpenTrade[] = [];
    for (const bySymbol of this.open.values())
      for (const holder of bySymbol.values()) if (holder.trade) open.push(holder.trade);
    open.sort((a, b) => a.openedSeq - b.openedSeq);
    for (const t of open) {
      const mark = markPrice(t.symbol);
      const unrealised = t.sign * (mark - t.entryNotional / t.entryQuantity) * t.position;
      out.push({ ...finish(t, lastBarIndex(t.symbol), true), pnl: t.grossPnl + unrealised - t.fees });
    }
    return out;
  }
}

function finish(t: OpenTrade, barIndex: number, isOpen: boolean): TradeRecord {
  const entryPrice = Number.isNaN(t.entryUniformPrice)
    ? t.entryNotional / t.entryQuantity
    : t.entryUniformPrice;
  const pnl = t.grossPnl - t.fees;
  return {
    strategyId: t.strategyId,
    symbol: t.symbol,
    side: t.sign > 0 ? 'long' : 'short',
    entryTime: t.entryTime,
    exitTime: isOpen ? null : t.exitTime,
    quantity: t.entryQuantity,
    entryPrice,
    exitPrice:
      t.exitQuantity > 0
        ? Number.isNaN(t.exitUniformPrice)
          ? t.exitNotional / t.exitQuantity
          : t.exitUniformPrice
        : null,
    fees: t.fees,
    pnl,
    returnPct: (pnl / t.entryNotional) * 100,
    barsHeld: barIndex - t.entryBar,
    entryReason: t.entryReason,
    exitReason: isOpen ? null : t.exitReason,
    explanationId: t.explanationId,
    isOpen,
  };
}
