import onnxProto from 'onnx-proto';
import type { RandomSource } from '../../random.ts';
import { AppErrorException, appError } from '../../../../shared/errors.ts';
import { decodeTreeEnsemble } from '../onnx-builder.ts';
import { OnnxTreeShap } from './onnx-tree-shap.ts';
import type { ModelSession } from '../session.ts';
import { exactShapley, MAX_EXACT_PLAYERS, playersFor, sampledShapley } from './shapley.ts';

/**
 * Explanations of one model input row: base value, prediction and one contribution per feature
 * (or per feature group for window inputs) that add up to prediction - base value.
 *
 * - Tree ensembles (the ONNX file holds an ai.onnx.ml TreeEnsembleRegressor whose output is the
 *   scored output, i.e. `margin`): exact path-dependent TreeSHAP from the trees in the file
 *   (decodeTreeEnsemble + OnnxTreeShap: any TreeEnsembleRegressor with covers in nodes_hitrates
 *   and no post transform). Base value = cover-weighted expected margin. A tree file without covers
 *   falls back to Shapley against the background.
 * - Anything else: exact Shapley over all coalitions (<= 14 players) against the background sample,
 *   or permutation-sampled Shapley with standard errors beyond that (shapley.ts).
 */

export type ExplanationMethod = 'tree-shap' | 'exact-shapley' | 'sampled-shapley';

export interface Contribution {
  feature: string;
  /** The feature's value at the explained bar (raw, before normalisation, when the caller has it). */
  value: number;
  contribution: number;
  /** Standard error of the contribution (sampled Shapley only). */
  standardError?: number;
}

export interface Explanation {
  method: ExplanationMethod;
  /** The output explained (e.g. `margin`, log-odds). */
  output: string;
  baseValue: number;
  prediction: number;
  contributions: Contribution[];
  backgroundRows: number;
  evaluations: number;
}

const { onnx } = onnxProto;

/** The tree ensemble inside an ONNX file if the scored output comes straight from it, else null. */
export function treeEnsembleFor(
  bytes: Uint8Array,
  scoredOutput: string,
  featureCount: number,
): OnnxTreeShap | null {
  const model = onnx.ModelProto.decode(bytes);
  const node = model.graph?.node?.find((n) => n.opType === 'TreeEnsembleRegressor');
  if (!node || node.output?.[0] !== scoredOutput) return null;
  let decoded: ReturnType<typeof decodeTreeEnsemble>;
  try {
    decoded = decodeTreeEnsemble(bytes);
  } catch (error) {
    // No covers: path-dependent TreeSHAP is impossible; the caller uses Shapley against the background.
    if (
      error instanceof AppErrorException &&
      (error.details as { field?: string } | undefined)?.field === 'onnx.nodes_hitrates'
    )
      return null;
    throw error;
  }
  // A LOGISTIC/SOFTMAX post transform makes the output a probability, not the sum of leaves TreeSHAP explains.
  if (decoded.postTransform !== 'NONE') return null;
  return new OnnxTreeShap(decoded, featureCount);
}

export interface ExplainInput {
  /** The normalised model input row (F, or W x F). */
  x: Float32Array;
  /** Raw feature values to show next to each contribution (default: the latest bar of x). */
  values?: ArrayLike<number>;
  /** Background rows (B x rowWidth) for model-agnostic methods. */
  background?: Float32Array;
}

export class Explainer {
  private readonly session: ModelSession;
  private readonly columns: string[];
  private readonly windowBars: number;
  private readonly trees: OnnxTreeShap | null;
  private readonly random: RandomSource;

  constructor(options: {
    session: ModelSession;
    bytes: Uint8Array;
    columns: string[];
    windowBars: number;
    random: RandomSource;
    scoredOutput: string;
  }) {
    this.session = options.session;
    this.columns = options.columns;
    this.windowBars = options.windowBars;
    this.random = options.random;
    this.trees =
      options.windowBars === 1
        ? treeEnsembleFor(options.bytes, options.scoredOutput, options.columns.length)
        : null;
  }

  get method(): ExplanationMethod {
    if (this.trees) return 'tree-shap';
    return this.columns.length <= MAX_EXACT_PLAYERS ? 'exact-shapley' : 'sampled-shapley';
  }

  async explain(input: ExplainInput, outputName: string): Promise<Explanation> {
    const F = this.columns.length;
    const width = F * this.windowBars;
    if (input.x.length !== width)
      throw appError('BAD_INPUT', `Expected an input row of ${width} values, got ${input.x.length}.`);
    const values = input.values ?? input.x.subarray(width - F);
    const make = (phi: ArrayLike<number>, se?: ArrayLike<number> | null): Contribution[] =>
      this.columns.map((feature, i) => ({
        feature,
        value: values[i]!,
        contribution: phi[i]!,
        ...(se ? { standardError: se[i]! } : {}),
      }));
    if (this.trees) {
      const shap = this.trees.explain(input.x);
      const prediction = (await this.session.runBatch(input.x, 1))[0]!;
      return {
        method: 'tree-shap',
        output: outputName,
        baseValue: shap.baseValue,
        prediction,
        contributions: make(shap.contributions),
        backgroundRows: 0,
        evaluations: 1,
      };
    }
    if (!input.background || input.background.length === 0)
      throw appError(
        'BAD_INPUT',
        'A background sample is needed to explain a model that is not a tree ensemble.',
      );
    const problem = {
      x: input.x,
      background: input.background,
      rowWidth: width,
      players: playersFor(F, this.windowBars),
    };
    const f = (rows: Float32Array, n: number): Promise<Float64Array> => this.session.runBatch(rows, n);
    const result =
      F <= MAX_EXACT_PLAYERS ? await exactShapley(problem, f) : await sampledShapley(problem, f, this.random);
    return {
      method: result.method,
      output: outputName,
      baseValue: result.baseValue,
      prediction: result.prediction,
      contributions: make(result.contributions, result.standardErrors),
      backgroundRows: result.backgroundRows,
      evaluations: result.evaluations,
    };
  }
}
