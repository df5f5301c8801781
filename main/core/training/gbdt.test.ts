import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { SeededRandom } from '../random.ts';
import {
  computeBinEdges,
  binData,
  gainImportance,
  predictGbdt,
  predictMargin,
  trainGbdt,
  type Dataset,
  type GbdtParams,
} from './gbdt.ts';
import { predictLogistic, trainLogistic } from './logistic.ts';
import { exportGbdtOnnx, exportLogisticOnnx, readGbdtFromOnnx, readTreeCovers } from './onnx-export.ts';
import { treeShap } from './tree-shap.ts';
import { rocAuc } from './metrics.ts';

/** y depends on features 0..2 (non-linearly); features 3.. are noise. */
function synthetic(rows: number, features: number, seed: number, kind: 'binary' | 'regression'): Dataset {
  const rnd = new SeededRandom(seed);
  const x = new Float32Array(rows * features);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < features; f++) x[r * features + f] = rnd.normal();
    const a = x[r * features]!;
    const b = x[r * features + 1]!;
    const c = x[r * features + 2]!;
    const signal = 1.5 * a + (b > 0.5 ? 1 : -0.5) + a * c;
    y[r] = kind === 'binary' ? (signal + rnd.normal() > 0 ? 1 : 0) : signal + 0.3 * rnd.normal();
  }
  return { x, y, rows, featureCount: features };
}

const params: GbdtParams = {
  objective: 'binary',
  trees: 40,
  maxDepth: 4,
  learningRate: 0.2,
  minLeaf: 10,
  lambda: 1,
  rowSubsample: 0.8,
  featureSubsample: 0.8,
  seed: 7,
};

async function runOnnx(
  bytes: Uint8Array,
  x: Float32Array,
  rows: number,
  features: number,
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run({ input: new ort.Tensor('float32', x, [rows, features]) });
  } finally {
    await session.release();
  }
}

