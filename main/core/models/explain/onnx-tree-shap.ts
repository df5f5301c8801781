import { appError } from '../../../../shared/errors.ts';
import type { DecodedEnsemble, DecodedNode } from '../onnx-builder.ts';

/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, Algorithm 2) over the trees read from
 * any ai.onnx.ml tree ensemble (decodeTreeEnsemble), not only the ones Vantage's trainer writes:
 * every split mode ORT knows (<=, <, >=, >, ==, !=) is followed exactly as ORT follows it, with
 * float32 comparisons like ORT's float kernel.
 *
 * "Path-dependent": a feature outside the coalition is integrated out by sending the row down both
 * branches weighted by the share of training rows (cover, `nodes_hitrates`) that went each way, so
 * no background sample is needed. Contributions are in the ensemble's raw output units (the margin,
 * before any LOGISTIC post transform) and add up to prediction - baseValue, where baseValue is the
 * cover-weighted mean of the ensemble.
 *
 * The trees are flattened into typed arrays once per model; the recursion keeps the unique-feature
 * path in one flat preallocated buffer (one slice per depth, as in the reference C++) and passes
 * the new element's fractions through it, so explaining a row allocates nothing per node.
 */

export interface TreeShapResult {
  /** Cover-weighted expectation of the raw ensemble output (base_values included). */
  baseValue: number;
  /** Raw ensemble output for the row (float64 sum of the float32 leaf weights). */
  prediction: number;
  contributions: Float64Array;
}

/** Split modes as small integers for the flattened trees; LEAF = 0. */
const MODE_CODES: Record<DecodedNode['mode'], number> = {
  LEAF: 0,
  BRANCH_LEQ: 1,
  BRANCH_LT: 2,
  BRANCH_GTE: 3,
  BRANCH_GT: 4,
  BRANCH_EQ: 5,
  BRANCH_NEQ: 6,
};

/** Whether the row goes to the `yes` child; float32 comparison, as ORT's float kernel. */
function goesYes(mode: number, threshold: number, value: number): boolean {
  const v = Math.fround(value);
  switch (mode) {
    case 1:
      return v <= threshold;
    case 2:
      return v < threshold;
    case 3:
      return v >= threshold;
    case 4:
      return v > threshold;
    case 5:
      return v === threshold;
    case 6:
      return v !== threshold;
    default:
      return false;
  }
}

/**
 * The ensemble flattened once per model into typed arrays (struct of arrays, node ids global across
 * trees), so the per-row recursion reads numbers, not node objects.
 */
interface FlatTrees {
  roots: Int32Array;
  mode: Uint8Array;
  feature: Int32Array;
  threshold: Float64Array;
  yes: Int32Array;
  no: Int32Array;
  value: Float64Array;
  /** cover(yes child) / cover(node) and cover(no child) / cover(node): the path-dependent weights. */
  yesShare: Float64Array;
  noShare: Float64Array;
}

function flatten(trees: readonly DecodedNode[][]): FlatTrees {
  const total = trees.reduce((n, t) => n + t.length, 0);
  const flat: FlatTrees = {
    roots: new Int32Array(trees.length),
    mode: new Uint8Array(total),
    feature: new Int32Array(total),
    threshold: new Float64Array(total),
    yes: new Int32Array(total),
    no: new Int32Array(total),
    value: new Float64Array(total),
    yesShare: new Float64Array(total),
    noShare: new Float64Array(total),
  };
  let base = 0;
  trees.forEach((tree, t) => {
    flat.roots[t] = base;
    tree.forEach((n, k) => {
      const g = base + k;
      flat.mode[g] = MODE_CODES[n.mode];
      flat.feature[g] = n.feature;
      flat.threshold[g] = n.threshold;
      flat.value[g] = n.value;
      if (n.mode === 'LEAF') return;
      flat.yes[g] = base + n.yes;
      flat.no[g] = base + n.no;
      flat.yesShare[g] = tree[n.yes]!.cover / n.cover;
      flat.noShare[g] = tree[n.no]!.cover / n.cover;
    });
    base += tree.length;
  });
  return flat;
}

export class OnnxTreeShap {
  readonly featureCount: number;
  readonly baseValue: number;
  private readonly trees: FlatTrees;
  private readonly ensembleBase: number;
  private readonly maxDepth: number;
  // The unique path of every open node, in one flat buffer: the node at unique depth d keeps its
  // d + 1 entries right after its parent's slice, so siblings reuse the space and the whole buffer
  // is (D + 2)(D + 3) / 2 entries (Lundberg et al.'s layout). Feature, zero fraction, one
  // fraction, permutation weight.
  private readonly pf: Int32Array;
  private readonly pz: Float64Array;
  private readonly po: Float64Array;
  private readonly pw: Float64Array;
  /**
   * Per unique depth d (row d of a (D + 2)² table): (d + 1) / (i + 1) and (d − i) / (d + 1) for the
   * unwound sums, and 1 / (d − i) for their one = 0 form, so the leaf loops multiply instead of
   * divide (a division in the loop-carried chain made it latency-bound).
   */
  private readonly up: Float64Array;
  private readonly down: Float64Array;
  private readonly invRest: Float64Array;
  private readonly stride: number;
  private phi: Float64Array = new Float64Array(0);
  private row: ArrayLike<number> = [];
  private rowOffset = 0;

