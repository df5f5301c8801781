import type { Strategy, StrategyContext } from './types.ts';

/**
 * What a strategy looked at for its decision on the latest closed bar, for the signal record and
 * the signal view: each condition as an expression (the rule language's text for `rules` and
 * `hybrid`, the built-in's own condition written the same way for the others, e.g.
 * `sma_10 crosses above sma_30`), whether it held and the values it read. NaN means the value was
 * not available yet (indicator warming up, no prediction).
 */
export interface ConditionTrace {
  /** 'entry' / 'exit', or the built-in's name for the condition; clauses are `entry: clause 1`, ... */
  name: string;
  expression: string;
  isTrue: boolean;
  inputs: Record<string, number>;
}

/** A strategy that can say which conditions it evaluated on the latest bar (every built-in can). */
export interface TracedStrategy extends Strategy {
  /** Call after onBar for the same bar: reads only, changes no state. */
  traceDecision(ctx: StrategyContext): ConditionTrace[];
}

export function isTracedStrategy(strategy: Strategy): strategy is TracedStrategy {
  return typeof (strategy as Partial<TracedStrategy>).traceDecision === 'function';
}
