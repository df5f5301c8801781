/**
 * Where a protective exit sits: the one formula for stop-loss, take-profit and trailing-stop
 * levels, used by strategies placing them (strategy/runner.ts), the backtest venue trailing them
 * (backtest/simulated-broker.ts) and the in-trade monitor firing them (risk/risk-monitor.ts).
 *
 * 'loss' levels (stop-loss, trailing stop) sit on the losing side of the position: below the
 * reference for a long, above for a short; 'profit' levels (take-profit) on the other side.
 */
export type ExitSide = 'loss' | 'profit';

/** `fraction` of the reference away from it (0.05: 5% below a long's entry for a stop-loss). */
export function exitLevelByFraction(
  reference: number,
  fraction: number,
  isLong: boolean,
  side: ExitSide,
): number {
  return reference * (isLong === (side === 'loss') ? 1 - fraction : 1 + fraction);
}

/** `offset` quote units away from the reference (a trailing stop with a fixed distance). */
export function exitLevelByOffset(
  reference: number,
  offset: number,
  isLong: boolean,
  side: ExitSide,
): number {
  return isLong === (side === 'loss') ? reference - offset : reference + offset;
}
