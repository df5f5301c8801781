import onnxProto from 'onnx-proto';
import { appError } from '../../../shared/errors.ts';

/**
 * A small typed layer over onnx-proto for writing ONNX models in code (tests, benchmarks, exports)
 * and for reading tree ensembles back out of a file (TreeSHAP needs the trees themselves).
 *
 * Determinism: no timestamps, host names or map-order dependence; metadata is sorted by key, so the
 * same calls always give the same bytes.
 */

const { onnx } = onnxProto;

type AttributeProto = ReturnType<typeof onnx.AttributeProto.create>;
type NodeProto = ReturnType<typeof onnx.NodeProto.create>;
type TensorProto = ReturnType<typeof onnx.TensorProto.create>;
type ValueInfoProto = ReturnType<typeof onnx.ValueInfoProto.create>;

const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;
const ELEM = { float32: 1, int64: 7 } as const;
const ELEM_NAME: Record<number, TensorDtype> = { 1: 'float32', 7: 'int64' };

export type TensorDtype = 'float32' | 'int64';
export type Dim = number | string;

export interface TensorSignature {
  name: string;
  dtype: TensorDtype | string;
  shape: Dim[];
}

/** Attribute values, tagged so an integer-valued float is never written as an int. */
export type AttributeValue =
  | { int: number }
  | { float: number }
  | { string: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { strings: readonly string[] };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function attribute(name: string, value: AttributeValue): AttributeProto {
  if ('int' in value) return onnx.AttributeProto.create({ name, type: ATTR.INT, i: value.int });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: ATTR.FLOAT, f: value.float });
  if ('string' in value)
    return onnx.AttributeProto.create({ name, type: ATTR.STRING, s: encoder.encode(value.string) });
  if ('ints' in value) return onnx.AttributeProto.create({ name, type: ATTR.INTS, ints: [...value.ints] });
  if ('floats' in value)
    return onnx.AttributeProto.create({ name, type: ATTR.FLOATS, floats: [...value.floats] });
  return onnx.AttributeProto.create({
    name,
    type: ATTR.STRINGS,
    strings: value.strings.map((s) => encoder.encode(s)),
  });
}

