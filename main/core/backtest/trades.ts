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
  /** Open trades by strategy, then symbol; insertion order of the pairs is kept in openOrder. */
  private readonly open = new Map<string, Map<string, OpenTrade>>();
  /** Every open trade in the order it opened (all() lists them so, as a single map would). */
  private readonly openOrder = new Set<OpenTrade>();

  onFill(fill: Fill, context: FillContext): void {
    let bySymbol = this.open.get(fill.strategyId);
    if (!bySymbol) {
      bySymbol = new Map();
      this.open.set(fill.strategyId, bySymbol);
    }
    const sign: 1 | -1 = fill.side === 'buy' ? 1 : -1;
    let remaining = fill.quantity;
    const reason = context.order?.reason ?? 'unknown';
    let trade = bySymbol.get(fill.symbol);
    if (trade && trade.sign !== sign) {
      const closing = Math.min(remaining, trade.position);
      trade.exitQuantity += closing;
      trade.exitNotional += closing * fill.price;
      trade.exitUniformPrice = trade.exitQuantity === closing || trade.exitUniformPrice === fill.price ? fill.price : NaN;
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
        bySymbol.delete(fill.symbol);
        this.openOrder.delete(trade);
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
      };
      bySymbol.set(fill.symbol, trade);
      this.openOrder.add(trade);
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
    for (const t of this.openOrder) {
      const mark = markPrice(t.symbol);
      const unrealised = t.sign * (mark - t.entryNotional / t.entryQuantity) * t.position;
      out.push({ ...finish(t, lastBarIndex(t.symbol), true), pnl: t.grossPnl + unrealised - t.fees });
    }
    return out;
  }
}

function finish(t: OpenTrade, barIndex: number, isOpen: boolean): TradeRecord {
  const entryPrice = Number.isNaN(t.entryUniformPrice) ? t.entryNotional / t.entryQuantity : t.entryUniformPrice;
  const pnl = t.grossPnl - t.fees;
  return {
    strategyId: t.strategyId,
    symbol: t.symbol,
    side: t.sign > 0 ? 'long' : 'short',
    entryTime: t.entryTime,
    exitTime: isOpen ? null : t.exitTime,
    quantity: t.entryQuantity,
    entryPrice,
    exitPrice: t.exitQuantity > 0 ? (Number.isNaN(t.exitUniformPrice) ? t.exitNotional / t.exitQuantity : t.exitUniformPrice) : null,
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
