import { z } from 'zod';

/**
 * The feature spec: the part of a model card that says which features a model reads, how they are
 * laid out as the model's input tensor and how they are normalised. One spec drives training,
 * backtests and live inference (main/core/features/pipeline.ts), so all three see the same numbers.
 *
 * Plain JSON only (no functions, no Infinity/NaN), so it round-trips through a card file unchanged.
 *
 * Columns: each feature contributes one column when `output` names one output of its indicator
 * (or the indicator has a single output); when `output` is omitted on a multi-output indicator
 * (MACD, Bollinger Bands, Stochastic, ADX) it contributes one column per output, named
 * `<name>.<output>` in the indicator's output order (e.g. `macd.line`, `macd.signal`, `macd.histogram`).
 * The model's feature axis is those columns in spec order; normalisation arrays are indexed the same way.
 *
 * Parameter names, defaults and conventions per indicator: `vantage features list` and docs/features.md.
 */

/** Every indicator the pipeline knows. Parameters are checked per indicator by main/core/features/catalog.ts. */
export const INDICATOR_IDS = [
  'sma',
  'ema',
  'wma',
  'dema',
  'tema',
  'rsi',
  'macd',
  'bbands',
  'atr',
  'stoch',
  'willr',
  'cci',
  'roc',
  'mom',
  'obv',
  'adx',
  'vwap',
  'returns',
  'volatility',
  'zscore',
  'volume_zscore',
] as const;
export const indicatorIdSchema = z.enum(INDICATOR_IDS);
export type IndicatorId = z.infer<typeof indicatorIdSchema>;

/** Feature names are identifiers so that `<name>.<output>` column names stay unambiguous. */
export const FEATURE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

const paramValueSchema = z.union([z.number().finite(), z.string().max(64), z.boolean()]);

export const featureDefinitionSchema = z
  .object({
    /** Unique within the spec; becomes the column name (or its prefix for multi-output indicators). */
    name: z
      .string()
      .regex(
        FEATURE_NAME_PATTERN,
        'feature name must start with a letter and use only letters, digits and _ (max 64)',
      ),
    indicator: indicatorIdSchema,
    /** Indicator parameters (e.g. `{ "period": 14 }`); omitted ones take the indicator's default. */
    params: z.record(z.string().max(64), paramValueSchema).default({}),
    /** One output of a multi-output indicator (e.g. `signal` of `macd`); omitted = all outputs. */
    output: z.string().max(64).optional(),
  })
  .strict();
export type FeatureDefinition = z.infer<typeof featureDefinitionSchema>;

export const MAX_WINDOW_BARS = 4096;

export const featureLayoutSchema = z.discriminatedUnion('kind', [
  /** One row per bar: the latest value of every column (shape N x F). */
  z.object({ kind: z.literal('tabular') }).strict(),
  /** The last `windowBars` bars of every column, oldest first (shape N x windowBars x F). */
  z.object({ kind: z.literal('window'), windowBars: z.number().int().min(1).max(MAX_WINDOW_BARS) }).strict(),
]);
export type FeatureLayout = z.infer<typeof featureLayoutSchema>;

const finiteArray = z.array(z.number().finite()).max(100_000);

export const normalisationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  /** x' = (x - mean[c]) / std[c]; std must be > 0 (the fit stores 1 for a constant column). */
  z
    .object({
      kind: z.literal('zscore'),
      mean: finiteArray,
      std: z.array(z.number().finite().positive()).max(100_000),
    })
    .strict(),
  /** x' = (x - min[c]) / (max[c] - min[c]); max must be > min (the fit widens a constant column to min+1). */
  z.object({ kind: z.literal('minmax'), min: finiteArray, max: finiteArray }).strict(),
]);
export type Normalisation = z.infer<typeof normalisationSchema>;

export const FEATURE_SPEC_VERSION = 1;

export const featureSpecSchema = z
  .object({
    version: z.literal(FEATURE_SPEC_VERSION).default(FEATURE_SPEC_VERSION),
    features: z.array(featureDefinitionSchema).min(1).max(512),
    layout: featureLayoutSchema.default({ kind: 'tabular' }),
    normalisation: normalisationSchema.default({ kind: 'none' }),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    spec.features.forEach((f, i) => {
      if (seen.has(f.name))
        ctx.addIssue({
          code: 'custom',
          path: ['features', i, 'name'],
          message: `duplicate feature name '${f.name}'`,
        });
      seen.add(f.name);
    });
    const n = spec.normalisation;
    if (n.kind === 'zscore' && n.mean.length !== n.std.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['normalisation', 'std'],
        message: `std has ${n.std.length} entries but mean has ${n.mean.length}`,
      });
    }
    if (n.kind === 'minmax') {
      if (n.min.length !== n.max.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['normalisation', 'max'],
          message: `max has ${n.max.length} entries but min has ${n.min.length}`,
        });
      }
      n.min.forEach((lo, i) => {
        const hi = n.max[i];
        if (hi !== undefined && !(hi > lo))
          ctx.addIssue({
            code: 'custom',
            path: ['normalisation', 'max', i],
            message: `max (${hi}) must be greater than min (${lo})`,
          });
      });
    }
  });
/** The spec as written in a card (defaults may be omitted). */
export type FeatureSpecInput = z.input<typeof featureSpecSchema>;
/** The spec after parsing (defaults filled in). */
export type FeatureSpec = z.output<typeof featureSpecSchema>;
