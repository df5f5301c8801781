import onnxProto from 'onnx-proto';
import type { FeatureSpecInput } from '../../../shared/feature-spec.ts';
import type { RandomSource } from '../random.ts';
import type { RuntimeCard } from './card.ts';
import type { GbdtModel, Tree } from '../training/gbdt.ts';
import { exportGbdtOnnx } from '../training/onnx-export.ts';
import { sha256Hex } from './registry.ts';

/**
 * Small ONNX models built in code (onnx-proto), with matching cards, for the runtime's tests and
 * benchmarks: a linear model (Shapley values known in closed form), a 2-layer MLP, a GRU sequence
 * model and random tree ensembles (exported by training's exportGbdtOnnx).
 */

const { onnx } = onnxProto;
const FLOAT = 1;
const INT64 = 7;

function valueInfo(name: string, dims: (number | string)[]): ReturnType<typeof onnx.ValueInfoProto.create> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function tensor(
  name: string,
  dims: number[],
  values: ArrayLike<number>,
): ReturnType<typeof onnx.TensorProto.create> {
  return onnx.TensorProto.create({ name, dataType: FLOAT, dims, floatData: Array.from(values) });
}

function encode(graph: ReturnType<typeof onnx.GraphProto.create>, opset = 14): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'vantage-tests',
      graph,
      opsetImport: [{ domain: '', version: opset }],
    }),
  ).finish();
}

/** Column names f0..f{F-1} as `returns` features with distinct periods (real catalog features). */
export function testSpec(F: number, windowBars = 0): FeatureSpecInput {
  return {
    features: Array.from({ length: F }, (_, i) => ({
      name: `f${i}`,
      indicator: 'returns' as const,
      params: { period: i + 1 },
    })),
    ...(windowBars > 0 ? { layout: { kind: 'window' as const, windowBars } } : {}),
  };
}

/** A card for bytes whose only input is `input` and score output `outputName` [N, 1]. */
export function testCard(
  name: string,
  bytes: Uint8Array,
  F: number,
  options: { windowBars?: number; outputName?: string; background?: number[][] } = {},
): Record<string, unknown> {
  const w = options.windowBars ?? 0;
  return {
    name,
    version: '1',
    sha256: sha256Hex(bytes),
    inputs: [{ name: 'input', dtype: 'float32', shape: w > 0 ? ['N', w, F] : ['N', F], meaning: 'features' }],
    outputs: [
      { name: options.outputName ?? 'prediction', dtype: 'float32', shape: ['N', 1], meaning: 'score' },
    ],
    featureSpec: testSpec(F, w),
    ...(options.background ? { background: { rows: options.background, source: 'test' } } : {}),
  };
}

/** y = x . w + b, output `prediction` [N, 1]. */
export function linearOnnx(weights: number[], bias: number): Uint8Array {
  const F = weights.length;
  return encode(
    onnx.GraphProto.create({
      name: 'linear',
      node: [
        onnx.NodeProto.create({ opType: 'MatMul', input: ['input', 'w'], output: ['xw'] }),
        onnx.NodeProto.create({ opType: 'Add', input: ['xw', 'b'], output: ['prediction'] }),
      ],
      initializer: [tensor('w', [F, 1], weights), tensor('b', [1], [bias])],
      input: [valueInfo('input', ['N', F])],
      output: [valueInfo('prediction', ['N', 1])],
    }),
  );
}

/** A 2-layer MLP (F -> H relu -> 1) with random weights. */
export function mlpOnnx(F: number, H: number, random: RandomSource): Uint8Array {
  const w1 = Array.from({ length: F * H }, () => random.normal() / Math.sqrt(F));
  const w2 = Array.from({ length: H }, () => random.normal() / Math.sqrt(H));
  return encode(
    onnx.GraphProto.create({
      name: 'mlp',
      node: [
        onnx.NodeProto.create({ opType: 'Gemm', input: ['input', 'w1', 'b1'], output: ['h'] }),
        onnx.NodeProto.create({ opType: 'Relu', input: ['h'], output: ['a'] }),
        onnx.NodeProto.create({ opType: 'Gemm', input: ['a', 'w2', 'b2'], output: ['prediction'] }),
      ],
      initializer: [
        tensor('w1', [F, H], w1),
        tensor(
          'b1',
          [H],
          Array.from({ length: H }, () => 0.1 * random.normal()),
        ),
        tensor('w2', [H, 1], w2),
        tensor('b2', [1], [0.05]),
      ],
      input: [valueInfo('input', ['N', F])],
      output: [valueInfo('prediction', ['N', 1])],
    }),
  );
}

export interface GruWeights {
  F: number;
  H: number;
  /** [3H x F], gates z, r, h (ONNX order). */
  W: Float32Array;
  /** [3H x H]. */
  R: Float32Array;
  /** [6H]: Wb (z, r, h) then Rb (z, r, h). */
  B: Float32Array;
  /** Read-out [H]. */
  out: Float32Array;
}

export function randomGru(F: number, H: number, random: RandomSource): GruWeights {
  const r = (n: number, scale: number): Float32Array =>
    Float32Array.from({ length: n }, () => scale * random.normal());
  return { F, H, W: r(3 * H * F, 0.5), R: r(3 * H * H, 0.3), B: r(6 * H, 0.1), out: r(H, 0.7) };
}