  constructor(ensemble: DecodedEnsemble, featureCount: number) {
    this.featureCount = featureCount;
    this.ensembleBase = ensemble.baseValue;
    let depth = 0;
    let base = ensemble.baseValue;
    ensemble.trees.forEach((tree, t) => {
      for (const n of tree) {
        if (n.mode === 'LEAF') continue;
        if (n.feature < 0 || n.feature >= featureCount)
          throw appError(
            'MODEL_INVALID',
            `Tree ${t} splits on feature ${n.feature}; the model has ${featureCount} inputs.`,
            { field: 'onnx.nodes_featureids' },
          );
        if (!(n.cover > 0))
          throw appError(
            'MODEL_INVALID',
            `Tree ${t} has a branch with cover ${n.cover}; TreeSHAP needs positive covers.`,
            { field: 'onnx.nodes_hitrates' },
          );
      }
      depth = Math.max(depth, depthOf(tree, 0, 0, t));
      base += expected(tree, 0);
    });
    this.baseValue = base;
    this.maxDepth = depth;
    this.trees = flatten(ensemble.trees);
    const size = ((depth + 2) * (depth + 3)) / 2;
    this.pf = new Int32Array(size);
    this.pz = new Float64Array(size);
    this.po = new Float64Array(size);
    this.pw = new Float64Array(size);
    const stride = depth + 2;
    this.stride = stride;
    this.up = new Float64Array(stride * stride);
    this.down = new Float64Array(stride * stride);
    this.invRest = new Float64Array(stride * stride);
    for (let d = 0; d < stride; d++) {
      for (let i = 0; i < d; i++) {
        this.up[d * stride + i] = (d + 1) / (i + 1);
        this.down[d * stride + i] = (d - i) / (d + 1);
        this.invRest[d * stride + i] = 1 / (d - i);
      }
    }
  }

  /** Raw ensemble output for one row (x[offset .. offset + featureCount)). */
  predict(x: ArrayLike<number>, offset = 0): number {
    const { roots, mode, feature, threshold, yes, no, value } = this.trees;
    let sum = this.ensembleBase;
    for (let t = 0; t < roots.length; t++) {
      let k = roots[t]!;
      while (mode[k] !== 0) k = goesYes(mode[k]!, threshold[k]!, x[offset + feature[k]!]!) ? yes[k]! : no[k]!;
      sum += value[k]!;
    }
    return sum;
  }

  explain(x: ArrayLike<number>, offset = 0): TreeShapResult {
    this.phi = new Float64Array(this.featureCount);
    this.row = x;
    this.rowOffset = offset;
    const { roots, mode } = this.trees;
    for (let t = 0; t < roots.length; t++) {
      const root = roots[t]!;
      if (mode[root] === 0) continue; // a stump adds only to the base value
      // The root's path: one dummy element (feature −1, fractions 1) the recursion extends.
      this.pf[0] = -1;
      this.pz[0] = 1;
      this.po[0] = 1;
      this.recurse(root, 0, 0);
    }
    return { baseValue: this.baseValue, prediction: this.predict(x, offset), contributions: this.phi };
  }

  /**
   * Visits node k with unique depth `depth`; its slice starts at `here`, where the parent already
   * copied its path (entries 0 .. depth − 1) and put the new element's feature and fractions at
   * entry `depth` (passing them through the buffer keeps the doubles out of the call: no boxing).
   */
  private recurse(k: number, here: number, depth: number): void {
    const { pf, pz, po, pw } = this;
    this.extend(here, depth);
    const t = this.trees;
    const mode = t.mode[k]!;
    if (mode === 0) {
      this.addLeaf(here, depth, t.value[k]!);
      return;
    }
    const feature = t.feature[k]!;
    const isYes = goesYes(mode, t.threshold[k]!, this.row[this.rowOffset + feature]!);
    const hot = isYes ? t.yes[k]! : t.no[k]!;
    const cold = isYes ? t.no[k]! : t.yes[k]!;
    const hotShare = isYes ? t.yesShare[k]! : t.noShare[k]!;
    const coldShare = isYes ? t.noShare[k]! : t.yesShare[k]!;
    let inZero = 1;
    let inOne = 1;
    let d = depth;
    // A feature already on the path: undo its earlier split, its fractions multiply in below.
    let p = 1;
    while (p <= d && pf[here + p] !== feature) p++;
    if (p <= d) {
      inZero = pz[here + p]!;
      inOne = po[here + p]!;
      this.unwind(here, d, p);
      d -= 1;
    }
    // Both children get this path (d + 1 entries) plus the new element, in the slice after ours.
    const child = here + d + 1;
    for (let i = 0; i <= d; i++) {
      pf[child + i] = pf[here + i]!;
      pz[child + i] = pz[here + i]!;
      po[child + i] = po[here + i]!;
      pw[child + i] = pw[here + i]!;
    }
    pf[child + d + 1] = feature;
    pz[child + d + 1] = hotShare * inZero;
    po[child + d + 1] = inOne;
    this.recurse(hot, child, d + 1);
    // The hot subtree used the space after `here` (and changed our copy): copy again for the cold one.
    for (let i = 0; i <= d; i++) {
      pf[child + i] = pf[here + i]!;
      pz[child + i] = pz[here + i]!;
      po[child + i] = po[here + i]!;
      pw[child + i] = pw[here + i]!;
    }
    pf[child + d + 1] = feature;
    pz[child + d + 1] = coldShare * inZero;
    po[child + d + 1] = 0;
    this.recurse(cold, child, d + 1);
  }

