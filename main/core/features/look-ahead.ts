import type { FeatureSpec } from '../../../shared/feature-spec.ts';
import { computeFeatureColumns, type FeatureColumns } from './pipeline.ts';
import type { CandleColumns } from './types.ts';

/**
 * Look-ahead check: a feature value at bar t may depend only on bars 0..t. For a set of cut points
 * t the series is changed after t in two ways and recomputed:
 * - 'truncated': the bars after t are removed (catches centred windows and back-filled values);
 * - 'perturbed': prices after t are scaled by 1.37 and 0.61 alternately, volumes by 3.
 * Every column must keep exactly (bit for bit) its values at bars 0..t. Any column that changes is
 * reported with the first bar where it changed.
 */

export interface LookAheadViolation {
  /** Column name (`<feature>` or `<feature>.<output>`). */
  column: string;
  cut: number;
  bar: number;
  change: 'truncated' | 'perturbed';
  before: number;
  after: number;
}

export interface LookAheadReport {
  bars: number;
  cuts: number[];
  columns: string[];
  violations: LookAheadViolation[];
  /** Columns with at least one violation, in spec order. */
  leakingColumns: string[];
}

export type FeatureComputer = (bars: CandleColumns) => FeatureColumns;

function slice(bars: CandleColumns, end: number): CandleColumns {
  return {
    time: bars.time.slice(0, end),
    open: bars.open.slice(0, end),
    high: bars.high.slice(0, end),
    low: bars.low.slice(0, end),
    close: bars.close.slice(0, end),
    volume: bars.volume.slice(0, end),
  };
}

function perturbAfter(bars: CandleColumns, cut: number): CandleColumns {
  const copy = slice(bars, bars.close.length);
  for (let i = cut + 1; i < copy.close.length; i++) {
    const factor = i % 2 === 0 ? 1.37 : 0.61;
    copy.open[i] = copy.open[i]! * factor;
    copy.high[i] = copy.high[i]! * factor;
    copy.low[i] = copy.low[i]! * factor;
    copy.close[i] = copy.close[i]! * factor;
    copy.volume[i] = copy.volume[i]! * 3 + 1;
  }
  return copy;
}

/** Evenly spread cut points (at least one bar after each), always including the first and second-to-last bar. */
export function defaultCuts(barCount: number, count: number): number[] {
  if (barCount < 2) return [];
  const cuts = new Set<number>([0, barCount - 2]);
  for (let k = 1; k < count - 1; k++) cuts.add(Math.floor((k * (barCount - 1)) / (count - 1)));
  return [...cuts].filter((c) => c >= 0 && c <= barCount - 2).sort((a, b) => a - b);
}

export function checkLookAhead(
  bars: CandleColumns,
  compute: FeatureComputer,
  cuts: number[] = defaultCuts(bars.close.length, 12),
): LookAheadReport {
  const base = compute(bars);
  const violations: LookAheadViolation[] = [];
  const leaking = new Set<string>();
  for (const cut of cuts) {
    for (const change of ['truncated', 'perturbed'] as const) {
      const changed = compute(change === 'truncated' ? slice(bars, cut + 1) : perturbAfter(bars, cut));
      base.columns.forEach((column, c) => {
        const name = base.names[c]!;
        const other = changed.columns[c]!;
        for (let i = 0; i <= cut; i++) {
          if (!Object.is(column[i], other[i])) {
            violations.push({ column: name, cut, bar: i, change, before: column[i]!, after: other[i]! });
            leaking.add(name);
            break;
          }
        }
      });
    }
  }
  return {
    bars: bars.close.length,
    cuts,
    columns: base.names,
    violations,
    leakingColumns: base.names.filter((n) => leaking.has(n)),
  };
}

/** The check for a feature spec, through the same pipeline the models use. */
export function checkSpecLookAhead(bars: CandleColumns, spec: FeatureSpec, cuts?: number[]): LookAheadReport {
  return checkLookAhead(bars, (b) => computeFeatureColumns(b, spec), cuts);
}
