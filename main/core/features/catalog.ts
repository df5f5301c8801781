import { appError } from '../../../shared/errors.ts';
import type { FeatureDefinition, IndicatorId } from '../../../shared/feature-spec.ts';
import { type Indicator, SOURCES, type Source, sourceCode } from './types.ts';
import {
  DemaIndicator,
  EmaIndicator,
  SmaIndicator,
  TemaIndicator,
  WmaIndicator,
} from './indicators/moving-averages.ts';
import {
  CciIndicator,
  MacdIndicator,
  MomIndicator,
  RocIndicator,
  RsiIndicator,
  StochIndicator,
  WillrIndicator,
} from './indicators/oscillators.ts';
import {
  AtrIndicator,
  BbandsIndicator,
  ReturnsIndicator,
  VolatilityIndicator,
  ZscoreIndicator,
} from './indicators/volatility.ts';
import { ObvIndicator, VwapIndicator } from './indicators/volume.ts';
import { AdxIndicator } from './indicators/trend.ts';
import type { EmaSeed } from './indicators/kernels.ts';

/** One parameter of an indicator, as listed by `vantage features list`. */
export type ParamSpec =
  | { name: string; kind: 'int'; default: number; min: number; max: number; description: string }
  | { name: string; kind: 'number'; default: number; min: number; max: number; description: string }
  | { name: string; kind: 'enum'; default: string; values: readonly string[]; description: string }
  | { name: string; kind: 'boolean'; default: boolean; description: string };

export interface IndicatorInfo {
  id: IndicatorId;
  title: string;
  outputs: readonly string[];
  params: readonly ParamSpec[];
  /** Which TA-Lib/pandas convention this follows, warm-up length and edge cases. */
  convention: string;
}

type ParamValues = Record<string, number | string | boolean>;

interface CatalogEntry extends IndicatorInfo {
  create(p: ParamValues): Indicator;
}

const MAX_PERIOD = 100_000;
const period = (def: number, description = 'bars in the window'): ParamSpec => ({
  name: 'period',
  kind: 'int',
  default: def,
  min: 1,
  max: MAX_PERIOD,
  description,
});
const period2 = (def: number): ParamSpec => ({
  name: 'period',
  kind: 'int',
  default: def,
  min: 2,
  max: MAX_PERIOD,
  description: 'bars in the window',
});
const source: ParamSpec = {
  name: 'source',
  kind: 'enum',
  default: 'close',
  values: SOURCES,
  description: 'bar field read (hl2, hlc3, ohlc4 are averages of those fields)',
};
const seed: ParamSpec = {
  name: 'seed',
  kind: 'enum',
  default: 'sma',
  values: ['sma', 'first'],
  description:
    "'sma': first value is the SMA of the first period inputs (TA-Lib); 'first': starts from the first input (pandas ewm(adjust=False))",
};
const wilderSeed: ParamSpec = {
  name: 'seed',
  kind: 'enum',
  default: 'sma',
  values: ['sma', 'first'],
  description:
    "'sma': Wilder averages seeded with the mean of the first period values (TA-Lib); 'first': seeded with the first value (pandas ewm(alpha=1/period, adjust=False))",
};
const ddof = (def: number): ParamSpec => ({
  name: 'ddof',
  kind: 'int',
  default: def,
  min: 0,
  max: 1,
  description: 'delta degrees of freedom: 0 population std, 1 sample std (pandas default)',
});

const num = (p: ParamValues, name: string): number => p[name] as number;
const str = (p: ParamValues, name: string): string => p[name] as string;
const src = (p: ParamValues): number => sourceCode(p.source as Source);

