import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { AppErrorException } from '../../../shared/errors.ts';
import {
  buildGruModel,
  buildLinearModel,
  buildMlp,
  buildTreeRegressor,
  decodeTreeEnsemble,
  OnnxGraphBuilder,
  readSignature,
  type TreeEnsemble,
  type TreeNode,
} from './onnx-builder.ts';
import { SeededRandom } from '../random.ts';

async function score(bytes: Uint8Array, x: number[], dims: number[]): Promise<number[]> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x), dims) });
    return Array.from(out['score']!.data as Float32Array, Number);
  } finally {
    await session.release();
  }
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** A random full binary tree of the given depth over `features` features (covers add up). */
function randomTree(random: SeededRandom, depth: number, features: number): TreeNode[] {
  const nodes: TreeNode[] = [];
  const grow = (d: number, cover: number): number => {
    const id = nodes.length;
    nodes.push({ feature: -1, threshold: 0, yes: 0, no: 0, value: 0, cover });
    if (d === depth || cover < 2) {
      nodes[id]!.value = Math.round((random.next() * 2 - 1) * 1000) / 1000;
      return id;
    }
    const left = 1 + random.int(cover - 1);
    const yes = grow(d + 1, left);
    const no = grow(d + 1, cover - left);
    nodes[id] = {
      feature: random.int(features),
      threshold: Math.round((random.next() * 2 - 1) * 100) / 100,
      yes,
      no,
      value: 0,
      cover,
    };
    return id;
  };
  grow(0, 1000);
  return nodes;
}

function evalTrees(e: TreeEnsemble, x: number[]): number {
  let sum = e.baseValue;
  for (const tree of e.trees) {
    let n = tree[0]!;
    while (n.feature >= 0) n = tree[Math.fround(x[n.feature]!) <= Math.fround(n.threshold) ? n.yes : n.no]!;
    sum += n.value;
  }
  return sum;
}

