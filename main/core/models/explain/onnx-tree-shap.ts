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
 * The recursion keeps the unique-feature path in flat preallocated buffers (one slice per depth,
 * as in the reference C++), so explaining a row allocates nothing per node.
 */

export interface TreeShapResult {
  /** Cover-weighted expectation of the raw ensemble output (base_values included). */
  baseValue: number;
  /** Raw ensemble output for the row (float64 sum of the float32 leaf weights). */
  prediction: number;
  contributions: Float64Array;
}

function goesYes(node: DecodedNode, value: number): boolean {
  const v = Math.fround(value);
  const t = node.threshold;
  switch (node.mode) {
    case 'BRANCH_LEQ':
      return v <= t;
    case 'BRANCH_LT':
      return v < t;
    case 'BRANCH_GTE':
      return v >= t;
    case 'BRANCH_GT':
      return v > t;
    case 'BRANCH_EQ':
      return v === t;
    case 'BRANCH_NEQ':
      return v !== t;
    default:
      return false;
  }
}

export class OnnxTreeShap {
  readonly featureCount: number;
  readonly baseValue: number;
  private readonly trees: DecodedNode[][];
  private readonly ensembleBase: number;
  private readonly maxDepth: number;
  // Path buffers: feature, zero fraction, one fraction, permutation weight.
  private readonly pf: Int32Array;
  private readonly pz: Float64Array;
  private readonly po: Float64Array;
  private readonly pw: Float64Array;
  private phi: Float64Array = new Float64Array(0);
  private row: ArrayLike<number> = [];
  private rowOffset = 0;

  constructor(ensemble: DecodedEnsemble, featureCount: number) {
    this.featureCount = featureCount;
    this.trees = ensemble.trees;
    this.ensembleBase = ensemble.baseValue;
    let depth = 0;
    let base = ensemble.baseValue;
    ensemble.trees.forEach((tree, t) => {
      for (const n of tree) {
        if (n.mode === 'LEAF') continue;
        if (n.feature < 0 || n.feature >= featureCount)
          throw appError('MODEL_INVALID', `Tree ${t} splits on feature ${n.feature}; the model has ${featureCount} inputs.`, { field: 'onnx.nodes_featureids' });
        if (!(n.cover > 0))
          throw appError('MODEL_INVALID', `Tree ${t} has a branch with cover ${n.cover}; TreeSHAP needs positive covers.`, { field: 'onnx.nodes_hitrates' });
      }
      depth = Math.max(depth, this.depthOf(tree, 0, 0, t));
      base += this.expected(tree, 0);
    });
    this.baseValue = base;
    this.maxDepth = depth;
    const size = ((depth + 2) * (depth + 3)) / 2;
    this.pf = new Int32Array(size);
    this.pz = new Float64Array(size);
    this.po = new Float64Array(size);
    this.pw = new Float64Array(size);
  }

  private depthOf(tree: DecodedNode[], k: number, d: number, t: number): number {
    if (d > 256) throw appError('MODEL_INVALID', `Tree ${t} is deeper than 256 levels or has a cycle.`, { field: 'onnx.nodes_truenodeids' });
    const n = tree[k];
    if (!n) throw appError('MODEL_INVALID', `Tree ${t} points at missing node ${k}.`, { field: 'onnx.nodes_truenodeids' });
    if (n.mode === 'LEAF') return d;
    return Math.max(this.depthOf(tree, n.yes, d + 1, t), this.depthOf(tree, n.no, d + 1, t));
  }

  /** Cover-weighted expectation of one tree (the same weighting the algorithm integrates with). */
  private expected(tree: DecodedNode[], k: number): number {
    const n = tree[k]!;
    if (n.mode === 'LEAF') return n.value;
    return (tree[n.yes]!.cover / n.cover) * this.expected(tree, n.yes) + (tree[n.no]!.cover / n.cover) * this.expected(tree, n.no);
  }

  /** Raw ensemble output for one row (x[offset .. offset + featureCount)). */
  predict(x: ArrayLike<number>, offset = 0): number {
    let sum = this.ensembleBase;
    for (const tree of this.trees) {
      let n = tree[0]!;
      while (n.mode !== 'LEAF') n = tree[goesYes(n, x[offset + n.feature]!) ? n.yes : n.no]!;
      sum += n.value;
    }
    return sum;
  }

