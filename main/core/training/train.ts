import { createHash } from 'node:crypto';
import { appError } from '../../../shared/errors.ts';
import type { FeatureSpec, Normalisation } from '../../../shared/feature-spec.ts';
import {
  buildModelInputs,
  completeRows,
  computeFeatureColumns,
  fitNormalisation,
} from '../features/pipeline.ts';
import type { CandleColumns } from '../features/types.ts';
import {
  gainImportance,
  predictGbdt,
  trainGbdt,
  type Dataset,
  type GbdtModel,
  type GbdtParams,
} from './gbdt.ts';
import { computeLabels, formatLabel, isClassification, type LabelDefinition } from './labels.ts';
import { predictLogistic, trainLogistic, type LogisticModel } from './logistic.ts';
import {
  classificationMetrics,
  regressionMetrics,
  simulateThresholdStrategy,
  type ClassificationMetrics,
  type RegressionMetrics,
  type StrategyComparison,
} from './metrics.ts';
import { exportGbdtOnnx, exportLogisticOnnx, ONNX_INPUT_NAME } from './onnx-export.ts';
import { meanAbsShap } from './tree-shap.ts';
import { assertPurged, splitValidation, walkForwardFolds, type WalkForwardOptions } from './walk-forward.ts';
import {
  CARD_SCHEMA_VERSION,
  type ModelCardDocument,
  type FoldReport,
  type EvaluationBlock,
} from './card.ts';

/**
 * The training pipeline behind `vantage train` and the Model manager's worker:
 * candles + feature spec + label -> walk-forward evaluation (purged, embargoed, every split
 * re-checked) -> final fit -> ONNX bytes + model card. Pure computation: the caller reads files and
 * writes the results; the same request gives the same bytes.
 */

export type ModelKind = 'gbdt' | 'logistic';

export interface SeriesInput {
  /** Where the candles came from, as written in the card (e.g. the file name). */
  source: string;
  bars: CandleColumns;
}

export interface TrainOptions {
  name: string;
  spec: FeatureSpec;
  label: LabelDefinition;
  model: ModelKind;
  trees: number;
  depth: number;
  learningRate: number;
  minLeaf: number;
  lambda: number;
  rowSubsample: number;
  featureSubsample: number;
  earlyStoppingRounds: number;
  folds: number;
  /** Bars; default = the label horizon. */
  embargo: number;
  seed: number;
  /** Long when the score is above this (probability for classifiers, predicted return for regression). */
  threshold: number;
  /** Fee per side as a fraction of notional. */
  feeRate: number;
  validationFraction: number;
  /** Rows of the last test fold used for mean |SHAP| (the cost is per row). */
  shapRows: number;
  /** The command line that produced the model, written into the card for reproduction. */
  command?: string;
  /**
   * Tests only: build the walk-forward splits without purging, to prove the per-split leak check
   * stops the run. Never set by the CLI or the app.
   */
  disablePurgeForTesting?: boolean;
}

export const DEFAULT_TRAIN_OPTIONS: Omit<TrainOptions, 'name' | 'spec' | 'label'> = {
  model: 'gbdt',
  trees: 200,
  depth: 5,
  learningRate: 0.05,
  minLeaf: 200,
  lambda: 1,
  rowSubsample: 0.8,
  featureSubsample: 0.8,
  earlyStoppingRounds: 30,
  folds: 4,
  embargo: 0,
  seed: 1,
  threshold: 0.5,
  feeRate: 0.001,
  validationFraction: 0.15,
  shapRows: 2000,
};

export interface TrainProgress {
  phase: string;
  done: number;
  total: number;
}

export interface TrainHooksOuter {
  onProgress?: (progress: TrainProgress) => void;
  isCancelled?: () => boolean;
}

export interface TrainResult {
  onnx: Uint8Array;
  card: ModelCardDocument;
  /** The final model's own predictions on the last test fold's rows (for ONNX parity checks). */
  check: { inputs: Float32Array; rows: number; predictions: Float64Array };
  model: GbdtModel | LogisticModel;
}

interface Prepared {
  bars: CandleColumns;
  source: string;
  columns: Float64Array[];
  names: string[];
  labels: Float64Array;
  /** Bars usable as rows: complete features and a label. */
  rows: Int32Array;
}