/** Input [N, W, F] transposed to ONNX GRU's [W, N, F] (ORT runs only layout 0), last hidden state [1, N, H] -> [N, H] -> read-out [N, 1]. */
export function gruOnnx(g: GruWeights, windowBars: number): Uint8Array {
  return encode(
    onnx.GraphProto.create({
      name: 'gru',
      node: [
        onnx.NodeProto.create({
          opType: 'Transpose',
          input: ['input'],
          output: ['time_major'],
          attribute: [onnx.AttributeProto.create({ name: 'perm', type: 7, ints: [1, 0, 2] })],
        }),
        onnx.NodeProto.create({
          opType: 'GRU',
          input: ['time_major', 'W', 'R', 'B'],
          output: ['', 'h_last'],
          attribute: [onnx.AttributeProto.create({ name: 'hidden_size', type: 2, i: g.H })],
        }),
        onnx.NodeProto.create({ opType: 'Reshape', input: ['h_last', 'flat'], output: ['h'] }),
        onnx.NodeProto.create({ opType: 'MatMul', input: ['h', 'readout'], output: ['prediction'] }),
      ],
      initializer: [
        tensor('W', [1, 3 * g.H, g.F], g.W),
        tensor('R', [1, 3 * g.H, g.H], g.R),
        tensor('B', [1, 6 * g.H], g.B),
        tensor('readout', [g.H, 1], g.out),
        onnx.TensorProto.create({ name: 'flat', dataType: INT64, dims: [2], int64Data: [-1, g.H] }),
      ],
      input: [valueInfo('input', ['N', windowBars, g.F])],
      output: [valueInfo('prediction', ['N', 1])],
    }),
  );
}

/** Reference GRU forward in float64 (ONNX defaults: sigmoid/tanh, linear_before_reset = 0). */
export function gruForward(g: GruWeights, x: ArrayLike<number>, windowBars: number): number {
  const { F, H, W, R, B } = g;
  let h = new Float64Array(H);
  const sig = (v: number): number => 1 / (1 + Math.exp(-v));
  for (let t = 0; t < windowBars; t++) {
    const z = new Float64Array(H);
    const r = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      let az = B[j]! + B[3 * H + j]!;
      let ar = B[H + j]! + B[4 * H + j]!;
      for (let f = 0; f < F; f++) {
        az += W[j * F + f]! * x[t * F + f]!;
        ar += W[(H + j) * F + f]! * x[t * F + f]!;
      }
      for (let k = 0; k < H; k++) {
        az += R[j * H + k]! * h[k]!;
        ar += R[(H + j) * H + k]! * h[k]!;
      }
      z[j] = sig(az);
      r[j] = sig(ar);
    }
    const next = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      let ah = B[2 * H + j]! + B[5 * H + j]!;
      for (let f = 0; f < F; f++) ah += W[(2 * H + j) * F + f]! * x[t * F + f]!;
      for (let k = 0; k < H; k++) ah += R[(2 * H + j) * H + k]! * r[k]! * h[k]!;
      next[j] = (1 - z[j]!) * Math.tanh(ah) + z[j]! * h[j]!;
    }
    h = next;
  }
  let y = 0;
  for (let j = 0; j < H; j++) y += g.out[j]! * h[j]!;
  return y;
}

/** A random full tree of the given depth with consistent covers (parent = sum of children). */
function randomTree(F: number, depth: number, random: RandomSource): Tree {
  const nodes: Tree['nodes'] = [];
  const grow = (d: number, cover: number): number => {
    const id = nodes.length;
    nodes.push({
      feature: -1,
      threshold: 0,
      left: -1,
      right: -1,
      value: 0.2 * random.normal(),
      cover,
      gain: 0,
    });
    if (d < depth) {
      const share = 0.2 + 0.6 * random.next();
      const leftCover = Math.max(1, Math.round(cover * share));
      const node = nodes[id]!;
      node.feature = random.int(F);
      node.threshold = Math.fround(random.normal());
      node.value = 0;
      node.left = grow(d + 1, leftCover);
      node.right = grow(d + 1, Math.max(1, cover - leftCover));
      node.cover = nodes[node.left]!.cover + nodes[node.right]!.cover;
    }
    return id;
  };
  grow(0, 10_000);
  return { nodes };
}

/** A random regression tree ensemble (output `prediction` [N, 1]) and its trees. */
export function treeEnsemble(
  F: number,
  trees: number,
  depth: number,
  random: RandomSource,
): { model: GbdtModel; bytes: Uint8Array } {
  const model: GbdtModel = {
    kind: 'gbdt',
    objective: 'regression',
    featureCount: F,
    baseScore: 0.25,
    trees: Array.from({ length: trees }, () => randomTree(F, depth, random)),
    validationLoss: [],
    bestIteration: trees,
    treesGrown: trees,
  };
  return { model, bytes: exportGbdtOnnx(model, { name: 'test-trees' }) };
}

/**
 * A card holding only what ModelSession reads (input `input` [N, F], one score output [N, 1]),
 * for runtime tests and benchmarks that time or check the session, not the feature pipeline.
 */
export function signatureCard(name: string, F: number, outputName: string): RuntimeCard {
  return {
    name,
    version: '1',
    sha256: '0'.repeat(64),
    inputs: [{ name: 'input', dtype: 'float32', shape: ['N', F], meaning: 'features' }],
    outputs: [{ name: outputName, dtype: 'float32', shape: ['N', 1], meaning: 'score' }],
    featureSpec: {},
  } as unknown as RuntimeCard;
}
