import { appError } from '../../../shared/errors.ts';
import type { FeatureSpec } from '../../../shared/feature-spec.ts';
import { buildModelInputs, completeRows, computeFeatureColumns } from '../features/pipeline.ts';
import type { CandleColumns } from '../features/types.ts';
import type { PredictionSource } from './backtester.ts';

/**
 * Model outputs for a backtest, computed once for the whole series in batches (one ONNX run per
 * 8192 rows) from the model card's feature spec: the same pipeline as training and live
 * inference. The features are causal (main/core/features look-ahead checks), so the output for
 * bar t uses bars up to t only and is delivered at t's close. Rows still warming up get no
 * prediction. The explanation id `<model>@<bar open ms>` is what `models:explain` takes
 * (name, series, timeMs) to recompute that bar's per-feature contributions.
 */

/** The part of a model session the backtest needs (main/core/models/session.ts ModelSession). */
export interface BatchModel {
  runAll(input: Float32Array, rows: number): Promise<Record<string, { data: unknown }>>;
}

export interface PredictionArrays {
  modelName: string;
  symbol: string;
  time: Float64Array;
  /** Output name -> value per bar (NaN where no prediction). */
  values: Record<string, Float64Array>;
}

const BATCH_ROWS = 8192;

export async function computeModelPredictions(
  model: BatchModel,
  spec: FeatureSpec,
  modelName: string,
  symbol: string,
  bars: CandleColumns,
): Promise<PredictionArrays> {
  const n = bars.time.length;
  const features = computeFeatureColumns(bars, spec);
  const rows = completeRows(features.columns, spec);
  const pUp = new Float64Array(n).fill(NaN);
  const margin = new Float64Array(n).fill(NaN);
  for (let start = 0; start < rows.length; start += BATCH_ROWS) {
    const batch = rows.subarray(start, Math.min(rows.length, start + BATCH_ROWS));
    const input = buildModelInputs(features.columns, spec, batch);
    const out = await model.runAll(input, batch.length);
    const probabilities = out.probabilities?.data as Float32Array | undefined;
    const logits = out.margin?.data as Float32Array | undefined;
    if (!probabilities && !logits)
      throw appError('INFERENCE_FAILED', `Model ${modelName} returned neither 'probabilities' nor 'margin'.`);
    for (let j = 0; j < batch.length; j++) {
      const row = batch[j]!;
      if (logits) margin[row] = logits[j]!;
      pUp[row] = probabilities ? probabilities[2 * j + 1]! : 1 / (1 + Math.exp(-logits![j]!));
    }
  }
  return { modelName, symbol, time: bars.time, values: { p_up: pUp, margin } };
}

export function predictionSource(arrays: PredictionArrays): PredictionSource {
  const names = Object.keys(arrays.values);
  const columns = names.map((k) => arrays.values[k]!);
  return {
    predict(symbol: string, index: number, closeMs: number) {
      if (symbol !== arrays.symbol || index >= arrays.time.length) return null;
      const first = columns[0]![index]!;
      if (Number.isNaN(first)) return null;
      const values: Record<string, number> = {};
      for (let k = 0; k < names.length; k++) values[names[k]!] = columns[k]![index]!;
      return { symbol, tsMs: closeMs, values, explanationId: `${arrays.modelName}@${arrays.time[index]}` };
    },
  };
}

/** A model registry as the backtest uses it (main/core/models/registry.ts ModelRegistry). */
export interface ModelProvider {
  load(name: string): Promise<BatchModel>;
  entry(name: string): { checked: { spec: FeatureSpec } | null };
}

/** Loads `modelName` from the registry and computes its outputs over the bars. */
export async function predictionsFromRegistry(
  registry: ModelProvider,
  modelName: string,
  symbol: string,
  bars: CandleColumns,
): Promise<PredictionArrays> {
  const session = await registry.load(modelName);
  const checked = registry.entry(modelName).checked;
  if (!checked) throw appError('MODEL_INVALID', `Model ${modelName} has no valid card.`);
  return computeModelPredictions(session, checked.spec, modelName, symbol, bars);
}