function prepare(series: SeriesInput, spec: FeatureSpec, label: LabelDefinition): Prepared {
  const { names, columns } = computeFeatureColumns(series.bars, spec);
  const labels = computeLabels(series.bars.close, label);
  const complete = completeRows(columns, spec);
  const rows: number[] = [];
  for (const t of complete) if (!Number.isNaN(labels[t]!)) rows.push(t);
  return { bars: series.bars, source: series.source, columns, names, labels, rows: Int32Array.from(rows) };
}

function dataset(p: Prepared, spec: FeatureSpec, bars: Int32Array): Dataset {
  const x = buildModelInputs(p.columns, spec, bars);
  const y = new Float64Array(bars.length);
  for (let i = 0; i < bars.length; i++) y[i] = p.labels[bars[i]!]!;
  return { x, y, rows: bars.length, featureCount: p.names.length };
}

function barsPerYear(time: Float64Array): number {
  const gaps: number[] = [];
  const step = Math.max(1, Math.floor(time.length / 2000));
  for (let i = step; i < time.length; i += step) gaps.push(time[i]! - time[i - 1]!);
  gaps.sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)] ?? 0;
  return median > 0 ? (365.25 * 24 * 3600 * 1000) / median : 252;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function range(
  p: Prepared,
  bars: ArrayLike<number>,
): { firstBar: string; lastBar: string; rows: number } | null {
  if (bars.length === 0) return null;
  return {
    firstBar: iso(p.bars.time[bars[0]!]!),
    lastBar: iso(p.bars.time[bars[bars.length - 1]!]!),
    rows: bars.length,
  };
}

type Fitted =
  { kind: 'gbdt'; model: GbdtModel } | { kind: 'logistic'; model: LogisticModel; spec: FeatureSpec };

/** The spec the model reads: logistic regression gets a z-score fitted on its own fit rows. */
function specForFit(options: TrainOptions, p: Prepared, fitBars: Int32Array): FeatureSpec {
  if (options.model !== 'logistic') return options.spec;
  const normalisation: Normalisation = fitNormalisationOnRows(p.columns, fitBars);
  return { ...options.spec, normalisation };
}

function fitNormalisationOnRows(columns: Float64Array[], fitBars: Int32Array): Normalisation {
  // The fit rows are contiguous bars from the start of the usable rows (purged tail only), so the
  // bar range [first, last] covers exactly the training period.
  return fitNormalisation(columns, 'zscore', fitBars[0]!, fitBars[fitBars.length - 1]! + 1);
}

function fit(
  options: TrainOptions,
  p: Prepared,
  fitBars: Int32Array,
  validationBars: Int32Array,
  onTree: (done: number, total: number) => void,
  isCancelled: () => boolean,
): Fitted {
  const spec = specForFit(options, p, fitBars);
  const train = dataset(p, spec, fitBars);
  if (options.model === 'logistic') {
    if (!isClassification(options.label))
      throw appError(
        'BAD_INPUT',
        `--model logistic needs a classification label (sign:H or above:H:X), not ${formatLabel(options.label)}`,
      );
    const model = trainLogistic(
      train,
      { lambda: 1e-4, maxIterations: 50, tolerance: 1e-8 },
      { onTree: (d, t) => onTree(d, t), isCancelled },
    );
    return { kind: 'logistic', model, spec };
  }
  const validation = validationBars.length > 0 ? dataset(p, spec, validationBars) : undefined;
  const params: GbdtParams = {
    objective: isClassification(options.label) ? 'binary' : 'regression',
    trees: options.trees,
    maxDepth: options.depth,
    learningRate: options.learningRate,
    minLeaf: options.minLeaf,
    lambda: options.lambda,
    rowSubsample: options.rowSubsample,
    featureSubsample: options.featureSubsample,
    earlyStoppingRounds: options.earlyStoppingRounds > 0 ? options.earlyStoppingRounds : undefined,
    seed: options.seed,
  };
  const model = trainGbdt(train, params, validation, { onTree: (d, t) => onTree(d, t), isCancelled });
  return { kind: 'gbdt', model };
}

