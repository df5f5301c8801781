import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { SeededRandom } from '../../random.ts';
import {
  buildTreeRegressor,
  decodeTreeEnsemble,
  type DecodedEnsemble,
  type DecodedNode,
  type TreeEnsemble,
  type TreeNode,
} from '../onnx-builder.ts';
import { readFileSync } from 'node:fs';
import { readGbdtFromOnnx } from '../../training/onnx-export.ts';
import { treeShap } from '../../training/tree-shap.ts';
import { OnnxTreeShap } from './onnx-tree-shap.ts';
import { treeEnsembleFor } from './explain.ts';
import { OnnxGraphBuilder } from '../onnx-builder.ts';

/** Random tree; features repeat along paths on purpose (the unwind step of the algorithm). */
function randomTree(random: SeededRandom, depth: number, features: number): TreeNode[] {
  const nodes: TreeNode[] = [];
  const grow = (d: number, cover: number): number => {
    const id = nodes.length;
    nodes.push({ feature: -1, threshold: 0, yes: 0, no: 0, value: 0, cover });
    if (d === depth || cover < 2 || random.next() < 0.15) {
      nodes[id]!.value = Math.fround((random.next() * 2 - 1) * 3);
      return id;
    }
    const left = 1 + random.int(cover - 1);
    const yes = grow(d + 1, left);
    const no = grow(d + 1, cover - left);
    nodes[id] = {
      feature: random.int(features),
      threshold: Math.fround(random.next() * 2 - 1),
      yes,
      no,
      value: 0,
      cover,
    };
    return id;
  };
  grow(0, 500 + random.int(1000));
  return nodes;
}

/** E[f(x) | x_S] the path-dependent way: features outside S follow both branches by cover share. */
function conditional(tree: DecodedNode[], k: number, x: number[], inS: (f: number) => boolean): number {
  const n = tree[k]!;
  if (n.mode === 'LEAF') return n.value;
  if (inS(n.feature))
    return conditional(tree, Math.fround(x[n.feature]!) <= n.threshold ? n.yes : n.no, x, inS);
  return (
    (tree[n.yes]!.cover / n.cover) * conditional(tree, n.yes, x, inS) +
    (tree[n.no]!.cover / n.cover) * conditional(tree, n.no, x, inS)
  );
}

/** Shapley values by enumerating every coalition (the definition, exponential). */
function bruteForce(e: DecodedEnsemble, x: number[], m: number): number[] {
  const v = (mask: number): number =>
    e.trees.reduce((s, t) => s + conditional(t, 0, x, (f) => (mask & (1 << f)) !== 0), e.baseValue);
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
  const phi = new Array<number>(m).fill(0);
  for (let mask = 0; mask < 1 << m; mask++) {
    const size = bitCount(mask);
    for (let i = 0; i < m; i++) {
      if (mask & (1 << i)) continue;
      phi[i]! += ((fact(size) * fact(m - size - 1)) / fact(m)) * (v(mask | (1 << i)) - v(mask));
    }
  }
  return phi;
}

function bitCount(v: number): number {
  let c = 0;
  for (let b = v; b; b &= b - 1) c++;
  return c;
}

function randomEnsemble(seed: number, trees: number, depth: number, features: number): TreeEnsemble {
  const random = new SeededRandom(seed);
  return {
    featureCount: features,
    baseValue: Math.fround(random.next() - 0.5),
    trees: Array.from({ length: trees }, () => randomTree(random, depth, features)),
  };
}