describe('GBDT trainer', () => {
  it('learns a non-linear signal: high AUC on held-out rows, noise features get little gain', () => {
    const train = synthetic(6000, 6, 1, 'binary');
    const test = synthetic(3000, 6, 2, 'binary');
    const model = trainGbdt(train, params);
    const auc = rocAuc(predictGbdt(model, test.x), test.y);
    expect(auc).toBeGreaterThan(0.8);
    const gain = gainImportance(model);
    const signalGain = gain[0]! + gain[1]! + gain[2]!;
    const noiseGain = gain[3]! + gain[4]! + gain[5]!;
    expect(signalGain).toBeGreaterThan(5 * noiseGain);
  });

  it('fits a regression target with squared loss', () => {
    const train = synthetic(5000, 4, 3, 'regression');
    const test = synthetic(2000, 4, 4, 'regression');
    const model = trainGbdt(train, { ...params, objective: 'regression', trees: 80 });
    const pred = predictGbdt(model, test.x);
    let se = 0;
    let variance = 0;
    let mean = 0;
    for (let i = 0; i < test.rows; i++) mean += test.y[i]! / test.rows;
    for (let i = 0; i < test.rows; i++) {
      se += (pred[i]! - test.y[i]!) ** 2;
      variance += (test.y[i]! - mean) ** 2;
    }
    expect(1 - se / variance).toBeGreaterThan(0.7); // R^2
  });

  it('respects the depth limit, the leaf limit and the minimum leaf size', () => {
    const train = synthetic(3000, 5, 5, 'binary');
    const model = trainGbdt(train, { ...params, maxDepth: 3, minLeaf: 100, maxLeaves: 6, rowSubsample: 1 });
    for (const tree of model.trees) {
      const leaves = tree.nodes.filter((n) => n.feature < 0);
      expect(leaves.length).toBeLessThanOrEqual(6);
      for (const leaf of leaves) expect(leaf.cover).toBeGreaterThanOrEqual(100);
      const depth = (k: number): number =>
        tree.nodes[k]!.feature < 0
          ? 0
          : 1 + Math.max(depth(tree.nodes[k]!.left), depth(tree.nodes[k]!.right));
      expect(depth(0)).toBeLessThanOrEqual(3);
      // Covers add up: every inner node's rows go to exactly one child.
      for (const node of tree.nodes)
        if (node.feature >= 0)
          expect(tree.nodes[node.left]!.cover + tree.nodes[node.right]!.cover).toBe(node.cover);
    }
  });

  it('stops early when the validation loss stops improving and keeps the best iteration', () => {
    const train = synthetic(2000, 5, 6, 'binary');
    const validation = synthetic(1000, 5, 7, 'binary');
    const model = trainGbdt(
      train,
      { ...params, trees: 500, learningRate: 0.5, minLeaf: 2, maxDepth: 6, earlyStoppingRounds: 10 },
      validation,
    );
    expect(model.treesGrown).toBeLessThan(500);
    expect(model.trees.length).toBe(model.bestIteration);
    expect(model.treesGrown - model.bestIteration).toBe(10);
    const best = Math.min(...model.validationLoss);
    expect(model.validationLoss[model.bestIteration - 1]).toBe(best);
  });

  it('is deterministic: same data and seed give identical ONNX bytes; another seed gives another model', () => {
    const train = synthetic(3000, 5, 8, 'binary');
    const a = exportGbdtOnnx(trainGbdt(train, params), { name: 'm' });
    const b = exportGbdtOnnx(trainGbdt(train, params), { name: 'm' });
    const c = exportGbdtOnnx(trainGbdt(train, { ...params, seed: 8 }), { name: 'm' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it('gives the same trees whatever the number of histogram threads', () => {
    const train = synthetic(20_000, 7, 19, 'binary');
    const one = exportGbdtOnnx(trainGbdt(train, { ...params, trees: 10, threads: 1 }), { name: 'm' });
    const two = exportGbdtOnnx(trainGbdt(train, { ...params, trees: 10, threads: 2 }), { name: 'm' });
    const three = exportGbdtOnnx(trainGbdt(train, { ...params, trees: 10, threads: 3 }), { name: 'm' });
    expect(Buffer.from(one).equals(Buffer.from(two))).toBe(true);
    expect(Buffer.from(one).equals(Buffer.from(three))).toBe(true);
  });

  it('honours cancellation between trees', () => {
    const train = synthetic(1000, 3, 9, 'binary');
    let calls = 0;
    expect(() => trainGbdt(train, params, undefined, { isCancelled: () => ++calls > 3 })).toThrow(
      /cancelled/,
    );
  });

  it('rejects bad input with typed errors', () => {
    const train = synthetic(100, 2, 10, 'binary');
    expect(() => trainGbdt(train, { ...params, trees: 0 })).toThrow(/trees must be/);
    expect(() => trainGbdt(train, { ...params, learningRate: 0 })).toThrow(/learning rate/);
    const badLabel = { ...train, y: train.y.map((v, i) => (i === 5 ? 0.5 : v)) };
    expect(() => trainGbdt(badLabel, params)).toThrow(/label of row 5/);
    const nan = { ...train, x: train.x.map((v, i) => (i === 3 ? Number.NaN : v)) };
    expect(() => trainGbdt(nan, params)).toThrow(/feature 1 of row 1 is not finite/);
  });

  it('bins: every row lands in the bin whose float32 edge routes it the same way as its raw value', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), {
          minLength: 2,
          maxLength: 400,
        }),
        fc.integer({ min: 2, max: 256 }),
        (values, maxBins) => {
          const x = Float32Array.from(values);
          const edges = computeBinEdges(x, x.length, 1, maxBins);
          const { codes } = binData(x, x.length, 1, edges);
          const e = edges[0]!;
          expect(e.length).toBeLessThan(maxBins);
          for (let i = 0; i < x.length; i++) {
            for (let b = 0; b < e.length; b++) expect(codes[i]! <= b).toBe(x[i]! <= e[b]!);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('ONNX export', () => {
  it("binary GBDT (TreeEnsembleRegressor margin + Sigmoid): ONNX Runtime probabilities equal the trainer's (max abs diff <= 1e-6), covers readable from the file", async () => {
    const train = synthetic(4000, 6, 11, 'binary');
    const test = synthetic(2000, 6, 12, 'binary');
    const model = trainGbdt(train, { ...params, trees: 120 });
    const bytes = exportGbdtOnnx(model, { name: 'clf' });
    const out = await runOnnx(bytes, test.x, test.rows, 6);
    const probabilities = out.probabilities!.data as Float32Array;
    const labels = out.label!.data as BigInt64Array;
    const mine = predictGbdt(model, test.x);
    let maxDiff = 0;
    for (let i = 0; i < test.rows; i++) {
      maxDiff = Math.max(
        maxDiff,
        Math.abs(probabilities[i * 2 + 1]! - mine[i]!),
        Math.abs(probabilities[i * 2]! - (1 - mine[i]!)),
      );
      if (Math.abs(mine[i]! - 0.5) > 1e-6) expect(labels[i]).toBe(mine[i]! > 0.5 ? 1n : 0n);
    }
    expect(maxDiff).toBeLessThanOrEqual(1e-6);
    const covers = readTreeCovers(bytes);
    expect(covers).toEqual(model.trees.flatMap((t) => t.nodes.map((n) => n.cover)));
  });

  it("TreeEnsembleRegressor: ONNX Runtime predictions equal the trainer's", async () => {
    const train = synthetic(3000, 4, 13, 'regression');
    const test = synthetic(1000, 4, 14, 'regression');
    const model = trainGbdt(train, { ...params, objective: 'regression', trees: 100 });
    const out = await runOnnx(exportGbdtOnnx(model, { name: 'reg' }), test.x, test.rows, 4);
    const prediction = out.prediction!.data as Float32Array;
    const mine = predictGbdt(model, test.x);
    let maxDiff = 0;
    for (let i = 0; i < test.rows; i++) maxDiff = Math.max(maxDiff, Math.abs(prediction[i]! - mine[i]!));
    // float32 output: the tolerance is relative to the prediction's scale (|y| up to ~6 here).
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
  });

  it("logistic regression: the linear ONNX graph gives the trainer's probabilities", async () => {
    const train = synthetic(3000, 5, 15, 'binary');
    const test = synthetic(1000, 5, 16, 'binary');
    const model = trainLogistic(train, { lambda: 1e-3, maxIterations: 50, tolerance: 1e-10 });
    expect(rocAuc(predictLogistic(model, test.x), test.y)).toBeGreaterThan(0.75);
    const out = await runOnnx(exportLogisticOnnx(model, { name: 'lr' }), test.x, test.rows, 5);
    const probabilities = out.probabilities!.data as Float32Array;
    const mine = predictLogistic(model, test.x);
    let maxDiff = 0;
    for (let i = 0; i < test.rows; i++)
      maxDiff = Math.max(maxDiff, Math.abs(probabilities[i * 2 + 1]! - mine[i]!));
    expect(maxDiff).toBeLessThanOrEqual(1e-6);
  });
});

describe('TreeSHAP', () => {
  const train = synthetic(2000, 4, 17, 'binary');
  const model = trainGbdt(train, { ...params, trees: 15, maxDepth: 3 });

  it('contributions plus bias add up to the margin for any input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, min: -4, max: 4, noDefaultInfinity: true }), {
          minLength: 4,
          maxLength: 4,
        }),
        (values) => {
          const x = Float32Array.from(values);
          const { contributions, bias } = treeShap(model, x);
          const margin = predictMargin(model, x, 1)[0]!;
          expect(bias + contributions.reduce((a, b) => a + b, 0)).toBeCloseTo(margin, 9);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('can be computed from the ONNX file alone: the trees read back give the same SHAP values and margins', () => {
    const fromFile = readGbdtFromOnnx(exportGbdtOnnx(model, { name: 'm' }));
    expect(fromFile.objective).toBe('binary');
    expect(fromFile.featureCount).toBe(4);
    const x = synthetic(50, 4, 20, 'binary').x;
    expect(Array.from(predictMargin(fromFile, x))).toEqual(Array.from(predictMargin(model, x)));
    for (let r = 0; r < 50; r++) {
      const a = treeShap(model, x, r * 4);
      const b = treeShap(fromFile, x, r * 4);
      expect(Array.from(b.contributions)).toEqual(Array.from(a.contributions));
      expect(b.bias).toBe(a.bias);
    }
    expect(() => readGbdtFromOnnx(Uint8Array.from([1, 2, 3]))).toThrow();
  });

  it('matches exact Shapley values (conditional expectations over covers) on a small ensemble', () => {
    const small = trainGbdt(synthetic(500, 3, 18, 'binary'), {
      ...params,
      trees: 3,
      maxDepth: 3,
      minLeaf: 20,
      rowSubsample: 1,
      featureSubsample: 1,
    });
    const x = Float32Array.from([0.3, -0.7, 1.2]);
    // E[f(x) | x_S] by the path-dependent definition: follow x for features in S, split by covers otherwise.
    const expectation = (subset: Set<number>): number =>
      small.trees.reduce((sum, tree) => {
        const walk = (k: number): number => {
          const n = tree.nodes[k]!;
          if (n.feature < 0) return n.value;
          if (subset.has(n.feature)) return walk(x[n.feature]! <= n.threshold ? n.left : n.right);
          const l = tree.nodes[n.left]!;
          const r = tree.nodes[n.right]!;
          return (l.cover * walk(n.left) + r.cover * walk(n.right)) / n.cover;
        };
        return sum + walk(0);
      }, 0);
    const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
    const M = 3;
    const { contributions } = treeShap(small, x);
    for (let i = 0; i < M; i++) {
      let phi = 0;
      for (let mask = 0; mask < 1 << M; mask++) {
        if (mask & (1 << i)) continue;
        const s = new Set<number>();
        for (let j = 0; j < M; j++) if (mask & (1 << j)) s.add(j);
        const weight = (factorial(s.size) * factorial(M - s.size - 1)) / factorial(M);
        phi += weight * (expectation(new Set([...s, i])) - expectation(s));
      }
      expect(contributions[i]).toBeCloseTo(phi, 9);
    }
  });
});
