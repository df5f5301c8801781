import { appError } from '../../../shared/errors.ts';
import { SeededRandom } from '../random.ts';
import { accumulate, BINS, histogramSize } from './histogram.ts';
import { HistogramThreads } from './gbdt-threads.ts';

/**
 * Gradient-boosted decision trees, trained in TypeScript (no Python, no native code).
 *
 * - Histogram splits: every feature is cut into at most 256 quantile bins (uint8 codes, row-major so
 *   one pass over a row touches all its features); a node's histogram holds (gradient, hessian,
 *   count) per bin; the larger child's histogram is the parent's minus the smaller child's.
 * - Best-first growth with a depth limit, a leaf limit, a minimum leaf size (rows) and a minimum
 *   hessian; L2 regularisation (lambda) on leaf values; shrinkage (learning rate).
 * - Row and feature subsampling per tree from a SeededRandom, early stopping on a validation set.
 * - Objectives: binary logistic (margin = log-odds) and squared error (regression).
 *
 * Thresholds are float32 values taken from the data (a bin's upper edge), and inputs are float32, so
 * "x <= threshold goes left" routes every training row exactly as its bin code did, and ONNX Runtime
 * (float32 thresholds, BRANCH_LEQ) routes every row exactly as `predictMargin` does. Leaf values are
 * rounded to float32 when a tree is finished for the same reason.
 *
 * Everything is deterministic: same inputs and seed give the same trees, bit for bit.
 */

export type Objective = 'binary' | 'regression';

export interface GbdtParams {
  objective: Objective;
  trees: number;
  maxDepth: number;
  /** Leaves per tree; default 2^maxDepth (no extra limit). */
  maxLeaves?: number;
  learningRate: number;
  /** Minimum training rows in a leaf. */
  minLeaf: number;
  /** Minimum hessian sum in a leaf (guards logistic leaves where p is ~0 or ~1). */
  minHessian?: number;
  /** L2 penalty on leaf values. */
  lambda: number;
  /** Minimum loss reduction for a split. */
  minGain?: number;
  /** Fraction of rows each tree sees (1 = all). */
  rowSubsample: number;
  /** Fraction of features each tree may split on (1 = all). */
  featureSubsample: number;
  /** Max histogram bins per feature, 2..256. */
  maxBins?: number;
  /** Stop when the validation loss has not improved for this many trees (needs a validation set). */
  earlyStoppingRounds?: number;
  seed: number;
  /**
   * Threads for histogram building (1 = this thread only). Results are identical for any count.
   * Default: 2 when the data is large enough (rows x features >= 1M) to repay starting a helper.
   */
  threads?: number;
}

export interface TreeNode {
  /** -1 for a leaf. */
  feature: number;
  /** Go left when x[feature] <= threshold (float32). */
  threshold: number;
  left: number;
  right: number;
  /** Leaf value (margin contribution, learning rate applied, float32); 0 for inner nodes. */
  value: number;
  /** Training rows that reached the node (the cover TreeSHAP weighs paths with). */
  cover: number;
  /** Loss reduction of the split (inner nodes). */
  gain: number;
}

export interface Tree {
  nodes: TreeNode[];
}

export interface GbdtModel {
  kind: 'gbdt';
  objective: Objective;
  featureCount: number;
  /** Margin before any tree (log-odds of the base rate, or the mean target); float32. */
  baseScore: number;
  trees: Tree[];
  /** Per tree: validation loss after adding it (empty without a validation set). */
  validationLoss: number[];
  /** Trees kept (after early stopping) out of those grown. */
  bestIteration: number;
  treesGrown: number;
}

export interface Dataset {
  /** Row-major float32 features, rows x featureCount. */
  x: Float32Array;
  y: Float64Array;
  rows: number;
  featureCount: number;
}

export interface TrainHooks {
  /** Called after each tree; return false (or throw) to cancel. */
  onTree?: (done: number, total: number, validationLoss: number | null) => void;
  isCancelled?: () => boolean;
}

// ---------------------------------------------------------------------------------------------
// Binning