describe('TreeSHAP from an ONNX tree ensemble', () => {
  it('equals brute-force Shapley values of the path-dependent expectation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 1, max: 5 }),
        (seed, m, depth) => {
          const decoded = decodeTreeEnsemble(buildTreeRegressor(randomEnsemble(seed, 3, depth, m)));
          const shap = new OnnxTreeShap(decoded, m);
          const random = new SeededRandom(seed + 1);
          const x = Array.from({ length: m }, () => random.next() * 2 - 1);
          const got = shap.explain(x);
          const expected = bruteForce(decoded, x, m);
          for (let i = 0; i < m; i++)
            expect(Math.abs(got.contributions[i]! - expected[i]!)).toBeLessThan(1e-9);
          // The empty coalition is the base value.
          expect(
            Math.abs(
              got.baseValue -
                decoded.trees.reduce((s, t) => s + conditional(t, 0, x, () => false), decoded.baseValue),
            ),
          ).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("contributions add up to ONNX Runtime's output minus the base value (within 1e-5)", async () => {
    const m = 8;
    const bytes = buildTreeRegressor(randomEnsemble(42, 50, 6, m));
    const shap = new OnnxTreeShap(decodeTreeEnsemble(bytes), m);
    const random = new SeededRandom(3);
    const rows = 64;
    const x = Float32Array.from({ length: rows * m }, () => random.next() * 2 - 1);
    const session = await ort.InferenceSession.create(bytes);
    const out = (await session.run({ input: new ort.Tensor('float32', x, [rows, m]) }))['score']!
      .data as Float32Array;
    await session.release();
    for (let r = 0; r < rows; r++) {
      const e = shap.explain(x, r * m);
      const sum = e.contributions.reduce((a, b) => a + b, 0);
      // Exact in float64 against our own traversal...
      expect(Math.abs(sum - (e.prediction - e.baseValue))).toBeLessThan(1e-9);
      // ...and against ORT, which accumulates the 50 leaves in float32.
      expect(Math.abs(sum - (out[r]! - e.baseValue))).toBeLessThan(1e-5);
    }
  });

  it('a feature the trees never split on gets exactly zero', () => {
    const e = randomEnsemble(9, 10, 4, 3);
    const shap = new OnnxTreeShap(decodeTreeEnsemble(buildTreeRegressor({ ...e, featureCount: 5 })), 5);
    const got = shap.explain([0.1, -0.2, 0.3, 0.9, -0.9]);
    expect(got.contributions[3]).toBe(0);
    expect(got.contributions[4]).toBe(0);
  });

  it('refuses trees that split on a feature the model does not have', () => {
    const decoded = decodeTreeEnsemble(buildTreeRegressor(randomEnsemble(5, 2, 3, 4)));
    expect(() => new OnnxTreeShap(decoded, 1)).toThrow(/splits on feature/);
  });

  it("explains the bundled trained model from its file: agrees with the trainer's TreeSHAP and adds up to ORT's margin", async () => {
    const bytes = new Uint8Array(
      readFileSync(new URL('../../../../resources/models/default-btc-5m.onnx', import.meta.url)),
    );
    const m = 16;
    const shap = new OnnxTreeShap(decodeTreeEnsemble(bytes), m);
    const trainer = readGbdtFromOnnx(bytes);
    const random = new SeededRandom(17);
    const rows = 32;
    const x = Float32Array.from({ length: rows * m }, () => random.normal());
    const session = await ort.InferenceSession.create(bytes);
    const margin = (await session.run({ input: new ort.Tensor('float32', x, [rows, m]) }))['margin']!
      .data as Float32Array;
    await session.release();
    for (let r = 0; r < rows; r++) {
      const e = shap.explain(x, r * m);
      const reference = treeShap(trainer, x, r * m);
      for (let i = 0; i < m; i++)
        expect(Math.abs(e.contributions[i]! - reference.contributions[i]!)).toBeLessThan(1e-9);
      expect(Math.abs(e.baseValue - reference.bias)).toBeLessThan(1e-9);
      const sum = e.contributions.reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - (margin[r]! - e.baseValue))).toBeLessThan(1e-5);
    }
  });

  it('the explainer uses TreeSHAP only for a plain tree margin with covers, and falls back to Shapley otherwise', () => {
    const e = randomEnsemble(8, 3, 3, 4);
    expect(treeEnsembleFor(buildTreeRegressor(e), 'score', 4)).toBeInstanceOf(OnnxTreeShap);
    // LOGISTIC: the output is a probability, not the sum of leaves TreeSHAP explains.
    expect(treeEnsembleFor(buildTreeRegressor(e, { logistic: true }), 'score', 4)).toBeNull();
    const leaf = { ints: [0] };
    const noCovers = new OnnxGraphBuilder('t')
      .input('input', 'float32', ['N', 4])
      .output('score', 'float32', ['N', 1])
      .node(
        'TreeEnsembleRegressor',
        ['input'],
        ['score'],
        {
          nodes_treeids: leaf,
          nodes_nodeids: leaf,
          nodes_featureids: leaf,
          nodes_modes: { strings: ['LEAF'] },
          nodes_values: { floats: [0] },
          nodes_truenodeids: leaf,
          nodes_falsenodeids: leaf,
          target_treeids: leaf,
          target_nodeids: leaf,
          target_ids: leaf,
          target_weights: { floats: [1] },
          n_targets: { int: 1 },
        },
        'ai.onnx.ml',
      )
      .build();
    expect(treeEnsembleFor(noCovers, 'score', 4)).toBeNull();
  });
});