function predict(
  f: Fitted,
  p: Prepared,
  spec: FeatureSpec,
  bars: Int32Array,
): { x: Float32Array; scores: Float64Array } {
  const useSpec = f.kind === 'logistic' ? f.spec : spec;
  const x = buildModelInputs(p.columns, useSpec, bars);
  const scores =
    f.kind === 'gbdt' ? predictGbdt(f.model, x, bars.length) : predictLogistic(f.model, x, bars.length);
  return { x, scores };
}

function evaluate(
  options: TrainOptions,
  p: Prepared,
  bars: Int32Array,
  scores: Float64Array,
  perYear: number,
): EvaluationBlock {
  const y = Float64Array.from(bars, (t) => p.labels[t]!);
  const metrics: ClassificationMetrics | RegressionMetrics = isClassification(options.label)
    ? classificationMetrics(scores, y)
    : regressionMetrics(scores, y);
  const trading: StrategyComparison = simulateThresholdStrategy(
    p.bars.close,
    bars,
    scores,
    options.threshold,
    options.feeRate,
    perYear,
  );
  return { range: range(p, bars), metrics, trading };
}

export function validateOptions(o: TrainOptions): void {
  const bad = (msg: string): never => {
    throw appError('BAD_INPUT', msg);
  };
  if (!Number.isInteger(o.embargo) || o.embargo < 0)
    bad(`--embargo must be a whole number of bars >= 0, not ${o.embargo}`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff)
    bad(`--seed must be an integer 0..4294967295, not ${o.seed}`);
  if (!(o.feeRate >= 0 && o.feeRate < 0.1)) bad(`fee rate must be in [0, 0.1), not ${o.feeRate}`);
  if (!Number.isFinite(o.threshold)) bad(`--threshold must be a number, not ${o.threshold}`);
  if (!(o.validationFraction >= 0 && o.validationFraction < 0.5))
    bad(`validation fraction must be in [0, 0.5), not ${o.validationFraction}`);
  if (o.spec.layout.kind !== 'tabular')
    bad(
      `training needs a tabular feature layout (one row per bar); the spec has layout '${o.spec.layout.kind}'`,
    );
}