export interface BinnedData {
  /** Row-major bin codes, rows x featureCount. */
  codes: Uint8Array;
  /** Per feature: upper edge (float32) of each bin but the last; bin b holds edges[b-1] < x <= edges[b]. */
  edges: Float32Array[];
  rows: number;
  featureCount: number;
}

const SAMPLE_FOR_BINS = 200_000;

/** Quantile bin edges per feature from (a strided sample of) the rows. */
export function computeBinEdges(
  x: Float32Array,
  rows: number,
  featureCount: number,
  maxBins: number,
): Float32Array[] {
  const stride = Math.max(1, Math.ceil(rows / SAMPLE_FOR_BINS));
  const sampleRows = Math.ceil(rows / stride);
  const values = new Float32Array(sampleRows);
  const edges: Float32Array[] = [];
  for (let f = 0; f < featureCount; f++) {
    let n = 0;
    for (let r = 0; r < rows; r += stride) values[n++] = x[r * featureCount + f]!;
    const sorted = values.subarray(0, n).slice().sort();
    // Distinct values (counted up to maxBins + 1); if few, every distinct value but the last is an edge (exact split points).
    const distinct: number[] = [];
    for (let i = 0; i < n && distinct.length <= maxBins; i++)
      if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!);
    let cut: number[];
    if (distinct.length <= maxBins) {
      cut = distinct.slice(0, -1);
    } else {
      cut = [];
      for (let b = 1; b < maxBins; b++) {
        const v = sorted[Math.min(n - 1, Math.floor((b * n) / maxBins))]!;
        if (cut.length === 0 || v > cut[cut.length - 1]!) cut.push(v);
      }
      // The top edge must leave something on the right.
      while (cut.length > 0 && cut[cut.length - 1]! >= sorted[n - 1]!) cut.pop();
    }
    edges.push(Float32Array.from(cut));
  }
  return edges;
}

export function binData(
  x: Float32Array,
  rows: number,
  featureCount: number,
  edges: Float32Array[],
  codes: Uint8Array = new Uint8Array(rows * featureCount),
): BinnedData {
  // Fixed-step search over the edges padded to 256 with +Infinity: bin = number of edges below x.
  const padded = new Float32Array(BINS);
  for (let f = 0; f < featureCount; f++) {
    padded.fill(Infinity);
    padded.set(edges[f]!);
    for (let i = f; i < x.length; i += featureCount) {
      const v = x[i]!;
      let lo = 0;
      for (let step = 128; step > 0; step >>= 1) if (v > padded[lo + step - 1]!) lo += step;
      codes[i] = lo;
    }
  }
  return { codes, edges, rows, featureCount };
}

// ---------------------------------------------------------------------------------------------
// Losses

function sigmoid(m: number): number {
  return m >= 0 ? 1 / (1 + Math.exp(-m)) : Math.exp(m) / (1 + Math.exp(m));
}

export function lossOf(objective: Objective, margin: Float64Array, y: Float64Array): number {
  let sum = 0;
  const n = y.length;
  if (objective === 'binary') {
    for (let i = 0; i < n; i++) {
      const m = margin[i]!;
      // log(1 + e^m) - y m, computed without overflow.
      sum += (m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m))) - y[i]! * m;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const d = margin[i]! - y[i]!;
      sum += d * d;
    }
  }
  return n > 0 ? sum / n : 0;
}

// ---------------------------------------------------------------------------------------------
// Training

interface Leaf {
  node: number;
  start: number;
  end: number;
  depth: number;
  hist: Float64Array;
  g: number;
  h: number;
  bestGain: number;
  bestFeature: number;
  bestBin: number;
}

