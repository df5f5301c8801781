import type { GbdtModel, Tree } from './gbdt.ts';

/**
 * Path-dependent TreeSHAP (Lundberg et al. 2018, Algorithm 2) over the trainer's trees, weighting
 * paths by node covers (training rows per node, also stored in the ONNX file's nodes_hitrates).
 * For one row: contributions per feature in margin units (log-odds for classifiers) plus a bias
 * (the cover-weighted mean margin) that add up exactly to the model's margin for that row.
 */

interface PathElement {
  feature: number;
  zero: number;
  one: number;
  weight: number;
}

function extend(path: PathElement[], depth: number, zero: number, one: number, feature: number): void {
  path[depth] = { feature, zero, one, weight: depth === 0 ? 1 : 0 };
  for (let i = depth - 1; i >= 0; i--) {
    path[i + 1]!.weight += (one * path[i]!.weight * (i + 1)) / (depth + 1);
    path[i]!.weight = (zero * path[i]!.weight * (depth - i)) / (depth + 1);
  }
}

function unwind(path: PathElement[], depth: number, index: number): void {
  const one = path[index]!.one;
  const zero = path[index]!.zero;
  let next = path[depth]!.weight;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = path[i]!.weight;
      path[i]!.weight = (next * (depth + 1)) / ((i + 1) * one);
      next = tmp - (path[i]!.weight * zero * (depth - i)) / (depth + 1);
    } else {
      path[i]!.weight = (path[i]!.weight * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    path[i]!.feature = path[i + 1]!.feature;
    path[i]!.zero = path[i + 1]!.zero;
    path[i]!.one = path[i + 1]!.one;
  }
}

function unwoundSum(path: PathElement[], depth: number, index: number): number {
  const one = path[index]!.one;
  const zero = path[index]!.zero;
  let next = path[depth]!.weight;
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = (next * (depth + 1)) / ((i + 1) * one);
      total += tmp;
      next = path[i]!.weight - tmp * zero * ((depth - i) / (depth + 1));
    } else {
      total += path[i]!.weight / zero / ((depth - i) / (depth + 1));
    }
  }
  return total;
}

function recurse(
  tree: Tree,
  x: ArrayLike<number>,
  offset: number,
  phi: Float64Array,
  node: number,
  parentPath: PathElement[],
  depth: number,
  zero: number,
  one: number,
  feature: number,
): void {
  const path = parentPath.slice(0, depth).map((p) => ({ ...p }));
  extend(path, depth, zero, one, feature);
  const n = tree.nodes[node]!;
  if (n.feature < 0) {
    for (let i = 1; i <= depth; i++) {
      const w = unwoundSum(path, depth, i);
      const p = path[i]!;
      phi[p.feature] = phi[p.feature]! + w * (p.one - p.zero) * n.value;
    }
    return;
  }
  const hot = x[offset + n.feature]! <= n.threshold ? n.left : n.right;
  const cold = hot === n.left ? n.right : n.left;
  let incomingZero = 1;
  let incomingOne = 1;
  let d = depth;
  for (let k = 1; k <= d; k++) {
    if (path[k]!.feature === n.feature) {
      incomingZero = path[k]!.zero;
      incomingOne = path[k]!.one;
      unwind(path, d, k);
      d -= 1;
      break;
    }
  }
  const cover = n.cover;
  recurse(
    tree,
    x,
    offset,
    phi,
    hot,
    path,
    d + 1,
    (incomingZero * tree.nodes[hot]!.cover) / cover,
    incomingOne,
    n.feature,
  );
  recurse(
    tree,
    x,
    offset,
    phi,
    cold,
    path,
    d + 1,
    (incomingZero * tree.nodes[cold]!.cover) / cover,
    0,
    n.feature,
  );
}

/** Cover-weighted mean leaf value of a tree (its expected contribution). */
function expectedValue(tree: Tree, node = 0): number {
  const n = tree.nodes[node]!;
  if (n.feature < 0) return n.value;
  const l = tree.nodes[n.left]!;
  const r = tree.nodes[n.right]!;
  return (
    (l.cover * expectedValue(tree, n.left) + r.cover * expectedValue(tree, n.right)) / (l.cover + r.cover)
  );
}

export interface ShapValues {
  /** Per-feature contributions (margin units). */
  contributions: Float64Array;
  /** Expected margin (base score + each tree's cover-weighted mean); bias + sum(contributions) = margin. */
  bias: number;
}

export function treeShap(model: GbdtModel, x: ArrayLike<number>, offset = 0): ShapValues {
  const phi = new Float64Array(model.featureCount + 1);
  let bias = model.baseScore;
  for (const tree of model.trees) {
    bias += expectedValue(tree);
    if (tree.nodes[0]!.feature >= 0) recurse(tree, x, offset, phi, 0, [], 0, 1, 1, model.featureCount);
  }
  return { contributions: phi.slice(0, model.featureCount), bias };
}

/** Mean |SHAP| per feature over the given rows (row-major float32 inputs). */
export function meanAbsShap(model: GbdtModel, x: Float32Array, rows: number): Float64Array {
  const out = new Float64Array(model.featureCount);
  for (let r = 0; r < rows; r++) {
    const { contributions } = treeShap(model, x, r * model.featureCount);
    for (let f = 0; f < model.featureCount; f++) out[f] = out[f]! + Math.abs(contributions[f]!);
  }
  if (rows > 0) for (let f = 0; f < model.featureCount; f++) out[f] = out[f]! / rows;
  return out;
}