export function runTraining(
  series: SeriesInput,
  options: TrainOptions,
  unseen: SeriesInput[] = [],
  hooks: TrainHooksOuter = {},
): TrainResult {
  validateOptions(options);
  const isCancelled = hooks.isCancelled ?? (() => false);
  const report = (phase: string, done: number, total: number): void =>
    hooks.onProgress?.({ phase, done, total });
  report('features', 0, 1);
  const p = prepare(series, options.spec, options.label);
  const horizon = options.label.horizon;
  const wf: WalkForwardOptions = {
    folds: options.folds,
    horizon,
    embargo: options.embargo,
    validationFraction: options.model === 'gbdt' ? options.validationFraction : 0,
    disablePurge: options.disablePurgeForTesting === true,
  };
  const folds = walkForwardFolds(p.rows, wf);
  const perYear = barsPerYear(p.bars.time);
  const fits = options.folds + 1;
  const steps = options.model === 'gbdt' ? options.trees : 50;

  // Walk-forward: fit on the past, score the next block. Only these scores are out-of-sample.
  const foldReports: FoldReport[] = [];
  const oosBars: number[] = [];
  const oosScores: number[] = [];
  const foldModels: { fitted: Fitted; firstTime: number; lastTime: number }[] = [];
  folds.forEach((fold, i) => {
    assertPurged(fold.fitBars, fold.testBars, horizon, options.embargo, `fold ${fold.index} (fit vs test)`);
    assertPurged(
      fold.validationBars,
      fold.testBars,
      horizon,
      options.embargo,
      `fold ${fold.index} (validation vs test)`,
    );
    assertPurged(
      fold.fitBars,
      fold.validationBars,
      horizon,
      options.embargo,
      `fold ${fold.index} (fit vs validation)`,
    );
    const fitted = fit(
      options,
      p,
      fold.fitBars,
      fold.validationBars,
      (d) => report(`fold ${fold.index}/${options.folds}`, i * steps + d, fits * steps),
      isCancelled,
    );
    const { scores } = predict(fitted, p, options.spec, fold.testBars);
    const block = evaluate(options, p, fold.testBars, scores, perYear);
    foldModels.push({
      fitted,
      firstTime: p.bars.time[fold.testBars[0]!]!,
      lastTime: p.bars.time[fold.testBars[fold.testBars.length - 1]!]!,
    });
    foldReports.push({
      fold: fold.index,
      fit: range(p, fold.fitBars),
      validation: range(p, fold.validationBars),
      purgedRows: fold.purgedRows,
      trees: fitted.kind === 'gbdt' ? fitted.model.trees.length : null,
      test: block,
    });
    for (let k = 0; k < fold.testBars.length; k++) {
      oosBars.push(fold.testBars[k]!);
      oosScores.push(scores[k]!);
    }
  });
  const overall = evaluate(options, p, Int32Array.from(oosBars), Float64Array.from(oosScores), perYear);

  // Final model: every usable row, less a purged validation tail for early stopping.
  const finalSplit = splitValidation(p.rows, wf);
  assertPurged(
    finalSplit.fitBars,
    finalSplit.validationBars,
    horizon,
    options.embargo,
    'final fit vs validation',
  );
  const final = fit(
    options,
    p,
    finalSplit.fitBars,
    finalSplit.validationBars,
    (d) => report('final model', options.folds * steps + d, fits * steps),
    isCancelled,
  );
  const finalSpec = final.kind === 'logistic' ? final.spec : options.spec;
  const inSample = evaluate(
    options,
    p,
    finalSplit.fitBars,
    predict(final, p, options.spec, finalSplit.fitBars).scores,
    perYear,
  );

  // Unseen assets. Out-of-sample in time too: each fold model scores the other series' bars that
  // fall in its own test period. The final model over the whole series is reported separately
  // (an unseen asset, but the same period the model was fitted on).
  report('unseen assets', 0, unseen.length);
  const unseenReports: ModelCardDocument['evaluation']['unseenAssets'] = [];
  for (const u of unseen) {
    const q = prepare(u, options.spec, options.label);
    const uBars: number[] = [];
    const uScores: number[] = [];
    for (const fm of foldModels) {
      const inFold = Int32Array.from(
        Array.from(q.rows).filter((t) => q.bars.time[t]! >= fm.firstTime && q.bars.time[t]! <= fm.lastTime),
      );
      if (inFold.length === 0) continue;
      const { scores } = predict(fm.fitted, q, options.spec, inFold);
      for (let k = 0; k < inFold.length; k++) {
        uBars.push(inFold[k]!);
        uScores.push(scores[k]!);
      }
    }
    const uPerYear = barsPerYear(u.bars.time);
    if (uBars.length > 0) {
      unseenReports.push({
        source: u.source,
        method:
          'walk-forward fold models on this series over their own test periods (unseen asset and unseen time)',
        ...evaluate(options, q, Int32Array.from(uBars), Float64Array.from(uScores), uPerYear),
      });
    }
    const whole = predict(final, q, options.spec, q.rows);
    unseenReports.push({
      source: u.source,
      method: 'final model over the whole series (unseen asset, but the same period the model was fitted on)',
      ...evaluate(options, q, q.rows, whole.scores, uPerYear),
    });
  }

  // Parity-check rows and explanations: the last test block, scored by the final model.
  const lastTest = folds[folds.length - 1]!.testBars;
  const check = predict(final, p, options.spec, lastTest);
  const meta = {
    name: options.name,
    doc: `Vantage ${options.model} model ${options.name}: label ${formatLabel(options.label)}`,
    metadata: { 'vantage.label': formatLabel(options.label), 'vantage.columns': p.names.join(',') },
  };
  const onnx =
    final.kind === 'gbdt' ? exportGbdtOnnx(final.model, meta) : exportLogisticOnnx(final.model, meta);
  report('explanations', 0, 1);
  let importance: ModelCardDocument['explanations'];
  if (final.kind === 'gbdt') {
    const gain = gainImportance(final.model);
    const shapCount = Math.min(options.shapRows, lastTest.length);
    const shapX = check.x.subarray(check.x.length - shapCount * p.names.length);
    const shap = meanAbsShap(final.model, shapX, shapCount);
    const gainTotal = gain.reduce((a, b) => a + b, 0) || 1;
    importance = {
      method:
        'gain: total loss reduction of the splits on each feature (final model); mean |SHAP|: path-dependent TreeSHAP in margin (log-odds) units over the last rows of the last test fold, weighted by node covers (also stored in the ONNX nodes_hitrates)',
      shapRows: shapCount,
      features: p.names.map((name, f) => ({
        feature: name,
        gain: gain[f]!,
        gainShare: gain[f]! / gainTotal,
        meanAbsShap: shap[f]!,
      })),
    };
  } else {
    const model = final.model;
    importance = {
      method:
        'logistic regression: weight per z-scored feature; mean |SHAP| for a linear model = |w| x mean |x - mean| over the last rows of the last test fold',
      shapRows: lastTest.length,
      features: p.names.map((name, f) => {
        let s = 0;
        for (let r = 0; r < lastTest.length; r++) s += Math.abs(check.x[r * p.names.length + f]!);
        return {
          feature: name,
          weight: model.weights[f]!,
          gain: null,
          gainShare: null,
          meanAbsShap: (Math.abs(model.weights[f]!) * s) / Math.max(1, lastTest.length),
        };
      }),
    };
  }

  const sha256 = createHash('sha256').update(onnx).digest('hex');
  const classification = isClassification(options.label);
  const card: ModelCardDocument = {
    schemaVersion: CARD_SCHEMA_VERSION,
    name: options.name,
    version: '1',
    file: `${options.name}.onnx`,
    sha256,
    task: classification ? 'binary-classification' : 'regression',
    inputs: [
      {
        name: ONNX_INPUT_NAME,
        dtype: 'float32',
        shape: ['N', p.names.length],
        meaning: `one row per bar, columns in featureSpec order: ${p.names.join(', ')}`,
      },
    ],
    outputs:
      final.kind === 'logistic'
        ? [
            {
              name: 'probabilities',
              dtype: 'float32',
              shape: ['N', 2],
              meaning: `[P(label 0), P(label 1)] where label 1 = ${labelMeaning(options.label)}`,
            },
          ]
        : classification
          ? [
              {
                name: 'label',
                dtype: 'int64',
                shape: ['N'],
                meaning: 'predicted class (1 when P(label 1) > 0.5)',
              },
              {
                name: 'probabilities',
                dtype: 'float32',
                shape: ['N', 2],
                meaning: `[P(label 0), P(label 1)] where label 1 = ${labelMeaning(options.label)}`,
              },
              {
                name: 'margin',
                dtype: 'float32',
                shape: ['N', 1],
                meaning: 'log-odds of label 1 (the units of the SHAP contributions)',
              },
            ]
          : [
              {
                name: 'prediction',
                dtype: 'float32',
                shape: ['N', 1],
                meaning: `predicted ${labelMeaning(options.label)}`,
              },
            ],
    featureSpec: finalSpec,
    featureColumns: p.names,
    label: { definition: formatLabel(options.label), ...options.label, meaning: labelMeaning(options.label) },
    model:
      final.kind === 'gbdt'
        ? {
            kind: 'gbdt',
            onnxOperator: classification
              ? 'ai.onnx.ml TreeEnsembleRegressor (margin) + Sigmoid'
              : 'ai.onnx.ml TreeEnsembleRegressor',
            treesKept: final.model.trees.length,
            treesGrown: final.model.treesGrown,
            baseScore: final.model.baseScore,
            params: {
              trees: options.trees,
              depth: options.depth,
              learningRate: options.learningRate,
              minLeaf: options.minLeaf,
              lambda: options.lambda,
              rowSubsample: options.rowSubsample,
              featureSubsample: options.featureSubsample,
              earlyStoppingRounds: options.earlyStoppingRounds,
              maxBins: 256,
              seed: options.seed,
            },
          }
        : {
            kind: 'logistic',
            onnxOperator: 'MatMul + Add + Softmax',
            iterations: final.model.iterations,
            intercept: final.model.intercept,
            params: { lambda: 1e-4 },
          },
    training: {
      data: {
        source: series.source,
        bars: p.bars.close.length,
        firstBar: iso(p.bars.time[0]!),
        lastBar: iso(p.bars.time[p.bars.time.length - 1]!),
        usableRows: p.rows.length,
      },
      finalFit: { fit: range(p, finalSplit.fitBars), validation: range(p, finalSplit.validationBars) },
      command: options.command ?? null,
      seed: options.seed,
    },
    evaluation: {
      method: `walk-forward, expanding window: usable rows cut into ${options.folds + 1} blocks, fold k tests on block k after fitting on blocks 0..k-1; training rows whose label (${horizon} bars) plus an embargo of ${options.embargo} bars reaches the validation or test block are purged, and every split is re-checked before fitting. Fold models use the same settings as the final model.`,
      outOfSample: { folds: foldReports, overall },
      unseenAssets: unseenReports,
      inSample: {
        note: 'final model on its own fit rows: NOT out-of-sample, shown only to gauge overfitting',
        ...inSample,
      },
      tradingAssumptions: `long 1 unit when the score is above ${options.threshold}, flat otherwise; decided at a bar's close and held over the next bar (close to close); fee ${options.feeRate * 100}% of notional per position change (entry or exit), no slippage, no funding; Sharpe annualised with ${Math.round(perYear)} bars a year; buy-and-hold over the same test bars pays one entry fee`,
      verdict: verdict(overall, unseenReports),
    },
    explanations: importance,
  };
  return {
    onnx,
    card,
    check: { inputs: check.x, rows: lastTest.length, predictions: check.scores },
    model: final.model,
  };
}