const ENTRIES: readonly CatalogEntry[] = [
  {
    id: 'sma',
    title: 'Simple moving average',
    outputs: ['value'],
    params: [period(30), source],
    convention:
      'TA-Lib SMA (default period 30). First value at bar period-1. Exact window sum: the value depends only on the window.',
    create: (p) => new SmaIndicator(num(p, 'period'), src(p)),
  },
  {
    id: 'ema',
    title: 'Exponential moving average',
    outputs: ['value'],
    params: [
      period(30),
      source,
      seed,
      {
        name: 'adjust',
        kind: 'boolean',
        default: false,
        description: 'pandas ewm(adjust=True) weighting (needs seed first)',
      },
    ],
    convention:
      "TA-Lib EMA (default period 30): alpha = 2/(period+1), seeded with the SMA of the first period values, first value at bar period-1. seed 'first' = pandas ewm(span=period, adjust=False); adjust true = pandas ewm(span=period, adjust=True); both start at bar 0.",
    create: (p) => new EmaIndicator(num(p, 'period'), src(p), str(p, 'seed') as EmaSeed, p.adjust === true),
  },
  {
    id: 'wma',
    title: 'Weighted moving average',
    outputs: ['value'],
    params: [period(30), source],
    convention:
      'TA-Lib WMA (default period 30): linear weights 1..period, newest heaviest. First value at bar period-1. Exact sums.',
    create: (p) => new WmaIndicator(num(p, 'period'), src(p)),
  },
  {
    id: 'dema',
    title: 'Double exponential moving average',
    outputs: ['value'],
    params: [period(30), source, seed],
    convention:
      'TA-Lib DEMA (default period 30): 2*EMA - EMA(EMA), both EMAs SMA-seeded. First value at bar 2*(period-1).',
    create: (p) => new DemaIndicator(num(p, 'period'), src(p), str(p, 'seed') as EmaSeed),
  },
  {
    id: 'tema',
    title: 'Triple exponential moving average',
    outputs: ['value'],
    params: [period(30), source, seed],
    convention: 'TA-Lib TEMA (default period 30): 3*e1 - 3*e2 + e3. First value at bar 3*(period-1).',
    create: (p) => new TemaIndicator(num(p, 'period'), src(p), str(p, 'seed') as EmaSeed),
  },
  {
    id: 'rsi',
    title: 'Relative strength index',
    outputs: ['value'],
    params: [period(14), source, wilderSeed],
    convention:
      "TA-Lib RSI (default 14), Wilder smoothing: averages of gains/losses seeded with the mean of the first period changes, then (avg*(period-1)+x)/period. 0 when there is no movement. First value at bar period. seed 'first' = the pandas recipe ewm(alpha=1/period, adjust=False) on gains/losses, from bar 1.",
    create: (p) => new RsiIndicator(num(p, 'period'), src(p), str(p, 'seed') as EmaSeed),
  },
  {
    id: 'macd',
    title: 'Moving average convergence/divergence',
    outputs: ['line', 'signal', 'histogram'],
    params: [
      { name: 'fast', kind: 'int', default: 12, min: 2, max: MAX_PERIOD, description: 'fast EMA period' },
      { name: 'slow', kind: 'int', default: 26, min: 2, max: MAX_PERIOD, description: 'slow EMA period' },
      { name: 'signal', kind: 'int', default: 9, min: 1, max: MAX_PERIOD, description: 'signal EMA period' },
      source,
      seed,
    ],
    convention:
      "TA-Lib MACD (12/26/9): the fast EMA is seeded on the same bar as the slow one (SMA of the fast-period values ending there), all outputs start at bar slow+signal-2 (33). seed 'first' = pandas ewm(adjust=False) for all three EMAs, from bar 0.",
    create: (p) =>
      new MacdIndicator(num(p, 'fast'), num(p, 'slow'), num(p, 'signal'), src(p), str(p, 'seed') as EmaSeed),
  },
  {
    id: 'bbands',
    title: 'Bollinger Bands',
    outputs: ['upper', 'middle', 'lower'],
    params: [
      period(5),
      {
        name: 'deviationsUp',
        kind: 'number',
        default: 2,
        min: 0,
        max: 100,
        description: 'standard deviations above the middle',
      },
      {
        name: 'deviationsDown',
        kind: 'number',
        default: 2,
        min: 0,
        max: 100,
        description: 'standard deviations below the middle',
      },
      source,
    ],
    convention:
      'TA-Lib BBANDS (default 5, 2, 2, SMA): middle SMA, population standard deviation (divide by n; pandas rolling std is n-1). First value at bar period-1.',
    create: (p) =>
      new BbandsIndicator(num(p, 'period'), num(p, 'deviationsUp'), num(p, 'deviationsDown'), src(p)),
  },
  {
    id: 'atr',
    title: 'Average true range',
    outputs: ['value'],
    params: [period(14), wilderSeed],
    convention:
      "TA-Lib ATR (default 14): Wilder smoothing of the true range, seeded with the mean of the first period TRs (TR from bar 1). First value at bar period. seed 'first' = pandas ewm(alpha=1/period, adjust=False) of TR, from bar 1.",
    create: (p) => new AtrIndicator(num(p, 'period'), str(p, 'seed') as EmaSeed),
  },
  {
    id: 'stoch',
    title: 'Stochastic oscillator',
    outputs: ['k', 'd'],
    params: [
      { name: 'fastK', kind: 'int', default: 5, min: 1, max: MAX_PERIOD, description: 'high/low lookback' },
      { name: 'slowK', kind: 'int', default: 3, min: 1, max: MAX_PERIOD, description: 'SMA smoothing of %K' },
      {
        name: 'slowD',
        kind: 'int',
        default: 3,
        min: 1,
        max: MAX_PERIOD,
        description: 'SMA of slow %K giving %D',
      },
    ],
    convention:
      'TA-Lib STOCH (5/3/3, SMA): k = SMA(100*(C-LL)/(HH-LL)), d = SMA(k); 0 when HH = LL. First value at bar fastK+slowK+slowD-3 (8).',
    create: (p) => new StochIndicator(num(p, 'fastK'), num(p, 'slowK'), num(p, 'slowD')),
  },
  {
    id: 'willr',
    title: 'Williams %R',
    outputs: ['value'],
    params: [period(14)],
    convention:
      'TA-Lib WILLR (default 14): -100*(HH-C)/(HH-LL) in [-100, 0]; 0 when HH = LL. First value at bar period-1.',
    create: (p) => new WillrIndicator(num(p, 'period')),
  },
  {
    id: 'cci',
    title: 'Commodity channel index',
    outputs: ['value'],
    params: [period2(14)],
    convention:
      'TA-Lib CCI (default 14): (tp - SMA(tp)) / (0.015 * mean absolute deviation), tp = (h+l+c)/3; 0 when either is 0. First value at bar period-1. O(period) per update.',
    create: (p) => new CciIndicator(num(p, 'period')),
  },
  {
    id: 'roc',
    title: 'Rate of change (percent)',
    outputs: ['value'],
    params: [period(10), source],
    convention:
      'TA-Lib ROC (default 10): 100*(x/x[t-period] - 1); 0 when x[t-period] = 0. First value at bar period.',
    create: (p) => new RocIndicator(num(p, 'period'), src(p)),
  },
  {
    id: 'mom',
    title: 'Momentum',
    outputs: ['value'],
    params: [period(10), source],
    convention: 'TA-Lib MOM (default 10): x - x[t-period]. First value at bar period.',
    create: (p) => new MomIndicator(num(p, 'period'), src(p)),
  },
  {
    id: 'obv',
    title: 'On-balance volume',
    outputs: ['value'],
    params: [],
    convention:
      "TA-Lib OBV: starts at the first bar's volume; +volume on an up close, -volume on a down close. Exact running sum. First value at bar 0 (so it depends on where the series starts).",
    create: () => new ObvIndicator(),
  },
  {
    id: 'adx',
    title: 'Average directional index with +DI/-DI',
    outputs: ['adx', 'plus_di', 'minus_di'],
    params: [period2(14)],
    convention:
      'TA-Lib ADX/PLUS_DI/MINUS_DI (default 14), Wilder sums. plus_di/minus_di first at bar period, adx first at bar 2*period-1.',
    create: (p) => new AdxIndicator(num(p, 'period')),
  },
  {
    id: 'vwap',
    title: 'Volume-weighted average price',
    outputs: ['value'],
    params: [
      period(14, "bars in the window ('rolling' mode)"),
      {
        name: 'mode',
        kind: 'enum',
        default: 'rolling',
        values: ['rolling', 'session'],
        description: "'rolling' over period bars; 'session' cumulative since UTC midnight",
      },
    ],
    convention:
      "Not in TA-Lib. Typical price (h+l+c)/3 weighted by volume. 'rolling' (default, python ta's VWAP, window 14): first value at bar period-1. 'session': resets at each UTC midnight. NaN while window volume is 0.",
    create: (p) => new VwapIndicator(num(p, 'period'), str(p, 'mode') === 'session'),
  },
  {
    id: 'returns',
    title: 'Returns over n bars',
    outputs: ['value'],
    params: [
      period(1, 'bars between the two prices'),
      {
        name: 'kind',
        kind: 'enum',
        default: 'log',
        values: ['log', 'simple'],
        description: 'ln(x/x[t-n]) or x/x[t-n]-1',
      },
      source,
    ],
    convention:
      'log: ln(x/x[t-period]); simple: x/x[t-period] - 1 (pandas pct_change(period)). First value at bar period.',
    create: (p) => new ReturnsIndicator(num(p, 'period'), str(p, 'kind') === 'log', src(p)),
  },
  {
    id: 'volatility',
    title: 'Rolling volatility of returns',
    outputs: ['value'],
    params: [
      period2(20),
      ddof(1),
      {
        name: 'kind',
        kind: 'enum',
        default: 'log',
        values: ['log', 'simple'],
        description: 'one-bar log or simple returns',
      },
      {
        name: 'annualisation',
        kind: 'number',
        default: 1,
        min: 1e-9,
        max: 1e9,
        description: 'bars per year to annualise (std * sqrt(annualisation)); 1 = per bar',
      },
      source,
    ],
    convention:
      'Standard deviation of the last period one-bar returns (ddof 1 = pandas rolling().std()), times sqrt(annualisation). First value at bar period.',
    create: (p) =>
      new VolatilityIndicator(
        num(p, 'period'),
        num(p, 'ddof'),
        str(p, 'kind') === 'log',
        num(p, 'annualisation'),
        src(p),
      ),
  },
  {
    id: 'zscore',
    title: 'Rolling z-score',
    outputs: ['value'],
    params: [period2(20), ddof(0), source],
    convention:
      '(x - mean)/std over the last period values, ddof 0 (population, as Bollinger); ddof 1 matches pandas. 0 for a constant window. First value at bar period-1.',
    create: (p) => new ZscoreIndicator(num(p, 'period'), num(p, 'ddof'), src(p)),
  },
  {
    id: 'volume_zscore',
    title: 'Rolling z-score of volume',
    outputs: ['value'],
    params: [period2(20), ddof(0)],
    convention:
      'zscore of the volume column: (v - mean)/std over period bars, ddof 0. 0 for a constant window. First value at bar period-1.',
    create: (p) => new ZscoreIndicator(num(p, 'period'), num(p, 'ddof'), sourceCode('volume')),
  },
];

