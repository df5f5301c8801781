import { sizingSchema, type SizingSpec } from '../../../shared/contract/backtest.ts';
import { appError } from '../../../shared/errors.ts';

/**
 * Position sizing policies (docs/strategies.md). Sizes are worked out at the decision, from the
 * closed bar's price: the fill price is not known yet, so the filled notional differs from the
 * target by the move to the fill (next open by default).
 */

export {
  sizingSchema,
  protectionSchema,
  type SizingSpec,
  type SizingInput,
  type ProtectionSpec,
} from '../../../shared/contract/backtest.ts';

export function parseSizing(value: unknown): SizingSpec {
  const parsed = sizingSchema.safeParse(value);
  if (!parsed.success) {
    throw appError(
      'STRATEGY_INVALID',
      `Invalid sizing: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'sizing'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/** The strategy's closed-trade record for Kelly sizing. */
export class TradeStats {
  wins = 0;
  losses = 0;
  winSum = 0;
  lossSum = 0;

  record(pnl: number): void {
    if (pnl > 0) {
      this.wins++;
      this.winSum += pnl;
    } else if (pnl < 0) {
      this.losses++;
      this.lossSum -= pnl;
    }
  }

  get count(): number {
    return this.wins + this.losses;
  }
}

export interface SizingInputs {
  price: number;
  equity: number;
  /** Standard deviation of one-bar log returns over the lookback (NaN while warming up). */
  returnStdPerBar: number;
  stats: TradeStats;
}

/** Kelly fraction of equity for the given record (before the cap and the fraction); NaN without losses or wins. */
export function kellyFraction(stats: TradeStats): number {
  if (stats.wins === 0 || stats.losses === 0) return stats.wins > 0 ? 1 : stats.losses > 0 ? 0 : NaN;
  const w = stats.wins / stats.count;
  const r = stats.winSum / stats.wins / (stats.lossSum / stats.losses);
  return w - (1 - w) / r;
}

/** Quantity (base units, before rounding to the market step) for an entry; 0 means do not enter. */
export function sizeQuantity(spec: SizingSpec, input: SizingInputs): number {
  const { price, equity } = input;
  if (!(price > 0)) return 0;
  switch (spec.kind) {
    case 'fixed-quantity':
      return spec.quantity;
    case 'fixed-notional':
      return spec.notional / price;
    case 'percent-equity':
      return equity > 0 ? (equity * spec.percent) / 100 / price : 0;
    case 'volatility-target': {
      const annual = input.returnStdPerBar * Math.sqrt(spec.barsPerYear);
      if (!(annual > 0) || !(equity > 0)) return 0;
      const leverage = Math.min(spec.annualVolatility / annual, spec.maxLeverage);
      return (equity * leverage) / price;
    }
    case 'kelly': {
      if (!(equity > 0)) return 0;
      if (input.stats.count < spec.minTrades) return (equity * spec.fallbackPercent) / 100 / price;
      const f = kellyFraction(input.stats) * spec.fraction;
      if (!(f > 0)) return 0;
      return (equity * Math.min(f, spec.cap)) / price;
    }
  }
}