function valueInfo(sig: TensorSignature): ValueInfoProto {
  const elemType = ELEM[sig.dtype as TensorDtype];
  if (elemType === undefined) throw appError('BAD_INPUT', `Unsupported tensor dtype '${sig.dtype}'.`);
  return onnx.ValueInfoProto.create({
    name: sig.name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: sig.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

export interface BuildOptions {
  /** ai.onnx opset (default 17). */
  opset?: number;
  /** ai.onnx.ml opset (default 3); only imported when an ai.onnx.ml node is present. */
  mlOpset?: number;
  producer?: string;
  doc?: string;
  metadata?: Record<string, string>;
}

/** Collects a graph (inputs, outputs, initializers, nodes) and encodes it as ModelProto bytes. */
export class OnnxGraphBuilder {
  private readonly name: string;
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly nodes: NodeProto[] = [];
  private usesMl = false;

  constructor(name: string) {
    this.name = name;
  }

  input(name: string, dtype: TensorDtype, shape: Dim[]): this {
    this.inputs.push(valueInfo({ name, dtype, shape }));
    return this;
  }

  output(name: string, dtype: TensorDtype, shape: Dim[]): this {
    this.outputs.push(valueInfo({ name, dtype, shape }));
    return this;
  }

  /** A constant tensor (weights). `data` is row-major. */
  initializer(name: string, dims: number[], data: ArrayLike<number>, dtype: TensorDtype = 'float32'): this {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size)
      throw appError(
        'BAD_INPUT',
        `Initializer '${name}' has ${data.length} values for dims [${dims.join(', ')}] (${size}).`,
      );
    const values = Array.from(data);
    this.initializers.push(
      onnx.TensorProto.create(
        dtype === 'float32'
          ? { name, dims, dataType: ELEM.float32, floatData: values }
          : { name, dims, dataType: ELEM.int64, int64Data: values },
      ),
    );
    return this;
  }

  node(
    opType: string,
    inputs: string[],
    outputs: string[],
    attributes: Record<string, AttributeValue> = {},
    domain = '',
  ): this {
    if (domain === 'ai.onnx.ml') this.usesMl = true;
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        domain,
        name: `${opType}_${this.nodes.length}`,
        input: inputs,
        output: outputs,
        // Sorted so attribute order never depends on how the caller built the record.
        attribute: Object.keys(attributes)
          .sort()
          .map((k) => attribute(k, attributes[k]!)),
      }),
    );
    return this;
  }

  build(options: BuildOptions = {}): Uint8Array {
    const opsetImport = [{ domain: '', version: options.opset ?? 17 }];
    if (this.usesMl) opsetImport.push({ domain: 'ai.onnx.ml', version: options.mlOpset ?? 3 });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: options.producer ?? 'vantage',
      producerVersion: '1',
      domain: 'app.vantage',
      modelVersion: 1,
      docString: options.doc ?? '',
      graph: onnx.GraphProto.create({
        name: this.name,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
        node: this.nodes,
      }),
      opsetImport,
      metadataProps: Object.keys(options.metadata ?? {})
        .sort()
        .map((key) => ({ key, value: options.metadata![key]! })),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

// ---------------------------------------------------------------------------------------------
// Model helpers. Every helper takes input `input` (float32) and writes output `score` float32 [N, 1]
// (tree classifiers also write `label` and `probabilities`, the ONNX-ML convention).

/** score = x . w + b, or sigmoid of it (logistic). Input [N, F]. */
export function buildLinearModel(spec: {
  weights: readonly number[];
  bias: number;
  logistic?: boolean;
  name?: string;
}): Uint8Array {
  const f = spec.weights.length;
  const g = new OnnxGraphBuilder(spec.name ?? 'linear')
    .input('input', 'float32', ['N', f])
    .output('score', 'float32', ['N', 1])
    .initializer('W', [f, 1], spec.weights)
    .initializer('B', [1], [spec.bias])
    .node('MatMul', ['input', 'W'], ['xw'])
    .node('Add', ['xw', 'B'], [spec.logistic ? 'logit' : 'score']);
  if (spec.logistic) g.node('Sigmoid', ['logit'], ['score']);
  return g.build();
}

export interface DenseLayer {
  /** [in][out] */
  weights: readonly (readonly number[])[];
  bias: readonly number[];
}

/** Dense layers with an activation between them; the last layer must have one output. Input [N, F]. */
export function buildMlp(spec: {
  layers: readonly DenseLayer[];
  activation?: 'Relu' | 'Tanh';
  sigmoidOutput?: boolean;
  name?: string;
}): Uint8Array {
  const first = spec.layers[0];
  const last = spec.layers[spec.layers.length - 1];
  if (!first || !last || last.bias.length !== 1)
    throw appError('BAD_INPUT', 'An MLP needs at least one layer and one output.');
  const g = new OnnxGraphBuilder(spec.name ?? 'mlp')
    .input('input', 'float32', ['N', first.weights.length])
    .output('score', 'float32', ['N', 1]);
  let current = 'input';
  spec.layers.forEach((layer, i) => {
    const inDim = layer.weights.length;
    const outDim = layer.bias.length;
    g.initializer(`W${i}`, [inDim, outDim], layer.weights.flat()).initializer(`B${i}`, [outDim], layer.bias);
    g.node('MatMul', [current, `W${i}`], [`mm${i}`]);
    const isLast = i === spec.layers.length - 1;
    const out = isLast ? (spec.sigmoidOutput ? 'logit' : 'score') : `z${i}`;
    g.node('Add', [`mm${i}`, `B${i}`], [out]);
    if (!isLast) {
      g.node(spec.activation ?? 'Relu', [out], [`a${i}`]);
      current = `a${i}`;
    }
  });
  if (spec.sigmoidOutput) g.node('Sigmoid', ['logit'], ['score']);
  return g.build();
}

/**
 * A one-layer GRU over a window, then a dense head on the last hidden state.
 * Input [N, window, features]; ONNX's GRU wants [window, N, features], hence the Transpose.
 * W [3H x F], R [3H x H], B [6H] in ONNX gate order z, r, h.
 */
export function buildGruModel(spec: {
  window: number;
  features: number;
  hidden: number;
  W: readonly number[];
  R: readonly number[];
  B: readonly number[];
  head: readonly number[];
  headBias: number;
  name?: string;
}): Uint8Array {
  const { window, features, hidden } = spec;
  return new OnnxGraphBuilder(spec.name ?? 'gru')
    .input('input', 'float32', ['N', window, features])
    .output('score', 'float32', ['N', 1])
    .initializer('W', [1, 3 * hidden, features], spec.W)
    .initializer('R', [1, 3 * hidden, hidden], spec.R)
    .initializer('B', [1, 6 * hidden], spec.B)
    .initializer('hshape', [2], [-1, hidden], 'int64')
    .initializer('Wh', [hidden, 1], spec.head)
    .initializer('Bh', [1], [spec.headBias])
    .node('Transpose', ['input'], ['seq'], { perm: { ints: [1, 0, 2] } })
    .node('GRU', ['seq', 'W', 'R', 'B'], ['', 'yh'], {
      hidden_size: { int: hidden },
      linear_before_reset: { int: 1 },
    })
    .node('Reshape', ['yh', 'hshape'], ['h'])
    .node('MatMul', ['h', 'Wh'], ['hw'])
    .node('Add', ['hw', 'Bh'], ['score'])
    .build();
}

/** One tree node. Branch: x[feature] <= threshold goes to `yes`, else `no`. Leaf: feature < 0. */
export interface TreeNode {
  feature: number;
  threshold: number;
  yes: number;
  no: number;
  /** Leaf value (ignored for branches). */
  value: number;
  /** Training rows that reached the node (path-dependent TreeSHAP needs these). */
  cover: number;
}

export interface TreeEnsemble {
  trees: TreeNode[][];
  baseValue: number;
  featureCount: number;
}

function flattenTrees(ensemble: TreeEnsemble): {
  attrs: Record<string, AttributeValue>;
  leaves: { tree: number; node: number; weight: number }[];
} {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const yes: number[] = [];
  const no: number[] = [];
  const hit: number[] = [];
  const leaves: { tree: number; node: number; weight: number }[] = [];
  ensemble.trees.forEach((tree, t) => {
    tree.forEach((n, k) => {
      const leaf = n.feature < 0;
      treeIds.push(t);
      nodeIds.push(k);
      featureIds.push(leaf ? 0 : n.feature);
      modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      values.push(leaf ? 0 : n.threshold);
      yes.push(leaf ? 0 : n.yes);
      no.push(leaf ? 0 : n.no);
      hit.push(n.cover);
      if (leaf) leaves.push({ tree: t, node: k, weight: n.value });
    });
  });
  return {
    attrs: {
      nodes_treeids: { ints: treeIds },
      nodes_nodeids: { ints: nodeIds },
      nodes_featureids: { ints: featureIds },
      nodes_modes: { strings: modes },
      nodes_values: { floats: values },
      nodes_truenodeids: { ints: yes },
      nodes_falsenodeids: { ints: no },
      nodes_hitrates: { floats: hit },
    },
    leaves,
  };
}

/** TreeEnsembleRegressor (SUM of leaves + base value): `score` [N, 1] in margin units. */
export function buildTreeRegressor(
  ensemble: TreeEnsemble,
  options: { logistic?: boolean; name?: string } = {},
): Uint8Array {
  const { attrs, leaves } = flattenTrees(ensemble);
  return new OnnxGraphBuilder(options.name ?? 'trees')
    .input('input', 'float32', ['N', ensemble.featureCount])
    .output('score', 'float32', ['N', 1])
    .node(
      'TreeEnsembleRegressor',
      ['input'],
      ['score'],
      {
        ...attrs,
        n_targets: { int: 1 },
        aggregate_function: { string: 'SUM' },
        base_values: { floats: [ensemble.baseValue] },
        post_transform: { string: options.logistic ? 'LOGISTIC' : 'NONE' },
        target_treeids: { ints: leaves.map((l) => l.tree) },
        target_nodeids: { ints: leaves.map((l) => l.node) },
        target_ids: { ints: leaves.map(() => 0) },
        target_weights: { floats: leaves.map((l) => l.weight) },
      },
      'ai.onnx.ml',
    )
    .build();
}

// No TreeEnsembleClassifier helper: for a binary classifier with one weight column ORT
// (1.2x) ignores base_values and reports [0.5, sigmoid(margin)], so Vantage writes binary tree
// models as a regressor (margin) with post_transform LOGISTIC or a Sigmoid after it instead.

// ---------------------------------------------------------------------------------------------
// Decoding

function decodeModel(bytes: Uint8Array): ReturnType<typeof onnx.ModelProto.decode> {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw appError('MODEL_INVALID', `Not an ONNX model: ${(error as Error).message}`, { field: 'onnx' });
  }
}