const BY_ID = new Map<IndicatorId, CatalogEntry>(ENTRIES.map((e) => [e.id, e]));

/** Every indicator with its parameters, outputs and conventions (for `vantage features list`). */
export function listIndicators(): IndicatorInfo[] {
  return ENTRIES.map(({ id, title, outputs, params, convention }) => ({
    id,
    title,
    outputs,
    params,
    convention,
  }));
}

export function indicatorInfo(id: IndicatorId): IndicatorInfo {
  const entry = BY_ID.get(id);
  if (!entry) throw appError('FEATURE_INVALID', `Unknown indicator '${id}'.`);
  return entry;
}

/** Parameter values with defaults filled in; throws FEATURE_INVALID naming the feature and parameter. */
export function resolveParams(feature: FeatureDefinition): ParamValues {
  const entry = BY_ID.get(feature.indicator);
  if (!entry)
    throw appError('FEATURE_INVALID', `Feature '${feature.name}': unknown indicator '${feature.indicator}'.`);
  const given = feature.params;
  const known = new Set(entry.params.map((p) => p.name));
  for (const key of Object.keys(given)) {
    if (!known.has(key)) {
      const names = entry.params.map((p) => p.name).join(', ') || 'none';
      throw appError(
        'FEATURE_INVALID',
        `Feature '${feature.name}': ${feature.indicator} has no parameter '${key}' (parameters: ${names}).`,
        { feature: feature.name, param: key },
      );
    }
  }
  const values: ParamValues = {};
  for (const spec of entry.params) {
    const value = given[spec.name] ?? spec.default;
    const bad = (why: string): never => {
      throw appError(
        'FEATURE_INVALID',
        `Feature '${feature.name}': ${feature.indicator}.${spec.name} = ${JSON.stringify(value)} ${why}.`,
        { feature: feature.name, param: spec.name },
      );
    };
    if (spec.kind === 'int' || spec.kind === 'number') {
      if (typeof value !== 'number' || !Number.isFinite(value)) bad('is not a number');
      const n = value as number;
      if (spec.kind === 'int' && !Number.isInteger(n)) bad('must be an integer');
      if (n < spec.min || n > spec.max) bad(`must be within ${spec.min}..${spec.max}`);
    } else if (spec.kind === 'enum') {
      if (typeof value !== 'string' || !spec.values.includes(value))
        bad(`must be one of ${spec.values.join(', ')}`);
    } else if (typeof value !== 'boolean') {
      bad('must be true or false');
    }
    values[spec.name] = value;
  }
  if (values.adjust === true && values.seed !== 'first') {
    throw appError(
      'FEATURE_INVALID',
      `Feature '${feature.name}': ema.adjust = true is pandas' adjusted weighting and needs seed 'first'.`,
      { feature: feature.name, param: 'adjust' },
    );
  }
  return values;
}

/** A fresh indicator instance for a feature (validated parameters). */
export function createIndicator(feature: FeatureDefinition): Indicator {
  const entry = BY_ID.get(feature.indicator)!;
  return entry.create(resolveParams(feature));
}

/** The output columns a feature contributes, and their names (see shared/feature-spec.ts). */
export function featureOutputs(feature: FeatureDefinition): { names: string[]; outputIndexes: number[] } {
  const info = indicatorInfo(feature.indicator);
  if (feature.output !== undefined) {
    const index = info.outputs.indexOf(feature.output);
    if (index < 0) {
      throw appError(
        'FEATURE_INVALID',
        `Feature '${feature.name}': ${feature.indicator} has no output '${feature.output}' (outputs: ${info.outputs.join(', ')}).`,
        {
          feature: feature.name,
          output: feature.output,
        },
      );
    }
    return { names: [feature.name], outputIndexes: [index] };
  }
  if (info.outputs.length === 1) return { names: [feature.name], outputIndexes: [0] };
  return {
    names: info.outputs.map((o) => `${feature.name}.${o}`),
    outputIndexes: info.outputs.map((_, i) => i),
  };
}