export function validateParams(p: GbdtParams): void {
  const bad = (msg: string): never => {
    throw appError('BAD_INPUT', msg);
  };
  if (!Number.isInteger(p.trees) || p.trees < 1 || p.trees > 10_000)
    bad(`trees must be an integer 1..10000, not ${p.trees}`);
  if (!Number.isInteger(p.maxDepth) || p.maxDepth < 1 || p.maxDepth > 16)
    bad(`depth must be an integer 1..16, not ${p.maxDepth}`);
  if (!(p.learningRate > 0 && p.learningRate <= 1))
    bad(`learning rate must be in (0, 1], not ${p.learningRate}`);
  if (!Number.isInteger(p.minLeaf) || p.minLeaf < 1)
    bad(`min leaf must be an integer >= 1, not ${p.minLeaf}`);
  if (!(p.lambda >= 0 && Number.isFinite(p.lambda))) bad(`lambda must be >= 0, not ${p.lambda}`);
  if (!(p.rowSubsample > 0 && p.rowSubsample <= 1))
    bad(`row subsample must be in (0, 1], not ${p.rowSubsample}`);
  if (!(p.featureSubsample > 0 && p.featureSubsample <= 1))
    bad(`feature subsample must be in (0, 1], not ${p.featureSubsample}`);
  const maxBins = p.maxBins ?? BINS;
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > BINS)
    bad(`max bins must be an integer 2..256, not ${maxBins}`);
  if (p.maxLeaves !== undefined && (!Number.isInteger(p.maxLeaves) || p.maxLeaves < 2))
    bad(`max leaves must be an integer >= 2, not ${p.maxLeaves}`);
}

function checkDataset(d: Dataset, objective: Objective, what: string): void {
  if (d.x.length !== d.rows * d.featureCount || d.y.length !== d.rows)
    throw appError(
      'BAD_INPUT',
      `${what}: shape mismatch (${d.x.length} values, ${d.y.length} labels, ${d.rows} x ${d.featureCount})`,
    );
  for (let i = 0; i < d.x.length; i++) {
    if (!Number.isFinite(d.x[i]!))
      throw appError(
        'DATA_INVALID',
        `${what}: feature ${i % d.featureCount} of row ${Math.floor(i / d.featureCount)} is not finite`,
      );
  }
  for (let i = 0; i < d.rows; i++) {
    const v = d.y[i]!;
    if (!Number.isFinite(v) || (objective === 'binary' && v !== 0 && v !== 1))
      throw appError(
        'DATA_INVALID',
        `${what}: label of row ${i} is ${v}${objective === 'binary' ? ' (binary labels must be 0 or 1)' : ''}`,
      );
  }
}

export function trainGbdt(
  train: Dataset,
  params: GbdtParams,
  validation?: Dataset,
  hooks: TrainHooks = {},
): GbdtModel {
  validateParams(params);
  checkDataset(train, params.objective, 'training set');
  if (validation) {
    checkDataset(validation, params.objective, 'validation set');
    if (validation.featureCount !== train.featureCount)
      throw appError('BAD_INPUT', 'validation set has a different feature count');
  }
  const { rows, featureCount: F } = train;
  if (rows < 2 * params.minLeaf)
    throw appError(
      'TRAINING_FAILED',
      `training set has ${rows} rows; at least ${2 * params.minLeaf} (2 x min leaf) are needed`,
    );
  const maxBins = params.maxBins ?? BINS;

  const edges = computeBinEdges(train.x, rows, F, maxBins);
  const threadCount = params.threads ?? (rows * F >= 1_000_000 ? 2 : 1);
  const threads = threadCount > 1 ? new HistogramThreads(rows, F, Math.min(threadCount, F)) : null;
  try {
    return grow(train, params, validation, hooks, edges, threads);
  } finally {
    threads?.close();
  }
}