describe('ONNX builder', () => {
  it('writes identical bytes for identical models', () => {
    const a = buildMlp({
      layers: [
        {
          weights: [
            [1, 2],
            [3, 4],
          ],
          bias: [0, 1],
        },
        { weights: [[1], [-1]], bias: [0.5] },
      ],
    });
    const b = buildMlp({
      layers: [
        {
          weights: [
            [1, 2],
            [3, 4],
          ],
          bias: [0, 1],
        },
        { weights: [[1], [-1]], bias: [0.5] },
      ],
    });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const withMeta = (order: [string, string][]): Uint8Array =>
      new OnnxGraphBuilder('g')
        .input('input', 'float32', ['N', 1])
        .output('score', 'float32', ['N', 1])
        .node('Identity', ['input'], ['score'])
        .build({ metadata: Object.fromEntries(order) });
    expect(
      Buffer.from(
        withMeta([
          ['a', '1'],
          ['b', '2'],
        ]),
      ).equals(
        Buffer.from(
          withMeta([
            ['b', '2'],
            ['a', '1'],
          ]),
        ),
      ),
    ).toBe(true);
  });

  it('linear and logistic models give x.w + b (and its sigmoid) in ONNX Runtime', async () => {
    expect(await score(buildLinearModel({ weights: [1, 2], bias: 0.5 }), [1, 1, 2, 3], [2, 2])).toEqual([
      3.5, 8.5,
    ]);
    const [p] = await score(
      buildLinearModel({ weights: [0.5, -1], bias: 0.25, logistic: true }),
      [2, 1],
      [1, 2],
    );
    expect(p).toBeCloseTo(sigmoid(0.25), 6);
  });

  it('an MLP matches a plain forward pass', async () => {
    const layers = [
      {
        weights: [
          [1, -1, 0.5],
          [0.5, 2, -0.25],
        ],
        bias: [0, 0.1, -0.2],
      },
      { weights: [[1], [0.5], [-2]], bias: [0.2] },
    ];
    const x = [0.3, -0.7];
    const hidden = [0, 1, 2].map((j) =>
      Math.max(
        0,
        x[0]! * layers[0]!.weights[0]![j]! + x[1]! * layers[0]!.weights[1]![j]! + layers[0]!.bias[j]!,
      ),
    );
    const expected = sigmoid(hidden.reduce((s, h, j) => s + h * layers[1]!.weights[j]![0]!, 0.2));
    const [got] = await score(buildMlp({ layers, sigmoidOutput: true }), x, [1, 2]);
    expect(got).toBeCloseTo(expected, 6);
  });

  it('a GRU window model (batch x window x features) matches the ONNX GRU equations', async () => {
    const random = new SeededRandom(7);
    const W = 4,
      F = 3,
      H = 2,
      N = 3;
    const r = (n: number): number[] => Array.from({ length: n }, () => random.next() - 0.5);
    const spec = {
      window: W,
      features: F,
      hidden: H,
      W: r(3 * H * F),
      R: r(3 * H * H),
      B: r(6 * H),
      head: r(H),
      headBias: 0.1,
    };
    const x = r(N * W * F);
    const got = await score(buildGruModel(spec), x, [N, W, F]);
    for (let n = 0; n < N; n++) {
      let h = new Array<number>(H).fill(0);
      for (let t = 0; t < W; t++) {
        const xt = x.slice((n * W + t) * F, (n * W + t + 1) * F);
        const gate = (g: number, j: number, withR: boolean, hv: number[]): { x: number; h: number } => {
          let xs = spec.B[g * H + j]!;
          for (let k = 0; k < F; k++) xs += spec.W[(g * H + j) * F + k]! * xt[k]!;
          let hs = spec.B[(3 + g) * H + j]!;
          if (withR) for (let k = 0; k < H; k++) hs += spec.R[(g * H + j) * H + k]! * hv[k]!;
          return { x: xs, h: hs };
        };
        const next = h.map((_, j) => {
          const z = gate(0, j, true, h);
          const rr = gate(1, j, true, h);
          const hh = gate(2, j, true, h);
          const zt = sigmoid(z.x + z.h);
          const rt = sigmoid(rr.x + rr.h);
          const ht = Math.tanh(hh.x + rt * hh.h); // linear_before_reset = 1
          return (1 - zt) * ht + zt * h[j]!;
        });
        h = next;
      }
      const expected = h.reduce((s, v, j) => s + v * spec.head[j]!, spec.headBias);
      expect(got[n]).toBeCloseTo(expected, 5);
    }
  });

  it('tree regressors run in ORT exactly as the trees say, and decode back with their covers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 4 }),
        async (seed, depth) => {
          const random = new SeededRandom(seed);
          const ensemble: TreeEnsemble = {
            featureCount: 3,
            baseValue: 0.25,
            trees: [randomTree(random, depth, 3), randomTree(random, depth, 3)],
          };
          const rows = 8;
          const x = Array.from({ length: rows * 3 }, () => Math.round((random.next() * 2 - 1) * 100) / 100);
          const got = await score(buildTreeRegressor(ensemble), x, [rows, 3]);
          for (let r = 0; r < rows; r++)
            expect(got[r]).toBeCloseTo(evalTrees(ensemble, x.slice(r * 3, r * 3 + 3)), 5);
          const decoded = decodeTreeEnsemble(buildTreeRegressor(ensemble));
          expect(decoded.baseValue).toBeCloseTo(0.25, 7);
          expect(decoded.trees.map((t) => t.map((n) => n.cover))).toEqual(
            ensemble.trees.map((t) => t.map((n) => n.cover)),
          );
          expect(decoded.trees.map((t) => t.map((n) => (n.mode === 'LEAF' ? -1 : n.feature)))).toEqual(
            ensemble.trees.map((t) => t.map((n) => n.feature)),
          );
          decoded.trees.forEach((t, i) =>
            t.forEach((n, k) => expect(n.value).toBeCloseTo(ensemble.trees[i]![k]!.value, 6)),
          );
        },
      ),
      { numRuns: 20 },
    );
  });

  it('reads the declared signature with symbolic dimensions', () => {
    const sig = readSignature(
      buildGruModel({
        window: 5,
        features: 2,
        hidden: 1,
        W: [0, 0, 0, 0, 0, 0],
        R: [0, 0, 0],
        B: [0, 0, 0, 0, 0, 0],
        head: [1],
        headBias: 0,
      }),
    );
    expect(sig.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: ['N', 5, 2] }]);
    expect(sig.outputs).toEqual([{ name: 'score', dtype: 'float32', shape: ['N', 1] }]);
  });

  it('refuses files that are not ONNX, and tree files without covers, with MODEL_INVALID', () => {
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (error) {
        return error instanceof AppErrorException
          ? `${error.code}:${String((error.details as { field?: string } | undefined)?.field)}`
          : 'other';
      }
      return undefined;
    };
    expect(code(() => readSignature(new Uint8Array([0xff, 0xff, 0xff, 0xff])))).toBe('MODEL_INVALID:onnx');
    expect(code(() => decodeTreeEnsemble(buildLinearModel({ weights: [1], bias: 0 })))).toBe(
      'MODEL_INVALID:onnx.graph.node',
    );
    const noCovers = new OnnxGraphBuilder('t')
      .input('input', 'float32', ['N', 1])
      .output('score', 'float32', ['N', 1])
      .node(
        'TreeEnsembleRegressor',
        ['input'],
        ['score'],
        {
          nodes_treeids: { ints: [0] },
          nodes_nodeids: { ints: [0] },
          nodes_featureids: { ints: [0] },
          nodes_modes: { strings: ['LEAF'] },
          nodes_values: { floats: [0] },
          nodes_truenodeids: { ints: [0] },
          nodes_falsenodeids: { ints: [0] },
          target_treeids: { ints: [0] },
          target_nodeids: { ints: [0] },
          target_ids: { ints: [0] },
          target_weights: { floats: [1] },
          n_targets: { int: 1 },
        },
        'ai.onnx.ml',
      )
      .build();
    expect(code(() => decodeTreeEnsemble(noCovers))).toBe('MODEL_INVALID:onnx.nodes_hitrates');
  });
});