/** The graph's declared inputs and outputs (names, dtypes, shapes with symbolic dims as strings). */
export function readSignature(bytes: Uint8Array): { inputs: TensorSignature[]; outputs: TensorSignature[] } {
  const graph = decodeModel(bytes).graph;
  const initializers = new Set((graph?.initializer ?? []).map((t) => t.name));
  const sig = (v: onnxProto.onnx.IValueInfoProto): TensorSignature => {
    const t = v.type?.tensorType;
    return {
      name: v.name ?? '',
      dtype: ELEM_NAME[t?.elemType ?? -1] ?? `elem${String(t?.elemType)}`,
      shape: (t?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0))),
    };
  };
  return {
    // Older exporters list initializers as graph inputs too; they are not model inputs.
    inputs: (graph?.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map(sig),
    outputs: (graph?.output ?? []).map(sig),
  };
}

type DecodedAttr = { ints: number[]; floats: number[]; strings: string[]; i: number; s: string };

function readAttributes(node: onnxProto.onnx.INodeProto): Map<string, DecodedAttr> {
  const out = new Map<string, DecodedAttr>();
  for (const a of node.attribute ?? []) {
    out.set(a.name ?? '', {
      ints: (a.ints ?? []).map(Number),
      floats: (a.floats ?? []).map(Number),
      strings: (a.strings ?? []).map((s) => decoder.decode(s)),
      i: Number(a.i ?? 0),
      s: a.s ? decoder.decode(a.s) : '',
    });
  }
  return out;
}