  explain(x: ArrayLike<number>, offset = 0): TreeShapResult {
    this.phi = new Float64Array(this.featureCount);
    this.row = x;
    this.rowOffset = offset;
    for (const tree of this.trees) {
      if (tree[0]!.mode === 'LEAF') continue; // a stump adds only to the base value
      this.recurse(tree, 0, 0, 0, 1, 1, -1);
    }
    return { baseValue: this.baseValue, prediction: this.predict(x, offset), contributions: this.phi };
  }

  /**
   * `at`: start of the parent's path slice; the child's slice starts right after it
   * (at + depth + 1), so siblings reuse the same space.
   */
  private recurse(tree: DecodedNode[], k: number, at: number, depth: number, zero: number, one: number, feature: number): void {
    const { pf, pz, po, pw } = this;
    const parentAt = at;
    const here = depth === 0 ? 0 : parentAt + depth;
    if (depth > 0) {
      // Copy the parent's path (depth entries) into this node's slice.
      for (let i = 0; i < depth; i++) {
        pf[here + i] = pf[parentAt + i]!;
        pz[here + i] = pz[parentAt + i]!;
        po[here + i] = po[parentAt + i]!;
        pw[here + i] = pw[parentAt + i]!;
      }
    }
    this.extend(here, depth, zero, one, feature);
    const n = tree[k]!;
    if (n.mode === 'LEAF') {
      for (let i = 1; i <= depth; i++) {
        const w = this.unwoundSum(here, depth, i);
        const f = pf[here + i]!;
        this.phi[f] = this.phi[f]! + w * (po[here + i]! - pz[here + i]!) * n.value;
      }
      return;
    }
    const yes = goesYes(n, this.row[this.rowOffset + n.feature]!);
    const hot = yes ? n.yes : n.no;
    const cold = yes ? n.no : n.yes;
    const hotZero = tree[hot]!.cover / n.cover;
    const coldZero = tree[cold]!.cover / n.cover;
    let inZero = 1;
    let inOne = 1;
    let d = depth;
    // A feature already on the path: undo its earlier split, the fractions multiply in below.
    let p = 0;
    while (p <= d && pf[here + p] !== n.feature) p++;
    if (p <= d) {
      inZero = pz[here + p]!;
      inOne = po[here + p]!;
      this.unwind(here, d, p);
      d -= 1;
    }
    this.recurse(tree, hot, here, d + 1, hotZero * inZero, inOne, n.feature);
    this.recurse(tree, cold, here, d + 1, coldZero * inZero, 0, n.feature);
  }

  private extend(at: number, depth: number, zero: number, one: number, feature: number): void {
    const { pf, pz, po, pw } = this;
    pf[at + depth] = feature;
    pz[at + depth] = zero;
    po[at + depth] = one;
    pw[at + depth] = depth === 0 ? 1 : 0;
    for (let i = depth - 1; i >= 0; i--) {
      pw[at + i + 1] = pw[at + i + 1]! + (one * pw[at + i]! * (i + 1)) / (depth + 1);
      pw[at + i] = (zero * pw[at + i]! * (depth - i)) / (depth + 1);
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

  private unwoundSum(at: number, depth: number, index: number): number {
    const { pz, po, pw } = this;
    const one = po[at + index]!;
    const zero = pz[at + index]!;
    let next = pw[at + depth]!;
    let total = 0;
    // Hot loop (leaves x depth^2): divisions hoisted out as reciprocals.
    const d1 = depth + 1;
    const invD1 = 1 / d1;
    if (one !== 0) {
      const scale = d1 / one;
      for (let i = depth - 1; i >= 0; i--) {
        const tmp = (next * scale) / (i + 1);
        total += tmp;
        next = pw[at + i]! - tmp * zero * (depth - i) * invD1;
      }
    } else {
      const scale = d1 / zero;
      for (let i = depth - 1; i >= 0; i--) total += (pw[at + i]! * scale) / (depth - i);
    }
    return total;
  }

  /** Deepest root-to-leaf path (for sizing and reporting). */
  get depth(): number {
    return this.maxDepth;
  }
}
