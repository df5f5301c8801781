import { appError } from '../../../shared/errors.ts';
import type { FeatureDefinition } from '../../../shared/feature-spec.ts';
import { createIndicator } from '../features/catalog.ts';
import { runIndicator, type CandleColumns, type Indicator } from '../features/types.ts';

/**
 * Feature names strategies and rules use, mapped onto the feature pipeline's indicators
 * (main/core/features), so a backtest computes exactly what live trading computes:
 *   sma_N ema_N wma_N rsi_N atr_N roc_N mom_N cci_N adx_N willr_N zscore_N volatility_N
 *   bb_upper_N bb_middle_N bb_lower_N  (Bollinger, 2 standard deviations; bb_upper_N_K for K)
 *   macd macd_signal macd_hist         (12, 26, 9)
 */

const SINGLE = new Set([
  'sma',
  'ema',
  'wma',
  'rsi',
  'atr',
  'roc',
  'mom',
  'cci',
  'adx',
  'willr',
  'zscore',
  'volatility',
]);

export interface FeatureBinding {
  name: string;
  definition: FeatureDefinition;
  output: number;
}

export const FEATURE_NAME_HELP =
  'sma_N, ema_N, wma_N, rsi_N, atr_N, roc_N, mom_N, cci_N, adx_N, willr_N, zscore_N, volatility_N, bb_upper_N, bb_middle_N, bb_lower_N (bb_upper_N_K for K deviations), macd, macd_signal, macd_hist';

/** The indicator behind a feature name, or null when the name is not a feature. */
export function parseFeatureName(name: string): FeatureBinding | null {
  if (name === 'macd' || name === 'macd_signal' || name === 'macd_hist') {
    return {
      name,
      definition: { name: 'macd', indicator: 'macd', params: {} },
      output: name === 'macd' ? 0 : name === 'macd_signal' ? 1 : 2,
    };
  }
  const bb = /^bb_(upper|middle|lower)_(\d{1,6})(?:_(\d{1,3}))?$/.exec(name);
  if (bb) {
    const k = bb[3] === undefined ? 2 : Number(bb[3]);
    return {
      name,
      definition: {
        name: 'bb',
        indicator: 'bbands',
        params: { period: Number(bb[2]), deviationsUp: k, deviationsDown: k },
      },
      output: bb[1] === 'upper' ? 0 : bb[1] === 'middle' ? 1 : 2,
    };
  }
  const m = /^([a-z]+)_(\d{1,6})$/.exec(name);
  if (!m || !SINGLE.has(m[1]!)) return null;
  const kind = m[1] as FeatureDefinition['indicator'];
  return { name, definition: { name: 'f', indicator: kind, params: { period: Number(m[2]) } }, output: 0 };
}

/** Streaming indicators for a list of feature names; identical definitions share one indicator. */
export class FeatureSet {
  readonly names: readonly string[];
  /** Latest values, by feature index. */
  readonly values: Float64Array;
  /** Values of the bar before, by feature index (for crossovers). */
  readonly previousValues: Float64Array;
  private readonly indicators: Indicator[] = [];
  private readonly definitions: FeatureDefinition[] = [];
  /** Whole-series columns by feature index (precompute), or null when streaming. */
  private columns: Float64Array[] | null = null;
  private readonly sourceIndicator: Int32Array;
  private readonly sourceOutput: Int32Array;
  private readonly byName = new Map<string, number>();

  constructor(names: readonly string[]) {
    const unique = [...new Set(names)];
    this.names = unique;
    this.values = new Float64Array(unique.length).fill(NaN);
    this.previousValues = new Float64Array(unique.length).fill(NaN);
    this.sourceIndicator = new Int32Array(unique.length);
    this.sourceOutput = new Int32Array(unique.length);
    const byKey = new Map<string, number>();
    unique.forEach((name, i) => {
      const binding = parseFeatureName(name);
      if (!binding)
        throw appError(
          'STRATEGY_INVALID',
          `Unknown feature '${name}'; known features: ${FEATURE_NAME_HELP}.`,
          { feature: name },
        );
      const key = JSON.stringify([binding.definition.indicator, binding.definition.params]);
      let k = byKey.get(key);
      if (k === undefined) {
        k = this.indicators.length;
        this.indicators.push(createIndicator(binding.definition));
        this.definitions.push(binding.definition);
        byKey.set(key, k);
      }
      this.sourceIndicator[i] = k;
      this.sourceOutput[i] = binding.output;
      this.byName.set(name, i);
    });
  }

  indexOf(name: string): number {
    return this.byName.get(name) ?? -1;
  }

  get isPrecomputed(): boolean {
    return this.columns !== null;
  }

  /**
   * For a backtest, which has the whole series up front: computes every feature over all of
   * `bars` at once, with fresh indicators running the same compute as streaming use (identical
   * bit for bit: main/core/features tests), so stepAt(i) gives what step() would give at bar i.
   * Only bar i's and bar i-1's values are ever exposed, so nothing of the future leaks.
   */
  precompute(bars: CandleColumns): void {
    const outputs = this.definitions.map((definition) => runIndicator(createIndicator(definition), bars));
    this.columns = this.names.map((_, i) => outputs[this.sourceIndicator[i]!]![this.sourceOutput[i]!]!);
  }

  /** The precomputed values of bar `index` become the latest (see precompute). */
  stepAt(index: number): void {
    const columns = this.columns!;
    const values = this.values;
    const previous = this.previousValues;
    for (let i = 0; i < values.length; i++) {
      previous[i] = values[i]!;
      values[i] = columns[i]![index]!;
    }
  }

  step(time: number, open: number, high: number, low: number, close: number, volume: number): void {
    const indicators = this.indicators;
    for (let k = 0; k < indicators.length; k++) indicators[k]!.step(time, open, high, low, close, volume);
    const values = this.values;
    const previous = this.previousValues;
    for (let i = 0; i < values.length; i++) {
      previous[i] = values[i]!;
      values[i] = indicators[this.sourceIndicator[i]!]!.values[this.sourceOutput[i]!]!;
    }
  }
}