/** Split rules in ONNX-ML; TreeSHAP evaluates each one exactly as ORT does. */
export type SplitMode = 'BRANCH_LEQ' | 'BRANCH_LT' | 'BRANCH_GTE' | 'BRANCH_GT' | 'BRANCH_EQ' | 'BRANCH_NEQ';

export interface DecodedNode {
  feature: number;
  threshold: number;
  mode: SplitMode | 'LEAF';
  yes: number;
  no: number;
  value: number;
  cover: number;
}

export interface DecodedEnsemble {
  trees: DecodedNode[][];
  baseValue: number;
  /** 'margin' when the ensemble's own output is pre-sigmoid (regressor NONE), else what ORT applies. */
  postTransform: string;
  opType: 'TreeEnsembleRegressor' | 'TreeEnsembleClassifier';
}

/**
 * Reads the (single-target / binary) tree ensemble out of an ONNX file. Covers come from
 * `nodes_hitrates`; a file without them cannot be explained by path-dependent TreeSHAP (the
 * algorithm weighs each branch by the share of training rows that took it), so this refuses it
 * with MODEL_INVALID and the caller falls back to Shapley sampling against the card's background.
 */
export function decodeTreeEnsemble(bytes: Uint8Array): DecodedEnsemble {
  const graph = decodeModel(bytes).graph;
  const node = (graph?.node ?? []).find(
    (n) => n.opType === 'TreeEnsembleRegressor' || n.opType === 'TreeEnsembleClassifier',
  );
  if (!node)
    throw appError('MODEL_INVALID', 'The ONNX file has no TreeEnsembleRegressor/Classifier node.', {
      field: 'onnx.graph.node',
    });
  const a = readAttributes(node);
  const get = (name: string): DecodedAttr => {
    const v = a.get(name);
    if (!v)
      throw appError('MODEL_INVALID', `The tree ensemble has no '${name}' attribute.`, {
        field: `onnx.${name}`,
      });
    return v;
  };
  const treeIds = get('nodes_treeids').ints;
  const nodeIds = get('nodes_nodeids').ints;
  const featureIds = get('nodes_featureids').ints;
  const modes = get('nodes_modes').strings;
  const values = get('nodes_values').floats;
  const yes = get('nodes_truenodeids').ints;
  const no = get('nodes_falsenodeids').ints;
  const hit = a.get('nodes_hitrates')?.floats ?? [];
  if (hit.length !== treeIds.length)
    throw appError(
      'MODEL_INVALID',
      'The tree ensemble has no node covers (nodes_hitrates); path-dependent TreeSHAP needs them. Explain it with sampled Shapley instead.',
      { field: 'onnx.nodes_hitrates' },
    );
  const isClassifier = node.opType === 'TreeEnsembleClassifier';
  const prefix = isClassifier ? 'class' : 'target';
  const leafTree = get(`${prefix}_treeids`).ints;
  const leafNode = get(`${prefix}_nodeids`).ints;
  const leafWeight = get(`${prefix}_weights`).floats;
  const leafTarget = get(`${prefix}_ids`).ints;
  if (isClassifier && new Set(leafTarget).size > 1)
    throw appError('MODEL_INVALID', 'Only binary tree classifiers (one weight column) can be explained.', {
      field: 'onnx.class_ids',
    });
  const trees: DecodedNode[][] = [];
  for (let i = 0; i < treeIds.length; i++) {
    const t = treeIds[i]!;
    const k = nodeIds[i]!;
    const tree = (trees[t] ??= []);
    tree[k] = {
      feature: featureIds[i]!,
      threshold: values[i]!,
      mode: modes[i] as SplitMode | 'LEAF',
      yes: yes[i]!,
      no: no[i]!,
      value: 0,
      cover: hit[i]!,
    };
  }
  for (let i = 0; i < leafTree.length; i++) {
    const n = trees[leafTree[i]!]?.[leafNode[i]!];
    if (!n)
      throw appError('MODEL_INVALID', `Leaf weight ${i} points at a node that does not exist.`, {
        field: `onnx.${prefix}_nodeids`,
      });
    n.value += leafWeight[i]!;
  }
  trees.forEach((tree, t) =>
    tree.forEach((n, k) => {
      if (!n)
        throw appError('MODEL_INVALID', `Tree ${t} has a gap at node ${k}.`, { field: 'onnx.nodes_nodeids' });
    }),
  );
  return {
    trees,
    baseValue: a.get('base_values')?.floats[0] ?? 0,
    postTransform: a.get('post_transform')?.s || 'NONE',
    opType: node.opType as DecodedEnsemble['opType'],
  };
}