function grow(
  train: Dataset,
  params: GbdtParams,
  validation: Dataset | undefined,
  hooks: TrainHooks,
  edges: Float32Array[],
  threads: HistogramThreads | null,
): GbdtModel {
  const { rows, featureCount: F } = train;
  const maxLeaves = params.maxLeaves ?? 2 ** params.maxDepth;
  const minHessian = params.minHessian ?? 1e-3;
  const minGain = params.minGain ?? 0;
  const lambda = params.lambda;
  const random = new SeededRandom(params.seed);
  const { codes } = binData(train.x, rows, F, edges, threads?.codes);
  // Column-major copy for partitioning: a split reads one feature of rows in ascending order.
  const columns = new Uint8Array(rows * F);
  for (let i = 0, r = 0; r < rows; r++) for (let f = 0; f < F; f++, i++) columns[f * rows + r] = codes[i]!;

  // Base score.
  let ySum = 0;
  for (let i = 0; i < rows; i++) ySum += train.y[i]!;
  const mean = ySum / rows;
  let baseScore: number;
  if (params.objective === 'binary') {
    const p = Math.min(1 - 1e-6, Math.max(1e-6, mean));
    baseScore = Math.fround(Math.log(p / (1 - p)));
  } else {
    baseScore = Math.fround(mean);
  }

  const margin = new Float64Array(rows).fill(baseScore);
  // Gradient and hessian interleaved per row: one cache line serves both in the histogram loop.
  const gh = threads?.gh ?? new Float64Array(2 * rows);
  const validationMargin = validation ? new Float64Array(validation.rows).fill(baseScore) : null;
  const idx = threads?.idx ?? new Uint32Array(rows);
  const scratch = new Uint32Array(rows);
  const inSample = new Uint8Array(rows);
  const histSize = histogramSize(F);
  const countBase = F * BINS * 2;
  const buildHistogram = (target: Float64Array, start: number, end: number): void => {
    if (threads) threads.build(target, start, end);
    else accumulate(target, codes, F, idx, start, end, gh, 0, F);
  };
  const histPool: Float64Array[] = [];
  const takeHist = (): Float64Array => histPool.pop() ?? new Float64Array(histSize);
  const allowed = new Uint8Array(F);
  const featureOrder = Array.from({ length: F }, (_, i) => i);
  const featuresPerTree = Math.max(1, Math.round(params.featureSubsample * F));

  const trees: Tree[] = [];
  const validationLoss: number[] = [];
  let bestLoss = Infinity;
  let bestIteration = 0;

  const findBest = (leaf: Leaf): void => {
    leaf.bestGain = -Infinity;
    leaf.bestFeature = -1;
    leaf.bestBin = -1;
    const count = leaf.end - leaf.start;
    if (count < 2 * params.minLeaf) return;
    const parentScore = (leaf.g * leaf.g) / (leaf.h + lambda);
    const hist = leaf.hist;
    for (let f = 0; f < F; f++) {
      if (allowed[f] === 0) continue;
      const nb = edges[f]!.length; // split after bin b for b < nb
      let gl = 0;
      let hl = 0;
      let cl = 0;
      const off = f * BINS;
      for (let b = 0; b < nb; b++) {
        const k = off + b;
        gl += hist[2 * k]!;
        hl += hist[2 * k + 1]!;
        cl += hist[countBase + k]!;
        if (cl < params.minLeaf || hl < minHessian) continue;
        const cr = count - cl;
        if (cr < params.minLeaf) break;
        const gr = leaf.g - gl;
        const hr = leaf.h - hl;
        if (hr < minHessian) continue;
        const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
        if (gain > leaf.bestGain) {
          leaf.bestGain = gain;
          leaf.bestFeature = f;
          leaf.bestBin = b;
        }
      }
    }
  };

  for (let t = 0; t < params.trees; t++) {
    if (hooks.isCancelled?.()) throw appError('CANCELLED', 'training cancelled');
    // Gradients.
    if (params.objective === 'binary') {
      for (let i = 0; i < rows; i++) {
        const p = sigmoid(margin[i]!);
        gh[2 * i] = p - train.y[i]!;
        gh[2 * i + 1] = Math.max(p * (1 - p), 1e-16);
      }
    } else {
      for (let i = 0; i < rows; i++) {
        gh[2 * i] = margin[i]! - train.y[i]!;
        gh[2 * i + 1] = 1;
      }
    }
    // Row subsample (Bernoulli per row, seeded) and feature subsample (partial Fisher-Yates).
    let n = 0;
    if (params.rowSubsample >= 1) {
      for (let i = 0; i < rows; i++) idx[n++] = i;
    } else {
      for (let i = 0; i < rows; i++) if (random.next() < params.rowSubsample) idx[n++] = i;
    }
    allowed.fill(0);
    for (let i = 0; i < featuresPerTree; i++) {
      const j = i + random.int(F - i);
      const tmp = featureOrder[i]!;
      featureOrder[i] = featureOrder[j]!;
      featureOrder[j] = tmp;
      allowed[featureOrder[i]!] = 1;
    }
    featureOrder.sort((a, b) => a - b); // keep the permutation independent of earlier trees' draws order

    const nodes: TreeNode[] = [];
    const rootHist = takeHist();
    buildHistogram(rootHist, 0, n);
    let g0 = 0;
    let h0 = 0;
    for (let i = 0; i < n; i++) {
      g0 += gh[2 * idx[i]!]!;
      h0 += gh[2 * idx[i]! + 1]!;
    }
    nodes.push({ feature: -1, threshold: 0, left: -1, right: -1, value: 0, cover: n, gain: 0 });
    const root: Leaf = {
      node: 0,
      start: 0,
      end: n,
      depth: 0,
      hist: rootHist,
      g: g0,
      h: h0,
      bestGain: 0,
      bestFeature: -1,
      bestBin: -1,
    };
    findBest(root);
    const open: Leaf[] = [root];
    const finished: Leaf[] = [];
    let leafCount = 1;
    while (open.length > 0 && leafCount < maxLeaves) {
      // Best-first: the open leaf with the largest gain (ties: lowest node id, so it is deterministic).
      let pick = -1;
      for (let i = 0; i < open.length; i++) {
        const c = open[i]!;
        if (c.depth >= params.maxDepth || c.bestFeature < 0 || !(c.bestGain > minGain)) continue;
        if (
          pick < 0 ||
          c.bestGain > open[pick]!.bestGain ||
          (c.bestGain === open[pick]!.bestGain && c.node < open[pick]!.node)
        )
          pick = i;
      }
      if (pick < 0) break;
      const leaf = open[pick]!;
      open.splice(pick, 1);
      const f = leaf.bestFeature;
      const b = leaf.bestBin;
      // Stable partition of the leaf's rows: bin <= b left.
      let l = leaf.start;
      let s = 0;
      const column = columns.subarray(f * rows, (f + 1) * rows);
      // Branch-free stable partition (the direction of a row is a coin flip to the branch predictor).
      for (let i = leaf.start; i < leaf.end; i++) {
        const r = idx[i]!;
        const left = column[r]! <= b ? 1 : 0;
        idx[l] = r;
        scratch[s] = r;
        l += left;
        s += 1 - left;
      }
      idx.set(scratch.subarray(0, s), l);
      const mid = l;
      let gl = 0;
      let hl = 0;
      const hist = leaf.hist;
      const off = f * BINS;
      for (let k = 0; k <= b; k++) {
        gl += hist[2 * (off + k)]!;
        hl += hist[2 * (off + k) + 1]!;
      }
      const leftId = nodes.length;
      const rightId = leftId + 1;
      const node = nodes[leaf.node]!;
      node.feature = f;
      node.threshold = edges[f]![b]!;
      node.left = leftId;
      node.right = rightId;
      node.gain = leaf.bestGain;
      nodes.push({
        feature: -1,
        threshold: 0,
        left: -1,
        right: -1,
        value: 0,
        cover: mid - leaf.start,
        gain: 0,
      });
      nodes.push({
        feature: -1,
        threshold: 0,
        left: -1,
        right: -1,
        value: 0,
        cover: leaf.end - mid,
        gain: 0,
      });
      const left: Leaf = {
        node: leftId,
        start: leaf.start,
        end: mid,
        depth: leaf.depth + 1,
        hist: hist,
        g: gl,
        h: hl,
        bestGain: 0,
        bestFeature: -1,
        bestBin: -1,
      };
      const right: Leaf = {
        node: rightId,
        start: mid,
        end: leaf.end,
        depth: leaf.depth + 1,
        hist: hist,
        g: leaf.g - gl,
        h: leaf.h - hl,
        bestGain: 0,
        bestFeature: -1,
        bestBin: -1,
      };
      // Histogram subtraction: build the smaller child, the larger one is parent - smaller (in place).
      const childrenSplittable = leaf.depth + 1 < params.maxDepth;
      if (childrenSplittable) {
        const small = mid - leaf.start <= leaf.end - mid ? left : right;
        const large = small === left ? right : left;
        const smallHist = takeHist();
        buildHistogram(smallHist, small.start, small.end);
        for (let k = 0; k < histSize; k++) hist[k] = hist[k]! - smallHist[k]!;
        small.hist = smallHist;
        large.hist = hist;
        findBest(left);
        findBest(right);
      } else {
        histPool.push(hist);
        left.bestFeature = -1;
        right.bestFeature = -1;
      }
      open.push(left, right);
      leafCount++;
    }
    for (const leaf of open) finished.push(leaf);
    // Leaf values: Newton step with L2, shrunk, as float32 (what the ONNX file stores).
    for (const leaf of finished) {
      const value = Math.fround((-leaf.g / (leaf.h + lambda)) * params.learningRate);
      nodes[leaf.node]!.value = value;
      if (!histPool.includes(leaf.hist)) histPool.push(leaf.hist);
    }
    const tree: Tree = { nodes };
    trees.push(tree);
    // Update training margins: rows in the sample are already grouped by leaf in idx; rows left out
    // by subsampling are routed through the tree (float32 thresholds route them exactly as bins do).
    for (const leaf of finished) {
      const value = nodes[leaf.node]!.value;
      for (let i = leaf.start; i < leaf.end; i++) margin[idx[i]!] = margin[idx[i]!]! + value;
    }
    if (n < rows) {
      inSample.fill(0);
      for (let i = 0; i < n; i++) inSample[idx[i]!] = 1;
      for (let r = 0; r < rows; r++)
        if (inSample[r] === 0) margin[r] = margin[r]! + nodes[leafOf(tree, train.x, r * F)]!.value;
    }
    let vLoss: number | null = null;
    if (validation && validationMargin) {
      addTree(tree, validation.x, F, validationMargin);
      vLoss = lossOf(params.objective, validationMargin, validation.y);
      validationLoss.push(vLoss);
      if (vLoss < bestLoss - 1e-12) {
        bestLoss = vLoss;
        bestIteration = t + 1;
      }
    } else {
      bestIteration = t + 1;
    }
    hooks.onTree?.(t + 1, params.trees, vLoss);
    if (
      validation &&
      params.earlyStoppingRounds !== undefined &&
      t + 1 - bestIteration >= params.earlyStoppingRounds
    )
      break;
  }
  const treesGrown = trees.length;
  if (bestIteration === 0) bestIteration = 1; // keep at least one tree
  return {
    kind: 'gbdt',
    objective: params.objective,
    featureCount: F,
    baseScore,
    trees: trees.slice(0, bestIteration),
    validationLoss,
    bestIteration,
    treesGrown,
  };
}

