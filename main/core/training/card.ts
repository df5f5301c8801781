import type { FeatureSpec } from '../../../shared/feature-spec.ts';
import type { LabelDefinition } from './labels.ts';
import type { ClassificationMetrics, RegressionMetrics, StrategyComparison } from './metrics.ts';

/**
 * The model card `vantage train` writes next to the ONNX file. Everything a reader needs to run the
 * model (inputs, outputs, feature spec with normalisation), to trust it (label, data range,
 * out-of-sample metrics kept apart from in-sample ones, a plain verdict) and to reproduce it (the
 * command and seed; sha256 of the ONNX file).
 */

export const CARD_SCHEMA_VERSION = 1;

export interface DataRange {
  firstBar: string;
  lastBar: string;
  rows: number;
}

export interface EvaluationBlock {
  range: DataRange | null;
  metrics: ClassificationMetrics | RegressionMetrics;
  trading: StrategyComparison;
}

export interface FoldReport {
  fold: number;
  fit: DataRange | null;
  validation: DataRange | null;
  purgedRows: number;
  /** Trees kept after early stopping (GBDT). */
  trees: number | null;
  test: EvaluationBlock;
}

export interface TensorInfo {
  name: string;
  dtype: 'float32' | 'int64';
  shape: (number | string)[];
  meaning: string;
}

export interface FeatureExplanation {
  feature: string;
  gain: number | null;
  gainShare: number | null;
  meanAbsShap: number;
  weight?: number;
}

export interface ModelCardDocument {
  schemaVersion: number;
  name: string;
  version: string;
  file: string;
  sha256: string;
  task: 'binary-classification' | 'regression';
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  featureSpec: FeatureSpec;
  featureColumns: string[];
  label: LabelDefinition & { definition: string; meaning: string };
  model: Record<string, unknown> & { kind: 'gbdt' | 'logistic' };
  training: {
    data: { source: string; bars: number; firstBar: string; lastBar: string; usableRows: number };
    finalFit: { fit: DataRange | null; validation: DataRange | null };
    command: string | null;
    seed: number;
  };
  evaluation: {
    method: string;
    outOfSample: { folds: FoldReport[]; overall: EvaluationBlock };
    unseenAssets: (EvaluationBlock & { source: string; method: string })[];
    inSample: EvaluationBlock & { note: string };
    tradingAssumptions: string;
    verdict: string;
  };
  explanations: { method: string; shapRows: number; features: FeatureExplanation[] };
}
