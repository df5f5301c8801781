import type { DecodedEnsemble, DecodedNode } from '../models/onnx-builder.ts';
import { OnnxTreeShap } from '../models/explain/onnx-tree-shap.ts';
import type { GbdtModel } from './gbdt.ts';

/**
 * Path-dependent TreeSHAP over the trainer's trees, weighting paths by node covers (training rows
 * per node, also stored in the ONNX file's nodes_hitrates). For one row: contributions per feature
 * in margin units (log-odds for classifiers) plus a bias (the cover-weighted mean margin) that add
 * up exactly to the model's margin for that row.
 *
 * One implementation: the trees are handed to OnnxTreeShap (models/explain), the same code that
 * explains any ONNX tree ensemble, in the form decodeTreeEnsemble gives for the file the trainer
 * writes (x <= threshold goes left, BRANCH_LEQ), so training-time and run-time explanations agree.
 */

export interface ShapValues {
  /** Per-feature contributions (margin units). */
  contributions: Float64Array;
  /** Expected margin (base score + each tree's cover-weighted mean); bias + sum(contributions) = margin. */
  bias: number;
}

/** The trainer's trees as the ONNX decoder would read them back. */
export function gbdtAsEnsemble(model: GbdtModel): DecodedEnsemble {
  return {
    trees: model.trees.map((tree) =>
      tree.nodes.map((n): DecodedNode =>
        n.feature < 0
          ? { feature: 0, threshold: 0, mode: 'LEAF', yes: 0, no: 0, value: n.value, cover: n.cover }
          : {
              feature: n.feature,
              threshold: n.threshold,
              mode: 'BRANCH_LEQ',
              yes: n.left,
              no: n.right,
              value: 0,
              cover: n.cover,
            },
      ),
    ),
    baseValue: model.baseScore,
    postTransform: 'NONE',
    opType: 'TreeEnsembleRegressor',
  };
}

/** Flattened once per model (a model's trees do not change after training). */
const explainers = new WeakMap<GbdtModel, OnnxTreeShap>();

function explainerFor(model: GbdtModel): OnnxTreeShap {
  let shap = explainers.get(model);
  if (!shap) {
    shap = new OnnxTreeShap(gbdtAsEnsemble(model), model.featureCount);
    explainers.set(model, shap);
  }
  return shap;
}

export function treeShap(model: GbdtModel, x: ArrayLike<number>, offset = 0): ShapValues {
  const { contributions, baseValue } = explainerFor(model).explain(x, offset);
  return { contributions, bias: baseValue };
}

/** Mean |SHAP| per feature over the given rows (row-major float32 inputs). */
export function meanAbsShap(model: GbdtModel, x: Float32Array, rows: number): Float64Array {
  const shap = explainerFor(model);
  const out = new Float64Array(model.featureCount);
  for (let r = 0; r < rows; r++) {
    const { contributions } = shap.explain(x, r * model.featureCount);
    for (let f = 0; f < model.featureCount; f++) out[f] = out[f]! + Math.abs(contributions[f]!);
  }
  if (rows > 0) for (let f = 0; f < model.featureCount; f++) out[f] = out[f]! / rows;
  return out;
}