  /** Adds element `depth` (already stored) to the permutation weights of the path at `at`. */
  private extend(at: number, depth: number): void {
    const pw = this.pw;
    const zero = this.pz[at + depth]!;
    const one = this.po[at + depth]!;
    pw[at + depth] = depth === 0 ? 1 : 0;
    const inv = 1 / (depth + 1);
    for (let i = depth - 1; i >= 0; i--) {
      const w = pw[at + i]!;
      pw[at + i + 1] = pw[at + i + 1]! + one * w * (i + 1) * inv;
      pw[at + i] = zero * w * (depth - i) * inv;
    }
  }

  private unwind(at: number, depth: number, index: number): void {
    const { pf, pz, po, pw } = this;
    const one = po[at + index]!;
    const zero = pz[at + index]!;
    let next = pw[at + depth]!;
    for (let i = depth - 1; i >= 0; i--) {
      if (one !== 0) {
        const tmp = pw[at + i]!;
        pw[at + i] = (next * (depth + 1)) / ((i + 1) * one);
        next = tmp - (pw[at + i]! * zero * (depth - i)) / (depth + 1);
      } else {
        pw[at + i] = (pw[at + i]! * (depth + 1)) / (zero * (depth - i));
      }
    }
    for (let i = index; i < depth; i++) {
      pf[at + i] = pf[at + i + 1]!;
      pz[at + i] = pz[at + i + 1]!;
      po[at + i] = po[at + i + 1]!;
    }
  }

  /**
   * A leaf: every path element i ≥ 1 gets (unwound sum i)·(one_i − zero_i)·leaf value.
   * For one_i = 0 the unwound sum is (d + 1)/zero_i · Σ_j w_j/(d − j), and zero_i cancels against
   * (0 − zero_i): the same −(d + 1)·Σ_j w_j/(d − j)·v for all of them, computed once per leaf.
   * Only one_i ≠ 0 elements run the O(d) recurrence.
   */
  private addLeaf(at: number, depth: number, leafValue: number): void {
    const { pf, pz, po, pw, phi } = this;
    const row = depth * this.stride;
    const { up, down, invRest } = this;
    let restSum = -1;
    for (let i = 1; i <= depth; i++) {
      const one = po[at + i]!;
      const zero = pz[at + i]!;
      const f = pf[at + i]!;
      if (one === 0) {
        if (restSum < 0) {
          restSum = 0;
          for (let j = 0; j < depth; j++) restSum += pw[at + j]! * invRest[row + j]!;
        }
        phi[f] = phi[f]! - (depth + 1) * restSum * leafValue;
        continue;
      }
      let next = pw[at + depth]!;
      let total = 0;
      const scale = 1 / one;
      // Parenthesised so the loop-carried chain is next → × → × → −; the other factors are off it.
      for (let j = depth - 1; j >= 0; j--) {
        const tmp = next * (up[row + j]! * scale);
        total += tmp;
        next = pw[at + j]! - tmp * (zero * down[row + j]!);
      }
      phi[f] = phi[f]! + total * (one - zero) * leafValue;
    }
  }

  /** Deepest root-to-leaf path (for sizing and reporting). */
  get depth(): number {
    return this.maxDepth;
  }
}

function depthOf(tree: DecodedNode[], k: number, d: number, t: number): number {
  if (d > 256)
    throw appError('MODEL_INVALID', `Tree ${t} is deeper than 256 levels or has a cycle.`, {
      field: 'onnx.nodes_truenodeids',
    });
  const n = tree[k];
  if (!n)
    throw appError('MODEL_INVALID', `Tree ${t} points at missing node ${k}.`, {
      field: 'onnx.nodes_truenodeids',
    });
  if (n.mode === 'LEAF') return d;
  return Math.max(depthOf(tree, n.yes, d + 1, t), depthOf(tree, n.no, d + 1, t));
}

/** Cover-weighted expectation of one tree (the same weighting the algorithm integrates with). */
function expected(tree: DecodedNode[], k: number): number {
  const n = tree[k]!;
  if (n.mode === 'LEAF') return n.value;
  return (
    (tree[n.yes]!.cover / n.cover) * expected(tree, n.yes) +
    (tree[n.no]!.cover / n.cover) * expected(tree, n.no)
  );
}