/** Leaf index the row at `offset` of x reaches. */
export function leafOf(tree: Tree, x: ArrayLike<number>, offset: number): number {
  const nodes = tree.nodes;
  let k = 0;
  for (;;) {
    const node = nodes[k]!;
    if (node.feature < 0) return k;
    k = x[offset + node.feature]! <= node.threshold ? node.left : node.right;
  }
}

function addTree(tree: Tree, x: Float32Array, F: number, margin: Float64Array): void {
  const rows = margin.length;
  for (let r = 0; r < rows; r++) margin[r] = margin[r]! + tree.nodes[leafOf(tree, x, r * F)]!.value;
}

/** Margins (log-odds for binary, the prediction for regression) of rows x (row-major float32). */
export function predictMargin(
  model: GbdtModel,
  x: Float32Array,
  rows = x.length / model.featureCount,
): Float64Array {
  const F = model.featureCount;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (const tree of model.trees) m += tree.nodes[leafOf(tree, x, r * F)]!.value;
    out[r] = m + model.baseScore;
  }
  return out;
}

/** Probability of class 1 (binary) or the predicted value (regression). */
export function predictGbdt(
  model: GbdtModel,
  x: Float32Array,
  rows = x.length / model.featureCount,
): Float64Array {
  const m = predictMargin(model, x, rows);
  if (model.objective === 'binary') for (let i = 0; i < m.length; i++) m[i] = sigmoid(m[i]!);
  return m;
}

/** Total split gain per feature over all trees (the "gain" feature importance). */
export function gainImportance(model: GbdtModel): Float64Array {
  const out = new Float64Array(model.featureCount);
  for (const tree of model.trees)
    for (const node of tree.nodes) if (node.feature >= 0) out[node.feature] = out[node.feature]! + node.gain;
  return out;
}

export { sigmoid };