function labelMeaning(label: LabelDefinition): string {
  if (label.kind === 'sign') return `close ${label.horizon} bars ahead is above the current close`;
  if (label.kind === 'above')
    return `the return from the current close to the close ${label.horizon} bars ahead exceeds ${label.threshold}`;
  return `the return from the current close to the close ${label.horizon} bars ahead`;
}

function verdict(overall: EvaluationBlock, unseen: ModelCardDocument['evaluation']['unseenAssets']): string {
  const s = overall.trading.strategy;
  const b = overall.trading.buyAndHold;
  const parts: string[] = [];
  const m = overall.metrics;
  if ('auc' in m)
    parts.push(
      `Out-of-sample AUC ${m.auc.toFixed(3)} (0.5 = no skill), accuracy ${(m.accuracy * 100).toFixed(1)}% against ${(Math.max(m.positiveRate, 1 - m.positiveRate) * 100).toFixed(1)}% for always guessing the majority class.`,
    );
  else parts.push(`Out-of-sample correlation of prediction and return ${m.correlation.toFixed(3)}.`);
  const edge = s.sharpe > b.sharpe && s.totalReturn > b.totalReturn;
  parts.push(
    edge
      ? `After fees the threshold strategy beat buy-and-hold over the test bars (Sharpe ${s.sharpe.toFixed(2)} vs ${b.sharpe.toFixed(2)}, return ${(s.totalReturn * 100).toFixed(1)}% vs ${(b.totalReturn * 100).toFixed(1)}%).`
      : `No edge over buy-and-hold after fees: the threshold strategy made ${(s.totalReturn * 100).toFixed(1)}% (${(overall.trading.strategyBeforeFees.totalReturn * 100).toFixed(1)}% before fees; Sharpe ${s.sharpe.toFixed(2)}, max drawdown ${(s.maxDrawdown * 100).toFixed(1)}%) against ${(b.totalReturn * 100).toFixed(1)}% for buy-and-hold (Sharpe ${b.sharpe.toFixed(2)}, max drawdown ${(b.maxDrawdown * 100).toFixed(1)}%) over the same test bars.`,
  );
  for (const u of unseen.filter((x) => x.method.startsWith('walk-forward'))) {
    const um = u.metrics;
    if ('auc' in um)
      parts.push(
        `Unseen asset ${u.source} (walk-forward test periods): AUC ${um.auc.toFixed(3)}, strategy ${(u.trading.strategy.totalReturn * 100).toFixed(1)}% vs buy-and-hold ${(u.trading.buyAndHold.totalReturn * 100).toFixed(1)}%.`,
      );
  }
  return parts.join(' ');
}

/** sha256 of bytes (hex), as the card records it. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
